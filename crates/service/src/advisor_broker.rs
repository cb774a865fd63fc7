//! The risk advisor's broker mode (C3, rules.md §11.1 `[R]`): only when the zone names a
//! licensed insurance broker (a registered intermediary, its licence number and validity) as
//! the advisor's operator may the advisor set insurers' quotes side by side with subsidy
//! estimates, keep a bundle and send its applications in one step — one application per
//! quote, each to its insurer, all linked to the bundle. Every page then names the broker and
//! its licence. A quote stands for its plan's validity (a filing setting) and lapses sooner
//! when the insurer's plan or the product's public version changes. See `docs/advisor.md`.

use crate::advisor::refuse;
use crate::authz::{Action, Actor, Basis, Resource};
use crate::subsidies::Hypothetical;
use crate::{Result, Service, ServiceError};
use kebao_domain::event::EventDraft;
use kebao_domain::org::{parse_date, text_field, InstitutionKind, OrgKind, OrgStatus};
use kebao_domain::rating::{QuoteFields, QuoteInput};
use kebao_domain::{FieldError, Invalid, Money};
use kebao_store::advisor_broker as store;
use kebao_store::advisor_broker::{BrokerRow, BundleRow, QuoteRow};
use std::collections::{BTreeSet, HashMap};
use time::{Date, Duration};

/// The longest licence number kept.
const LICENCE_MAX_CHARS: usize = 50;
/// The most quotes one request obtains (one per eligible product of an exposure).
const MAX_QUOTES_PER_REQUEST: usize = 50;

/// A broker named as the advisor's operator.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Broker {
    pub id: String,
    pub org_id: String,
    pub org_name: String,
    pub licence_no: String,
    pub valid_from: Date,
    pub valid_to: Date,
    pub named_by: String,
    pub named_at_us: i64,
    pub ended_at_us: Option<i64>,
}

impl Broker {
    /// Whether its licence is valid on `d`.
    pub fn licensed_on(&self, d: Date) -> bool {
        self.valid_from <= d && d <= self.valid_to
    }
}

/// What the zone types to name a broker.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrokerInput {
    /// The registered organisation (an insurance intermediary).
    pub org_id: String,
    /// The licence number (经营保险经纪业务许可证).
    pub licence_no: String,
    /// YYYY-MM-DD.
    pub valid_from: String,
    /// YYYY-MM-DD.
    pub valid_to: String,
}

/// A quote the broker obtained, as the advisor shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QuoteLine {
    pub id: String,
    pub exposure_id: String,
    pub product_id: String,
    pub product_name: String,
    pub insurer_id: String,
    pub insurer_name: String,
    pub plan_version: i64,
    pub product_version: i64,
    pub limit_fen: i64,
    pub deductible_fen: i64,
    pub sum_insured_fen: i64,
    pub revenue_fen: i64,
    pub claims_3y: i64,
    pub premium_fen: i64,
    pub subsidy_fen: i64,
    pub quoted_on: Date,
    pub valid_until: Date,
    pub chosen: bool,
    /// Why the quote no longer stands (none: it does), in both languages.
    pub lapsed: Option<(String, String)>,
}

impl QuoteLine {
    /// The premium less the estimated subsidy.
    pub fn net_fen(&self) -> i64 {
        self.premium_fen - self.subsidy_fen
    }
}

/// The bundle being put together: the chosen quotes that stand, and what stays uncovered.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BundleDraft {
    pub quotes: Vec<String>,
    pub premium_fen: i64,
    pub subsidy_fen: i64,
    /// Exposures neither in the bundle nor covered by a policy in force: (id, zh, en).
    pub uncovered: Vec<(String, String, String)>,
}

/// A bundle applied for, with the application made from each of its quotes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BundleView {
    pub id: String,
    pub start_date: Date,
    pub premium_fen: i64,
    pub subsidy_fen: i64,
    pub uncovered: i64,
    pub applied_by: String,
    pub applied_at_us: i64,
    /// (application id, product name, insurer name, premium in fen).
    pub applications: Vec<(String, String, String, i64)>,
}

