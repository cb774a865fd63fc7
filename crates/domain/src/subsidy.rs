//! Premium subsidies and insurance compensation (C6): programmes as dated, versioned rule
//! sets, and the eligibility check that returns the amount with a trace (naming the cap that
//! bound) or every rule that failed, with its reason.
//!
//! Amounts are integer fen; shares and rate caps are basis points (1 bp = 0.01 %). Each
//! amount is rounded once, half away from zero, to the fen.

use crate::catalogue::Confidence;
use crate::cover::round_div;
use crate::error::FieldError;
use crate::org::{string_enum, QualificationKind};
use crate::Money;
use time::Date;

string_enum! {
    /// Who runs a programme and how its money moves.
    ProgrammeKind {
        Zone = "zone", "示范区保费补贴", "Zone premium subsidy";
        NationalFirstSet = "national_first_set", "首台（套）保险补偿（国家）", "National first-set compensation";
        NationalNewMaterial = "national_new_material", "新材料首批次保险补偿（国家）", "National first-batch new-material compensation";
    }
}

string_enum! {
    /// What a zone programme does with a policy subsidised or applied for under a national
    /// programme of its no-stacking group (rules.md §3.4, §5: no double fiscal support).
    Stacking {
        Refuse = "refuse", "不重复补贴", "Refuse";
        CapCombinedShare = "cap_combined_share", "合计不超过保费的一定比例", "Cap the combined share";
    }
}

/// The stacking rule when a programme names none: refuse.
fn refuse_stacking() -> Stacking {
    Stacking::Refuse
}

string_enum! {
    /// Where a subsidy application (or a national qualification / funding file) stands.
    SubsidyStatus {
        Submitted = "submitted", "已申请", "Submitted";
        LocalReviewed = "local_reviewed", "属地初审通过", "Local review passed";
        InNotice = "in_notice", "公示中", "In public notice";
        Approved = "approved", "已批准", "Approved";
        Disbursed = "disbursed", "已拨付", "Disbursed";
        Rejected = "rejected", "未通过", "Rejected";
        ClawedBack = "clawed_back", "已追回", "Clawed back";
        Offered = "offered", "免申即享待确认", "Offered, awaiting confirmation";
        Lapsed = "lapsed", "逾期未确认", "Lapsed";
        Recommended = "recommended", "示范区已推荐", "Recommended by the zone";
        Forwarded = "forwarded", "已报送部委", "Forwarded to the ministries";
        Qualified = "qualified", "资格审定通过", "Qualified";
        NotQualified = "not_qualified", "资格审定未通过", "Not qualified";
        Granted = "granted", "部委已核定补偿", "Granted by the ministries";
        Refused = "refused", "部委未予补偿", "Refused by the ministries";
    }
}

impl SubsidyStatus {
    /// Whether the budget holds a reservation for the application.
    pub fn holds_budget(self) -> bool {
        matches!(self, SubsidyStatus::InNotice | SubsidyStatus::Approved)
    }

    /// Whether money was paid (zone) or granted (ministries).
    pub fn is_paid(self) -> bool {
        matches!(self, SubsidyStatus::Disbursed | SubsidyStatus::Granted)
    }

    /// Whether the application ended without money (it no longer stands in the way of another).
    pub fn ended_without_money(self) -> bool {
        self.is_final() && !self.is_paid()
    }

    /// Whether the application is finished.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            SubsidyStatus::Disbursed
                | SubsidyStatus::Rejected
                | SubsidyStatus::ClawedBack
                | SubsidyStatus::Lapsed
                | SubsidyStatus::NotQualified
                | SubsidyStatus::Granted
                | SubsidyStatus::Refused
        )
    }
}

string_enum! {
    /// Which flow an application follows.
    Track {
        Zone = "zone", "示范区申请", "Zone application";
        Auto = "auto", "免申即享", "Auto-grant";
        National = "national", "国家补偿申报", "National file";
    }
}

string_enum! {
    /// What an application asks for.
    Stage {
        Subsidy = "subsidy", "保费补贴", "Premium subsidy";
        Qualification = "qualification", "资格审定", "Qualification";
        Funding = "funding", "资金申请", "Funding";
    }
}

impl Stage {
    /// The track and stage of a new application under a programme of `kind`, from the stage
    /// the applicant names (empty or `subsidy` for a zone programme; `qualification` or
    /// `funding` for a national one).
    pub fn parse_for(kind: ProgrammeKind, stage: &str) -> Result<(Track, Stage), FieldError> {
        let stage = stage.trim();
        match (kind, stage) {
            (ProgrammeKind::Zone, "" | "subsidy") => Ok((Track::Zone, Stage::Subsidy)),
            (ProgrammeKind::Zone, other) => Err(FieldError::new(
                "stage",
                "bad_stage",
                format!("示范区方案没有 `{other}` 阶段"),
                format!("a zone programme has no stage `{other}`"),
            )),
            (_, "qualification") => Ok((Track::National, Stage::Qualification)),
            (_, "funding") => Ok((Track::National, Stage::Funding)),
            (_, other) => Err(FieldError::new(
                "stage",
                "bad_stage",
                format!("国家补偿须注明阶段 qualification 或 funding（现为 `{other}`）"),
                format!("a national file is `qualification` or `funding` (not `{other}`)"),
            )),
        }
    }
}

string_enum! {
    /// A step of the workflow (the codes the API and the forms send).
    SubsidyStep {
        LocalReview = "local_review", "属地初审", "Local review";
        DepartmentReview = "department_review", "部门复审", "Department review";
        Approve = "approve", "批准", "Approve";
        Disburse = "disburse", "拨付", "Disburse";
        Reject = "reject", "驳回", "Reject";
        ClawBack = "claw_back", "追回", "Claw back";
        Confirm = "confirm", "确认享受", "Confirm the offer";
        Lapse = "lapse", "逾期未确认", "Lapse";
        Recommend = "recommend", "示范区推荐", "Recommend";
        Forward = "forward", "报送部委", "Forward to the ministries";
        Decision = "decision", "登记部委决定", "Record the ministries' decision";
    }
}

impl SubsidyStep {
    /// Whether the step is taken by a person (a lapse happens by the clock).
    pub fn is_manual(self) -> bool {
        self != SubsidyStep::Lapse
    }
}

impl SubsidyStatus {
    /// The state after `step` when it goes the applicant's way (a review that passes, a
    /// decision that grants), or why `step` is not possible from here. What a refusal or the
    /// stage makes of it is [`SubsidyApplication::apply`].
    pub fn apply(self, step: SubsidyStep) -> Result<SubsidyStatus, FieldError> {
        use SubsidyStatus as S;
        use SubsidyStep as T;
        let next = match (self, step) {
            (S::Submitted, T::LocalReview) => S::LocalReviewed,
            (S::LocalReviewed, T::DepartmentReview) => S::InNotice,
            (S::InNotice, T::Approve) => S::Approved,
            (S::Approved, T::Disburse) => S::Disbursed,
            (S::Submitted | S::LocalReviewed | S::InNotice | S::Approved, T::Reject) => S::Rejected,
            (S::Disbursed, T::ClawBack) => S::ClawedBack,
            (S::Offered, T::Confirm) => S::InNotice,
            (S::Offered, T::Lapse) => S::Lapsed,
            (S::Submitted, T::Recommend) => S::Recommended,
            (S::Recommended, T::Forward) => S::Forwarded,
            (S::Forwarded, T::Decision) => S::Granted,
            (from, t) => return Err(bad_transition(from, t)),
        };
        Ok(next)
    }

    /// The steps possible from this state (on some track).
    pub fn steps(self) -> Vec<SubsidyStep> {
        SubsidyStep::ALL.iter().copied().filter(|t| self.apply(*t).is_ok()).collect()
    }
}

fn bad_transition(from: SubsidyStatus, t: SubsidyStep) -> FieldError {
    let (zh, en) = match (from, t) {
        (SubsidyStatus::Disbursed | SubsidyStatus::ClawedBack, SubsidyStep::Reject) => (
            "补贴已拨付，不能驳回；如需收回请追回".to_owned(),
            "the subsidy is paid and cannot be rejected; claw it back instead".to_owned(),
        ),
        (_, SubsidyStep::ClawBack) => {
            ("只有已拨付的补贴可以追回".to_owned(), "only a disbursed subsidy can be clawed back".to_owned())
        }
        _ => (
            format!("申请状态为「{}」，不能执行「{}」", from.label_zh(), t.label_zh()),
            format!("an application that is `{}` cannot take the step `{}`", from.code(), t.code()),
        ),
    };
    FieldError::new("status", "bad_transition", zh, en)
}

/// What the applicant declares beyond the policy (shown on the application, checked by review).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Declarations {
    /// Purchase-contract amount (new material), yuan.
    #[serde(default)]
    pub contract_amount_yuan: Option<i64>,
    /// The user of the equipment or material is a related party or a trader.
    #[serde(default)]
    pub related_party: bool,
    /// The project has already been compensated.
    #[serde(default)]
    pub already_compensated: bool,
}

