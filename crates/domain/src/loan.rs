//! Loans backed by insurance (C7, issue 19): 政银保 schemes as dated, versioned rule sets, and
//! the arithmetic of a loan under one — its repayment schedule, what a repayment pays, how far
//! it is past due, whether a scheme's claim trigger is met, how a loss and a recovery are
//! split between the insurer, the bank and a guarantor, what the risk-compensation fund pays,
//! and whether a scheme's guards stop new business.
//!
//! Every number a scheme uses is configuration (`data/loans/schemes.toml`), each with its
//! source and confidence tag (`../shared/domain/rules.md` §6, §7.2). None is a confirmed Donghu
//! rule: the shipped schemes are labelled examples. Money is fen; rates and shares are basis
//! points (1 bp = 0.01 %).

use crate::catalogue::Confidence;
use crate::error::FieldError;
use crate::org::string_enum;
use crate::Money;
use serde::Deserialize;
use time::{Date, Month};

/// The shipped example schemes.
pub const SHIPPED_SCHEMES: &str = include_str!("../../../data/loans/schemes.toml");

/// A whole share, in basis points.
pub const WHOLE_BP: i64 = 10_000;

string_enum! {
    /// What a scheme guarantees.
    SchemeKind {
        LoanGuarantee = "loan_guarantee", "贷款保证保险（政银保）", "Loan guarantee insurance (government–bank–insurer)";
        IpPledge = "ip_pledge", "知识产权质押融资保证保险", "IP-pledge loan guarantee insurance";
    }
}

string_enum! {
    /// What a loss is counted on. Penalty interest is never part of it.
    LossBase {
        Principal = "principal", "仅本金", "Principal only";
        PrincipalAndInterest = "principal_and_interest", "本金及截至索赔日应付未付的合同利息", "Principal and contractual interest due and unpaid up to the claim date";
    }
}

string_enum! {
    /// How a loan is repaid.
    RepaymentMethod {
        Bullet = "bullet", "按期付息、到期还本", "Interest each period, principal at maturity";
        EqualInstalments = "equal_instalments", "等额本息", "Equal instalments of principal and interest";
    }
}

string_enum! {
    /// How interest for a number of days is counted (《人民币利率管理规定》: daily rate = annual ÷ 360).
    DayCount {
        Act360 = "act360", "实际天数/360", "Actual days / 360";
        Act365 = "act365", "实际天数/365", "Actual days / 365";
    }
}

string_enum! {
    /// An enterprise's size class (工信部联企业〔2011〕300号).
    EnterpriseSize {
        Micro = "micro", "微型企业", "Micro enterprise";
        Small = "small", "小型企业", "Small enterprise";
        Medium = "medium", "中型企业", "Medium enterprise";
        Large = "large", "大型企业", "Large enterprise";
    }
}

string_enum! {
    /// The industry groups whose size thresholds the classification knows.
    SizeIndustry {
        Industrial = "industrial", "工业", "Industry (manufacturing, mining, utilities)";
        Software = "software", "软件和信息技术服务业", "Software and IT services";
        Other = "other", "其他未列明行业", "Other industries";
    }
}

/// The size class by 工信部联企业〔2011〕300号, as recalled (confidence R: re-verify the
/// thresholds before relying on them). Staff and annual revenue in yuan.
pub fn enterprise_size(industry: SizeIndustry, staff: i64, revenue_yuan: i64) -> EnterpriseSize {
    const WAN: i64 = 10_000;
    match industry {
        SizeIndustry::Industrial => {
            if staff >= 1000 && revenue_yuan >= 40_000 * WAN {
                EnterpriseSize::Large
            } else if staff >= 300 && revenue_yuan >= 2_000 * WAN {
                EnterpriseSize::Medium
            } else if staff >= 20 && revenue_yuan >= 300 * WAN {
                EnterpriseSize::Small
            } else {
                EnterpriseSize::Micro
            }
        }
        SizeIndustry::Software => {
            if staff >= 300 && revenue_yuan >= 10_000 * WAN {
                EnterpriseSize::Large
            } else if staff >= 100 && revenue_yuan >= 1_000 * WAN {
                EnterpriseSize::Medium
            } else if staff >= 10 && revenue_yuan >= 50 * WAN {
                EnterpriseSize::Small
            } else {
                EnterpriseSize::Micro
            }
        }
        SizeIndustry::Other => {
            if staff >= 300 {
                EnterpriseSize::Large
            } else if staff >= 100 {
                EnterpriseSize::Medium
            } else if staff >= 10 {
                EnterpriseSize::Small
            } else {
                EnterpriseSize::Micro
            }
        }
    }
}

/// What the money may be used for, in words (the codes of [`FundsUse::allowed`]).
pub fn funds_use_label(code: &str) -> (&'static str, &'static str) {
    match code {
        "working_capital" => ("流动资金", "Working capital"),
        "rnd" => ("研发投入", "Research and development"),
        "equipment" => ("设备购置", "Equipment"),
        _ => ("其他用途", "Another use"),
    }
}

string_enum! {
    /// Where a loan stands.
    LoanStatus {
        InReview = "in_review", "银行、保险审查中", "Under review by the bank and the insurer";
        ZoneReview = "zone_review", "待示范区审批", "Awaiting the zone's approval";
        Approved = "approved", "已批准，待签发保单与放款", "Approved: the guarantee policy, then the disbursement";
        Declined = "declined", "未获批准", "Declined";
        Servicing = "servicing", "还款中", "Being repaid";
        Repaid = "repaid", "已结清", "Repaid";
        Claimed = "claimed", "银行已索赔，待保险赔付", "Claimed by the bank, awaiting the insurer's payment";
        ClaimPaid = "claim_paid", "保险已赔付", "Claim paid by the insurer";
        Closed = "closed", "已结案（追偿结束）", "Closed (recovery ended)";
    }
}

string_enum! {
    /// Who decides on an application.
    Reviewer {
        Bank = "bank", "贷款银行", "The bank";
        Insurer = "insurer", "保险机构", "The insurer";
        Zone = "zone", "示范区", "The zone";
    }
}

/// One party's decision, with its reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub approve: bool,
    pub reason: String,
}

/// A loan under a scheme, from the application on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loan {
    pub id: String,
    pub scheme_id: String,
    pub scheme_version: i64,
    pub enterprise_id: String,
    pub bank_id: String,
    pub insurer_id: String,
    /// The guarantee organisation that bears the scheme's guarantor share of a loss (only
    /// where the scheme gives one).
    pub guarantor_id: Option<String>,
    pub amount: Money,
    pub term_months: i64,
    pub rate_bp: i64,
    pub premium_rate_bp: i64,
    pub method: RepaymentMethod,
    pub funds_use: String,
    pub status: LoanStatus,
    pub bank: Option<Decision>,
    pub insurer: Option<Decision>,
    pub zone: Option<Decision>,
    pub disbursed_on: Option<Date>,
    pub schedule: Vec<Instalment>,
    pub applied_by: String,
    pub applied_at_us: i64,
    pub updated_at_us: i64,
}

/// The longest reason, in characters.
pub const MAX_REASON: usize = 500;

impl Loan {
    /// Records a party's decision and moves the loan on: either side declining declines it;
    /// both approving sends it to the zone (where the scheme asks) or approves it. A party
    /// decides once; the zone decides after the bank and the insurer.
    pub fn decide(
        &mut self,
        who: Reviewer,
        approve: bool,
        reason: &str,
        zone_approval: bool,
    ) -> Result<(), FieldError> {
        let reason = reason.trim();
        if !approve && reason.chars().count() < 2 {
            return Err(FieldError::new(
                "reason",
                "reason_required",
                "不予批准须写明理由",
                "a decline states its reasons",
            ));
        }
        if reason.chars().count() > MAX_REASON {
            return Err(FieldError::new(
                "reason",
                "too_long",
                format!("理由最多 {MAX_REASON} 个字符"),
                format!("at most {MAX_REASON} characters"),
            ));
        }
        let wrong = |zh: &str, en: &str| {
            FieldError::new(
                "status",
                "wrong_status",
                format!("{}（当前：{}）", zh, self.status.label_zh()),
                format!("{} (now: {})", en, self.status.label_en()),
            )
        };
        let d = Some(Decision { approve, reason: reason.to_owned() });
        match (who, self.status) {
            (Reviewer::Bank | Reviewer::Insurer, LoanStatus::InReview) => {
                let slot = if who == Reviewer::Bank { &mut self.bank } else { &mut self.insurer };
                if slot.is_some() {
                    return Err(wrong("已作出决定，不能重复", "the decision was made already"));
                }
                *slot = d;
                let both = (&self.bank, &self.insurer);
                self.status = match both {
                    (Some(b), _) | (_, Some(b)) if !b.approve => LoanStatus::Declined,
                    (Some(_), Some(_)) if zone_approval => LoanStatus::ZoneReview,
                    (Some(_), Some(_)) => LoanStatus::Approved,
                    _ => LoanStatus::InReview,
                };
            }
            (Reviewer::Zone, LoanStatus::ZoneReview) => {
                self.zone = d;
                self.status = if approve { LoanStatus::Approved } else { LoanStatus::Declined };
            }
            (Reviewer::Zone, _) => {
                return Err(wrong(
                    "示范区在银行和保险均同意后审批",
                    "the zone decides after the bank and the insurer approve",
                ))
            }
            _ => return Err(wrong("申请不在审查中", "the application is not under review")),
        }
        Ok(())
    }

