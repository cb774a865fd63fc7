//! The one-stop risk advisor (C3), information mode: an enterprise's exposures inferred from its
//! registry profile and a short questionnaire by the rules in `data/zone/advisor.toml`, for each
//! the published products whose type addresses it with the enterprise's standing against each
//! product's filed eligibility, the gaps no product covers, and the enterprise's own shortlist.
//! No premiums side by side, never ordered by price (rules.md §11.1): under an exposure, products
//! come by how many of the enterprise's exposures their type addresses, then in a rotation seeded
//! by the enterprise and the day. See `docs/advisor.md`.

use crate::advisor_broker::{Broker, BundleDraft, BundleView, QuoteLine};
use crate::authz::{org_resource, Action, Actor, Basis, Resource};
use crate::subsidies::{Hypothetical, SubsidyEstimate};
use crate::{Result, Service, ServiceError};
use kebao_domain::advisor::{self as domain, Answers, Profile, Question, Rules};
use kebao_domain::event::EventDraft;
use kebao_domain::org::LifecycleStage;
use kebao_domain::policy::PolicyStatus;
use kebao_domain::product::EnterpriseFacts;
use kebao_domain::FieldError;
use kebao_store::advisor as store;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The shipped rules.
pub const RULES: &str = include_str!("../../../data/zone/advisor.toml");

/// A published product under an exposure.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProductOption {
    pub product_id: String,
    pub name: String,
    pub insurer_id: String,
    pub insurer_name: String,
    pub type_id: String,
    pub type_name: String,
    /// How many of the enterprise's exposures the product's type addresses.
    pub covers: usize,
    /// Why the enterprise is outside the product's filed eligibility (empty: it is inside).
    pub not_eligible: Vec<(String, String)>,
    pub shortlisted: bool,
    /// What the subsidy programmes in force would give for the reference policy
    /// ([`REFERENCE_PREMIUM_YUAN`], [`REFERENCE_COVER_YUAN`]): an estimate.
    pub estimates: Vec<SubsidyEstimate>,
}

/// The reference policy the information mode estimates subsidies for (no insurer's price is
/// shown there): this premium …
pub const REFERENCE_PREMIUM_YUAN: i64 = 10_000;
/// … for this sum insured (or limit), starting today for the product's term.
pub const REFERENCE_COVER_YUAN: i64 = 1_000_000;

/// One exposure inferred for the enterprise.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ExposureView {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    /// The life-cycle stage it is listed under.
    pub stage: LifecycleStage,
    /// Why it was inferred: (Chinese, English), one per rule that held.
    pub reasons: Vec<(String, String)>,
    pub source: String,
    /// The catalogue types that address it: (id, Chinese name, English name).
    pub types: Vec<(String, String, String)>,
    pub products: Vec<ProductOption>,
    /// The enterprise's policies in force today of those types: (policy id, number).
    pub covered_by: Vec<(String, String)>,
}

impl AdvisorView {
    /// One of the enterprise's exposures, or the refusal naming the field.
    pub(crate) fn exposure(&self, id: &str) -> Result<&ExposureView> {
        self.exposures.iter().find(|e| e.id == id).ok_or_else(|| {
            refuse(
                "exposure",
                "not_an_exposure",
                "该风险不在本企业识别出的风险之中",
                "this is not one of the enterprise's exposures",
            )
        })
    }
}

impl ExposureView {
    /// No published product addresses it.
    pub fn is_gap(&self) -> bool {
        self.products.is_empty()
    }
}

/// One line of what the registry knows, in both languages.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Known {
    pub label_zh: String,
    pub label_en: String,
    pub value_zh: String,
    pub value_en: String,
}