/// The declarations as a form sends them (strings as typed, ticks as flags).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct DeclarationsInput {
    pub contract_amount_yuan: String,
    pub related_party: bool,
    pub already_compensated: bool,
}

impl Declarations {
    /// Checks what a form declares: the contract amount, if given, is whole yuan above zero.
    pub fn parse(input: &DeclarationsInput) -> Result<Declarations, FieldError> {
        let v = input.contract_amount_yuan.trim().replace([',', '，'], "");
        let contract_amount_yuan = if v.is_empty() {
            None
        } else {
            match v.parse::<i64>() {
                Ok(y) if y > 0 => Some(y),
                _ => {
                    return Err(FieldError::new(
                        "contract_amount_yuan",
                        "whole_yuan",
                        format!("采购合同金额 `{v}` 应为正整数（元）"),
                        format!("the contract amount `{v}` must be whole yuan above zero"),
                    ))
                }
            }
        };
        Ok(Declarations {
            contract_amount_yuan,
            related_party: input.related_party,
            already_compensated: input.already_compensated,
        })
    }
}

/// A subsidy application, or a national qualification or funding file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubsidyApplication {
    pub id: String,
    pub programme_id: String,
    pub programme_version: u32,
    pub track: Track,
    pub stage: Stage,
    pub policy_id: Option<String>,
    /// The loan whose guarantee premium a loan-premium programme subsidises.
    pub loan_id: Option<String>,
    pub enterprise_id: String,
    pub status: SubsidyStatus,
    pub amount: Money,
    /// The assessment that gave the amount (none at the qualification stage).
    pub grant: Option<Grant>,
    /// What the applicant declared; `None` where nothing was (an offer) or the reader may not see it.
    pub declarations: Option<Declarations>,
    pub applied_on: Date,
    /// The year a per-enterprise-per-year cap counts the amount in.
    pub cap_year: i32,
    pub local_reviewer: Option<String>,
    pub dept_reviewer: Option<String>,
    pub notice_from: Option<Date>,
    pub notice_to: Option<Date>,
    pub confirm_by: Option<Date>,
    pub reason: Option<String>,
    /// The payment reference (zone) or the ministries' decision reference (national files).
    pub decision_ref: Option<String>,
    pub created_at_us: i64,
    pub updated_at_us: i64,
}

impl SubsidyApplication {
    /// Whether `step` belongs to this application's track.
    fn on_track(&self, step: SubsidyStep) -> bool {
        use SubsidyStep as T;
        match self.track {
            Track::National => matches!(step, T::Recommend | T::Forward | T::Decision),
            Track::Zone => !matches!(step, T::Recommend | T::Forward | T::Decision | T::Confirm | T::Lapse),
            Track::Auto => !matches!(
                step,
                T::Recommend | T::Forward | T::Decision | T::LocalReview | T::DepartmentReview
            ),
        }
    }

    /// The state after `step` (`pass`: the review passes, the decision grants), or why not.
    pub fn apply(&self, step: SubsidyStep, pass: bool) -> Result<SubsidyStatus, FieldError> {
        use SubsidyStatus as S;
        use SubsidyStep as T;
        if !self.on_track(step) {
            return Err(FieldError::new(
                "step",
                "wrong_track",
                format!("「{}」不能执行「{}」", self.track.label_zh(), step.label_zh()),
                format!("a `{}` application has no step `{}`", self.track.code(), step.code()),
            ));
        }
        let next = self.status.apply(step)?;
        Ok(match (step, pass) {
            (T::LocalReview | T::DepartmentReview | T::Recommend, false) => S::Rejected,
            (T::Decision, _) => match (self.stage, pass) {
                (Stage::Qualification, true) => S::Qualified,
                (Stage::Qualification, false) => S::NotQualified,
                (_, true) => S::Granted,
                (_, false) => S::Refused,
            },
            _ => next,
        })
    }

    /// The steps possible now on this application's track (the lapse included).
    pub fn steps(&self) -> Vec<SubsidyStep> {
        self.status.steps().into_iter().filter(|t| self.on_track(*t)).collect()
    }

    /// Whether the public notice is open on `today`.
    pub fn notice_open(&self, today: Date) -> bool {
        self.status == SubsidyStatus::InNotice && self.notice_to.is_some_and(|d| today <= d)
    }

    /// Whether an offer's confirmation period has passed on `today`.
    pub fn offer_expired(&self, today: Date) -> bool {
        self.status == SubsidyStatus::Offered && self.confirm_by.is_some_and(|d| today > d)
    }

    /// Whether this is a qualification granted on or after `since` (a funding file needs one).
    pub fn qualified_since(&self, since: Date) -> bool {
        self.stage == Stage::Qualification
            && self.status == SubsidyStatus::Qualified
            && self.applied_on >= since
    }

    /// Why the application may not be approved yet on `today`: the notice still runs, or an
    /// objection is open.
    pub fn check_approval(&self, today: Date, open_objections: usize) -> Result<(), FieldError> {
        let ends = self.notice_to.unwrap_or(Date::MAX);
        if today <= ends {
            return Err(FieldError::new(
                "status",
                "notice_running",
                format!("公示期至 {ends}，期满后方可批准"),
                format!("the public notice runs until {ends}"),
            ));
        }
        if open_objections > 0 {
            return Err(FieldError::new(
                "status",
                "open_objection",
                "有未处理的公示异议",
                "an objection is still open",
            ));
        }
        Ok(())
    }

    /// Whether the amount counts against the caps (reserved, paid or granted).
    pub fn counts(&self) -> bool {
        matches!(self.stage, Stage::Subsidy | Stage::Funding)
            && (self.status.holds_budget() || self.status.is_paid())
    }

    /// Whether money was granted on the policy: approved, disbursed, or granted by the
    /// ministries (a qualification grants nothing; a clawed-back grant no longer counts).
    pub fn compensated(&self) -> bool {
        matches!(self.stage, Stage::Subsidy | Stage::Funding)
            && (self.status == SubsidyStatus::Approved || self.status.is_paid())
    }
}

/// An objection raised during the public notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Objection {
    pub id: String,
    pub application_id: String,
    pub author: String,
    pub text: String,
    /// How it was resolved: upheld or not, and why; `None` while open.
    pub resolution: Option<Resolution>,
    pub at_us: i64,
}

/// The resolution of an objection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub upheld: bool,
    pub text: String,
}

impl Objection {
    /// The objection's text, checked (5 to 2,000 characters).
    pub fn parse_text(text: &str) -> Result<String, FieldError> {
        let t = text.trim();
        let n = t.chars().count();
        if !(5..=2000).contains(&n) {
            return Err(FieldError::new(
                "text",
                "length",
                "请写明异议及理由（5–2000 字）",
                "state the objection and its grounds (5 to 2,000 characters)",
            ));
        }
        Ok(t.to_owned())
    }

    /// Whether the objection is still open.
    pub fn is_open(&self) -> bool {
        self.resolution.is_none()
    }
}

/// A reason given with a refusal, a rejection or a resolution (2 to 500 characters).
pub fn parse_reason(r: &str) -> Result<String, FieldError> {
    let r = r.trim();
    let n = r.chars().count();
    if !(2..=500).contains(&n) {
        return Err(FieldError::new(
            "reason",
            "reason_required",
            "请写明理由（2–500 字）",
            "state the reason (2 to 500 characters)",
        ));
    }
    Ok(r.to_owned())
}

/// Ledger codes of subsidies.
pub mod codes {
    /// The zone appropriates a programme's budget.
    pub const BUDGET: u16 = 301;
    /// Budget reserved for an application (pending; posted on disbursement, voided on rejection).
    pub const RESERVE: u16 = 302;
    /// Paid to the enterprise.
    pub const DISBURSE: u16 = 303;
    /// Clawed back from the enterprise.
    pub const CLAWBACK: u16 = 304;
}

string_enum! {
    /// Which date picks the programme version that applies.
    VersionDate {
        PolicyStart = "policy_start", "按保单起保日", "The policy's start date";
        ApplicationDate = "application_date", "按申请日", "The application date";
    }
}

string_enum! {
    /// Which year a per-enterprise-per-year cap counts in.
    CapYear {
        PolicyStart = "policy_start", "起保日所在年度", "The year the policy starts";
        Application = "application", "申请日所在年度", "The year of the application";
    }
}

string_enum! {
    /// What a premium rate above the cap does.
    RateCapAction {
        Reject = "reject", "不予补贴", "Reject the application";
        CapBase = "cap_base", "按上限费率计算补贴基数", "Cap the subsidy base at the capped rate";
    }
}

string_enum! {
    /// Which premium the share is taken of.
    PremiumBasis {
        Invoiced = "invoiced", "发票保费", "Premium invoiced";
        Paid = "paid", "实际缴纳保费", "Premium actually paid";
    }
}