    /// Disburses on `on`: the schedule from that day (interest every `interval_months` for a
    /// bullet loan).
    pub fn disburse(&mut self, on: Date, count: DayCount, interval_months: i64) -> Result<(), FieldError> {
        if self.status != LoanStatus::Approved {
            return Err(FieldError::new(
                "status",
                "wrong_status",
                format!("只有已批准的贷款才能放款（当前：{}）", self.status.label_zh()),
                format!("only an approved loan is disbursed (now: {})", self.status.label_en()),
            ));
        }
        self.schedule =
            schedule(self.amount, self.rate_bp, on, self.term_months, self.method, count, interval_months);
        self.disbursed_on = Some(on);
        self.status = LoanStatus::Servicing;
        Ok(())
    }

    /// The premium for the loan guarantee policy: the annual rate on the principal, for the
    /// term (months ÷ 12), rounded to the fen.
    pub fn premium(&self) -> Money {
        Money::from_fen(mul_div_round(
            i128::from(self.amount.fen()) * i128::from(self.premium_rate_bp),
            i128::from(self.term_months),
            12 * i128::from(WHOLE_BP),
        ))
    }
}

/// Where a number comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The text or place, in Chinese as cited.
    pub source: String,
    pub confidence: Confidence,
}

/// Loss shares, basis points of the loss base, summing to 10,000.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shares {
    pub insurer_bp: i64,
    pub bank_bp: i64,
    #[serde(default)]
    pub guarantor_bp: i64,
    #[serde(flatten)]
    pub from: Source,
}

/// The most a borrower of each size may borrow under the scheme, in yuan (0: not eligible).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoanCap {
    pub micro_yuan: i64,
    pub small_yuan: i64,
    pub medium_yuan: i64,
    #[serde(flatten)]
    pub from: Source,
}

impl LoanCap {
    /// The cap for a size class; large enterprises are outside every small-loan scheme.
    pub fn for_size(&self, size: EnterpriseSize) -> Money {
        let yuan = match size {
            EnterpriseSize::Micro => self.micro_yuan,
            EnterpriseSize::Small => self.small_yuan,
            EnterpriseSize::Medium => self.medium_yuan,
            EnterpriseSize::Large => 0,
        };
        Money::from_fen(yuan.saturating_mul(100))
    }
}

/// A number of months, days or basis points with its source.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    pub value: i64,
    #[serde(flatten)]
    pub from: Source,
}

/// The loan-rate cap: the loan prime rate of a tenor on a date, plus at most a spread. Older
/// texts capping the rate at "benchmark × 1.3" are configured as such a spread (rules.md §6.5).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateCap {
    /// `1y` or `5y`.
    pub lpr_tenor: String,
    pub lpr_date: Date,
    pub lpr_bp: i64,
    pub max_spread_bp: i64,
    #[serde(flatten)]
    pub from: Source,
}

impl RateCap {
    /// The highest annual loan rate, in basis points.
    pub fn max_rate_bp(&self) -> i64 {
        self.lpr_bp + self.max_spread_bp
    }
}

/// What borrowed money may be used for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FundsUse {
    /// Codes: `working_capital`, `equipment`, `rnd`.
    pub allowed: Vec<String>,
    #[serde(flatten)]
    pub from: Source,
}

/// Who may borrow.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BorrowerRules {
    /// Years in business, at least.
    pub min_years: i64,
    /// At least one of these qualifications (codes of `QualificationKind`), if any are named.
    #[serde(default)]
    pub qualifications_any: Vec<String>,
    /// Registered in the zone.
    pub in_zone: bool,
    /// Only enterprises in the zone's "5+2" industries.
    #[serde(default)]
    pub zone_industry: bool,
    #[serde(flatten)]
    pub from: Source,
}

/// When the bank may claim: interest unpaid for `interest_days`, or principal unpaid
/// `principal_days_after_maturity` days after maturity — and, if asked, the bank's collection
/// recorded as failed; never within the waiting period after disbursement.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    pub interest_days: i64,
    pub principal_days_after_maturity: i64,
    pub collection_failed: bool,
    pub waiting_days: i64,
    /// The insurer pays within this many working days of a complete claim.
    pub payout_working_days: u32,
    #[serde(flatten)]
    pub from: Source,
}

/// How the risk-compensation fund backs the scheme.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Backstop {
    /// The fund pays `share_bp` of the insurer's losses above `threshold_bp` of earned
    /// premium, per scheme year (Yunnan: 80 % above 120 %).
    ExcessLoss {
        threshold_bp: i64,
        share_bp: i64,
        #[serde(flatten)]
        from: Source,
    },
    /// The fund pays a share of each bad loan's principal to the party exposed (Anhui: 30 % to
    /// a bank lending directly, 20 % to a guarantor), plus a bonus for a first loan or a
    /// pledge, never beyond `ceiling_bp` of the party's exposure.
    Pool {
        direct_bp: i64,
        guaranteed_bp: i64,
        bonus_bp: i64,
        ceiling_bp: i64,
        #[serde(flatten)]
        from: Source,
    },
}

/// New business stops when a scheme's loss ratio or overdue rate reaches these.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guards {
    pub loss_ratio_stop_bp: i64,
    pub overdue_rate_stop_bp: i64,
    #[serde(flatten)]
    pub from: Source,
}

/// One dated version of a scheme.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scheme {
    pub id: String,
    pub version: i64,
    pub kind: SchemeKind,
    pub name_zh: String,
    pub name_en: String,
    /// The place whose rules the example follows.
    pub place_zh: String,
    pub place_en: String,
    /// Shipped as an example, not as a rule of the zone.
    pub example: bool,
    pub valid_from: Date,
    #[serde(default)]
    pub valid_to: Option<Date>,
    /// The zone approves each loan after the bank and the insurer.
    pub zone_approval: bool,
    pub methods: Vec<RepaymentMethod>,
    pub day_count: DayCount,
    pub shares: Shares,
    pub loss_base: LossBase,
    pub loss_base_from: Source,
    pub loan_cap: LoanCap,
    pub term_months: Limit,
    pub loan_rate: RateCap,
    pub premium_rate_bp: Limit,
    pub funds_use: FundsUse,
    pub borrower: BorrowerRules,
    pub trigger: Trigger,
    pub backstop: Backstop,
    /// The fund's size, in yuan.
    pub fund: Limit,
    pub guards: Guards,
    /// A premium-subsidy programme (the subsidy engine's id) paying after full repayment.
    #[serde(default)]
    pub subsidy_programme: Option<String>,
    /// What an IP-pledge scheme asks of the pledged patents and trademarks.
    #[serde(default)]
    pub pledge: Option<PledgeRule>,
}

/// An IP-pledge scheme's rule for pledged rights: the loan at most `max_ltv_bp` of their
/// valuation (the pledge rate), the valuation at most `valuation_max_age_days` old.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PledgeRule {
    pub max_ltv_bp: i64,
    pub valuation_max_age_days: i64,
    #[serde(flatten)]
    pub from: Source,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    scheme: Vec<Scheme>,
}

fn bad(field: &str, code: &'static str, zh: String, en: String) -> FieldError {
    FieldError::new(field, code, zh, en)
}

/// Parses and checks a scheme file, all or nothing: every error at once.
pub fn parse_schemes(text: &str) -> Result<Vec<Scheme>, Vec<FieldError>> {
    let f: File = toml::from_str(text).map_err(|e| {
        vec![bad(
            "schemes",
            "toml",
            format!("方案文件格式错误：{e}"),
            format!("the scheme file does not read: {e}"),
        )]
    })?;
    let mut errs = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for s in &f.scheme {
        if !seen.insert((s.id.as_str(), s.version)) {
            errs.push(bad(
                "scheme",
                "duplicate",
                format!("方案 {} 第 {} 版重复", s.id, s.version),
                format!("scheme {} version {} is given twice", s.id, s.version),
            ));
        }
        errs.extend(s.check());
    }
    if f.scheme.is_empty() {
        errs.push(bad("scheme", "empty", "文件中没有方案".into(), "the file holds no scheme".into()));
    }
    if errs.is_empty() {
        Ok(f.scheme)
    } else {
        Err(errs)
    }
}

