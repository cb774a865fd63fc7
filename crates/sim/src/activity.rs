//! Years of a zone's activity as a deterministic list of commands (issue 17): new enterprises
//! registering themselves and the zone verifying them, yearly facts, qualifications renewed
//! before they lapse, consents and credit queries, subsidy applications, applications
//! on the insurers' published products, underwriting, premium received (some in
//! instalments), renewals and cancellations, claims with every step and payment, complaints
//! and mediation. The generator is pure: it says who does what on which simulated day, by
//! handles (enterprise and product indexes, policy and claim numbers); the binary replays the
//! commands through the service, each with its authorisation, its rules, its event and its
//! ledger transfers, and maps the handles to the ids the service gives.
//!
//! Every rate comes from `data/sim/activity.toml`, where each is labelled with its source or
//! as indicative.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// The shipped rates.
pub const RATES: &str = include_str!("../../../data/sim/activity.toml");

/// The rates the generator draws with (see `data/sim/activity.toml`).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Rates {
    pub take_up: TakeUp,
    pub policies: PolicyRates,
    pub claims: BTreeMap<String, toml::Value>,
    pub insurers: InsurerRates,
    pub disputes: DisputeRates,
    pub subsidies: SubsidyRates,
    pub consents: ConsentRates,
    pub registry: RegistryRates,
    pub filings: FilingRates,
    pub quotes: QuoteRates,
    pub loans: LoanRates,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct LoanRates {
    pub share: f64,
    pub amounts_yuan: Vec<i64>,
    pub term_months: i64,
    pub rate_pct: String,
    pub premium_rate_pct: String,
    pub decline_share: f64,
    pub recovery_share: f64,
    pub recovered_share: [f64; 2],
    /// Share of borrowers, repaid on time and holding a tech qualification, that apply for
    /// the guarantee premium subsidy after the loan is repaid.
    #[serde(default)]
    pub subsidy_share: f64,
    pub schemes: Vec<LoanScheme>,
}