/// A product group's shares by year of cover (the first entry for the first year; the last
/// applies to later years): step-down is a falling list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ShareGroup {
    pub name: String,
    /// The group's name in English (empty: the Chinese name is shown).
    #[serde(default)]
    pub name_en: String,
    pub product_types: Vec<String>,
    pub share_bp_by_year: Vec<u32>,
}

/// The new-material limit: the subsidised limit is at most `multiple` × the contract amount
/// and at most `cap_yuan`; above it, the premium is subsidised pro rata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LimitRule {
    pub multiple: u32,
    pub cap_yuan: i64,
}

/// The auto-grant flow (免申即享): eligible policies go onto a notice list and the
/// enterprise confirms within so many working days, or the grant lapses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AutoGrant {
    pub confirm_working_days: u32,
}

/// One version of a programme. Every number carries the programme's confidence; a
/// programme whose numbers are not a rule of this zone says so in `label_zh`/`label_en`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Programme {
    pub id: String,
    pub version: u32,
    pub name_zh: String,
    pub name_en: String,
    pub kind: ProgrammeKind,
    /// The document the rules come from.
    pub source: String,
    pub confidence: Confidence,
    /// Shown wherever the programme's numbers are (e.g. "example from Suzhou, not a Donghu rule").
    #[serde(default)]
    pub label_zh: String,
    #[serde(default)]
    pub label_en: String,
    pub valid_from: Date,
    #[serde(default)]
    pub valid_to: Option<Date>,
    pub version_date: VersionDate,
    pub groups: Vec<ShareGroup>,
    /// The enterprise holds at least one of these, valid on the version date (empty: none needed).
    #[serde(default)]
    pub qualifications_any: Vec<QualificationKind>,
    /// The enterprise is tagged with one of these zone industries (empty: any).
    #[serde(default)]
    pub industries_any: Vec<String>,
    /// Registration: the USCC's division code (characters 3–8) starts with one of these.
    #[serde(default)]
    pub registered_in: Vec<String>,
    /// Premium rate = premium ÷ sum insured (or limit), capped at this many basis points.
    #[serde(default)]
    pub rate_cap_bp: Option<u32>,
    pub rate_cap_action: RateCapAction,
    pub premium_basis: PremiumBasis,
    /// The premium must be paid in full before an application (rules.md §5, "post-payment
    /// (premium fully paid)"). Unset: true for zone programmes, false for national ones
    /// (which subsidise the premium actually paid). Read it through `requires_full_payment()`.
    #[serde(default)]
    pub requires_full_payment: Option<bool>,
    #[serde(default)]
    pub per_policy_cap_yuan: Option<i64>,
    #[serde(default)]
    pub per_enterprise_year_cap_yuan: Option<i64>,
    pub cap_year: CapYear,
    /// Years of cover that may be subsidised.
    #[serde(default)]
    pub max_years: Option<u32>,
    /// Cover must run without a gap from one policy to the next.
    #[serde(default)]
    pub continuous: bool,
    #[serde(default)]
    pub min_cumulative_premium_yuan: Option<i64>,
    /// The longest policy term subsidised.
    #[serde(default)]
    pub max_term_months: Option<u32>,
    /// The policy must name an insured object of one of these kinds (first-set: equipment;
    /// new materials: material); years, continuity and cumulative premium are then counted
    /// per enterprise and object, across policies and insurers (rules.md §3.1, §4).
    #[serde(default)]
    pub object_kinds: Vec<crate::subject::ObjectKind>,
    /// The policy must name a beneficiary (the user of first-set equipment or of a new
    /// material, rules.md §3.1, §4).
    #[serde(default)]
    pub beneficiary_required: bool,
    /// Programmes in the same group never both pay for one policy: two zone programmes
    /// refuse each other; a zone programme meets a national one as `stacking` says.
    #[serde(default)]
    pub no_stacking_group: Option<String>,
    /// A zone programme facing national compensation of its group on the same policy.
    #[serde(default = "refuse_stacking")]
    pub stacking: Stacking,
    /// With `cap_combined_share`: national and zone support together at most this share of
    /// the premium (basis points; Fujian: 5000).
    #[serde(default)]
    pub combined_share_cap_bp: Option<u32>,
    /// Application windows (inclusive); empty: always open.
    #[serde(default)]
    pub windows: Vec<(Date, Date)>,
    /// The budget of this version (zone programmes; national money is not the zone's).
    #[serde(default)]
    pub budget_yuan: Option<i64>,
    #[serde(default)]
    pub limit_rule: Option<LimitRule>,
    #[serde(default)]
    pub exclude_related_party: bool,
    #[serde(default)]
    pub exclude_already_compensated: bool,
    /// Public notice (公示) period in working days.
    pub notice_working_days: u32,
    /// Years an enterprise is banned after a clawback for fraud.
    pub ban_years: u32,
    #[serde(default)]
    pub auto_grant: Option<AutoGrant>,
    /// The documents an application carries before a review passes it (rules.md §3.3).
    #[serde(default)]
    pub documents: Vec<RequiredDocument>,
    /// A premium subsidy for the guarantee policy of a loan under a loan scheme (C7), paid
    /// after the loan is repaid in full (rules.md §5: Shenzhen, Shanghai). Such a programme
    /// takes loans, not catalogue policies.
    #[serde(default)]
    pub loan: Option<LoanRule>,
}

/// What a loan-premium programme asks of the loan (rules.md §5, Shenzhen: the loan ran at
/// least three months, no arrears, repaid in full).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LoanRule {
    /// The loan ran at least this many months from disbursement to full repayment.
    #[serde(default)]
    pub min_months: u32,
    /// The most days any payment was late (0: no arrears at all).
    #[serde(default)]
    pub max_days_past_due: u32,
}

/// What the check knows of a loan: when it was disbursed and repaid, and how late any
/// payment was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoanFacts {
    pub disbursed_on: Date,
    /// The day the last of the loan was repaid (none: not repaid in full).
    pub repaid_on: Option<Date>,
    /// The most days any instalment was past due when it was paid (or is today).
    pub max_days_past_due: i64,
    /// The bank claimed on the loan.
    pub claimed: bool,
}

/// A document a programme asks for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RequiredDocument {
    /// A stable code (`policy_and_invoice`): what an upload is filed as.
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
}

impl Programme {
    /// The listed documents none of `filed` (the codes uploads were filed as) answers.
    pub fn missing_documents<'a>(&'a self, filed: &[&str]) -> Vec<&'a RequiredDocument> {
        self.documents.iter().filter(|d| !filed.contains(&d.code.as_str())).collect()
    }
}

/// The shipped programmes (embedded; a zone loads new versions as files).
pub const SHIPPED: &str = include_str!("../../../data/subsidy/programmes.toml");

#[derive(serde::Deserialize)]
struct File {
    programme: Vec<Programme>,
}

/// Reads programmes from TOML, checking each.
pub fn parse_programmes(text: &str) -> Result<Vec<Programme>, FieldError> {
    let f: File = toml::from_str(text).map_err(|e| {
        FieldError::new(
            "programmes",
            "toml",
            format!("补贴方案文件格式错误：{e}"),
            format!("the programme file is malformed: {e}"),
        )
    })?;
    for p in &f.programme {
        p.check()?;
    }
    Ok(f.programme)
}

impl Programme {
    /// Checks the rule set for contradictions.
    pub fn check(&self) -> Result<(), FieldError> {
        let bad = |zh: String, en: String| FieldError::new("programme", "programme", zh, en);
        if self.groups.is_empty()
            || self.groups.iter().any(|g| g.share_bp_by_year.is_empty() || g.product_types.is_empty())
        {
            return Err(bad(
                format!("方案 {} 须列出产品组及各年度补贴比例", self.id),
                format!("programme {} needs product groups with shares by year", self.id),
            ));
        }
        if self.groups.iter().flat_map(|g| g.share_bp_by_year.iter()).any(|s| *s > 10_000) {
            return Err(bad(
                format!("方案 {} 的补贴比例超过 100%", self.id),
                format!("programme {} has a share above 100%", self.id),
            ));
        }
        if self.kind == ProgrammeKind::Zone && self.budget_yuan.is_none_or(|b| b <= 0) {
            return Err(bad(
                format!("示范区方案 {} 须写明预算（budget_yuan）", self.id),
                format!("zone programme {} must state its budget (budget_yuan)", self.id),
            ));
        }
        if self.loan.is_some() && (self.kind != ProgrammeKind::Zone || self.auto_grant.is_some()) {
            return Err(bad(
                format!("贷款保费补贴方案 {} 须为示范区方案，且按申请审核（不自动发放）", self.id),
                format!("loan-premium programme {} must be a zone programme reviewed on application (not auto-granted)", self.id),
            ));
        }
        if self.valid_to.is_some_and(|t| t < self.valid_from) || self.windows.iter().any(|(a, b)| b < a) {
            return Err(bad(
                format!("方案 {} 的日期区间颠倒", self.id),
                format!("programme {} has a date range the wrong way round", self.id),
            ));
        }
        Ok(())
    }

