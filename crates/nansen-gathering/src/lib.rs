//! Data gathering (issue 17): what a regular collection asks for and when. A [`Template`]
//! names its dimensions (each a code list), its indicators, the rules a reported row must
//! keep, its [`Frequency`] and how many days after a period's end its returns are due;
//! [`Period`]s are the reporting periods; [`Rule`]s are checked on each row; [`timeliness`]
//! says whether a reporter reported a period on time.

pub mod period;
pub mod returns;
pub mod rule;
pub mod template;
pub mod timeliness;

pub use period::{Frequency, Period, PeriodError};
pub use returns::{read_csv, Cell, Problem};
pub use rule::{Rule, RuleError};
pub use template::{Codes, Dimension, Template, TemplateError};
pub use timeliness::{timeliness, Review, Timeliness, TimelinessStatus};
