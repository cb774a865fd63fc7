//! Authorisation: every read and write is decided here, by Cedar, default deny.
//!
//! The policies (`data/policies/*.cedar`) are embedded at build time; a deployment may
//! replace them with its own directory at start (the binary reads the files and passes
//! the texts in). Each policy is re-identified by its `@id` annotation so that the
//! decision names the policies that decided.

use crate::{Result, Service, ServiceError};
use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicyId,
    PolicySet, Request, RestrictedExpression, Schema, ValidationMode, Validator,
};
use kebao_domain::org::{OrgKind, OrgStatus, Organisation};
use kebao_domain::user::{Role, User};
use std::collections::{HashMap, HashSet};
use std::str::FromStr;

/// The embedded schema.
pub const SCHEMA: &str = include_str!("../../../data/policies/schema.cedarschema");
/// The embedded policy files.
pub const POLICIES: &[(&str, &str)] = &[
    ("registry.cedar", include_str!("../../../data/policies/registry.cedar")),
    ("products.cedar", include_str!("../../../data/policies/products.cedar")),
    ("consent.cedar", include_str!("../../../data/policies/consent.cedar")),
    ("policies.cedar", include_str!("../../../data/policies/policies.cedar")),
    ("claims.cedar", include_str!("../../../data/policies/claims.cedar")),
    ("disputes.cedar", include_str!("../../../data/policies/disputes.cedar")),
    ("subsidies.cedar", include_str!("../../../data/policies/subsidies.cedar")),
    ("zone.cedar", include_str!("../../../data/policies/zone.cedar")),
    ("loans.cedar", include_str!("../../../data/policies/loans.cedar")),
];

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in user (web session or API token).
    User { user: User, org_kind: OrgKind },
    /// The local operator: the CLI, which has the database itself. Named in the log.
    System { name: String },
    /// A visitor who has not signed in.
    Anonymous,
}

impl Actor {
    /// The actor as the event log names it.
    pub fn log_name(&self) -> String {
        match self {
            Actor::User { user, .. } => format!("user:{}", user.id),
            Actor::System { name } => format!("system:{name}"),
            Actor::Anonymous => "anonymous".to_owned(),
        }
    }

    /// The user, if a user is asking.
    pub fn user(&self) -> Option<&User> {
        match self {
            Actor::User { user, .. } => Some(user),
            _ => None,
        }
    }

    /// The actor's organisation, if any.
    pub fn org_id(&self) -> Option<&str> {
        self.user().map(|u| u.org_id.as_str())
    }
}

