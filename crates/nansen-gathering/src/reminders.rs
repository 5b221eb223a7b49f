//! When a reporter that has sent nothing is reminded: some days before the deadline, on the
//! deadline, and once it is overdue. Each is one event per reporter and period, sent once.

use crate::{Frequency, Period};
use serde::Serialize;
use time::{Date, Duration};

/// How long after the deadline an overdue reminder still goes out: a server that was down
/// catches up on the week it missed, and a template added today does not remind of years.
pub const OVERDUE_WINDOW_DAYS: i64 = 7;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReminderEvent {
    /// The deadline is some days away.
    Before,
    /// The deadline is today.
    Due,
    /// The deadline has passed.
    Overdue,
}

impl ReminderEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderEvent::Before => "before",
            ReminderEvent::Due => "due",
            ReminderEvent::Overdue => "overdue",
        }
    }

    pub fn parse(s: &str) -> Option<ReminderEvent> {
        [
            ReminderEvent::Before,
            ReminderEvent::Due,
            ReminderEvent::Overdue,
        ]
        .into_iter()
        .find(|e| e.as_str() == s)
    }
}

/// The reminder a period's reporters are owed on `today`, if any.
pub fn reminder_on(today: Date, deadline: Date, days_before: u16) -> Option<ReminderEvent> {
    let days_to_go = (deadline - today).whole_days();
    match days_to_go {
        0 => Some(ReminderEvent::Due),
        d if d > 0 && d <= i64::from(days_before) => Some(ReminderEvent::Before),
        d if d < 0 && -d <= OVERDUE_WINDOW_DAYS => Some(ReminderEvent::Overdue),
        _ => None,
    }
}

/// The periods owed a reminder on `today`, from `first` on, each with its event.
pub fn reminders_on(
    today: Date,
    frequency: Frequency,
    deadline_days: u16,
    days_before: u16,
    first: Period,
) -> Vec<(Period, ReminderEvent)> {
    // The earliest period whose deadline may still be in the overdue window.
    let earliest = today - Duration::days(OVERDUE_WINDOW_DAYS + i64::from(deadline_days));
    let mut p = Period::containing(frequency, earliest);
    if p.first < first.first {
        p = first;
    }
    let mut out = Vec::new();
    while p.deadline(deadline_days) <= today + Duration::days(i64::from(days_before)) {
        if let Some(e) = reminder_on(today, p.deadline(deadline_days), days_before) {
            out.push((p, e));
        }
        p = p.next();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_reminder_goes_before_the_deadline_on_it_and_in_the_week_after() {
        let deadline = date!(2026 - 12 - 17);
        let on = |d| reminder_on(d, deadline, 3);
        assert_eq!(on(date!(2026 - 12 - 13)), None, "four days before");
        assert_eq!(on(date!(2026 - 12 - 14)), Some(ReminderEvent::Before));
        assert_eq!(on(date!(2026 - 12 - 16)), Some(ReminderEvent::Before));
        assert_eq!(on(date!(2026 - 12 - 17)), Some(ReminderEvent::Due));
        assert_eq!(on(date!(2026 - 12 - 18)), Some(ReminderEvent::Overdue));
        assert_eq!(on(date!(2026 - 12 - 24)), Some(ReminderEvent::Overdue));
        assert_eq!(on(date!(2026 - 12 - 25)), None, "past the overdue window");
        assert_eq!(
            reminder_on(date!(2026 - 12 - 16), deadline, 0),
            None,
            "no early reminder when none is asked for"
        );
    }

    #[test]
    fn a_daily_template_owes_each_recent_day_its_own_reminder() {
        let today = date!(2026 - 12 - 06);
        let first = Period::containing(Frequency::Day, date!(2026 - 11 - 01));
        let owed = reminders_on(today, Frequency::Day, 1, 1, first);
        let owed: Vec<(String, ReminderEvent)> =
            owed.into_iter().map(|(p, e)| (p.to_string(), e)).collect();
        assert_eq!(owed.first().unwrap().0, "2026-11-28", "seven days overdue");
        assert!(owed.contains(&("2026-12-04".into(), ReminderEvent::Overdue)));
        assert!(owed.contains(&("2026-12-05".into(), ReminderEvent::Due)));
        assert_eq!(
            owed.last().unwrap(),
            &("2026-12-06".to_string(), ReminderEvent::Before)
        );
        assert_eq!(owed.len(), 9);
    }

    #[test]
    fn no_reminder_is_owed_for_a_period_before_the_template_existed() {
        let today = date!(2026 - 12 - 20);
        let first = Period::containing(Frequency::Month, date!(2026 - 12 - 01));
        assert!(reminders_on(today, Frequency::Month, 17, 3, first).is_empty());
        let monthly = reminders_on(
            date!(2026 - 12 - 15),
            Frequency::Month,
            17,
            3,
            Period::containing(Frequency::Month, date!(2026 - 01 - 01)),
        );
        assert_eq!(monthly.len(), 1);
        assert_eq!(monthly[0].0.to_string(), "2026-11");
        assert_eq!(monthly[0].1, ReminderEvent::Before);
    }
}