    /// Whether this version is in force on `d`.
    pub fn in_force_on(&self, d: Date) -> bool {
        d >= self.valid_from && self.valid_to.is_none_or(|t| d <= t)
    }

    /// Whether the premium must be paid in full before an application (default: zone
    /// programmes yes, national programmes no).
    pub fn requires_full_payment(&self) -> bool {
        self.requires_full_payment.unwrap_or(self.kind == ProgrammeKind::Zone)
    }

    /// The product group of a product type.
    pub fn group_of(&self, product_type: &str) -> Option<&ShareGroup> {
        self.groups.iter().find(|g| g.product_types.iter().any(|t| t == product_type))
    }
}

/// Picks the version of programme `id` in force on the date the programme says.
pub fn version_for<'a>(
    versions: &'a [Programme],
    id: &str,
    policy_start: Date,
    applied_on: Date,
) -> Option<&'a Programme> {
    versions
        .iter()
        .filter(|p| p.id == id)
        .filter(|p| {
            p.in_force_on(match p.version_date {
                VersionDate::PolicyStart => policy_start,
                VersionDate::ApplicationDate => applied_on,
            })
        })
        .max_by_key(|p| (p.valid_from, p.version))
}

/// What the check needs to know about a policy, its enterprise and what was granted before.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Case {
    pub product_type: String,
    pub premium_invoiced_fen: i64,
    pub premium_paid_fen: i64,
    /// Sum insured, or the limit where the product has none (the premium rate's denominator).
    pub sum_insured_fen: i64,
    pub limit_fen: i64,
    pub policy_start: Option<Date>,
    pub policy_end: Option<Date>,
    pub applied_on: Option<Date>,
    pub qualifications: Vec<(QualificationKind, Date, Date)>,
    pub industries: Vec<String>,
    pub uscc: String,
    /// The kind of the policy's insured object, where it names one.
    pub object_kind: Option<crate::subject::ObjectKind>,
    /// The policy names a beneficiary.
    pub beneficiary_named: bool,
    /// Which year of subsidised cover this policy is (1 = the first), counted per insured
    /// object where the policy names one, else along its renewal chain.
    pub year_of_cover: u32,
    /// Cover ran without a gap up to this policy's start: the previous policy of the same
    /// object (any insurer) or of the renewal chain lasted until the day before, or later.
    pub continuous: bool,
    pub cumulative_premium_fen: i64,
    /// Already granted to the enterprise in this programme in the cap year.
    pub granted_in_cap_year_fen: i64,
    /// Budget still free in this programme version (none: no budget).
    pub budget_left_fen: Option<i64>,
    /// The policy already has a grant from a programme of the same no-stacking group.
    pub stacked: bool,
    /// National compensation of the programme's no-stacking group applied for or granted on
    /// this policy (the amount; 0 while only applied for), for a zone programme.
    pub national_in_group_fen: Option<i64>,
    pub contract_amount_fen: Option<i64>,
    pub related_party: bool,
    /// The applicant declares the project already compensated.
    pub already_compensated: bool,
    /// The programmes that already granted money for this policy on the platform (approved,
    /// disbursed or granted by the ministries), whatever the applicant declares.
    pub compensated_under: Vec<String>,
    /// The enterprise is banned from the programme until this date.
    pub banned_until: Option<Date>,
    /// The case is a loan's guarantee policy (the loan's facts), not a catalogue policy.
    pub loan: Option<LoanFacts>,
}

/// One line of the computation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Step {
    pub label_zh: String,
    pub label_en: String,
    pub value_fen: i64,
}

/// A rule that failed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Failure {
    pub rule: String,
    pub reason_zh: String,
    pub reason_en: String,
}

/// An eligible case: the amount, how it was reached, and which cap bound (if any).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Grant {
    pub programme_id: String,
    pub programme_version: u32,
    pub amount_fen: i64,
    pub steps: Vec<Step>,
    pub bound_by: Option<String>,
}

/// The words for a rule or cap `assess` names (`Failure::rule`, `Grant::bound_by`).
pub fn rule_label(rule: &str) -> Option<(&'static str, &'static str)> {
    Some(match rule {
        "product_type" => ("产品类型", "product type"),
        "version" => ("方案版本", "programme version"),
        "window" => ("申报期", "application window"),
        "banned" => ("禁止申请期", "ban after a clawback"),
        "qualification" => ("企业资质", "qualification"),
        "industry" => ("支持产业", "industry"),
        "registration" => ("登记地", "place of registration"),
        "term" => ("保险期间", "policy term"),
        "max_years" => ("补贴年限", "years of subsidy"),
        "insured_object" => ("保险标的", "insured object"),
        "beneficiary" => ("受益人", "beneficiary"),
        "continuous" => ("连续投保", "continuous cover"),
        "min_cumulative_premium" => ("累计保费下限", "minimum cumulative premium"),
        "no_stacking" => ("不得重复享受", "no stacking"),
        "no_stacking_national" => ("不与国家补偿重复", "no stacking with national compensation"),
        "combined_share_cap" => ("与国家补偿合计上限", "combined share cap"),
        "related_party" => ("关联方", "related party"),
        "already_compensated" => ("已获补偿", "already compensated"),
        "premium_paid" => ("保费缴纳", "premium paid"),
        "rate_cap" => ("费率上限", "premium-rate cap"),
        "contract_amount" => ("采购合同金额", "contract amount"),
        "zero" => ("可补贴金额为零", "nothing to grant"),
        "per_policy_cap" => ("单张保单上限", "per-policy cap"),
        "per_enterprise_year_cap" => ("每户每年上限", "per-enterprise-per-year cap"),
        "budget" => ("预算余额", "budget left"),
        "loan" => ("贷款保证保险", "loan guarantee policy"),
        "loan_repaid" => ("贷款结清", "loan repaid in full"),
        "loan_months" => ("贷款期限", "loan duration"),
        "loan_arrears" => ("无欠息逾期", "no arrears"),
        _ => return None,
    })
}

fn yuan(f: i64) -> String {
    crate::Money::from_fen(f).to_yuan_string()
}

fn pct(bp: u32) -> String {
    format!("{}.{:02}%", bp / 100, bp % 100)
}