/// The actions the policies know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ReadProfile,
    /// Reading an enterprise's non-public data: decided with [`Authz::decide_read`].
    ReadEnterpriseData,
    WriteFacts,
    UpdateOrg,
    VerifyOrg,
    ManageStaff,
    CreateOrg,
    RegisterSelf,
    ResetPassword,
    /// Listing every user of the platform (its administrator).
    ListUsers,
    ReadAudit,
    FileProduct,
    EditProduct,
    ReviewProduct,
    ReadProduct,
    WritePublicity,
    LoadCatalogue,
    GrantConsent,
    ImportCreditData,
    WriteLedger,
    ApplyForPolicy,
    UseAdvisor,
    NameAdvisorBroker,
    SetZoneSwitches,
    ManageModels,
    ReadModels,
    ReadUnderwritingQueue,
    Underwrite,
    SetUnderwriterAuthority,
    RecordPremium,
    /// The policyholder uploads evidence that it paid the premium.
    SubmitPaymentEvidence,
    /// The policyholder registers a policy it bought outside the platform.
    RegisterPolicy,
    /// The insurer named on a registered policy confirms it (or does not).
    AnswerPolicyRegistration,
    EndorsePolicy,
    WaiveAuthority,
    CancelPolicy,
    RecordRefund,
    SetCoinsurance,
    RenewPolicy,
    ReportClaim,
    HandleClaim,
    AttachClaimDocument,
    Complain,
    Mediate,
    MediateDispute,
    LoadSubsidyProgrammes,
    SetSubsidyCalendar,
    ApplySubsidy,
    AttachSubsidyDocument,
    ReviewSubsidyLocally,
    DecideSubsidies,
    ReviewSubsidyForDepartment,
    ConfirmSubsidyOffer,
    ReadSubsidyStatistics,
    ReadInsuranceOverview,
    ReadStatistics,
    BuildIndex,
    ReadEvaluation,
    ReviewProductQueue,
    ReadAnyAccounts,
    ReadAccessLog,
    ReadDispute,
    ReadAllDisputes,
    ReadClaim,
    ReadPolicy,
    ReadSubsidy,
    ReadSubsidyDetails,
    ReadAllSubsidies,
    CheckSubsidy,
    IssueApiKey,
    /// A statutory duty over the zone's enterprises (zone officers, the regulator): the basis
    /// for reading their non-public data, recorded as such.
    Supervise,
    /// Seeing the background jobs and their progress.
    ReadJobs,
    /// Starting and cancelling any background job (backups and the like).
    RunJobs,
    /// A person asks about their own personal data (see, correct, delete).
    FileDataRequest,
    /// Answering people's personal-data requests (the platform's administrators).
    AnswerDataRequests,
    /// Recording personal-information protection impact assessments (个人信息保护法 Art 55).
    ManageImpactAssessments,
    /// Applying for a loan under a scheme (the enterprise, for itself).
    ApplyLoan,
    /// Deciding on a loan application as its bank, as its insurer, or as the zone.
    ReviewLoanAsBank,
    ReviewLoanAsInsurer,
    ApproveLoanAsZone,
    /// Disbursing a loan, recording its repayments and claiming on its default (its bank).
    ServiceLoan,
    /// Paying the bank's claim on a defaulted loan (its insurer).
    PayLoanClaim,
    PayLoanGuarantee,
    /// Issuing the loan guarantee policy on an approved loan (its insurer).
    IssueLoanPolicy,
    /// Recording the risk-compensation fund's payments (the zone's approvers).
    PayLoanFund,
    /// Running a scheme simulation (the zone's approvers and reviewers).
    SimulateScheme,
    /// Loading loan scheme versions (the zone's approvers, the platform's administrators).
    LoadLoanSchemes,
    /// Seeing a loan (its parties, the zone, the regulator).
    ReadLoan,
    /// Seeing every loan (the zone, the regulator).
    ReadAllLoans,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::ReadProfile => "read_profile",
            Action::ReadEnterpriseData => "read_enterprise_data",
            Action::WriteFacts => "write_facts",
            Action::UpdateOrg => "update_org",
            Action::VerifyOrg => "verify_org",
            Action::ManageStaff => "manage_staff",
            Action::CreateOrg => "create_org",
            Action::RegisterSelf => "register_self",
            Action::ResetPassword => "reset_password",
            Action::ListUsers => "list_users",
            Action::ReadAudit => "read_audit",
            Action::FileProduct => "file_product",
            Action::EditProduct => "edit_product",
            Action::ReviewProduct => "review_product",
            Action::ReadProduct => "read_product",
            Action::WritePublicity => "write_publicity",
            Action::LoadCatalogue => "load_catalogue",
            Action::GrantConsent => "grant_consent",
            Action::ImportCreditData => "import_credit_data",
            Action::WriteLedger => "write_ledger",
            Action::ApplyForPolicy => "apply_for_policy",
            Action::UseAdvisor => "use_advisor",
            Action::NameAdvisorBroker => "name_advisor_broker",
            Action::SetZoneSwitches => "set_zone_switches",
            Action::ManageModels => "manage_models",
            Action::ReadModels => "read_models",
            Action::ReadUnderwritingQueue => "read_underwriting_queue",
            Action::Underwrite => "underwrite",
            Action::SetUnderwriterAuthority => "set_underwriter_authority",
            Action::RecordPremium => "record_premium",
            Action::SubmitPaymentEvidence => "submit_payment_evidence",
            Action::RegisterPolicy => "register_policy",
            Action::AnswerPolicyRegistration => "answer_policy_registration",
            Action::EndorsePolicy => "endorse_policy",
            Action::WaiveAuthority => "waive_authority",
            Action::CancelPolicy => "cancel_policy",
            Action::RecordRefund => "record_refund",
            Action::SetCoinsurance => "set_coinsurance",
            Action::RenewPolicy => "renew_policy",
            Action::ReportClaim => "report_claim",
            Action::HandleClaim => "handle_claim",
            Action::AttachClaimDocument => "attach_claim_document",
            Action::Complain => "complain",
            Action::Mediate => "mediate",
            Action::MediateDispute => "mediate_dispute",
            Action::LoadSubsidyProgrammes => "load_subsidy_programmes",
            Action::SetSubsidyCalendar => "set_subsidy_calendar",
            Action::ApplySubsidy => "apply_subsidy",
            Action::AttachSubsidyDocument => "attach_subsidy_document",
            Action::ReviewSubsidyLocally => "review_subsidy_locally",
            Action::DecideSubsidies => "decide_subsidies",
            Action::ReviewSubsidyForDepartment => "review_subsidy_for_department",
            Action::ConfirmSubsidyOffer => "confirm_subsidy_offer",
            Action::ReadSubsidyStatistics => "read_subsidy_statistics",
            Action::ReadInsuranceOverview => "read_insurance_overview",
            Action::ReadStatistics => "read_statistics",
            Action::BuildIndex => "build_index",
            Action::ReadEvaluation => "read_evaluation",
            Action::ReviewProductQueue => "review_product_queue",
            Action::ReadAnyAccounts => "read_any_accounts",
            Action::ReadAccessLog => "read_access_log",
            Action::ReadDispute => "read_dispute",
            Action::ReadAllDisputes => "read_all_disputes",
            Action::ReadClaim => "read_claim",
            Action::ReadPolicy => "read_policy",
            Action::ReadSubsidy => "read_subsidy",
            Action::ReadSubsidyDetails => "read_subsidy_details",
            Action::ReadAllSubsidies => "read_all_subsidies",
            Action::CheckSubsidy => "check_subsidy",
            Action::IssueApiKey => "issue_api_key",
            Action::Supervise => "supervise",
            Action::ReadJobs => "read_jobs",
            Action::RunJobs => "run_jobs",
            Action::FileDataRequest => "file_data_request",
            Action::AnswerDataRequests => "answer_data_requests",
            Action::ManageImpactAssessments => "manage_impact_assessments",
            Action::ApplyLoan => "apply_loan",
            Action::ReviewLoanAsBank => "review_loan_as_bank",
            Action::ReviewLoanAsInsurer => "review_loan_as_insurer",
            Action::ApproveLoanAsZone => "approve_loan_as_zone",
            Action::ServiceLoan => "service_loan",
            Action::PayLoanClaim => "pay_loan_claim",
            Action::PayLoanGuarantee => "pay_loan_guarantee",
            Action::IssueLoanPolicy => "issue_loan_policy",
            Action::PayLoanFund => "pay_loan_fund",
            Action::SimulateScheme => "simulate_scheme",
            Action::LoadLoanSchemes => "load_loan_schemes",
            Action::ReadLoan => "read_loan",
            Action::ReadAllLoans => "read_all_loans",
        }
    }

    /// Every action, in the schema's order (the candidates of [`Authz::allowed_actions`]).
    pub const ALL: &'static [Action] = &[
        Action::ReadProfile,
        Action::ReadEnterpriseData,
        Action::WriteFacts,
        Action::UpdateOrg,
        Action::VerifyOrg,
        Action::ManageStaff,
        Action::CreateOrg,
        Action::RegisterSelf,
        Action::ResetPassword,
        Action::ListUsers,
        Action::ReadAudit,
        Action::FileProduct,
        Action::EditProduct,
        Action::ReviewProduct,
        Action::ReadProduct,
        Action::WritePublicity,
        Action::LoadCatalogue,
        Action::GrantConsent,
        Action::ImportCreditData,
        Action::WriteLedger,
        Action::ApplyForPolicy,
        Action::UseAdvisor,
        Action::NameAdvisorBroker,
        Action::SetZoneSwitches,
        Action::ManageModels,
        Action::ReadModels,
        Action::ReadUnderwritingQueue,
        Action::Underwrite,
        Action::SetUnderwriterAuthority,
        Action::RecordPremium,
        Action::SubmitPaymentEvidence,
        Action::RegisterPolicy,
        Action::AnswerPolicyRegistration,
        Action::EndorsePolicy,
        Action::WaiveAuthority,
        Action::CancelPolicy,
        Action::RecordRefund,
        Action::SetCoinsurance,
        Action::RenewPolicy,
        Action::ReportClaim,
        Action::HandleClaim,
        Action::AttachClaimDocument,
        Action::Complain,
        Action::Mediate,
        Action::MediateDispute,
        Action::LoadSubsidyProgrammes,
        Action::SetSubsidyCalendar,
        Action::ApplySubsidy,
        Action::AttachSubsidyDocument,
        Action::ReviewSubsidyLocally,
        Action::DecideSubsidies,
        Action::ReviewSubsidyForDepartment,
        Action::ConfirmSubsidyOffer,
        Action::ReadSubsidyStatistics,
        Action::ReadInsuranceOverview,
        Action::ReadStatistics,
        Action::BuildIndex,
        Action::ReadEvaluation,
        Action::ReviewProductQueue,
        Action::ReadAnyAccounts,
        Action::ReadAccessLog,
        Action::ReadDispute,
        Action::ReadAllDisputes,
        Action::ReadClaim,
        Action::ReadPolicy,
        Action::ReadSubsidy,
        Action::ReadSubsidyDetails,
        Action::ReadAllSubsidies,
        Action::CheckSubsidy,
        Action::IssueApiKey,
        Action::Supervise,
        Action::ReadJobs,
        Action::RunJobs,
        Action::FileDataRequest,
        Action::AnswerDataRequests,
        Action::ManageImpactAssessments,
        Action::ApplyLoan,
        Action::ReviewLoanAsBank,
        Action::ReviewLoanAsInsurer,
        Action::ApproveLoanAsZone,
        Action::ServiceLoan,
        Action::PayLoanClaim,
        Action::PayLoanGuarantee,
        Action::IssueLoanPolicy,
        Action::PayLoanFund,
        Action::SimulateScheme,
        Action::LoadLoanSchemes,
        Action::ReadLoan,
        Action::ReadAllLoans,
    ];

    /// The action as a refusal names it.
    pub fn label(self) -> &'static str {
        match self {
            Action::ReadProfile => "read an organisation's profile",
            Action::ReadEnterpriseData => "read an enterprise's data",
            Action::WriteFacts => "report an enterprise's facts",
            Action::UpdateOrg => "edit an organisation",
            Action::VerifyOrg => "verify a registration",
            Action::ManageStaff => "manage an organisation's staff",
            Action::CreateOrg => "register an organisation",
            Action::RegisterSelf => "register",
            Action::ResetPassword => "reset a password",
            Action::ListUsers => "list the users",
            Action::ReadAudit => "read the audit log",
            Action::FileProduct => "file a product",
            Action::EditProduct => "change a product filing",
            Action::ReviewProduct => "review a product filing",
            Action::ReadProduct => "read a product filing",
            Action::WritePublicity => "write in the publicity section",
            Action::LoadCatalogue => "load a product catalogue",
            Action::GrantConsent => "grant or revoke a consent",
            Action::ImportCreditData => "import external credit data",
            Action::WriteLedger => "write to the ledger",
            Action::ApplyForPolicy => "apply for a policy",
            Action::UseAdvisor => "use the risk advisor",
            Action::NameAdvisorBroker => "name the licensed broker that operates the advisor",
            Action::SetZoneSwitches => "turn the zone's settings on or off",
            Action::ManageModels => "upload, approve or retire the organisation's models",
            Action::ReadModels => "see the risk lab's models",
            Action::ReadUnderwritingQueue => "see the underwriting queue",
            Action::Underwrite => "underwrite this application",
            Action::SetUnderwriterAuthority => "set underwriting authority",
            Action::RecordPremium => "record premium",
            Action::SubmitPaymentEvidence => "submit payment evidence",
            Action::RegisterPolicy => "register a policy bought outside the platform",
            Action::AnswerPolicyRegistration => "confirm this registered policy",
            Action::EndorsePolicy => "change this policy",
            Action::WaiveAuthority => "exceed an underwriting authority",
            Action::CancelPolicy => "cancel this policy",
            Action::RecordRefund => "change this policy",
            Action::SetCoinsurance => "change this policy",
            Action::RenewPolicy => "renew this policy",
            Action::ReportClaim => "report a claim",
            Action::HandleClaim => "handle this claim",
            Action::AttachClaimDocument => "attach a claim document",
            Action::Complain => "complain about this claim",
            Action::Mediate => "mediate",
            Action::MediateDispute => "mediate this dispute",
            Action::LoadSubsidyProgrammes => "load subsidy programmes",
            Action::SetSubsidyCalendar => "set the calendar",
            Action::ApplySubsidy => "apply for a subsidy",
            Action::AttachSubsidyDocument => "attach a document",
            Action::ReviewSubsidyLocally => "work on subsidies",
            Action::DecideSubsidies => "work on subsidies",
            Action::ReviewSubsidyForDepartment => "review this application again",
            Action::ConfirmSubsidyOffer => "confirm the offer",
            Action::ReadSubsidyStatistics => "see the subsidy dashboard",
            Action::ReadInsuranceOverview => "see the zone's insurance overview",
            Action::ReadStatistics => "see the tech-insurance statistics",
            Action::BuildIndex => "run the development index, import official statistics or load a framework",
            Action::ReadEvaluation => "see the evaluation of institutions",
            Action::ReviewProductQueue => "review product filings",
            Action::ReadAnyAccounts => "read another organisation's accounts",
            Action::ReadAccessLog => "see who read an enterprise's data",
            Action::ReadDispute => "read this dispute",
            Action::ReadAllDisputes => "read every dispute",
            Action::ReadClaim => "read this claim",
            Action::ReadPolicy => "read this policy",
            Action::ReadSubsidy => "read this subsidy application",
            Action::ReadSubsidyDetails => "read an application's documents",
            Action::ReadAllSubsidies => "read every subsidy application",
            Action::CheckSubsidy => "check a policy's subsidy",
            Action::IssueApiKey => "issue an API key",
            Action::Supervise => "act on a statutory duty over the zone",
            Action::ReadJobs => "see the background jobs",
            Action::RunJobs => "start or cancel background jobs",
            Action::FileDataRequest => "ask about your personal data",
            Action::AnswerDataRequests => "answer personal-data requests",
            Action::ManageImpactAssessments => "record personal-information impact assessments",
            Action::ApplyLoan => "apply for a loan",
            Action::ReviewLoanAsBank => "decide on a loan as its bank",
            Action::ReviewLoanAsInsurer => "decide on a loan as its insurer",
            Action::ApproveLoanAsZone => "approve a loan for the zone",
            Action::ServiceLoan => "disburse a loan, record its repayments and claim on its default",
            Action::PayLoanClaim => "pay a claim on a defaulted loan",
            Action::PayLoanGuarantee => "pay the guarantor's share of a defaulted loan's loss",
            Action::IssueLoanPolicy => "issue a loan guarantee policy",
            Action::PayLoanFund => "record the risk-compensation fund's payments",
            Action::SimulateScheme => "run a loan scheme simulation",
            Action::LoadLoanSchemes => "load loan scheme versions",
            Action::ReadLoan => "see a loan",
            Action::ReadAllLoans => "see every loan",
        }
    }

    /// The rule a refusal states, for the actions whose policies state one plainly.
    fn rule(self) -> Option<&'static str> {
        match self {
            Action::ApplyForPolicy => Some("only an enterprise's own staff apply"),
            Action::UseAdvisor => Some("only the enterprise's own staff"),
            Action::NameAdvisorBroker => Some("the zone's approvers"),
            Action::SetZoneSwitches => Some("the zone's approvers"),
            Action::ManageModels => Some("an insurer's admins, underwriters and filers; a bank's admins and officers; the zone's officers — for their own organisation"),
            Action::ReadUnderwritingQueue => Some("underwriters only"),
            Action::Underwrite => Some("only the insurer's underwriters"),
            Action::SetUnderwriterAuthority => Some("an insurer's admin, for its own underwriters"),
            Action::RecordPremium => Some("the policy's insurer only"),
            Action::SubmitPaymentEvidence => Some("the policyholder only"),
            Action::RegisterPolicy => Some("only an enterprise's own staff register its policies"),
            Action::AnswerPolicyRegistration => Some("the insurer named on the policy only"),
            Action::EndorsePolicy => Some("the policy's insurer only"),
            Action::WaiveAuthority => Some("the insurer's admin only"),
            Action::CancelPolicy => Some("the policyholder's admin or the insurer"),
            Action::RecordRefund => Some("the policy's insurer only"),
            Action::SetCoinsurance => Some("the policy's insurer only"),
            Action::RenewPolicy => Some("the insured enterprise only"),
            Action::ReportClaim => Some("the insured enterprise only"),
            Action::HandleClaim => Some("the insurer's claims handlers only"),
            Action::AttachClaimDocument => Some("the insured enterprise or the insurer's claims handler"),
            Action::Complain => Some("the insured enterprise only"),
            Action::Mediate => Some("mediators only"),
            Action::MediateDispute => Some("the dispute's mediator, while mediating"),
            Action::LoadSubsidyProgrammes => Some("zone approvers and platform admins"),
            Action::SetSubsidyCalendar => Some("zone approvers and platform admins"),
            Action::ApplySubsidy => Some("the policyholder's admin"),
            Action::AttachSubsidyDocument => Some("the applicant only"),
            Action::ReviewSubsidyLocally => Some("needs the role zone_reviewer"),
            Action::DecideSubsidies => Some("needs the role zone_approver"),
            Action::ReviewSubsidyForDepartment => {
                Some("maker-checker: the department reviewer must not be the local reviewer")
            }
            Action::ConfirmSubsidyOffer => Some("the enterprise's admin"),
            Action::ReadSubsidyStatistics => Some("zone officers and the regulator"),
            Action::ReadInsuranceOverview => Some("zone officers and the regulator"),
            Action::ReadStatistics => Some("zone officers and the regulator; an insurer its own figures"),
            Action::BuildIndex => Some("zone officers only"),
            Action::ReadEvaluation => {
                Some("zone officers and the regulator; an insurer or a bank its own standing")
            }
            Action::ReviewProductQueue => Some("only zone reviewers and approvers review filings"),
            Action::ReadAnyAccounts => Some("not an auditor"),
            Action::ReadAccessLog => Some("only the enterprise itself"),
            Action::IssueApiKey => {
                Some("the regulator's access is read-only and is not handed on to API keys")
            }
            _ => None,
        }
    }
}

