//! The showcase: what the named demo users find when they first sign in (a policy in
//! mediation, subsidy applications in every state, consents with a refused query …), as
//! scenario data in `data/sim/showcase.toml`. Each step is one thing a person does, named by
//! the demo user who does it; the binary runs it through the service like any other command.
//! Steps refer to what earlier steps made by the labels those saved (`save = "…"`).

use serde::Deserialize;

/// The shipped showcase.
pub const SHOWCASE: &str = include_str!("../../../data/sim/showcase.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Showcase {
    pub step: Vec<Step>,
}

impl Showcase {
    pub fn parse(text: &str) -> Result<Showcase, String> {
        let s: Showcase = toml::from_str(text).map_err(|e| format!("showcase: {e}"))?;
        s.check()?;
        Ok(s)
    }

    /// Every label a step uses was saved by an earlier step, and no label is saved twice.
    fn check(&self) -> Result<(), String> {
        let mut saved: Vec<&str> = Vec::new();
        for (i, st) in self.step.iter().enumerate() {
            for used in st.uses() {
                if !saved.contains(&used) {
                    return Err(format!("showcase step {}: `{used}` is not saved by an earlier step", i + 1));
                }
            }
            if let Some(s) = st.saves() {
                if saved.contains(&s) {
                    return Err(format!("showcase step {}: `{s}` is saved twice", i + 1));
                }
                saved.push(s);
            }
        }
        Ok(())
    }
}

/// An external credit record imported for the demo enterprise.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub kind: String,
    pub title: String,
    pub detail: String,
    pub on: String,
    #[serde(default)]
    pub person: String,
    /// The day the event ended (a negative record: deleted five years after it).
    #[serde(default)]
    pub ended: String,
}

/// What a policy insures and for whom (all optional).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectData {
    /// `equipment` or `material`, with its model or grade and the catalogue that lists it.
    pub object_kind: Option<String>,
    #[serde(default)]
    pub identifier: String,
    pub catalogue: Option<String>,
    pub beneficiary: Option<String>,
}

