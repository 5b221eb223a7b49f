//! Data gathering (issue 17): what a regular collection asks for and when. A [`Template`]
//! names its dimensions (each a code list), its indicators, the rules a reported row must
//! keep, its [`Frequency`] and how many days after a period's end its returns are due;
//! [`Period`]s are the reporting periods; [`Rule`]s are checked on each row; [`timeliness`]
//! says whether a reporter reported a period on time; [`write_workbook`] makes the period's
//! workbook and [`read_workbook`] reads one back.

pub mod period;
pub mod reminders;
pub mod returns;
pub mod rule;
pub mod sdmx;
pub mod template;
pub mod timeliness;
pub mod workbook;
pub mod xlsform;

pub use period::{Frequency, Period, PeriodError};
pub use reminders::{reminder_on, reminders_on, ReminderEvent};
pub use returns::{
    is_sdmx_csv, read_csv, read_rows, read_sdmx_csv, Cell, Problem, Rows, SdmxExpect,
};
pub use rule::{Rule, RuleError};
pub use template::{Codes, Dimension, Point, Template, TemplateError, POINTS};
pub use timeliness::{timeliness, Review, Timeliness, TimelinessStatus};
pub use workbook::{read_workbook, write_workbook, Heading, Labels};