impl Scheme {
    /// The scheme's own consistency: shares sum to 100 %, every number in range.
    pub fn check(&self) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let at = |f: &str| format!("{}.{f}", self.id);
        let sh = &self.shares;
        let parts = [sh.insurer_bp, sh.bank_bp, sh.guarantor_bp];
        if parts.iter().any(|p| *p < 0) || parts.iter().sum::<i64>() != WHOLE_BP {
            errs.push(bad(
                &at("shares"),
                "shares_sum",
                format!(
                    "方案 {} 的损失分担比例合计应为 100%（保险 {}%，银行 {}%，担保 {}%）",
                    self.id,
                    bp_pct(sh.insurer_bp),
                    bp_pct(sh.bank_bp),
                    bp_pct(sh.guarantor_bp)
                ),
                format!(
                    "scheme {}: the loss shares must sum to 100 % (insurer {} %, bank {} %, guarantor {} %)",
                    self.id,
                    bp_pct(sh.insurer_bp),
                    bp_pct(sh.bank_bp),
                    bp_pct(sh.guarantor_bp)
                ),
            ));
        }
        let mut range = |field: &str, v: i64, lo: i64, hi: i64| {
            if !(lo..=hi).contains(&v) {
                errs.push(bad(
                    &at(field),
                    "range",
                    format!("方案 {} 的 {field} 应在 {lo} 与 {hi} 之间（现为 {v}）", self.id),
                    format!("scheme {}: {field} must be between {lo} and {hi} (it is {v})", self.id),
                ));
            }
        };
        range("term_months", self.term_months.value, 1, 120);
        range("premium_rate_bp", self.premium_rate_bp.value, 0, 2_000);
        range("loan_rate.lpr_bp", self.loan_rate.lpr_bp, 0, 3_000);
        range("loan_rate.max_spread_bp", self.loan_rate.max_spread_bp, 0, 3_000);
        range("loan_cap.micro_yuan", self.loan_cap.micro_yuan, 0, 1_000_000_000);
        range("loan_cap.small_yuan", self.loan_cap.small_yuan, 0, 1_000_000_000);
        range("loan_cap.medium_yuan", self.loan_cap.medium_yuan, 0, 1_000_000_000);
        range("borrower.min_years", self.borrower.min_years, 0, 50);
        range("trigger.interest_days", self.trigger.interest_days, 1, 3_650);
        range("trigger.principal_days_after_maturity", self.trigger.principal_days_after_maturity, 0, 3_650);
        range("trigger.waiting_days", self.trigger.waiting_days, 0, 3_650);
        range("trigger.payout_working_days", i64::from(self.trigger.payout_working_days), 1, 250);
        range("fund", self.fund.value, 0, 100_000_000_000);
        range("guards.loss_ratio_stop_bp", self.guards.loss_ratio_stop_bp, 1, 100_000);
        range("guards.overdue_rate_stop_bp", self.guards.overdue_rate_stop_bp, 1, WHOLE_BP);
        match &self.backstop {
            Backstop::ExcessLoss { threshold_bp, share_bp, .. } => {
                range("backstop.threshold_bp", *threshold_bp, 0, 100_000);
                range("backstop.share_bp", *share_bp, 0, WHOLE_BP);
            }
            Backstop::Pool { direct_bp, guaranteed_bp, bonus_bp, ceiling_bp, .. } => {
                range("backstop.direct_bp", *direct_bp, 0, WHOLE_BP);
                range("backstop.guaranteed_bp", *guaranteed_bp, 0, WHOLE_BP);
                range("backstop.bonus_bp", *bonus_bp, 0, WHOLE_BP);
                range("backstop.ceiling_bp", *ceiling_bp, 0, WHOLE_BP);
            }
        }
        if let Some(p) = &self.pledge {
            range("pledge.max_ltv_bp", p.max_ltv_bp, 1, WHOLE_BP);
            range("pledge.valuation_max_age_days", p.valuation_max_age_days, 1, 3_650);
        } else if self.kind == SchemeKind::IpPledge {
            errs.push(bad(
                &at("pledge"),
                "required",
                format!("知识产权质押方案 {} 须写明质押率与评估有效期（pledge）", self.id),
                format!("IP-pledge scheme {} must state its pledge rate and valuation age (pledge)", self.id),
            ));
        }
        if self.methods.is_empty() {
            errs.push(bad(
                &at("methods"),
                "required",
                format!("方案 {} 未列出还款方式", self.id),
                format!("scheme {} names no repayment method", self.id),
            ));
        }
        if self.valid_to.is_some_and(|t| t < self.valid_from) {
            errs.push(bad(
                &at("valid_to"),
                "ends_before",
                format!("方案 {} 的失效日早于生效日", self.id),
                format!("scheme {} ends before it starts", self.id),
            ));
        }
        if !matches!(self.loan_rate.lpr_tenor.as_str(), "1y" | "5y") {
            errs.push(bad(
                &at("loan_rate.lpr_tenor"),
                "tenor",
                "LPR 期限应为 1y 或 5y".into(),
                "the LPR tenor is 1y or 5y".into(),
            ));
        }
        errs
    }

    /// Whether the version is in force on `d`.
    pub fn in_force(&self, d: Date) -> bool {
        d >= self.valid_from && self.valid_to.is_none_or(|t| d <= t)
    }
}

fn bp_pct(bp: i64) -> String {
    let whole = bp / 100;
    let frac = (bp % 100).abs();
    if frac == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{frac:02}")
    }
}

/// The version of scheme `id` in force on `d`: the newest whose period holds the date.
pub fn version_on<'a>(schemes: &'a [Scheme], id: &str, d: Date) -> Option<&'a Scheme> {
    schemes.iter().filter(|s| s.id == id && s.in_force(d)).max_by_key(|s| s.version)
}

/// What an enterprise asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanRequest {
    pub amount: Money,
    pub term_months: i64,
    pub rate_bp: i64,
    pub premium_rate_bp: i64,
    pub method: RepaymentMethod,
    /// A code of [`FundsUse::allowed`].
    pub funds_use: String,
}

/// What the platform knows of the borrower and the lender when it checks an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parties {
    pub size: EnterpriseSize,
    pub years_in_business: i64,
    /// Codes of the qualifications in force.
    pub qualifications: Vec<String>,
    pub in_zone: bool,
    pub zone_industry: bool,
    /// The lender is a bank registered on the platform with a lending licence (no cover for
    /// lenders without one, 银保监办发〔2020〕39号).
    pub lender_licensed: bool,
}

/// Checks an application against the scheme: every failed rule, each naming its rule.
pub fn check_request(s: &Scheme, r: &LoanRequest, p: &Parties) -> Result<(), Vec<FieldError>> {
    let mut errs = Vec::new();
    if !p.lender_licensed {
        errs.push(bad(
            "lender",
            "lender_unlicensed",
            "贷款机构须为在平台登记、持有放贷牌照的银行（不得为无放贷资质的机构提供保证保险）".into(),
            "the lender must be a bank registered on the platform with a lending licence (no cover for lenders without one)"
                .into(),
        ));
    }
    let cap = s.loan_cap.for_size(p.size);
    if r.amount.fen() <= 0 {
        errs.push(bad(
            "amount",
            "positive",
            "贷款金额须大于零".into(),
            "the amount must be above zero".into(),
        ));
    } else if r.amount > cap {
        errs.push(bad(
            "amount",
            "above_cap",
            format!(
                "{}的贷款上限为 {} 元（{}），申请 {} 元",
                p.size.label_zh(),
                cap.to_yuan_string(),
                s.loan_cap.from.source,
                r.amount.to_yuan_string()
            ),
            format!(
                "the cap for a {} is {} yuan ({}); asked {}",
                p.size.label_en().to_lowercase(),
                cap.to_yuan_string(),
                s.loan_cap.from.source,
                r.amount.to_yuan_string()
            ),
        ));
    }
    if r.term_months < 1 || r.term_months > s.term_months.value {
        errs.push(bad(
            "term_months",
            "above_term_cap",
            format!("贷款期限应为 1 至 {} 个月（{}）", s.term_months.value, s.term_months.from.source),
            format!("the term is 1 to {} months ({})", s.term_months.value, s.term_months.from.source),
        ));
    }
    let max_rate = s.loan_rate.max_rate_bp();
    if r.rate_bp <= 0 || r.rate_bp > max_rate {
        errs.push(bad(
            "rate_bp",
            "above_rate_cap",
            format!(
                "贷款年利率不得超过 {}%（{} 期 LPR {}%，{} 公布，加点不超过 {}%；{}）",
                bp_pct(max_rate),
                s.loan_rate.lpr_tenor,
                bp_pct(s.loan_rate.lpr_bp),
                s.loan_rate.lpr_date,
                bp_pct(s.loan_rate.max_spread_bp),
                s.loan_rate.from.source
            ),
            format!(
                "the annual loan rate is at most {} % (the {} LPR of {}, {} %, plus at most {} %; {})",
                bp_pct(max_rate),
                s.loan_rate.lpr_tenor,
                s.loan_rate.lpr_date,
                bp_pct(s.loan_rate.lpr_bp),
                bp_pct(s.loan_rate.max_spread_bp),
                s.loan_rate.from.source
            ),
        ));
    }
    if r.premium_rate_bp < 0 || r.premium_rate_bp > s.premium_rate_bp.value {
        errs.push(bad(
            "premium_rate_bp",
            "above_premium_cap",
            format!(
                "保证保险年费率不得超过 {}%（{}）",
                bp_pct(s.premium_rate_bp.value),
                s.premium_rate_bp.from.source
            ),
            format!(
                "the annual premium rate is at most {} % ({})",
                bp_pct(s.premium_rate_bp.value),
                s.premium_rate_bp.from.source
            ),
        ));
    }
    if !s.methods.contains(&r.method) {
        errs.push(bad(
            "method",
            "method",
            format!("本方案不接受“{}”", r.method.label_zh()),
            format!("the scheme does not take “{}”", r.method.label_en()),
        ));
    }
    if !s.funds_use.allowed.contains(&r.funds_use) {
        errs.push(bad(
            "funds_use",
            "funds_use",
            format!("贷款用途须为：{}（{}）", s.funds_use.allowed.join("、"), s.funds_use.from.source),
            format!(
                "the money may be used for: {} ({})",
                s.funds_use.allowed.join(", "),
                s.funds_use.from.source
            ),
        ));
    }
    let b = &s.borrower;
    if p.years_in_business < b.min_years {
        errs.push(bad(
            "borrower",
            "years_in_business",
            format!("借款企业须经营满 {} 年（{}）", b.min_years, b.from.source),
            format!("the borrower must have been in business {} years ({})", b.min_years, b.from.source),
        ));
    }
    if !b.qualifications_any.is_empty() && !b.qualifications_any.iter().any(|q| p.qualifications.contains(q))
    {
        errs.push(bad(
            "borrower",
            "qualification",
            format!("借款企业须持有以下资质之一：{}", b.qualifications_any.join("、")),
            format!("the borrower must hold one of: {}", b.qualifications_any.join(", ")),
        ));
    }
    if b.in_zone && !p.in_zone {
        errs.push(bad(
            "borrower",
            "in_zone",
            "借款企业须在示范区登记注册".into(),
            "the borrower must be registered in the zone".into(),
        ));
    }
    if b.zone_industry && !p.zone_industry {
        errs.push(bad(
            "borrower",
            "zone_industry",
            "借款企业须属示范区“5+2”产业".into(),
            "the borrower must be in one of the zone's 5+2 industries".into(),
        ));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs)
    }
}