/// One step. `by` names the demo user who takes it; dates are days from the showcase's clock.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// The clock moves on.
    Advance {
        days: u32,
    },
    /// The clock moves to `days_before` days before the real time (the showcase's last days).
    AdvanceToNow {
        days_before: u32,
    },
    /// The user's enterprise answers the risk advisor's questionnaire (question id → answer as
    /// typed) and keeps the products named (product name, exposure id) on its shortlist.
    AdvisorAnswers {
        by: String,
        answers: std::collections::BTreeMap<String, String>,
        #[serde(default)]
        shortlist: Vec<(String, String)>,
    },
    /// The zone names a registered insurance intermediary (by name) as the advisor's broker,
    /// its licence valid from `from_days` to `to_days` around today.
    NameBroker {
        by: String,
        broker: String,
        licence_no: String,
        from_days: i64,
        to_days: i64,
    },
    /// The user's enterprise records a qualification.
    Qualification {
        by: String,
        kind: String,
        from_days: i64,
        to_days: i64,
        certificate: String,
    },
    /// A credit source delivers records about `of`'s enterprise.
    CreditRecords {
        source: String,
        of: String,
        records: Vec<Record>,
    },
    /// The enterprise authorises `grantee`'s organisation to query its credit information.
    Consent {
        by: String,
        grantee: String,
        kind: String,
        #[serde(default)]
        scopes: Vec<String>,
        purpose: String,
        days: i64,
        signer: String,
        signer_title: String,
        #[serde(default)]
        person: String,
        #[serde(default)]
        person_role: String,
        file: String,
        evidence: String,
        save: Option<String>,
    },
    RevokeConsent {
        by: String,
        consent: String,
    },
    /// A query of `of`'s credit information; `refused` when the platform must refuse it.
    CreditQuery {
        by: String,
        of: String,
        purpose: String,
        #[serde(default)]
        refused: bool,
    },
    /// The insurer files a product with an illustrative rating plan, the zone reviews it and
    /// the insurer publishes it.
    Product {
        by: String,
        reviewer: String,
        type_id: String,
        name: String,
        summary: String,
        limit_yuan: i64,
        term_months: u32,
        rate_text: String,
        contact_name: String,
        contact_phone: String,
        plan_from: String,
        save: String,
    },
    UnderwriterAuthority {
        by: String,
        user: String,
        limit_yuan: i64,
    },
    /// Where the insurer's policyholders pay (the account holder is the insurer).
    CollectionAccount {
        by: String,
        bank: String,
        account_no: String,
    },
    /// The first product on the portal with a rating plan that `for_user`'s enterprise is
    /// eligible for, of `insurer_of`'s insurer.
    PickProduct {
        for_user: String,
        insurer_of: String,
        save: String,
    },
    /// The enterprise applies; `bound` says whether the insurer's rules bind it at once (the
    /// policy is saved) or refer it to an underwriter (the application is).
    Apply {
        by: String,
        product: String,
        limit_yuan: i64,
        revenue_yuan: i64,
        start_days: i64,
        #[serde(default)]
        subject: SubjectData,
        bound: bool,
        save: Option<String>,
    },
    /// The insurer records premium received: `percent` of the premium, with the bank
    /// reference (`{number}` stands for the policy's number).
    PayPremium {
        by: String,
        policy: String,
        #[serde(default = "hundred")]
        percent: i64,
        reference: String,
    },
    Endorse {
        by: String,
        policy: String,
        limit_yuan: i64,
        revenue_yuan: i64,
        from_days: i64,
        reason: String,
    },
    /// Another insurer (the first not of `by`'s group) takes `share_bp` of the policy.
    Coinsure {
        by: String,
        policy: String,
        share_bp: u32,
    },
    ReportClaim {
        by: String,
        policy: String,
        occurred_days: i64,
        description: String,
        amount_yuan: i64,
        save: String,
    },
    ClaimDocument {
        by: String,
        claim: String,
        file: String,
        text: String,
    },
    AssignClaim {
        by: String,
        claim: String,
    },
    ClaimReserve {
        by: String,
        claim: String,
        amount_yuan: i64,
    },
    DecideClaim {
        by: String,
        claim: String,
        outcome: String,
        amount_yuan: i64,
        reason: String,
    },
    PayClaim {
        by: String,
        claim: String,
        amount_yuan: i64,
        reference: String,
    },
    Complain {
        by: String,
        claim: String,
        text: String,
        save: String,
    },
    TakeDispute {
        by: String,
        dispute: String,
    },
    MediationSession {
        by: String,
        dispute: String,
        on_days: i64,
        notes: String,
    },
    /// The enterprise cancels; `refund_by` records the refund the filed method gives.
    Cancel {
        by: String,
        policy: String,
        on_days: i64,
        reason: String,
        refund_by: String,
        refund_reference: String,
    },
    /// A subsidy application, filed with a scan of every document its programme lists.
    ApplySubsidy {
        by: String,
        policy: String,
        programme: String,
        #[serde(default)]
        stage: String,
        contract_amount_yuan: Option<i64>,
        save: Option<String>,
    },
    LocalReview {
        by: String,
        application: String,
        pass: bool,
        note: String,
    },
    DepartmentReview {
        by: String,
        application: String,
        pass: bool,
        note: String,
    },
    OfferAutoGrants {
        by: String,
        programme: String,
    },
    /// A step of a national programme; `grant_applied` grants the amount applied for.
    NationalStep {
        by: String,
        application: String,
        step: String,
        pass: bool,
        #[serde(default)]
        grant_applied: bool,
        #[serde(default)]
        note: String,
    },
    /// A policy bought before the platform, registered by its holder with a scan.
    RegisterPolicy {
        by: String,
        product: String,
        number: String,
        start_days: i64,
        end_days: i64,
        premium_yuan: i64,
        sum_insured_yuan: i64,
        #[serde(default)]
        subject: SubjectData,
        scan_name: String,
        scan_text: String,
    },
    ApproveSubsidy {
        by: String,
        application: String,
    },
    Disburse {
        by: String,
        application: String,
        reference: String,
    },
    /// `fraud`: the grant was obtained by fraud (a ban follows), not merely no longer due.
    ClawBack {
        by: String,
        application: String,
        fraud: bool,
        reason: String,
    },
    Object {
        by: String,
        application: String,
        text: String,
    },
    /// A person asks about their own personal data (`access`, `correct` or `delete`).
    DataRequest {
        by: String,
        kind: String,
        #[serde(default)]
        details: String,
    },
    /// An enterprise applies for an insured loan; `bank` and `insurer` name demo users of
    /// those organisations.
    LoanApply {
        by: String,
        scheme: String,
        bank: String,
        insurer: String,
        amount_yuan: i64,
        term_months: i64,
        rate_pct: String,
        premium_rate_pct: String,
        method: String,
        funds_use: String,
        save: String,
    },
    /// The bank, the insurer or the zone decides on a loan.
    LoanDecide {
        by: String,
        loan: String,
        approve: bool,
        #[serde(default)]
        reason: String,
    },
    /// The insurer issues the loan guarantee policy, the premium paid `days` from the step's
    /// day (0 or less).
    LoanPolicy {
        by: String,
        loan: String,
        number: String,
        reference: String,
        #[serde(default)]
        days: i64,
    },
    /// The bank disburses a loan `days` from the step's day (0 or less).
    LoanDisburse {
        by: String,
        loan: String,
        #[serde(default)]
        days: i64,
    },
    /// A platform administrator records the request of a person who is not a user.
    PersonDataRequest {
        by: String,
        person: String,
        identity_check: String,
        /// The demo user whose organisation named the person.
        of: String,
        kind: String,
        #[serde(default)]
        details: String,
    },
    /// A platform administrator records an impact assessment: personal data to the
    /// organisation of `recipient` (a demo user), or into `extract`.
    ImpactAssessment {
        by: String,
        #[serde(default)]
        recipient: String,
        #[serde(default)]
        extract: String,
        purpose: String,
        data: String,
        recipients: String,
        days: i64,
        reviewer: String,
        conclusion: String,
    },
}

