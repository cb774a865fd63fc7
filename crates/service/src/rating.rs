//! Rating plans and quotes (C4): an insurer files rating plans for its products, versioned
//! by effective date; a quote runs the plan in force on the quote date and carries the
//! insurer's name. The platform never compares quotes across insurers.

use crate::authz::{Action, Actor, Basis, Resource};
use crate::{Result, Service, ServiceError};
use kebao_domain::event::EventDraft;
use kebao_domain::org::parse_date;
use kebao_domain::rating::{FiledPlan, Plan, PlanDoc, Quote, QuoteInput, RateBasis, RatingVariable};
use kebao_domain::rating_fields::PlanFields;
use kebao_domain::{FieldError, Invalid};
use kebao_store::products as products_store;
use kebao_store::rating as store;
use time::Date;

/// A quote and whose it is.
#[derive(Debug, Clone)]
pub struct QuoteView {
    pub product_id: String,
    pub product_name: String,
    pub insurer_name: String,
    pub plan_version: i64,
    pub effective_from: Date,
    pub on: Date,
    pub quote: Quote,
    /// The insurer's underwriting rules filed with the plan.
    pub underwriting: kebao_domain::policy::UnderwritingRules,
    /// The public version's content (coverages, term …).
    pub content: kebao_domain::product::ProductContent,
    pub product_version: i64,
    pub insurer_id: String,
    /// Days a quote under the plan stands (the plan's filing setting).
    pub quote_valid_days: u32,
}

