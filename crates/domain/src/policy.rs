//! Applications, underwriting and policies (C4). Binding is the insurer's act: its own
//! auto-accept rules, or an underwriter within their authority. Premium due and premium
//! paid are ledger transfers between the insurer's accounts, as evidence.

use crate::error::{Collector, FieldError, Invalid};
use crate::money::Money;
use crate::org::parse_date;
use crate::org::string_enum;
use crate::product::ProductContent;
use crate::rating::{QuoteInput, Step};
use crate::subject::Subject;
use time::Date;

string_enum! {
    /// Where an application stands.
    ApplicationStatus {
        Referred = "referred", "待核保", "Referred to an underwriter";
        Accepted = "accepted", "已承保（待出单）", "Accepted";
        Declined = "declined", "拒保", "Declined";
        Bound = "bound", "已出单", "Bound";
    }
}

string_enum! {
    /// Whether a policy still runs.
    PolicyStatus {
        InForce = "in_force", "有效", "In force";
        Cancelled = "cancelled", "已退保/解除", "Cancelled";
        /// Bought outside the platform and registered by the policyholder; the insurer named
        /// on it has not yet confirmed it and the premium it received.
        Unconfirmed = "unconfirmed", "线下保单·待保险公司确认", "Registered, awaiting the insurer's confirmation";
        /// Bought outside the platform; the insurer confirmed it and the premium received.
        Registered = "registered", "线下保单·保险公司已确认", "Registered, confirmed by the insurer";
        /// Bought outside the platform; the insurer did not confirm it.
        Unrecognised = "unrecognised", "线下保单·保险公司不予确认", "Registered, not confirmed by the insurer";
    }
}

string_enum! {
    /// A step of an application's workflow: the insurer's rules or an underwriter accept or
    /// decline a referred application; an accepted one is bound (a policy is issued).
    ApplicationStep {
        Accept = "accept", "承保", "Accept";
        Decline = "decline", "拒保", "Decline";
        Bind = "bind", "出单", "Bind";
    }
}

impl ApplicationStatus {
    /// The state after `step`, or why `step` is not possible from here. An application is
    /// submitted `referred`; the insurer's rules or an underwriter accept or decline it.
    pub fn apply(self, step: ApplicationStep) -> Result<ApplicationStatus, FieldError> {
        use ApplicationStatus as S;
        use ApplicationStep as T;
        match (self, step) {
            (S::Referred, T::Accept) => Ok(S::Accepted),
            (S::Referred, T::Decline) => Ok(S::Declined),
            (S::Accepted, T::Bind) => Ok(S::Bound),
            (from, T::Accept | T::Decline) => Err(FieldError::new(
                "status",
                "not_referred",
                format!("该投保申请状态为「{}」，无需核保", from.label_zh()),
                format!("the application is `{}`, not referred", from.code()),
            )),
            (from, t) => Err(FieldError::new(
                "status",
                "bad_transition",
                format!("投保申请当前状态为「{}」，不能执行「{}」", from.label_zh(), t.label_zh()),
                format!("an application that is `{}` cannot be sent to `{}`", from.code(), t.code()),
            )),
        }
    }

    /// The steps possible from this state.
    pub fn steps(self) -> Vec<ApplicationStep> {
        ApplicationStep::ALL.iter().copied().filter(|t| self.apply(*t).is_ok()).collect()
    }
}

string_enum! {
    /// What may be done to a policy (the codes the API and the policy page's forms send).
    PolicyStep {
        PayPremium = "pay_premium", "登记保费到账", "Record premium received";
        Endorse = "endorse", "批改", "Endorse";
        Cancel = "cancel", "退保/解除", "Cancel";
        Refund = "refund", "登记退费", "Record a refund";
        Renew = "renew", "续保", "Renew";
        Coinsure = "coinsure", "设定共保", "Share with co-insurers";
        ReportClaim = "report_claim", "报案", "Report a claim";
        ConfirmRegistration = "confirm_registration", "确认线下保单", "Confirm the registered policy";
        RejectRegistration = "reject_registration", "不予确认", "Refuse to confirm";
    }
}

impl PolicyStatus {
    /// The state after `step`, or why `step` is not possible from here. A cancelled policy
    /// still takes premium and refund records, and claims for losses within its cover.
    pub fn apply(self, step: PolicyStep) -> Result<PolicyStatus, FieldError> {
        use PolicyStatus as S;
        use PolicyStep as T;
        match (self, step) {
            (S::Unconfirmed, T::ConfirmRegistration) => Ok(S::Registered),
            (S::Unconfirmed, T::RejectRegistration) => Ok(S::Unrecognised),
            (S::Registered | S::Unrecognised, T::ConfirmRegistration | T::RejectRegistration) => {
                Err(FieldError::new(
                    "policy",
                    "already_decided",
                    "保险公司已对该线下保单作出确认意见",
                    "the insurer has already answered for this registered policy",
                ))
            }
            (S::InForce | S::Cancelled, T::ConfirmRegistration | T::RejectRegistration) => Err(FieldError::new(
                "policy",
                "not_registered",
                "该保单在平台出单，无需确认",
                "the policy was issued on the platform; there is nothing to confirm",
            )),
            (S::Unconfirmed | S::Registered | S::Unrecognised, _) => Err(FieldError::new(
                "policy",
                "outside_platform",
                "线下购买的保单由保险公司在线下管理，平台只登记",
                "a policy bought outside the platform is administered by its insurer; the platform only records it",
            )),
            (S::InForce, T::Cancel) => Ok(S::Cancelled),
            (S::InForce, _) => Ok(S::InForce),
            (S::Cancelled, T::PayPremium | T::Refund | T::ReportClaim) => Ok(S::Cancelled),
            (S::Cancelled, t) => {
                let (zh, en) = match t {
                    T::Endorse => ("保单已退保或解除，不能批改", "the policy is cancelled"),
                    T::Cancel => ("保单已退保或解除", "the policy is already cancelled"),
                    T::Renew => ("已退保的保单不能续保", "a cancelled policy cannot be renewed"),
                    _ => ("保单已退保或解除", "the policy is cancelled"),
                };
                Err(FieldError::new("policy", "not_in_force", zh, en))
            }
        }
    }

