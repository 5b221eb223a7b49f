//! Who may see and change what. Every handler asks here, through the application layer;
//! none decides for itself.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

crate::vocabulary! {
    /// What a member may do in their organisation. The first four are about data and
    /// documents, from the least to the most; `caseworker` and `protection` work on cases
    /// (a supervisor is a caseworker, or an admin, whose membership says they may approve).
    /// Ordered only so that `Access` orders; compare roles through their methods.
    #[derive(PartialOrd, Ord)]
    pub enum Role("a role") {
        Viewer = "viewer",
        Analyst = "analyst",
        Editor = "editor",
        Admin = "admin",
        /// Registers and moves the organisation's cases; sees their protection sections
        /// only when assigned.
        Caseworker = "caseworker",
        /// A protection officer: sees every section of the organisation's cases.
        Protection = "protection",
    }
}

impl Role {
    /// May import versions of the organisation's datasets and change their metadata.
    pub fn edits_data(self) -> bool {
        matches!(self, Role::Editor | Role::Admin)
    }
}

crate::vocabulary! {
    /// Where a request for access stands: asked, then approved or refused; an approval can
    /// later be revoked.
    pub enum RequestStatus("a request") {
        Pending = "pending",
        Approved = "approved",
        Refused = "refused",
        Revoked = "revoked",
    }
}

/// The four sharing levels of a dataset.
/// A new dataset or document is private until its owner says otherwise.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Sharing {
    /// The owner organisation only; to everyone else it does not exist.
    #[default]
    Private,
    /// Metadata to every signed-in user; data to organisations whose access request was approved.
    Listed,
    /// Data to the named partner organisations (slugs).
    Partners(Vec<String>),
    /// Everyone, signed in or not.
    Public,
}

impl FromStr for Sharing {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "private" => Ok(Sharing::Private),
            "listed" => Ok(Sharing::Listed),
            "public" => Ok(Sharing::Public),
            _ => match s.strip_prefix("partners:") {
                Some(list) => {
                    let orgs: Vec<String> =
                        list.split(',').map(|o| o.trim().to_string()).filter(|o| !o.is_empty()).collect();
                    if orgs.is_empty() {
                        Err("partners: needs at least one organisation slug, as partners:iom,euaa".into())
                    } else {
                        Ok(Sharing::Partners(orgs))
                    }
                }
                None => Err(format!("unknown sharing level {s:?}: choose private, listed, public or partners:SLUG[,SLUG]")),
            },
        }
    }
}

// Written as the CLI and the API spell it: `private`, `listed`, `public`, `partners:A,B`.
crate::serde_as_text!(Sharing);

impl fmt::Display for Sharing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sharing::Private => f.write_str("private"),
            Sharing::Listed => f.write_str("listed"),
            Sharing::Public => f.write_str("public"),
            Sharing::Partners(orgs) => write!(f, "partners:{}", orgs.join(",")),
        }
    }
}

/// One organisation a user belongs to, with the role held there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Membership {
    pub org: String,
    pub role: Role,
    /// May approve the stages and consent overrides that need a supervisor.
    pub supervisor: bool,
}

/// Who is asking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// The person at the machine's CLI without `--as`: sees and may do everything.
    Operator,
    User {
        id: i64,
        email: String,
        memberships: Vec<Membership>,
    },
    Anonymous,
}

impl Principal {
    pub fn role_in(&self, org: &str) -> Option<Role> {
        match self {
            Principal::Operator => Some(Role::Admin),
            Principal::User { memberships, .. } => {
                memberships.iter().find(|m| m.org == org).map(|m| m.role)
            }
            Principal::Anonymous => None,
        }
    }

    pub fn orgs(&self) -> Vec<&str> {
        match self {
            Principal::User { memberships, .. } => {
                memberships.iter().map(|m| m.org.as_str()).collect()
            }
            _ => Vec::new(),
        }
    }

    pub fn label(&self) -> String {
        match self {
            Principal::Operator => "operator".into(),
            Principal::User { email, .. } => email.clone(),
            Principal::Anonymous => "anonymous".into(),
        }
    }
}