/// The same day `months` later, or the month's last day when it has fewer days.
pub fn add_months(d: Date, months: i64) -> Date {
    let total = i64::from(d.year()) * 12 + i64::from(u8::from(d.month())) - 1 + months;
    let year = i32::try_from(total.div_euclid(12)).unwrap_or(d.year());
    let month =
        Month::try_from(u8::try_from(total.rem_euclid(12) + 1).unwrap_or(1)).unwrap_or(Month::January);
    let last = month.length(year);
    Date::from_calendar_date(year, month, d.day().min(last)).unwrap_or(d)
}

/// One instalment of a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct Instalment {
    pub due_on: Date,
    pub principal: Money,
    pub interest: Money,
}

/// `a × b / c`, rounded half away from zero, in i128.
fn mul_div_round(a: i128, b: i128, c: i128) -> i64 {
    if c == 0 {
        return 0;
    }
    let n = a * b;
    let q = (2 * n.abs() + c) / (2 * c);
    i64::try_from(if n < 0 { -q } else { q }).unwrap_or(i64::MAX)
}

/// Interest on `principal` at `rate_bp` a year for `days` days.
pub fn interest_for_days(principal: Money, rate_bp: i64, days: i64, count: DayCount) -> Money {
    let basis: i128 = match count {
        DayCount::Act360 => 360,
        DayCount::Act365 => 365,
    };
    Money::from_fen(mul_div_round(
        i128::from(principal.fen()) * i128::from(rate_bp),
        i128::from(days),
        basis * i128::from(WHOLE_BP),
    ))
}

/// The repayment schedule of a loan disbursed on `start`.
///
/// - `Bullet`: interest every `interval_months` for the actual days of the period by the day
///   count, principal with the last period.
/// - `EqualInstalments`: monthly, at the monthly rate annual ÷ 12 (《人民币利率管理规定》);
///   each instalment's interest is the outstanding principal times the monthly rate, rounded
///   to the fen, and the last instalment clears what is left, so principal sums exactly.
pub fn schedule(
    principal: Money,
    rate_bp: i64,
    start: Date,
    term_months: i64,
    method: RepaymentMethod,
    count: DayCount,
    interval_months: i64,
) -> Vec<Instalment> {
    let mut out = Vec::new();
    if principal.fen() <= 0 || term_months <= 0 {
        return out;
    }
    match method {
        RepaymentMethod::Bullet => {
            let step = interval_months.clamp(1, term_months);
            let mut from = start;
            let mut m = 0;
            while m < term_months {
                let next_m = (m + step).min(term_months);
                let due = add_months(start, next_m);
                let days = (due - from).whole_days();
                let interest = interest_for_days(principal, rate_bp, days, count);
                let p = if next_m == term_months { principal } else { Money::ZERO };
                out.push(Instalment { due_on: due, principal: p, interest });
                from = due;
                m = next_m;
            }
        }
        RepaymentMethod::EqualInstalments => {
            let n = term_months;
            let r = rate_bp as f64 / f64::from(WHOLE_BP as i32) / 12.0;
            let p = principal.fen() as f64;
            let payment = if r == 0.0 {
                p / n as f64
            } else {
                let g = (1.0 + r).powf(n as f64);
                p * r * g / (g - 1.0)
            };
            let payment = payment.round() as i64;
            let mut left = principal.fen();
            for k in 1..=n {
                let interest =
                    mul_div_round(i128::from(left), i128::from(rate_bp), 12 * i128::from(WHOLE_BP));
                let pr = if k == n { left } else { (payment - interest).clamp(0, left) };
                left -= pr;
                out.push(Instalment {
                    due_on: add_months(start, k),
                    principal: Money::from_fen(pr),
                    interest: Money::from_fen(interest),
                });
            }
        }
    }
    out
}

/// A repayment's allocation: interest due first, then principal (Civil Code Art 561, unless
/// the contract says otherwise; costs are not recorded on the platform).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Allocation {
    pub interest: Money,
    pub principal: Money,
}

/// Where a loan stands: its schedule and what has been paid against it, instalment by
/// instalment (interest then principal, oldest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Servicing {
    pub schedule: Vec<Instalment>,
    /// Per instalment, the interest and principal paid.
    pub paid: Vec<Allocation>,
    /// The day the last principal was repaid: instalments due later are void (interest
    /// accrues on outstanding principal only; the contract's early-repayment terms are the
    /// bank's, which records what it received).
    pub settled_on: Option<Date>,
}

/// What refuses a repayment.
fn repayment_error(code: &'static str, zh: String, en: String) -> FieldError {
    FieldError::new("amount", code, zh, en)
}

impl Servicing {
    pub fn new(schedule: Vec<Instalment>) -> Servicing {
        let paid = vec![Allocation::default(); schedule.len()];
        Servicing { schedule, paid, settled_on: None }
    }

    /// Principal not yet repaid.
    pub fn principal_outstanding(&self) -> Money {
        let due: i64 = self.schedule.iter().map(|i| i.principal.fen()).sum();
        let paid: i64 = self.paid.iter().map(|a| a.principal.fen()).sum();
        Money::from_fen(due - paid)
    }

    /// Interest of instalments due on or before `d` and not paid.
    pub fn interest_due_unpaid(&self, d: Date) -> Money {
        if self.settled_on.is_some() {
            return Money::ZERO;
        }
        Money::from_fen(
            self.schedule
                .iter()
                .zip(&self.paid)
                .filter(|(i, _)| i.due_on <= d)
                .map(|(i, a)| i.interest.fen() - a.interest.fen())
                .sum(),
        )
    }

    /// Whether nothing is left to pay.
    pub fn repaid(&self) -> bool {
        self.settled_on.is_some()
            || self
                .schedule
                .iter()
                .zip(&self.paid)
                .all(|(i, a)| a.interest >= i.interest && a.principal >= i.principal)
    }

    /// The most a repayment on `d` may be: interest due by then, and every unpaid principal
    /// (an early repayment pays principal ahead of its date; interest not yet due is not
    /// charged by the platform — the contract's early-repayment terms are the bank's).
    pub fn payable_on(&self, d: Date) -> Money {
        Money::from_fen(self.interest_due_unpaid(d).fen() + self.principal_outstanding().fen())
    }

    /// Applies a repayment made on `d`: interest due by then, oldest first, then principal,
    /// oldest first. Refused, changing nothing, when the loan is repaid or the amount is above
    /// what may be paid.
    pub fn apply(&mut self, amount: Money, d: Date) -> Result<Allocation, FieldError> {
        if amount.fen() <= 0 {
            return Err(repayment_error(
                "positive",
                "还款金额须大于零".into(),
                "a repayment is above zero".into(),
            ));
        }
        if self.repaid() {
            return Err(repayment_error(
                "loan_repaid",
                "该笔贷款已结清，不能再登记还款".into(),
                "the loan is repaid; no repayment can be recorded".into(),
            ));
        }
        let most = self.payable_on(d);
        if amount > most {
            return Err(repayment_error(
                "above_outstanding",
                format!(
                    "还款 {} 元超过截至 {d} 应还的 {} 元",
                    amount.to_yuan_string(),
                    most.to_yuan_string()
                ),
                format!(
                    "a repayment of {} yuan is above the {} yuan payable on {d}",
                    amount.to_yuan_string(),
                    most.to_yuan_string()
                ),
            ));
        }
        let mut left = amount.fen();
        let mut out = Allocation::default();
        for (i, a) in self.schedule.iter().zip(self.paid.iter_mut()) {
            if i.due_on > d || left == 0 {
                continue;
            }
            let take = (i.interest.fen() - a.interest.fen()).min(left);
            a.interest = Money::from_fen(a.interest.fen() + take);
            out.interest = Money::from_fen(out.interest.fen() + take);
            left -= take;
        }
        for (i, a) in self.schedule.iter().zip(self.paid.iter_mut()) {
            if left == 0 {
                break;
            }
            let take = (i.principal.fen() - a.principal.fen()).min(left);
            a.principal = Money::from_fen(a.principal.fen() + take);
            out.principal = Money::from_fen(out.principal.fen() + take);
            left -= take;
        }
        if self.principal_outstanding().fen() == 0 {
            self.settled_on = Some(d);
        }
        Ok(out)
    }

    /// The first instalment due on or before `d` not fully paid.
    fn first_unpaid(&self, d: Date) -> Option<&Instalment> {
        if self.settled_on.is_some() {
            return None;
        }
        self.schedule
            .iter()
            .zip(&self.paid)
            .find(|(i, a)| i.due_on <= d && (a.interest < i.interest || a.principal < i.principal))
            .map(|(i, _)| i)
    }

    /// Days past due on `d`: since the oldest instalment due and not fully paid.
    pub fn days_past_due(&self, d: Date) -> i64 {
        self.first_unpaid(d).map_or(0, |i| (d - i.due_on).whole_days())
    }

    /// Days the oldest unpaid interest has been due on `d`.
    pub fn interest_unpaid_days(&self, d: Date) -> i64 {
        if self.settled_on.is_some() {
            return 0;
        }
        self.schedule
            .iter()
            .zip(&self.paid)
            .find(|(i, a)| i.due_on <= d && a.interest < i.interest)
            .map_or(0, |(i, _)| (d - i.due_on).whole_days())
    }

    /// Days principal has been unpaid after maturity on `d` (0 before maturity).
    pub fn principal_days_after_maturity(&self, d: Date) -> i64 {
        match self.schedule.last() {
            Some(last) if last.due_on <= d && self.principal_outstanding().fen() > 0 => {
                (d - last.due_on).whole_days()
            }
            _ => 0,
        }
    }

    /// The loss base on `d`: principal outstanding, and with `PrincipalAndInterest` the
    /// contractual interest due and unpaid by then; never penalty interest.
    pub fn loss_base(&self, base: LossBase, d: Date) -> Money {
        match base {
            LossBase::Principal => self.principal_outstanding(),
            LossBase::PrincipalAndInterest => {
                Money::from_fen(self.principal_outstanding().fen() + self.interest_due_unpaid(d).fen())
            }
        }
    }
}

