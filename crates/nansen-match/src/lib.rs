//! Matching households to the places states pledged (issue 16). The problem is the one
//! `../shared/tools/highs_baseline.py` states, so every figure compares like with like:
//! maximise the sum over assigned pairs of `w × size × score`, with
//! `w = 1 + 1.0·unaccompanied child + 0.5·medical + 0.5·disability`; each case in at most one
//! state; a score of -1 forbids a pair; per state, persons within its places and unaccompanied
//! children and medical cases within theirs; linked cases in the same state or both
//! unassigned.
//!
//! [`solve`] answers an assignment with its objective and an upper bound on what any
//! assignment could reach, so the gap between them is proven, not estimated. [`check`]
//! verifies an assignment against every constraint without sharing code with the solver.

pub mod check;
pub mod explain;
pub mod instance;
pub mod score;
pub mod solve;

pub use check::{check, Violation};
pub use explain::{explain, CaseExplanation, Explanation, NextBest, StateSummary, Stopped};
pub use instance::{Case, Instance, InstanceError, State};
pub use solve::{solve, Options, Solution, SolveError};