    /// The steps possible from this state.
    pub fn steps(self) -> Vec<PolicyStep> {
        PolicyStep::ALL.iter().copied().filter(|t| self.apply(*t).is_ok()).collect()
    }
}

string_enum! {
    /// What an endorsement did.
    EndorsementKind {
        Change = "change", "批改", "Endorsement";
        Cancel = "cancel", "退保/解除", "Cancellation";
    }
}

/// An application for cover at the insurer's quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub id: String,
    pub product_id: String,
    pub product_version: i64,
    pub insurer_id: String,
    pub enterprise_id: String,
    pub applicant: String,
    /// What was rated.
    pub input: QuoteInput,
    pub start_date: Date,
    pub end_date: Date,
    pub premium: Money,
    pub plan_version: i64,
    /// How the premium came about.
    pub trace: Vec<Step>,
    pub status: ApplicationStatus,
    pub reasons: Vec<String>,
    pub decided_by: Option<String>,
    pub decided_at_us: Option<i64>,
    pub created_at_us: i64,
    /// The policy this application renews.
    pub renewal_of: Option<String>,
    /// The insured object and the parties besides the policyholder.
    pub subject: Subject,
}

/// A policy's schedule: the product's content as filed, the rated inputs at binding, the
/// plan version that rated them and the quote's trace.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PolicySchedule {
    pub product: ProductContent,
    pub rated: QuoteInput,
    pub plan_version: i64,
    pub trace: Vec<Step>,
}

/// A policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub id: String,
    pub number: String,
    pub application_id: String,
    pub product_id: String,
    pub insurer_id: String,
    pub enterprise_id: String,
    pub start_date: Date,
    pub end_date: Date,
    /// The full-term premium now in force.
    pub premium: Money,
    pub schedule: PolicySchedule,
    pub bound_by: String,
    pub bound_at_us: i64,
    pub status: PolicyStatus,
    /// The last day of cover of a cancelled policy.
    pub cancelled_on: Option<Date>,
    /// The rated inputs now in force (changed by endorsements; at binding, the schedule's).
    pub input: QuoteInput,
    /// The insured object and the parties besides the policyholder.
    pub subject: Subject,
    /// The insurer's answer to a policy registered from outside the platform.
    pub answer: Option<Answer>,
}

/// Who answered for the insurer, when, and what they wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub by: String,
    pub at_us: i64,
    pub note: String,
}

impl Policy {
    /// The premium earned by `as_of` (inclusive): the full-term premium pro rata by day of
    /// cover run, counting the first day; nothing before the start, nothing after the last
    /// day of cover (a cancelled policy earns up to its cancellation). Rounded half away from
    /// zero to the fen. The one definition every report and scheme guard uses.
    pub fn earned_premium(&self, as_of: Date) -> Money {
        earned_premium(self.premium, self.start_date, self.end_date, self.last_day(), as_of)
    }

    /// The last day of cover: the end of the term, or of a cancellation before it.
    pub fn last_day(&self) -> Date {
        self.cancelled_on.map_or(self.end_date, |c| c.min(self.end_date))
    }
}

/// An endorsement: a change of terms, or the cancellation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endorsement {
    pub id: String,
    pub policy_id: String,
    pub seq: i64,
    pub kind: EndorsementKind,
    pub effective_date: Date,
    /// The new rated inputs of a change.
    pub input: Option<QuoteInput>,
    pub old_premium: Money,
    /// For a cancellation: the premium earned.
    pub new_premium: Money,
    /// Premium due added (positive) or returned (negative).
    pub adjustment: Money,
    pub explanation: String,
    pub reason: String,
    pub made_by: String,
    pub made_at_us: i64,
}

/// The insurer's own underwriting rules, filed with its rating plan.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct UnderwritingRules {
    /// Accept without an underwriter up to this limit (yuan); none: always refer.
    #[serde(default)]
    pub auto_accept_max_limit_yuan: Option<i64>,
    /// Decline when the enterprise had at least this many claims in three years.
    #[serde(default)]
    pub decline_claims_3y: Option<u32>,
    /// Refer instead of accepting when the enterprise had any claim in three years.
    #[serde(default)]
    pub refer_if_claims: bool,
}

/// The outcome of the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Accept,
    Refer(Vec<String>),
    Decline(Vec<String>),
}