/// What a principal may do with one dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// Not even that it exists.
    None,
    /// Its metadata, and the right to ask for access (a `listed` dataset).
    Metadata,
    /// Its data, disclosure-controlled when the dataset is sensitive.
    Data,
    /// A member of the owner organisation: everything, unsuppressed.
    Owner(Role),
}

impl Access {
    pub fn sees_data(self) -> bool {
        matches!(self, Access::Data | Access::Owner(_))
    }
    pub fn may_import(self) -> bool {
        matches!(self, Access::Owner(role) if role.edits_data())
    }
    pub fn is_owner_admin(self) -> bool {
        self == Access::Owner(Role::Admin)
    }
}

/// The one rule for datasets: owner, sharing level, and the organisations whose access
/// request the owner approved.
pub fn dataset_access(
    who: &Principal,
    owner: &str,
    sharing: &Sharing,
    approved: &[String],
) -> Access {
    if let Some(role) = who.role_in(owner) {
        return Access::Owner(role);
    }
    let orgs = who.orgs();
    let granted = |list: &[String]| list.iter().any(|o| orgs.contains(&o.as_str()));
    match (sharing, who) {
        (Sharing::Public, _) => Access::Data,
        (_, Principal::Anonymous) => Access::None,
        // An approval answers a request made of a listed dataset, and holds while it stays
        // listed: a change to partners or private ends it (until it is listed again).
        (Sharing::Partners(list), _) if granted(list) => Access::Data,
        (Sharing::Listed, _) if granted(approved) => Access::Data,
        (Sharing::Listed, _) => Access::Metadata,
        _ => Access::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(org: &str, role: Role) -> Principal {
        Principal::User {
            id: 1,
            email: "a@b".into(),
            memberships: vec![Membership {
                org: org.into(),
                role,
                supervisor: false,
            }],
        }
    }

    #[test]
    fn each_sharing_level_grants_exactly_what_it_says() {
        let iom = member("iom", Role::Viewer);
        let euaa_editor = member("euaa", Role::Editor);
        let partners = Sharing::Partners(vec!["iom".into()]);
        assert_eq!(
            dataset_access(&euaa_editor, "euaa", &Sharing::Private, &[]),
            Access::Owner(Role::Editor)
        );
        assert_eq!(
            dataset_access(&iom, "euaa", &Sharing::Private, &[]),
            Access::None
        );
        assert_eq!(
            dataset_access(&iom, "euaa", &Sharing::Listed, &[]),
            Access::Metadata
        );
        assert_eq!(
            dataset_access(&iom, "euaa", &Sharing::Listed, &["iom".into()]),
            Access::Data
        );
        assert_eq!(dataset_access(&iom, "euaa", &partners, &[]), Access::Data);
        let bamf = member("bamf", Role::Viewer);
        assert_eq!(
            dataset_access(&bamf, "euaa", &partners, &["bamf".into()]),
            Access::None,
            "an approval given while listed ends with partner sharing"
        );
        assert_eq!(
            dataset_access(&member("bmi", Role::Admin), "euaa", &partners, &[]),
            Access::None
        );
        assert_eq!(
            dataset_access(&Principal::Anonymous, "euaa", &Sharing::Listed, &[]),
            Access::None
        );
        assert_eq!(
            dataset_access(&Principal::Anonymous, "euaa", &Sharing::Public, &[]),
            Access::Data
        );
        assert!(!dataset_access(
            &member("euaa", Role::Analyst),
            "euaa",
            &Sharing::Private,
            &[]
        )
        .may_import());
    }

    #[test]
    fn sharing_levels_read_back_as_written() {
        for s in ["private", "listed", "public", "partners:iom,bamf"] {
            assert_eq!(s.parse::<Sharing>().unwrap().to_string(), s);
        }
        assert!("partners:".parse::<Sharing>().is_err());
        assert!("secret".parse::<Sharing>().is_err());
    }
}
