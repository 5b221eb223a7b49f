//! The operations the agencies run together: resettlement, humanitarian admission,
//! relocation, assisted voluntary return and family reunification. A programme has a
//! workflow of stages; states pledge places in it; a case is a household moving through the
//! stages. This crate holds what those are and the rules about them (DESIGN section 3's
//! operations): which moves a workflow allows, what a valid case is, which sections of a case
//! a caller may see, and how names written in different transliterations are compared.

pub mod case;
pub mod import;
pub mod names;
pub mod needs;
pub mod sections;
pub mod workflow;

pub use case::{
    AgeBand, CaseFile, CaseProblem, Consent, ConsentPurpose, FamilyAbroad, Link, Member, Priority,
    ReferralStatus, Relationship, Sex, SubmissionCategory,
};
pub use needs::{Need, NEEDS};
pub use sections::{case_sections, CaseFacts, Section};
pub use workflow::{Move, MoveError, ProgrammeKind, Stage, Workflow};