/// A reason of the underwriting rules as stored: `@code k=v;k=v`, rendered in the reader's
/// language by [`reason_text`]. An underwriter's own words are stored as typed.
pub fn reason_code(code: &str, params: &[(&str, String)]) -> String {
    let ps: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if ps.is_empty() {
        format!("@{code}")
    } else {
        format!("@{code} {}", ps.join(";"))
    }
}

/// A stored reason in Chinese (`en = false`) or English: the rules' reasons from their code
/// and parameters; anything else (an underwriter's words, a reason stored before codes) as
/// it is.
pub fn reason_text(stored: &str, en: bool) -> String {
    let Some(rest) = stored.strip_prefix('@') else { return stored.to_owned() };
    let (code, params) = rest.split_once(' ').unwrap_or((rest, ""));
    let p = |k: &str| {
        params
            .split(';')
            .find_map(|kv| kv.split_once('=').filter(|(kk, _)| *kk == k).map(|(_, v)| v.to_owned()))
            .unwrap_or_default()
    };
    match (code, en) {
        ("decline_claims", false) => format!("近三年出险 {} 次，达到拒保标准（{} 次）", p("claims"), p("n")),
        ("decline_claims", true) => {
            format!("{} claims in three years, at or over the insurer's limit of {}", p("claims"), p("n"))
        }
        ("no_auto_rule", false) => "保险机构未设自动承保规则，须人工核保".to_owned(),
        ("no_auto_rule", true) => {
            "the insurer has no automatic acceptance rule: an underwriter decides".to_owned()
        }
        ("over_auto_limit", false) => format!("责任限额 {} 元超过自动承保上限 {} 元", p("limit"), p("max")),
        ("over_auto_limit", true) => {
            format!(
                "the limit of {} yuan is over the automatic acceptance limit of {} yuan",
                p("limit"),
                p("max")
            )
        }
        ("claims_in_3y", false) => format!("近三年出险 {} 次", p("claims")),
        ("claims_in_3y", true) => format!("{} claims in three years", p("claims")),
        _ => stored.to_owned(),
    }
}

impl UnderwritingRules {
    /// Applies the rules to an application's limit and claims history; reasons as codes
    /// ([`reason_code`]), rendered with [`reason_text`].
    pub fn decide(&self, limit: Money, claims_3y: u32) -> Decision {
        if let Some(n) = self.decline_claims_3y {
            if claims_3y >= n {
                return Decision::Decline(vec![reason_code(
                    "decline_claims",
                    &[("claims", claims_3y.to_string()), ("n", n.to_string())],
                )]);
            }
        }
        let mut refer = Vec::new();
        match self.auto_accept_max_limit_yuan {
            None => refer.push(reason_code("no_auto_rule", &[])),
            Some(max) if limit.fen() > max.saturating_mul(100) => refer.push(reason_code(
                "over_auto_limit",
                &[
                    ("limit", limit.display_yuan()),
                    ("max", Money::from_fen(max.saturating_mul(100)).display_yuan()),
                ],
            )),
            _ => {}
        }
        if self.refer_if_claims && claims_3y > 0 {
            refer.push(reason_code("claims_in_3y", &[("claims", claims_3y.to_string())]));
        }
        if refer.is_empty() {
            Decision::Accept
        } else {
            Decision::Refer(refer)
        }
    }
}

/// A change of a policy's terms as asked for (the new rated inputs come parsed as a quote's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEndorsement {
    pub effective_date: Date,
    pub reason: String,
}

impl NewEndorsement {
    /// Parses the effective date (`YYYY-MM-DD`) and the reason (2 to 500 characters),
    /// naming every bad field.
    pub fn parse(effective_date: &str, reason: &str) -> Result<NewEndorsement, Invalid> {
        let mut c = Collector::default();
        let effective_date = c.take(parse_date("effective_date", effective_date));
        let reason = c.take(reason_of(
            reason,
            "请写明批改原因（2–500 字）",
            "state the reason for the endorsement (2 to 500 characters)",
        ));
        c.finish()?;
        match (effective_date, reason) {
            (Some(effective_date), Some(reason)) => Ok(NewEndorsement { effective_date, reason }),
            _ => Err(Invalid(Vec::new())),
        }
    }
}

/// A cancellation as asked for: the last day of cover and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCancellation {
    pub last_day: Date,
    pub reason: String,
}

impl NewCancellation {
    /// Parses the last day of cover (`YYYY-MM-DD`) and the reason (2 to 500 characters),
    /// naming every bad field.
    pub fn parse(last_day: &str, reason: &str) -> Result<NewCancellation, Invalid> {
        let mut c = Collector::default();
        let last_day = c.take(parse_date("last_day", last_day));
        let reason = c.take(reason_of(
            reason,
            "请写明退保或解除原因（2–500 字）",
            "state the reason (2 to 500 characters)",
        ));
        c.finish()?;
        match (last_day, reason) {
            (Some(last_day), Some(reason)) => Ok(NewCancellation { last_day, reason }),
            _ => Err(Invalid(Vec::new())),
        }
    }
}