/// Runs the programme's rules over a case: the grant, or every rule that failed.
pub fn assess(p: &Programme, c: &Case) -> Result<Grant, Vec<Failure>> {
    let mut fail = Vec::new();
    let mut no = |rule: &str, zh: String, en: String| {
        fail.push(Failure { rule: rule.to_owned(), reason_zh: zh, reason_en: en })
    };
    let on = match p.version_date {
        VersionDate::PolicyStart => c.policy_start,
        VersionDate::ApplicationDate => c.applied_on,
    };
    let group = p.group_of(&c.product_type);
    if group.is_none() {
        no(
            "product_type",
            format!("产品类型 {} 不在本方案补贴范围内", c.product_type),
            format!("product type {} is not covered by the programme", c.product_type),
        );
    }
    match (&p.loan, &c.loan) {
        (None, Some(_)) => no(
            "loan",
            "本方案不补贴贷款保证保险保费".into(),
            "the programme does not subsidise the premium of a loan's guarantee policy".into(),
        ),
        (Some(_), None) => no(
            "loan",
            "本方案只补贴政银保贷款的保证保险保费，请从贷款页面申请".into(),
            "the programme subsidises only the guarantee premium of a scheme loan: apply from the loan"
                .into(),
        ),
        (Some(rule), Some(l)) => match l.repaid_on {
            None => no(
                "loan_repaid",
                if l.claimed {
                    "贷款未按期结清（银行已索赔），不予补贴".into()
                } else {
                    "贷款尚未全部结清；本方案在还清本息后补贴".into()
                },
                if l.claimed {
                    "the loan was not repaid (the bank claimed on it): no subsidy".into()
                } else {
                    "the loan is not repaid in full; the programme pays once principal and interest are repaid".into()
                },
            ),
            Some(repaid) => {
                if repaid < crate::loan::add_months(l.disbursed_on, i64::from(rule.min_months)) {
                    no(
                        "loan_months",
                        format!(
                            "贷款自 {} 放款至 {repaid} 结清，不足 {} 个月",
                            l.disbursed_on, rule.min_months
                        ),
                        format!(
                            "the loan ran from {} to {repaid}, less than {} months",
                            l.disbursed_on, rule.min_months
                        ),
                    );
                }
                if l.max_days_past_due > i64::from(rule.max_days_past_due) {
                    no(
                        "loan_arrears",
                        format!(
                            "还款曾逾期 {} 天（本方案{}）",
                            l.max_days_past_due,
                            if rule.max_days_past_due == 0 {
                                "要求无欠息逾期".to_owned()
                            } else {
                                format!("最多逾期 {} 天", rule.max_days_past_due)
                            }
                        ),
                        format!(
                            "a payment was {} days late ({})",
                            l.max_days_past_due,
                            if rule.max_days_past_due == 0 {
                                "the programme asks for no arrears".to_owned()
                            } else {
                                format!("the programme allows at most {} days", rule.max_days_past_due)
                            }
                        ),
                    );
                }
            }
        },
        (None, None) => {}
    }
    if let Some(d) = on {
        if !p.in_force_on(d) {
            no(
                "version",
                format!("本方案版本不适用于 {d}"),
                format!("this programme version does not apply on {d}"),
            );
        }
    }
    if let (Some(d), false) = (c.applied_on, p.windows.is_empty()) {
        if !p.windows.iter().any(|(a, b)| d >= *a && d <= *b) {
            no("window", format!("{d} 不在申报期内"), format!("{d} is outside the application windows"));
        }
    }
    if let (Some(until), Some(d)) = (c.banned_until, c.applied_on) {
        if d < until {
            no(
                "banned",
                format!("企业因被追回补贴，{until} 前不得申请"),
                format!("the enterprise is banned from applying until {until} after a clawback"),
            );
        }
    }
    if !p.qualifications_any.is_empty() {
        let d = on.unwrap_or(Date::MIN);
        let ok = c
            .qualifications
            .iter()
            .any(|(k, from, to)| p.qualifications_any.contains(k) && *from <= d && d <= *to);
        if !ok {
            let names: Vec<&str> = p.qualifications_any.iter().map(|q| q.label_zh()).collect();
            no(
                "qualification",
                format!("须在 {d} 持有有效资质之一：{}", names.join("、")),
                format!("needs one of the qualifications, valid on {d}"),
            );
        }
    }
    if !p.industries_any.is_empty() && !c.industries.iter().any(|i| p.industries_any.contains(i)) {
        no(
            "industry",
            "企业不属于本方案支持的产业".into(),
            "the enterprise is not in an industry the programme supports".into(),
        );
    }
    if !p.registered_in.is_empty() {
        let division = c.uscc.get(2..8).unwrap_or_default();
        if !p.registered_in.iter().any(|r| division.starts_with(r.as_str())) {
            no(
                "registration",
                format!("企业登记机关行政区划码 {division} 不在本方案范围内"),
                format!("the enterprise's registration division {division} is outside the programme"),
            );
        }
    }
    if let (Some(max), Some(s), Some(e)) = (p.max_term_months, c.policy_start, c.policy_end) {
        let months = crate::cover::months_begun(s, e);
        if u32::from(months) > max {
            no(
                "term",
                format!("保险期间 {months} 个月，超过 {max} 个月"),
                format!("the term of {months} months exceeds {max}"),
            );
        }
    }
    if !p.object_kinds.is_empty() && !c.object_kind.is_some_and(|k| p.object_kinds.contains(&k)) {
        let zh: Vec<&str> = p.object_kinds.iter().map(|k| k.label_zh()).collect();
        let en: Vec<&str> = p.object_kinds.iter().map(|k| k.label_en()).collect();
        no(
            "insured_object",
            format!("保单须列明保险标的（{}）及其型号或牌号", zh.join("或")),
            format!("the policy must name its insured object ({}) with its model or grade", en.join(" or ")),
        );
    }
    if p.beneficiary_required && !c.beneficiary_named {
        no(
            "beneficiary",
            "保单须列明受益人（装备或材料的用户）".into(),
            "the policy must name the beneficiary (the user of the equipment or material)".into(),
        );
    }
    if let Some(max) = p.max_years {
        if c.year_of_cover > max {
            no(
                "max_years",
                format!("已连续补贴 {} 年，最多 {max} 年", c.year_of_cover - 1),
                format!("already subsidised for {} years, at most {max}", c.year_of_cover - 1),
            );
        }
    }
    if p.continuous && c.year_of_cover > 1 && !c.continuous {
        no("continuous", "续保须连续不断档".into(), "cover must continue without a gap".into());
    }
    if let Some(min) = p.min_cumulative_premium_yuan {
        if c.cumulative_premium_fen < min.saturating_mul(100) {
            no(
                "min_cumulative_premium",
                format!("累计保费 {} 元未达 {min} 元", yuan(c.cumulative_premium_fen)),
                format!("cumulative premium {} is below {min} yuan", yuan(c.cumulative_premium_fen)),
            );
        }
    }
    if c.stacked {
        no(
            "no_stacking",
            "该保单已获同类补贴，不得重复享受".into(),
            "the policy already has a subsidy of the same kind (no stacking)".into(),
        );
    }
    if p.kind == ProgrammeKind::Zone && p.stacking == Stacking::Refuse && c.national_in_group_fen.is_some() {
        no(
            "no_stacking_national",
            "该保单已申请或获得国家保险补偿，不得重复享受财政补贴".into(),
            "the policy is compensated (or applied for) under a national programme: no double fiscal support"
                .into(),
        );
    }
    if p.exclude_related_party && c.related_party {
        no(
            "related_party",
            "用户为关联企业或贸易商，不予补贴".into(),
            "the user is a related party or a trader".into(),
        );
    }
    if p.exclude_already_compensated && !c.compensated_under.is_empty() {
        let under = c.compensated_under.join("、");
        let under_en = c.compensated_under.join(", ");
        no(
            "already_compensated",
            format!("平台记录显示该保单已获补偿（方案：{under}）"),
            format!("the platform's records show the policy already compensated (programme: {under_en})"),
        );
    } else if p.exclude_already_compensated && c.already_compensated {
        no("already_compensated", "该项目已获补偿".into(), "the project has already been compensated".into());
    }
    if p.requires_full_payment() && c.premium_paid_fen < c.premium_invoiced_fen {
        no(
            "premium_paid",
            format!(
                "保费未缴清：已缴 {} 元，应缴 {} 元；本方案须缴清全部保费后方可申请",
                yuan(c.premium_paid_fen.max(0)),
                yuan(c.premium_invoiced_fen)
            ),
            format!(
                "the premium is not fully paid: {} yuan paid of {} yuan due; the programme requires the full premium paid before an application",
                yuan(c.premium_paid_fen.max(0)),
                yuan(c.premium_invoiced_fen)
            ),
        );
    } else if c.premium_paid_fen <= 0 && p.premium_basis == PremiumBasis::Paid {
        no("premium_paid", "保费尚未缴纳".into(), "no premium has been paid".into());
    }
    let mut base = match p.premium_basis {
        PremiumBasis::Invoiced => c.premium_invoiced_fen,
        PremiumBasis::Paid => c.premium_paid_fen.min(c.premium_invoiced_fen),
    };
    let mut steps = vec![Step {
        label_zh: format!("补贴基数：{}", p.premium_basis.label_zh()),
        label_en: format!("base: {}", p.premium_basis.label_en()),
        value_fen: base,
    }];
    if let Some(cap) = p.rate_cap_bp {
        let over = c.sum_insured_fen <= 0
            || i128::from(c.premium_invoiced_fen) * 10_000 > i128::from(cap) * i128::from(c.sum_insured_fen);
        if over {
            match p.rate_cap_action {
                RateCapAction::Reject => no(
                    "rate_cap",
                    format!("费率（保费 ÷ 保险金额）超过 {}", pct(cap)),
                    format!("the premium rate (premium ÷ sum insured) exceeds {}", pct(cap)),
                ),
                RateCapAction::CapBase => {
                    let capped = round_div(i128::from(c.sum_insured_fen.max(0)) * i128::from(cap), 10_000);
                    base = base.min(capped);
                    steps.push(Step {
                        label_zh: format!("费率超过 {}，基数按上限费率计算", pct(cap)),
                        label_en: format!("rate above {}: base at the capped rate", pct(cap)),
                        value_fen: base,
                    });
                }
            }
        }
    }
    if let (Some(rule), Some(contract)) = (p.limit_rule, c.contract_amount_fen) {
        let allowed =
            (contract.saturating_mul(i64::from(rule.multiple))).min(rule.cap_yuan.saturating_mul(100));
        if c.limit_fen > allowed && c.limit_fen > 0 {
            base = round_div(i128::from(base) * i128::from(allowed), i128::from(c.limit_fen));
            steps.push(Step {
                label_zh: format!(
                    "限额超过 min({}×合同金额, {} 元)，按比例计算",
                    rule.multiple, rule.cap_yuan
                ),
                label_en: format!(
                    "limit above min({}× contract, {} yuan): pro rata",
                    rule.multiple, rule.cap_yuan
                ),
                value_fen: base,
            });
        }
    } else if p.limit_rule.is_some() {
        no("contract_amount", "须填写采购合同金额".into(), "the purchase-contract amount is required".into());
    }
    if !fail.is_empty() {
        return Err(fail);
    }
    let Some(group) = group else { return Err(fail) };
    let idx = usize::try_from(c.year_of_cover.max(1) - 1).unwrap_or(usize::MAX);
    let share = group.share_bp_by_year.get(idx).or(group.share_bp_by_year.last()).copied().unwrap_or(0);
    let mut amount = round_div(i128::from(base) * i128::from(share), 10_000);
    steps.push(Step {
        label_zh: format!("{}，第 {} 年，补贴 {}", group.name, c.year_of_cover.max(1), pct(share)),
        label_en: format!(
            "{}, year {}, share {}",
            if group.name_en.is_empty() { &group.name } else { &group.name_en },
            c.year_of_cover.max(1),
            pct(share)
        ),
        value_fen: amount,
    });
    let mut bound_by = None;
    let mut cap =
        |amount: &mut i64, limit: i64, code: &str, zh: String, en: String, steps: &mut Vec<Step>| {
            if *amount > limit {
                *amount = limit.max(0);
                bound_by = Some(code.to_owned());
                steps.push(Step { label_zh: zh, label_en: en, value_fen: *amount });
            }
        };
    if let Some(c1) = p.per_policy_cap_yuan {
        cap(
            &mut amount,
            c1.saturating_mul(100),
            "per_policy_cap",
            format!("单张保单上限 {c1} 元"),
            format!("per-policy cap {c1} yuan"),
            &mut steps,
        );
    }
    if let Some(c2) = p.per_enterprise_year_cap_yuan {
        let left = c2.saturating_mul(100) - c.granted_in_cap_year_fen;
        cap(
            &mut amount,
            left,
            "per_enterprise_year_cap",
            format!("每户每年上限 {c2} 元（本年已获 {} 元）", yuan(c.granted_in_cap_year_fen)),
            format!(
                "per-enterprise-per-year cap {c2} yuan ({} granted this year)",
                yuan(c.granted_in_cap_year_fen)
            ),
            &mut steps,
        );
    }
    if let (ProgrammeKind::Zone, Stacking::CapCombinedShare, Some(national)) =
        (p.kind, p.stacking, c.national_in_group_fen)
    {
        let share = p.combined_share_cap_bp.unwrap_or(5_000);
        let all = round_div(i128::from(c.premium_invoiced_fen.max(0)) * i128::from(share), 10_000);
        cap(
            &mut amount,
            all - national,
            "combined_share_cap",
            format!("与国家补偿合计不超过保费的 {}（国家补偿 {} 元）", pct(share), yuan(national)),
            format!(
                "with national compensation at most {} of the premium ({} yuan national)",
                pct(share),
                yuan(national)
            ),
            &mut steps,
        );
    }
    if let Some(left) = c.budget_left_fen {
        cap(
            &mut amount,
            left,
            "budget",
            format!("预算余额 {} 元", yuan(left)),
            format!("budget left {} yuan", yuan(left)),
            &mut steps,
        );
    }
    if amount <= 0 {
        let why = bound_by.clone().unwrap_or_default();
        return Err(vec![Failure {
            rule: if why.is_empty() { "zero".into() } else { why },
            reason_zh: "可补贴金额为零（上限或预算已用尽）".into(),
            reason_en: "nothing left to grant (a cap or the budget is used up)".into(),
        }]);
    }
    Ok(Grant {
        programme_id: p.id.clone(),
        programme_version: p.version,
        amount_fen: amount,
        steps,
        bound_by,
    })
}