/// A scheme the generated loans are drawn under.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct LoanScheme {
    pub id: String,
    /// Only for enterprises holding a tech qualification.
    pub qualified: bool,
    pub default_share: f64,
    pub late_share: f64,
    /// Only loans that mature within the generated years (nothing of it falls due unpaid
    /// in the weeks after them).
    #[serde(default)]
    pub within_years: bool,
    /// Each loan names a guarantor (an index into the guarantors), which pays its share of a
    /// claim.
    #[serde(default)]
    pub guaranteed: bool,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct QuoteRates {
    /// Days before applying that the enterprise quotes.
    pub lead_days: [u32; 2],
    /// Other products of the same type it quotes as well.
    pub others: [u32; 2],
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct FilingRates {
    pub per_year: u32,
    pub changes_share: f64,
    pub reject_share: f64,
}

/// The zone's reviewer's first decision on a filing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    RequestChanges,
    Reject,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct RegistryRates {
    pub facts_share: f64,
    pub revenue_change_pct: [i32; 2],
    pub staff_change_pct: [i32; 2],
    pub requalify_share: f64,
    pub registrations_share: f64,
    pub refuse_share: f64,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct ConsentRates {
    pub share: f64,
    pub queries: [u32; 2],
    pub revoke_share: f64,
    pub query_after_revoke_share: f64,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct SubsidyRates {
    pub programme: String,
    pub from_year: i32,
    pub apply_share: f64,
    pub reject_share: f64,
    /// Share of the programme's budget the zone office keeps back: once reserving an
    /// application would eat into it, the approver turns the application down.
    pub reserve_share: f64,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct TakeUp {
    #[serde(flatten)]
    pub by_stage: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct PolicyRates {
    pub extra_per_buyer_mean: f64,
    pub limits_yuan: Vec<i64>,
    pub limit_weights: Vec<f64>,
    pub renewal_rate: f64,
    pub cancellation_rate: f64,
    pub instalment_share: f64,
    pub endorsement_rate: f64,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct InsurerRates {
    pub slow_share: f64,
    pub fast_days: [u32; 2],
    pub slow_days: [u32; 2],
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct DisputeRates {
    pub complaint_share: f64,
    pub settle_share: f64,
}

impl Rates {
    /// Reads rates from TOML (the shipped file, or a zone's own).
    pub fn parse(text: &str) -> Result<Rates, String> {
        let r: Rates = toml::from_str(text).map_err(|e| format!("activity rates: {e}"))?;
        if r.policies.limits_yuan.is_empty() || r.policies.limits_yuan.len() != r.policies.limit_weights.len()
        {
            return Err("activity rates: limits_yuan and limit_weights must be non-empty and as long".into());
        }
        Ok(r)
    }

    fn num(&self, v: Option<&toml::Value>) -> Option<f64> {
        v.and_then(|v| v.as_float().or_else(|| v.as_integer().map(|i| i as f64)))
    }

    fn take_up(&self, stage: &str) -> f64 {
        self.take_up.by_stage.get(stage).copied().unwrap_or(0.3)
    }

    fn frequency(&self, product_type: &str) -> f64 {
        self.num(self.claims.get(product_type))
            .or_else(|| self.num(self.claims.get("default")))
            .unwrap_or(0.05)
    }

    fn claim_range(&self, key: &str, default: [f64; 2]) -> [f64; 2] {
        match self.claims.get(key).and_then(|v| v.as_array()) {
            Some(a) if a.len() == 2 => {
                [self.num(a.first()).unwrap_or(default[0]), self.num(a.get(1)).unwrap_or(default[1])]
            }
            _ => default,
        }
    }
}

/// An enterprise that may buy cover.
#[derive(Debug, Clone)]
pub struct Buyer {
    pub stage: String,
    pub staff: f64,
    /// The qualifications it holds: (kind, first year, last year of validity).
    pub qualifications: Vec<(String, i32, i32)>,
    /// Its zone industry tags.
    pub industries: Vec<String>,
    /// The last year it has reported facts for.
    pub facts_year: Option<i32>,
}

/// A product on offer: its catalogue type, the stages its filing covers and its insurer (an
/// index into the insurers).
#[derive(Debug, Clone)]
pub struct Offer {
    pub type_id: String,
    pub stages: Vec<String>,
    pub insurer: usize,
    /// The filing asks for one of these qualifications (empty: none).
    pub qualifications: Vec<String>,
    /// The zone industries it covers (empty: all).
    pub industries: Vec<String>,
}

/// A claim handler's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Full,
    Partial,
    Denied,
}

/// One thing a person does. Handles: `enterprise` and `product` index the inputs; `policy`,
/// `claim` and `dispute` number what earlier commands created.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// The enterprise asks for a quote (a read: nothing is stored).
    Quote { enterprise: usize, product: usize, limit_yuan: i64 },
    /// The enterprise applies for the product at its insurer's quote, cover from today.
    Apply { enterprise: usize, product: usize, limit_yuan: i64, policy: u32 },
    /// The insurer's underwriter accepts the application if its rules referred it.
    Underwrite { policy: u32 },
    /// The insurer records premium received: `share_bp` of what is still due.
    PayPremium { policy: u32, share_bp: u32, instalment: u8 },
    /// The enterprise renews; the renewal is `renewal`.
    Renew { policy: u32, renewal: u32 },
    /// The enterprise cancels from today.
    Cancel { policy: u32 },
    /// The insurer endorses the policy from today: the limit becomes `limit_pct` % of what it was.
    Endorse { policy: u32, limit_pct: u32 },
    /// The enterprise reports a loss of `days_ago` days ago.
    ReportClaim { policy: u32, claim: u32, claimed_share_bp: u32, days_ago: u32 },
    /// The insurer's claims handler takes the claim and sets a reserve.
    AssessClaim { claim: u32 },
    /// The handler decides; `share_bp` of the amount claimed for a partial payment.
    DecideClaim { claim: u32, outcome: Outcome, share_bp: u32 },
    /// The insurer pays what it decided.
    PayClaim { claim: u32 },
    /// The handler closes a denied claim.
    CloseClaim { claim: u32 },
    /// The enterprise complains about the decision.
    Complain { claim: u32, dispute: u32 },
    /// A mediator takes the dispute and holds a session.
    Mediate { dispute: u32 },
    /// The mediator concludes: settled, or escalated to arbitration.
    Conclude { dispute: u32, settled: bool },
    /// The enterprise applies for the zone's premium subsidy on a policy paid in full, filing
    /// the documents the programme lists.
    ApplySubsidy { policy: u32, application: u32 },
    /// The zone's reviewer passes the application on, or sends it back.
    LocalReview { application: u32, pass: bool },
    /// A zone approver (not the reviewer) passes it: the budget is reserved, the notice opens.
    DepartmentReview { application: u32 },
    /// After the notice period, the approver approves it.
    ApproveSubsidy { application: u32 },
    /// The subsidy is paid to the enterprise.
    DisburseSubsidy { application: u32 },
    /// The enterprise authorises a bank (an index into the banks) to query its credit
    /// information for a loan review, for 180 days.
    GrantConsent { enterprise: usize, bank: usize, consent: u32 },
    /// The bank's officer reads the enterprise's credit report under the consent.
    CreditQuery { consent: u32 },
    /// The enterprise revokes the consent.
    RevokeConsent { consent: u32 },
    /// The enterprise reports its facts for `year`: revenue and staff changed by these
    /// percentages from what it reported last.
    ReportFacts { enterprise: usize, year: i32, revenue_pct: i32, staff_pct: i32 },
    /// The enterprise records a qualification renewed before the old one lapses: valid from
    /// 1 January of `from_year` to 31 December of `to_year`.
    RenewQualification { enterprise: usize, kind: String, from_year: i32, to_year: i32 },
    /// Newcomer `registration` (an index into the replayer's new enterprises) registers
    /// itself and its administrator.
    Register { registration: u32 },
    /// The zone's reviewer verifies the newcomer, or refuses it.
    Verify { registration: u32, approve: bool },
    /// An insurer's filer files new product `filing` (an index into the replayer's filing
    /// templates) with its wording and rating plan, and submits it for review.
    FileProduct { filing: u32 },
    /// The zone's reviewer decides on the filing.
    ReviewFiling { filing: u32, decision: Decision },
    /// The filer answers the changes asked for and submits again.
    ResubmitFiling { filing: u32 },
    /// The filer publishes the approved product on the portal.
    PublishFiling { filing: u32 },
    /// The enterprise gives the bank (loan review) and the insurer (underwriting) its consents
    /// and applies for loan `loan` under `scheme`.
    LoanApply {
        loan: u32,
        enterprise: usize,
        bank: usize,
        insurer: usize,
        scheme: String,
        amount_yuan: i64,
        term_months: i64,
        rate_pct: String,
        premium_rate_pct: String,
        /// The guarantor, under a scheme that gives one a share of the loss.
        guarantor: Option<usize>,
    },
    /// The bank or the insurer decides on the application.
    LoanReview { loan: u32, bank: bool, approve: bool },
    /// The zone's approver approves the loan, where its scheme asks.
    LoanApprove { loan: u32 },
    /// The insurer issues the guarantee policy, the premium paid.
    LoanPolicy { loan: u32 },
    /// The bank disburses.
    LoanDisburse { loan: u32 },
    /// The bank records the borrower paying what is due (number `n` of the loan's payments).
    LoanRepay { loan: u32, n: u32 },
    /// The bank claims on the defaulted loan.
    LoanClaim { loan: u32 },
    /// The insurer pays the bank's claim.
    LoanClaimPay { loan: u32 },
    /// The guarantor pays the bank its share of the claim.
    LoanGuaranteePay { loan: u32 },
    /// The bank records a recovery of `share_bp` of the loss.
    LoanRecover { loan: u32, share_bp: u32 },
    /// The zone's approver records what the risk-compensation funds owe and may pay.
    FundSettle,
    /// The borrower applies for the guarantee premium subsidy of its repaid loan (then the
    /// zone's review, as `LocalReview` … `DisburseSubsidy` with the same application).
    LoanSubsidy { loan: u32, application: u32 },
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Plan {
    pub seed: u64,
    pub years: u32,
    /// The calendar year and day of the year (0-based) of simulated day 0.
    pub start_year: i32,
    pub start_day_of_year: u32,
    pub buyers: Vec<Buyer>,
    pub offers: Vec<Offer>,
    pub insurers: usize,
    /// The product types the zone's subsidy programme covers, and the qualifications it asks
    /// for (one of them, valid when applying; empty: none).
    pub subsidy_types: Vec<String>,
    pub subsidy_qualifications: Vec<String>,
    /// How many banks may be authorised.
    pub banks: usize,
    /// How many financing guarantors may guarantee loans.
    pub guarantors: usize,
    /// How many new enterprises the replayer has ready to register.
    pub newcomers: usize,
    /// How many new product filings the replayer has ready.
    pub filings: usize,
}

/// The commands of each simulated day (day 0 is the first), in order.
#[derive(Debug, Clone, Default)]
pub struct Activity {
    pub days: BTreeMap<u32, Vec<Command>>,
    /// Insurers drawn to decide slowly.
    pub slow_insurers: Vec<usize>,
}

impl Activity {
    /// How many commands there are.
    pub fn len(&self) -> usize {
        self.days.values().map(Vec::len).sum()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn at(&mut self, day: u32, c: Command) {
        self.days.entry(day).or_default().push(c);
    }
}

fn range(rng: &mut ChaCha8Rng, r: [u32; 2]) -> u32 {
    rng.random_range(r[0].min(r[1])..=r[0].max(r[1]))
}

fn geometric(rng: &mut ChaCha8Rng, mean: f64) -> u32 {
    // Number of successes before the first failure, with success probability mean/(1+mean).
    let p = mean / (1.0 + mean);
    let mut n = 0;
    while n < 20 && rng.random::<f64>() < p {
        n += 1;
    }
    n
}

struct Gen<'a> {
    rng: ChaCha8Rng,
    quote_rng: ChaCha8Rng,
    rates: &'a Rates,
    plan: &'a Plan,
    horizon: u32,
    out: Activity,
    next_policy: u32,
    next_claim: u32,
    next_dispute: u32,
    next_application: u32,
    next_consent: u32,
    next_loan: u32,
    /// Each buyer's qualifications with the renewals generated (kind, first, last year).
    quals: Vec<Vec<(String, i32, i32)>>,
}

const YEAR: u32 = 365;

impl Gen<'_> {
    /// A consent to a bank, its queries and perhaps its revocation (and a refused query after).
    fn consent(&mut self, day: u32, enterprise: usize) {
        let consent = self.next_consent;
        self.next_consent += 1;
        let bank = self.rng.random_range(0..self.plan.banks.max(1));
        self.out.at(day, Command::GrantConsent { enterprise, bank, consent });
        let n = range(&mut self.rng, self.rates.consents.queries);
        let mut last = day;
        for _ in 0..n {
            last += self.rng.random_range(1..=30);
            if last < self.horizon {
                self.out.at(last, Command::CreditQuery { consent });
            }
        }
        if self.rng.random::<f64>() < self.rates.consents.revoke_share {
            let revoked = last + self.rng.random_range(10..=60);
            if revoked < self.horizon && revoked < day + 180 {
                self.out.at(revoked, Command::RevokeConsent { consent });
                if self.rng.random::<f64>() < self.rates.consents.query_after_revoke_share
                    && revoked + 5 < self.horizon
                {
                    self.out.at(revoked + self.rng.random_range(1..=5), Command::CreditQuery { consent });
                }
            }
        }
    }

    /// Before applying, the enterprise quotes the product and a few others of its type (from
    /// a stream of its own, so that quoting leaves the rest of the activity as it was).
    fn quotes(&mut self, day: u32, enterprise: usize, product: usize, limit_yuan: i64) {
        let rng = &mut self.quote_rng;
        let on = day.saturating_sub(range(rng, self.rates.quotes.lead_days));
        self.out.at(on, Command::Quote { enterprise, product, limit_yuan });
        let Some(ty) = self.plan.offers.get(product).map(|o| &o.type_id) else { return };
        let mut same: Vec<usize> = (0..self.plan.offers.len())
            .filter(|i| *i != product && self.plan.offers.get(*i).is_some_and(|o| &o.type_id == ty))
            .collect();
        for _ in 0..range(rng, self.rates.quotes.others) {
            if same.is_empty() {
                break;
            }
            let other = same.swap_remove(rng.random_range(0..same.len()));
            self.out.at(on, Command::Quote { enterprise, product: other, limit_yuan });
        }
    }

    fn delay(&mut self, insurer: usize) -> u32 {
        let r = if self.out.slow_insurers.contains(&insurer) {
            self.rates.insurers.slow_days
        } else {
            self.rates.insurers.fast_days
        };
        range(&mut self.rng, r)
    }

    /// A policy of `product` for `enterprise` from `day`: its premium, its claims, its end
    /// (renewal or not) and possibly its cancellation.
    fn policy(
        &mut self,
        day: u32,
        enterprise: usize,
        product: usize,
        limit_yuan: i64,
        renewal_of: Option<u32>,
    ) {
        let handle = self.next_policy;
        self.next_policy += 1;
        match renewal_of {
            Some(old) => self.out.at(day.saturating_sub(15), Command::Renew { policy: old, renewal: handle }),
            None => {
                self.quotes(day, enterprise, product, limit_yuan);
                self.out.at(day, Command::Apply { enterprise, product, limit_yuan, policy: handle })
            }
        }
        let Some(offer) = self.plan.offers.get(product) else { return };
        let insurer = offer.insurer;
        let type_id = offer.type_id.clone();
        let issued = if renewal_of.is_some() { day.saturating_sub(15) } else { day };
        self.out.at(issued + 1, Command::Underwrite { policy: handle });
        // Premium: in full, or in two instalments.
        let paid = issued + 2 + self.delay(insurer) / 2;
        let paid_in_full = if self.rng.random::<f64>() < self.rates.policies.instalment_share {
            self.out.at(paid, Command::PayPremium { policy: handle, share_bp: 5_000, instalment: 1 });
            let second = paid + self.rng.random_range(30..=60);
            self.out.at(second, Command::PayPremium { policy: handle, share_bp: 10_000, instalment: 2 });
            second
        } else {
            self.out.at(paid, Command::PayPremium { policy: handle, share_bp: 10_000, instalment: 1 });
            paid
        };
        // The zone's premium subsidy, from the year its programme starts: applied for once the
        // premium is paid in full, then reviewed, noticed, approved and paid.
        let applied = paid_in_full + self.rng.random_range(5..=30);
        let year_of = |d: u32| self.plan.start_year + ((self.plan.start_day_of_year + d) / YEAR) as i32;
        let held = self.quals.get(enterprise);
        let qualified = self.plan.subsidy_qualifications.is_empty()
            || held.is_some_and(|q| {
                q.iter().any(|(k, from, to)| {
                    self.plan.subsidy_qualifications.contains(k)
                        && *from <= year_of(applied)
                        && year_of(applied) <= *to
                })
            });
        if year_of(applied) >= self.rates.subsidies.from_year
            && qualified
            && self.plan.subsidy_types.contains(&type_id)
            && applied + 60 < self.horizon
            && self.rng.random::<f64>() < self.rates.subsidies.apply_share
        {
            let application = self.next_application;
            self.next_application += 1;
            self.out.at(applied, Command::ApplySubsidy { policy: handle, application });
            let local = applied + self.rng.random_range(3..=12);
            let pass = self.rng.random::<f64>() >= self.rates.subsidies.reject_share;
            self.out.at(local, Command::LocalReview { application, pass });
            if pass {
                let dept = local + self.rng.random_range(2..=8);
                self.out.at(dept, Command::DepartmentReview { application });
                // Five working days of public notice — up to a fortnight over the May Day or
                // National Day holidays — then the approval and the payment.
                let approve = dept + self.rng.random_range(16..=22);
                self.out.at(approve, Command::ApproveSubsidy { application });
                self.out
                    .at(approve + self.rng.random_range(3..=15), Command::DisburseSubsidy { application });
            }
        }
        // Cancelled during the term, or run to its end.
        let mut last = day + YEAR - 1;
        if self.rng.random::<f64>() < self.rates.policies.cancellation_rate {
            let on = day + self.rng.random_range(60..300);
            if on < self.horizon {
                self.out.at(on, Command::Cancel { policy: handle });
                last = on;
            }
        }
        // Endorsed once in a while: the limit raised (or lowered) from a day in the term.
        if self.rng.random::<f64>() < self.rates.policies.endorsement_rate {
            let on = day + self.rng.random_range(30..=150);
            if on < last && on < self.horizon {
                let limit_pct = *[150u32, 200, 80].get(self.rng.random_range(0..3)).unwrap_or(&150);
                self.out.at(on, Command::Endorse { policy: handle, limit_pct });
            }
        }
        // Claims: a Poisson number over the cover run, each on a day within it.
        let lambda = self.rates.frequency(&type_id) * f64::from(last - day + 1) / f64::from(YEAR);
        let n = crate::poisson(&mut self.rng, lambda);
        let [lo, hi] = self.rates.claim_range("severity_share", [0.01, 0.35]);
        for _ in 0..n {
            let loss = day + self.rng.random_range(0..=(last - day));
            let reported = loss + self.rng.random_range(1..=10);
            if reported >= self.horizon {
                continue;
            }
            let claim = self.next_claim;
            self.next_claim += 1;
            let share = lo + (hi - lo) * self.rng.random::<f64>();
            let claimed_share_bp = (share * 10_000.0).round().clamp(1.0, 10_000.0) as u32;
            self.out.at(
                reported,
                Command::ReportClaim { policy: handle, claim, claimed_share_bp, days_ago: reported - loss },
            );
            let assessed = reported + self.rng.random_range(1..=3);
            self.out.at(assessed, Command::AssessClaim { claim });
            let decided = assessed + self.delay(insurer);
            let r = self.rng.random::<f64>();
            let denied = self.rates.num(self.rates.claims.get("denied_share")).unwrap_or(0.1);
            let partial = self.rates.num(self.rates.claims.get("partial_share")).unwrap_or(0.25);
            let (outcome, share_bp) = if r < denied {
                (Outcome::Denied, 0)
            } else if r < denied + partial {
                (Outcome::Partial, self.rng.random_range(3_000..9_000))
            } else {
                (Outcome::Full, 10_000)
            };
            self.out.at(decided, Command::DecideClaim { claim, outcome, share_bp });
            let settled = decided + self.rng.random_range(1..=5);
            self.out.at(
                settled,
                if outcome == Outcome::Denied {
                    Command::CloseClaim { claim }
                } else {
                    Command::PayClaim { claim }
                },
            );
            if outcome != Outcome::Full && self.rng.random::<f64>() < self.rates.disputes.complaint_share {
                let dispute = self.next_dispute;
                self.next_dispute += 1;
                let complained = settled + self.rng.random_range(3..=20);
                self.out.at(complained, Command::Complain { claim, dispute });
                let taken = complained + self.rng.random_range(2..=7);
                self.out.at(taken, Command::Mediate { dispute });
                let concluded = taken + self.rng.random_range(14..=45);
                let settled = self.rng.random::<f64>() < self.rates.disputes.settle_share;
                self.out.at(concluded, Command::Conclude { dispute, settled });
            }
        }
        // Renewed at the end of a term run in full, while within the horizon.
        let end = day + YEAR;
        // A product that asks for a qualification renews only for a holder of one valid then.
        let on = year_of(end);
        let holds = self.plan.offers.get(product).is_some_and(|o| {
            o.qualifications.is_empty()
                || self
                    .quals
                    .get(enterprise)
                    .into_iter()
                    .flatten()
                    .any(|(k, from, to)| o.qualifications.contains(k) && *from <= on && on <= *to)
        });
        if last == day + YEAR - 1
            && holds
            && end < self.horizon
            && self.rng.random::<f64>() < self.rates.policies.renewal_rate
        {
            self.policy(end, enterprise, product, limit_yuan, Some(handle));
        }
    }
}

/// The activity of `plan` under `rates`: the same seed gives the same commands.
pub fn generate(plan: &Plan, rates: &Rates) -> Activity {
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(plan.seed ^ 0x5EED_AC71_0000),
        quote_rng: ChaCha8Rng::seed_from_u64(plan.seed ^ 0x5EED_0007_E000),
        rates,
        plan,
        horizon: plan.years * YEAR,
        out: Activity::default(),
        next_policy: 0,
        next_claim: 0,
        next_dispute: 0,
        next_application: 0,
        next_consent: 0,
        next_loan: 0,
        quals: plan.buyers.iter().map(|b| b.qualifications.clone()).collect(),
    };
    registry(&mut g);
    for i in 0..plan.insurers {
        if g.rng.random::<f64>() < rates.insurers.slow_share {
            g.out.slow_insurers.push(i);
        }
    }
    // Which offers each stage may buy.
    let mut by_stage: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, o) in plan.offers.iter().enumerate() {
        for s in &o.stages {
            by_stage.entry(s.as_str()).or_default().push(i);
        }
    }
    let growth = rates.take_up.by_stage.get("growth_per_year").copied().unwrap_or(0.0);
    let elasticity = rates.take_up.by_stage.get("size_elasticity").copied().unwrap_or(0.0);
    for year in 0..plan.years {
        for (e, b) in plan.buyers.iter().enumerate() {
            if plan.banks > 0 && g.rng.random::<f64>() < rates.consents.share {
                let day = year * YEAR + g.rng.random_range(0..YEAR - 60);
                g.consent(day, e);
            }
            let Some(offers) = by_stage.get(b.stage.as_str()) else { continue };
            let base = rates.take_up(&b.stage);
            let size = (b.staff.max(1.0) / 50.0).powf(elasticity);
            let p = (base * size).min(2.0 * base) * (1.0 + growth).powi(year as i32);
            // Renewals carry last year's buyers: new cover is bought by the others.
            if g.rng.random::<f64>() >= p.min(0.95) * if year == 0 { 1.0 } else { 0.45 } {
                continue;
            }
            let n = 1 + geometric(&mut g.rng, rates.policies.extra_per_buyer_mean);
            for _ in 0..n {
                let day = year * YEAR + g.rng.random_range(0..YEAR - 30);
                // What it may buy that day: products whose filing asks for no qualification,
                // or for one it holds that year.
                let on = plan.start_year + ((plan.start_day_of_year + day) / YEAR) as i32;
                let offers: Vec<usize> = offers
                    .iter()
                    .copied()
                    .filter(|o| {
                        plan.offers.get(*o).is_some_and(|o| {
                            (o.industries.is_empty() || o.industries.iter().any(|i| b.industries.contains(i)))
                                && (o.qualifications.is_empty()
                                    || g.quals.get(e).into_iter().flatten().any(|(k, from, to)| {
                                        o.qualifications.contains(k) && *from <= on && on <= *to
                                    }))
                        })
                    })
                    .collect();
                if offers.is_empty() {
                    continue;
                }
                let Some(&product) = offers.get(g.rng.random_range(0..offers.len())) else { continue };
                let w = &rates.policies.limit_weights;
                let total: f64 = w.iter().sum();
                let mut x = g.rng.random::<f64>() * total;
                let mut limit = rates.policies.limits_yuan.first().copied().unwrap_or(1_000_000);
                for (l, wi) in rates.policies.limits_yuan.iter().zip(w) {
                    if x < *wi {
                        limit = *l;
                        break;
                    }
                    x -= wi;
                }
                g.policy(day, e, product, limit, None);
            }
        }
    }
    loans(&mut g);
    for cmds in g.out.days.values_mut() {
        // Within a day: what creates a thing before what uses it.
        cmds.sort_by_key(order);
    }
    g.out
}

/// The registry's side of the years: facts each year, qualifications renewed, newcomers.
fn registry(g: &mut Gen<'_>) {
    let plan = g.plan;
    let r = &g.rates.registry;
    let year_of = |d: u32| plan.start_year + ((plan.start_day_of_year + d) / YEAR) as i32;
    // The simulated day of 1 January of a calendar year (before day 0: negative).
    let new_year = |y: i32| (y - plan.start_year) * YEAR as i32 - plan.start_day_of_year as i32;
    let last_year = year_of(g.horizon.saturating_sub(1));
    for (e, b) in plan.buyers.iter().enumerate() {
        // Facts for the year before, reported in the first five months of each year.
        for year in 0..plan.years {
            if g.rng.random::<f64>() >= r.facts_share {
                continue;
            }
            let day = year * YEAR + g.rng.random_range(0..150);
            let reported = year_of(day) - 1;
            if b.facts_year.is_some_and(|y| reported <= y) || day >= g.horizon {
                continue;
            }
            let [lo, hi] = r.revenue_change_pct;
            let revenue_pct = g.rng.random_range(lo.min(hi)..=lo.max(hi));
            let [lo, hi] = r.staff_change_pct;
            let staff_pct = g.rng.random_range(lo.min(hi)..=lo.max(hi));
            g.out.at(day, Command::ReportFacts { enterprise: e, year: reported, revenue_pct, staff_pct });
        }
        // A qualification that lapses within the horizon is renewed a few weeks before.
        // Renewed again when the renewal lapses in turn.
        let held = b.qualifications.clone();
        for (kind, _, mut to) in held {
            while to >= plan.start_year - 1 && to < last_year && g.rng.random::<f64>() < r.requalify_share {
                let (from_year, to_year) = (to + 1, to + 1 + if kind == "tech_sme" { 0 } else { 2 });
                let on = (new_year(from_year) - g.rng.random_range(10..=30)).max(0) as u32;
                if on >= g.horizon {
                    break;
                }
                if let Some(q) = g.quals.get_mut(e) {
                    q.push((kind.clone(), from_year, to_year));
                }
                g.out.at(
                    on,
                    Command::RenewQualification { enterprise: e, kind: kind.clone(), from_year, to_year },
                );
                to = to_year;
            }
        }
    }
    // Newcomers register themselves over the years; the zone verifies them within days.
    let wanted = (r.registrations_share * plan.buyers.len() as f64 * f64::from(plan.years)).round() as usize;
    for registration in 0..wanted.min(plan.newcomers) {
        let day = g.rng.random_range(0..g.horizon.saturating_sub(15).max(1));
        let registration = registration as u32;
        g.out.at(day, Command::Register { registration });
        let approve = g.rng.random::<f64>() >= r.refuse_share;
        g.out.at(day + g.rng.random_range(2..=10), Command::Verify { registration, approve });
    }
    // Insurers file new products through the years; the zone reviews them.
    let f = &g.rates.filings;
    let wanted = (f.per_year * plan.years) as usize;
    for filing in 0..wanted.min(plan.filings) {
        let filing = filing as u32;
        let day = g.rng.random_range(0..g.horizon.saturating_sub(60).max(1));
        g.out.at(day, Command::FileProduct { filing });
        let reviewed = day + g.rng.random_range(5..=20);
        let r = g.rng.random::<f64>();
        if r < f.reject_share {
            g.out.at(reviewed, Command::ReviewFiling { filing, decision: Decision::Reject });
            continue;
        }
        let approved = if r < f.reject_share + f.changes_share {
            g.out.at(reviewed, Command::ReviewFiling { filing, decision: Decision::RequestChanges });
            let again = reviewed + g.rng.random_range(3..=10);
            g.out.at(again, Command::ResubmitFiling { filing });
            again + g.rng.random_range(5..=15)
        } else {
            reviewed
        };
        g.out.at(approved, Command::ReviewFiling { filing, decision: Decision::Approve });
        g.out.at(approved + g.rng.random_range(1..=5), Command::PublishFiling { filing });
    }
}

fn order(c: &Command) -> u8 {
    match c {
        Command::Register { .. } => 0,
        Command::Verify { .. } => 1,
        Command::ReportFacts { .. } | Command::RenewQualification { .. } => 0,
        Command::FileProduct { .. } => 0,
        Command::ResubmitFiling { .. } => 1,
        Command::ReviewFiling { .. } => 2,
        Command::PublishFiling { .. } => 3,
        Command::Quote { .. } | Command::Apply { .. } | Command::Renew { .. } => 0,
        Command::Underwrite { .. } => 1,
        Command::PayPremium { .. } => 2,
        Command::ReportClaim { .. } => 3,
        Command::AssessClaim { .. } => 4,
        Command::DecideClaim { .. } => 5,
        Command::PayClaim { .. } | Command::CloseClaim { .. } => 6,
        Command::Complain { .. } => 7,
        Command::Mediate { .. } => 8,
        Command::Conclude { .. } => 9,
        Command::ApplySubsidy { .. } => 10,
        Command::LocalReview { .. } => 11,
        Command::DepartmentReview { .. } => 12,
        Command::ApproveSubsidy { .. } => 13,
        Command::DisburseSubsidy { .. } => 14,
        Command::Endorse { .. } => 15,
        Command::Cancel { .. } => 16,
        Command::GrantConsent { .. } => 17,
        Command::CreditQuery { .. } => 18,
        Command::RevokeConsent { .. } => 19,
        Command::LoanApply { .. } => 20,
        Command::LoanReview { .. } => 21,
        Command::LoanApprove { .. } => 22,
        Command::LoanPolicy { .. } => 23,
        Command::LoanDisburse { .. } => 24,
        Command::LoanRepay { .. } => 25,
        Command::LoanClaim { .. } => 26,
        Command::LoanClaimPay { .. } => 27,
        Command::LoanRecover { .. } => 28,
        Command::FundSettle => 29,
        Command::LoanSubsidy { .. } => 30,
        Command::LoanGuaranteePay { .. } => 31,
    }
}

/// Insured loans over the years: applications, both reviews (the zone's approval where asked),
/// the guarantee policy, disbursement, repayments (some late), defaults claimed once the
/// trigger is met (interest unpaid 90 days, after the 90-day waiting period), the insurer's
/// payment (slow insurers later), recoveries, and the funds settled each quarter.
fn loans(g: &mut Gen<'_>) {
    let plan = g.plan;
    let r = &g.rates.loans;
    if plan.banks == 0 || plan.insurers == 0 || r.amounts_yuan.is_empty() || r.schemes.is_empty() {
        return;
    }
    let year_of = |d: u32| plan.start_year + ((plan.start_day_of_year + d) / YEAR) as i32;
    // Simulated day 0 as a date (the schedule's days are calendar months).
    let Ok(start) =
        time::Date::from_ordinal_date(plan.start_year, (plan.start_day_of_year + 1).min(365) as u16)
    else {
        return;
    };
    for year in 0..plan.years {
        for (e, buyer) in plan.buyers.iter().enumerate() {
            if g.rng.random::<f64>() >= r.share {
                continue;
            }
            // The schemes lend to small and micro enterprises: 300 staff or more is at least
            // medium-sized in every industry (工信部联企业〔2011〕300号), and large in some; the
            // facts an enterprise reports grow over the years, so the margin.
            if buyer.staff >= 200.0 {
                continue;
            }
            let day = year * YEAR + g.rng.random_range(0..YEAR - 20);
            let on = year_of(day);
            // A pool scheme (the second) for an enterprise holding a tech qualification.
            let qualified = g.quals.get(e).into_iter().flatten().any(|(k, from, to)| {
                ["high_tech", "tech_sme", "specialised"].contains(&k.as_str()) && *from <= on && on <= *to
            });
            let open: Vec<&LoanScheme> = r.schemes.iter().filter(|s| qualified || !s.qualified).collect();
            let pooled: Vec<&&LoanScheme> = open.iter().filter(|s| s.qualified).collect();
            let Some(scheme) = (if !pooled.is_empty() && g.rng.random::<bool>() {
                pooled.get(g.rng.random_range(0..pooled.len())).map(|s| **s)
            } else {
                open.iter().find(|s| !s.qualified).copied()
            }) else {
                continue;
            };
            let (default_share, late_share) = (scheme.default_share, scheme.late_share);
            if scheme.guaranteed && plan.guarantors == 0 {
                continue;
            }
            let guaranteed = scheme.guaranteed;
            if scheme.within_years && day + 40 + (r.term_months as u32) * 31 >= g.horizon {
                continue;
            }
            let scheme = scheme.id.clone();
            let loan = g.next_loan;
            g.next_loan += 1;
            let Some(&amount_yuan) = r.amounts_yuan.get(g.rng.random_range(0..r.amounts_yuan.len())) else {
                continue;
            };
            let bank = g.rng.random_range(0..plan.banks);
            let insurer = g.rng.random_range(0..plan.insurers);
            let guarantor = guaranteed.then(|| g.rng.random_range(0..plan.guarantors));
            g.out.at(
                day,
                Command::LoanApply {
                    loan,
                    enterprise: e,
                    bank,
                    insurer,
                    scheme,
                    amount_yuan,
                    term_months: r.term_months,
                    rate_pct: r.rate_pct.clone(),
                    premium_rate_pct: r.premium_rate_pct.clone(),
                    guarantor,
                },
            );
            let mut d = day + g.rng.random_range(1..=5);
            let declined = g.rng.random::<f64>() < r.decline_share;
            let bank_declines = declined && g.rng.random::<bool>();
            if d >= g.horizon {
                continue;
            }
            g.out.at(d, Command::LoanReview { loan, bank: true, approve: !bank_declines });
            if bank_declines {
                continue;
            }
            d += g.rng.random_range(0..=4);
            if d >= g.horizon {
                continue;
            }
            g.out.at(d, Command::LoanReview { loan, bank: false, approve: !declined });
            if declined {
                continue;
            }
            d += g.rng.random_range(1..=5);
            for c in [Command::LoanApprove { loan }, Command::LoanPolicy { loan }] {
                if d >= g.horizon {
                    break;
                }
                g.out.at(d, c);
                d += g.rng.random_range(1..=4);
            }
            if d >= g.horizon {
                continue;
            }
            let disbursed = d;
            g.out.at(disbursed, Command::LoanDisburse { loan });
            // Bullet loans: interest every three months from the disbursement, principal at
            // maturity (the service's schedule); each instalment paid on its day, or late.
            let instalments = (r.term_months / 3).max(1) as u32;
            let due_day = |n: u32| -> u32 {
                let on = kebao_domain::loan::add_months(
                    start + time::Duration::days(i64::from(disbursed)),
                    3 * i64::from(n + 1),
                );
                u32::try_from((on - start).whole_days()).unwrap_or(u32::MAX)
            };
            let defaults = g.rng.random::<f64>() < default_share;
            let paid = if defaults { g.rng.random_range(0..instalments.min(3)) } else { instalments };
            let mut on_time = true;
            let mut last_paid = disbursed;
            for n in 0..paid {
                let late = if g.rng.random::<f64>() < late_share { g.rng.random_range(3..=25) } else { 0 };
                on_time &= late == 0;
                let on = due_day(n).saturating_add(late);
                if on < g.horizon {
                    g.out.at(on, Command::LoanRepay { loan, n });
                    last_paid = on;
                } else {
                    on_time = false;
                }
            }
            if !defaults {
                // Repaid on time: the premium subsidy (for a qualified borrower), reviewed as
                // any zone subsidy.
                let applied = last_paid + g.rng.random_range(5..=30);
                let held = g.quals.get(e).into_iter().flatten().any(|(k, from, to)| {
                    ["high_tech", "tech_sme", "specialised", "gazelle", "little_giant"].contains(&k.as_str())
                        && *from <= year_of(applied)
                        && year_of(applied) <= *to
                });
                if on_time && held && applied < g.horizon && g.rng.random::<f64>() < r.subsidy_share {
                    let application = g.next_application;
                    g.next_application += 1;
                    // Steps after the years end are still waiting on the zone's people.
                    let local = applied + g.rng.random_range(3..=12);
                    let dept = local + g.rng.random_range(2..=8);
                    // After the notice's five working days, holidays included.
                    let approve = dept + g.rng.random_range(16..=22);
                    let pay = approve + g.rng.random_range(3..=15);
                    for (d, c) in [
                        (applied, Command::LoanSubsidy { loan, application }),
                        (local, Command::LocalReview { application, pass: true }),
                        (dept, Command::DepartmentReview { application }),
                        (approve, Command::ApproveSubsidy { application }),
                        (pay, Command::DisburseSubsidy { application }),
                    ] {
                        if d < g.horizon {
                            g.out.at(d, c);
                        }
                    }
                }
                continue;
            }
            // The first instalment missed: interest unpaid for 90 days, and never within the
            // 90-day waiting period.
            let missed = due_day(paid);
            let claim = (missed + 92 + g.rng.random_range(0..20)).max(disbursed + 92);
            if claim >= g.horizon {
                continue;
            }
            g.out.at(claim, Command::LoanClaim { loan });
            let pay = claim + g.delay(insurer);
            if pay >= g.horizon {
                continue;
            }
            g.out.at(pay, Command::LoanClaimPay { loan });
            if guarantor.is_some() {
                let paid = pay + g.rng.random_range(5..=40);
                if paid < g.horizon {
                    g.out.at(paid, Command::LoanGuaranteePay { loan });
                }
            }
            if g.rng.random::<f64>() < r.recovery_share {
                let at = pay + g.rng.random_range(30..=200);
                let [lo, hi] = r.recovered_share;
                let share = lo + g.rng.random::<f64>() * (hi - lo).max(0.0);
                if at < g.horizon {
                    g.out.at(at, Command::LoanRecover { loan, share_bp: (share * 10_000.0) as u32 });
                }
            }
        }
    }
    // The zone settles the funds each quarter.
    let mut d = 80;
    while d < g.horizon {
        g.out.at(d, Command::FundSettle);
        d += 91;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(seed: u64, buyers: usize) -> Plan {
        let stages = ["rnd", "commercialisation", "production", "market", "financing", "overseas"];
        Plan {
            seed,
            years: 3,
            start_year: 2023,
            start_day_of_year: 300,
            buyers: (0..buyers)
                .map(|i| Buyer {
                    stage: stages[i % 6].into(),
                    staff: 20.0 + (i % 300) as f64,
                    qualifications: if i % 2 == 0 {
                        vec![("high_tech".into(), 2020, 2030)]
                    } else {
                        Vec::new()
                    },
                    industries: vec!["optoelectronics".into()],
                    facts_year: Some(2022),
                })
                .collect(),
            offers: vec![
                Offer {
                    type_id: "rd_liability".into(),
                    stages: vec!["rnd".into(), "commercialisation".into()],
                    insurer: 0,
                    qualifications: Vec::new(),
                    industries: Vec::new(),
                },
                Offer {
                    type_id: "property_all_risks".into(),
                    stages: stages[2..].iter().map(|s| (*s).into()).collect(),
                    insurer: 1,
                    qualifications: Vec::new(),
                    industries: Vec::new(),
                },
                Offer {
                    type_id: "product_liability".into(),
                    stages: stages.iter().map(|s| (*s).into()).collect(),
                    insurer: 2,
                    qualifications: vec!["high_tech".into()],
                    industries: Vec::new(),
                },
            ],
            insurers: 3,
            subsidy_types: vec!["rd_liability".into(), "product_liability".into()],
            subsidy_qualifications: vec!["high_tech".into()],
            banks: 2,
            guarantors: 1,
            newcomers: 100,
            filings: 60,
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_commands_and_another_seed_others() {
        let rates = Rates::parse(RATES).unwrap();
        let a = generate(&plan(7, 300), &rates);
        let b = generate(&plan(7, 300), &rates);
        assert_eq!(a.days, b.days);
        assert_ne!(a.days, generate(&plan(8, 300), &rates).days);
    }

    #[test]
    fn two_thousand_enterprises_over_three_years_have_the_volumes_the_issue_asks_for() {
        let rates = Rates::parse(RATES).unwrap();
        let a = generate(&plan(2020_0930, 2000), &rates);
        let count = |f: fn(&Command) -> bool| a.days.values().flatten().filter(|c| f(c)).count();
        let policies = count(|c| matches!(c, Command::Apply { .. } | Command::Renew { .. }));
        let claims = count(|c| matches!(c, Command::ReportClaim { .. }));
        let payments = count(|c| matches!(c, Command::PayPremium { .. } | Command::PayClaim { .. }));
        assert!(policies >= 2000, "{policies} policies");
        assert!(claims >= 100, "{claims} claims");
        // Each policy writes its premium due and each payment a transfer.
        assert!(policies + payments >= 5000, "{policies} policies, {payments} payments");
        for kind in [
            |c: &Command| matches!(c, Command::Cancel { .. }),
            |c: &Command| matches!(c, Command::Endorse { .. }),
            |c: &Command| matches!(c, Command::DisburseSubsidy { .. }),
            |c: &Command| matches!(c, Command::LocalReview { pass: false, .. }),
            |c: &Command| matches!(c, Command::CreditQuery { .. }),
            |c: &Command| matches!(c, Command::RevokeConsent { .. }),
            |c: &Command| matches!(c, Command::DecideClaim { outcome: Outcome::Denied, .. }),
            |c: &Command| matches!(c, Command::DecideClaim { outcome: Outcome::Partial, .. }),
            |c: &Command| matches!(c, Command::Conclude { settled: true, .. }),
            |c: &Command| matches!(c, Command::Conclude { settled: false, .. }),
            |c: &Command| matches!(c, Command::PayPremium { instalment: 2, .. }),
            |c: &Command| matches!(c, Command::ReportFacts { .. }),
            |c: &Command| matches!(c, Command::Verify { approve: true, .. }),
            |c: &Command| matches!(c, Command::Verify { approve: false, .. }),
            |c: &Command| matches!(c, Command::PublishFiling { .. }),
            |c: &Command| matches!(c, Command::Quote { .. }),
            |c: &Command| matches!(c, Command::ResubmitFiling { .. }),
            |c: &Command| matches!(c, Command::ReviewFiling { decision: Decision::Reject, .. }),
            |c: &Command| matches!(c, Command::LoanApply { .. }),
            |c: &Command| matches!(c, Command::LoanReview { approve: false, .. }),
            |c: &Command| matches!(c, Command::LoanRepay { .. }),
            |c: &Command| matches!(c, Command::LoanClaim { .. }),
            |c: &Command| matches!(c, Command::LoanClaimPay { .. }),
            |c: &Command| matches!(c, Command::LoanRecover { .. }),
            |c: &Command| matches!(c, Command::FundSettle),
        ] {
            assert!(count(kind) > 0);
        }
        // Growth: more policies start in the last year than in the first.
        let starts = |y: u32| {
            a.days
                .range(y * YEAR..(y + 1) * YEAR)
                .flat_map(|(_, c)| c)
                .filter(|c| matches!(c, Command::Apply { .. } | Command::Renew { .. }))
                .count()
        };
        assert!(starts(2) > starts(0), "{} then {}", starts(0), starts(2));
    }

    #[test]
    fn every_handle_is_created_before_it_is_used() {
        let rates = Rates::parse(RATES).unwrap();
        let p = plan(3, 500);
        let a = generate(&p, &rates);
        let (mut policies, mut claims, mut disputes) = (Vec::new(), Vec::new(), Vec::new());
        let mut quoted = std::collections::HashSet::new();
        let mut applications = Vec::new();
        let mut consents = Vec::new();
        let mut registrations = Vec::new();
        let mut filings = Vec::new();
        let mut loans = Vec::new();
        for c in a.days.values().flatten() {
            match c {
                Command::LoanApply { loan, enterprise, bank, insurer, .. } => {
                    assert!(
                        *enterprise < p.buyers.len() && *bank < p.banks && *insurer < p.insurers,
                        "{c:?}"
                    );
                    loans.push(*loan);
                }
                Command::LoanReview { loan, .. }
                | Command::LoanApprove { loan }
                | Command::LoanPolicy { loan }
                | Command::LoanDisburse { loan }
                | Command::LoanRepay { loan, .. }
                | Command::LoanClaim { loan }
                | Command::LoanClaimPay { loan }
                | Command::LoanGuaranteePay { loan }
                | Command::LoanRecover { loan, .. } => assert!(loans.contains(loan), "{c:?}"),
                Command::LoanSubsidy { loan, application } => {
                    assert!(loans.contains(loan), "{c:?}");
                    applications.push(*application);
                }
                Command::FundSettle => {}
                Command::Quote { enterprise, product, .. } => {
                    assert!(*enterprise < p.buyers.len() && *product < p.offers.len(), "{c:?}");
                    quoted.insert((*enterprise, *product));
                }
                // Every new application was quoted first (renewals are not).
                Command::Apply { policy, enterprise, product, .. } => {
                    assert!(quoted.contains(&(*enterprise, *product)), "{c:?}");
                    policies.push(*policy)
                }
                Command::Renew { policy, renewal } => {
                    assert!(policies.contains(policy));
                    policies.push(*renewal);
                }
                Command::Underwrite { policy }
                | Command::PayPremium { policy, .. }
                | Command::Cancel { policy }
                | Command::Endorse { policy, .. } => {
                    assert!(policies.contains(policy), "{c:?}");
                }
                Command::ReportClaim { policy, claim, .. } => {
                    assert!(policies.contains(policy));
                    claims.push(*claim);
                }
                Command::AssessClaim { claim }
                | Command::DecideClaim { claim, .. }
                | Command::PayClaim { claim }
                | Command::CloseClaim { claim } => assert!(claims.contains(claim), "{c:?}"),
                Command::Complain { claim, dispute } => {
                    assert!(claims.contains(claim));
                    disputes.push(*dispute);
                }
                Command::ApplySubsidy { policy, application } => {
                    assert!(policies.contains(policy));
                    applications.push(*application);
                }
                Command::LocalReview { application, .. }
                | Command::DepartmentReview { application }
                | Command::ApproveSubsidy { application }
                | Command::DisburseSubsidy { application } => {
                    assert!(applications.contains(application), "{c:?}")
                }
                Command::GrantConsent { consent, .. } => consents.push(*consent),
                Command::CreditQuery { consent } | Command::RevokeConsent { consent } => {
                    assert!(consents.contains(consent), "{c:?}")
                }
                Command::Mediate { dispute } | Command::Conclude { dispute, .. } => {
                    assert!(disputes.contains(dispute), "{c:?}")
                }
                Command::Register { registration } => registrations.push(*registration),
                Command::Verify { registration, .. } => assert!(registrations.contains(registration)),
                Command::ReportFacts { .. } | Command::RenewQualification { .. } => {}
                Command::FileProduct { filing } => filings.push(*filing),
                Command::ReviewFiling { filing, .. }
                | Command::ResubmitFiling { filing }
                | Command::PublishFiling { filing } => assert!(filings.contains(filing), "{c:?}"),
            }
        }
        assert!(Rates::parse("[take_up]\nrnd = 0.1\n").is_err());
    }
}