fn reason_of(reason: &str, zh: &'static str, en: &'static str) -> Result<String, FieldError> {
    let r = reason.trim();
    let n = r.chars().count();
    if (2..=500).contains(&n) {
        Ok(r.to_owned())
    } else {
        Err(FieldError::new("reason", "reason_required", zh, en))
    }
}

/// An underwriter may accept an application whose limit is within their authority.
pub fn within_authority(limit: Money, authority_yuan: i64) -> Result<(), FieldError> {
    if limit.fen() <= authority_yuan.saturating_mul(100) {
        Ok(())
    } else {
        Err(FieldError::new(
            "authority",
            "over_authority",
            format!("责任限额 {} 元超出您的核保权限（{authority_yuan} 元）", limit.to_yuan_string()),
            format!(
                "the limit {} exceeds your underwriting authority ({authority_yuan} yuan)",
                limit.to_yuan_string()
            ),
        ))
    }
}

/// How far ahead cover may start: at most this many months after the day of application.
pub const MAX_START_AHEAD_MONTHS: u16 = 12;

/// The longest term of cover in months (a product's term is 1 to 120 months).
pub const MAX_TERM_MONTHS: u16 = 120;

/// How far ahead any cover may start, renewals included: a renewal starts where the cover it
/// renews ends, which may itself have started up to a year ahead and run the longest term.
pub const MAX_RENEWAL_AHEAD_MONTHS: u16 = MAX_START_AHEAD_MONTHS + MAX_TERM_MONTHS;

/// A policy's period of cover, both days included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoverPeriod {
    pub start: Date,
    pub end: Date,
}

/// The period of cover of a policy (or renewal) that starts on `start` for `term_months`,
/// asked for on `today`. Cover starts no earlier than today (no backdating) and at most
/// [`MAX_RENEWAL_AHEAD_MONTHS`] ahead (a new application keeps to the narrower
/// [`check_start`]); the term is 1 to [`MAX_TERM_MONTHS`] months; the last day is the day
/// before the same date `term_months` later (the month's last day where that date does not
/// exist), so the end always lies after the start.
pub fn cover_period(start: Date, term_months: u16, today: Date) -> Result<CoverPeriod, FieldError> {
    start_within(start, today, MAX_RENEWAL_AHEAD_MONTHS)?;
    if term_months == 0 || term_months > MAX_TERM_MONTHS {
        return Err(FieldError::new(
            "term_months",
            "range",
            format!("保险期间应为 1–{MAX_TERM_MONTHS} 个月（现为 {term_months}）"),
            format!("the term must be 1 to {MAX_TERM_MONTHS} months (it is {term_months})"),
        ));
    }
    let end = add_months(start, term_months).and_then(Date::previous_day).filter(|e| *e > start);
    let Some(end) = end else {
        return Err(FieldError::new(
            "start_date",
            "out_of_range",
            format!("起保日 {start} 加保险期间超出可表示的日期"),
            format!("cover from {start} for {term_months} months ends beyond the dates that can be kept"),
        ));
    };
    Ok(CoverPeriod { start, end })
}

/// The start of new cover asked for on `today`: not before today (no backdating) and at
/// most [`MAX_START_AHEAD_MONTHS`] ahead.
pub fn check_start(start: Date, today: Date) -> Result<(), FieldError> {
    start_within(start, today, MAX_START_AHEAD_MONTHS)
}

fn start_within(start: Date, today: Date, ahead_months: u16) -> Result<(), FieldError> {
    if start < today {
        return Err(FieldError::new(
            "start_date",
            "in_the_past",
            "起保日不能早于今天",
            "cover cannot start in the past",
        ));
    }
    let latest = add_months(today, ahead_months).unwrap_or(Date::MAX);
    if start > latest {
        return Err(FieldError::new(
            "start_date",
            "too_far_ahead",
            format!("起保日 {start} 过远：最晚为 {latest}（今天起 {ahead_months} 个月内）"),
            format!(
                "cover starting on {start} is too far ahead: it must start by {latest} (within {ahead_months} months)"
            ),
        ));
    }
    Ok(())
}

/// The same day `months` later, or the last day of that month where the day does not exist;
/// none beyond the last representable date.
pub fn add_months(d: Date, months: u16) -> Option<Date> {
    let total = i32::from(u8::from(d.month())) - 1 + i32::from(months);
    let year = d.year().checked_add(total / 12)?;
    let month = time::Month::try_from(u8::try_from(total % 12 + 1).ok()?).ok()?;
    let last = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, d.day().min(last)).ok()
}

/// The policy number of the `seq`-th policy bound in `year`: `DHKB-P-2026-000042`.
pub fn policy_number(year: i32, seq: u32) -> String {
    format!("DHKB-P-{year}-{seq:06}")
}

/// Ledger codes of the premium transfers.
pub mod codes {
    /// Premium due at binding: the insurer's receivable against its written premium.
    pub const PREMIUM_DUE: u16 = 101;
    /// Premium received: cash against the receivable.
    pub const PREMIUM_PAID: u16 = 102;
    /// Additional premium due on an endorsement.
    pub const PREMIUM_ADDITIONAL: u16 = 103;
    /// Premium no longer due (an endorsement lowering the premium, or a cancellation):
    /// written premium against the receivable.
    pub const PREMIUM_RETURNED: u16 = 104;
    /// Premium paid that is owed back: written premium against the policy's refund payable.
    pub const REFUND_DUE: u16 = 105;
    /// A refund paid to the policyholder: the refund payable against cash.
    pub const REFUND_PAID: u16 = 106;
    /// A co-insurer's share of written premium (lead's written premium against the follower's).
    pub const COINSURANCE_PREMIUM: u16 = 111;
    /// A co-insurer's share of a claim payment (follower's claims expense against the lead's).
    pub const COINSURANCE_CLAIM: u16 = 112;
}