/// What the action is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// An organisation, with what the policies look at.
    Org { id: String, kind: OrgKind, status: OrgStatus },
    /// An insurer's product; `published` when the version concerned is the public one.
    Product { id: String, insurer_id: String, published: bool },
    /// The zone as a whole.
    Zone,
    /// A user, as the object of an action (an underwriter's authority).
    User { id: String, org_id: String, roles: Vec<Role>, active: bool },
    /// An application for a policy (C4).
    Application(Case),
    /// A policy (C4, C5).
    Policy(Case),
    /// A claim (C6).
    Claim(Case),
    /// A dispute about a claim (C6); the assignee is its mediator.
    Dispute(Case),
    /// A subsidy application (C6); there is no insurer; the assignee is its local reviewer.
    Subsidy(Case),
    /// A loan (C7).
    Loan(LoanCase),
}

/// What the policies see of a loan: its three parties and its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanCase {
    pub id: String,
    pub enterprise_id: String,
    pub bank_id: String,
    pub insurer_id: String,
    pub guarantor_id: Option<String>,
    pub status: String,
}

/// What the policies see of an application, a policy, a claim, a dispute or a subsidy
/// application: its parties, its state and the user it is assigned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub id: String,
    pub enterprise_id: String,
    /// Empty for a subsidy application.
    pub insurer_id: String,
    /// The status code.
    pub status: String,
    /// The assigned user's id (a dispute's mediator, a subsidy's local reviewer).
    pub assignee: Option<String>,
}

