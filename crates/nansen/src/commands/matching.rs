//! `nansen match`: matching households to the places states pledged, as an instance from a
//! file or as proposals in a programme, decided by its admins.

use super::operations::programme_name;
use super::Ctx;
use crate::output::{Failure, Outcome, TextFormat};
use anyhow::Context;
use clap::{Args, Subcommand};
use nansen_app::{MatchSettingsChange, ProposalRequest, ProposalView, ProposedCaseView};
use std::io::Write;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum MatchCommand {
    /// Solve an allocation instance (the JSON `gen_relocation.py` writes): the assignment,
    /// its objective, a proven upper bound and the gap between them. Needs no data directory.
    Solve(SolveArgs),
    /// Propose an assignment of a programme's cases at ready-for-matching to the places its
    /// pledges have left, with its proven bound and every case explained. Changes no case;
    /// prints the proposal's id on its last line.
    Propose {
        /// The programme, ORG/SLUG
        programme: String,
        /// Solve and show, but keep nothing
        #[arg(long)]
        dry_run: bool,
        /// A pair that must hold, CASE=STATE (repeatable)
        #[arg(long)]
        pin: Vec<String>,
        /// A pair that must not, CASE=STATE (repeatable)
        #[arg(long)]
        forbid: Vec<String>,
        /// Seconds the search may take (at most 60; 10 by default, 1 after --from)
        #[arg(long)]
        time_limit: Option<f64>,
        /// An earlier proposal to start from: the answer says what moved since
        #[arg(long)]
        from: Option<String>,
        /// How to print it
        #[arg(long, value_enum, default_value_t = TextFormat::Text)]
        format: TextFormat,
    },
    /// A proposal: its figures, each case's state and the states' table.
    Show {
        /// The proposal's id
        proposal: String,
        /// How to print it
        #[arg(long, value_enum, default_value_t = TextFormat::Text)]
        format: TextFormat,
    },
    /// Why a case of a proposal goes where it goes: its score's parts, the next best state and
    /// its cost, and what stopped each better state.
    Explain {
        /// The proposal's id
        proposal: String,
        /// The case's id
        case: String,
    },
    /// Accept a proposal, wholly or the cases named (with the cases they travel with): each
    /// moves on matched to its state and is referred to the state's receiving partner.
    Accept {
        /// The proposal's id
        proposal: String,
        /// Only this case (repeatable)
        #[arg(long = "case")]
        cases: Vec<String>,
    },
    /// A programme's proposals, newest first.
    List {
        /// The programme, ORG/SLUG
        programme: String,
    },
    /// A programme's matching settings, or change them.
    Settings {
        /// The programme, ORG/SLUG
        programme: String,
        /// The default score's weights, as JSON: {"base": 0.25, "language": 0.35, "family": 0.25, "state_preference": 0.1, "household_preference": 0.15}
        #[arg(long)]
        weights: Option<String>,
        /// The sections an accepted match refers to the receiving state, separated by commas
        #[arg(long, value_delimiter = ',')]
        refer: Option<Vec<String>>,
    },
    /// Use a score matrix for a programme instead of the default score: a CSV with the header
    /// `case` then one column per state, each score from 0 to 1 (an integration-outcome
    /// model's, say). States' exclusions still hold.
    Scores {
        /// The programme, ORG/SLUG
        programme: String,
        /// The CSV file
        #[arg(long, required_unless_present = "clear")]
        file: Option<PathBuf>,
        /// Go back to the default score
        #[arg(long, conflicts_with = "file")]
        clear: bool,
    },
}

#[derive(Args)]
pub struct SolveArgs {
    /// The instance: states with their places, cases, and a score per case and state.
    instance: PathBuf,
    /// Seconds to spend improving the assignment.
    #[arg(long, default_value_t = 10.0)]
    time_limit: f64,
    /// Write the assignment here as CSV (`case,state`, with the instance's ids).
    #[arg(long)]
    assignment: Option<PathBuf>,
    /// How to print the result.
    #[arg(long, value_enum, default_value_t = TextFormat::Text)]
    format: TextFormat,
}

impl MatchCommand {
    pub fn wants_json(&self) -> bool {
        match self {
            MatchCommand::Solve(a) => a.format == TextFormat::Json,
            MatchCommand::Propose { format, .. } | MatchCommand::Show { format, .. } => {
                *format == TextFormat::Json
            }
            _ => false,
        }
    }

    /// `solve` needs no data directory; it runs before one is opened.
    pub fn solve(self) -> Result<Outcome, MatchCommand> {
        match self {
            MatchCommand::Solve(a) => Ok(a.exec()),
            other => Err(other),
        }
    }

