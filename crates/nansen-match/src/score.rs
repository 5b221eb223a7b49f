//! The default score of a household in a state, from what a programme knows of both: a
//! shared language, family in the state, the state's stated preference for the household's
//! nationality, and the household's own ranked choice of states. The weights are the
//! programme admin's to set; the defaults follow `gen_relocation.py`'s model of integration
//! outcomes (a base of 0.25, 0.35 for a shared language, 0.25 for family, 0.1 for a state's
//! preference) with 0.15 for the household's first choice. A state that excludes the
//! household's nationality may not receive it.

use serde::{Deserialize, Serialize};

/// What each part of the score weighs. The score is their sum, capped at 1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Weights {
    /// Every permitted pair starts with it.
    pub base: f64,
    /// A member of the household speaks one of the state's languages.
    pub language: f64,
    /// The household has family in the state.
    pub family: f64,
    /// The state prefers the household's nationality.
    pub state_preference: f64,
    /// The household ranked the state: all of it for its first choice, less for each later.
    pub household_preference: f64,
}

impl Default for Weights {
    fn default() -> Weights {
        Weights {
            base: 0.25,
            language: 0.35,
            family: 0.25,
            state_preference: 0.1,
            household_preference: 0.15,
        }
    }
}

impl Weights {
    /// Each weight within 0 to 1, naming the one that is not.
    pub fn validate(&self) -> Result<(), String> {
        for (name, w) in [
            ("base", self.base),
            ("language", self.language),
            ("family", self.family),
            ("state_preference", self.state_preference),
            ("household_preference", self.household_preference),
        ] {
            if !(0.0..=1.0).contains(&w) {
                return Err(format!("weights.{name}: {w} is not between 0 and 1"));
            }
        }
        Ok(())
    }
}

/// What the score knows of a household.
#[derive(Clone, Debug, Default)]
pub struct Household {
    pub nationality: String,
    pub languages: Vec<String>,
    /// States where it has family.
    pub family_in: Vec<String>,
    /// The states it would go to, first choice first.
    pub preferred: Vec<String>,
}

/// What the score knows of a receiving state.
#[derive(Clone, Debug, Default)]
pub struct Receiving {
    pub state: String,
    pub languages: Vec<String>,
    /// Nationalities it prefers to receive.
    pub prefers: Vec<String>,
    /// Nationalities it does not receive.
    pub excludes: Vec<String>,
}

/// The parts of one household's score in one state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Parts {
    pub base: f64,
    pub language: f64,
    pub family: f64,
    pub state_preference: f64,
    pub household_preference: f64,
}

impl Parts {
    /// The score: the sum of the parts, capped at 1.
    pub fn total(&self) -> f64 {
        (self.base
            + self.language
            + self.family
            + self.state_preference
            + self.household_preference)
            .min(1.0)
    }
}

/// The household's score in the state, in parts, or why it may not go there.
pub fn default_score(w: &Weights, h: &Household, s: &Receiving) -> Result<Parts, String> {
    if s.excludes.contains(&h.nationality) {
        return Err(format!(
            "{} does not receive {} nationals",
            s.state, h.nationality
        ));
    }
    let yes = |b: bool| f64::from(u8::from(b));
    let rank = h.preferred.iter().position(|p| *p == s.state);
    Ok(Parts {
        base: w.base,
        language: w.language * yes(h.languages.iter().any(|l| s.languages.contains(l))),
        family: w.family * yes(h.family_in.contains(&s.state)),
        state_preference: w.state_preference * yes(s.prefers.contains(&h.nationality)),
        household_preference: rank.map_or(0.0, |r| {
            w.household_preference * (h.preferred.len() - r) as f64 / h.preferred.len() as f64
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn household() -> Household {
        Household {
            nationality: "SYR".into(),
            languages: vec!["ar".into(), "en".into()],
            family_in: vec!["DEU".into()],
            preferred: vec!["DEU".into(), "FRA".into()],
        }
    }

    #[test]
    fn each_part_counts_what_household_and_state_share_and_the_sum_is_capped_at_one() {
        let w = Weights::default();
        let deu = Receiving {
            state: "DEU".into(),
            languages: vec!["de".into(), "en".into()],
            prefers: vec!["SYR".into()],
            excludes: vec![],
        };
        let p = default_score(&w, &household(), &deu).unwrap();
        assert_eq!(
            p,
            Parts {
                base: 0.25,
                language: 0.35,
                family: 0.25,
                state_preference: 0.1,
                household_preference: 0.15,
            }
        );
        assert_eq!(p.total(), 1.0);
        let fra = Receiving {
            state: "FRA".into(),
            languages: vec!["fr".into()],
            ..Default::default()
        };
        let p = default_score(&w, &household(), &fra).unwrap();
        assert_eq!(p.language, 0.0);
        assert_eq!(p.family, 0.0);
        assert!(
            (p.household_preference - 0.075).abs() < 1e-12,
            "second of two choices"
        );
        assert!((p.total() - 0.325).abs() < 1e-12);
    }

    #[test]
    fn a_state_that_excludes_the_nationality_may_not_receive_the_household() {
        let s = Receiving {
            state: "HUN".into(),
            excludes: vec!["SYR".into()],
            ..Default::default()
        };
        let e = default_score(&Weights::default(), &household(), &s).unwrap_err();
        assert_eq!(e, "HUN does not receive SYR nationals");
    }

    #[test]
    fn weights_outside_zero_to_one_are_refused_by_name() {
        let w = Weights {
            family: 1.5,
            ..Weights::default()
        };
        assert_eq!(
            w.validate().unwrap_err(),
            "weights.family: 1.5 is not between 0 and 1"
        );
    }
}
