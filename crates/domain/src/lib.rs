//! The pure core of Kebao: identifiers, money, the registry of parties, users and roles,
//! the event-log encoding. No IO, no async, no clock and no randomness: time and ids are
//! passed in by the caller.

pub mod advisor;
pub mod attachment;
pub mod catalogue;
pub mod claim;
pub mod consent;
pub mod cover;
pub mod dispute;
pub mod error;
pub mod evaluation;
pub mod event;
pub mod index;
pub mod industry;
pub mod job;
pub mod keys;
pub mod lab;
pub mod ledger;
pub mod loan;
pub mod merkle;
pub mod money;
pub mod org;
pub mod policy;
pub mod privacy;
pub mod product;
pub mod publicity;
pub mod rating;
pub mod rating_fields;
pub mod retention;
pub mod search;
pub mod stats;
pub mod subject;
pub mod subsidy;
pub mod targets;
pub mod time_zone;
pub mod uscc;
pub mod user;

pub use error::{FieldError, Invalid};
pub use event::{EventDraft, EventRecord, Hash32, GENESIS_HASH};
pub use industry::{IndustryCode, IndustryMap, ZoneIndustry};
pub use money::Money;
pub use org::{
    FactsInput, LifecycleStage, NewOrganisation, OrgKind, OrgStatus, Organisation, OrganisationInput,
    Qualification, QualificationKind, YearlyFacts,
};
pub use uscc::Uscc;
pub use user::{Role, User, Username};