    pub fn exec(self, ctx: Ctx) -> Outcome {
        let Ctx { app, who, out } = ctx;
        match self {
            MatchCommand::Solve(_) => unreachable!("solved before the data directory opens"),
            MatchCommand::Propose {
                programme,
                dry_run,
                pin,
                forbid,
                time_limit,
                from,
                format,
            } => {
                let p = app.propose(
                    who,
                    &programme_name(&programme)?,
                    ProposalRequest {
                        pins: pin,
                        forbids: forbid,
                        time_limit,
                        dry_run,
                        from,
                    },
                )?;
                print_proposal(out, &p, format)?;
            }
            MatchCommand::Show { proposal, format } => {
                print_proposal(out, &app.proposal(who, &proposal)?, format)?;
            }
            MatchCommand::Explain { proposal, case } => {
                print_explanation(out, &app.explain_proposed_case(who, &proposal, &case)?)?;
            }
            MatchCommand::Accept { proposal, cases } => {
                let a = app.accept_proposal(who, &proposal, &cases)?;
                for c in &a.accepted {
                    writeln!(
                        out,
                        "accepted\t{}\t{}\t{}",
                        c.case,
                        c.state,
                        c.referral.as_deref().unwrap_or("-")
                    )?;
                }
                for c in &a.skipped {
                    writeln!(out, "skipped\t{}\t{}", c.case, c.because)?;
                }
                eprintln!("{} accepted, {} skipped", a.accepted.len(), a.skipped.len());
            }
            MatchCommand::List { programme } => {
                writeln!(
                    out,
                    "proposal\tcreated_at\tby\tobjective\tgap\tcases\tassigned\taccepted"
                )?;
                for p in app.proposals(who, &programme_name(&programme)?)? {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{:.4}\t{:.6}\t{}\t{}\t{}",
                        p.id,
                        p.created_at,
                        p.created_by,
                        p.objective,
                        p.gap,
                        p.cases,
                        p.assigned_cases,
                        p.accepted_cases
                    )?;
                }
            }
            MatchCommand::Settings {
                programme,
                weights,
                refer,
            } => {
                let name = programme_name(&programme)?;
                let settings = if weights.is_none() && refer.is_none() {
                    app.match_settings(who, &name)?
                } else {
                    let weights = weights
                        .map(|w| {
                            serde_json::from_str(&w).map_err(|e| anyhow::anyhow!("--weights: {e}"))
                        })
                        .transpose()?;
                    let referral_sections = refer
                        .map(|list| {
                            list.iter()
                                .map(|s| {
                                    s.trim()
                                        .parse()
                                        .map_err(|e| anyhow::anyhow!("--refer: {e}"))
                                })
                                .collect::<Result<Vec<_>, _>>()
                        })
                        .transpose()?;
                    app.set_match_settings(
                        who,
                        &name,
                        MatchSettingsChange {
                            weights,
                            referral_sections,
                        },
                    )?
                };
                let mut shown = serde_json::to_value(&settings).context("settings")?;
                if let Some(scores) = settings.scores.as_ref() {
                    shown["scores"] =
                        format!("an uploaded matrix of {} cases", scores.len()).into();
                }
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&shown).context("settings")?
                )?;
            }
            MatchCommand::Scores {
                programme,
                file,
                clear,
            } => {
                let name = programme_name(&programme)?;
                let text = match (&file, clear) {
                    (Some(f), false) => Some(
                        std::fs::read_to_string(f)
                            .with_context(|| format!("cannot read {}", f.display()))?,
                    ),
                    _ => None,
                };
                let s = app.set_match_scores(who, &name, text.as_deref())?;
                match s.scores {
                    Some(m) => eprintln!("{name} scores from the matrix: {} cases", m.len()),
                    None => eprintln!("{name} scores by its default score"),
                }
            }
        }
        Ok(())
    }
}

fn opt(v: Option<&str>) -> &str {
    v.unwrap_or("-")
}

fn print_proposal(out: &mut dyn Write, p: &ProposalView, format: TextFormat) -> Outcome {
    if format == TextFormat::Json {
        writeln!(out, "{}", serde_json::to_string(p).context("a proposal")?)?;
        return Ok(());
    }
    let s = &p.summary;
    writeln!(
        out,
        "objective {:.4}\nbound {:.4}\ngap {:.4}%\nseconds {:.2}\nassigned_cases {} of {}\nassigned_persons {}\nscore {}",
        s.objective,
        s.bound,
        s.gap * 100.0,
        s.seconds,
        s.assigned_cases,
        s.taking_part,
        s.assigned_persons,
        s.score
    )?;
    writeln!(
        out,
        "\ncase\tpersons\tstate\tscore\tnext_best\tcost\tdecision"
    )?;
    for c in &p.cases {
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            c.case,
            c.persons,
            opt(c.state.as_deref()),
            c.score.map_or("-".into(), |v| format!("{v:.3}")),
            c.next_best.as_ref().map_or("-", |n| n.state.as_str()),
            c.next_best
                .as_ref()
                .map_or("-".into(), |n| format!("{:.3}", n.cost)),
            opt(c.decision.as_deref()),
        )?;
    }
    writeln!(
        out,
        "\nstate\tplaces\tpersons\tuam_places\tuam\tmedical_places\tmedical\tshare_of_persons\tshare_of_places"
    )?;
    for st in &s.states {
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{:.3}\t{:.3}",
            st.state,
            st.places,
            st.persons,
            st.uam_places,
            st.unaccompanied_children,
            st.medical_places,
            st.medical_cases,
            st.share_of_persons,
            st.share_of_places
        )?;
    }
    for w in &s.waiting {
        writeln!(out, "waiting\t{}\t{}", w.case, w.because)?;
    }
    for m in &s.moved {
        writeln!(
            out,
            "moved\t{}\t{} -> {}",
            m.case,
            opt(m.from.as_deref()),
            opt(m.to.as_deref())
        )?;
    }
    match &p.id {
        Some(id) => writeln!(out, "proposal {id}")?,
        None => writeln!(out, "dry run: nothing kept")?,
    }
    Ok(())
}