/// What the advisor shows an enterprise.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AdvisorView {
    pub org_id: String,
    pub org_name: String,
    pub rules_version: String,
    pub confidence: String,
    /// What the registry knows that the rules read.
    pub known: Vec<Known>,
    #[serde(skip)]
    pub questions: Vec<Question>,
    pub answers: BTreeMap<String, i64>,
    pub answered_at_us: Option<i64>,
    pub exposures: Vec<ExposureView>,
    /// The day the rotation is seeded with.
    pub day: time::Date,
    /// The shortlist: (product id, exposure id) in the order kept.
    pub shortlist: Vec<(String, String)>,
    /// Broker mode: the licensed broker operating the advisor (none: information mode).
    pub broker: Option<Broker>,
    /// A broker the zone named whose licence is not valid today (the advisor is back in
    /// information mode until the zone acts).
    pub broker_unlicensed: Option<Broker>,
    /// Broker mode: the quotes obtained and not yet applied for, newest first.
    pub quotes: Vec<QuoteLine>,
    /// Broker mode: the bundle being put together.
    pub bundle: Option<BundleDraft>,
    /// The bundles applied for, newest first.
    pub bundles: Vec<BundleView>,
}

/// The zone's picture of needs: per exposure, how many enterprises have it, how many of them
/// hold a policy in force of a type addressing it, whether any product is published for it;
/// and by stage and industry.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NeedsRow {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub enterprises: u64,
    pub covered: u64,
    pub shortlisted: u64,
    /// Published products whose type addresses it.
    pub products: u64,
    /// Enterprises with the exposure per 5+2 industry (configuration order, then none).
    pub by_industry: Vec<u64>,
    /// Enterprises with the exposure per life-cycle stage (in order, then none).
    pub by_stage: Vec<u64>,
}

