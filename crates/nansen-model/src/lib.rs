//! The observation model (DESIGN section 4): cubes of observations, datasets and their
//! versions, sharing levels, roles and the one rule deciding who may see what.
//! Knows nothing of HTTP, SQL or HTML.

pub mod access;
pub mod aggregates;
pub mod analysis;
pub mod cube;
pub mod disclosure;
pub mod name;
pub mod query;
pub mod remedy;
pub mod timestamp;
pub mod vocabulary;

pub use access::{dataset_access, Access, Membership, Principal, RequestStatus, Role, Sharing};
pub use cube::{canonical_order, Cube, Diff};
pub use name::{DatasetName, ProgrammeName};
pub use query::{run as run_query, Counted, Provenance, Query, QueryError, Row, Table};
pub use remedy::Remedy;
pub use timestamp::Timestamp;
pub use vocabulary::{DatasetReach, DeliveryStatus, DocumentReach, DocumentType, VersionMode};