/// Working days by a holiday calendar with make-up working days (调休), from configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Calendar {
    /// Where the dates come from and how sure they are.
    #[serde(default)]
    pub source: String,
    pub confidence: Option<Confidence>,
    #[serde(default)]
    pub holidays: Vec<Date>,
    /// Weekend days that are working days.
    #[serde(default)]
    pub workdays: Vec<Date>,
}

/// The shipped calendar.
pub const SHIPPED_CALENDAR: &str = include_str!("../../../data/subsidy/calendar.toml");

impl Calendar {
    /// Reads a calendar file.
    pub fn parse(text: &str) -> Result<Calendar, FieldError> {
        toml::from_str(text).map_err(|e| {
            FieldError::new(
                "calendar",
                "toml",
                format!("工作日历格式错误：{e}"),
                format!("the calendar is malformed: {e}"),
            )
        })
    }

    /// Whether `d` is a working day.
    pub fn is_working(&self, d: Date) -> bool {
        if self.workdays.contains(&d) {
            return true;
        }
        let weekend = matches!(d.weekday(), time::Weekday::Saturday | time::Weekday::Sunday);
        !weekend && !self.holidays.contains(&d)
    }

    /// The `n`-th working day after `d` (not counting `d`).
    pub fn add_working_days(&self, d: Date, n: u32) -> Date {
        let mut day = d;
        let mut left = n;
        while left > 0 {
            day = day.next_day().unwrap_or(day);
            if self.is_working(day) {
                left -= 1;
            }
        }
        day
    }
}

#[cfg(test)]
#[allow(clippy::inconsistent_digit_grouping)] // amounts written yuan_fen
mod tests {
    use super::*;
    use time::macros::date;

    fn shipped() -> Vec<Programme> {
        parse_programmes(SHIPPED).unwrap()
    }

    fn case(product: &str, premium: i64, sum_insured: i64) -> Case {
        use crate::subject::ObjectKind;
        Case {
            product_type: product.into(),
            // First-set and new-material cover names its object and the user as beneficiary.
            object_kind: match product {
                "first_set_equipment" => Some(ObjectKind::Equipment),
                "new_material_first_batch" => Some(ObjectKind::Material),
                _ => None,
            },
            beneficiary_named: product == "first_set_equipment" || product == "new_material_first_batch",
            premium_invoiced_fen: premium,
            premium_paid_fen: premium,
            sum_insured_fen: sum_insured,
            limit_fen: sum_insured,
            policy_start: Some(date!(2026 - 03 - 01)),
            policy_end: Some(date!(2027 - 02 - 28)),
            applied_on: Some(date!(2026 - 04 - 01)),
            qualifications: vec![(QualificationKind::HighTech, date!(2025 - 01 - 01), date!(2027 - 12 - 31))],
            industries: vec!["光电子信息".into()],
            uscc: "91420100MA4KXXXX0X".into(),
            year_of_cover: 1,
            continuous: true,
            cumulative_premium_fen: premium,
            ..Default::default()
        }
    }

    #[test]
    fn shipped_programmes_parse_and_pick_their_version() {
        let ps = shipped();
        for id in ["first_set", "new_material", "zone_tech_insurance"] {
            assert!(ps.iter().any(|p| p.id == id), "{id}");
        }
        let v = version_for(&ps, "first_set", date!(2023 - 06 - 01), date!(2024 - 07 - 01)).unwrap();
        assert_eq!(v.version, 2015);
        let v = version_for(&ps, "first_set", date!(2024 - 06 - 01), date!(2024 - 07 - 01)).unwrap();
        assert_eq!(v.version, 2024);
        let zone = ps.iter().find(|p| p.id == "zone_tech_insurance").unwrap();
        assert_eq!(zone.confidence, Confidence::Unconfirmed);
        assert!(zone.label_en.contains("not a Donghu rule"));
        // Every shipped group and document has its English name (the English pages show it).
        for p in &ps {
            for g in &p.groups {
                assert!(!g.name_en.is_empty() && g.name_en.is_ascii(), "{} {}", p.id, g.name);
            }
            for d in &p.documents {
                assert!(!d.name_en.is_empty() && d.name_en.is_ascii(), "{} {}", p.id, d.code);
            }
        }
    }

    #[test]
    fn zone_subsidy_is_half_the_premium_up_to_the_yearly_cap() {
        let ps = shipped();
        let zone = ps.iter().find(|p| p.id == "zone_tech_insurance").unwrap();
        let g = assess(zone, &case("rd_liability", 20_000_00, 5_000_000_00)).unwrap();
        assert_eq!((g.amount_fen, g.bound_by.as_deref()), (10_000_00, None));
        let mut c = case("rd_liability", 800_000_00, 50_000_000_00);
        c.granted_in_cap_year_fen = 150_000_00;
        let g = assess(zone, &c).unwrap();
        assert_eq!((g.amount_fen, g.bound_by.as_deref()), (150_000_00, Some("per_enterprise_year_cap")));
        let mut c = case("rd_liability", 20_000_00, 5_000_000_00);
        c.qualifications.clear();
        c.product_type = "no_such_type".into();
        let f = assess(zone, &c).unwrap_err();
        let rules: Vec<&str> = f.iter().map(|x| x.rule.as_str()).collect();
        assert!(rules.contains(&"product_type") && rules.contains(&"qualification"), "{rules:?}");
    }

