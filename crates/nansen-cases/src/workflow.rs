//! Programmes' kinds and their workflows: the stages a case passes through, which of them a
//! supervisor must approve, and which moves between them are allowed.

use serde::{Deserialize, Serialize};

nansen_model::vocabulary! {
    /// What a programme does.
    pub enum ProgrammeKind("a programme's type") {
        Resettlement = "resettlement",
        HumanitarianAdmission = "humanitarian-admission",
        Relocation = "relocation",
        Return = "return",
        FamilyReunification = "family-reunification",
    }
}

/// One stage of a workflow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// Lower-case words joined by hyphens, as `ready-for-matching`.
    pub name: String,
    /// A case enters this stage only once a supervisor approves the move.
    #[serde(default)]
    pub approval: bool,
    /// A way out of the workflow (`withdrawn`, `closed`): reached from any stage, and the
    /// case's figures stop at the stage it left.
    #[serde(default)]
    pub exit: bool,
}

/// A programme's stages in their order, the exits last.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Workflow {
    pub stages: Vec<Stage>,
}

/// What a requested move is, once the workflow allows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Move {
    /// To the next stage in order.
    Forward,
    /// Back to an earlier stage, or out of the workflow, or back into it from `withdrawn`:
    /// each needs a note saying why.
    WithNote,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoveError {
    #[error("the workflow has no stage {0:?}")]
    UnknownStage(String),
    #[error("the case is at {0} already")]
    Same(String),
    #[error("a case at {from} moves on to {next}, not {to}: a stage is not skipped")]
    Skips {
        from: String,
        next: String,
        to: String,
    },
    #[error("a case that is {0} stays so")]
    Final(String),
    #[error("a move back, out of the workflow or from withdrawn needs a note saying why")]
    NeedsNote,
}

/// Stages a case may leave the workflow by in every default workflow.
const WITHDRAWN: &str = "withdrawn";
const CLOSED: &str = "closed";

fn stages(ordinary: &[&str], approval: &[&str]) -> Workflow {
    let mut stages: Vec<Stage> = ordinary
        .iter()
        .map(|name| Stage {
            name: name.to_string(),
            approval: approval.contains(name),
            exit: false,
        })
        .collect();
    for exit in [WITHDRAWN, CLOSED] {
        stages.push(Stage {
            name: exit.into(),
            approval: false,
            exit: true,
        });
    }
    Workflow { stages }
}

impl Workflow {
    /// The workflow each kind of programme starts with, after the published procedures:
    /// - relocation: the EU's voluntary relocation from Greece (2020-2023): identification,
    ///   best-interest and age assessment, matching to a pledging state, its acceptance, the
    ///   pre-departure health check, departure and the arrival report;
    /// - resettlement: UNHCR's Resettlement Handbook: identification, assessment, submission
    ///   to a state (after a supervisor's review), the state's interview or selection mission,
    ///   its decision, pre-departure health check, departure, arrival;
    /// - humanitarian admission: as resettlement, with a referral by a partner first;
    /// - return: IOM's assisted voluntary return and reintegration;
    /// - family reunification: the application to the reunification state, its documents,
    ///   interview and decision, the visa, departure and arrival.
    pub fn default_for(kind: ProgrammeKind) -> Workflow {
        match kind {
            ProgrammeKind::Relocation => stages(
                &[
                    "identified",
                    "assessed",
                    "ready-for-matching",
                    "matched",
                    "accepted",
                    "health-check",
                    "departed",
                    "arrived",
                ],
                &["ready-for-matching"],
            ),
            ProgrammeKind::Resettlement => stages(
                &[
                    "identified",
                    "assessed",
                    "submitted",
                    "interviewed",
                    "accepted",
                    "health-check",
                    "departed",
                    "arrived",
                ],
                &["submitted"],
            ),
            ProgrammeKind::HumanitarianAdmission => stages(
                &[
                    "referred",
                    "identified",
                    "assessed",
                    "submitted",
                    "accepted",
                    "health-check",
                    "departed",
                    "arrived",
                ],
                &["submitted"],
            ),
            ProgrammeKind::Return => stages(
                &[
                    "applied",
                    "counselled",
                    "travel-documents",
                    "departed",
                    "arrived",
                    "reintegration-plan",
                    "assistance-delivered",
                    "follow-up",
                ],
                &["travel-documents"],
            ),
            ProgrammeKind::FamilyReunification => stages(
                &[
                    "applied",
                    "documents-verified",
                    "interviewed",
                    "accepted",
                    "visa-issued",
                    "departed",
                    "arrived",
                ],
                &["accepted"],
            ),
        }
    }

    /// Where a new case starts: the first stage.
    pub fn first(&self) -> &str {
        &self.stages[0].name
    }