string_enum! {
    /// Delinquency buckets: the bank's view of its own book, not a credit report.
    Bucket {
        Current = "current", "正常", "Current";
        Dpd1To30 = "dpd_1_30", "逾期 1–30 天", "1–30 days past due";
        Dpd31To60 = "dpd_31_60", "逾期 31–60 天", "31–60 days past due";
        Dpd61To90 = "dpd_61_90", "逾期 61–90 天", "61–90 days past due";
        Dpd90Plus = "dpd_90_plus", "逾期 90 天以上（至少次级）", "Over 90 days past due (at least substandard)";
    }
}

/// The bucket of a number of days past due (over 90 days a loan is at least 次级 under the
/// 2023 risk-classification rules).
pub fn bucket(days_past_due: i64) -> Bucket {
    match days_past_due {
        i64::MIN..=0 => Bucket::Current,
        1..=30 => Bucket::Dpd1To30,
        31..=60 => Bucket::Dpd31To60,
        61..=90 => Bucket::Dpd61To90,
        _ => Bucket::Dpd90Plus,
    }
}

/// Which condition of the trigger was met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerMet {
    InterestUnpaid { days: i64 },
    PrincipalAfterMaturity { days: i64 },
}

/// Whether the bank may claim on `d`; the refusal names the rule not met.
pub fn trigger_met(
    t: &Trigger,
    loan: &Servicing,
    disbursed_on: Date,
    d: Date,
    collection_failed: bool,
) -> Result<TriggerMet, FieldError> {
    let since = (d - disbursed_on).whole_days();
    if since < t.waiting_days {
        return Err(FieldError::new(
            "claim",
            "waiting_period",
            format!(
                "放款后 {} 天内为等待期，尚余 {} 天（{}）",
                t.waiting_days,
                t.waiting_days - since,
                t.from.source
            ),
            format!(
                "the first {} days after disbursement are the waiting period; {} days are left ({})",
                t.waiting_days,
                t.waiting_days - since,
                t.from.source
            ),
        ));
    }
    let interest = loan.interest_unpaid_days(d);
    let principal = loan.principal_days_after_maturity(d);
    let met = if interest >= t.interest_days {
        Some(TriggerMet::InterestUnpaid { days: interest })
    } else if principal > 0 && principal >= t.principal_days_after_maturity {
        Some(TriggerMet::PrincipalAfterMaturity { days: principal })
    } else {
        None
    };
    let Some(met) = met else {
        return Err(FieldError::new(
            "claim",
            "trigger_not_met",
            format!(
                "未达到理赔条件：利息逾期满 {} 天（现 {} 天），或到期后本金逾期满 {} 天（现 {} 天）；{}",
                t.interest_days, interest, t.principal_days_after_maturity, principal, t.from.source
            ),
            format!(
                "the claim trigger is not met: interest unpaid {} days (now {}), or principal unpaid {} days after maturity (now {}); {}",
                t.interest_days, interest, t.principal_days_after_maturity, principal, t.from.source
            ),
        ));
    };
    if t.collection_failed && !collection_failed {
        return Err(FieldError::new(
            "claim",
            "collection_not_failed",
            "须先登记银行催收无果",
            "the bank's failed collection must be recorded first",
        ));
    }
    Ok(met)
}

/// The bank's claim on a defaulted loan: the trigger met, the loss base on the day, each
/// party's share, and the insurer's payout deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanClaim {
    pub loan_id: String,
    pub filed_on: Date,
    /// `interest_unpaid` or `principal_after_maturity`, and the days it counted.
    pub trigger: String,
    pub trigger_days: i64,
    pub loss_base: Money,
    pub insurer_share: Money,
    pub bank_share: Money,
    pub guarantor_share: Money,
    /// The insurer pays by this day (working days after the claim).
    pub payout_due_on: Date,
    pub paid_on: Option<Date>,
    pub paid_reference: Option<String>,
    pub filed_by: String,
    pub paid_by: Option<String>,
    /// The guarantor's payment of its share to the bank.
    pub guarantor_paid_on: Option<Date>,
    pub guarantor_paid_reference: Option<String>,
    pub guarantor_paid_by: Option<String>,
}

impl TriggerMet {
    /// The trigger's code and the days it counted.
    pub fn code_and_days(self) -> (&'static str, i64) {
        match self {
            TriggerMet::InterestUnpaid { days } => ("interest_unpaid", days),
            TriggerMet::PrincipalAfterMaturity { days } => ("principal_after_maturity", days),
        }
    }
}

/// A trigger's code in words.
pub fn trigger_label(code: &str) -> (&'static str, &'static str) {
    match code {
        "interest_unpaid" => ("利息逾期", "Interest unpaid"),
        "principal_after_maturity" => ("到期后本金逾期", "Principal unpaid after maturity"),
        _ => ("其他", "Other"),
    }
}

/// A loss split between the parties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Split {
    pub insurer: Money,
    pub bank: Money,
    pub guarantor: Money,
}

/// Splits `amount` by the shares: each party's share rounded down to the fen, the fen left
/// over to the largest share (the insurer first on a tie), so that the parts sum exactly.
/// Recoveries are split the same way (pro rata to the loss shares).
pub fn split(amount: Money, s: &Shares) -> Split {
    let total = amount.fen();
    let part =
        |bp: i64| i64::try_from(i128::from(total) * i128::from(bp) / i128::from(WHOLE_BP)).unwrap_or(0);
    let (mut i, mut b, mut g) = (part(s.insurer_bp), part(s.bank_bp), part(s.guarantor_bp));
    let rest = total - i - b - g;
    if s.insurer_bp >= s.bank_bp && s.insurer_bp >= s.guarantor_bp {
        i += rest;
    } else if s.bank_bp >= s.guarantor_bp {
        b += rest;
    } else {
        g += rest;
    }
    Split { insurer: Money::from_fen(i), bank: Money::from_fen(b), guarantor: Money::from_fen(g) }
}

/// A scheme year's figures, as the fund's backstop and the guards read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct YearFigures {
    /// Premium earned in the scheme year.
    pub earned_premium: Money,
    /// The insurer's paid losses, net of its share of recoveries.
    pub insurer_losses: Money,
    /// What the fund has already paid for the year.
    pub fund_paid: Money,
    /// Principal outstanding, and the part of it overdue.
    pub outstanding: Money,
    pub overdue: Money,
}

/// What the fund owes the insurer for the year under an excess-loss backstop, now: its share
/// of the losses above the threshold of earned premium, less what it paid, never beyond its
/// balance. Zero under a pool backstop (paid per loan, [`pool_compensation`]).
pub fn excess_loss_due(b: &Backstop, y: &YearFigures, fund_balance: Money) -> Money {
    let Backstop::ExcessLoss { threshold_bp, share_bp, .. } = b else { return Money::ZERO };
    let threshold =
        mul_div_round(i128::from(y.earned_premium.fen()), i128::from(*threshold_bp), i128::from(WHOLE_BP));
    let excess = (y.insurer_losses.fen() - threshold).max(0);
    let owed = i64::try_from(i128::from(excess) * i128::from(*share_bp) / i128::from(WHOLE_BP)).unwrap_or(0);
    Money::from_fen((owed - y.fund_paid.fen()).max(0).min(fund_balance.fen().max(0)))
}

/// What a pool backstop pays a party on one bad loan: its share of the bad principal (direct
/// lending or guaranteed), plus the bonus for a first loan or a pledge, never beyond the
/// ceiling share of the party's exposure, nor the fund's balance.
pub fn pool_compensation(
    b: &Backstop,
    bad_principal: Money,
    guaranteed: bool,
    bonus: bool,
    exposure: Money,
    fund_balance: Money,
) -> Money {
    let Backstop::Pool { direct_bp, guaranteed_bp, bonus_bp, ceiling_bp, .. } = b else { return Money::ZERO };
    let bp = if guaranteed { *guaranteed_bp } else { *direct_bp } + if bonus { *bonus_bp } else { 0 };
    let pay =
        i64::try_from(i128::from(bad_principal.fen()) * i128::from(bp) / i128::from(WHOLE_BP)).unwrap_or(0);
    let ceiling = i64::try_from(i128::from(exposure.fen()) * i128::from(*ceiling_bp) / i128::from(WHOLE_BP))
        .unwrap_or(0);
    Money::from_fen(pay.min(ceiling).min(fund_balance.fen().max(0)).max(0))
}

/// `num / den` in basis points, rounded half away from zero (none when `den` is not positive):
/// the one rounding of the loss ratio and the overdue rate, on the dashboards as in the guards.
pub fn ratio_bp(num: Money, den: Money) -> Option<i64> {
    (den.fen() > 0).then(|| mul_div_round(i128::from(num.fen()), i128::from(WHOLE_BP), i128::from(den.fen())))
}

/// A guard that stops new business.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    LossRatio { ratio_bp: i64, stop_bp: i64 },
    OverdueRate { rate_bp: i64, stop_bp: i64 },
}

