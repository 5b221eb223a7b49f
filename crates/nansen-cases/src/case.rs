//! A case as registered: the household's members, their specific needs, consents, links to
//! other cases, and the protection notes. The JSON form is documented in `docs/cases.md`;
//! the API takes it and `nansen case add --file` reads it.

use nansen_codes::CodeLists;
use serde::{Deserialize, Serialize};
pub use time::Date;

/// A date written `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<Date> {
    Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

nansen_model::vocabulary! {
    /// As written on travel documents: `X` where a document says neither.
    pub enum Sex("a member's sex") {
        F = "F",
        M = "M",
        X = "X",
        Unknown = "UNK",
    }
}

impl Sex {
    /// The code the statistics count under (DESIGN section 4's `sex` list).
    pub fn statistics_code(self) -> &'static str {
        match self {
            Sex::F => "F",
            Sex::M => "M",
            Sex::X | Sex::Unknown => "UNK",
        }
    }
}

nansen_model::vocabulary! {
    /// How a member is related to the household's principal applicant.
    pub enum Relationship("a relationship to the principal applicant") {
        Principal = "principal",
        Spouse = "spouse",
        Partner = "partner",
        Child = "child",
        Stepchild = "stepchild",
        Parent = "parent",
        Sibling = "sibling",
        Grandparent = "grandparent",
        Grandchild = "grandchild",
        OtherRelative = "other-relative",
        NonRelative = "non-relative",
    }
}

nansen_model::vocabulary! {
    /// What a consent allows.
    pub enum ConsentPurpose("a consent's purpose") {
        /// Sharing with a named partner, for services.
        Referral = "referral",
        /// Submission to a state.
        Submission = "submission",
        /// Counting in reports.
        Reporting = "reporting",
    }
}

nansen_model::vocabulary! {
    /// Where a referral stands: sent, then accepted or declined by the receiving organisation.
    pub enum ReferralStatus("a referral's status") {
        Pending = "pending",
        Accepted = "accepted",
        Declined = "declined",
    }
}

nansen_model::vocabulary! {
    /// UNHCR's resettlement submission categories (Resettlement Handbook, chapter 6).
    pub enum SubmissionCategory("a submission category") {
        /// Legal and/or physical protection needs.
        Lpn = "LPN",
        /// Survivors of violence and/or torture.
        Svt = "SVT",
        /// Medical needs.
        Med = "MED",
        /// Women and girls at risk.
        Wgr = "WGR",
        /// Family reunification.
        Fam = "FAM",
        /// Children and adolescents at risk.
        Chl = "CHL",
        /// Lack of foreseeable alternative durable solutions.
        Las = "LAS",
    }
}

nansen_model::vocabulary! {
    /// UNHCR's submission priorities.
    pub enum Priority("a priority") {
        Emergency = "emergency",
        Urgent = "urgent",
        Normal = "normal",
    }
}

nansen_model::vocabulary! {
    /// The age bands the statistics count people in (DESIGN section 4's `age` list).
    pub enum AgeBand("an age band") {
        Under14 = "Y_LT14",
        From14To17 = "Y14-17",
        From18To34 = "Y18-34",
        From35To64 = "Y35-64",
        From65 = "Y_GE65",
    }
}

impl AgeBand {
    pub fn of_age(years: i32) -> AgeBand {
        match years {
            ..=13 => AgeBand::Under14,
            14..=17 => AgeBand::From14To17,
            18..=34 => AgeBand::From18To34,
            35..=64 => AgeBand::From35To64,
            _ => AgeBand::From65,
        }
    }
}

