//! What a person can do about a refusal, named without the words of any one door: the CLI
//! words it as a flag, the web as a field of its form, the API as a code and a parameter.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Remedy {
    /// Say which indicator of the vocabulary the file counts.
    NameIndicator,
    /// Describe the file's columns in a mapping file.
    DescribeColumns,
    /// Map an unknown code to a known one for this import, or keep it as it is.
    MapOrAcceptCode,
    /// Group the answer by period.
    GroupByPeriod,
    /// Name the population dataset a rate per inhabitant divides by.
    NamePopulation,
    /// Choose the one frequency the series are added up to.
    ChooseFrequency,
    /// Act as a person: what a person sets up, an operator's own account may not.
    ActAsPerson,
    /// Replace the dataset's content instead of adding to it.
    ReplaceContent,
}

impl Remedy {
    /// The stable code the API and JSON errors carry.
    pub fn code(self) -> &'static str {
        match self {
            Remedy::NameIndicator => "name_indicator",
            Remedy::DescribeColumns => "describe_columns",
            Remedy::MapOrAcceptCode => "map_or_accept_code",
            Remedy::GroupByPeriod => "group_by_period",
            Remedy::NamePopulation => "name_population",
            Remedy::ChooseFrequency => "choose_frequency",
            Remedy::ActAsPerson => "act_as_person",
            Remedy::ReplaceContent => "replace_content",
        }
    }
}