fn hundred() -> i64 {
    100
}

impl Step {
    /// The label this step saves, if any.
    pub fn saves(&self) -> Option<&str> {
        use Step::*;
        match self {
            Consent { save, .. } | Apply { save, .. } | ApplySubsidy { save, .. } => save.as_deref(),
            Product { save, .. }
            | PickProduct { save, .. }
            | ReportClaim { save, .. }
            | Complain { save, .. } => Some(save),
            _ => None,
        }
    }

    /// The labels this step refers to.
    pub fn uses(&self) -> Vec<&str> {
        use Step::*;
        match self {
            RevokeConsent { consent, .. } => vec![consent],
            Apply { product, .. } | RegisterPolicy { product, .. } => vec![product],
            PayPremium { policy, .. }
            | Endorse { policy, .. }
            | Coinsure { policy, .. }
            | ReportClaim { policy, .. }
            | Cancel { policy, .. }
            | ApplySubsidy { policy, .. } => vec![policy],
            ClaimDocument { claim, .. }
            | AssignClaim { claim, .. }
            | ClaimReserve { claim, .. }
            | DecideClaim { claim, .. }
            | PayClaim { claim, .. }
            | Complain { claim, .. } => vec![claim],
            TakeDispute { dispute, .. } | MediationSession { dispute, .. } => vec![dispute],
            LocalReview { application, .. }
            | DepartmentReview { application, .. }
            | NationalStep { application, .. }
            | ApproveSubsidy { application, .. }
            | Disburse { application, .. }
            | ClawBack { application, .. }
            | Object { application, .. } => vec![application],
            _ => Vec::new(),
        }
    }

    /// The demo users the step names.
    pub fn users(&self) -> Vec<&str> {
        use Step::*;
        match self {
            Advance { .. } | AdvanceToNow { .. } => Vec::new(),
            CreditRecords { of, .. } => vec![of],
            Consent { by, grantee, .. } => vec![by, grantee],
            CreditQuery { by, of, .. } => vec![by, of],
            Product { by, reviewer, .. } => vec![by, reviewer],
            UnderwriterAuthority { by, user, .. } => vec![by, user],
            PickProduct { for_user, insurer_of, .. } => vec![for_user, insurer_of],
            Cancel { by, refund_by, .. } => vec![by, refund_by],
            AdvisorAnswers { by, .. }
            | NameBroker { by, .. }
            | Qualification { by, .. }
            | RevokeConsent { by, .. }
            | CollectionAccount { by, .. }
            | Apply { by, .. }
            | PayPremium { by, .. }
            | Endorse { by, .. }
            | Coinsure { by, .. }
            | ReportClaim { by, .. }
            | ClaimDocument { by, .. }
            | AssignClaim { by, .. }
            | ClaimReserve { by, .. }
            | DecideClaim { by, .. }
            | PayClaim { by, .. }
            | Complain { by, .. }
            | TakeDispute { by, .. }
            | MediationSession { by, .. }
            | ApplySubsidy { by, .. }
            | LocalReview { by, .. }
            | DepartmentReview { by, .. }
            | OfferAutoGrants { by, .. }
            | NationalStep { by, .. }
            | RegisterPolicy { by, .. }
            | ApproveSubsidy { by, .. }
            | Disburse { by, .. }
            | ClawBack { by, .. }
            | Object { by, .. }
            | DataRequest { by, .. }
            | ImpactAssessment { by, .. }
            | LoanDecide { by, .. }
            | LoanPolicy { by, .. }
            | LoanDisburse { by, .. } => vec![by],
            LoanApply { by, bank, insurer, .. } => vec![by, bank, insurer],
            PersonDataRequest { by, of, .. } => vec![by, of],
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn shipped_showcase_parses_and_names_demo_users() {
        let s = Showcase::parse(SHOWCASE).unwrap();
        assert!(s.step.len() > 40);
        let zone = crate::generate(
            &crate::Options { enterprises: 50, ..Default::default() },
            &kebao_domain::IndustryMap::from_toml(include_str!("../../../data/catalogue.toml")).unwrap(),
        );
        for st in &s.step {
            for u in st.users() {
                assert!(zone.users.iter().any(|d| d.username == u), "{u} is not a demo user");
            }
        }
    }

    #[test]
    fn labels_must_be_saved_before_use() {
        let bad = r#"
[[step]]
do = "revoke_consent"
by = "ent.admin"
consent = "c1"
"#;
        assert!(Showcase::parse(bad).unwrap_err().contains("`c1` is not saved"));
        let twice = r#"
[[step]]
do = "pick_product"
for_user = "ent.admin"
insurer_of = "ins.underwriter"
save = "p"
[[step]]
do = "pick_product"
for_user = "ent.admin"
insurer_of = "ins.underwriter"
save = "p"
"#;
        assert!(Showcase::parse(twice).unwrap_err().contains("saved twice"));
        let unknown = "[[step]]\ndo = \"advance\"\ndays = 1\nweeks = 2\n";
        assert!(Showcase::parse(unknown).is_err());
    }
}
