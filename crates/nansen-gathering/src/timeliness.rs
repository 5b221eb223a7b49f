//! Whether a reporter reported a period on time, as `nansen completeness` prints it: the
//! latest review of what it submitted, or `overdue` (nothing due submitted after the
//! deadline) or `open` (not yet due); and how many days after the deadline the first
//! submission came (0 when on time; none while nothing was submitted).

use serde::Serialize;
use time::Date;

/// Where the latest submission of a return stands. Drafts are not submissions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Review {
    Submitted,
    HasIssues,
    Approved,
    Rejected,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimelinessStatus {
    Approved,
    Submitted,
    HasIssues,
    Overdue,
    Open,
}

impl TimelinessStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TimelinessStatus::Approved => "approved",
            TimelinessStatus::Submitted => "submitted",
            TimelinessStatus::HasIssues => "has-issues",
            TimelinessStatus::Overdue => "overdue",
            TimelinessStatus::Open => "open",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Timeliness {
    pub status: TimelinessStatus,
    pub days_late: Option<i64>,
}

/// A reporter's standing for one period on `today`, given the period's `deadline`, the day
/// of its first submission and the latest submission's review. A rejected return counts as
/// nothing accepted: overdue or open, as the deadline says; its lateness stays on record.
pub fn timeliness(
    today: Date,
    deadline: Date,
    first_submitted: Option<Date>,
    latest: Option<Review>,
) -> Timeliness {
    let days_late = first_submitted.map(|d| (d - deadline).whole_days().max(0));
    let status = match latest {
        Some(Review::Approved) => TimelinessStatus::Approved,
        Some(Review::Submitted) => TimelinessStatus::Submitted,
        Some(Review::HasIssues) => TimelinessStatus::HasIssues,
        Some(Review::Rejected) | None if today > deadline => TimelinessStatus::Overdue,
        Some(Review::Rejected) | None => TimelinessStatus::Open,
    };
    Timeliness { status, days_late }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn on_time_late_overdue_open_and_has_issues_are_told_apart() {
        let deadline = date!(2026 - 02 - 17);
        let today = date!(2026 - 03 - 01);
        let t = |first, latest| timeliness(today, deadline, first, latest);
        assert_eq!(
            t(Some(date!(2026 - 02 - 10)), Some(Review::Approved)),
            Timeliness {
                status: TimelinessStatus::Approved,
                days_late: Some(0)
            }
        );
        assert_eq!(
            t(Some(date!(2026 - 02 - 20)), Some(Review::Submitted)),
            Timeliness {
                status: TimelinessStatus::Submitted,
                days_late: Some(3)
            }
        );
        assert_eq!(
            t(Some(date!(2026 - 02 - 17)), Some(Review::HasIssues)).status,
            TimelinessStatus::HasIssues
        );
        assert_eq!(
            t(None, None),
            Timeliness {
                status: TimelinessStatus::Overdue,
                days_late: None
            }
        );
        assert_eq!(
            timeliness(date!(2026 - 02 - 17), deadline, None, None).status,
            TimelinessStatus::Open,
            "due at the end of the deadline day, not before"
        );
        assert_eq!(
            t(Some(date!(2026 - 02 - 16)), Some(Review::Rejected)),
            Timeliness {
                status: TimelinessStatus::Overdue,
                days_late: Some(0)
            }
        );
    }
}