    #[test]
    fn a_loan_premium_is_subsidised_only_once_the_loan_is_repaid_on_time() {
        let ps = shipped();
        let prog = ps.iter().find(|p| p.id == "loan_guarantee_premium").unwrap();
        assert_eq!(prog.loan, Some(LoanRule { min_months: 3, max_days_past_due: 0 }));
        // A 1,000,000-yuan loan's guarantee premium of 25,000 paid; repaid on time after a year.
        let mut c = case("loan_guarantee", 25_000_00, 1_000_000_00);
        c.loan = Some(LoanFacts {
            disbursed_on: date!(2025 - 03 - 10),
            repaid_on: Some(date!(2026 - 03 - 10)),
            max_days_past_due: 0,
            claimed: false,
        });
        let g = assess(prog, &c).unwrap();
        assert_eq!((g.amount_fen, g.bound_by.as_deref()), (12_500_00, None));
        let rules = |c: &Case, p: &Programme| -> Vec<String> {
            assess(p, c).map_or_else(|f| f.into_iter().map(|x| x.rule).collect(), |_| Vec::new())
        };
        // Not repaid yet; repaid within three months; a payment ever late; claimed on.
        let mut open = c.clone();
        open.loan = open.loan.map(|l| LoanFacts { repaid_on: None, ..l });
        assert_eq!(rules(&open, prog), ["loan_repaid"]);
        let mut early = c.clone();
        early.loan = early.loan.map(|l| LoanFacts { repaid_on: Some(date!(2025 - 06 - 09)), ..l });
        assert_eq!(rules(&early, prog), ["loan_months"]);
        early.loan = early.loan.map(|l| LoanFacts { repaid_on: Some(date!(2025 - 06 - 10)), ..l });
        assert!(rules(&early, prog).is_empty());
        let mut late = c.clone();
        late.loan = late.loan.map(|l| LoanFacts { max_days_past_due: 4, ..l });
        assert_eq!(rules(&late, prog), ["loan_arrears"]);
        let mut claimed = c.clone();
        claimed.loan = claimed.loan.map(|l| LoanFacts { repaid_on: None, claimed: true, ..l });
        let f = assess(prog, &claimed).unwrap_err();
        assert!(f[0].reason_en.contains("claimed"), "{f:?}");
        // A catalogue policy under the loan programme, and a loan under a policy programme.
        let mut policy = c.clone();
        policy.loan = None;
        assert_eq!(rules(&policy, prog), ["loan"]);
        let zone = ps.iter().find(|p| p.id == "zone_tech_insurance").unwrap();
        assert!(rules(&c, zone).contains(&"loan".to_owned()));
        // The yearly cap per enterprise.
        let mut big = c.clone();
        big.granted_in_cap_year_fen = 495_000_00;
        let g = assess(prog, &big).unwrap();
        assert_eq!((g.amount_fen, g.bound_by.as_deref()), (5_000_00, Some("per_enterprise_year_cap")));
        for r in ["loan", "loan_repaid", "loan_months", "loan_arrears"] {
            assert!(rule_label(r).is_some(), "{r}");
        }
        // A loan programme must be a zone programme reviewed on application.
        let mut auto = prog.clone();
        auto.auto_grant = Some(AutoGrant { confirm_working_days: 3 });
        assert!(auto.check().is_err());
    }

    #[test]
    fn first_set_cover_names_its_equipment_and_the_user_as_beneficiary() {
        let ps = shipped();
        let v = version_for(&ps, "first_set", date!(2020 - 01 - 01), date!(2020 - 02 - 01)).unwrap();
        let mut c = case("first_set_equipment", 30_000_00, 1_000_000_00);
        c.policy_start = Some(date!(2020 - 01 - 01));
        c.policy_end = Some(date!(2020 - 12 - 31));
        c.applied_on = Some(date!(2020 - 02 - 01));
        c.cumulative_premium_fen = 250_000_00;
        assert!(assess(v, &c).is_ok());
        c.object_kind = Some(crate::subject::ObjectKind::Material);
        c.beneficiary_named = false;
        let rules: Vec<String> = assess(v, &c).unwrap_err().into_iter().map(|f| f.rule).collect();
        assert_eq!(rules, ["insured_object", "beneficiary"]);
        assert!(rule_label("insured_object").is_some() && rule_label("beneficiary").is_some());
    }

    #[test]
    fn first_set_rate_cap_years_and_cumulative_premium() {
        let ps = shipped();
        let v2015 = version_for(&ps, "first_set", date!(2020 - 01 - 01), date!(2020 - 02 - 01)).unwrap();
        // 3 % cap: 40,000 on 1,000,000 is 4 % — the 2015 rules reject it.
        let mut c = case("first_set_equipment", 40_000_00, 1_000_000_00);
        c.policy_start = Some(date!(2020 - 01 - 01));
        c.policy_end = Some(date!(2020 - 12 - 31));
        c.applied_on = Some(date!(2020 - 02 - 01));
        c.cumulative_premium_fen = 250_000_00;
        assert_eq!(assess(v2015, &c).unwrap_err()[0].rule, "rate_cap");
        c.premium_invoiced_fen = 30_000_00;
        c.premium_paid_fen = 30_000_00;
        assert_eq!(assess(v2015, &c).unwrap().amount_fen, 24_000_00);
        c.cumulative_premium_fen = 100_000_00;
        assert_eq!(assess(v2015, &c).unwrap_err()[0].rule, "min_cumulative_premium");
        c.cumulative_premium_fen = 250_000_00;
        c.year_of_cover = 4;
        assert_eq!(assess(v2015, &c).unwrap_err()[0].rule, "max_years");
        c.year_of_cover = 2;
        c.continuous = false;
        assert_eq!(assess(v2015, &c).unwrap_err()[0].rule, "continuous");
    }

    #[test]
    fn new_material_limit_is_pro_rata() {
        let ps = shipped();
        let v = version_for(&ps, "new_material", date!(2020 - 01 - 01), date!(2020 - 02 - 01)).unwrap();
        let mut c = case("new_material_first_batch", 300_000_00, 100_000_000_00);
        c.policy_start = Some(date!(2020 - 01 - 01));
        c.policy_end = Some(date!(2020 - 12 - 31));
        c.applied_on = Some(date!(2020 - 02 - 01));
        // Limit 100 million on a contract of 10 million: 50 million may be subsidised, half.
        c.contract_amount_fen = Some(10_000_000_00);
        let g = assess(v, &c).unwrap();
        assert_eq!(g.amount_fen, 120_000_00, "{:?}", g.steps);
        c.related_party = true;
        assert_eq!(assess(v, &c).unwrap_err()[0].rule, "related_party");
    }

    #[test]
    fn every_state_and_step_against_the_table() {
        use SubsidyStatus as S;
        use SubsidyStep as T;
        let table: &[(S, T, S)] = &[
            (S::Submitted, T::LocalReview, S::LocalReviewed),
            (S::Submitted, T::Reject, S::Rejected),
            (S::Submitted, T::Recommend, S::Recommended),
            (S::LocalReviewed, T::DepartmentReview, S::InNotice),
            (S::LocalReviewed, T::Reject, S::Rejected),
            (S::InNotice, T::Approve, S::Approved),
            (S::InNotice, T::Reject, S::Rejected),
            (S::Approved, T::Disburse, S::Disbursed),
            (S::Approved, T::Reject, S::Rejected),
            (S::Disbursed, T::ClawBack, S::ClawedBack),
            (S::Offered, T::Confirm, S::InNotice),
            (S::Offered, T::Lapse, S::Lapsed),
            (S::Recommended, T::Forward, S::Forwarded),
            (S::Forwarded, T::Decision, S::Granted),
        ];
        for from in S::ALL {
            for step in T::ALL {
                let expected = table.iter().find(|(f, t, _)| f == from && t == step).map(|x| x.2);
                match (from.apply(*step), expected) {
                    (Ok(to), Some(e)) => assert_eq!(to, e, "{from} {step}"),
                    (Err(e), None) => {
                        assert_eq!((e.field.as_str(), e.code), ("status", "bad_transition"), "{from} {step}");
                        assert!(!e.message_zh.is_empty() && !e.message_en.is_empty());
                    }
                    (got, want) => panic!("{from} {step}: got {got:?}, want {want:?}"),
                }
            }
            let steps: Vec<T> = table.iter().filter(|x| x.0 == *from).map(|x| x.1).collect();
            let mut got = from.steps();
            got.sort();
            let mut want = steps;
            want.sort();
            assert_eq!(got, want, "{from}");
        }
        // A paid subsidy is finished but may still be clawed back; a qualification leads to
        // a funding file, not to a step of its own.
        for s in S::ALL {
            let open = !s.is_final() && *s != S::Qualified || *s == S::Disbursed;
            assert_eq!(!s.steps().is_empty(), open, "{s}");
        }
    }

    fn application(track: Track, stage: Stage, status: SubsidyStatus) -> SubsidyApplication {
        SubsidyApplication {
            id: "a".into(),
            programme_id: "p".into(),
            programme_version: 1,
            track,
            stage,
            policy_id: None,
            loan_id: None,
            enterprise_id: "e".into(),
            status,
            amount: Money::ZERO,
            grant: None,
            declarations: None,
            applied_on: date!(2026 - 11 - 28),
            cap_year: 2026,
            local_reviewer: None,
            dept_reviewer: None,
            notice_from: None,
            notice_to: None,
            confirm_by: None,
            reason: None,
            decision_ref: None,
            created_at_us: 0,
            updated_at_us: 0,
        }
    }

