//! The catalogue: every dataset the person may see, and the `listed` ones, searchable and
//! filterable, each with its freshness.

use super::blocking;
use crate::error::WebError;
use crate::layout::{self, indicator_label, place, when, Section};
use crate::session::Viewer;
use crate::WebState;
use maud::{html, Markup};
use nansen_app::{days_since, Coverage, DatasetView};
use nansen_codes::normalise;
use nansen_model::DatasetName;
use serde::Deserialize;
use std::collections::BTreeSet;

#[derive(Deserialize, Default)]
pub struct Filters {
    #[serde(default)]
    q: String,
    #[serde(default)]
    org: String,
    #[serde(default)]
    indicator: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    theme: String,
    #[serde(default)]
    sharing: String,
    /// `7`, `30`, `365`: updated within that many days; `older`: not in the last year.
    #[serde(default)]
    updated: String,
}

struct Entry {
    d: DatasetView,
    cov: Coverage,
}

impl Entry {
    fn words(&self) -> String {
        let mut text = vec![
            self.d.title.clone(),
            self.d.description.clone(),
            self.d.source.clone(),
            self.d.methodology.clone(),
            self.d.name.clone(),
        ];
        text.extend(self.d.tags.iter().cloned());
        text.extend(
            self.cov
                .indicators
                .iter()
                .map(|i| format!("{i} {}", indicator_label(i))),
        );
        text.extend(
            self.cov
                .places
                .iter()
                .chain(&self.cov.origins)
                .map(|p| place(p)),
        );
        normalise(&text.join(" "))
    }

    fn matches(&self, f: &Filters) -> bool {
        let words = self.words();
        let days = self.d.updated_at.map(days_since);
        normalise(&f.q)
            .split_whitespace()
            .all(|w| words.contains(w))
            && (f.org.is_empty() || self.d.org == f.org)
            && (f.indicator.is_empty() || self.cov.indicators.contains(&f.indicator))
            && (f.country.is_empty()
                || self.cov.places.contains(&f.country)
                || self.cov.origins.contains(&f.country))
            && (f.theme.is_empty() || self.d.tags.contains(&f.theme))
            && (f.sharing.is_empty()
                || self.d.sharing == f.sharing
                || (f.sharing == "partners" && self.d.sharing.starts_with("partners")))
            && match f.updated.as_str() {
                "" => true,
                "older" => days.is_some_and(|d| d > 365),
                n => n.parse::<i64>().ok().zip(days).is_some_and(|(n, d)| d <= n),
            }
    }
}

fn select(
    id: &str,
    label: &str,
    name: &str,
    current: &str,
    options: &[(String, String)],
) -> Markup {
    html! {
        div.field {
            label for=(id) { (label) }
            select #(id) name=(name) {
                option value="" { "Any" }
                @for (v, text) in options { option value=(v) selected[current == v] { (text) } }
            }
        }
    }
}

pub fn sharing_label(sharing: &str) -> &'static str {
    match sharing {
        "public" => "public",
        "listed" => "listed: data on request",
        "private" => "private",
        _ => "shared with partners",
    }
}

pub async fn page(
    web: WebState,
    viewer: Viewer,
    axum::extract::Query(f): axum::extract::Query<Filters>,
) -> Result<Markup, WebError> {
    let who = viewer.who.clone();
    let entries = blocking(&web.app, move |app| {
        app.list_datasets(&who)?
            .into_iter()
            .map(|d| {
                Ok(Entry {
                    cov: app.coverage(&who, &DatasetName::new(&d.org, &d.slug))?,
                    d,
                })
            })
            .collect::<Result<Vec<Entry>, _>>()
    })
    .await?;
    let set = |f: &dyn Fn(&Entry) -> Vec<String>| {
        entries.iter().flat_map(f).collect::<BTreeSet<String>>()
    };
    let orgs: Vec<(String, String)> = set(&|e| vec![e.d.org.clone()])
        .into_iter()
        .map(|o| (o.clone(), o))
        .collect();
    let indicators: Vec<(String, String)> = set(&|e| e.cov.indicators.clone())
        .into_iter()
        .map(|i| (i.clone(), indicator_label(&i)))
        .collect();
    let mut countries: Vec<(String, String)> =
        set(&|e| e.cov.places.iter().chain(&e.cov.origins).cloned().collect())
            .into_iter()
            .map(|c| (c.clone(), place(&c)))
            .collect();
    countries.sort_by(|a, b| a.1.cmp(&b.1));
    let themes: Vec<(String, String)> = set(&|e| e.d.tags.clone())
        .into_iter()
        .map(|t| (t.clone(), t))
        .collect();
    let sharings: Vec<(String, String)> = ["public", "listed", "partners", "private"]
        .iter()
        .map(|s| (s.to_string(), sharing_label(s).to_string()))
        .collect();
    let updated: Vec<(String, String)> = [
        ("7", "in the last week"),
        ("30", "in the last 30 days"),
        ("365", "in the last year"),
        ("older", "more than a year ago"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    let shown: Vec<&Entry> = entries.iter().filter(|e| e.matches(&f)).collect();
    let body = html! {
        h1 { "Datasets" }
        form.filters method="get" action="/" role="search" aria-label="Find datasets" {
            div.field.wide {
                label for="q" { "Words" }
                input #q type="search" name="q" value=(f.q) placeholder="asylum Germany monthly";
            }
            (select("f-org", "Organisation", "org", &f.org, &orgs))
            (select("f-indicator", "Indicator", "indicator", &f.indicator, &indicators))
            (select("f-country", "Country", "country", &f.country, &countries))
            (select("f-theme", "Theme", "theme", &f.theme, &themes))
            (select("f-sharing", "Sharing", "sharing", &f.sharing, &sharings))
            (select("f-updated", "Updated", "updated", &f.updated, &updated))
            div.field { button type="submit" { "Find" } }
        }
        p role="status" #count { (shown.len()) " of " (entries.len()) " datasets" @if !viewer.signed_in() { ". " a href="/sign-in" { "Sign in" } " to see those shared with your organisation." } }
        ol.catalogue {
            @for e in &shown {
                li.dataset {
                    h2 { a href=(format!("/datasets/{}", e.d.name)) { (e.d.title) } }
                    p.meta {
                        span.badge.org { (e.d.org) }
                        span class=(format!("badge sharing-{}", e.d.sharing.split(':').next().unwrap_or(""))) { (sharing_label(&e.d.sharing)) }
                        @if e.d.sensitive { span.badge.sensitive { "sensitive" } }
                        span class=(format!("badge fresh-{}", e.d.freshness.as_str())) title=(format!("expected {}", if e.d.update_frequency.is_empty() { "at no set frequency" } else { &e.d.update_frequency })) {
                            (e.d.freshness.as_str())
                        }
                    }
                    @if !e.d.description.is_empty() { p { (e.d.description) } }
                    p.small {
                        @if let (Some(a), Some(b)) = (&e.cov.first_period, &e.cov.last_period) { "Periods " (a) " to " (b) ". " }
                        (e.cov.places.len()) " places. "
                        @if let Some(u) = &e.d.updated_at { "Updated " (when(u)) "." }
                    }
                }
            }
        }
    };
    Ok(layout::page(&viewer, "Datasets", Section::Catalogue, body))
}
