//! `nansen match`: matching households to the places states pledged.

use crate::output::{Failure, Outcome, TextFormat};
use anyhow::Context;
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum MatchCommand {
    /// Solve an allocation instance (the JSON `gen_relocation.py` writes): the assignment,
    /// its objective, a proven upper bound and the gap between them. Needs no data directory.
    Solve(SolveArgs),
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
        }
    }

    pub fn exec(self) -> Outcome {
        match self {
            MatchCommand::Solve(a) => a.exec(),
        }
    }
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
