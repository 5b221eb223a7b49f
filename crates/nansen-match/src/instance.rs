//! An allocation instance as `gen_relocation.py` writes it: states with their places, cases
//! (households) with their needs and links, and a score for every case and state.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A receiving state's pledge and what it states about whom it receives.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct State {
    pub id: String,
    /// Persons.
    pub places: i64,
    /// Of them, unaccompanied children (each counts one).
    pub uam_places: i64,
    /// Of them, medical cases (each household with a medical need counts one).
    pub medical_places: i64,
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub prefers: Vec<String>,
    #[serde(default)]
    pub excludes: Vec<String>,
}

/// A household travelling together.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Case {
    pub id: String,
    /// Persons.
    pub size: i64,
    #[serde(default)]
    pub nationality: String,
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub unaccompanied_child: bool,
    #[serde(default)]
    pub medical: bool,
    #[serde(default)]
    pub disability: bool,
    /// Indexes of the states where the household has family.
    #[serde(default)]
    pub family_ties: Vec<usize>,
    /// Cases that must go to the same state, or stay unassigned with it.
    #[serde(default)]
    pub linked: Vec<String>,
}

impl Case {
    /// How much the case weighs in the objective.
    pub fn weight(&self) -> f64 {
        1.0 + f64::from(u8::from(self.unaccompanied_child))
            + 0.5 * f64::from(u8::from(self.medical))
            + 0.5 * f64::from(u8::from(self.disability))
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Instance {
    pub states: Vec<State>,
    pub cases: Vec<Case>,
    /// `score[case][state]`: from 0 to 1, or -1 where the pair is forbidden.
    pub score: Vec<Vec<f64>>,
}

#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    #[error("the instance is not the JSON of an allocation instance: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Invalid(String),
}

impl Instance {
    /// Reads and checks an instance: every problem is named by the case or state and field.
    pub fn from_json(text: &str) -> Result<Instance, InstanceError> {
        let i: Instance = serde_json::from_str(text)?;
        i.validate()?;
        Ok(i)
    }

    /// The value of assigning case `c` to state `s`, or None where the pair is forbidden.
    pub fn value(&self, c: usize, s: usize) -> Option<f64> {
        let score = self.score[c][s];
        (score >= 0.0).then(|| self.cases[c].weight() * self.cases[c].size as f64 * score)
    }

    /// Index of each case by id.
    pub fn case_index(&self) -> HashMap<&str, usize> {
        self.cases
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.as_str(), i))
            .collect()
    }

    fn validate(&self) -> Result<(), InstanceError> {
        let bad = |m: String| Err(InstanceError::Invalid(m));
        if self.states.is_empty() {
            return bad("states: the instance has no state, so no places".into());
        }
        if self.states.iter().all(|s| s.places <= 0) {
            return bad("states: no state has places".into());
        }
        let mut seen = HashMap::new();
        for (j, s) in self.states.iter().enumerate() {
            if seen.insert(s.id.as_str(), j).is_some() {
                return bad(format!("states[{j}].id: {:?} appears twice", s.id));
            }
            for (field, v) in [
                ("places", s.places),
                ("uam_places", s.uam_places),
                ("medical_places", s.medical_places),
            ] {
                if v < 0 {
                    return bad(format!("states[{j}] ({}).{field}: {v} is negative", s.id));
                }
            }
        }
        if self.score.len() != self.cases.len() {
            return bad(format!(
                "score: {} rows for {} cases; it needs one row per case",
                self.score.len(),
                self.cases.len()
            ));
        }
        let index = self.case_index();
        if index.len() != self.cases.len() {
            let mut ids = std::collections::HashSet::new();
            let twice = self
                .cases
                .iter()
                .find(|c| !ids.insert(&c.id))
                .map(|c| &c.id);
            return bad(format!("cases: the id {twice:?} appears twice"));
        }
        for (i, c) in self.cases.iter().enumerate() {
            if !(1..=100).contains(&c.size) {
                return bad(format!(
                    "cases[{i}] ({}).size: {} is not a household's number of persons",
                    c.id, c.size
                ));
            }
            if let Some(t) = c.family_ties.iter().find(|t| **t >= self.states.len()) {
                return bad(format!(
                    "cases[{i}] ({}).family_ties: state {t} does not exist",
                    c.id
                ));
            }
            for l in &c.linked {
                let Some(&k) = index.get(l.as_str()) else {
                    return bad(format!(
                        "cases[{i}] ({}).linked: no case {l:?} in the instance",
                        c.id
                    ));
                };
                if k == i {
                    return bad(format!(
                        "cases[{i}] ({}).linked: a case linked to itself",
                        c.id
                    ));
                }
            }
            let row = &self.score[i];
            if row.len() != self.states.len() {
                return bad(format!(
                    "score[{i}] ({}): {} values for {} states",
                    c.id,
                    row.len(),
                    self.states.len()
                ));
            }
            for (j, v) in row.iter().enumerate() {
                if !(*v == -1.0 || (0.0..=1.0).contains(v)) {
                    return bad(format!(
                        "score[{i}][{j}] ({} in {}): {v} is neither from 0 to 1 nor -1 (forbidden)",
                        c.id, self.states[j].id
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"states": [{"id": "DEU", "places": 5, "uam_places": 1, "medical_places": 1}],
        "cases": [{"id": "A", "size": 2, "linked": ["B"]}, {"id": "B", "size": 1, "linked": ["A"]}],
        "score": [[0.5], [0.7]]}"#;

    #[test]
    fn a_bad_instance_is_refused_naming_the_case_or_state_and_the_field() {
        assert!(Instance::from_json(GOOD).is_ok());
        for (from, to, says) in [
            ("\"places\": 5", "\"places\": 0", "no state has places"),
            ("[[0.5], [0.7]]", "[[0.5]]", "score: 1 rows for 2 cases"),
            (
                "[[0.5], [0.7]]",
                "[[0.5], [0.7, 0.1]]",
                "score[1] (B): 2 values for 1 states",
            ),
            (
                "[[0.5], [0.7]]",
                "[[1.5], [0.7]]",
                "score[0][0] (A in DEU): 1.5 is neither",
            ),
            (
                "\"linked\": [\"B\"]",
                "\"linked\": [\"Z\"]",
                "cases[0] (A).linked: no case \"Z\"",
            ),
            ("\"size\": 2", "\"size\": 0", "cases[0] (A).size"),
        ] {
            let text = GOOD.replace(from, to);
            let e = Instance::from_json(&text).unwrap_err().to_string();
            assert!(e.contains(says), "{from} -> {to}: {e}");
        }
    }
}