impl Guard {
    /// The refusal of an application under a suspended scheme, naming the guard.
    pub fn refusal(&self, s: &Scheme) -> FieldError {
        let (zh, en) = match self {
            Guard::LossRatio { ratio_bp, stop_bp } => (
                format!("方案“{}”已暂停新增业务：赔付率 {}% 达到暂停线 {}%（{}）", s.name_zh, bp_pct(*ratio_bp), bp_pct(*stop_bp), s.guards.from.source),
                format!(
                    "the scheme “{}” takes no new business: its loss ratio {} % reached the stop line {} % ({})",
                    s.name_en,
                    bp_pct(*ratio_bp),
                    bp_pct(*stop_bp),
                    s.guards.from.source
                ),
            ),
            Guard::OverdueRate { rate_bp, stop_bp } => (
                format!("方案“{}”已暂停新增业务：逾期率 {}% 达到暂停线 {}%（{}）", s.name_zh, bp_pct(*rate_bp), bp_pct(*stop_bp), s.guards.from.source),
                format!(
                    "the scheme “{}” takes no new business: its overdue rate {} % reached the stop line {} % ({})",
                    s.name_en,
                    bp_pct(*rate_bp),
                    bp_pct(*stop_bp),
                    s.guards.from.source
                ),
            ),
        };
        FieldError::new("scheme", "scheme_suspended", zh, en)
    }
}

/// The guard tripped by the year's figures, if any: the loss ratio (the insurer's net losses
/// over earned premium, the one definition `policy::loss_ratio` uses) or the overdue rate
/// (overdue over outstanding principal).
pub fn guard(g: &Guards, y: &YearFigures) -> Option<Guard> {
    if y.earned_premium.fen() > 0 {
        let ratio_bp = mul_div_round(
            i128::from(y.insurer_losses.fen()),
            i128::from(WHOLE_BP),
            i128::from(y.earned_premium.fen()),
        );
        if ratio_bp >= g.loss_ratio_stop_bp {
            return Some(Guard::LossRatio { ratio_bp, stop_bp: g.loss_ratio_stop_bp });
        }
    }
    if y.outstanding.fen() > 0 {
        let rate_bp =
            mul_div_round(i128::from(y.overdue.fen()), i128::from(WHOLE_BP), i128::from(y.outstanding.fen()));
        if rate_bp >= g.overdue_rate_stop_bp {
            return Some(Guard::OverdueRate { rate_bp, stop_bp: g.overdue_rate_stop_bp });
        }
    }
    None
}

/// The loan guarantee policy the insurer issues before the bank disburses: the borrower is
/// the policyholder, the bank the insured and beneficiary. Its period runs from the
/// disbursement to the loan's maturity (unset until the bank disburses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuaranteePolicy {
    pub loan_id: String,
    pub number: String,
    pub start: Option<Date>,
    pub end: Option<Date>,
    pub premium: Money,
    pub premium_paid_on: Date,
    pub premium_reference: String,
    pub issued_by: String,
    pub issued_at_us: i64,
}

impl GuaranteePolicy {
    /// The premium earned between `from` and `to` (both days included), pro rata to the days
    /// of cover (the one earned-premium rule the loss ratio reads, as for other policies).
    pub fn earned(&self, from: Date, to: Date) -> Money {
        let (Some(start), Some(end)) = (self.start, self.end) else { return Money::ZERO };
        let total = (end - start).whole_days().max(1);
        // Days of cover run [start, end); the days of [from, to] among them are earned.
        let lo = from.max(start);
        let hi = to.next_day().unwrap_or(to).min(end);
        let days = (hi - lo).whole_days().clamp(0, total);
        Money::from_fen(mul_div_round(i128::from(self.premium.fen()), i128::from(days), i128::from(total)))
    }
}

string_enum! {
    /// A pledged intellectual-property right.
    PledgeKind {
        Patent = "patent", "专利权", "Patent";
        Trademark = "trademark", "商标专用权", "Trademark";
    }
}

/// A patent or trademark pledged for an IP-pledge loan, released on repayment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pledge {
    pub id: String,
    pub loan_id: String,
    pub kind: PledgeKind,
    /// The patent or trademark registration number.
    pub number: String,
    /// Who holds the right (the borrower, or who pledges it for the borrower).
    pub owner: String,
    pub valuation: Money,
    pub valued_on: Date,
    /// The pledge's registration number at CNIPA.
    pub registration_no: String,
    pub released_on: Option<Date>,
}

/// The most rights one loan pledges.
pub const MAX_PLEDGES: usize = 20;