impl Resource {
    /// The Cedar entity type of the resource.
    fn type_name(&self) -> &'static str {
        match self {
            Resource::Org { .. } => "Kebao::Organisation",
            Resource::Product { .. } => "Kebao::Product",
            Resource::Zone => "Kebao::Zone",
            Resource::User { .. } => "Kebao::User",
            Resource::Application(_) => "Kebao::Application",
            Resource::Policy(_) => "Kebao::Policy",
            Resource::Claim(_) => "Kebao::Claim",
            Resource::Dispute(_) => "Kebao::Dispute",
            Resource::Subsidy(_) => "Kebao::SubsidyApplication",
            Resource::Loan(_) => "Kebao::Loan",
        }
    }
}

/// The lawful basis for touching another organisation's data (C10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    /// The actor's own organisation.
    Own,
    /// A statutory duty (zone officers, the regulator), for a purpose.
    StatutoryDuty { purpose: String },
    /// The enterprise's consent, for the consent's purpose.
    Consent { purpose: String, consent_id: String },
    /// No basis.
    None,
}

/// The labels of a basis code as recorded (`own`, `statutory_duty`, `consent`, `none`).
pub fn basis_label(code: &str) -> (&'static str, &'static str) {
    BASES.iter().find(|b| b.0 == code).map_or(("无", "none"), |b| (b.1, b.2))
}