impl NeedsRow {
    /// Enterprises with the exposure and no policy for it.
    pub fn uncovered(&self) -> u64 {
        self.enterprises.saturating_sub(self.covered)
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Needs {
    pub rules_version: String,
    pub enterprises: u64,
    /// (id, zh, en) of the industry columns.
    pub industries: Vec<(String, String, String)>,
    /// (id, zh, en) of the stage columns.
    pub stages: Vec<(String, String, String)>,
    pub rows: Vec<NeedsRow>,
}

pub(crate) fn refuse(
    field: &str,
    code: &'static str,
    zh: impl Into<String>,
    en: impl Into<String>,
) -> ServiceError {
    ServiceError::Invalid(kebao_domain::Invalid(vec![FieldError::new(field, code, zh, en)]))
}

impl Service {
    /// The advisor's rules (the shipped file, checked against the catalogue in use).
    pub fn advisor_rules(&self) -> Result<Rules> {
        domain::parse(RULES, &self.catalogue(), self.industries())
            .map_err(|e| ServiceError::Internal(format!("the advisor's rules do not load: {}", e.join("; "))))
    }

    /// The enterprise the actor uses the advisor for (its own), checked.
    async fn advisor_org(&self, actor: &Actor) -> Result<kebao_domain::org::Organisation> {
        let own = actor.org_id().ok_or(ServiceError::Unauthenticated("sign in first"))?.to_owned();
        let mut tx = self.store.begin_read().await?;
        let org = kebao_store::orgs::get(tx.conn(), &own).await?;
        drop(tx);
        self.require(actor, Action::UseAdvisor, &org_resource(&org), &Basis::None)?;
        Ok(org)
    }

    /// The profile the rules read, and the lines the page shows of it.
    async fn advisor_profile(
        &self,
        tx: &mut impl kebao_store::Conn,
        org: &kebao_domain::org::Organisation,
    ) -> Result<(Profile, Vec<Known>)> {
        let today = self.today();
        let qualifications: Vec<_> = kebao_store::orgs::qualifications(tx.conn(), &org.id)
            .await?
            .into_iter()
            .filter(|(_, q)| q.valid_on(today))
            .map(|(_, q)| q.kind)
            .collect();
        let facts = kebao_store::orgs::facts(tx.conn(), &org.id).await?.into_iter().max_by_key(|f| f.year);
        let mut known = Vec::new();
        let mut line = |zh: &str, en: &str, vzh: String, ven: String| {
            known.push(Known {
                label_zh: zh.to_owned(),
                label_en: en.to_owned(),
                value_zh: vzh,
                value_en: ven,
            })
        };
        match org.lifecycle_stage {
            Some(s) => line("生命周期阶段", "Life-cycle stage", s.label_zh().into(), s.label_en().into()),
            None => line("生命周期阶段", "Life-cycle stage", "未登记".into(), "not registered".into()),
        }
        let tags: Vec<(String, String)> = org
            .zone_industries
            .iter()
            .map(|t| {
                self.industries()
                    .tag(t)
                    .map_or_else(|| (t.clone(), t.clone()), |z| (z.name_zh.clone(), z.name_en.clone()))
            })
            .collect();
        let join = |v: &[(String, String)], none: (&str, &str), sep: (&str, &str)| -> (String, String) {
            if v.is_empty() {
                (none.0.to_owned(), none.1.to_owned())
            } else {
                (
                    v.iter().map(|x| x.0.as_str()).collect::<Vec<_>>().join(sep.0),
                    v.iter().map(|x| x.1.as_str()).collect::<Vec<_>>().join(sep.1),
                )
            }
        };
        let (zh, en) = join(&tags, ("未归入", "none"), ("、", ", "));
        line("5+2 产业", "5+2 industries", zh, en);
        let quals: Vec<(String, String)> =
            qualifications.iter().map(|q| (q.label_zh().to_owned(), q.label_en().to_owned())).collect();
        let (zh, en) = join(&quals, ("无", "none"), ("、", ", "));
        line("有效资质", "Qualifications held", zh, en);
        match &facts {
            Some(f) => {
                let intensity =
                    f.rnd_intensity().map_or_else(|| "—".into(), |x| format!("{:.1}%", x * 100.0));
                let patents = f.patents_granted + f.patents_pending;
                let export = f64::from(f.export_share_bp) / 100.0;
                line(
                    "最近年度数据",
                    "Latest yearly facts",
                    format!(
                        "{} 年：研发强度 {intensity}，员工 {} 人，专利 {patents} 件，出口占比 {export:.1}%",
                        f.year, f.staff
                    ),
                    format!(
                        "{}: R&D intensity {intensity}, {} staff, {patents} patents, exports {export:.1} %",
                        f.year, f.staff
                    ),
                );
            }
            None => line("最近年度数据", "Latest yearly facts", "未填报".into(), "none reported".into()),
        }
        let profile = Profile {
            stage: org.lifecycle_stage,
            industries: org.zone_industries.clone(),
            qualifications,
            facts,
        };
        Ok((profile, known))
    }

    /// The advisor for the actor's enterprise.
    pub async fn advisor(&self, actor: &Actor) -> Result<AdvisorView> {
        let org = self.advisor_org(actor).await?;
        let rules = self.advisor_rules()?;
        let catalogue = self.catalogue();
        let today = self.today();
        let mut tx = self.store.begin_read().await?;
        let (profile, known) = self.advisor_profile(&mut tx, &org).await?;
        let stored = store::answers(tx.conn(), &org.id).await?;
        let shortlist = store::shortlist(tx.conn(), &org.id).await?;
        let policies = kebao_store::policies::policies_of(tx.conn(), &org.id).await?;
        let types: HashMap<String, String> =
            kebao_store::stats::product_types(tx.conn()).await?.into_iter().collect();
        drop(tx);
        let answers = Answers(stored.iter().map(|a| (a.question_id.clone(), a.value)).collect());
        let answered_at_us = stored.iter().map(|a| a.answered_at_us).max();
        let inferred = domain::infer(&rules, &profile, &answers);
        // How many of the enterprise's exposures each type addresses.
        let mut covers: HashMap<&str, usize> = HashMap::new();
        for i in &inferred {
            for t in &i.exposure.products {
                *covers.entry(t.as_str()).or_default() += 1;
            }
        }
        let published = self.published().await?;
        let facts = EnterpriseFacts {
            verified: org.status == kebao_domain::org::OrgStatus::Verified,
            zone_industries: org.zone_industries.clone(),
            stage: org.lifecycle_stage,
            qualifications: profile.qualifications.clone(),
        };
        let listed: HashSet<&str> = shortlist.iter().map(|l| l.product_id.as_str()).collect();
        // The subsidy estimate for the reference policy, once per product type and term.
        let mut kinds: Vec<(String, u16)> = published
            .iter()
            .filter(|it| inferred.iter().any(|i| i.exposure.products.contains(&it.product.type_id)))
            .map(|it| (it.product.type_id.clone(), it.version.content.term_months))
            .collect();
        kinds.sort();
        kinds.dedup();
        kinds.retain(|(_, months)| kebao_domain::policy::cover_period(today, *months, today).is_ok());
        let hypotheticals: Vec<Hypothetical> = kinds
            .iter()
            .filter_map(|(t, months)| {
                let period = kebao_domain::policy::cover_period(today, *months, today).ok()?;
                Some(Hypothetical {
                    product_type: t.clone(),
                    premium_fen: REFERENCE_PREMIUM_YUAN * 100,
                    sum_insured_fen: REFERENCE_COVER_YUAN * 100,
                    limit_fen: REFERENCE_COVER_YUAN * 100,
                    start: period.start,
                    end: period.end,
                })
            })
            .collect();
        let mut tx = self.store.begin_read().await?;
        let estimated = self.estimate_subsidies(&mut tx, &org, &hypotheticals).await?;
        drop(tx);
        let estimates: HashMap<(&str, u16), &Vec<SubsidyEstimate>> =
            kinds.iter().zip(estimated.iter()).map(|(k, e)| ((k.0.as_str(), k.1), e)).collect();
        let in_force: Vec<&kebao_domain::policy::Policy> = policies
            .iter()
            .filter(|p| {
                matches!(p.status, PolicyStatus::InForce | PolicyStatus::Registered)
                    && p.start_date <= today
                    && today <= p.end_date
            })
            .collect();
        let mut exposures = Vec::new();
        for i in &inferred {
            let e = i.exposure;
            let mut products: Vec<ProductOption> = published
                .iter()
                .filter(|it| e.products.contains(&it.product.type_id))
                .map(|it| {
                    let not_eligible = match it.version.content.eligibility.check(&facts, self.industries()) {
                        Ok(()) => Vec::new(),
                        Err(inv) => inv.0.into_iter().map(|f| (f.message_zh, f.message_en)).collect(),
                    };
                    ProductOption {
                        product_id: it.product.id.clone(),
                        name: it.product.name.clone(),
                        insurer_id: it.product.insurer_id.clone(),
                        insurer_name: it.product.insurer_name.clone(),
                        type_id: it.product.type_id.clone(),
                        type_name: it.type_name.clone(),
                        covers: covers.get(it.product.type_id.as_str()).copied().unwrap_or(0),
                        not_eligible,
                        shortlisted: listed.contains(it.product.id.as_str()),
                        estimates: estimates
                            .get(&(it.product.type_id.as_str(), it.version.content.term_months))
                            .map(|e| (*e).clone())
                            .unwrap_or_default(),
                    }
                })
                .collect();
            products.sort_by_key(|p| {
                (std::cmp::Reverse(p.covers), domain::rotation_key(&org.id, today, &p.product_id))
            });
            let covered_by = in_force
                .iter()
                .filter(|p| types.get(&p.product_id).is_some_and(|t| e.products.contains(t)))
                .map(|p| (p.id.clone(), p.number.clone()))
                .collect();
            exposures.push(ExposureView {
                id: e.id.clone(),
                name_zh: e.name_zh.clone(),
                name_en: e.name_en.clone(),
                stage: org
                    .lifecycle_stage
                    .filter(|s| e.stages.contains(s))
                    .or_else(|| e.stages.first().copied())
                    .unwrap_or(LifecycleStage::Rnd),
                reasons: i.reasons.clone(),
                source: e.source.clone(),
                types: e
                    .products
                    .iter()
                    .map(|t| match catalogue.get(t) {
                        Some(ty) => (t.clone(), ty.name_zh.clone(), ty.name_en.clone()),
                        None => (t.clone(), t.clone(), t.clone()),
                    })
                    .collect(),
                products,
                covered_by,
            });
        }
        // By exposure: grouped by stage in the life cycle's order, the file's order within.
        exposures
            .sort_by_key(|e| LifecycleStage::ALL.iter().position(|s| *s == e.stage).unwrap_or(usize::MAX));
        let named = self.advisor_broker().await?;
        let (broker, broker_unlicensed) = match named {
            Some(b) if b.licensed_on(today) => (Some(b), None),
            Some(b) => (None, Some(b)),
            None => (None, None),
        };
        let keys: Vec<(String, String, String, bool)> = exposures
            .iter()
            .map(|e| (e.id.clone(), e.name_zh.clone(), e.name_en.clone(), !e.covered_by.is_empty()))
            .collect();
        let (quotes, bundle, bundles) = self.advisor_quotes(&org.id, &keys).await?;
        Ok(AdvisorView {
            bundle: broker.as_ref().map(|_| bundle),
            broker,
            broker_unlicensed,
            quotes,
            bundles,
            org_id: org.id.clone(),
            org_name: org.name.clone(),
            rules_version: rules.version.clone(),
            confidence: rules.confidence.clone(),
            known,
            questions: rules.questions.clone(),
            answers: answers.0,
            answered_at_us,
            exposures,
            day: today,
            shortlist: shortlist.into_iter().map(|l| (l.product_id, l.exposure_id)).collect(),
        })
    }

    /// Saves the questionnaire as typed (see [`Answers::read`]); every problem named, nothing
    /// saved when there is one.
    pub async fn save_advisor_answers(
        &self,
        actor: &Actor,
        form: &HashMap<String, String>,
    ) -> Result<Answers> {
        let org = self.advisor_org(actor).await?;
        let rules = self.advisor_rules()?;
        let answers = Answers::read(&rules, form).map_err(ServiceError::Invalid)?;
        let now = self.now_us();
        let rows: Vec<store::StoredAnswer> = answers
            .0
            .iter()
            .map(|(q, v)| store::StoredAnswer {
                question_id: q.clone(),
                value: *v,
                rules_version: rules.version.clone(),
                answered_by: actor.log_name(),
                answered_at_us: now,
            })
            .collect();
        let mut tx = self.store.begin_write().await?;
        store::put_answers(tx.conn(), &org.id, &rows).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "advisor.answers_saved",
            &org.id,
            serde_json::json!({"rules_version": rules.version, "answers": answers.0}),
        );
        self.finish(tx, draft).await?;
        Ok(answers)
    }

    /// Keeps a published product on the enterprise's shortlist under one of its exposures. The
    /// product must address that exposure and the enterprise must be inside its filed
    /// eligibility (the reasons named otherwise).
    pub async fn shortlist_product(&self, actor: &Actor, product_id: &str, exposure_id: &str) -> Result<()> {
        let view = self.advisor(actor).await?;
        let e = view.exposure(exposure_id)?;
        let Some(p) = e.products.iter().find(|p| p.product_id == product_id) else {
            return Err(refuse(
                "product",
                "not_for_exposure",
                "该产品不是针对此风险的已发布产品",
                "the product is not a published product for this exposure",
            ));
        };
        if !p.not_eligible.is_empty() {
            let errors = p
                .not_eligible
                .iter()
                .map(|(zh, en)| FieldError::new("product", "not_eligible", zh.clone(), en.clone()))
                .collect();
            return Err(ServiceError::Invalid(kebao_domain::Invalid(errors)));
        }
        let listed = store::Listed {
            product_id: product_id.to_owned(),
            exposure_id: exposure_id.to_owned(),
            added_by: actor.log_name(),
            added_at_us: self.now_us(),
        };
        let mut tx = self.store.begin_write().await?;
        if !store::add(tx.conn(), &view.org_id, &listed).await? {
            return Err(ServiceError::Conflict(FieldError::new(
                "product",
                "already_shortlisted",
                "该产品已在备选清单中",
                "the product is on the shortlist already",
            )));
        }
        let draft = EventDraft::new(
            &actor.log_name(),
            "advisor.shortlisted",
            &view.org_id,
            serde_json::json!({"product_id": product_id, "exposure_id": exposure_id}),
        );
        self.finish(tx, draft).await.map(|_| ())
    }

    /// Takes a product off the enterprise's shortlist.
    pub async fn unlist_product(&self, actor: &Actor, product_id: &str) -> Result<()> {
        let org = self.advisor_org(actor).await?;
        let mut tx = self.store.begin_write().await?;
        if !store::remove(tx.conn(), &org.id, product_id).await? {
            return Err(ServiceError::NotFound);
        }
        let draft = EventDraft::new(
            &actor.log_name(),
            "advisor.unlisted",
            &org.id,
            serde_json::json!({"product_id": product_id}),
        );
        self.finish(tx, draft).await.map(|_| ())
    }

    /// The zone's picture of needs over every verified enterprise (the zone's officers and the
    /// regulator: the statistics' readers).
    pub async fn advisor_needs(&self, actor: &Actor) -> Result<Needs> {
        self.require(actor, Action::ReadStatistics, &Resource::Zone, &Basis::None)?;
        let rules = self.advisor_rules()?;
        let today = self.today();
        let industries: Vec<(String, String, String)> = self
            .industries()
            .tags()
            .iter()
            .map(|t| (t.id.clone(), t.name_zh.clone(), t.name_en.clone()))
            .chain(std::iter::once((
                "none".into(),
                "未归入 5+2 产业".into(),
                "Outside the 5+2 industries".into(),
            )))
            .collect();
        let stages: Vec<(String, String, String)> = LifecycleStage::ALL
            .iter()
            .map(|s| (s.code().to_owned(), s.label_zh().to_owned(), s.label_en().to_owned()))
            .chain(std::iter::once(("none".into(), "未登记阶段".into(), "No stage registered".into())))
            .collect();
        let published = self.published().await?;
        let mut rows: Vec<NeedsRow> = rules
            .exposures
            .iter()
            .map(|e| NeedsRow {
                id: e.id.clone(),
                name_zh: e.name_zh.clone(),
                name_en: e.name_en.clone(),
                enterprises: 0,
                covered: 0,
                shortlisted: 0,
                products: published.iter().filter(|p| e.products.contains(&p.product.type_id)).count() as u64,
                by_industry: vec![0; industries.len()],
                by_stage: vec![0; stages.len()],
            })
            .collect();
        let mut tx = self.store.begin_read().await?;
        let types: HashMap<String, String> =
            kebao_store::stats::product_types(tx.conn()).await?.into_iter().collect();
        let shortlisted: HashMap<String, i64> =
            store::shortlisted_by_exposure(tx.conn()).await?.into_iter().collect();
        let profiles = kebao_store::advisor::profiles(tx.conn(), today).await?;
        drop(tx);
        let mut enterprises = 0u64;
        for p in profiles {
            enterprises += 1;
            let profile = Profile {
                stage: p.stage,
                industries: p.industries.clone(),
                qualifications: p.qualifications.clone(),
                facts: p.facts,
            };
            let answers = Answers(p.answers.clone());
            let held: HashSet<&str> =
                p.policy_products.iter().filter_map(|id| types.get(id).map(String::as_str)).collect();
            for i in domain::infer(&rules, &profile, &answers) {
                let Some(row) = rows.iter_mut().find(|r| r.id == i.exposure.id) else { continue };
                row.enterprises += 1;
                if i.exposure.products.iter().any(|t| held.contains(t.as_str())) {
                    row.covered += 1;
                }
                let mut cols: Vec<usize> =
                    p.industries.iter().filter_map(|t| industries.iter().position(|c| &c.0 == t)).collect();
                if cols.is_empty() {
                    cols.push(industries.len() - 1);
                }
                for c in cols {
                    if let Some(v) = row.by_industry.get_mut(c) {
                        *v += 1;
                    }
                }
                let s = p
                    .stage
                    .and_then(|s| stages.iter().position(|c| c.0 == s.code()))
                    .unwrap_or(stages.len() - 1);
                if let Some(v) = row.by_stage.get_mut(s) {
                    *v += 1;
                }
            }
        }
        for r in &mut rows {
            r.shortlisted = shortlisted.get(&r.id).copied().map_or(0, |n| u64::try_from(n).unwrap_or(0));
        }
        // The largest gaps first: enterprises exposed and not covered.
        rows.sort_by_key(|r| std::cmp::Reverse(r.uncovered()));
        Ok(Needs { rules_version: rules.version, enterprises, industries, stages, rows })
    }
}