fn no_broker() -> ServiceError {
    ServiceError::Conflict(FieldError::new(
        "broker",
        "no_licensed_broker",
        "示范区未指定持有有效许可证的保险经纪机构运营风险顾问，平台不提供比价、组合投保或代为投保（仅信息模式）",
        "the zone has named no broker with a valid licence to operate the advisor: no side-by-side quotes, bundles or applications on the enterprise's behalf (information mode only)",
    ))
}

impl Service {
    async fn broker_of(&self, tx: &mut impl kebao_store::Conn, r: BrokerRow) -> Result<Broker> {
        let org_name = kebao_store::orgs::get(tx.conn(), &r.org_id).await.map(|o| o.name).unwrap_or_default();
        Ok(Broker {
            id: r.id,
            org_id: r.org_id,
            org_name,
            licence_no: r.licence_no,
            valid_from: r.valid_from,
            valid_to: r.valid_to,
            named_by: r.named_by,
            named_at_us: r.named_at_us,
            ended_at_us: r.ended_at_us,
        })
    }

    /// The broker the zone names now, whatever its licence says (none: information mode).
    pub async fn advisor_broker(&self) -> Result<Option<Broker>> {
        let mut tx = self.store.begin_read().await?;
        match store::current(tx.conn()).await? {
            Some(r) => Ok(Some(self.broker_of(&mut tx, r).await?)),
            None => Ok(None),
        }
    }

    /// The broker operating the advisor today: named, and its licence valid today.
    pub async fn advisor_broker_in_force(&self) -> Result<Option<Broker>> {
        let today = self.today();
        Ok(self.advisor_broker().await?.filter(|b| b.licensed_on(today)))
    }

    /// Every broker the zone has named, newest first (the zone's approvers).
    pub async fn advisor_broker_history(&self, actor: &Actor) -> Result<Vec<Broker>> {
        self.require(actor, Action::NameAdvisorBroker, &Resource::Zone, &Basis::None)?;
        let mut tx = self.store.begin_read().await?;
        let mut out = Vec::new();
        for r in store::history(tx.conn()).await? {
            out.push(self.broker_of(&mut tx, r).await?);
        }
        Ok(out)
    }