/// Where an insurer collects premiums: its policyholders pay into this account with the
/// policy number as the payment reference.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct CollectionAccount {
    /// The bank and branch (开户行).
    pub bank: String,
    /// The account holder's name (户名).
    pub account_name: String,
    /// The account number (账号): digits, spaces and hyphens.
    pub account_no: String,
    /// Anything else the payer must know (at most 200 characters; may be empty).
    #[serde(default)]
    pub note: String,
}

impl CollectionAccount {
    /// The account as typed, trimmed and checked; every field's error at once.
    pub fn parse(
        bank: &str,
        account_name: &str,
        account_no: &str,
        note: &str,
    ) -> Result<CollectionAccount, Invalid> {
        let mut errors = Vec::new();
        let mut text = |field: &'static str, v: &str, min: usize, max: usize, zh: &str, en: &str| {
            let v = v.trim();
            let n = v.chars().count();
            if n < min || n > max || v.chars().any(char::is_control) {
                errors.push(FieldError::new(
                    field,
                    if n < min { "required" } else { "length" },
                    format!("{zh}须为 {min}–{max} 个字符"),
                    format!("{en} must be {min}–{max} characters"),
                ));
            }
            v.to_owned()
        };
        let bank = text("bank", bank, 2, 60, "开户行", "the bank");
        let account_name = text("account_name", account_name, 2, 100, "户名", "the account name");
        let note = text("note", note, 0, 200, "说明", "the note");
        let account_no = account_no.trim().to_owned();
        let digits = account_no.chars().filter(char::is_ascii_digit).count();
        if !(6..=34).contains(&digits)
            || !account_no.chars().all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
        {
            errors.push(FieldError::new(
                "account_no",
                "format",
                "账号须为 6–34 位数字（可含空格或连字符）",
                "the account number must be 6–34 digits (spaces and hyphens allowed)",
            ));
        }
        if errors.is_empty() {
            Ok(CollectionAccount { bank, account_name, account_no, note })
        } else {
            Err(Invalid(errors))
        }
    }
}

/// How far back the cover of a registered policy may start (years): enough for the
/// subsidy rules' three years of cover and the cumulative premium before them.
pub const MAX_REGISTER_BACK_YEARS: i32 = 6;

/// A policy bought outside the platform, as the policyholder types it from the paper policy.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegistrationFields {
    pub product_id: String,
    /// The policy number printed on the policy.
    pub number: String,
    pub start_date: String,
    pub end_date: String,
    pub premium_yuan: String,
    pub sum_insured_yuan: String,
    pub limit_yuan: String,
}

/// A registration, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub product_id: String,
    pub number: String,
    pub start: Date,
    pub end: Date,
    pub premium: Money,
    pub sum_insured: Money,
    pub limit: Money,
}