/// Whole years from `birth` to `on`.
pub fn age_on(birth: Date, on: Date) -> i32 {
    let mut years = on.year() - birth.year();
    if (on.month() as u8, on.day()) < (birth.month() as u8, birth.day()) {
        years -= 1;
    }
    years
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdDocument {
    /// `passport`, `national-id`, `birth-certificate`, `travel-document`,
    /// `residence-permit` or `other`.
    pub kind: String,
    pub number: String,
}

const DOCUMENT_KINDS: &[&str] = &[
    "passport",
    "national-id",
    "birth-certificate",
    "travel-document",
    "residence-permit",
    "other",
];

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    pub given_name: String,
    pub family_name: String,
    /// `YYYY-MM-DD`; with `birth_date_estimated` when only the year or an age is known.
    pub birth_date: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub birth_date_estimated: bool,
    pub sex: Sex,
    /// A country code (ISO 3166 alpha-3, or any name the country list knows; `XXA` stateless,
    /// `XXX` unknown); stored as its alpha-3 code.
    pub nationality: String,
    /// ISO 639 codes, the languages the member speaks.
    #[serde(default)]
    pub languages: Vec<String>,
    pub relationship: Relationship,
    #[serde(default)]
    pub documents: Vec<IdDocument>,
}

impl Member {
    pub fn birth(&self) -> Option<Date> {
        parse_date(&self.birth_date)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    pub purpose: ConsentPurpose,
    /// The organisation (for a referral) or the state (for a submission) it names; reporting
    /// consents name none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<String>,
}

/// Family in a receiving state, which matching and submissions weigh.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FamilyAbroad {
    pub state: String,
    pub relationship: Relationship,
}

/// Another case of the same programme this household must travel with.
pub type Link = String;

/// A household's registration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    pub members: Vec<Member>,
    /// Specific-needs codes (`GET /vocabularies/specific-needs`).
    #[serde(default)]
    pub needs: Vec<String>,
    #[serde(default)]
    pub consents: Vec<Consent>,
    /// Ids of cases of the same programme that must travel with this one.
    #[serde(default)]
    pub links: Vec<Link>,
    #[serde(default)]
    pub family_abroad: Vec<FamilyAbroad>,
    /// The receiving states the household would go to, first choice first (country codes
    /// or names), when it stated them: matching weighs them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preferred_states: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submission_category: Option<SubmissionCategory>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// What the medical section holds: the clinical picture, in the caseworker's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medical: Option<String>,
    /// Best-interests assessments and determinations of the household's children.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_interests: Option<String>,
}

/// What is wrong with a case, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct CaseProblem {
    /// As `members[1].birth_date`.
    pub field: String,
    pub reason: String,
}

