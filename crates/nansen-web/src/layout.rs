//! The frame of every page: a skip link, the navigation, one `main`, and the footer.

use crate::session::Viewer;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use nansen_codes::CodeLists;

/// Which part of the site a page belongs to, for the navigation's `aria-current`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Catalogue,
    Search,
    Explore,
    Upload,
    Warning,
    Operations,
    Reporting,
    Admin,
    Account,
    None,
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · Nansen" }
            link rel="stylesheet" href="/assets/style.css";
            script src="/assets/app.js" defer {}
        }
    }
}

pub fn page(viewer: &Viewer, title: &str, section: Section, body: Markup) -> Markup {
    frame(Some(viewer), title, section, body)
}

/// The frame; without a viewer (error pages) it shows no one's name and no sign-in link.
pub fn frame(viewer: Option<&Viewer>, title: &str, section: Section, body: Markup) -> Markup {
    let anonymous = Viewer::anonymous();
    let known = viewer.is_some();
    let viewer = viewer.unwrap_or(&anonymous);
    let item = |s: Section, href: &str, label: &str| {
        html! { li { a href=(href) aria-current=[(s == section).then_some("page")] { (label) } } }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                a.skip href="#main" { "Skip to content" }
                header.site {
                    a.brand href="/" { "Nansen" }
                    nav aria-label="Main" {
                        ul {
                            (item(Section::Catalogue, "/", "Catalogue"))
                            (item(Section::Search, "/search", "Search"))
                            (item(Section::Explore, "/explore", "Explore"))
                            @if viewer.signed_in() { (item(Section::Upload, "/upload", "Upload")) }
                            @if viewer.signed_in() { (item(Section::Warning, "/alerts", "Early warning")) }
                            @if viewer.signed_in() { (item(Section::Operations, "/programmes", "Operations")) }
                            @if viewer.signed_in() { (item(Section::Reporting, "/reporting", "Reporting")) }
                            @if viewer.admin { (item(Section::Admin, "/admin", "Administration")) }
                        }
                    }
                    @if known { div.who {
                        @if viewer.signed_in() {
                            a href="/account" aria-current=[(section == Section::Account).then_some("page")] { (viewer.email()) }
                            form method="post" action="/sign-out" {
                                input type="hidden" name="csrf" value=(viewer.csrf);
                                button.link type="submit" { "Sign out" }
                            }
                        } @else {
                            a href="/sign-in" { "Sign in" }
                        }
                    } }
                }
                main #main tabindex="-1" { (body) }
                footer.site {
                    p { "Nansen: the joint data and operations platform of EUAA, IOM and their partners. "
                        a href="/api/v1/openapi.json" { "API" } }
                }
            }
        }
    }
}

/// The hidden field every form of a session carries.
pub fn csrf(viewer: &Viewer) -> Markup {
    html! { input type="hidden" name="csrf" value=(viewer.csrf); }
}

/// A country or aggregate's name with its code, or the code alone.
pub fn place(code: &str) -> String {
    match CodeLists::get().country_name(code) {
        Some(name) if name != code => format!("{name} ({code})"),
        _ => code.to_string(),
    }
}

pub fn indicator_label(code: &str) -> String {
    CodeLists::get()
        .indicator(code)
        .map(|i| i.label.clone())
        .unwrap_or_else(|| code.to_string())
}

/// A number as people read it: thousands separated, at most two decimals.
pub fn number(v: Option<f64>) -> String {
    let Some(v) = v else { return "–".into() };
    let neg = v < 0.0;
    let rounded = (v.abs() * 100.0).round() / 100.0;
    let whole = rounded.trunc() as u64;
    let frac = ((rounded - rounded.trunc()) * 100.0).round() as u64;
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if frac > 0 {
        out.push_str(&format!(".{frac:02}"));
        while out.ends_with('0') {
            out.pop();
        }
    }
    if neg {
        format!("-{out}")
    } else {
        out
    }
}

/// A timestamp as a date and minute, in UTC.
pub fn when(t: &nansen_model::Timestamp) -> String {
    t.to_minute()
}

/// Data for the page script, in a block no browser runs.
pub fn json_data(id: &str, value: &serde_json::Value) -> Markup {
    // `</script`, `<!--` and the like change how a script element is read: every `<`, `>`
    // and `&` is written as a JSON escape instead, so no uploaded text can.
    let text = value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    html! { script type="application/json" id=(id) { (PreEscaped(text)) } }
}

#[cfg(test)]
mod tests {
    #[test]
    fn page_data_cannot_close_or_open_markup() {
        let v = serde_json::json!({ "name": "</script><script>alert(1)</script><!-- & " });
        let html = super::json_data("d", &v).into_string();
        let inner = html
            .trim_start_matches("<script type=\"application/json\" id=\"d\">")
            .trim_end_matches("</script>");
        assert!(
            !inner.contains('<') && !inner.contains('>') && !inner.contains('&'),
            "{html}"
        );
        assert_eq!(serde_json::from_str::<serde_json::Value>(inner).unwrap(), v);
    }

    #[test]
    fn numbers_read_with_thousands_separators() {
        assert_eq!(super::number(Some(1234567.0)), "1,234,567");
        assert_eq!(super::number(Some(-1500.5)), "-1,500.5");
        assert_eq!(super::number(Some(0.125)), "0.13");
        assert_eq!(super::number(None), "–");
    }
}