    /// The zone names a licensed broker as the advisor's operator (ending any earlier naming).
    /// The organisation must be a verified insurance intermediary and its licence valid today.
    pub async fn name_advisor_broker(&self, actor: &Actor, input: &BrokerInput) -> Result<Broker> {
        self.require(actor, Action::NameAdvisorBroker, &Resource::Zone, &Basis::None)?;
        let today = self.today();
        let mut errors = Vec::new();
        let licence = match text_field("licence_no", &input.licence_no, true, LICENCE_MAX_CHARS) {
            Ok(v) => v.unwrap_or_default(),
            Err(e) => {
                errors.push(e);
                String::new()
            }
        };
        let from = parse_date("valid_from", &input.valid_from).map_err(|e| errors.push(e)).ok();
        let to = parse_date("valid_to", &input.valid_to).map_err(|e| errors.push(e)).ok();
        if let (Some(f), Some(t)) = (from, to) {
            if t < f {
                errors.push(FieldError::new(
                    "valid_to",
                    "before_start",
                    "许可证有效期的截止日早于起始日",
                    "the licence's validity ends before it starts",
                ));
            } else if t < today {
                errors.push(FieldError::new(
                    "valid_to",
                    "licence_expired",
                    format!("许可证已于 {t} 过期，不能以此运营风险顾问"),
                    format!("the licence expired on {t}: it cannot operate the advisor"),
                ));
            } else if f > today {
                errors.push(FieldError::new(
                    "valid_from",
                    "licence_not_yet_valid",
                    format!("许可证自 {f} 起才生效"),
                    format!("the licence is valid only from {f}"),
                ));
            }
        }
        let mut tx = self.store.begin_write().await?;
        let org = match kebao_store::orgs::get(tx.conn(), input.org_id.trim()).await {
            Ok(o) => Some(o),
            Err(kebao_store::StoreError::NotFound) => {
                errors.push(FieldError::new(
                    "org_id",
                    "unknown_org",
                    "该机构未在平台登记",
                    format!("organisation `{}` is not registered", input.org_id.trim()),
                ));
                None
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(o) = &org {
            if o.kind != OrgKind::ServiceBody || o.institution_kind != Some(InstitutionKind::Intermediary) {
                errors.push(FieldError::new(
                    "org_id",
                    "not_an_intermediary",
                    format!("{} 未登记为保险中介机构", o.name),
                    format!("{} is not registered as an insurance intermediary", o.name),
                ));
            } else if o.status != OrgStatus::Verified {
                errors.push(FieldError::new(
                    "org_id",
                    "not_verified",
                    format!("{} 的登记尚未核验", o.name),
                    format!("{}'s registration is not verified", o.name),
                ));
            }
        }
        let (Some(org), Some(valid_from), Some(valid_to), true) = (org, from, to, errors.is_empty()) else {
            return Err(ServiceError::Invalid(Invalid(errors)));
        };
        let row = BrokerRow {
            id: self.new_id(),
            org_id: org.id.clone(),
            licence_no: licence,
            valid_from,
            valid_to,
            named_by: actor.log_name(),
            named_at_us: self.now_us(),
            ended_by: None,
            ended_at_us: None,
        };
        store::name(tx.conn(), &row).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "advisor.broker_named",
            &org.id,
            serde_json::json!({"broker": row.id, "licence_no": row.licence_no,
                "valid_from": valid_from.to_string(), "valid_to": valid_to.to_string()}),
        );
        self.finish(tx, draft).await?;
        Ok(Broker {
            id: row.id,
            org_id: org.id,
            org_name: org.name,
            licence_no: row.licence_no,
            valid_from,
            valid_to,
            named_by: row.named_by,
            named_at_us: row.named_at_us,
            ended_at_us: None,
        })
    }

    /// The zone ends the broker's naming: the advisor returns to information mode.
    pub async fn end_advisor_broker(&self, actor: &Actor) -> Result<()> {
        self.require(actor, Action::NameAdvisorBroker, &Resource::Zone, &Basis::None)?;
        let mut tx = self.store.begin_write().await?;
        let Some(current) = store::current(tx.conn()).await? else { return Err(ServiceError::NotFound) };
        store::end(tx.conn(), &actor.log_name(), self.now_us()).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "advisor.broker_ended",
            &current.org_id,
            serde_json::json!({"broker": current.id}),
        );
        self.finish(tx, draft).await.map(|_| ())
    }

    /// Why a stored quote no longer stands, if it does not: past its validity, the insurer's
    /// plan in force or the product's public version changed since, or no longer published.
    async fn quote_lapsed(
        &self,
        tx: &mut impl kebao_store::Conn,
        q: &QuoteRow,
        on: Date,
    ) -> Result<Option<(String, String)>> {
        let today = self.today();
        if q.valid_until < today {
            return Ok(Some((
                format!("报价已于 {} 过期", q.valid_until),
                format!("the quote expired on {}", q.valid_until),
            )));
        }
        let p = kebao_store::products::get_product(tx.conn(), &q.product_id).await?;
        if p.public_version != Some(q.product_version) {
            return Ok(Some((
                "产品条款已更新或已停售，须重新报价".into(),
                "the product's terms changed or it was withdrawn: quote again".into(),
            )));
        }
        let plans = kebao_store::rating::for_product(tx.conn(), &q.product_id).await?;
        let in_force = plans.iter().find(|r| r.effective_from <= on).map(|r| r.version);
        if in_force != Some(q.plan_version) {
            return Ok(Some((
                format!("保险机构自 {on} 适用的费率表已不是报价所用的版本，须重新报价"),
                format!("the insurer's plan in force on {on} is not the one quoted: quote again"),
            )));
        }
        Ok(None)
    }

