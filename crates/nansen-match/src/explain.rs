//! Why a solution is what it is, in terms the people deciding on it use: for each case the
//! state it got, the next best and what taking it instead would cost, and what stopped each
//! better state (its places, a case it travels with, a forbidden pair); for each unassigned
//! case why; for each state what it was pledged and what it receives.
//!
//! What a change would cost is read from the relaxation's prices of places: moving a group
//! from `s` to `j` costs its value net of the places it takes in `s` less the same in `j`.
//! That is the linear programme's own measure of a change (exact at its optimum, an estimate
//! for the whole numbers), and it takes no further solve.

use crate::solve::{groups_of, Group, Places, KINDS, KIND_NAMES};
use crate::{Instance, Solution};
use serde::{Deserialize, Serialize};

/// A state the case would score higher in, and what stopped it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stopped {
    pub state: String,
    pub score: f64,
    pub because: String,
    /// The reason names places for unaccompanied children or medical cases, and so says the
    /// case has such a need: shown only to those who see its needs.
    #[serde(default)]
    pub needs_based: bool,
}

/// The best other state a case may go to, and what choosing it would cost the objective.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NextBest {
    pub state: String,
    pub score: f64,
    pub cost: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaseExplanation {
    pub case: String,
    pub state: Option<String>,
    /// Its score in the state it got.
    pub score: Option<f64>,
    /// What it adds to the objective: weight × persons × score.
    pub value: f64,
    /// Cases it travels with (they go where it goes).
    pub travels_with: Vec<String>,
    pub next_best: Option<NextBest>,
    /// States it would score higher in than where it is, best first.
    pub stopped: Vec<Stopped>,
    /// Why it is not assigned, when it is not.
    pub unassigned_because: Option<String>,
    /// That reason names places for a specific need (see [`Stopped::needs_based`]).
    #[serde(default)]
    pub unassigned_needs_based: bool,
}

/// What a state was pledged and what the solution gives it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StateSummary {
    pub state: String,
    /// Places available to this solution: persons, unaccompanied children, medical cases.
    pub places: i64,
    pub uam_places: i64,
    pub medical_places: i64,
    pub persons: i64,
    pub cases: i64,
    pub unaccompanied_children: i64,
    pub medical_cases: i64,
    /// Its share of the persons assigned, beside its share of the places.
    pub share_of_persons: f64,
    pub share_of_places: f64,
    /// Households received by language spoken and by nationality, most first.
    pub languages: Vec<(String, i64)>,
    pub nationalities: Vec<(String, i64)>,
    /// What one more place of each kind is worth here (persons, unaccompanied children,
    /// medical cases): above zero where the places bind.
    pub prices: [f64; KINDS],
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub cases: Vec<CaseExplanation>,
    pub states: Vec<StateSummary>,
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