impl Service {
    /// The insurer files a rating plan for its product, in force from `effective_from`.
    pub async fn file_rating_plan(
        &self,
        actor: &Actor,
        product_id: &str,
        effective_from: &str,
        doc: PlanDoc,
    ) -> Result<FiledPlan> {
        let from = parse_date("effective_from", effective_from)?;
        let plan = Plan::parse(doc)?;
        let mut tx = self.store.begin_write().await?;
        let p = products_store::get_product(tx.conn(), product_id).await?;
        self.require(
            actor,
            Action::EditProduct,
            &Resource::Product { id: p.id.clone(), insurer_id: p.insurer_id.clone(), published: false },
            &Basis::Own,
        )?;
        let existing = store::for_product(tx.conn(), product_id).await?;
        if existing.iter().any(|r| r.effective_from == from) {
            return Err(ServiceError::Conflict(FieldError::new(
                "effective_from",
                "duplicate_date",
                format!("{from} 起已有费率表；请选择其他生效日"),
                format!("a plan is already in force from {from}; choose another date"),
            )));
        }
        let row = FiledPlan {
            id: self.new_id(),
            product_id: product_id.to_owned(),
            version: existing.iter().map(|r| r.version).max().unwrap_or(0) + 1,
            effective_from: from,
            doc: plan.doc,
            created_by: actor.log_name(),
            created_at_us: self.now_us(),
        };
        store::insert(tx.conn(), &row).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "rating_plan.filed",
            product_id,
            serde_json::json!({"plan": row.id, "version": row.version, "effective_from": from.to_string()}),
        );
        self.finish(tx, draft).await?;
        Ok(row)
    }

    /// Files a plan typed into the product page's form. Problems with the date and with
    /// the plan are reported together, each naming the form's field.
    pub async fn file_rating_plan_fields(
        &self,
        actor: &Actor,
        product_id: &str,
        effective_from: &str,
        fields: &PlanFields,
    ) -> Result<FiledPlan> {
        let mut errs = Vec::new();
        if let Err(e) = parse_date("effective_from", effective_from) {
            errs.push(e);
        }
        match fields.parse() {
            Ok(doc) if errs.is_empty() => self.file_rating_plan(actor, product_id, effective_from, doc).await,
            Ok(_) => Err(Invalid(errs).into()),
            Err(Invalid(more)) => {
                errs.extend(more);
                Err(Invalid(errs).into())
            }
        }
    }

    /// The rating template (`.xlsx`) of a product, filled with its newest filed plan (blank
    /// without one): for its insurer and the zone.
    pub async fn rating_template(&self, actor: &Actor, product_id: &str) -> Result<Vec<u8>> {
        let plans = self.rating_plans(actor, product_id).await?;
        let fields =
            plans.iter().max_by_key(|p| p.version).map(|p| PlanFields::from_doc(&p.doc)).unwrap_or_else(
                || PlanFields { basis: RateBasis::Limit.code().to_owned(), ..Default::default() },
            );
        crate::rating_sheet::write(&fields, self.industries()).map_err(ServiceError::Internal)
    }

    /// Files a filled rating template (`.xlsx`) as a new plan in force from `effective_from`.
    /// The plan is checked as the form's is; problems name the sheet's row.
    pub async fn import_rating_template(
        &self,
        actor: &Actor,
        product_id: &str,
        effective_from: &str,
        bytes: &[u8],
    ) -> Result<FiledPlan> {
        let mut errs = Vec::new();
        if let Err(e) = parse_date("effective_from", effective_from) {
            errs.push(e);
        }
        let (fields, at) = match crate::rating_sheet::read(bytes, self.industries()) {
            Ok(x) => x,
            Err(Invalid(more)) => {
                errs.extend(more);
                return Err(Invalid(errs).into());
            }
        };
        match fields.parse() {
            Ok(doc) if errs.is_empty() => self.file_rating_plan(actor, product_id, effective_from, doc).await,
            Ok(_) => Err(Invalid(errs).into()),
            Err(Invalid(more)) => {
                errs.extend(more.into_iter().map(|e| crate::rating_sheet::locate(e, &at)));
                Err(Invalid(errs).into())
            }
        }
    }

    /// Files a GLM plan (`kebao fit glm --plan`) as the product's rating plan.
    #[allow(clippy::too_many_arguments, reason = "the import's inputs")]
    pub async fn import_glm_rating_plan(
        &self,
        actor: &Actor,
        product_id: &str,
        effective_from: &str,
        glm: &serde_json::Value,
        mapping: &[(String, String)],
        basis: &str,
        loading: &str,
        min_premium_yuan: i64,
    ) -> Result<FiledPlan> {
        let mut errs = Vec::new();
        let mut map = Vec::new();
        for (name, var) in mapping {
            match RatingVariable::from_code(var) {
                Some(v) => map.push((name.clone(), v)),
                None => errs.push(FieldError::new(
                    "mapping",
                    "unknown_variable",
                    format!("平台变量 `{var}` 不存在"),
                    format!(
                        "platform variable `{var}` does not exist: use {}",
                        RatingVariable::ALL.iter().map(|v| v.code()).collect::<Vec<_>>().join(", ")
                    ),
                )),
            }
        }
        let basis = RateBasis::from_code(basis).unwrap_or_else(|| {
            errs.push(FieldError::new(
                "basis",
                "unknown_basis",
                format!("计费基础 `{basis}` 不存在"),
                format!("basis `{basis}` does not exist"),
            ));
            RateBasis::Limit
        });
        if !errs.is_empty() {
            return Err(Invalid(errs).into());
        }
        let doc = kebao_domain::rating::from_glm(glm, &map, basis, loading, min_premium_yuan)?;
        self.file_rating_plan(actor, product_id, effective_from, doc).await
    }

    /// A product's rating plans (its insurer and the zone).
    pub async fn rating_plans(&self, actor: &Actor, product_id: &str) -> Result<Vec<FiledPlan>> {
        let mut tx = self.store.begin_read().await?;
        let p = products_store::get_product(tx.conn(), product_id).await?;
        let res = Resource::Product { id: p.id.clone(), insurer_id: p.insurer_id.clone(), published: false };
        if !self.authz.decide(actor, Action::ReadProduct, &res, &Basis::None).allowed {
            return Err(ServiceError::NotFound);
        }
        Ok(store::for_product(tx.conn(), product_id).await?)
    }

    /// A quote on a published product by its insurer's plan in force on `on` (default today).
    pub async fn quote(
        &self,
        actor: &Actor,
        product_id: &str,
        input: &QuoteInput,
        on: Option<&str>,
    ) -> Result<QuoteView> {
        input.check()?;
        let on = match on.map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => parse_date("on", s)?,
            None => self.today(),
        };
        let mut tx = self.store.begin_read().await?;
        let p = products_store::get_product(tx.conn(), product_id).await?;
        let Some(pv) = p.public_version else { return Err(ServiceError::NotFound) };
        let res = Resource::Product { id: p.id.clone(), insurer_id: p.insurer_id.clone(), published: true };
        if !self.authz.decide(actor, Action::ReadProduct, &res, &Basis::None).allowed {
            return Err(ServiceError::NotFound);
        }
        let plans = store::for_product(tx.conn(), product_id).await?;
        let Some(row) = plans.into_iter().find(|r| r.effective_from <= on) else {
            return Err(ServiceError::Conflict(FieldError::new(
                "plan",
                "no_plan",
                "该产品尚未在平台备案适用于该日期的费率表，请直接联系保险机构报价",
                "the insurer has filed no rating plan in force on that date; ask the insurer for a quote",
            )));
        };
        let shown = products_store::version(tx.conn(), product_id, pv).await?;
        let plan = Plan::parse(row.doc.clone())?;
        let quote = plan.quote(input)?;
        Ok(QuoteView {
            quote_valid_days: row.doc.quote_valid_days(),
            underwriting: row.doc.underwriting.clone(),
            product_version: pv,
            insurer_id: p.insurer_id.clone(),
            product_id: p.id,
            product_name: shown.content.name.clone(),
            content: shown.content,
            insurer_name: p.insurer_name,
            plan_version: row.version,
            effective_from: row.effective_from,
            on,
            quote,
        })
    }
}
