//! The sections of a case and the one rule deciding which of them a caller sees.

use nansen_model::{Principal, Role};

nansen_model::vocabulary! {
    /// A part of a case, seen or not as a whole.
    pub enum Section("a section of a case") {
        /// The members' names, dates of birth, sex, nationality and documents.
        Identity = "identity",
        /// Relationships, languages, family in a receiving state, links to other cases.
        Household = "household",
        /// Stage and its history, assignee, submission category and priority, referrals.
        Process = "process",
        /// Specific needs, coded with UNHCR's vocabulary.
        Needs = "needs",
        Medical = "medical",
        /// Best-interests assessments and determinations of children.
        BestInterests = "best-interests",
        /// Consents by purpose.
        Consent = "consent",
    }
}

impl Section {
    /// Protection sections: seen only by protection officers and the assigned caseworker.
    pub fn is_protection(self) -> bool {
        matches!(
            self,
            Section::Needs | Section::Medical | Section::BestInterests | Section::Consent
        )
    }
}

/// What the rule needs to know of a case.
#[derive(Clone, Debug, Default)]
pub struct CaseFacts {
    /// The organisation the case belongs to.
    pub org: String,
    /// The user the case is assigned to.
    pub assignee: Option<i64>,
    /// Organisations that accepted a referral of the case, with the sections each was sent.
    pub referred_to: Vec<(String, Vec<Section>)>,
}

/// The sections `who` may see of a case, in their order; none means the case does not exist
/// for them (and answers as one that does not).
///
/// - In the case's organisation, caseworkers and admins see identity, household, process and
///   consent; protection officers see everything; the caseworker (or admin) assigned to the
///   case sees everything too. Analysts, viewers and editors see no case.
/// - In an organisation that accepted a referral, caseworkers, admins and protection
///   officers see the sections it was sent, and only those.
/// - The operator at the machine sees everything.
pub fn case_sections(who: &Principal, facts: &CaseFacts) -> Vec<Section> {
    let everything = || Section::ALL.to_vec();
    let everyday = || {
        Section::ALL
            .iter()
            .copied()
            .filter(|s| !s.is_protection() || *s == Section::Consent)
            .collect()
    };
    let (user_id, memberships) = match who {
        Principal::Operator => return everything(),
        Principal::Anonymous => return Vec::new(),
        Principal::User {
            id, memberships, ..
        } => (*id, memberships),
    };
    let works_on_cases = |role: Role| matches!(role, Role::Admin | Role::Caseworker);
    if let Some(m) = memberships.iter().find(|m| m.org == facts.org) {
        return match m.role {
            Role::Protection => everything(),
            r if works_on_cases(r) && facts.assignee == Some(user_id) => everything(),
            r if works_on_cases(r) => everyday(),
            _ => Vec::new(),
        };
    }
    let mut seen: Vec<Section> = Vec::new();
    for (org, sections) in &facts.referred_to {
        let receives = memberships
            .iter()
            .any(|m| &m.org == org && (works_on_cases(m.role) || m.role == Role::Protection));
        if receives {
            seen.extend(sections.iter().copied());
        }
    }
    Section::ALL
        .iter()
        .copied()
        .filter(|s| seen.contains(s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nansen_model::Membership;

    fn user(id: i64, org: &str, role: Role) -> Principal {
        Principal::User {
            id,
            email: format!("{id}@{org}"),
            memberships: vec![Membership {
                org: org.into(),
                role,
                supervisor: false,
            }],
        }
    }

    fn names(s: Vec<Section>) -> Vec<&'static str> {
        s.into_iter().map(Section::as_str).collect()
    }

    #[test]
    fn protection_sections_go_only_to_protection_officers_and_the_assigned_caseworker() {
        let facts = CaseFacts {
            org: "euaa".into(),
            assignee: Some(7),
            referred_to: vec![("iom".into(), vec![Section::Identity, Section::Medical])],
        };
        let everyday = vec!["identity", "household", "process", "consent"];
        let all = Section::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>();
        assert_eq!(
            names(case_sections(&user(1, "euaa", Role::Caseworker), &facts)),
            everyday
        );
        assert_eq!(
            names(case_sections(&user(1, "euaa", Role::Admin), &facts)),
            everyday
        );
        assert_eq!(
            names(case_sections(&user(7, "euaa", Role::Caseworker), &facts)),
            all
        );
        assert_eq!(
            names(case_sections(&user(2, "euaa", Role::Protection), &facts)),
            all
        );
        for role in [Role::Analyst, Role::Viewer, Role::Editor] {
            assert!(case_sections(&user(7, "euaa", role), &facts).is_empty());
        }
        assert_eq!(
            names(case_sections(&user(3, "iom", Role::Caseworker), &facts)),
            vec!["identity", "medical"],
            "a receiving organisation sees what it was sent"
        );
        assert!(case_sections(&user(3, "iom", Role::Analyst), &facts).is_empty());
        assert!(case_sections(&user(3, "bamf", Role::Admin), &facts).is_empty());
        assert!(case_sections(&Principal::Anonymous, &facts).is_empty());
        assert_eq!(names(case_sections(&Principal::Operator, &facts)), all);
    }
}