/// Checks the rights pledged for a loan under the scheme: only an IP-pledge scheme takes them
/// and needs at least one; each names its number, holder and registration, with a valuation
/// not older than the scheme allows; the loan is at most the pledge rate of their value.
pub fn check_pledges(s: &Scheme, amount: Money, pledges: &[Pledge], today: Date) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let Some(rule) = &s.pledge else {
        if !pledges.is_empty() {
            errs.push(bad(
                "pledges",
                "not_pledge_scheme",
                format!("方案“{}”不是知识产权质押方案，不接受质押", s.name_zh),
                format!("the scheme “{}” is not an IP-pledge scheme and takes no pledges", s.name_en),
            ));
        }
        return errs;
    };
    if pledges.is_empty() {
        errs.push(bad(
            "pledges",
            "pledge_required",
            "知识产权质押贷款须登记至少一项出质的专利权或商标专用权".into(),
            "an IP-pledge loan records at least one pledged patent or trademark".into(),
        ));
        return errs;
    }
    if pledges.len() > MAX_PLEDGES {
        errs.push(bad(
            "pledges",
            "too_many",
            format!("一笔贷款最多登记 {MAX_PLEDGES} 项质押"),
            format!("at most {MAX_PLEDGES} pledges per loan"),
        ));
        return errs;
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, p) in pledges.iter().enumerate() {
        let at = |f: &str| format!("pledges[{}].{f}", i + 1);
        for (f, v, zh, en) in [
            ("number", &p.number, "登记号", "the registration number"),
            ("owner", &p.owner, "权利人", "the holder"),
            ("registration_no", &p.registration_no, "质押登记号", "the pledge registration number"),
        ] {
            let n = v.trim().chars().count();
            if n == 0 || n > 100 {
                errs.push(bad(
                    &at(f),
                    "required",
                    format!("第 {} 项质押：请填写{zh}（最多 100 个字符）", i + 1),
                    format!("pledge {}: {en} is required (at most 100 characters)", i + 1),
                ));
            }
        }
        if !seen.insert((p.kind, p.number.trim().to_owned())) {
            errs.push(bad(
                &at("number"),
                "duplicate",
                format!("第 {} 项质押重复登记了 {}", i + 1, p.number.trim()),
                format!("pledge {} repeats {}", i + 1, p.number.trim()),
            ));
        }
        if p.valuation.fen() <= 0 {
            errs.push(bad(
                &at("valuation"),
                "positive",
                format!("第 {} 项质押的评估价值应大于零", i + 1),
                format!("pledge {}: the valuation must be above zero", i + 1),
            ));
        }
        let age = (today - p.valued_on).whole_days();
        if age < 0 {
            errs.push(bad(
                &at("valued_on"),
                "future",
                format!("第 {} 项质押的评估日不能晚于今天", i + 1),
                format!("pledge {}: the valuation day cannot be in the future", i + 1),
            ));
        } else if age > rule.valuation_max_age_days {
            errs.push(bad(
                &at("valued_on"),
                "valuation_stale",
                format!(
                    "第 {} 项质押的评估已超过 {} 天，请重新评估（{}）",
                    i + 1,
                    rule.valuation_max_age_days,
                    rule.from.source
                ),
                format!(
                    "pledge {}: the valuation is more than {} days old; value it again ({})",
                    i + 1,
                    rule.valuation_max_age_days,
                    rule.from.source
                ),
            ));
        }
    }
    let value: i128 = pledges.iter().map(|p| i128::from(p.valuation.fen().max(0))).sum();
    let most = value * i128::from(rule.max_ltv_bp) / i128::from(WHOLE_BP);
    if errs.is_empty() && i128::from(amount.fen()) > most {
        errs.push(bad(
            "amount",
            "above_pledge_value",
            format!(
                "贷款金额超过质押物评估价值的 {}%（最多 {} 元；{}）",
                bp_pct(rule.max_ltv_bp),
                Money::from_fen(i64::try_from(most).unwrap_or(i64::MAX)).to_yuan_string(),
                rule.from.source
            ),
            format!(
                "the loan is above {} % of the pledged rights' valuation (at most {} yuan; {})",
                bp_pct(rule.max_ltv_bp),
                Money::from_fen(i64::try_from(most).unwrap_or(i64::MAX)).to_yuan_string(),
                rule.from.source
            ),
        ));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn schemes() -> Vec<Scheme> {
        parse_schemes(SHIPPED_SCHEMES).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn tianmen() -> Scheme {
        schemes().into_iter().find(|s| s.id == "tianmen_style").unwrap()
    }

    #[test]
    fn the_shipped_schemes_load_and_are_labelled_examples() {
        let all = schemes();
        assert!(all.len() >= 3);
        assert!(all.iter().all(|s| s.example), "no shipped scheme is a confirmed zone rule");
        let t = tianmen();
        assert_eq!((t.shares.insurer_bp, t.shares.bank_bp), (7000, 3000));
        assert_eq!(t.shares.from.confidence, Confidence::ConfirmedLocal);
        assert!(all.iter().any(|s| matches!(s.backstop, Backstop::Pool { .. })));
        assert!(all.iter().any(|s| s.kind == SchemeKind::IpPledge));
        assert_eq!(version_on(&all, "tianmen_style", date!(2026 - 12 - 01)).map(|s| s.version), Some(1));
        assert!(version_on(&all, "tianmen_style", date!(2019 - 01 - 01)).is_none());
    }

    #[test]
    fn premium_is_earned_pro_rata_to_the_days_of_cover() {
        let p = GuaranteePolicy {
            loan_id: "l".into(),
            number: "P".into(),
            start: Some(date!(2026 - 07 - 01)),
            end: Some(date!(2027 - 07 - 01)),
            premium: Money::from_fen(36_500),
            premium_paid_on: date!(2026 - 06 - 30),
            premium_reference: "r".into(),
            issued_by: "u".into(),
            issued_at_us: 0,
        };
        // 184 days of 2026 (1 July – 31 December) and 181 of 2027: the whole premium, once.
        let y26 = p.earned(date!(2026 - 01 - 01), date!(2026 - 12 - 31));
        let y27 = p.earned(date!(2027 - 01 - 01), date!(2027 - 12 - 31));
        assert_eq!((y26.fen(), y27.fen()), (18_400, 18_100));
        assert_eq!(p.earned(date!(2026 - 07 - 01), date!(2026 - 07 - 01)).fen(), 1_00);
        assert_eq!(p.earned(date!(2025 - 01 - 01), date!(2025 - 12 - 31)), Money::ZERO);
        assert_eq!(
            GuaranteePolicy { start: None, ..p }.earned(date!(2026 - 01 - 01), date!(2027 - 12 - 31)),
            Money::ZERO
        );
    }

    #[test]
    fn pledges_are_checked_against_the_scheme() {
        let all = schemes();
        let ip = all.iter().find(|s| s.kind == SchemeKind::IpPledge).unwrap();
        let today = date!(2026 - 12 - 01);
        let pledge = |number: &str, yuan: i64, valued_on: Date| Pledge {
            id: String::new(),
            loan_id: String::new(),
            kind: PledgeKind::Patent,
            number: number.into(),
            owner: "武汉光谷精密光学有限公司".into(),
            valuation: Money::from_fen(yuan * 100),
            valued_on,
            registration_no: "Y2026420000123".into(),
            released_on: None,
        };
        let a = pledge("ZL202110000001.1", 1_000_000, date!(2026 - 10 - 01));
        let b = pledge("ZL202110000002.X", 600_000, date!(2026 - 11 - 01));
        // 50 % of 1,600,000 yuan: 800,000 may be lent, not a fen more.
        assert!(check_pledges(ip, Money::from_fen(80_000_000), &[a.clone(), b.clone()], today).is_empty());
        let over = check_pledges(ip, Money::from_fen(80_000_001), &[a.clone(), b.clone()], today);
        assert_eq!(over.iter().map(|e| e.code).collect::<Vec<_>>(), ["above_pledge_value"]);
        assert_eq!(check_pledges(ip, Money::from_fen(100), &[], today)[0].code, "pledge_required");
        let stale = pledge("ZL1", 1_000_000, date!(2025 - 11 - 30));
        let codes: Vec<_> = check_pledges(ip, Money::from_fen(100), &[stale, a.clone(), a.clone()], today)
            .into_iter()
            .map(|e| (e.code, e.field))
            .collect();
        assert_eq!(
            codes,
            [
                ("valuation_stale", "pledges[1].valued_on".to_owned()),
                ("duplicate", "pledges[3].number".to_owned())
            ]
        );
        let t = all.iter().find(|s| s.id == "tianmen_style").unwrap();
        assert_eq!(check_pledges(t, Money::from_fen(100), &[a], today)[0].code, "not_pledge_scheme");
        let no_rule = SHIPPED_SCHEMES.replacen("pledge = { max_ltv_bp", "# pledge = { max_ltv_bp", 1);
        assert!(parse_schemes(&no_rule).unwrap_err().iter().any(|e| e.field == "ip_pledge.pledge"));
    }

    #[test]
    fn a_scheme_file_is_taken_whole_or_not_at_all() {
        let broken = SHIPPED_SCHEMES.replacen("insurer_bp = 7000", "insurer_bp = 6000", 1);
        let errs = parse_schemes(&broken).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!((errs[0].code, errs[0].field.as_str()), ("shares_sum", "tianmen_style.shares"));
        assert!(errs[0].message_zh.contains("100%"), "{}", errs[0].message_zh);
        let twice = format!(
            "{SHIPPED_SCHEMES}\n{}",
            &SHIPPED_SCHEMES[SHIPPED_SCHEMES.find("\n[[scheme]]").unwrap()..]
        );
        let errs = parse_schemes(&twice).unwrap_err();
        assert!(errs.iter().any(|e| e.code == "duplicate"), "{errs:?}");
        assert_eq!(parse_schemes("scheme = 1").unwrap_err()[0].code, "toml");
    }

    #[test]
    fn sizes_follow_the_2011_thresholds() {
        assert_eq!(enterprise_size(SizeIndustry::Industrial, 19, 50_000_000), EnterpriseSize::Micro);
        assert_eq!(enterprise_size(SizeIndustry::Industrial, 50, 5_000_000), EnterpriseSize::Small);
        assert_eq!(enterprise_size(SizeIndustry::Industrial, 300, 20_000_000), EnterpriseSize::Medium);
        assert_eq!(enterprise_size(SizeIndustry::Software, 9, 100_000_000), EnterpriseSize::Micro);
        assert_eq!(enterprise_size(SizeIndustry::Software, 120, 12_000_000), EnterpriseSize::Medium);
        assert_eq!(enterprise_size(SizeIndustry::Other, 350, 0), EnterpriseSize::Large);
    }

    fn request() -> (LoanRequest, Parties) {
        (
            LoanRequest {
                amount: Money::from_fen(200_000_000),
                term_months: 12,
                rate_bp: 380,
                premium_rate_bp: 250,
                method: RepaymentMethod::Bullet,
                funds_use: "working_capital".into(),
            },
            Parties {
                size: EnterpriseSize::Small,
                years_in_business: 3,
                qualifications: vec!["high_tech".into()],
                in_zone: true,
                zone_industry: true,
                lender_licensed: true,
            },
        )
    }

    #[test]
    fn an_application_is_checked_against_every_rule_and_each_refusal_names_it() {
        let s = tianmen();
        let (r, p) = request();
        assert!(check_request(&s, &r, &p).is_ok());
        let (mut r, mut p) = request();
        r.amount = Money::from_fen(400_000_000);
        r.term_months = 24;
        r.rate_bp = 900;
        r.premium_rate_bp = 500;
        r.funds_use = "real_estate".into();
        p.years_in_business = 0;
        p.lender_licensed = false;
        p.in_zone = false;
        let codes: Vec<&str> = check_request(&s, &r, &p).unwrap_err().iter().map(|e| e.code).collect();
        assert_eq!(
            codes,
            vec![
                "lender_unlicensed",
                "above_cap",
                "above_term_cap",
                "above_rate_cap",
                "above_premium_cap",
                "funds_use",
                "years_in_business",
                "in_zone"
            ]
        );
        let (mut r, p) = request();
        r.amount = Money::from_fen(300_000_001);
        let e = check_request(&s, &r, &p).unwrap_err();
        assert!(
            e[0].message_zh.contains("3000000.00") && e[0].message_zh.contains("小型企业"),
            "{}",
            e[0].message_zh
        );
    }

    #[test]
    fn months_end_at_the_month_end() {
        assert_eq!(add_months(date!(2026 - 01 - 31), 1), date!(2026 - 02 - 28));
        assert_eq!(add_months(date!(2026 - 11 - 30), 3), date!(2027 - 02 - 28));
        assert_eq!(add_months(date!(2024 - 01 - 31), 1), date!(2024 - 02 - 29));
        assert_eq!(add_months(date!(2026 - 12 - 15), 12), date!(2027 - 12 - 15));
    }

    #[test]
    fn a_bullet_loan_pays_interest_by_the_day_count_and_principal_at_maturity() {
        // 1,000,000 yuan at 4.00 % a year, ACT/360, interest quarterly, one year from 2026-01-15.
        let s = schedule(
            Money::from_fen(100_000_000),
            400,
            date!(2026 - 01 - 15),
            12,
            RepaymentMethod::Bullet,
            DayCount::Act360,
            3,
        );
        assert_eq!(s.len(), 4);
        // 2026-01-15 → 04-15: 90 days → 1,000,000 × 4 % × 90 / 360 = 10,000.00 yuan.
        assert_eq!(
            (s[0].due_on, s[0].interest.fen(), s[0].principal.fen()),
            (date!(2026 - 04 - 15), 1_000_000, 0)
        );
        // 04-15 → 07-15: 91 days → 10,111.11.
        assert_eq!(s[1].interest.fen(), 1_011_111);
        assert_eq!((s[3].due_on, s[3].principal.fen()), (date!(2027 - 01 - 15), 100_000_000));
        let total: i64 = s.iter().map(|i| i.interest.fen()).sum();
        // 365 days in all: 1,000,000 × 4 % × 365 / 360 = 40,555.56 (to a fen per period).
        assert!((total - 4_055_556).abs() <= 2, "{total}");
        let s365 = schedule(
            Money::from_fen(100_000_000),
            400,
            date!(2026 - 01 - 15),
            12,
            RepaymentMethod::Bullet,
            DayCount::Act365,
            12,
        );
        assert_eq!((s365.len(), s365[0].interest.fen()), (1, 4_000_000));
    }

    #[test]
    fn equal_instalments_match_the_annuity_and_clear_the_principal_exactly() {
        // 120,000 yuan, 6 % a year, 12 months: the annuity is 10,327.97 yuan a month.
        let s = schedule(
            Money::from_fen(12_000_000),
            600,
            date!(2026 - 03 - 31),
            12,
            RepaymentMethod::EqualInstalments,
            DayCount::Act360,
            1,
        );
        assert_eq!(s.len(), 12);
        assert_eq!(s[0].interest.fen(), 60_000);
        assert_eq!(s[0].interest.fen() + s[0].principal.fen(), 1_032_797);
        assert_eq!(s.iter().map(|i| i.principal.fen()).sum::<i64>(), 12_000_000);
        let last = s[11];
        assert!((last.interest.fen() + last.principal.fen() - 1_032_797).abs() <= 5);
        assert_eq!(s[10].due_on, date!(2027 - 02 - 28));
    }

    #[test]
    fn a_repayment_pays_interest_then_principal_and_never_more_than_is_payable() {
        let s = schedule(
            Money::from_fen(100_000_000),
            400,
            date!(2026 - 01 - 15),
            12,
            RepaymentMethod::Bullet,
            DayCount::Act360,
            3,
        );
        let mut loan = Servicing::new(s);
        let before = loan.clone();
        // Nothing is due before the first date: only principal may be paid early.
        assert_eq!(loan.payable_on(date!(2026 - 02 - 01)).fen(), 100_000_000);
        let e = loan.apply(Money::from_fen(100_000_001), date!(2026 - 02 - 01)).unwrap_err();
        assert_eq!(e.code, "above_outstanding");
        assert_eq!(loan, before, "a refused repayment changes nothing");
        // The first quarter's interest, late: 20 days past due, bucket 1–30.
        assert_eq!(loan.days_past_due(date!(2026 - 05 - 05)), 20);
        assert_eq!(bucket(loan.days_past_due(date!(2026 - 05 - 05))), Bucket::Dpd1To30);
        let a = loan.apply(Money::from_fen(1_500_000), date!(2026 - 05 - 05)).unwrap();
        assert_eq!((a.interest.fen(), a.principal.fen()), (1_000_000, 500_000));
        assert_eq!(loan.days_past_due(date!(2026 - 05 - 05)), 0);
        assert_eq!(loan.principal_outstanding().fen(), 99_500_000);
        // Principal repaid early settles the loan: later interest is not owed.
        let mut early = loan.clone();
        let on = date!(2026 - 06 - 01);
        let all = early.payable_on(on);
        assert_eq!(all.fen(), 99_500_000);
        early.apply(all, on).unwrap();
        assert!(early.repaid() && early.settled_on == Some(on));
        assert_eq!(
            (
                early.days_past_due(date!(2026 - 12 - 01)),
                early.interest_due_unpaid(date!(2027 - 01 - 15)).fen()
            ),
            (0, 0)
        );
        // Paid off at maturity.
        let d = date!(2027 - 01 - 15);
        let rest = loan.payable_on(d);
        loan.apply(rest, d).unwrap();
        assert!(loan.repaid());
        assert_eq!(loan.apply(Money::from_fen(1), d).unwrap_err().code, "loan_repaid");
    }

    #[test]
    fn the_trigger_names_what_is_missing_and_the_loss_is_split_to_the_fen() {
        let t = tianmen();
        let s = schedule(
            Money::from_fen(100_000_000),
            400,
            date!(2026 - 01 - 15),
            12,
            RepaymentMethod::Bullet,
            DayCount::Act360,
            3,
        );
        let loan = Servicing::new(s);
        let start = date!(2026 - 01 - 15);
        // Inside the waiting period.
        assert_eq!(
            trigger_met(&t.trigger, &loan, start, date!(2026 - 02 - 01), true).unwrap_err().code,
            "waiting_period"
        );
        // Interest unpaid since 04-15: 89 days on 07-13, 90 on 07-14.
        assert_eq!(
            trigger_met(&t.trigger, &loan, start, date!(2026 - 07 - 13), true).unwrap_err().code,
            "trigger_not_met"
        );
        assert_eq!(
            trigger_met(&t.trigger, &loan, start, date!(2026 - 07 - 14), true),
            Ok(TriggerMet::InterestUnpaid { days: 90 })
        );
        assert_eq!(
            trigger_met(&t.trigger, &loan, start, date!(2026 - 07 - 14), false).unwrap_err().code,
            "collection_not_failed"
        );
        // The loss base on 07-14: principal plus two quarters' interest due (10,000.00 + 10,111.11).
        let d = date!(2026 - 07 - 15);
        assert_eq!(loan.loss_base(LossBase::Principal, d).fen(), 100_000_000);
        assert_eq!(
            loan.loss_base(LossBase::PrincipalAndInterest, d).fen(),
            100_000_000 + 1_000_000 + 1_011_111
        );
        let sp = split(Money::from_fen(102_011_111), &t.shares);
        assert_eq!((sp.insurer.fen(), sp.bank.fen(), sp.guarantor.fen()), (71_407_778, 30_603_333, 0));
        assert_eq!(sp.insurer.fen() + sp.bank.fen(), 102_011_111);
        // A recovery is split the same way.
        let r = split(Money::from_fen(1_000), &t.shares);
        assert_eq!((r.insurer.fen(), r.bank.fen()), (700, 300));
    }

    #[test]
    fn the_fund_pays_above_the_threshold_never_beyond_its_balance_and_the_guards_stop_new_business() {
        let t = tianmen();
        let Backstop::ExcessLoss { threshold_bp, share_bp, .. } = t.backstop else { panic!("excess loss") };
        assert_eq!((threshold_bp, share_bp), (12_000, 8_000));
        // Earned 1,000,000; losses 1,500,000: 80 % of the 300,000 above 120 % = 240,000.
        let y = YearFigures {
            earned_premium: Money::from_fen(100_000_000),
            insurer_losses: Money::from_fen(150_000_000),
            fund_paid: Money::from_fen(4_000_000),
            outstanding: Money::from_fen(1_000_000_000),
            overdue: Money::from_fen(50_000_000),
        };
        assert_eq!(excess_loss_due(&t.backstop, &y, Money::from_fen(1_000_000_000)).fen(), 20_000_000);
        assert_eq!(
            excess_loss_due(&t.backstop, &y, Money::from_fen(7_000_000)).fen(),
            7_000_000,
            "never beyond the balance"
        );
        assert_eq!(guard(&t.guards, &y), Some(Guard::LossRatio { ratio_bp: 15_000, stop_bp: 12_000 }));
        let calm = YearFigures { insurer_losses: Money::from_fen(10_000_000), ..y };
        assert_eq!(guard(&t.guards, &calm), None);
        let overdue = YearFigures { overdue: Money::from_fen(100_000_000), ..calm };
        let g = guard(&t.guards, &overdue).unwrap();
        assert_eq!(g, Guard::OverdueRate { rate_bp: 1_000, stop_bp: 1_000 });
        assert_eq!(g.refusal(&t).code, "scheme_suspended");
        let pool = schemes().into_iter().find(|s| matches!(s.backstop, Backstop::Pool { .. })).unwrap();
        // 30 % + 5 % bonus of 1,000,000 = 350,000; capped at 80 % of an exposure of 400,000 = 320,000.
        let p = pool_compensation(
            &pool.backstop,
            Money::from_fen(100_000_000),
            false,
            true,
            Money::from_fen(40_000_000),
            Money::from_fen(1_000_000_000),
        );
        assert_eq!(p.fen(), 32_000_000);
        let g2 = pool_compensation(
            &pool.backstop,
            Money::from_fen(100_000_000),
            true,
            false,
            Money::from_fen(100_000_000),
            Money::from_fen(1_000_000_000),
        );
        assert_eq!(g2.fen(), 20_000_000);
        assert_eq!(excess_loss_due(&pool.backstop, &y, Money::from_fen(1)).fen(), 0);
    }

    fn loan() -> Loan {
        Loan {
            id: "l1".into(),
            scheme_id: "tianmen_style".into(),
            scheme_version: 1,
            enterprise_id: "e".into(),
            bank_id: "b".into(),
            insurer_id: "i".into(),
            guarantor_id: None,
            amount: Money::from_fen(100_000_000),
            term_months: 12,
            rate_bp: 380,
            premium_rate_bp: 250,
            method: RepaymentMethod::Bullet,
            funds_use: "working_capital".into(),
            status: LoanStatus::InReview,
            bank: None,
            insurer: None,
            zone: None,
            disbursed_on: None,
            schedule: Vec::new(),
            applied_by: "user:x".into(),
            applied_at_us: 0,
            updated_at_us: 0,
        }
    }

    #[test]
    fn both_sides_approve_then_the_zone_and_either_decline_ends_it() {
        let mut l = loan();
        assert_eq!(l.decide(Reviewer::Zone, true, "", true).unwrap_err().code, "wrong_status");
        assert_eq!(l.decide(Reviewer::Bank, false, " ", true).unwrap_err().code, "reason_required");
        l.decide(Reviewer::Bank, true, "", true).unwrap();
        assert_eq!(l.status, LoanStatus::InReview);
        assert_eq!(l.decide(Reviewer::Bank, true, "", true).unwrap_err().code, "wrong_status");
        l.decide(Reviewer::Insurer, true, "经营稳定", true).unwrap();
        assert_eq!(l.status, LoanStatus::ZoneReview);
        assert_eq!(l.disburse(date!(2026 - 12 - 01), DayCount::Act360, 3).unwrap_err().code, "wrong_status");
        l.decide(Reviewer::Zone, true, "", true).unwrap();
        assert_eq!(l.status, LoanStatus::Approved);
        l.disburse(date!(2026 - 12 - 01), DayCount::Act360, 3).unwrap();
        assert_eq!((l.status, l.schedule.len()), (LoanStatus::Servicing, 4));
        // 1,000,000 at 2.5 % a year for 12 months.
        assert_eq!(l.premium().fen(), 2_500_000);
        let mut d = loan();
        d.decide(Reviewer::Insurer, false, "行业风险偏高", false).unwrap();
        assert_eq!(d.status, LoanStatus::Declined);
        assert_eq!(d.decide(Reviewer::Bank, true, "", false).unwrap_err().code, "wrong_status");
        let mut n = loan();
        n.decide(Reviewer::Bank, true, "", false).unwrap();
        n.decide(Reviewer::Insurer, true, "", false).unwrap();
        assert_eq!(n.status, LoanStatus::Approved, "no zone approval in this scheme");
    }

    #[test]
    fn a_stored_scheme_reads_back_the_same() {
        for s in schemes() {
            let json = serde_json::to_string(&s).unwrap();
            let back: Scheme = serde_json::from_str(&json).unwrap();
            assert_eq!(back, s);
        }
    }
}