fn print_explanation(out: &mut dyn Write, c: &ProposedCaseView) -> Outcome {
    writeln!(out, "case {} ({} persons)", c.case, c.persons)?;
    match &c.state {
        Some(s) => writeln!(
            out,
            "proposed {s}, score {:.3}{}",
            c.score.unwrap_or(0.0),
            c.value.map_or(String::new(), |v| format!(", value {v:.3}"))
        )?,
        None => writeln!(
            out,
            "unassigned: {}",
            c.unassigned_because.as_deref().unwrap_or("-")
        )?,
    }
    if let Some(p) = &c.parts {
        writeln!(
            out,
            "score parts: base {:.3}, language {:.3}, family {:.3}, state preference {:.3}, household preference {:.3}",
            p.base, p.language, p.family, p.state_preference, p.household_preference
        )?;
    }
    if !c.travels_with.is_empty() {
        writeln!(out, "travels with {}", c.travels_with.join(", "))?;
    }
    if let Some(n) = &c.next_best {
        writeln!(
            out,
            "next best {}, score {:.3}, would cost {:.3}",
            n.state, n.score, n.cost
        )?;
    }
    for s in &c.stopped {
        writeln!(out, "not {} (score {:.3}): {}", s.state, s.score, s.because)?;
    }
    if let Some(d) = &c.decision {
        writeln!(
            out,
            "{d} by {}{}",
            opt(c.decided_by.as_deref()),
            c.referral
                .as_deref()
                .map_or(String::new(), |r| format!(", referral {r}"))
        )?;
    }
    Ok(())
}

impl SolveArgs {
    fn exec(self) -> Outcome {
        let started = std::time::Instant::now();
        if !(self.time_limit.is_finite() && self.time_limit > 0.0 && self.time_limit <= 86_400.0) {
            return Err(Failure::Other(anyhow::anyhow!(
                "--time-limit: {} is not a number of seconds from 0 to 86400",
                self.time_limit
            )));
        }
        let text = std::fs::read_to_string(&self.instance)
            .with_context(|| format!("cannot read {}", self.instance.display()))?;
        let instance = nansen_match::Instance::from_json(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", self.instance.display()))?;
        let options = nansen_match::Options {
            time_limit: std::time::Duration::from_secs_f64(self.time_limit),
            ..Default::default()
        };
        let solution = nansen_match::solve(&instance, &options).map_err(anyhow::Error::from)?;
        let assigned: Vec<usize> = (0..instance.cases.len())
            .filter(|&i| solution.assignment[i].is_some())
            .collect();
        let persons: i64 = assigned.iter().map(|&i| instance.cases[i].size).sum();
        if let Some(path) = &self.assignment {
            let mut csv = String::from("case,state\n");
            for &i in &assigned {
                let state = solution.assignment[i].map_or("", |j| instance.states[j].id.as_str());
                csv.push_str(&format!("{},{state}\n", instance.cases[i].id));
            }
            std::fs::write(path, csv)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        // Wall time, the file's reading included.
        let seconds = started.elapsed().as_secs_f64();
        let mut out = std::io::stdout().lock();
        let written = match self.format {
            TextFormat::Json => writeln!(
                out,
                "{}",
                serde_json::json!({
                    "objective": solution.objective,
                    "bound": solution.bound,
                    "gap": solution.gap,
                    "seconds": seconds,
                    "assigned_cases": assigned.len(),
                    "assigned_persons": persons,
                    "cases": instance.cases.len(),
                    "states": instance.states.len(),
                })
            ),
            TextFormat::Text => writeln!(
                out,
                "objective {:.1}\nbound {:.1}\ngap {:.4}%\nseconds {seconds:.2}\nassigned_cases {} of {}\nassigned_persons {persons}",
                solution.objective,
                solution.bound,
                solution.gap * 100.0,
                assigned.len(),
                instance.cases.len(),
            ),
        };
        written.context("cannot write the result")?;
        Ok(())
    }
}