impl Registration {
    /// Reads what was typed on `today`: a number as printed (letters, digits, `-` and `/`),
    /// cover that may have started up to [`MAX_REGISTER_BACK_YEARS`] ago and runs at most
    /// [`MAX_TERM_MONTHS`], a premium above zero and a sum insured or limit. Every problem
    /// names its field.
    pub fn parse(f: &RegistrationFields, today: Date) -> Result<Registration, Invalid> {
        let mut c = Collector::default();
        let product_id = f.product_id.trim().to_owned();
        if product_id.is_empty() {
            c.push(FieldError::required("product_id"));
        }
        let number = f.number.trim().to_owned();
        if number.is_empty() {
            c.push(FieldError::required("number"));
        } else if number.len() > 40
            || !number.chars().all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '/' | '_' | '.'))
        {
            c.push(FieldError::new(
                "number",
                "format",
                "保单号应为 1–40 位字母、数字或 - / _ .",
                "the policy number is 1–40 letters, digits or - / _ .",
            ));
        }
        let start = c.take(parse_date("start_date", &f.start_date));
        let end = c.take(parse_date("end_date", &f.end_date));
        if let Some(start) = start {
            let earliest = today.replace_year(today.year() - MAX_REGISTER_BACK_YEARS).unwrap_or(today);
            if start < earliest {
                c.push(FieldError::new(
                    "start_date",
                    "too_old",
                    format!("只能登记 {earliest} 以后起保的保单"),
                    format!("only policies whose cover started on or after {earliest} can be registered"),
                ));
            }
            if start > add_months(today, MAX_START_AHEAD_MONTHS).unwrap_or(Date::MAX) {
                c.push(FieldError::new(
                    "start_date",
                    "too_far_ahead",
                    format!("起保日不能晚于今天起 {MAX_START_AHEAD_MONTHS} 个月"),
                    format!("cover must start within {MAX_START_AHEAD_MONTHS} months of today"),
                ));
            }
        }
        if let (Some(s), Some(e)) = (start, end) {
            if e <= s {
                c.push(FieldError::new(
                    "end_date",
                    "before_start",
                    "终保日须晚于起保日",
                    "cover must end after it starts",
                ));
            } else if add_months(s, MAX_TERM_MONTHS).is_some_and(|last| e >= last) {
                c.push(FieldError::new(
                    "end_date",
                    "too_long",
                    format!("保险期间最长 {MAX_TERM_MONTHS} 个月"),
                    format!("the term is at most {MAX_TERM_MONTHS} months"),
                ));
            }
        }
        let mut money = |v: &str, field: &str, required: bool| -> Money {
            if v.trim().is_empty() && !required {
                return Money::ZERO;
            }
            let m = c.take(Money::parse_yuan(v, field)).unwrap_or(Money::ZERO);
            if m.fen() < 0 || m.fen() > crate::rating::MAX_QUOTE_FEN {
                c.push(FieldError::new(
                    field,
                    "range",
                    "金额应为 0 至 1 万亿元",
                    "the amount must be between 0 and a trillion yuan",
                ));
            }
            m
        };
        let premium = money(&f.premium_yuan, "premium_yuan", true);
        let sum_insured = money(&f.sum_insured_yuan, "sum_insured_yuan", false);
        let limit = money(&f.limit_yuan, "limit_yuan", false);
        if premium == Money::ZERO && !f.premium_yuan.trim().is_empty() {
            c.push(FieldError::new("premium_yuan", "zero", "保费应大于零", "the premium must be above zero"));
        }
        if sum_insured.fen() <= 0 && limit.fen() <= 0 {
            c.push(FieldError::new(
                "sum_insured_yuan",
                "required",
                "请填写保险金额或赔偿限额",
                "give the sum insured or the limit of liability",
            ));
        }
        c.finish()?;
        match (start, end) {
            (Some(start), Some(end)) => {
                Ok(Registration { product_id, number, start, end, premium, sum_insured, limit })
            }
            _ => Err(Invalid(vec![FieldError::required("start_date")])),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registration_reads_the_paper_policy_or_names_each_bad_field() {
        let today = time::macros::date!(2026 - 12 - 06);
        let f = RegistrationFields {
            product_id: "p1".into(),
            number: "PICC-2024/0001".into(),
            start_date: "2024-03-01".into(),
            end_date: "2025-02-28".into(),
            premium_yuan: "120000".into(),
            sum_insured_yuan: "8,000,000".into(),
            limit_yuan: "".into(),
        };
        let r = Registration::parse(&f, today).unwrap();
        assert_eq!(r.premium, Money::from_fen(12_000_000));
        assert_eq!(r.sum_insured, Money::from_fen(800_000_000));
        let bad = RegistrationFields {
            number: "PICC 2024 <1>".into(),
            start_date: "2019-01-01".into(),
            end_date: "2018-12-31".into(),
            premium_yuan: "0".into(),
            sum_insured_yuan: "".into(),
            ..f.clone()
        };
        let e = Registration::parse(&bad, today).unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|e| e.field.as_str()).collect();
        for want in ["number", "start_date", "end_date", "premium_yuan", "sum_insured_yuan"] {
            assert!(fields.contains(&want), "{want} missing in {fields:?}");
        }
        let long = RegistrationFields { end_date: "2034-03-01".into(), ..f };
        assert_eq!(Registration::parse(&long, today).unwrap_err().0[0].code, "too_long");
    }

    #[test]
    fn a_registered_policy_only_takes_the_insurers_answer() {
        use PolicyStatus as S;
        assert_eq!(
            S::Unconfirmed.steps(),
            vec![PolicyStep::ConfirmRegistration, PolicyStep::RejectRegistration]
        );
        assert!(S::Registered.steps().is_empty());
        assert!(S::Unrecognised.steps().is_empty());
        assert_eq!(S::Registered.apply(PolicyStep::ReportClaim).unwrap_err().code, "outside_platform");
        assert_eq!(S::InForce.apply(PolicyStep::ConfirmRegistration).unwrap_err().code, "not_registered");
        assert!(!S::InForce.steps().contains(&PolicyStep::ConfirmRegistration));
    }

    #[test]
    fn rules_accept_refer_and_decline_with_reasons() {
        let rules = UnderwritingRules {
            auto_accept_max_limit_yuan: Some(5_000_000),
            decline_claims_3y: Some(3),
            refer_if_claims: true,
        };
        assert_eq!(rules.decide(Money::from_fen(100_000_000), 0), Decision::Accept);
        assert!(
            matches!(rules.decide(Money::from_fen(1_000_000_000), 0), Decision::Refer(r) if reason_text(&r[0], false).contains("超过自动承保上限"))
        );
        assert!(matches!(rules.decide(Money::from_fen(100), 1), Decision::Refer(r) if r.len() == 1));
        assert!(matches!(rules.decide(Money::from_fen(100), 3), Decision::Decline(_)));
        // Reasons are stored as codes and read in either language; an underwriter's own words
        // stay as typed.
        let Decision::Refer(r) = rules.decide(Money::from_fen(1_000_000_000), 0) else { panic!() };
        assert_eq!(r, ["@over_auto_limit limit=10,000,000.00;max=5,000,000.00"]);
        assert_eq!(
            reason_text(&r[0], true),
            "the limit of 10,000,000.00 yuan is over the automatic acceptance limit of 5,000,000.00 yuan"
        );
        let Decision::Decline(d) = rules.decide(Money::from_fen(100), 4) else { panic!() };
        assert_eq!(reason_text(&d[0], false), "近三年出险 4 次，达到拒保标准（3 次）");
        assert_eq!(
            reason_text("@no_auto_rule", true),
            "the insurer has no automatic acceptance rule: an underwriter decides"
        );
        assert_eq!(reason_text("资料不全", true), "资料不全");
        assert!(matches!(UnderwritingRules::default().decide(Money::from_fen(1), 0), Decision::Refer(_)));
        assert!(within_authority(Money::from_fen(100_000), 1_000).is_ok());
        assert_eq!(
            within_authority(Money::from_fen(100_001), 1_000).err().map(|e| e.code),
            Some("over_authority")
        );
        assert_eq!(policy_number(2026, 42), "DHKB-P-2026-000042");
    }

    #[test]
    fn endorsements_and_cancellations_parse_at_the_edge() {
        let e = NewEndorsement::parse(" 2026-12-01 ", " 提高限额 ").unwrap();
        assert_eq!((e.effective_date, e.reason.as_str()), (d(2026, 12, 1), "提高限额"));
        let bad = NewEndorsement::parse("12/01/2026", "x").unwrap_err();
        let fields: Vec<_> = bad.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(fields, [("effective_date", "date_format"), ("reason", "reason_required")]);
        let c = NewCancellation::parse("2027-01-27", "企业停产").unwrap();
        assert_eq!(c.last_day, d(2027, 1, 27));
        let bad = NewCancellation::parse("", &"长".repeat(501)).unwrap_err();
        let fields: Vec<_> = bad.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(fields, [("last_day", "required"), ("reason", "reason_required")]);
    }

    #[test]
    fn every_application_step_from_every_state() {
        use ApplicationStatus as S;
        use ApplicationStep as T;
        let expected = |s: S, t: T| match (s, t) {
            (S::Referred, T::Accept) => Some(S::Accepted),
            (S::Referred, T::Decline) => Some(S::Declined),
            (S::Accepted, T::Bind) => Some(S::Bound),
            _ => None,
        };
        for s in S::ALL {
            for t in T::ALL {
                let got = s.apply(*t);
                assert_eq!(got.as_ref().ok().copied(), expected(*s, *t), "{s} --{t}-->");
                if let Err(e) = got {
                    assert_eq!(e.field, "status");
                    assert!(e.message_zh.contains(s.label_zh()), "{e:?}");
                    assert!(e.message_en.contains(s.code()), "{e:?}");
                    let code =
                        if matches!(t, T::Accept | T::Decline) { "not_referred" } else { "bad_transition" };
                    assert_eq!(e.code, code);
                }
            }
            assert_eq!(
                s.steps(),
                T::ALL.iter().copied().filter(|t| expected(*s, *t).is_some()).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn every_policy_step_from_every_state() {
        use PolicyStatus as S;
        use PolicyStep as T;
        let answer = |t: T| matches!(t, T::ConfirmRegistration | T::RejectRegistration);
        let expected = |s: S, t: T| match (s, t) {
            (S::InForce | S::Cancelled, t) if answer(t) => None,
            (S::InForce, T::Cancel) => Some(S::Cancelled),
            (S::InForce, _) => Some(S::InForce),
            (S::Cancelled, T::PayPremium | T::Refund | T::ReportClaim) => Some(S::Cancelled),
            (S::Cancelled, _) => None,
            (S::Unconfirmed, T::ConfirmRegistration) => Some(S::Registered),
            (S::Unconfirmed, T::RejectRegistration) => Some(S::Unrecognised),
            (S::Unconfirmed | S::Registered | S::Unrecognised, _) => None,
        };
        for s in S::ALL {
            for t in T::ALL {
                let got = s.apply(*t);
                assert_eq!(got.as_ref().ok().copied(), expected(*s, *t), "{s} --{t}-->");
                if let Err(e) = got {
                    let code = match (s, answer(*t)) {
                        (S::InForce | S::Cancelled, false) => "not_in_force",
                        (S::InForce | S::Cancelled, true) => "not_registered",
                        (_, true) => "already_decided",
                        (_, false) => "outside_platform",
                    };
                    assert_eq!((e.field.as_str(), e.code), ("policy", code), "{s} --{t}-->");
                }
            }
            assert_eq!(
                s.steps(),
                T::ALL.iter().copied().filter(|t| expected(*s, *t).is_some()).collect::<Vec<_>>()
            );
        }
        assert_eq!(S::InForce.steps().len(), T::ALL.len() - 2);
    }

    fn d(y: i32, m: u8, day: u8) -> Date {
        Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), day).unwrap()
    }

    #[test]
    fn cover_starts_within_a_year_and_ends_after_it_starts() {
        let today = d(2026, 11, 28);
        let p = cover_period(d(2026, 12, 1), 12, today).unwrap();
        assert_eq!((p.start, p.end), (d(2026, 12, 1), d(2027, 11, 30)));
        // Month ends: 31 January plus one month is 28 February; cover ends the day before.
        assert_eq!(cover_period(d(2027, 1, 31), 1, today).unwrap().end, d(2027, 2, 27));
        assert_eq!(cover_period(today, 120, today).unwrap().end, d(2036, 11, 27));
        // New cover: the last day a year ahead is allowed; the day after is not.
        assert_eq!(check_start(d(2027, 11, 28), today), Ok(()));
        let e = check_start(d(2027, 11, 29), today).unwrap_err();
        assert_eq!((e.field.as_str(), e.code), ("start_date", "too_far_ahead"));
        assert!(e.message_zh.contains("2027-11-28") && e.message_en.contains("2027-11-28"), "{e:?}");
        assert_eq!(check_start(d(2026, 11, 27), today).err().map(|e| e.code), Some("in_the_past"));
        // A renewal starts where the cover it renews ends: up to eleven years ahead.
        assert!(cover_period(d(2028, 11, 28), 12, today).is_ok());
        assert!(cover_period(d(2037, 11, 28), 12, today).is_ok());
        let e = cover_period(d(2037, 11, 29), 12, today).unwrap_err();
        assert_eq!((e.code, e.message_en.contains("2037-11-28")), ("too_far_ahead", true), "{e:?}");
        // The attacker's date, and the last date there is.
        let e = cover_period(d(9999, 12, 31), 12, today).unwrap_err();
        assert_eq!((e.field.as_str(), e.code), ("start_date", "too_far_ahead"));
        let e = cover_period(d(9999, 12, 31), 12, d(9999, 12, 31)).unwrap_err();
        assert_eq!((e.field.as_str(), e.code), ("start_date", "out_of_range"));
        assert_eq!(cover_period(d(2026, 11, 27), 12, today).err().map(|e| e.code), Some("in_the_past"));
        assert_eq!(cover_period(today, 0, today).err().map(|e| e.field), Some("term_months".into()));
        assert_eq!(cover_period(today, 121, today).err().map(|e| e.code), Some("range"));
        assert_eq!(add_months(d(9999, 12, 1), 1), None);
        assert_eq!(add_months(d(2024, 2, 29), 12), Some(d(2025, 2, 28)));
    }
}

