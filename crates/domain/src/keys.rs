//! Every internal key a page must never show as such: the codes of the domain's enums, the
//! catalogue's product-type ids and the standard rating band keys. The role walks check
//! pages against this list; a tidy check keeps it complete (every `string_enum!` is here).

use crate::{attachment, catalogue, claim, consent, dispute, ledger, org, policy, product, publicity};
use crate::{rating, subsidy, user};

macro_rules! codes {
    ($($t:path),+ $(,)?) => {{
        let mut v: Vec<&'static str> = Vec::new();
        $( v.extend(<$t>::ALL.iter().map(|x| x.code())); )+
        v
    }};
}

/// The codes of every enum in the domain (from their `ALL`).
pub fn enum_codes() -> Vec<&'static str> {
    let mut v = codes!(
        attachment::OwnerKind,
        catalogue::Confidence,
        catalogue::ProductLine,
        catalogue::NfraClass,
        claim::ClaimStatus,
        claim::ClaimOutcome,
        claim::ClaimStep,
        consent::DataScope,
        consent::Purpose,
        consent::DataClass,
        consent::ConsentKind,
        consent::PersonRole,
        consent::ConsentState,
        dispute::DisputeStatus,
        dispute::DisputeStep,
        dispute::Forum,
        ledger::PendingState,
        ledger::TransferResult,
        org::OrgKind,
        org::OrgStatus,
        org::LifecycleStage,
        org::QualificationKind,
        policy::ApplicationStatus,
        policy::PolicyStatus,
        policy::ApplicationStep,
        policy::PolicyStep,
        policy::EndorsementKind,
        product::FilingStatus,
        product::PremiumBasis,
        product::Transition,
        publicity::ArticleKind,
        rating::RatingVariable,
        rating::RateBasis,
        subsidy::PremiumBasis,
        subsidy::ProgrammeKind,
        subsidy::SubsidyStatus,
        subsidy::Track,
        subsidy::Stage,
        subsidy::SubsidyStep,
        subsidy::VersionDate,
        subsidy::CapYear,
        subsidy::RateCapAction,
        user::Role,
    );
    v.sort_unstable();
    v.dedup();
    v
}

/// The standard keys of rating bands (revenue size), with their labels.
pub const BAND_LABELS: &[(&str, &str, &str)] = &[
    ("micro", "微型", "micro"),
    ("small", "小型", "small"),
    ("medium", "中型", "medium"),
    ("large", "大型", "large"),
];

/// A band key's label, or the key itself when the insurer named its own band.
pub fn band_label(key: &str) -> (&str, &str) {
    BAND_LABELS.iter().find(|(k, _, _)| *k == key).map_or((key, key), |(_, zh, en)| (*zh, *en))
}

/// Every key a page must not show raw: enum codes, product-type ids of `cat`, band keys.
pub fn all_keys(cat: &catalogue::Catalogue) -> Vec<String> {
    let mut v: Vec<String> = enum_codes().into_iter().map(str::to_owned).collect();
    v.extend(cat.types().iter().map(|t| t.id.clone()));
    v.extend(BAND_LABELS.iter().map(|(k, _, _)| (*k).to_owned()));
    v.sort_unstable();
    v.dedup();
    v
}
