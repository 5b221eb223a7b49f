//! The closed lists of words Nansen stores and shows: each a Rust enum written, read and
//! serialised as the one spelling the store, the API and the CLI share. An unknown word is
//! an error that lists the known ones, never a default.

/// Defines such a list: `vocabulary! { /// doc  pub enum Name("what it is") { Variant = "word", ... } }`
/// gives the enum with `ALL`, `as_str`, `Display`, `FromStr`, `Serialize` and `Deserialize`.
#[macro_export]
macro_rules! vocabulary {
    ($(#[$meta:meta])* pub enum $name:ident($what:literal) {
        $($(#[$vmeta:meta])* $variant:ident = $word:literal),+ $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| {
                        let words: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                        $crate::vocabulary::refusal($what, &words, s)
                    })
            }
        }

        $crate::serde_as_text!($name);
    };
}

/// Serialises a type as its `Display` text and reads it back through its `FromStr`, whose
/// refusal becomes the deserialiser's error.
#[macro_export]
macro_rules! serde_as_text {
    ($t:ty) => {
        impl ::serde::Serialize for $t {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $t {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<$t, D::Error> {
                let text = <String as ::serde::Deserialize>::deserialize(d)?;
                text.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}

/// "a request is pending, approved, refused or revoked, not \"maybe\"".
#[doc(hidden)]
pub fn refusal(what: &str, words: &[&str], got: &str) -> String {
    let list = match words {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    };
    format!("{what} is {list}, not {got:?}")
}

vocabulary! {
    /// What a caller may do with a dataset, as the dataset's view tells them.
    pub enum DatasetReach("a caller's access to a dataset") {
        /// A member of the owner organisation: everything.
        Owner = "owner",
        /// Its data (disclosure-controlled when it is sensitive).
        Data = "data",
        /// Its description, and the right to ask for access.
        Metadata = "metadata",
    }
}

impl From<crate::Access> for DatasetReach {
    fn from(a: crate::Access) -> DatasetReach {
        match a {
            crate::Access::Owner(_) => DatasetReach::Owner,
            crate::Access::Data => DatasetReach::Data,
            crate::Access::Metadata | crate::Access::None => DatasetReach::Metadata,
        }
    }
}

vocabulary! {
    /// What a caller may do with a document, as the document's view tells them.
    pub enum DocumentReach("a caller's access to a document") {
        Owner = "owner",
        /// Read its text and download its file.
        Text = "text",
        Metadata = "metadata",
    }
}

impl From<crate::Access> for DocumentReach {
    fn from(a: crate::Access) -> DocumentReach {
        match a {
            crate::Access::Owner(_) => DocumentReach::Owner,
            crate::Access::Data => DocumentReach::Text,
            crate::Access::Metadata | crate::Access::None => DocumentReach::Metadata,
        }
    }
}

vocabulary! {
    /// How a dataset version relates to the one before: it replaced its observations, added
    /// to them, or, its dimensions being new, stands alone as a base.
    pub enum VersionMode("a version's mode") {
        Replace = "replace",
        Append = "append",
        Base = "base",
    }
}

vocabulary! {
    /// Where one webhook delivery stands.
    pub enum DeliveryStatus("a delivery") {
        Pending = "pending",
        Delivered = "delivered",
        Failed = "failed",
    }
}

vocabulary! {
    /// The kinds of document.
    pub enum DocumentType("a document's type") {
        Report = "report",
        Methodology = "methodology",
        /// Country-of-origin information.
        Coi = "coi",
        Minutes = "minutes",
        Training = "training",
        Agreement = "agreement",
        Guidance = "guidance",
        Other = "other",
    }
}

impl DocumentType {
    /// As people read it.
    pub fn label(self) -> &'static str {
        match self {
            DocumentType::Report => "Report",
            DocumentType::Methodology => "Methodology",
            DocumentType::Coi => "Country-of-origin information",
            DocumentType::Minutes => "Meeting minutes",
            DocumentType::Training => "Training material",
            DocumentType::Agreement => "Agreement",
            DocumentType::Guidance => "Guidance",
            DocumentType::Other => "Other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_word_reads_back_as_itself_and_an_unknown_one_is_refused_with_the_list() {
        for m in VersionMode::ALL {
            assert_eq!(m.as_str().parse::<VersionMode>(), Ok(*m));
        }
        assert_eq!(
            "merge".parse::<VersionMode>().unwrap_err(),
            "a version's mode is replace, append or base, not \"merge\""
        );
        assert_eq!(DeliveryStatus::Delivered.to_string(), "delivered");
        assert_eq!(DocumentType::ALL.len(), 8);
    }
}