/// The premium earned by `as_of` of a term `start..=end` whose cover ends on `last_day`:
/// see [`Policy::earned_premium`].
pub fn earned_premium(premium: Money, start: Date, end: Date, last_day: Date, as_of: Date) -> Money {
    let term = (end - start).whole_days() + 1;
    let until = as_of.min(last_day);
    let run = ((until - start).whole_days() + 1).clamp(0, term.max(0));
    if term <= 0 || run == 0 {
        return Money::ZERO;
    }
    let num = i128::from(premium.fen()) * i128::from(run);
    let den = i128::from(term);
    let q = (2 * num + den) / (2 * den);
    Money::from_fen(i64::try_from(q).unwrap_or(i64::MAX))
}

/// The loss ratio: incurred (paid plus case reserves) ÷ earned premium; `None` while
/// nothing is earned.
pub fn loss_ratio(incurred: Money, earned: Money) -> Option<f64> {
    (earned.fen() > 0).then(|| incurred.fen() as f64 / earned.fen() as f64)
}

#[cfg(test)]
mod earned_tests {
    use super::*;
    use time::macros::date;

    /// (premium, start, end, cancelled on) → the earned function at a date.
    fn policy(
        premium_fen: i64,
        start: Date,
        end: Date,
        cancelled_on: Option<Date>,
    ) -> impl Fn(Date) -> Money {
        move |as_of| {
            let last = cancelled_on.map_or(end, |c| c.min(end));
            earned_premium(Money::from_fen(premium_fen), start, end, last, as_of)
        }
    }