    /// The enterprise's open quotes, the bundle being put together and its bundles applied for,
    /// as the advisor shows them in broker mode.
    pub(crate) async fn advisor_quotes(
        &self,
        org_id: &str,
        exposures: &[(String, String, String, bool)],
    ) -> Result<(Vec<QuoteLine>, BundleDraft, Vec<BundleView>)> {
        let today = self.today();
        let mut tx = self.store.begin_read().await?;
        let mut rows = store::open_quotes(tx.conn(), org_id).await?;
        // A newer round of quotes for an exposure supersedes the older ones of the same product
        // (kept in the store and the event log), unless the older one is the one chosen.
        let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
        rows.retain(|q| seen.insert((q.exposure_id.clone(), q.product_id.clone())) || q.chosen);
        let mut names: HashMap<String, (String, String)> = HashMap::new();
        let mut lines = Vec::new();
        for q in rows {
            let lapsed = self.quote_lapsed(&mut tx, &q, today).await?;
            if !names.contains_key(&q.product_id) {
                let p = kebao_store::products::get_product(tx.conn(), &q.product_id).await?;
                names.insert(q.product_id.clone(), (p.name.clone(), p.insurer_name.clone()));
            }
            let (product_name, insurer_name) = names.get(&q.product_id).cloned().unwrap_or_default();
            lines.push(QuoteLine {
                id: q.id,
                exposure_id: q.exposure_id,
                product_id: q.product_id,
                product_name,
                insurer_id: q.insurer_id,
                insurer_name,
                plan_version: q.plan_version,
                product_version: q.product_version,
                limit_fen: q.limit_fen,
                deductible_fen: q.deductible_fen,
                sum_insured_fen: q.sum_insured_fen,
                revenue_fen: q.revenue_fen,
                claims_3y: q.claims_3y,
                premium_fen: q.premium_fen,
                subsidy_fen: q.subsidy_fen,
                quoted_on: q.quoted_on,
                valid_until: q.valid_until,
                chosen: q.chosen,
                lapsed,
            });
        }
        let chosen: Vec<&QuoteLine> = lines.iter().filter(|l| l.chosen && l.lapsed.is_none()).collect();
        let in_bundle: BTreeSet<&str> = chosen.iter().map(|l| l.exposure_id.as_str()).collect();
        let draft = BundleDraft {
            quotes: chosen.iter().map(|l| l.id.clone()).collect(),
            premium_fen: chosen.iter().map(|l| l.premium_fen).sum(),
            subsidy_fen: chosen.iter().map(|l| l.subsidy_fen).sum(),
            uncovered: exposures
                .iter()
                .filter(|(id, _, _, covered)| !covered && !in_bundle.contains(id.as_str()))
                .map(|(id, zh, en, _)| (id.clone(), zh.clone(), en.clone()))
                .collect(),
        };
        let mut bundles = Vec::new();
        for b in store::bundles(tx.conn(), org_id).await? {
            let mut applications = Vec::new();
            for q in store::bundle_quotes(tx.conn(), &b.id).await? {
                let p = kebao_store::products::get_product(tx.conn(), &q.product_id).await?;
                applications.push((
                    q.application_id.unwrap_or_default(),
                    p.name,
                    p.insurer_name,
                    q.premium_fen,
                ));
            }
            bundles.push(BundleView {
                id: b.id,
                start_date: b.start_date,
                premium_fen: b.premium_fen,
                subsidy_fen: b.subsidy_fen,
                uncovered: b.uncovered,
                applied_by: b.applied_by,
                applied_at_us: b.applied_at_us,
                applications,
            });
        }
        Ok((lines, draft, bundles))
    }