/// Every basis code [`Basis::code`] records, with its labels.
pub const BASES: &[(&str, &str, &str)] = &[
    ("own", "本机构数据", "own organisation"),
    ("statutory_duty", "法定职责", "statutory duty"),
    ("consent", "企业授权", "the enterprise's consent"),
    ("none", "无", "none"),
];

impl Basis {
    /// The code recorded with decisions.
    pub fn code(&self) -> &'static str {
        match self {
            Basis::Own => "own",
            Basis::StatutoryDuty { .. } => "statutory_duty",
            Basis::Consent { .. } => "consent",
            Basis::None => "none",
        }
    }

    /// The purpose stated with the basis.
    pub fn purpose(&self) -> &str {
        match self {
            Basis::StatutoryDuty { purpose } | Basis::Consent { purpose, .. } => purpose,
            _ => "",
        }
    }
}

/// What a read of enterprise data is about (the context of `read_enterprise_data`).
#[derive(Debug, Clone)]
pub struct ReadContext<'a> {
    pub scope: &'a str,
    pub data_class: &'a str,
    pub purpose: &'a str,
    /// The business date as `yyyymmdd`.
    pub today: i64,
    pub consent: Option<&'a kebao_domain::consent::Consent>,
}

/// A decision and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    pub allowed: bool,
    /// The policies that decided (permits when allowed, forbids when one fired).
    pub policies: Vec<String>,
    pub basis: &'static str,
}

/// A policy or schema error at start.
#[derive(Debug, thiserror::Error)]
pub enum AuthzError {
    #[error("policy schema: {0}")]
    Schema(String),
    #[error("policy file `{file}`: {message}")]
    Policy { file: String, message: String },
    #[error("policy `{0}` has no @id annotation")]
    MissingId(String),
    #[error("policies do not validate against the schema: {0}")]
    Validation(String),
}

/// The policy set and schema.
#[derive(Debug)]
pub struct Authz {
    schema: Schema,
    policies: PolicySet,
    authorizer: Authorizer,
}

fn uid(ty: &str, id: &str) -> Result<EntityUid, String> {
    let ty = EntityTypeName::from_str(ty).map_err(|e| e.to_string())?;
    Ok(EntityUid::from_type_name_and_id(ty, EntityId::new(id)))
}

impl Authz {
    /// Loads a schema and policy files (name, text), validating them strictly.
    pub fn new(schema: &str, files: &[(&str, &str)]) -> Result<Authz, AuthzError> {
        let (schema, _) =
            Schema::from_cedarschema_str(schema).map_err(|e| AuthzError::Schema(e.to_string()))?;
        let mut policies = PolicySet::new();
        for (file, text) in files {
            let parsed = PolicySet::from_str(text)
                .map_err(|e| AuthzError::Policy { file: (*file).to_owned(), message: e.to_string() })?;
            for p in parsed.policies() {
                let id = p.annotation("id").ok_or_else(|| AuthzError::MissingId(p.to_string()))?;
                policies
                    .add(p.new_id(PolicyId::new(id)))
                    .map_err(|e| AuthzError::Policy { file: (*file).to_owned(), message: e.to_string() })?;
            }
        }
        let result = Validator::new(schema.clone()).validate(&policies, ValidationMode::Strict);
        if !result.validation_passed() {
            let msgs: Vec<String> = result.validation_errors().map(|e| e.to_string()).collect();
            return Err(AuthzError::Validation(msgs.join("; ")));
        }
        Ok(Authz { schema, policies, authorizer: Authorizer::new() })
    }

