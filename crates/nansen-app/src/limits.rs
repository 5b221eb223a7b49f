//! How much expensive work each caller may run at once, and for how long. A request's cost
//! is bounded before its work starts: [`App::admit`] answers at once, with a permit or with
//! [`AppError::Limit`] naming the limit and when to try again.

use crate::{App, AppError, Caller, Result};
use nansen_forecast::Budget;
use nansen_model::Principal;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Kinds of expensive work, each limited apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Work {
    /// Forecasts, backtests and detection.
    Forecast,
    /// Whole-dataset downloads.
    Export,
    /// Imports, staged uploads and documents: a body written to disk and read.
    Upload,
    Search,
    /// Matching proposals: the solver's search.
    Matching,
}

impl Work {
    pub fn name(self) -> &'static str {
        match self {
            Work::Forecast => "forecasts and backtests",
            Work::Export => "exports",
            Work::Upload => "uploads",
            Work::Search => "searches",
            Work::Matching => "matching proposals",
        }
    }
}

/// The limits of one kind of work.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WorkLimit {
    /// At once, per signed-in person.
    pub per_person: usize,
    /// At once, per address, for callers who are not signed in.
    pub per_address: usize,
    /// At once, on this node.
    pub total: usize,
    /// How long one may compute when the caller is signed in, and when not.
    pub seconds: u64,
    pub anonymous_seconds: u64,
}

/// Every limit, with the defaults a node of two to eight cores copes with.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    pub forecast: WorkLimit,
    pub export: WorkLimit,
    pub upload: WorkLimit,
    pub search: WorkLimit,
    pub matching: WorkLimit,
    /// What a refused caller is told to wait, in seconds.
    pub retry_after: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            forecast: WorkLimit {
                per_person: 2,
                per_address: 1,
                total: 4,
                seconds: 120,
                anonymous_seconds: 20,
            },
            export: WorkLimit {
                per_person: 2,
                per_address: 1,
                total: 4,
                seconds: 600,
                anonymous_seconds: 120,
            },
            // The anonymous may upload nothing; the limit is there should a route forget it.
            upload: WorkLimit {
                per_person: 2,
                per_address: 0,
                total: 4,
                seconds: 3600,
                anonymous_seconds: 0,
            },
            search: WorkLimit {
                per_person: 4,
                per_address: 2,
                total: 16,
                seconds: 10,
                anonymous_seconds: 5,
            },
            // A proposal searches for up to a minute on one core; the anonymous propose none.
            matching: WorkLimit {
                per_person: 1,
                per_address: 0,
                total: 2,
                seconds: 90,
                anonymous_seconds: 0,
            },
            retry_after: 5,
        }
    }
}

impl Limits {
    pub fn of(&self, work: Work) -> WorkLimit {
        match work {
            Work::Forecast => self.forecast,
            Work::Export => self.export,
            Work::Upload => self.upload,
            Work::Search => self.search,
            Work::Matching => self.matching,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Requester {
    Person(i64),
    Address(IpAddr),
    /// Not signed in and with no address known: all such callers share one allowance.
    Unknown,
}

#[derive(Default)]
pub(crate) struct Running {
    by_requester: HashMap<(Work, Requester), usize>,
    total: HashMap<Work, usize>,
}

/// Leave to run one piece of work; the place is given back when it is dropped. Its budget
/// carries the deadline.
pub struct Permit {
    running: Option<(Arc<Mutex<Running>>, Work, Requester)>,
    budget: Budget,
}

impl Permit {
    pub fn budget(&self) -> &Budget {
        &self.budget
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some((running, work, who)) = self.running.take() {
            let mut r = running.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(n) = r.by_requester.get_mut(&(work, who.clone())) {
                *n -= 1;
                if *n == 0 {
                    r.by_requester.remove(&(work, who));
                }
            }
            if let Some(n) = r.total.get_mut(&work) {
                *n = n.saturating_sub(1);
            }
        }
    }
}

impl App {
    pub fn set_limits(&self, limits: Limits) {
        *self.limits.write().unwrap_or_else(|p| p.into_inner()) = limits;
    }

    pub fn limits(&self) -> Limits {
        self.limits
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Leave for `who` (from `address`, when not signed in) to start `work` now, or the
    /// limit that stands in the way. The operator on the command line is not limited.
    pub fn admit(&self, who: &Caller, address: Option<IpAddr>, work: Work) -> Result<Permit> {
        let limits = self.limits();
        let limit = limits.of(work);
        let (requester, most, seconds) = match (&who.principal, address) {
            (Principal::Operator, _) => {
                return Ok(Permit {
                    running: None,
                    budget: Budget::unlimited(),
                })
            }
            (Principal::User { id, .. }, _) => {
                (Requester::Person(*id), limit.per_person, limit.seconds)
            }
            (Principal::Anonymous, Some(a)) => (
                Requester::Address(a),
                limit.per_address,
                limit.anonymous_seconds,
            ),
            (Principal::Anonymous, None) => (
                Requester::Unknown,
                limit.per_address,
                limit.anonymous_seconds,
            ),
        };
        let busy = |what: String| AppError::Limit {
            message: what,
            retry_after: limits.retry_after,
        };
        if most == 0 {
            return Err(match requester {
                Requester::Person(_) => {
                    busy(format!("{} are switched off on this server", work.name()))
                }
                _ => AppError::Unauthorized,
            });
        }
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let mine = running
            .by_requester
            .get(&(work, requester.clone()))
            .copied()
            .unwrap_or(0);
        if mine >= most {
            let whose = if matches!(requester, Requester::Person(_)) {
                "per person"
            } else {
                "per address for callers who are not signed in"
            };
            return Err(busy(format!(
                "at most {most} {} at once {whose}; {mine} of yours are running",
                work.name()
            )));
        }
        let all = running.total.get(&work).copied().unwrap_or(0);
        if all >= limit.total {
            return Err(busy(format!(
                "this server runs at most {} {} at once, and is busy",
                limit.total,
                work.name()
            )));
        }
        *running
            .by_requester
            .entry((work, requester.clone()))
            .or_default() += 1;
        *running.total.entry(work).or_default() += 1;
        Ok(Permit {
            running: Some((self.running.clone(), work, requester)),
            budget: Budget::lasting(Duration::from_secs(seconds)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::apps;

    #[test]
    fn work_over_a_limit_is_refused_at_once_and_a_finished_one_frees_its_place() {
        let (_t, app) = apps().into_iter().next().expect("one database");
        let anon = Caller::anonymous();
        let here: IpAddr = "192.0.2.7".parse().unwrap();
        let there: IpAddr = "192.0.2.8".parse().unwrap();
        let first = app.admit(&anon, Some(here), Work::Forecast).unwrap();
        let e = app
            .admit(&anon, Some(here), Work::Forecast)
            .err()
            .expect("a second from one address is refused");
        assert!(
            matches!(&e, AppError::Limit { message, retry_after: 5 } if message.contains("at most 1 forecasts and backtests at once per address")),
            "{e}"
        );
        let other = app
            .admit(&anon, Some(there), Work::Forecast)
            .expect("another address has its own");
        drop(first);
        app.admit(&anon, Some(here), Work::Forecast)
            .expect("free again");
        drop(other);
        assert!(
            matches!(
                app.admit(&anon, Some(here), Work::Upload),
                Err(AppError::Unauthorized)
            ),
            "the anonymous upload nothing"
        );
        assert!(app
            .admit(&Caller::operator(), None, Work::Upload)
            .unwrap()
            .budget()
            .check()
            .is_ok());
    }
}