    #[test]
    fn the_track_the_outcome_and_the_stage_decide_the_rest() {
        use SubsidyStatus as S;
        use SubsidyStep as T;
        let zone = application(Track::Zone, Stage::Subsidy, S::Submitted);
        assert_eq!(zone.steps(), vec![T::LocalReview, T::Reject]);
        assert_eq!(zone.apply(T::LocalReview, true), Ok(S::LocalReviewed));
        assert_eq!(zone.apply(T::LocalReview, false), Ok(S::Rejected));
        assert_eq!(zone.apply(T::Recommend, true).map_err(|e| e.code), Err("wrong_track"));
        let national = application(Track::National, Stage::Qualification, S::Submitted);
        assert_eq!(national.steps(), vec![T::Recommend]);
        assert_eq!(national.apply(T::Recommend, false), Ok(S::Rejected));
        assert_eq!(national.apply(T::Reject, true).map_err(|e| e.code), Err("wrong_track"));
        assert_eq!(national.apply(T::Forward, true).map_err(|e| e.code), Err("bad_transition"));
        for (stage, pass, to) in [
            (Stage::Qualification, true, S::Qualified),
            (Stage::Qualification, false, S::NotQualified),
            (Stage::Funding, true, S::Granted),
            (Stage::Funding, false, S::Refused),
        ] {
            assert_eq!(application(Track::National, stage, S::Forwarded).apply(T::Decision, pass), Ok(to));
        }
        let offer = application(Track::Auto, Stage::Subsidy, S::Offered);
        assert_eq!(offer.steps(), vec![T::Confirm, T::Lapse]);
        assert_eq!(
            application(Track::Auto, Stage::Subsidy, S::InNotice).steps(),
            vec![T::Approve, T::Reject]
        );
        let mut o = offer.clone();
        o.confirm_by = Some(date!(2026 - 12 - 02));
        assert!(!o.offer_expired(date!(2026 - 12 - 02)) && o.offer_expired(date!(2026 - 12 - 03)));
        assert!(!SubsidyStep::Lapse.is_manual());
    }

    #[test]
    fn the_stage_named_fits_the_programme() {
        assert_eq!(Stage::parse_for(ProgrammeKind::Zone, ""), Ok((Track::Zone, Stage::Subsidy)));
        assert_eq!(
            Stage::parse_for(ProgrammeKind::NationalFirstSet, "funding"),
            Ok((Track::National, Stage::Funding))
        );
        for (kind, stage) in
            [(ProgrammeKind::Zone, "funding"), (ProgrammeKind::NationalNewMaterial, "subsidy")]
        {
            assert_eq!(Stage::parse_for(kind, stage).map_err(|e| e.code), Err("bad_stage"));
        }
    }

    #[test]
    fn a_zone_programme_refuses_a_premium_not_fully_paid() {
        let ps = shipped();
        let zone = ps.iter().find(|p| p.id == "zone_tech_insurance").unwrap();
        assert!(zone.requires_full_payment());
        // 12,000 of 20,000 yuan paid: refused, naming the rule and both amounts.
        let mut c = case("rd_liability", 20_000_00, 5_000_000_00);
        c.premium_paid_fen = 12_000_00;
        let f = assess(zone, &c).unwrap_err();
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].rule, "premium_paid");
        assert!(f[0].reason_en.contains("12000.00 yuan paid of 20000.00 yuan due"), "{f:?}");
        assert!(f[0].reason_zh.contains("已缴 12000.00 元，应缴 20000.00 元"), "{f:?}");
        c.premium_paid_fen = 20_000_00;
        assert_eq!(assess(zone, &c).unwrap().amount_fen, 10_000_00);
        // The setting can be turned off: the paid part is then the base, as before.
        let mut lax = zone.clone();
        lax.requires_full_payment = Some(false);
        c.premium_paid_fen = 12_000_00;
        assert_eq!(assess(&lax, &c).unwrap().amount_fen, 6_000_00);
        // National programmes subsidise the premium actually paid (rules.md §3.1): unchanged.
        let v2024 = version_for(&ps, "first_set", date!(2026 - 03 - 01), date!(2026 - 04 - 01)).unwrap();
        assert!(!v2024.requires_full_payment());
        let mut c = case("first_set_equipment", 30_000_00, 1_000_000_00);
        c.cumulative_premium_fen = 250_000_00;
        c.premium_paid_fen = 10_000_00;
        assert_eq!(assess(v2024, &c).unwrap().amount_fen, 8_000_00);
        // The file states it; unset, the kind decides.
        let text = SHIPPED.replace("requires_full_payment = true\n", "");
        let zone =
            parse_programmes(&text).unwrap().into_iter().find(|p| p.id == "zone_tech_insurance").unwrap();
        assert_eq!((zone.requires_full_payment, zone.requires_full_payment()), (None, true));
    }

    #[test]
    fn already_compensated_on_the_platform_whatever_is_declared() {
        let ps = shipped();
        let v = version_for(&ps, "new_material", date!(2026 - 03 - 01), date!(2026 - 04 - 01)).unwrap();
        let mut c = case("new_material_first_batch", 300_000_00, 100_000_000_00);
        c.contract_amount_fen = Some(100_000_000_00);
        assert!(assess(v, &c).is_ok());
        c.compensated_under = vec!["first_set".into()];
        let f = assess(v, &c).unwrap_err();
        assert_eq!(f[0].rule, "already_compensated");
        assert!(f[0].reason_en.contains("first_set") && f[0].reason_zh.contains("平台记录"), "{f:?}");
        // Declared too: one failure, the platform's.
        c.already_compensated = true;
        assert_eq!(assess(v, &c).unwrap_err().len(), 1);
    }

    #[test]
    fn the_rules_assess_names_have_words() {
        let ps = shipped();
        let zone = ps.iter().find(|p| p.id == "zone_tech_insurance").unwrap();
        let mut c = case("no_such_type", 20_000_00, 0);
        c.qualifications.clear();
        c.industries.clear();
        c.uscc = "91990100MA4KXXXX0X".into();
        c.stacked = true;
        c.premium_paid_fen = 0;
        c.banned_until = Some(date!(2030 - 01 - 01));
        let fails = assess(zone, &c).unwrap_err();
        assert!(fails.len() >= 4, "{fails:?}");
        for f in &fails {
            assert!(rule_label(&f.rule).is_some(), "{}", f.rule);
        }
        for code in ["per_policy_cap", "per_enterprise_year_cap", "budget", "zero", "rate_cap", "max_years"] {
            assert!(rule_label(code).is_some(), "{code}");
        }
        assert_eq!(rule_label("no_such_rule"), None);
    }

    #[test]
    fn declarations_are_checked_at_the_edge() {
        let mut i = DeclarationsInput { contract_amount_yuan: " 1,500,000 ".into(), ..Default::default() };
        assert_eq!(Declarations::parse(&i).unwrap().contract_amount_yuan, Some(1_500_000));
        i.contract_amount_yuan = String::new();
        assert_eq!(Declarations::parse(&i).unwrap().contract_amount_yuan, None);
        for bad in ["abc", "-5", "0", "12.5"] {
            i.contract_amount_yuan = bad.into();
            assert_eq!(
                Declarations::parse(&i).map_err(|e| e.field),
                Err("contract_amount_yuan".into()),
                "{bad}"
            );
        }
    }

    #[test]
    fn objections_and_reasons_have_bounds() {
        assert_eq!(Objection::parse_text("短").map_err(|e| e.code), Err("length"));
        assert!(Objection::parse_text("该企业已停产，保单实际未生效").is_ok());
        assert_eq!(parse_reason(" x ").map_err(|e| e.code), Err("reason_required"));
        assert_eq!(parse_reason(" 材料不全 ").as_deref(), Ok("材料不全"));
    }

    #[test]
    fn working_days_skip_weekends_and_holidays_and_count_make_up_days() {
        let cal = Calendar {
            holidays: vec![
                date!(2025 - 10 - 01),
                date!(2025 - 10 - 02),
                date!(2025 - 10 - 03),
                date!(2025 - 10 - 06),
                date!(2025 - 10 - 07),
                date!(2025 - 10 - 08),
            ],
            workdays: vec![date!(2025 - 09 - 28), date!(2025 - 10 - 11)],
            ..Default::default()
        };
        // From Friday 26 September: Sunday 28th is a make-up day, then 29, 30, then 9, 10, 11 (Saturday, make-up).
        assert_eq!(cal.add_working_days(date!(2025 - 09 - 26), 1), date!(2025 - 09 - 28));
        assert_eq!(cal.add_working_days(date!(2025 - 09 - 26), 5), date!(2025 - 10 - 10));
        assert_eq!(cal.add_working_days(date!(2025 - 09 - 26), 6), date!(2025 - 10 - 11));
        assert!(!cal.is_working(date!(2025 - 10 - 04)));
    }
}
