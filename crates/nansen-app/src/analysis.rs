//! Questions beyond one query: rolling sums, changes, shares, derived indicators, flows for a
//! Sankey diagram, and the same indicator from several sources side by side. Each runs through
//! [`App::query`], so permissions, disclosure control and audit apply to every part.

use crate::{App, AppError, Caller, Result};
use nansen_codes::{CodeLists, DerivedKind, Frequency, Period};
use nansen_model::analysis::{self, Against};
use nansen_model::{DatasetName, Query, Remedy, Row, Table};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// A query and what to do with its answer.
#[derive(Clone, Debug, Default)]
pub struct Question {
    pub query: Query,
    /// Each value becomes the sum of its last N periods.
    pub rolling: Option<usize>,
    pub change: Option<Against>,
    /// A derived indicator of the vocabulary (`recognition_rate`, `share_of_total`, `rate_per_100k`).
    pub derived: Option<String>,
    /// The population dataset (`ORG/SLUG`) for rates per inhabitant.
    pub per_capita: Option<String>,
    /// The aggregate a share is taken of (`EU28`): its members' shares of it, as publishers
    /// print "Germany, 35% of the EU total". Implies `share_of_total`.
    pub share_of: Option<String>,
}

/// A flow diagram: nodes in columns (origin, transit, destination) and the links between them.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Flows {
    pub nodes: Vec<FlowNode>,
    pub links: Vec<FlowLink>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FlowNode {
    /// `origin:SYR`, `route:Central Mediterranean`, `geo:ITA`.
    pub id: String,
    pub label: String,
    /// 0 origin, 1 transit (when there is one), then destination.
    pub column: usize,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FlowLink {
    pub source: String,
    pub target: String,
    pub value: f64,
}

fn without_indicator(q: &Query) -> Query {
    let mut q = q.clone();
    q.filters.retain(|(d, _)| d != "indicator");
    q
}

/// Adds tables row by row on their keys (a sum of indicators).
fn add(tables: Vec<Table>) -> Option<Table> {
    let mut it = tables.into_iter();
    let mut first = it.next()?;
    for t in it {
        let index: HashMap<Vec<String>, Option<f64>> =
            t.rows.iter().map(|r| (r.key.clone(), r.value)).collect();
        for r in first.rows.iter_mut() {
            r.value = r
                .value
                .zip(index.get(&r.key).copied().flatten())
                .map(|(a, b)| a + b);
        }
    }
    Some(first)
}

/// One sentence for each definition that differs between the first dataset and another:
/// "euaa/a counts first-time applicants only (applicant=NASY_APP); euaa/b does not say".
fn definition_warnings(datasets: &[String], tables: &[Table]) -> Vec<String> {
    let mut out = Vec::new();
    let first = &tables[0];
    for (name, t) in datasets.iter().zip(tables).skip(1) {
        let mut concepts: Vec<&String> = first
            .counted
            .iter()
            .chain(&t.counted)
            .map(|c| &c.concept)
            .collect();
        concepts.sort();
        concepts.dedup();
        for concept in concepts {
            let of = |t: &Table| t.counted.iter().find(|c| c.concept == *concept).cloned();
            let (a, b) = (of(first), of(t));
            if a.as_ref().map(|c| &c.meaning) == b.as_ref().map(|c| &c.meaning) {
                continue;
            }
            // A source that does not say is taken to count what the default counts (persons).
            let is_default = |c: &Option<nansen_model::Counted>| {
                c.as_ref().is_some_and(|c| {
                    CodeLists::get()
                        .definition(&c.dimension, &c.code)
                        .is_some_and(|d| d.default)
                })
            };
            if (a.is_none() && is_default(&b)) || (b.is_none() && is_default(&a)) {
                continue;
            }
            let say = |c: &Option<nansen_model::Counted>| match c {
                Some(c) => format!("counts {} ({}={})", c.meaning, c.dimension, c.code),
                None => format!("does not say which {concept} it counts"),
            };
            out.push(format!(
                "{} {}; {name} {}: the figures are not the same thing",
                datasets[0],
                say(&a),
                say(&b)
            ));
        }
    }
    out
}

impl App {
    /// The indicators a dataset holds, as the caller may see it.
    pub fn indicators_in(
        &self,
        who: &Caller,
        name: &DatasetName,
        version: Option<i64>,
    ) -> Result<Vec<String>> {
        let q = Query {
            group_by: vec!["indicator".into()],
            measure: nansen_model::query::Measure::Count,
            ..Query::default()
        };
        Ok(self
            .query(who, name, version, &q)?
            .rows
            .into_iter()
            .map(|r| r.key[0].clone())
            .collect())
    }

    /// Answers a question over one dataset.
    pub fn ask(
        &self,
        who: &Caller,
        name: &DatasetName,
        version: Option<i64>,
        question: &Question,
    ) -> Result<Table> {
        // Rolling sums and changes look back before the range asked for: ask without its
        // start, trim after.
        let asked_from = question.query.from;
        let mut widened = question.query.clone();
        if question.rolling.is_some() || question.change.is_some() {
            widened.from = None;
        }
        let q = &widened;
        // A share of an aggregate is a share; asked beside another derived indicator, it is
        // refused rather than silently dropped.
        let derived = match (question.derived.as_deref(), &question.share_of) {
            (None, Some(_)) => Some("share_of_total"),
            (Some(d), Some(a))
                if CodeLists::get()
                    .derived(d)
                    .is_some_and(|d| d.kind != DerivedKind::Share) =>
            {
                return Err(AppError::BadRequest(format!(
                    "a share of {a} is a share; it cannot be taken of {d}"
                )));
            }
            (d, _) => d,
        };
        let mut table = match derived {
            None => self.query(who, name, version, q)?,
            Some(code) => {
                let d = CodeLists::get().derived(code).ok_or_else(|| {
                    let known: Vec<&str> = CodeLists::get()
                        .derived_indicators()
                        .iter()
                        .map(|d| d.code.as_str())
                        .collect();
                    AppError::BadRequest(format!(
                        "no derived indicator {code:?}; the vocabulary has {}",
                        known.join(", ")
                    ))
                })?;
                match d.kind {
                    DerivedKind::Ratio => {
                        let present = self.indicators_in(who, name, version)?;
                        let pick = |alts: &[Vec<String>]| {
                            alts.iter()
                                .find(|alt| alt.iter().all(|i| present.contains(i)))
                                .cloned()
                        };
                        let (Some(num), Some(den)) = (pick(&d.numerator), pick(&d.denominator))
                        else {
                            return Err(AppError::BadRequest(format!(
                                "{name} lacks the indicators {} needs ({})",
                                d.code, d.formula
                            )));
                        };
                        let part = |inds: &[String]| -> Result<Table> {
                            let tables = inds
                                .iter()
                                .map(|i| {
                                    let mut q = without_indicator(q);
                                    q.filters.push(("indicator".into(), vec![i.clone()]));
                                    self.query(who, name, version, &q)
                                })
                                .collect::<Result<Vec<_>>>()?;
                            Ok(add(tables).unwrap_or(Table {
                                columns: q.group_by.clone(),
                                ..Table::default()
                            }))
                        };
                        analysis::ratio(&part(&num)?, &part(&den)?, d.factor)
                    }
                    DerivedKind::Share => {
                        self.shares(who, (name, version), q, question.share_of.as_deref())?
                    }
                    DerivedKind::PerCapita => self.per_capita(
                        who,
                        (name, version),
                        q,
                        question.per_capita.as_deref(),
                        d.factor,
                    )?,
                }
            }
        };
        if let Some(n) = question.rolling {
            table = analysis::rolling_sum(table, n).map_err(AppError::from)?;
        }
        if let Some(a) = question.change {
            table = analysis::change(table, a).map_err(AppError::from)?;
        }
        // The download says what made it: the question as asked, with what was derived.
        let mut asked = question.query.describe();
        for (flag, v) in [
            ("--rolling", question.rolling.map(|n| n.to_string())),
            ("--change", question.change.map(|a| a.to_string())),
            ("--derived", derived.map(String::from)),
            ("--per-capita", question.per_capita.clone()),
            ("--share-of", question.share_of.clone()),
        ] {
            if let Some(v) = v {
                asked = format!("{asked} {flag} {v}").trim().to_string();
            }
        }
        table.provenance.query = asked;
        if let Some(d) = derived {
            if let Some(x) = CodeLists::get().derived(d) {
                table.provenance.unit = x.unit.clone();
            }
        }
        if let (Some(from), Some(p)) = (
            asked_from.filter(|_| widened.from != asked_from),
            table.columns.iter().position(|c| c == "period"),
        ) {
            table.rows.retain(|r| {
                Period::parse(&r.key[p]).is_none_or(|per| per.within(Some(&from), None))
            });
        }
        Ok(table)
    }

    /// Each group's share of its total, or with `share_of` of a named aggregate (`EU28`).
    /// The denominator is taken over every row, the top N after.
    fn shares(
        &self,
        who: &Caller,
        (name, version): (&DatasetName, Option<i64>),
        q: &Query,
        share_of: Option<&str>,
    ) -> Result<Table> {
        // "Germany's share of the EU" needs no group-by: the shares are of
        // the dimension the aggregate belongs to.
        let over = match (q.group_by.first(), share_of) {
            (Some(g), _) => g.clone(),
            (None, Some(_)) => q
                .filters
                .iter()
                .map(|(d, _)| nansen_model::query::dimension_alias(d))
                .find(|d| CodeLists::get().kind_of(d) == nansen_codes::DimensionKind::Country)
                .unwrap_or_else(|| "geo".into()),
            (None, None) => {
                return Err(AppError::BadRequest(
                    "a share needs a group-by: the share of each what?".into(),
                ))
            }
        };
        // The denominator is taken over every row; the top N after. A share
        // of an aggregate keeps the aggregate whatever the filter on its
        // dimension (`--where geo=DEU --share-of EU28`); the filter applies after.
        let mut all = Query {
            top: None,
            group_by: if q.group_by.is_empty() {
                vec![over.clone()]
            } else {
                q.group_by.clone()
            },
            ..q.clone()
        };
        let mut keep: Option<Vec<String>> = None;
        if share_of.is_some() {
            let over = nansen_model::query::dimension_alias(&over);
            if let Some(i) = all
                .filters
                .iter()
                .position(|(d, _)| nansen_model::query::dimension_alias(d) == over)
            {
                let (_, values) = all.filters.remove(i);
                let codes = CodeLists::get();
                keep = Some(
                    values
                        .iter()
                        .map(|v| codes.canonical(&over, v))
                        .collect::<std::result::Result<Vec<_>, _>>()
                        .map_err(|e| AppError::BadRequest(e.to_string()))?,
                );
            }
        }
        let t = self.query(who, name, version, &all)?;
        let mut t = match share_of {
            Some(a) => analysis::share_of(t, &over, a).map_err(AppError::BadRequest)?,
            None => analysis::share(t, &over),
        };
        if let (Some(keep), Some(p)) = (&keep, t.columns.iter().position(|c| *c == over)) {
            t.rows.retain(|r| keep.contains(&r.key[p]));
        }
        for r in t.rows.iter_mut() {
            r.value = r.extra.pop().flatten();
        }
        t.extra.clear();
        Ok(match q.top {
            Some(n) => nansen_model::query::top_of(t, n, q),
            None => t,
        })
    }

    fn per_capita(
        &self,
        who: &Caller,
        (name, version): (&DatasetName, Option<i64>),
        q: &Query,
        population: Option<&str>,
        factor: f64,
    ) -> Result<Table> {
        let population = population.ok_or_else(|| {
            AppError::needs(
                "a rate per inhabitant needs the population dataset",
                Remedy::NamePopulation,
            )
        })?;
        let geo = q.group_by.iter().position(|g| g == "geo").ok_or_else(|| {
            AppError::BadRequest("a rate per inhabitant needs the answer grouped by geo".into())
        })?;
        let period = q.group_by.iter().position(|g| g == "period");
        let counts = self.query(who, name, version, q)?;
        let population = crate::dataset_name(population)?;
        let pq = Query {
            filters: vec![("indicator".into(), vec!["population".into()])],
            group_by: vec!["geo".into(), "period".into()],
            frequency: Some(Frequency::Year),
            ..Query::default()
        };
        let pop = self.query(who, &population, None, &pq)?;
        let mut by_geo: HashMap<String, BTreeMap<String, f64>> = HashMap::new();
        for r in &pop.rows {
            if let Some(v) = r.value {
                by_geo
                    .entry(r.key[0].clone())
                    .or_default()
                    .insert(r.key[1].clone(), v);
            }
        }
        let rows = counts
            .rows
            .iter()
            .map(|r| {
                let years = by_geo.get(&r.key[geo]);
                // The population of the period's year; without a period, the latest year.
                let inhabitants = years.and_then(|y| match period {
                    Some(p) => Period::parse(&r.key[p])
                        .and_then(|per| per.to_frequency(Frequency::Year))
                        .and_then(|yr| y.get(&yr.to_string()).copied()),
                    None => y.values().next_back().copied(),
                });
                let value = r
                    .value
                    .zip(inhabitants)
                    .and_then(|(v, p)| (p > 0.0).then_some(v / p * factor));
                Row {
                    key: r.key.clone(),
                    value,
                    flags: r.flags.clone(),
                    extra: vec![],
                    incomplete: r.incomplete,
                }
            })
            .collect();
        Ok(Table {
            columns: counts.columns,
            rows,
            extra: vec![],
            aggregates: counts.aggregates,
            counted: counts.counted,
            warnings: Vec::new(),
            provenance: counts.provenance,
        })
    }

    /// Flows from origin to destination (through a transit or route dimension when named),
    /// for a Sankey diagram.
    pub fn flows(
        &self,
        who: &Caller,
        name: &DatasetName,
        version: Option<i64>,
        q: &Query,
        via: Option<&str>,
    ) -> Result<Flows> {
        let mut q = q.clone();
        q.group_by = std::iter::once("origin")
            .chain(via)
            .chain(std::iter::once("geo"))
            .map(String::from)
            .collect();
        q.top = None;
        let t = self.query(who, name, version, &q)?;
        let mut nodes: Vec<FlowNode> = Vec::new();
        let mut links: BTreeMap<(String, String), f64> = BTreeMap::new();
        let names = CodeLists::get();
        // Leaves only (EU28 beside Germany would carry Germany's flow twice), unless the query
        // named the aggregates it wants.
        let named: Vec<bool> = t
            .columns
            .iter()
            .map(|c| {
                q.filters
                    .iter()
                    .any(|(d, _)| nansen_model::query::dimension_alias(d) == *c)
            })
            .collect();
        for r in &t.rows {
            let Some(v) = r.value.filter(|v| *v > 0.0) else {
                continue;
            };
            if (0..r.key.len()).any(|c| !named[c] && t.is_aggregate(r, c)) {
                continue;
            }
            let ids: Vec<String> = t
                .columns
                .iter()
                .zip(&r.key)
                .map(|(c, k)| format!("{c}:{k}"))
                .collect();
            for (col, (c, k)) in t.columns.iter().zip(&r.key).enumerate() {
                let id = format!("{c}:{k}");
                if !nodes.iter().any(|n| n.id == id) {
                    let label = match c.as_str() {
                        "origin" | "geo" => names.country_name(k).unwrap_or(k).to_string(),
                        _ => k.clone(),
                    };
                    nodes.push(FlowNode {
                        id,
                        label,
                        column: col,
                    });
                }
            }
            for pair in ids.windows(2) {
                *links.entry((pair[0].clone(), pair[1].clone())).or_default() += v;
            }
        }
        nodes.sort_by(|a, b| (a.column, &a.id).cmp(&(b.column, &b.id)));
        Ok(Flows {
            nodes,
            links: links
                .into_iter()
                .map(|((source, target), value)| FlowLink {
                    source,
                    target,
                    value,
                })
                .collect(),
        })
    }

    /// The same question put to several datasets: the first dataset's value, then each
    /// other's value, difference and difference in per cent.
    pub fn compare(&self, who: &Caller, datasets: &[String], q: &Query) -> Result<Table> {
        if datasets.len() < 2 {
            return Err(AppError::BadRequest("compare at least two datasets".into()));
        }
        let tables = datasets
            .iter()
            .map(|name| {
                let name = crate::dataset_name(name)?;
                // Each source keeps the filters on dimensions it has.
                let mut q = q.clone();
                let dims = self.dimensions_of(who, &name)?;
                q.filters
                    .retain(|(d, _)| dims.contains(&nansen_model::query::dimension_alias(d)));
                self.query(who, &name, None, &q)
            })
            .collect::<Result<Vec<Table>>>()?;
        let mut keys: Vec<Vec<String>> = tables
            .iter()
            .flat_map(|t| t.rows.iter().map(|r| r.key.clone()))
            .collect();
        keys.sort();
        keys.dedup();
        let index: Vec<HashMap<&Vec<String>, &Row>> = tables
            .iter()
            .map(|t| t.rows.iter().map(|r| (&r.key, r)).collect())
            .collect();
        let mut extra = Vec::new();
        for name in &datasets[1..] {
            extra.extend([
                name.clone(),
                format!("difference {name}"),
                format!("difference_pct {name}"),
            ]);
        }
        let rows = keys
            .iter()
            .map(|k| {
                let first = index[0].get(k).and_then(|r| r.value);
                let mut ex = Vec::new();
                for ix in &index[1..] {
                    let v = ix.get(k).and_then(|r| r.value);
                    let d = v.zip(first).map(|(v, f)| v - f);
                    ex.extend([
                        v,
                        d,
                        d.zip(first)
                            .and_then(|(d, f)| (f != 0.0).then_some(d / f * 100.0)),
                    ]);
                }
                Row {
                    key: k.clone(),
                    value: first,
                    flags: String::new(),
                    extra: ex,
                    // A comparison involving a partly covered period says so.
                    incomplete: index
                        .iter()
                        .any(|ix| ix.get(k).is_some_and(|r| r.incomplete)),
                }
            })
            .collect();
        Ok(Table {
            columns: tables[0].columns.clone(),
            rows,
            extra,
            aggregates: tables[0].aggregates.clone(),
            counted: tables[0].counted.clone(),
            warnings: definition_warnings(datasets, &tables),
            provenance: nansen_model::Provenance {
                dataset: datasets.join(","),
                title: tables
                    .iter()
                    .map(|t| t.provenance.title.as_str())
                    .collect::<Vec<_>>()
                    .join(" | "),
                query: format!("compare {} {}", datasets.join(" "), q.describe()),
                ..tables[0].provenance.clone()
            },
        })
    }

    fn dimensions_of(&self, who: &Caller, name: &DatasetName) -> Result<Vec<String>> {
        let (d, access) = self.authorize(who, name, crate::Need::Data)?;
        Ok(self.cube_of(&d, access, None)?.dims.clone())
    }
}
