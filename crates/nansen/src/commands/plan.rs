//! `nansen plan`: contingency plans set against reception capacity.

use super::Ctx;
use crate::output::{said, Outcome};
use anyhow::Context;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum PlanCommand {
    /// Write a contingency plan from a JSON file of triggers and actions.
    Add {
        /// The organisation (its short name)
        #[arg(long)]
        org: String,
        /// The plan's title
        #[arg(long)]
        title: String,
        /// The scenario the plan answers, in words ("arrivals by sea double within a month")
        #[arg(long, default_value = "")]
        scenario: String,
        /// {"triggers": [...], "actions": [...]}, as in the API.
        #[arg(long)]
        file: PathBuf,
    },
    /// Plans of your organisations: whether each is triggered, why, and since when.
    List,
    /// Tick (or with --undo untick) action N, from 1, of a plan's checklist.
    Tick {
        /// The plan's number
        plan: i64,
        /// The action's number within the plan
        action: usize,
        /// Mark it not done again
        #[arg(long)]
        undo: bool,
    },
}

impl PlanCommand {
    pub fn exec(self, ctx: Ctx) -> Outcome {
        let Ctx { app, who, out } = ctx;
        match self {
            PlanCommand::Add {
                org,
                title,
                scenario,
                file,
            } => {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let spec: nansen_app::PlanSpec =
                    serde_json::from_str(&text).with_context(|| {
                        format!(
                            "{} is not a plan: {{\"triggers\": [...], \"actions\": [...]}}",
                            file.display()
                        )
                    })?;
                let p = app.create_plan(who, &org, &title, &scenario, spec)?;
                writeln!(out, "{}", p.id)?;
                let state = if p.triggered_since.is_some() {
                    format!("TRIGGERED: {}", p.reason)
                } else {
                    "not triggered".into()
                };
                eprintln!("plan {}: {state}", p.id);
            }
            PlanCommand::List => {
                writeln!(out, "{}", serde_json::to_string_pretty(&app.plans(who)?)?)?;
            }
            PlanCommand::Tick { plan, action, undo } => {
                if action == 0 {
                    return Err(said("actions are numbered from 1"));
                }
                app.set_action_done(who, plan, action - 1, !undo)?;
            }
        }
        Ok(())
    }
}
