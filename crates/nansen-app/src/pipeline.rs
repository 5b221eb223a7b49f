//! Each programme's statistics as datasets of its own: `ORG/SLUG-pipeline`, persons and cases
//! entering each stage by month, receiving state, nationality, sex and age band, and beside it
//! `ORG/SLUG-pledges`, the places states pledged (of which for unaccompanied children and
//! medical cases) by month. The counts change in the transaction of each case's change (the
//! store's `pipeline_counts`); the dataset follows them with a new version before anyone reads
//! it and every round of the background job, so every analysis, chart, forecast and watch
//! works on it unchanged. It is made with the programme, sensitive and shared with the
//! programme's partners, who read it through disclosure control.

use crate::{App, Caller, ImportRequest, Result};
use nansen_model::{DatasetName, Principal};
use nansen_store::ProgrammeRecord;
use std::collections::BTreeMap;

/// The suffix of a programme's pipeline dataset.
pub const PIPELINE: &str = "-pipeline";

/// The suffix of a programme's pledges dataset.
pub const PLEDGES: &str = "-pledges";

/// The pledges dataset's indicators, in the order the store gives a pledge's figures.
const PLEDGE_INDICATORS: [&str; 3] = [
    "pledged_places",
    "pledged_places_uam",
    "pledged_places_medical",
];

/// The pipeline dataset of a programme.
pub fn pipeline_dataset(p: &ProgrammeRecord) -> DatasetName {
    DatasetName::new(&p.org, format!("{}{PIPELINE}", p.slug))
}

/// The pledges dataset of a programme: places pledged by state and month.
pub fn pledges_dataset(p: &ProgrammeRecord) -> DatasetName {
    DatasetName::new(&p.org, format!("{}{PLEDGES}", p.slug))
}

/// `[code, TOTAL]` for a dimension with a total, so every dimension a query leaves unnamed is
/// held at its total rather than summed.
fn with_total(code: &str) -> [&str; 2] {
    [code, "TOTAL"]
}

impl App {
    /// Brings a programme's pipeline dataset up to its counts, when they changed since.
    pub(crate) fn refresh_pipeline(&self, p: &ProgrammeRecord) -> Result<bool> {
        let (changes, seen) = self.store.pipeline_state(p.id)?;
        if changes <= seen {
            return Ok(false);
        }
        // Entries into stages, with every combination of totals over the state, nationality,
        // sex and age (the stage has none: entries into different stages never add up).
        let mut cells: BTreeMap<[String; 7], f64> = BTreeMap::new();
        for c in self.store.pipeline_counts(p.id)? {
            for geo in with_total(&c.geo) {
                for origin in with_total(&c.origin) {
                    for sex in with_total(&c.sex) {
                        for age in with_total(&c.age) {
                            for (indicator, n) in [
                                ("persons_entered_stage", c.persons),
                                ("cases_entered_stage", c.cases),
                            ] {
                                let key = [indicator, &c.month, &c.stage, geo, origin, sex, age]
                                    .map(str::to_string);
                                *cells.entry(key).or_default() += n as f64;
                            }
                        }
                    }
                }
            }
        }
        let mut text = String::from("indicator,period,stage,geo,origin,sex,age,value\n");
        for (k, v) in &cells {
            text.push_str(&format!("{},{v}\n", k.join(",")));
        }
        // Places pledged, a stock: each state's figures at the month of each change (the last
        // change of a month stands for it), and their total over states. A dataset of their
        // own: a stock by state beside flows by stage, nationality, sex and age would hold
        // those dimensions at a total the flows do not have.
        let mut pledges = String::from("indicator,period,geo,value\n");
        let mut latest: BTreeMap<String, [i64; 3]> = BTreeMap::new();
        let mut by_month: BTreeMap<(String, String, &str), i64> = BTreeMap::new();
        for (state, at, figures) in self.store.pledge_history(p.id)? {
            let month = at.date()[..7].to_string();
            latest.insert(state.clone(), figures);
            for (i, indicator) in PLEDGE_INDICATORS.iter().enumerate() {
                by_month.insert((month.clone(), state.clone(), indicator), figures[i]);
                by_month.insert(
                    (month.clone(), "TOTAL".into(), indicator),
                    latest.values().map(|f| f[i]).sum(),
                );
            }
        }
        for ((month, geo, indicator), v) in by_month {
            pledges.push_str(&format!("{indicator},{month},{geo},{v}\n"));
        }
        if !self.land_counts(&pipeline_dataset(p), &text)?
            || !self.land_counts(&pledges_dataset(p), &pledges)?
        {
            return Ok(false);
        }
        self.store.write(|tx| {
            tx.pipeline_seen(p.id, changes)?;
            Ok::<_, nansen_store::StoreError>(())
        })?;
        Ok(true)
    }

    /// Lands counts (a CSV of observations, no person in it) as the next version of a
    /// programme's dataset; false when another node landed one at the same moment.
    fn land_counts(&self, name: &DatasetName, csv: &str) -> Result<bool> {
        if csv.lines().nth(1).is_none() {
            // Nothing counted yet (no case, no pledge): no version to make.
            return Ok(true);
        }
        // Written where imports read their files, removed once read.
        let path = self.uploads_dir()?.join(format!(
            "{}-{}.csv",
            name.slug,
            crate::identity::random_hex(8)
        ));
        std::fs::write(&path, csv).map_err(nansen_formats::ImportError::from)?;
        struct Remove<'a>(&'a std::path::Path);
        impl Drop for Remove<'_> {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(self.0);
            }
        }
        let _remove = Remove(&path);
        // Its sharing and disclosure control were set with the programme; its owner may
        // change them.
        let request = ImportRequest {
            org: name.org.clone(),
            slug: name.slug.clone(),
            file_name: format!("{}.csv", name.slug),
            options: Default::default(),
            append: false,
            dry_run: false,
            share: None,
            title: None,
            sensitive: None,
        };
        let system = Caller {
            principal: Principal::Operator,
            label: "pipeline".into(),
        };
        match self.import(&system, &request, &path, &|_| {}) {
            Ok(_) => Ok(true),
            Err(crate::AppError::Conflict(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Brings every programme's pipeline dataset up to date: the background job's round.
    pub fn refresh_pipelines(&self) -> Result<usize> {
        let mut n = 0;
        for p in self.store.programmes()? {
            if self.refresh_pipeline(&p)? {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Before a pipeline dataset is read: brought up to its counts. A refresh that fails
    /// leaves the reader the version before; the background job reports the failure.
    pub(crate) fn fresh_pipeline(&self, org: &str, slug: &str) -> Result<()> {
        let Some(programme) = slug
            .strip_suffix(PIPELINE)
            .or_else(|| slug.strip_suffix(PLEDGES))
        else {
            return Ok(());
        };
        if let Some(p) = self.store.programme(org, programme)? {
            self.refresh_pipeline(&p)?;
        }
        Ok(())
    }
}