    /// The embedded policies.
    pub fn embedded() -> Result<Authz, AuthzError> {
        Authz::new(SCHEMA, POLICIES)
    }

    /// How many policies are loaded.
    pub fn policy_count(&self) -> usize {
        self.policies.policies().count()
    }

    /// Whether the schema lets the actor's kind of principal ask for `action` at all (an
    /// anonymous visitor registers; a user does not): asking otherwise is a known denial.
    fn principal_may_ask(&self, actor: &Actor, action: &EntityUid) -> bool {
        let kind = match actor {
            Actor::User { .. } => "Kebao::User",
            Actor::System { .. } => "Kebao::System",
            Actor::Anonymous => "Kebao::Anonymous",
        };
        self.schema
            .principals_for_action(action)
            .is_some_and(|mut types| types.any(|t| t.to_string() == kind))
    }

    /// Decides one request. Any error building the request is a denial.
    pub fn decide(&self, actor: &Actor, action: Action, resource: &Resource, basis: &Basis) -> Decided {
        match self.try_decide(actor, action, resource, basis) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "authorisation request could not be built; denied");
                Decided { allowed: false, policies: Vec::new(), basis: basis.code() }
            }
        }
    }

    /// Decides a read of an enterprise's non-public data: one scope, of one data class,
    /// for a purpose, on a basis — with the consent the basis names, if any. This is the
    /// one check every such read passes (API, UI, export, CLI).
    pub fn decide_read(
        &self,
        actor: &Actor,
        enterprise: &Resource,
        basis: &Basis,
        read: &ReadContext<'_>,
    ) -> Decided {
        type Extra = (Vec<(String, RestrictedExpression)>, Vec<Entity>);
        let extra = || -> Result<Extra, String> {
            let mut ctx = vec![
                ("scope".to_owned(), RestrictedExpression::new_string(read.scope.to_owned())),
                ("data_class".to_owned(), RestrictedExpression::new_string(read.data_class.to_owned())),
                ("purpose".to_owned(), RestrictedExpression::new_string(read.purpose.to_owned())),
                ("today".to_owned(), RestrictedExpression::new_long(read.today)),
            ];
            let mut entities = Vec::new();
            if let Some(c) = read.consent {
                let cu = uid("Kebao::Consent", &c.id)?;
                let scopes = c.scopes.iter().map(|s| RestrictedExpression::new_string(s.code().to_owned()));
                let attrs = HashMap::from([
                    (
                        "enterprise".to_owned(),
                        RestrictedExpression::new_entity_uid(uid("Kebao::Organisation", &c.enterprise_id)?),
                    ),
                    (
                        "grantee".to_owned(),
                        RestrictedExpression::new_entity_uid(uid("Kebao::Organisation", &c.grantee_id)?),
                    ),
                    ("kind".to_owned(), RestrictedExpression::new_string(c.kind.code().to_owned())),
                    ("scopes".to_owned(), RestrictedExpression::new_set(scopes)),
                    ("purpose".to_owned(), RestrictedExpression::new_string(c.purpose.code().to_owned())),
                    ("active".to_owned(), RestrictedExpression::new_bool(c.revoked_at_us.is_none())),
                    (
                        "valid_from".to_owned(),
                        RestrictedExpression::new_long(kebao_domain::consent::date_number(c.valid_from)),
                    ),
                    (
                        "expires_on".to_owned(),
                        RestrictedExpression::new_long(kebao_domain::consent::date_number(c.expires_on)),
                    ),
                ]);
                entities.push(Entity::new(cu.clone(), attrs, HashSet::new()).map_err(|e| e.to_string())?);
                ctx.push(("consent".to_owned(), RestrictedExpression::new_entity_uid(cu)));
            }
            Ok((ctx, entities))
        };
        let result = extra().and_then(|(ctx, entities)| {
            self.try_decide_with(actor, Action::ReadEnterpriseData, enterprise, basis, ctx, entities)
        });
        match result {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "authorisation request could not be built; denied");
                Decided { allowed: false, policies: Vec::new(), basis: basis.code() }
            }
        }
    }

    fn try_decide(
        &self,
        actor: &Actor,
        action: Action,
        resource: &Resource,
        basis: &Basis,
    ) -> Result<Decided, String> {
        self.try_decide_with(actor, action, resource, basis, Vec::new(), Vec::new())
    }

    fn try_decide_with(
        &self,
        actor: &Actor,
        action: Action,
        resource: &Resource,
        basis: &Basis,
        extra_context: Vec<(String, RestrictedExpression)>,
        extra_entities: Vec<Entity>,
    ) -> Result<Decided, String> {
        let action_uid = uid("Kebao::Action", action.name())?;
        if !self.principal_may_ask(actor, &action_uid) {
            // The schema already says no: an anonymous visitor is not a principal of this
            // action (write actions). That is a known denial, not a failure to decide.
            return Ok(Decided { allowed: false, policies: Vec::new(), basis: basis.code() });
        }
        let mut entities: Vec<Entity> = extra_entities;
        let principal = match actor {
            Actor::User { user, org_kind } => {
                let org = uid("Kebao::Organisation", &user.org_id)?;
                let roles = user.roles.iter().map(|r| RestrictedExpression::new_string(r.code().to_owned()));
                let attrs = HashMap::from([
                    ("org".to_owned(), RestrictedExpression::new_entity_uid(org.clone())),
                    ("roles".to_owned(), RestrictedExpression::new_set(roles)),
                    ("active".to_owned(), RestrictedExpression::new_bool(user.active)),
                ]);
                let me = uid("Kebao::User", &user.id)?;
                entities.push(
                    Entity::new(me.clone(), attrs, HashSet::from([org.clone()]))
                        .map_err(|e| e.to_string())?,
                );
                // The principal's organisation; its status is not looked at for the principal.
                let is_resource = matches!(resource, Resource::Org { id, .. } if *id == user.org_id);
                if !is_resource {
                    let attrs = HashMap::from([
                        ("kind".to_owned(), RestrictedExpression::new_string(org_kind.code().to_owned())),
                        ("status".to_owned(), RestrictedExpression::new_string("verified".to_owned())),
                    ]);
                    entities.push(Entity::new(org, attrs, HashSet::new()).map_err(|e| e.to_string())?);
                }
                me
            }
            Actor::System { .. } => uid("Kebao::System", "operator")?,
            Actor::Anonymous => uid("Kebao::Anonymous", "visitor")?,
        };
        let res = match resource {
            Resource::Org { id, kind, status } => {
                let r = uid("Kebao::Organisation", id)?;
                let attrs = HashMap::from([
                    ("kind".to_owned(), RestrictedExpression::new_string(kind.code().to_owned())),
                    ("status".to_owned(), RestrictedExpression::new_string(status.code().to_owned())),
                ]);
                entities.push(Entity::new(r.clone(), attrs, HashSet::new()).map_err(|e| e.to_string())?);
                r
            }
            Resource::Product { id, insurer_id, published } => {
                let r = uid("Kebao::Product", id)?;
                let insurer = uid("Kebao::Organisation", insurer_id)?;
                let attrs = HashMap::from([
                    ("insurer".to_owned(), RestrictedExpression::new_entity_uid(insurer)),
                    ("published".to_owned(), RestrictedExpression::new_bool(*published)),
                ]);
                entities.push(Entity::new(r.clone(), attrs, HashSet::new()).map_err(|e| e.to_string())?);
                r
            }
            Resource::Zone => uid("Kebao::Zone", "zone")?,
            Resource::User { id, org_id, roles, active } => {
                let r = uid("Kebao::User", id)?;
                // Asking about oneself: the principal's entity is already there.
                if actor.user().is_none_or(|u| u.id != *id) {
                    let roles = roles.iter().map(|r| RestrictedExpression::new_string(r.code().to_owned()));
                    let org = uid("Kebao::Organisation", org_id)?;
                    let attrs = HashMap::from([
                        ("org".to_owned(), RestrictedExpression::new_entity_uid(org.clone())),
                        ("roles".to_owned(), RestrictedExpression::new_set(roles)),
                        ("active".to_owned(), RestrictedExpression::new_bool(*active)),
                    ]);
                    entities.push(
                        Entity::new(r.clone(), attrs, HashSet::from([org])).map_err(|e| e.to_string())?,
                    );
                }
                r
            }
            Resource::Application(c)
            | Resource::Policy(c)
            | Resource::Claim(c)
            | Resource::Dispute(c)
            | Resource::Subsidy(c) => {
                let r = uid(resource.type_name(), &c.id)?;
                let mut attrs = HashMap::from([
                    (
                        "enterprise".to_owned(),
                        RestrictedExpression::new_entity_uid(uid("Kebao::Organisation", &c.enterprise_id)?),
                    ),
                    ("status".to_owned(), RestrictedExpression::new_string(c.status.clone())),
                ]);
                if !matches!(resource, Resource::Subsidy(_)) {
                    attrs.insert(
                        "insurer".to_owned(),
                        RestrictedExpression::new_entity_uid(uid("Kebao::Organisation", &c.insurer_id)?),
                    );
                }
                if matches!(resource, Resource::Dispute(_) | Resource::Subsidy(_)) {
                    if let Some(a) = &c.assignee {
                        attrs.insert(
                            "assignee".to_owned(),
                            RestrictedExpression::new_entity_uid(uid("Kebao::User", a)?),
                        );
                    }
                }
                entities.push(Entity::new(r.clone(), attrs, HashSet::new()).map_err(|e| e.to_string())?);
                r
            }
            Resource::Loan(c) => {
                let r = uid(resource.type_name(), &c.id)?;
                let org = |id: &str| uid("Kebao::Organisation", id).map(RestrictedExpression::new_entity_uid);
                let mut attrs = HashMap::from([
                    ("enterprise".to_owned(), org(&c.enterprise_id)?),
                    ("bank".to_owned(), org(&c.bank_id)?),
                    ("insurer".to_owned(), org(&c.insurer_id)?),
                    ("status".to_owned(), RestrictedExpression::new_string(c.status.clone())),
                ]);
                if let Some(g) = &c.guarantor_id {
                    attrs.insert("guarantor".to_owned(), org(g)?);
                }
                entities.push(Entity::new(r.clone(), attrs, HashSet::new()).map_err(|e| e.to_string())?);
                r
            }
        };
        let basis_rec = RestrictedExpression::new_record([
            ("kind".to_owned(), RestrictedExpression::new_string(basis.code().to_owned())),
            ("purpose".to_owned(), RestrictedExpression::new_string(basis.purpose().to_owned())),
        ])
        .map_err(|e| e.to_string())?;
        let mut pairs = vec![("basis".to_owned(), basis_rec)];
        pairs.extend(extra_context);
        let context = Context::from_pairs(pairs).map_err(|e| e.to_string())?;
        let request = Request::new(principal, action_uid, res, context, Some(&self.schema))
            .map_err(|e| e.to_string())?;
        let entities = Entities::from_entities(entities, Some(&self.schema)).map_err(|e| e.to_string())?;
        let response = self.authorizer.is_authorized(&request, &self.policies, &entities);
        for e in response.diagnostics().errors() {
            tracing::warn!(error = %e, "policy evaluation error (treated as not matching)");
        }
        Ok(Decided {
            allowed: response.decision() == Decision::Allow,
            policies: response.diagnostics().reason().map(ToString::to_string).collect(),
            basis: basis.code(),
        })
    }
}