    /// In broker mode: the broker obtains a quote from every insurer's filed plan for each
    /// published product the enterprise is eligible for under one of its exposures, all on
    /// the same inputs (the registry gives the industry and stage), each stored with its
    /// plan version, its validity and the estimated subsidy.
    pub async fn quote_for_exposure(
        &self,
        actor: &Actor,
        exposure_id: &str,
        fields: &QuoteFields,
    ) -> Result<Vec<QuoteLine>> {
        let broker = self.advisor_broker_in_force().await?.ok_or_else(no_broker)?;
        let view = self.advisor(actor).await?;
        let e = view.exposure(exposure_id)?;
        let mut input = QuoteInput::parse(fields).map_err(ServiceError::Invalid)?;
        let mut tx = self.store.begin_read().await?;
        let org = kebao_store::orgs::get(tx.conn(), &view.org_id).await?;
        drop(tx);
        // The registry, not the form, says what the enterprise is.
        input.industry = org.zone_industries.first().cloned();
        input.stage = org.lifecycle_stage;
        let today = self.today();
        let mut quoted = Vec::new();
        let mut refused: Vec<String> = Vec::new();
        for p in e.products.iter().filter(|p| p.not_eligible.is_empty()).take(MAX_QUOTES_PER_REQUEST) {
            match self.quote(actor, &p.product_id, &input, None).await {
                Ok(q) => quoted.push(q),
                Err(ServiceError::Conflict(_) | ServiceError::Invalid(_)) => refused.push(p.name.clone()),
                Err(other) => return Err(other),
            }
        }
        if quoted.is_empty() {
            return Err(refuse(
                "exposure",
                "nothing_to_quote",
                "此风险下没有本企业符合条件、且保险机构已在平台备案费率表可报价的产品",
                "no product under this exposure is open to the enterprise with a rating plan filed on the platform",
            ));
        }
        let cover =
            |i: &QuoteInput| if i.sum_insured.fen() > 0 { i.sum_insured.fen() } else { i.limit.fen() };
        let hypotheticals: Vec<Hypothetical> = quoted
            .iter()
            .map(|q| {
                let end = kebao_domain::policy::cover_period(today, q.content.term_months, today)
                    .map_or(today, |c| c.end);
                Hypothetical {
                    product_type: q.content.type_id.clone(),
                    premium_fen: q.quote.premium.fen(),
                    sum_insured_fen: cover(&input),
                    limit_fen: input.limit.fen(),
                    start: today,
                    end,
                }
            })
            .collect();
        let mut tx = self.store.begin_write().await?;
        let estimates = self.estimate_subsidies(&mut tx, &org, &hypotheticals).await?;
        let now = self.now_us();
        let rows: Vec<QuoteRow> = quoted
            .iter()
            .zip(estimates.iter())
            .map(|(q, es)| QuoteRow {
                id: self.new_id(),
                enterprise_id: org.id.clone(),
                exposure_id: exposure_id.to_owned(),
                product_id: q.product_id.clone(),
                product_version: q.product_version,
                insurer_id: q.insurer_id.clone(),
                plan_version: q.plan_version,
                broker_id: broker.id.clone(),
                limit_fen: input.limit.fen(),
                deductible_fen: input.deductible.fen(),
                sum_insured_fen: input.sum_insured.fen(),
                revenue_fen: input.revenue.fen(),
                claims_3y: i64::from(input.claims_3y),
                premium_fen: q.quote.premium.fen(),
                subsidy_fen: es.iter().filter_map(|e| e.amount_fen).sum::<i64>().min(q.quote.premium.fen()),
                quoted_on: today,
                valid_until: today
                    .checked_add(Duration::days(i64::from(q.quote_valid_days)))
                    .unwrap_or(Date::MAX),
                chosen: false,
                bundle_id: None,
                application_id: None,
                created_by: actor.log_name(),
                created_at_us: now,
            })
            .collect();
        store::insert_quotes(tx.conn(), &rows).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "advisor.quoted",
            &org.id,
            serde_json::json!({"broker": broker.id, "exposure": exposure_id,
                "quotes": rows.iter().map(|r| serde_json::json!({"id": r.id, "product": r.product_id,
                    "plan_version": r.plan_version, "premium_fen": r.premium_fen, "subsidy_fen": r.subsidy_fen,
                    "valid_until": r.valid_until.to_string()})).collect::<Vec<_>>(),
                "not_quoted": refused}),
        );
        self.finish(tx, draft).await?;
        let ids: BTreeSet<String> = rows.iter().map(|r| r.id.clone()).collect();
        let (lines, _, _) = self.advisor_quotes(&org.id, &[]).await?;
        Ok(lines.into_iter().filter(|l| ids.contains(&l.id)).collect())
    }

    /// An open quote of the actor's enterprise, checked to stand (for the bundle).
    async fn own_open_quote(&self, actor: &Actor, quote_id: &str) -> Result<(Broker, String, QuoteRow)> {
        let broker = self.advisor_broker_in_force().await?.ok_or_else(no_broker)?;
        let own = actor.org_id().ok_or(ServiceError::Unauthenticated("sign in first"))?.to_owned();
        let mut tx = self.store.begin_read().await?;
        let org = kebao_store::orgs::get(tx.conn(), &own).await?;
        self.require(actor, Action::UseAdvisor, &crate::authz::org_resource(&org), &Basis::None)?;
        let q = match store::quote(tx.conn(), quote_id).await {
            Ok(q) if q.enterprise_id == own && q.bundle_id.is_none() => q,
            Ok(_) | Err(kebao_store::StoreError::NotFound) => return Err(ServiceError::NotFound),
            Err(e) => return Err(e.into()),
        };
        Ok((broker, own, q))
    }

    /// Puts a quote into the bundle (the one chosen for its exposure). A lapsed quote is refused.
    pub async fn choose_quote(&self, actor: &Actor, quote_id: &str) -> Result<()> {
        let (_, own, q) = self.own_open_quote(actor, quote_id).await?;
        let mut tx = self.store.begin_write().await?;
        if let Some((zh, en)) = self.quote_lapsed(&mut tx, &q, self.today()).await? {
            return Err(ServiceError::Conflict(FieldError::new("quote", "quote_lapsed", zh, en)));
        }
        store::choose(tx.conn(), &q).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "advisor.quote_chosen",
            &own,
            serde_json::json!({"quote": q.id, "product": q.product_id, "exposure": q.exposure_id}),
        );
        self.finish(tx, draft).await.map(|_| ())
    }

    /// Takes a quote out of the bundle.
    pub async fn unchoose_quote(&self, actor: &Actor, quote_id: &str) -> Result<()> {
        let (_, own, q) = self.own_open_quote(actor, quote_id).await?;
        let mut tx = self.store.begin_write().await?;
        if !store::unchoose(tx.conn(), &own, &q.id).await? {
            return Err(ServiceError::NotFound);
        }
        let draft = EventDraft::new(
            &actor.log_name(),
            "advisor.quote_unchosen",
            &own,
            serde_json::json!({"quote": q.id}),
        );
        self.finish(tx, draft).await.map(|_| ())
    }

    /// Applies for the bundle in one step: one application per chosen quote, each to its
    /// insurer on its filed plan, in one transaction with the bundle — all or none. Refused,
    /// changing nothing, when the bundle is empty, a quote has lapsed (named), the premium on
    /// the start date is not the one quoted, or the enterprise is outside a product's
    /// eligibility.
    pub async fn apply_bundle(&self, actor: &Actor, start: &str) -> Result<BundleView> {
        let broker = self.advisor_broker_in_force().await?.ok_or_else(no_broker)?;
        let view = self.advisor(actor).await?;
        let start_date = parse_date("start_date", start)?;
        kebao_domain::policy::check_start(start_date, self.today())?;
        let exposures: Vec<(String, String, String, bool)> = view
            .exposures
            .iter()
            .map(|e| (e.id.clone(), e.name_zh.clone(), e.name_en.clone(), !e.covered_by.is_empty()))
            .collect();
        let (lines, draft, _) = self.advisor_quotes(&view.org_id, &exposures).await?;
        let chosen: Vec<&QuoteLine> = lines.iter().filter(|l| l.chosen).collect();
        if chosen.is_empty() {
            return Err(refuse(
                "bundle",
                "empty_bundle",
                "组合中还没有报价：请先在各风险下选定一个报价",
                "the bundle holds no quote yet: choose one under an exposure first",
            ));
        }
        let mut errors = Vec::new();
        let mut tx = self.store.begin_read().await?;
        for l in &chosen {
            let row = store::quote(tx.conn(), &l.id).await?;
            if let Some((zh, en)) = self.quote_lapsed(&mut tx, &row, start_date).await? {
                errors.push(FieldError::new(
                    "quote",
                    "quote_lapsed",
                    format!("{}（{}）：{zh}", l.product_name, l.insurer_name),
                    format!("{} ({}): {en}", l.product_name, l.insurer_name),
                ));
            }
        }
        drop(tx);
        if !errors.is_empty() {
            return Err(ServiceError::Conflict(errors.remove(0)));
        }
        let mut rated = Vec::new();
        for l in &chosen {
            let input = QuoteInput {
                limit: Money::from_fen(l.limit_fen),
                deductible: Money::from_fen(l.deductible_fen),
                sum_insured: Money::from_fen(l.sum_insured_fen),
                revenue: Money::from_fen(l.revenue_fen),
                industry: None,
                stage: None,
                claims_3y: u32::try_from(l.claims_3y).unwrap_or(u32::MAX),
            };
            let mut tx = self.store.begin_read().await?;
            let org = kebao_store::orgs::get(tx.conn(), &view.org_id).await?;
            drop(tx);
            let input = QuoteInput {
                industry: org.zone_industries.first().cloned(),
                stage: org.lifecycle_stage,
                ..input
            };
            let r = self
                .rate_application(actor, &l.product_id, &input, start_date, None, &Default::default())
                .await?;
            if r.row.premium.fen() != l.premium_fen || r.row.plan_version != l.plan_version {
                return Err(ServiceError::Conflict(FieldError::new(
                    "quote",
                    "quote_lapsed",
                    format!(
                        "{}（{}）：起保日适用的保费与报价不同，须重新报价",
                        l.product_name, l.insurer_name
                    ),
                    format!(
                        "{} ({}): the premium on the start date differs from the quote: quote again",
                        l.product_name, l.insurer_name
                    ),
                )));
            }
            rated.push((l.id.clone(), r));
        }
        let now = self.now_us();
        let bundle = BundleRow {
            id: self.new_id(),
            enterprise_id: view.org_id.clone(),
            broker_id: broker.id.clone(),
            start_date,
            premium_fen: chosen.iter().map(|l| l.premium_fen).sum(),
            subsidy_fen: chosen.iter().map(|l| l.subsidy_fen).sum(),
            uncovered: i64::try_from(draft.uncovered.len()).unwrap_or(i64::MAX),
            applied_by: actor.log_name(),
            applied_at_us: now,
        };
        let mut tx = self.store.begin_write().await?;
        let mut links = Vec::new();
        for (quote_id, r) in &mut rated {
            let d = self.store_application(&mut tx, actor, r).await?;
            kebao_store::events::append(&mut tx, d, now).await?;
            links.push((quote_id.clone(), r.row.id.clone()));
        }
        store::insert_bundle(tx.conn(), &bundle, &links).await?;
        let event = EventDraft::new(
            &actor.log_name(),
            "advisor.bundle_applied",
            &view.org_id,
            serde_json::json!({"bundle": bundle.id, "broker": broker.id, "licence_no": broker.licence_no,
                "start_date": start_date.to_string(), "premium_fen": bundle.premium_fen,
                "subsidy_fen": bundle.subsidy_fen,
                "applications": links.iter().map(|(q, a)| serde_json::json!({"quote": q, "application": a})).collect::<Vec<_>>(),
                "uncovered": draft.uncovered.iter().map(|u| u.0.clone()).collect::<Vec<_>>()}),
        );
        self.finish(tx, event).await?;
        Ok(BundleView {
            id: bundle.id,
            start_date,
            premium_fen: bundle.premium_fen,
            subsidy_fen: bundle.subsidy_fen,
            uncovered: bundle.uncovered,
            applied_by: bundle.applied_by,
            applied_at_us: now,
            applications: chosen
                .iter()
                .zip(links.iter())
                .map(|(l, (_, a))| (a.clone(), l.product_name.clone(), l.insurer_name.clone(), l.premium_fen))
                .collect(),
        })
    }
}

impl Service {
    /// The verified insurance intermediaries the zone may name (its approvers): (id, name).
    pub async fn intermediaries(&self, actor: &Actor) -> Result<Vec<(String, String)>> {
        self.require(actor, Action::NameAdvisorBroker, &Resource::Zone, &Basis::None)?;
        let f = kebao_domain::org::OrgFilter {
            kind: Some(OrgKind::ServiceBody),
            status: Some(OrgStatus::Verified),
            ..Default::default()
        };
        let mut tx = self.store.begin_read().await?;
        // Service bodies are few; the page lists at most this many.
        let all = kebao_store::orgs::list(tx.conn(), &f, None, 500).await?;
        Ok(all
            .into_iter()
            .filter(|o| o.institution_kind == Some(InstitutionKind::Intermediary))
            .map(|o| (o.id, o.name))
            .collect())
    }
}
