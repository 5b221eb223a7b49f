//! Every constraint of an assignment, checked from the instance alone: nothing here is shared
//! with the solver, so a solver's mistake cannot hide in both.

use crate::Instance;

#[derive(Clone, Debug, PartialEq)]
pub enum Violation {
    /// The pair has a score of -1.
    Forbidden { case: String, state: String },
    /// Persons, unaccompanied children or medical cases over the state's places.
    OverPlaces {
        state: String,
        what: &'static str,
        assigned: i64,
        places: i64,
    },
    /// Linked cases apart: different states, or one assigned and the other not.
    LinksApart { case: String, linked: String },
    /// An assignment names a state index that does not exist.
    NoSuchState { case: String, state: usize },
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Violation::Forbidden { case, state } => {
                write!(f, "{case} in {state}: a forbidden pair")
            }
            Violation::OverPlaces {
                state,
                what,
                assigned,
                places,
            } => {
                write!(f, "{state}: {assigned} {what} for {places} places")
            }
            Violation::LinksApart { case, linked } => {
                write!(f, "{case} and {linked} are linked but not placed together")
            }
            Violation::NoSuchState { case, state } => write!(f, "{case}: no state {state}"),
        }
    }
}

/// The objective of `assignment` (a state index or None per case), or every constraint it
/// breaks.
pub fn check(instance: &Instance, assignment: &[Option<usize>]) -> Result<f64, Vec<Violation>> {
    let mut broken = Vec::new();
    let m = instance.states.len();
    let mut used = vec![[0i64; 3]; m];
    let mut objective = 0.0;
    for (i, (case, at)) in instance.cases.iter().zip(assignment).enumerate() {
        let Some(j) = *at else { continue };
        if j >= m {
            broken.push(Violation::NoSuchState {
                case: case.id.clone(),
                state: j,
            });
            continue;
        }
        let score = instance.score[i][j];
        if score < 0.0 {
            broken.push(Violation::Forbidden {
                case: case.id.clone(),
                state: instance.states[j].id.clone(),
            });
            continue;
        }
        let w = 1.0
            + if case.unaccompanied_child { 1.0 } else { 0.0 }
            + if case.medical { 0.5 } else { 0.0 }
            + if case.disability { 0.5 } else { 0.0 };
        objective += w * case.size as f64 * score;
        used[j][0] += case.size;
        used[j][1] += i64::from(case.unaccompanied_child);
        used[j][2] += i64::from(case.medical);
    }
    for (s, u) in instance.states.iter().zip(&used) {
        for (k, (what, places)) in [
            ("persons", s.places),
            ("unaccompanied children", s.uam_places),
            ("medical cases", s.medical_places),
        ]
        .into_iter()
        .enumerate()
        {
            if u[k] > places {
                broken.push(Violation::OverPlaces {
                    state: s.id.clone(),
                    what,
                    assigned: u[k],
                    places,
                });
            }
        }
    }
    let index = instance.case_index();
    for (i, case) in instance.cases.iter().enumerate() {
        for l in &case.linked {
            if let Some(&k) = index.get(l.as_str()) {
                if assignment.get(k) != assignment.get(i) {
                    broken.push(Violation::LinksApart {
                        case: case.id.clone(),
                        linked: l.clone(),
                    });
                }
            }
        }
    }
    if broken.is_empty() {
        Ok(objective)
    } else {
        Err(broken)
    }
}