impl Authz {
    /// The actions `actor` may take on `resource` now: Cedar is asked about each action the
    /// schema allows on the resource's kind (reads of enterprise data, which need a scope and
    /// a purpose, are asked with [`Authz::decide_read`] instead and are not listed). The
    /// basis is the actor's own when the resource is the actor's organisation.
    pub fn allowed_actions(&self, actor: &Actor, resource: &Resource) -> Vec<Action> {
        let basis = match resource {
            Resource::Org { id, .. } if actor.org_id() == Some(id.as_str()) => Basis::Own,
            _ => Basis::None,
        };
        let ty = resource.type_name();
        Action::ALL
            .iter()
            .copied()
            .filter(|a| *a != Action::ReadEnterpriseData)
            .filter(|a| {
                uid("Kebao::Action", a.name()).is_ok_and(|au| {
                    self.principal_may_ask(actor, &au)
                        && self
                            .schema
                            .resources_for_action(&au)
                            .is_some_and(|mut ts| ts.any(|t| t.to_string() == ty))
                })
            })
            .filter(|a| self.decide(actor, *a, resource, &basis).allowed)
            .collect()
    }
}

/// The purpose recorded when a zone officer or regulator reads enterprise data.
pub const SUPERVISION: &str = "supervision";

/// An organisation as the policies see it.
pub(crate) fn org_resource(org: &Organisation) -> Resource {
    Resource::Org { id: org.id.clone(), kind: org.kind, status: org.status }
}