fn counted(mut counts: std::collections::HashMap<String, i64>) -> Vec<(String, i64)> {
    let mut v: Vec<(String, i64)> = counts.drain().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// Explains `solution` of `instance`, solved with `forbids`.
pub fn explain(
    instance: &Instance,
    solution: &Solution,
    forbids: &[(usize, usize)],
) -> Explanation {
    let m = instance.states.len();
    let groups = groups_of(instance, forbids);
    let mut room: Vec<Places> = instance
        .states
        .iter()
        .map(|s| [s.places, s.uam_places, s.medical_places])
        .collect();
    let at: Vec<Option<usize>> = groups
        .iter()
        .map(|g| solution.assignment[g.members[0]])
        .collect();
    for (g, j) in groups.iter().zip(&at) {
        if let Some(j) = j {
            for (r, n) in room[*j].iter_mut().zip(g.needs) {
                *r -= n;
            }
        }
    }
    let price = |j: usize, g: &Group| -> f64 {
        (0..KINDS)
            .map(|k| solution.prices[j][k] * g.needs[k] as f64)
            .sum()
    };
    let mut cases = vec![None; instance.cases.len()];
    for (gi, g) in groups.iter().enumerate() {
        let here = at[gi];
        let net_here = here
            .and_then(|s| g.value_in(s).map(|v| v - price(s, g)))
            .unwrap_or(0.0);
        for &i in &g.members {
            let c = &instance.cases[i];
            let own = |j: usize| instance.value(i, j);
            let score_in = |j: usize| instance.score[i][j];
            let mut stopped: Vec<Stopped> = (0..m)
                .filter(|&j| Some(j) != here && score_in(j) >= 0.0)
                .filter(|&j| here.is_none_or(|s| score_in(j) > score_in(s)))
                .map(|j| {
                    let (because, needs_based) =
                        stopped_by(instance, g, i, j, here, &room[j], forbids, || {
                            round(price(j, g), 3)
                        });
                    Stopped {
                        state: instance.states[j].id.clone(),
                        score: score_in(j),
                        because,
                        needs_based,
                    }
                })
                .collect();
            stopped.sort_by(|a, b| b.score.total_cmp(&a.score));
            let next_best = g
                .options
                .iter()
                .filter(|(j, v)| Some(*j) != here && *v > 0.0)
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|&(j, v)| NextBest {
                    state: instance.states[j].id.clone(),
                    score: score_in(j),
                    cost: round((net_here - (v - price(j, g))).max(0.0), 3),
                });
            let (unassigned_because, unassigned_needs_based) =
                match here.is_none().then(|| why_unassigned(instance, g, &room)) {
                    Some((why, needs)) => (Some(why), needs),
                    None => (None, false),
                };
            cases[i] = Some(CaseExplanation {
                case: c.id.clone(),
                state: here.map(|s| instance.states[s].id.clone()),
                score: here.map(score_in),
                value: here.and_then(own).map_or(0.0, |v| round(v, 4)),
                travels_with: g
                    .members
                    .iter()
                    .filter(|&&k| k != i)
                    .map(|&k| instance.cases[k].id.clone())
                    .collect(),
                next_best,
                stopped,
                unassigned_because,
                unassigned_needs_based,
            });
        }
    }
    let total_places: i64 = instance.states.iter().map(|s| s.places).sum();
    let total_persons: i64 = solution
        .assignment
        .iter()
        .zip(&instance.cases)
        .filter(|(a, _)| a.is_some())
        .map(|(_, c)| c.size)
        .sum();
    let share = |part: i64, whole: i64| {
        if whole > 0 {
            round(part as f64 / whole as f64, 4)
        } else {
            0.0
        }
    };
    let states = instance
        .states
        .iter()
        .enumerate()
        .map(|(j, s)| {
            let received: Vec<&crate::Case> = instance
                .cases
                .iter()
                .zip(&solution.assignment)
                .filter(|(_, a)| **a == Some(j))
                .map(|(c, _)| c)
                .collect();
            let persons = received.iter().map(|c| c.size).sum();
            let mut languages = std::collections::HashMap::new();
            let mut nationalities = std::collections::HashMap::new();
            for c in &received {
                for l in &c.languages {
                    *languages.entry(l.clone()).or_insert(0) += 1;
                }
                if !c.nationality.is_empty() {
                    *nationalities.entry(c.nationality.clone()).or_insert(0) += 1;
                }
            }
            StateSummary {
                state: s.id.clone(),
                places: s.places,
                uam_places: s.uam_places,
                medical_places: s.medical_places,
                persons,
                cases: received.len() as i64,
                unaccompanied_children: received.iter().filter(|c| c.unaccompanied_child).count()
                    as i64,
                medical_cases: received.iter().filter(|c| c.medical).count() as i64,
                share_of_persons: share(persons, total_persons),
                share_of_places: share(s.places, total_places),
                languages: counted(languages),
                nationalities: counted(nationalities),
                prices: solution.prices[j].map(|p| round(p, 4)),
            }
        })
        .collect();
    Explanation {
        cases: cases.into_iter().flatten().collect(),
        states,
    }
}

/// What stopped case `i` (of group `g`, now in `here`) from going to state `j`, where it
/// scores higher.
#[allow(clippy::too_many_arguments)]
fn stopped_by(
    instance: &Instance,
    g: &Group,
    i: usize,
    j: usize,
    here: Option<usize>,
    room: &Places,
    forbids: &[(usize, usize)],
    price: impl Fn() -> f64,
) -> (String, bool) {
    let sid = &instance.states[j].id;
    if forbids.contains(&(i, j)) {
        return (
            format!(
                "the pair {}={sid} is forbidden in this proposal",
                instance.cases[i].id
            ),
            false,
        );
    }
    if let Some(&k) = g
        .members
        .iter()
        .find(|&&k| k != i && (instance.value(k, j).is_none() || forbids.contains(&(k, j))))
    {
        return (
            format!(
                "{} travels with it and may not go to {sid}",
                instance.cases[k].id
            ),
            false,
        );
    }
    if let Some(k) = (0..KINDS).find(|&k| room[k] < g.needs[k]) {
        let left = room[k].max(0);
        return (
            format!(
                "{sid}'s {} places are taken ({left} left, {} needed)",
                KIND_NAMES[k], g.needs[k]
            ),
            k > 0,
        );
    }
    if g.members.len() > 1 {
        if let (Some(v), Some(s)) = (g.value_in(j), here) {
            if g.value_in(s).is_some_and(|h| h >= v) {
                return (
                    format!(
                        "the cases it travels with are worth more in {} than in {sid}",
                        instance.states[s].id
                    ),
                    false,
                );
            }
        }
    }
    (
        format!(
            "the places it would take in {sid} are worth {} to the cases that have them",
            price()
        ),
        false,
    )
}