fn problem(field: impl Into<String>, reason: impl Into<String>) -> CaseProblem {
    CaseProblem {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Longest text a field takes: a name, a note.
const MAX_NAME: usize = 200;
const MAX_NOTE: usize = 20_000;

impl CaseFile {
    /// Reads a case's JSON; a malformed one is a problem naming the field where reading stopped.
    pub fn from_json(text: &str) -> Result<CaseFile, CaseProblem> {
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." || path == "?" {
                "case".into()
            } else {
                path
            };
            problem(field, e.into_inner().to_string())
        })
    }

    /// Every problem of the case, checked against the code lists and `today`; canonical
    /// country codes replace the names written. Links are checked by the caller, who knows
    /// the programme's cases.
    pub fn check(&mut self, today: Date) -> Result<(), Vec<CaseProblem>> {
        let codes = CodeLists::get();
        let country = |s: &str| {
            codes
                .country(s)
                .filter(|c| !codes.is_aggregate(c))
                .map(str::to_string)
        };
        let mut out = Vec::new();
        if self.members.is_empty() {
            out.push(problem("members", "a case has at least one member"));
        }
        if self.members.len() > 100 {
            out.push(problem("members", "a case has at most 100 members"));
        }
        let principals = self
            .members
            .iter()
            .filter(|m| m.relationship == Relationship::Principal)
            .count();
        if !self.members.is_empty() && principals != 1 {
            out.push(problem(
                "members",
                format!("one member is the principal applicant (relationship \"principal\"), not {principals}"),
            ));
        }
        for (i, m) in self.members.iter_mut().enumerate() {
            let at = |f: &str| format!("members[{i}].{f}");
            for (f, v) in [
                ("given_name", &m.given_name),
                ("family_name", &m.family_name),
            ] {
                if v.chars().count() > MAX_NAME {
                    out.push(problem(at(f), format!("at most {MAX_NAME} characters")));
                }
            }
            if m.given_name.trim().is_empty() && m.family_name.trim().is_empty() {
                out.push(problem(at("given_name"), "a member has a name"));
            }
            match m.birth() {
                None => out.push(problem(
                    at("birth_date"),
                    format!("{:?} is not a date written YYYY-MM-DD", m.birth_date),
                )),
                Some(d) if d > today => out.push(problem(
                    at("birth_date"),
                    format!("{} is in the future", m.birth_date),
                )),
                Some(d) if age_on(d, today) > 130 => out.push(problem(
                    at("birth_date"),
                    format!("{} is more than 130 years ago", m.birth_date),
                )),
                Some(_) => {}
            }
            match country(&m.nationality) {
                Some(c) => m.nationality = c,
                None => out.push(problem(
                    at("nationality"),
                    format!("{:?} is not a country in the code list", m.nationality),
                )),
            }
            for (j, l) in m.languages.iter().enumerate() {
                let ok = (2..=3).contains(&l.len()) && l.chars().all(|c| c.is_ascii_lowercase());
                if !ok {
                    out.push(problem(
                        at(&format!("languages[{j}]")),
                        format!("{l:?} is not an ISO 639 language code (two or three lower-case letters)"),
                    ));
                }
            }
            for (j, d) in m.documents.iter().enumerate() {
                if !DOCUMENT_KINDS.contains(&d.kind.as_str()) {
                    out.push(problem(
                        at(&format!("documents[{j}].kind")),
                        nansen_model::vocabulary::refusal(
                            "a document's kind",
                            DOCUMENT_KINDS,
                            &d.kind,
                        ),
                    ));
                }
                if d.number.trim().is_empty() || d.number.len() > 64 {
                    out.push(problem(
                        at(&format!("documents[{j}].number")),
                        "a document number has 1 to 64 characters",
                    ));
                }
            }
        }
        for (i, code) in self.needs.iter().enumerate() {
            if crate::NEEDS.get(code).is_none() {
                out.push(problem(
                    format!("needs[{i}]"),
                    format!("{code:?} is not in UNHCR's specific-needs vocabulary"),
                ));
            }
        }
        for (i, c) in self.consents.iter().enumerate() {
            let needs_partner = c.purpose != ConsentPurpose::Reporting;
            if needs_partner && c.partner.as_deref().is_none_or(|p| p.trim().is_empty()) {
                out.push(problem(
                    format!("consents[{i}].partner"),
                    format!("a {} consent names the partner it allows", c.purpose),
                ));
            }
        }
        for (i, p) in self.preferred_states.iter_mut().enumerate() {
            match country(p) {
                Some(c) => *p = c,
                None => out.push(problem(
                    format!("preferred_states[{i}]"),
                    format!("{p:?} is not a country in the code list"),
                )),
            }
        }
        for (i, f) in self.family_abroad.iter_mut().enumerate() {
            match country(&f.state) {
                Some(c) => f.state = c,
                None => out.push(problem(
                    format!("family_abroad[{i}].state"),
                    format!("{:?} is not a country in the code list", f.state),
                )),
            }
        }
        for (f, v) in [
            ("medical", &self.medical),
            ("best_interests", &self.best_interests),
        ] {
            if v.as_ref().is_some_and(|t| t.chars().count() > MAX_NOTE) {
                out.push(problem(f, format!("at most {MAX_NOTE} characters")));
            }
        }
        if out.is_empty() {
            Ok(())
        } else {
            Err(out)
        }
    }

    pub fn persons(&self) -> usize {
        self.members.len()
    }

    /// The household includes a child registered as unaccompanied.
    pub fn unaccompanied_child(&self) -> bool {
        self.needs
            .iter()
            .any(|n| n == crate::needs::UNACCOMPANIED_CHILD)
    }

    /// The household has a serious medical condition.
    pub fn medical_case(&self) -> bool {
        self.needs.iter().any(|n| crate::needs::is_medical(n))
    }

    /// The categories of its specific needs, each once.
    pub fn need_categories(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for code in &self.needs {
            if let Some(n) = crate::NEEDS.get(code) {
                if !out.contains(&n.category) {
                    out.push(n.category.clone());
                }
            }
        }
        out
    }

    pub fn consents_to(&self, purpose: ConsentPurpose, partner: &str) -> bool {
        self.consents
            .iter()
            .any(|c| c.purpose == purpose && c.partner.as_deref() == Some(partner))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        time::macros::date!(2026 - 12 - 06)
    }

    const GOOD: &str = r#"{"members": [
        {"given_name": "Amina", "family_name": "Haddad", "birth_date": "1990-04-02", "sex": "F", "nationality": "Syria", "languages": ["ar"], "relationship": "principal"},
        {"given_name": "Omar", "family_name": "Haddad", "birth_date": "2015-01-20", "sex": "M", "nationality": "SYR", "relationship": "child"}
    ], "needs": ["SM-CI"], "consents": [{"purpose": "referral", "partner": "iom"}]}"#;

    #[test]
    fn a_good_case_reads_with_canonical_codes_and_its_figures() {
        let mut c = CaseFile::from_json(GOOD).unwrap();
        c.check(today()).unwrap();
        assert_eq!(c.members[0].nationality, "SYR");
        assert_eq!(c.persons(), 2);
        assert!(c.medical_case() && !c.unaccompanied_child());
        assert_eq!(c.need_categories(), vec!["Serious medical condition"]);
        assert!(c.consents_to(ConsentPurpose::Referral, "iom"));
        assert!(!c.consents_to(ConsentPurpose::Referral, "unhcr"));
        let child = c.members[1].birth().unwrap();
        assert_eq!(AgeBand::of_age(age_on(child, today())), AgeBand::Under14);
    }

    #[test]
    fn each_fault_of_a_case_is_named_by_its_field_and_reason() {
        let bad = CaseFile::from_json(r#"{"members": [{"given_name": "A", "family_name": "B", "birth_date": "1990-01-01", "sex": "Q", "nationality": "SYR", "relationship": "principal"}]}"#)
            .unwrap_err();
        assert_eq!(bad.field, "members[0].sex");
        assert!(bad.reason.contains("F, M, X or UNK"), "{bad}");
        assert_eq!(
            CaseFile::from_json(r#"{"members": [], "nickname": 1}"#)
                .unwrap_err()
                .field,
            "nickname"
        );
        assert_eq!(CaseFile::from_json("{").unwrap_err().field, "case");
        let mut c = CaseFile::from_json(GOOD).unwrap();
        c.members[1].birth_date = "2031-05-01".into();
        c.members[1].nationality = "Atlantis".into();
        c.members[1].relationship = Relationship::Principal;
        c.needs.push("ZZ-ZZ".into());
        c.consents.push(Consent {
            purpose: ConsentPurpose::Submission,
            partner: None,
        });
        let problems: Vec<String> = c
            .check(today())
            .unwrap_err()
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(
            problems,
            vec![
                "members: one member is the principal applicant (relationship \"principal\"), not 2",
                "members[1].birth_date: 2031-05-01 is in the future",
                "members[1].nationality: \"Atlantis\" is not a country in the code list",
                "needs[1]: \"ZZ-ZZ\" is not in UNHCR's specific-needs vocabulary",
                "consents[1].partner: a submission consent names the partner it allows",
            ]
        );
    }
}