    #[test]
    fn premium_is_earned_pro_rata_by_day_and_the_loss_ratio_uses_it() {
        // 365 days of cover for 3,650.00 yuan: 10.00 a day.
        let p = policy(365_000, date!(2026 - 01 - 01), date!(2026 - 12 - 31), None);
        assert_eq!(p(date!(2025 - 12 - 31)), Money::ZERO, "before the start");
        assert_eq!(p(date!(2026 - 01 - 01)).fen(), 1_000, "the first day counts");
        assert_eq!(p(date!(2026 - 01 - 31)).fen(), 31_000);
        assert_eq!(p(date!(2027 - 06 - 30)).fen(), 365_000, "never more than the premium");
        // Cancelled after 10 days: earns 10 days whatever the date.
        let c = policy(365_000, date!(2026 - 01 - 01), date!(2026 - 12 - 31), Some(date!(2026 - 01 - 10)));
        assert_eq!(c(date!(2026 - 06 - 30)).fen(), 10_000);
        // Rounding half away from zero: 100.00 over 3 days, one day run = 33.33.
        let r = policy(10_000, date!(2026 - 01 - 01), date!(2026 - 01 - 03), None);
        assert_eq!(r(date!(2026 - 01 - 01)).fen(), 3_333);
        assert_eq!(r(date!(2026 - 01 - 02)).fen(), 6_667);
        assert_eq!(loss_ratio(Money::from_fen(15_500), Money::from_fen(31_000)), Some(0.5));
        assert_eq!(loss_ratio(Money::from_fen(1), Money::ZERO), None);
    }
}