/// What an actor may do now on the zone and on its own organisation: the UI's menus and
/// dashboard are drawn from this answer, never from roles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Abilities {
    /// Actions on the zone as a whole.
    pub zone: Vec<Action>,
    /// Actions on the actor's own organisation.
    pub own_org: Vec<Action>,
}

impl Abilities {
    /// Whether the actor may take `a` on the zone.
    pub fn on_zone(&self, a: Action) -> bool {
        self.zone.contains(&a)
    }

    /// Whether the actor may take `a` on its own organisation.
    pub fn on_own_org(&self, a: Action) -> bool {
        self.own_org.contains(&a)
    }
}

impl Service {
    /// The lawful basis the actor has for an organisation's non-public data: its own, or a
    /// statutory duty the policies grant (`supervise`).
    pub(crate) fn basis_for(&self, actor: &Actor, org: &Organisation) -> Basis {
        match actor {
            Actor::User { user, .. } if user.org_id == org.id => Basis::Own,
            Actor::User { .. } if self.supervises(actor) => {
                Basis::StatutoryDuty { purpose: SUPERVISION.to_owned() }
            }
            Actor::System { .. } => Basis::Own,
            _ => Basis::None,
        }
    }

    /// Whether the actor holds a statutory duty over the zone.
    pub(crate) fn supervises(&self, actor: &Actor) -> bool {
        self.allows(actor, Action::Supervise, &Resource::Zone)
    }

    /// What the actor may do now on the zone and on its own organisation.
    pub async fn abilities(&self, actor: &Actor) -> Result<Abilities> {
        let zone = self.authz.allowed_actions(actor, &Resource::Zone);
        let own_org = match actor.org_id() {
            Some(id) => {
                let mut tx = self.store.begin_read().await?;
                let org = kebao_store::orgs::get(tx.conn(), id).await?;
                self.authz.allowed_actions(actor, &org_resource(&org))
            }
            None => Vec::new(),
        };
        Ok(Abilities { zone, own_org })
    }

    /// Whether `actor` may take `action` on `resource` now (for what a page offers; the
    /// command itself decides again).
    pub fn may_on(&self, actor: &Actor, action: Action, resource: &Resource) -> bool {
        self.allows(actor, action, resource)
    }

    /// Authorises or returns `Forbidden` naming the action.
    pub(crate) fn require(
        &self,
        actor: &Actor,
        action: Action,
        resource: &Resource,
        basis: &Basis,
    ) -> Result<Decided> {
        let d = self.authz.decide(actor, action, resource, basis);
        if d.allowed {
            Ok(d)
        } else {
            Err(refusal(action, &d))
        }
    }

    /// Whether `actor` may take `action` on `resource` (for choices that are not refusals,
    /// such as whether an underwriting authority binds the actor).
    pub(crate) fn allows(&self, actor: &Actor, action: Action, resource: &Resource) -> bool {
        self.authz.decide(actor, action, resource, &Basis::None).allowed
    }

    /// The refusal of an action the caller has found not allowed (with [`Service::allows`]).
    pub(crate) fn refused(&self, actor: &Actor, action: Action, resource: &Resource) -> ServiceError {
        refusal(action, &self.authz.decide(actor, action, resource, &Basis::None))
    }

    /// The actions `actor` may take on `resource` now (see [`Authz::allowed_actions`]).
    pub fn allowed_actions(&self, actor: &Actor, resource: &Resource) -> Vec<Action> {
        self.authz.allowed_actions(actor, resource)
    }
}

/// The refusal of a decision that did not allow.
fn refusal(action: Action, d: &Decided) -> ServiceError {
    let reason = match action.rule() {
        Some(rule) => rule.to_owned(),
        None if d.policies.is_empty() => "no policy permits it".to_owned(),
        None => format!("forbidden by {}", d.policies.join(", ")),
    };
    ServiceError::Forbidden { action: action.label(), reason }
}

/// The refusal of a read whose every part Cedar refused (a credit report's sections are
/// decided one by one with [`Authz::decide_read`]; when none is allowed the read is refused).
pub(crate) fn all_parts_refused(action: &'static str, reason: String) -> ServiceError {
    ServiceError::Forbidden { action, reason }
}

/// The refusal for a user who must first change the password an administrator set.
pub fn password_change_required() -> ServiceError {
    ServiceError::Forbidden {
        action: "password_change_required",
        reason: "change the password an administrator set before anything else".into(),
    }
}