    pub fn stage(&self, name: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.name == name)
    }

    fn position(&self, name: &str) -> Result<usize, MoveError> {
        self.stages
            .iter()
            .position(|s| s.name == name)
            .ok_or_else(|| MoveError::UnknownStage(name.into()))
    }

    /// Whether a case at `from` may move to `to`, and what kind of move that is. Forward one
    /// stage at a time; back to any earlier stage, out to an exit, and from `withdrawn` back
    /// into the workflow, each with a note; `closed` (any exit but withdrawn) is final.
    pub fn check(&self, from: &str, to: &str, has_note: bool) -> Result<Move, MoveError> {
        let (i, j) = (self.position(from)?, self.position(to)?);
        if i == j {
            return Err(MoveError::Same(from.into()));
        }
        let (here, there) = (&self.stages[i], &self.stages[j]);
        let with_note = |m: Move| {
            if has_note {
                Ok(m)
            } else {
                Err(MoveError::NeedsNote)
            }
        };
        if here.exit {
            if here.name != WITHDRAWN || there.exit {
                return Err(MoveError::Final(here.name.clone()));
            }
            return with_note(Move::WithNote);
        }
        if there.exit || j < i {
            return with_note(Move::WithNote);
        }
        let next = self.stages[i + 1..]
            .iter()
            .find(|s| !s.exit)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        if next != to {
            return Err(MoveError::Skips {
                from: from.into(),
                next,
                to: to.into(),
            });
        }
        Ok(Move::Forward)
    }

    /// Checks a workflow a programme admin wrote: names, no repeats, at least one ordinary
    /// stage before the exits, and every stage in `in_use` (where cases are now) still there.
    pub fn validate(&self, in_use: &[String]) -> Result<(), String> {
        if self.stages.first().is_none_or(|s| s.exit) {
            return Err("a workflow starts with an ordinary stage, not an exit".into());
        }
        let mut seen = std::collections::HashSet::new();
        let mut exits_begun = false;
        for (i, s) in self.stages.iter().enumerate() {
            let well_formed = !s.name.is_empty()
                && s.name.len() <= 40
                && s.name.split('-').all(|w| {
                    !w.is_empty()
                        && w.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                });
            if !well_formed {
                return Err(format!(
                    "stage {}: {:?} is not a stage name: lower-case words joined by hyphens, at most 40 characters",
                    i + 1,
                    s.name
                ));
            }
            if !seen.insert(s.name.as_str()) {
                return Err(format!("stage {}: {} is named twice", i + 1, s.name));
            }
            if s.exit {
                exits_begun = true;
            } else if exits_begun {
                return Err(format!(
                    "stage {}: {} comes after an exit; the exits come last",
                    i + 1,
                    s.name
                ));
            }
            if s.exit && s.approval {
                return Err(format!(
                    "stage {}: {} is an exit, which needs no approval",
                    i + 1,
                    s.name
                ));
            }
        }
        if self.stages.len() > 40 {
            return Err("a workflow has at most 40 stages".into());
        }
        for stage in in_use {
            if !seen.contains(stage.as_str()) {
                return Err(format!(
                    "cases are at {stage}: move them first, or keep the stage"
                ));
            }
        }
        Ok(())
    }

    /// The ordinary stages, in order.
    pub fn ordinary(&self) -> impl Iterator<Item = &Stage> {
        self.stages.iter().filter(|s| !s.exit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_moves_forward_one_stage_at_a_time_and_back_or_out_with_a_note() {
        let w = Workflow::default_for(ProgrammeKind::Relocation);
        assert_eq!(w.first(), "identified");
        assert_eq!(w.check("identified", "assessed", false), Ok(Move::Forward));
        assert_eq!(
            w.check("identified", "matched", true),
            Err(MoveError::Skips {
                from: "identified".into(),
                next: "assessed".into(),
                to: "matched".into()
            })
        );
        assert_eq!(
            w.check("matched", "assessed", false),
            Err(MoveError::NeedsNote)
        );
        assert_eq!(w.check("matched", "assessed", true), Ok(Move::WithNote));
        assert_eq!(w.check("matched", "withdrawn", true), Ok(Move::WithNote));
        assert_eq!(w.check("withdrawn", "identified", true), Ok(Move::WithNote));
        assert_eq!(
            w.check("closed", "identified", true),
            Err(MoveError::Final("closed".into()))
        );
        assert_eq!(
            w.check("withdrawn", "closed", true),
            Err(MoveError::Final("withdrawn".into()))
        );
        assert_eq!(
            w.check("arrived", "nowhere", true),
            Err(MoveError::UnknownStage("nowhere".into()))
        );
        assert!(w.stage("ready-for-matching").unwrap().approval);
    }

    #[test]
    fn every_default_workflow_is_valid_and_an_adapted_one_is_checked() {
        for kind in ProgrammeKind::ALL {
            Workflow::default_for(*kind).validate(&[]).unwrap();
        }
        let mut w = Workflow::default_for(ProgrammeKind::Return);
        w.stages.retain(|s| s.name != "follow-up");
        assert_eq!(
            w.validate(&["follow-up".into()]).unwrap_err(),
            "cases are at follow-up: move them first, or keep the stage"
        );
        w.stages[1].name = "Counselled!".into();
        assert!(w.validate(&[]).unwrap_err().starts_with("stage 2:"));
        let parsed: Workflow = serde_json::from_str(
            r#"[{"name": "applied"}, {"name": "decided", "approval": true}, {"name": "closed", "exit": true}]"#,
        )
        .unwrap();
        parsed.validate(&[]).unwrap();
        assert_eq!(parsed.check("applied", "decided", false), Ok(Move::Forward));
    }
}
