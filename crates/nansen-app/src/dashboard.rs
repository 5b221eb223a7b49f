//! A programme's dashboard: for each receiving state, the places it pledged and the people
//! now at each stage; how long stays in each stage last; where cases wait longest. Its
//! figures are exact, so only the programme's owner and the partners who run its cases read
//! them; receiving partners read the pipeline dataset, disclosure-controlled.

use crate::cases::{CaseQuery, CaseRow};
use crate::{App, AppError, Caller, Result};
use nansen_model::{Principal, ProgrammeName, Timestamp};
use serde::Serialize;
use std::collections::BTreeMap;

/// How many of the longest-waiting cases the dashboard names.
const LONGEST_WAITING: i64 = 10;

/// The people of one receiving state's cases (or of cases not matched yet), stage by stage.
#[derive(Clone, Debug, Serialize)]
pub struct StateProgress {
    /// None for the cases not matched to a state yet.
    pub state: Option<String>,
    /// Places pledged, of which for unaccompanied children and for medical cases (none
    /// without a pledge).
    pub pledged: Option<[i64; 3]>,
    /// Persons whose case is now at each stage, in the order of [`Dashboard::stages`].
    pub now_at: Vec<i64>,
    /// Persons whose case is now at each stage or a later one, withdrawn and closed cases
    /// left out (zero for those two stages themselves).
    pub reached: Vec<i64>,
    pub cases: i64,
}

/// How long cases stay in a stage.
#[derive(Clone, Debug, Serialize)]
pub struct StageTime {
    pub stage: String,
    /// Stays in it that ended (a case moved on), with their median and 90th percentile in
    /// whole days.
    pub stays_ended: i64,
    pub median_days: Option<i64>,
    pub p90_days: Option<i64>,
    /// Cases in it now, with the median and longest wait so far in whole days.
    pub waiting: i64,
    pub waiting_median_days: Option<i64>,
    pub waiting_longest_days: Option<i64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Dashboard {
    pub programme: ProgrammeName,
    pub stages: Vec<String>,
    /// By receiving state, the cases not matched yet last, then the whole programme.
    pub states: Vec<StateProgress>,
    pub total: StateProgress,
    /// Stage by stage, in the workflow's order.
    pub times: Vec<StageTime>,
    /// The cases waiting longest in their stage that the caller may open (none for those
    /// who see no cases).
    pub longest_waiting: Vec<CaseRow>,
}

/// The smallest value with at least `q` of the weight at or below it.
fn quantile(dist: &[(i64, i64)], q: f64) -> Option<i64> {
    let total: i64 = dist.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    let want = (q * total as f64).ceil().max(1.0) as i64;
    let mut seen = 0;
    for (v, n) in dist {
        seen += n;
        if seen >= want {
            return Some(*v);
        }
    }
    dist.last().map(|(v, _)| *v)
}

impl App {
    /// The programme's dashboard, for its owner's members and the partners who run its cases.
    pub fn dashboard(&self, who: &Caller, name: &ProgrammeName) -> Result<Dashboard> {
        let (p, standing) = self.programme_for(who, name)?;
        let owner_member =
            who.principal == Principal::Operator || who.principal.role_in(&p.org).is_some();
        if !owner_member && !standing.registers {
            return Err(AppError::Forbidden(format!(
                "the dashboard's figures are exact: partners read {} instead, disclosure-controlled",
                crate::pipeline_dataset(&p)
            )));
        }
        let stages: Vec<String> = p.workflow.stages.iter().map(|s| s.name.clone()).collect();
        let exit: Vec<bool> = p.workflow.stages.iter().map(|s| s.exit).collect();
        let at = |stage: &str| stages.iter().position(|s| s == stage);
        let blank = |state: Option<String>| StateProgress {
            state,
            pledged: None,
            now_at: vec![0; stages.len()],
            reached: vec![0; stages.len()],
            cases: 0,
        };
        let mut by_state: BTreeMap<Option<String>, StateProgress> = BTreeMap::new();
        for pledge in self.store.pledges(p.id)? {
            by_state
                .entry(Some(pledge.state.clone()))
                .or_insert_with(|| blank(Some(pledge.state.clone())))
                .pledged = Some([pledge.places, pledge.uam_places, pledge.medical_places]);
        }
        let mut total = blank(None);
        let positions = self.store.stage_positions(p.id)?;
        for pos in &positions {
            // A stage dropped from the workflow holds no case (an admin cannot drop it while
            // it does), so a position outside it is left out rather than guessed at.
            let Some(i) = at(&pos.stage) else { continue };
            let row = by_state
                .entry(pos.state.clone())
                .or_insert_with(|| blank(pos.state.clone()));
            for r in [row, &mut total] {
                r.now_at[i] += pos.persons;
                r.cases += pos.cases;
            }
        }
        for r in by_state.values_mut().chain(std::iter::once(&mut total)) {
            let mut later = 0;
            for i in (0..stages.len()).rev() {
                if !exit[i] {
                    later += r.now_at[i];
                    r.reached[i] = later;
                }
            }
        }
        total.pledged = Some(by_state.values().filter_map(|r| r.pledged).fold(
            [0; 3],
            |mut acc, x| {
                for k in 0..3 {
                    acc[k] += x[k];
                }
                acc
            },
        ));
        // States by name, the cases not matched yet after them.
        let (mut states, unmatched): (Vec<_>, Vec<_>) =
            by_state.into_values().partition(|r| r.state.is_some());
        states.extend(unmatched);

        let mut stays: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
        for (stage, days, n) in self.store.stage_stays(p.id)? {
            stays.entry(stage).or_default().push((days, n));
        }
        let today = Timestamp::now().day();
        let mut waits: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
        for (stage, day, n) in self.store.stage_waits(p.id)? {
            let Some(since) = nansen_cases::case::parse_date(&day) else {
                continue;
            };
            waits
                .entry(stage)
                .or_default()
                .push(((today - since).whole_days().max(0), n));
        }
        let times = stages
            .iter()
            .map(|stage| {
                let ended = stays.remove(stage).unwrap_or_default();
                let mut now = waits.remove(stage).unwrap_or_default();
                now.sort();
                StageTime {
                    stage: stage.clone(),
                    stays_ended: ended.iter().map(|(_, n)| n).sum(),
                    median_days: quantile(&ended, 0.5),
                    p90_days: quantile(&ended, 0.9),
                    waiting: now.iter().map(|(_, n)| n).sum(),
                    waiting_median_days: quantile(&now, 0.5),
                    waiting_longest_days: now.last().map(|(d, _)| *d),
                }
            })
            .collect();
        // Analysts and viewers of the owner see no cases, so none are named to them.
        let longest_waiting = self
            .cases(
                who,
                name,
                &CaseQuery {
                    longest_waiting: true,
                    limit: Some(LONGEST_WAITING),
                    ..Default::default()
                },
            )
            .map(|l| l.cases)
            .or_else(|e| match e {
                AppError::Forbidden(_) => Ok(Vec::new()),
                e => Err(e),
            })?;
        Ok(Dashboard {
            programme: name.clone(),
            stages,
            states,
            total,
            times,
            longest_waiting,
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_quantile_of_a_distribution_is_the_first_value_reaching_its_share() {
        let d = [(1, 2), (3, 1), (10, 1)];
        assert_eq!(super::quantile(&d, 0.5), Some(1));
        assert_eq!(super::quantile(&d, 0.75), Some(3));
        assert_eq!(super::quantile(&d, 0.9), Some(10));
        assert_eq!(super::quantile(&[], 0.5), None);
    }
}