fn why_unassigned(instance: &Instance, g: &Group, room: &[Places]) -> (String, bool) {
    let possible: Vec<usize> = g
        .options
        .iter()
        .filter(|(_, v)| *v > 0.0)
        .map(|(j, _)| *j)
        .collect();
    if possible.is_empty() {
        let why = if g.options.is_empty() {
            if g.members.len() > 1 {
                "no state may receive it and every case it travels with".into()
            } else {
                "no state may receive it (each excludes it or the pair is forbidden)".into()
            }
        } else {
            "it scores 0 in every state that may receive it".into()
        };
        return (why, false);
    }
    let pledged: Vec<Places> = instance
        .states
        .iter()
        .map(|s| [s.places, s.uam_places, s.medical_places])
        .collect();
    if let Some(k) = (0..KINDS).find(|&k| possible.iter().all(|&j| pledged[j][k] < g.needs[k])) {
        return (
            format!(
                "it needs {} {} places, more than any state that may receive it has",
                g.needs[k], KIND_NAMES[k]
            ),
            k > 0,
        );
    }
    let short: Vec<(String, usize)> = possible
        .iter()
        .filter_map(|&j| {
            (0..KINDS).find(|&k| room[j][k] < g.needs[k]).map(|k| {
                let left = room[j][k].max(0);
                (
                    format!("{} ({left} {} left)", instance.states[j].id, KIND_NAMES[k]),
                    k,
                )
            })
        })
        .collect();
    match possible.iter().find(|&&j| (0..KINDS).all(|k| room[j][k] >= g.needs[k])) {
        None => (
            format!(
                "the places it needs are taken by cases worth more: {}",
                short.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>().join(", ")
            ),
            short.iter().any(|(_, k)| *k > 0),
        ),
        Some(&j) => (
            format!(
                "the solver's time ran out before it was placed, though {} has room: solve again with more time",
                instance.states[j].id
            ),
            false,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{solve, Case, Options, State};

    fn state(id: &str, places: i64) -> State {
        State {
            id: id.into(),
            places,
            uam_places: 1,
            medical_places: 1,
            languages: vec![],
            prefers: vec![],
            excludes: vec![],
        }
    }

    fn case(id: &str, size: i64, linked: &[&str]) -> Case {
        Case {
            id: id.into(),
            size,
            nationality: "SYR".into(),
            languages: vec!["ar".into()],
            unaccompanied_child: false,
            medical: false,
            disability: false,
            family_ties: vec![],
            linked: linked.iter().map(|l| l.to_string()).collect(),
        }
    }

    /// DEU has room for one household of two; A and B both score best there, A more so. C
    /// travels with D, which DEU does not receive. E is larger than any state's places.
    fn instance() -> Instance {
        Instance {
            states: vec![state("DEU", 2), state("FRA", 6)],
            cases: vec![
                case("A", 2, &[]),
                case("B", 2, &[]),
                case("C", 1, &["D"]),
                case("D", 1, &["C"]),
                case("E", 7, &[]),
            ],
            score: vec![
                vec![0.9, 0.3],
                vec![0.8, 0.4],
                vec![0.9, 0.5],
                vec![-1.0, 0.5],
                vec![0.5, 0.5],
            ],
        }
    }

    #[test]
    fn each_case_says_what_stopped_a_better_state_and_what_the_next_best_would_cost() {
        let i = instance();
        let s = solve(&i, &Options::default()).unwrap();
        let e = explain(&i, &s, &[]);
        let by = |id: &str| e.cases.iter().find(|c| c.case == id).unwrap();
        assert_eq!(by("A").state.as_deref(), Some("DEU"));
        assert!(by("A").stopped.is_empty());
        let next = by("A").next_best.as_ref().unwrap();
        assert_eq!(next.state, "FRA");
        assert!(next.cost > 0.0, "moving A to FRA costs: {next:?}");

        let b = by("B");
        assert_eq!(b.state.as_deref(), Some("FRA"));
        assert_eq!(b.stopped[0].state, "DEU");
        assert_eq!(
            b.stopped[0].because,
            "DEU's persons places are taken (0 left, 2 needed)"
        );

        let c = by("C");
        assert_eq!(c.travels_with, vec!["D".to_string()]);
        assert_eq!(
            c.stopped[0].because,
            "D travels with it and may not go to DEU"
        );

        let e5 = by("E");
        assert_eq!(e5.state, None);
        assert_eq!(
            e5.unassigned_because.as_deref(),
            Some("it needs 7 persons places, more than any state that may receive it has")
        );

        let deu = &e.states[0];
        assert_eq!((deu.persons, deu.cases, deu.places), (2, 1, 2));
        assert_eq!(deu.nationalities, vec![("SYR".to_string(), 1)]);
        assert!(
            deu.prices[0] > 0.0,
            "DEU's places bind, so they have a price"
        );
    }

    #[test]
    fn a_forbidden_pair_is_named_as_what_stopped_the_state() {
        let i = instance();
        let forbids = [(0, 0)];
        let s = solve(
            &i,
            &Options {
                forbids: forbids.to_vec(),
                ..Default::default()
            },
        )
        .unwrap();
        let e = explain(&i, &s, &forbids);
        let a = e.cases.iter().find(|c| c.case == "A").unwrap();
        assert_eq!(a.state.as_deref(), Some("FRA"));
        assert_eq!(
            a.stopped[0].because,
            "the pair A=DEU is forbidden in this proposal"
        );
    }
}
