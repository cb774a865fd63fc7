//! The risk lab's model registry (C9, first part): an institution uploads the GLMs and
//! scorecards the engines write (`kebao fit glm --plan`, `kebao fit scorecard`); each is
//! checked (its kind, its schema version, its contents), stored as a version under its owner
//! and name with its SHA-256, shown with its fit and coefficients or binning tables, and
//! approved by a second person of the owner (maker-checker) before use; retired models are
//! kept. An approved GLM becomes the owner's rating plan for one of its products. See
//! `docs/lab.md`.

use crate::authz::{org_resource, Action, Actor, Basis, Resource};
use crate::{Result, Service, ServiceError};
use kebao_domain::event::EventDraft;
pub use kebao_domain::lab::{ModelKind, ModelStatus};
use kebao_domain::org::OrgKind;
use kebao_domain::rating::FiledPlan;
use kebao_domain::{FieldError, Invalid};
use kebao_store::lab as store;
use kebao_store::lab::ModelRow;
use sha2::{Digest, Sha256};

/// The largest model file taken (a scorecard of a few hundred variables is well below).
pub const MAX_MODEL_BYTES: usize = 8 * 1024 * 1024;
const NAME_MAX_CHARS: usize = 60;

/// One level of a GLM factor.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GlmLevel {
    pub level: String,
    pub coefficient: Option<f64>,
    pub relativity: Option<f64>,
}

/// What a GLM file says.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GlmSummary {
    pub family: String,
    pub link: String,
    pub response: String,
    pub exposure: Option<String>,
    pub base: f64,
    pub n_obs: u64,
    pub deviance: f64,
    pub null_deviance: f64,
    pub aic: Option<f64>,
    /// (factor, reference level, levels).
    pub factors: Vec<(String, String, Vec<GlmLevel>)>,
    /// (numeric term, coefficient).
    pub numeric: Vec<(String, Option<f64>)>,
}

/// One bin of a scorecard variable.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScoreBin {
    pub label: String,
    pub count: u64,
    pub events: u64,
    pub event_rate: f64,
    pub woe: f64,
    pub points: f64,
}

/// One variable of a scorecard.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScoreVariable {
    pub name: String,
    pub iv: f64,
    pub coefficient: f64,
    pub bins: Vec<ScoreBin>,
}

/// What a scorecard file says.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScorecardSummary {
    pub intercept: f64,
    pub variables: Vec<ScoreVariable>,
    /// (variable, why it was left out).
    pub excluded: Vec<(String, String)>,
    /// Every candidate's information value, highest first.
    pub iv: Vec<(String, f64)>,
}

/// A model's contents, by kind.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelContents {
    Glm(GlmSummary),
    Scorecard(ScorecardSummary),
}

/// A model as the lab shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Model {
    pub id: String,
    pub owner_org_id: String,
    pub owner_name: String,
    pub kind: ModelKind,
    pub name: String,
    pub version: i64,
    pub sha256: String,
    pub status: ModelStatus,
    pub uploaded_by: String,
    pub uploaded_at_us: i64,
    pub approved_by: Option<String>,
    pub approved_at_us: Option<i64>,
    pub retired_by: Option<String>,
    pub retired_at_us: Option<i64>,
    /// Who uploaded, approved and retired it, as people read it (name · organisation).
    pub uploaded_by_name: String,
    pub approved_by_name: Option<String>,
    pub retired_by_name: Option<String>,
    /// For a model fitted in the platform: the extract it learnt from and that file's SHA-256
    /// (the training data's fingerprint), and its held-out validation (scorecards, in the detail).
    pub extract_id: Option<String>,
    pub training_sha256: Option<String>,
    pub validation: Option<crate::lab_data::Validation>,
    /// The contents (in the detail; none in lists).
    pub contents: Option<ModelContents>,
}

impl Model {
    /// Refused (`not_approved`, nothing changed) unless the model is approved for use.
    pub(crate) fn require_approved(&self) -> Result<()> {
        if self.status == ModelStatus::Approved {
            return Ok(());
        }
        Err(ServiceError::Conflict(FieldError::new(
            "model",
            "not_approved",
            format!("模型状态为「{}」，须经批准后方可使用", self.status.label_zh()),
            format!("the model is {}: it must be approved before use", self.status.label_en().to_lowercase()),
        )))
    }
}

fn bad(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> ServiceError {
    ServiceError::Invalid(Invalid(vec![FieldError::new("file", code, zh, en)]))
}

/// Checks a model file against the kind it is uploaded as, and reads what it says.
pub fn parse_model(kind: ModelKind, bytes: &[u8]) -> Result<ModelContents> {
    if bytes.is_empty() {
        return Err(bad("empty", "模型文件为空", "the model file is empty"));
    }
    if bytes.len() > MAX_MODEL_BYTES {
        return Err(bad(
            "too_large",
            format!("模型文件超过 {} MB", MAX_MODEL_BYTES / 1024 / 1024),
            format!("the model file is larger than {} MB", MAX_MODEL_BYTES / 1024 / 1024),
        ));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| bad("not_json", "模型文件不是 JSON 文本", "the model file is not JSON text"))?;
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        bad(
            "not_json",
            format!("模型文件不是有效的 JSON：{e}"),
            format!("the model file is not valid JSON: {e}"),
        )
    })?;
    let schema = v.get("schema").and_then(|s| s.as_str()).unwrap_or_default().to_owned();
    let (family, version) = schema.split_once('/').unwrap_or((schema.as_str(), ""));
    let found = match family {
        "kebao.rating_plan" => Some(ModelKind::Glm),
        "kebao.scorecard" => Some(ModelKind::Scorecard),
        _ => None,
    };
    match found {
        None => {
            return Err(bad(
                "unknown_schema",
                "不是平台引擎生成的模型文件（应为 kebao fit glm --plan 或 kebao fit scorecard 的输出）",
                "not a model file the platform's engines write (the output of `kebao fit glm --plan` or `kebao fit scorecard`)",
            ))
        }
        Some(k) if k != kind => {
            return Err(bad(
                "wrong_kind",
                format!("该文件是{}，不是{}", k.label_zh(), kind.label_zh()),
                format!("the file is a {}, not a {}", k.label_en(), kind.label_en()),
            ))
        }
        Some(_) if version != "1" => {
            return Err(bad(
                "unsupported_version",
                format!("不支持的模型文件版本 `{schema}`（支持第 1 版）"),
                format!("model file version `{schema}` is not supported (version 1 is)"),
            ))
        }
        Some(_) => {}
    }
    match kind {
        ModelKind::Glm => glm_summary(&v).map(ModelContents::Glm),
        ModelKind::Scorecard => {
            let sc = kebao_scorecard::Scorecard::from_json(text).map_err(|e| {
                bad(
                    "malformed",
                    format!("评分卡文件内容不完整：{e}"),
                    format!("the scorecard file is incomplete: {e}"),
                )
            })?;
            if sc.variables.is_empty() {
                return Err(bad("no_variables", "评分卡没有入模变量", "the scorecard has no variable"));
            }
            let mut iv: Vec<(String, f64)> = sc.all_binnings.iter().map(|b| (b.name.clone(), b.iv)).collect();
            iv.sort_by(|a, b| b.1.total_cmp(&a.1));
            Ok(ModelContents::Scorecard(ScorecardSummary {
                intercept: sc.intercept,
                variables: sc
                    .variables
                    .iter()
                    .map(|v| ScoreVariable {
                        name: v.binning.name.clone(),
                        iv: v.binning.iv,
                        coefficient: v.coefficient,
                        bins: v
                            .binning
                            .bins
                            .iter()
                            .zip(v.points.iter())
                            .map(|(b, p)| ScoreBin {
                                label: b.label.clone(),
                                count: b.count,
                                events: b.events,
                                event_rate: b.event_rate,
                                woe: b.woe,
                                points: *p,
                            })
                            .collect(),
                    })
                    .collect(),
                excluded: sc.excluded.clone(),
                iv,
            }))
        }
    }
}

fn glm_summary(v: &serde_json::Value) -> Result<GlmSummary> {
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
    let f = |x: &serde_json::Value, k: &str| x.get(k).and_then(serde_json::Value::as_f64);
    let fit = v.get("fit").cloned().unwrap_or_default();
    let (Some(family), Some(link), Some(response), Some(base), Some(deviance)) =
        (s("family"), s("link"), s("response"), f(v, "base"), f(&fit, "deviance"))
    else {
        return Err(bad(
            "malformed",
            "GLM 文件缺少必需项（family、link、response、base、fit.deviance）",
            "the GLM file lacks a required item (family, link, response, base, fit.deviance)",
        ));
    };
    let factors = v
        .get("factors")
        .and_then(|x| x.as_array())
        .map(|a| {
            a.iter()
                .map(|t| {
                    let levels = t
                        .get("levels")
                        .and_then(|l| l.as_array())
                        .map(|ls| {
                            ls.iter()
                                .map(|l| GlmLevel {
                                    level: l
                                        .get("level")
                                        .and_then(|x| x.as_str())
                                        .unwrap_or_default()
                                        .to_owned(),
                                    coefficient: f(l, "coefficient"),
                                    relativity: f(l, "relativity"),
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    (
                        t.get("name").and_then(|x| x.as_str()).unwrap_or_default().to_owned(),
                        t.get("reference").and_then(|x| x.as_str()).unwrap_or_default().to_owned(),
                        levels,
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let numeric = v
        .get("numeric")
        .and_then(|x| x.as_array())
        .map(|a| {
            a.iter()
                .map(|t| {
                    (
                        t.get("name").and_then(|x| x.as_str()).unwrap_or_default().to_owned(),
                        f(t, "coefficient"),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(GlmSummary {
        family,
        link,
        response,
        exposure: s("exposure"),
        base,
        n_obs: fit.get("n_obs").and_then(serde_json::Value::as_u64).unwrap_or(0),
        deviance,
        null_deviance: f(&fit, "null_deviance").unwrap_or(f64::NAN),
        aic: f(&fit, "aic"),
        factors,
        numeric,
    })
}

impl Service {
    async fn model_of(
        &self,
        tx: &mut kebao_store::ReadTx,
        r: ModelRow,
        with_contents: bool,
    ) -> Result<Model> {
        let mut names = std::collections::HashMap::new();
        let uploaded_by_name = crate::audit::actor_name(tx, &mut names, &r.uploaded_by).await?;
        let approved_by_name = match &r.approved_by {
            Some(a) => Some(crate::audit::actor_name(tx, &mut names, a).await?),
            None => None,
        };
        let retired_by_name = match &r.retired_by {
            Some(a) => Some(crate::audit::actor_name(tx, &mut names, a).await?),
            None => None,
        };
        let owner_name =
            kebao_store::orgs::get(tx.conn(), &r.owner_org_id).await.map(|o| o.name).unwrap_or_default();
        let kind = ModelKind::from_code(&r.kind)
            .ok_or_else(|| ServiceError::Internal(format!("stored model kind `{}`", r.kind)))?;
        let status = ModelStatus::from_code(&r.status)
            .ok_or_else(|| ServiceError::Internal(format!("stored model status `{}`", r.status)))?;
        let contents = if with_contents { Some(parse_model(kind, r.document.as_bytes())?) } else { None };
        let validation = match r.validation.as_deref() {
            Some(v) => Some(
                serde_json::from_str(v)
                    .map_err(|e| ServiceError::Internal(format!("stored validation: {e}")))?,
            ),
            None => None,
        };
        Ok(Model {
            id: r.id,
            owner_org_id: r.owner_org_id,
            owner_name,
            kind,
            name: r.name,
            version: r.version,
            sha256: r.sha256,
            status,
            uploaded_by: r.uploaded_by,
            uploaded_at_us: r.uploaded_at_us,
            approved_by: r.approved_by,
            approved_at_us: r.approved_at_us,
            retired_by: r.retired_by,
            retired_at_us: r.retired_at_us,
            uploaded_by_name,
            approved_by_name,
            retired_by_name,
            extract_id: r.extract_id,
            training_sha256: r.training_sha256,
            validation,
            contents,
        })
    }

    /// The actor's organisation, which owns the models it uploads.
    pub(crate) async fn lab_owner(
        &self,
        actor: &Actor,
        action: Action,
    ) -> Result<kebao_domain::org::Organisation> {
        let own = actor.org_id().ok_or(ServiceError::Unauthenticated("sign in first"))?.to_owned();
        let mut tx = self.store.begin_read().await?;
        let org = kebao_store::orgs::get(tx.conn(), &own).await?;
        self.require(actor, action, &org_resource(&org), &Basis::None)?;
        Ok(org)
    }

    /// Uploads a model file as a new version of the owner's model `name`, awaiting approval.
    pub async fn upload_model(
        &self,
        actor: &Actor,
        kind: ModelKind,
        name: &str,
        bytes: &[u8],
    ) -> Result<Model> {
        let org = self.lab_owner(actor, Action::ManageModels).await?;
        let name = kebao_domain::org::text_field("name", name, true, NAME_MAX_CHARS)
            .map_err(|e| ServiceError::Invalid(Invalid(vec![e])))?
            .unwrap_or_default();
        parse_model(kind, bytes)?;
        let document = String::from_utf8_lossy(bytes).into_owned();
        let mut tx = self.store.begin_write().await?;
        let version = store::next_version(tx.conn(), &org.id, kind.code(), &name).await?;
        let row = ModelRow {
            id: self.new_id(),
            owner_org_id: org.id.clone(),
            kind: kind.code().to_owned(),
            name: name.clone(),
            version,
            sha256: hex::encode(Sha256::digest(bytes)),
            document,
            status: ModelStatus::Submitted.code().to_owned(),
            uploaded_by: actor.log_name(),
            uploaded_at_us: self.now_us(),
            approved_by: None,
            approved_at_us: None,
            retired_by: None,
            retired_at_us: None,
            extract_id: None,
            training_sha256: None,
            validation: None,
        };
        store::insert(tx.conn(), &row).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "lab.model_uploaded",
            &row.id,
            serde_json::json!({"owner": org.id, "kind": kind.code(), "name": name, "version": version, "sha256": row.sha256}),
        );
        self.finish(tx, draft).await?;
        let mut tx = self.store.begin_read().await?;
        self.model_of(&mut tx, row, false).await
    }

    /// The models the actor may see: its organisation's; every institution's for the zone's officers.
    pub async fn models(&self, actor: &Actor) -> Result<Vec<Model>> {
        let zone = self.allows(actor, Action::ReadModels, &Resource::Zone);
        let owner = if zone { None } else { Some(self.lab_owner(actor, Action::ReadModels).await?.id) };
        let mut tx = self.store.begin_read().await?;
        let mut out = Vec::new();
        for r in store::list(tx.conn(), owner.as_deref()).await? {
            out.push(self.model_of(&mut tx, r, false).await?);
        }
        Ok(out)
    }

    /// One model with its contents (its owner's staff; the zone's officers).
    pub async fn model(&self, actor: &Actor, id: &str) -> Result<Model> {
        let mut tx = self.store.begin_read().await?;
        let r = store::get(tx.conn(), id).await?;
        let owner = kebao_store::orgs::get(tx.conn(), &r.owner_org_id).await?;
        if !self.allows(actor, Action::ReadModels, &org_resource(&owner))
            && !self.allows(actor, Action::ReadModels, &Resource::Zone)
        {
            return Err(ServiceError::NotFound);
        }
        self.model_of(&mut tx, r, true).await
    }

    /// Approves a model for use: another person of the owner than the one who uploaded it.
    pub async fn approve_model(&self, actor: &Actor, id: &str) -> Result<Model> {
        self.model_step(actor, id, ModelStatus::Submitted, ModelStatus::Approved).await
    }

    /// Retires a model: kept, never used again.
    pub async fn retire_model(&self, actor: &Actor, id: &str) -> Result<Model> {
        let m = self.model(actor, id).await?;
        if m.status == ModelStatus::Retired {
            return Err(ServiceError::Conflict(FieldError::new(
                "model",
                "retired",
                "该模型已停用",
                "the model is retired already",
            )));
        }
        self.model_step(actor, id, m.status, ModelStatus::Retired).await
    }

    async fn model_step(&self, actor: &Actor, id: &str, from: ModelStatus, to: ModelStatus) -> Result<Model> {
        let m = self.model(actor, id).await?;
        let mut tx = self.store.begin_read().await?;
        let owner = kebao_store::orgs::get(tx.conn(), &m.owner_org_id).await?;
        drop(tx);
        self.require(actor, Action::ManageModels, &org_resource(&owner), &Basis::None)?;
        if m.status != from {
            return Err(ServiceError::Conflict(FieldError::new(
                "model",
                "wrong_status",
                format!("该模型状态为「{}」", m.status.label_zh()),
                format!("the model is {}", m.status.label_en().to_lowercase()),
            )));
        }
        if to == ModelStatus::Approved && m.uploaded_by == actor.log_name() {
            return Err(ServiceError::Conflict(FieldError::new(
                "model",
                "maker_checker",
                "上传模型的人不能批准自己的模型，须由本机构另一人批准",
                "whoever uploaded a model cannot approve it: another person of the organisation must",
            )));
        }
        let mut tx = self.store.begin_write().await?;
        if !store::set_status(tx.conn(), id, from.code(), to.code(), &actor.log_name(), self.now_us()).await?
        {
            return Err(ServiceError::Conflict(FieldError::new(
                "model",
                "changed",
                "该模型刚被他人处理，请刷新",
                "someone else acted on the model just now: reload",
            )));
        }
        if to == ModelStatus::Retired {
            // A retired model is no longer monitored: its drift alert, if open, is done.
            kebao_store::todos::close_todo(tx.conn(), "lab_drift", id, self.now_us()).await?;
        }
        let action = if to == ModelStatus::Approved { "lab.model_approved" } else { "lab.model_retired" };
        let draft = EventDraft::new(
            &actor.log_name(),
            action,
            id,
            serde_json::json!({"owner": m.owner_org_id, "name": m.name, "version": m.version, "sha256": m.sha256}),
        );
        self.finish(tx, draft).await?;
        self.model(actor, id).await
    }

    /// Files an approved GLM of the insurer as the rating plan of one of its products (what
    /// `kebao rating import-glm` does, from the registry). The product must be the model
    /// owner's; the filing itself is checked as any rating plan is.
    #[allow(clippy::too_many_arguments)]
    pub async fn glm_model_to_rating_plan(
        &self,
        actor: &Actor,
        model_id: &str,
        product_id: &str,
        effective_from: &str,
        mapping: &[(String, String)],
        basis: &str,
        loading: &str,
        min_premium_yuan: i64,
    ) -> Result<FiledPlan> {
        let m = self.model(actor, model_id).await?;
        if m.kind != ModelKind::Glm {
            return Err(bad(
                "wrong_kind",
                "只有广义线性模型可以成为费率表",
                "only a GLM can become a rating plan",
            ));
        }
        m.require_approved()?;
        let mut tx = self.store.begin_read().await?;
        let product = kebao_store::products::get_product(tx.conn(), product_id).await?;
        let owner = kebao_store::orgs::get(tx.conn(), &m.owner_org_id).await?;
        let doc = store::get(tx.conn(), model_id).await?.document;
        drop(tx);
        if owner.kind != OrgKind::Insurer || product.insurer_id != m.owner_org_id {
            return Err(ServiceError::Invalid(Invalid(vec![FieldError::new(
                "product",
                "not_the_owner",
                "模型只能用于其所属保险机构自己的产品",
                "a model serves only its own insurer's products",
            )])));
        }
        let glm: serde_json::Value =
            serde_json::from_str(&doc).map_err(|e| ServiceError::Internal(format!("stored model: {e}")))?;
        let plan = self
            .import_glm_rating_plan(
                actor,
                product_id,
                effective_from,
                &glm,
                mapping,
                basis,
                loading,
                min_premium_yuan,
            )
            .await?;
        let tx = self.store.begin_write().await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "lab.model_used",
            model_id,
            serde_json::json!({"use": "rating_plan", "product": product_id, "plan_version": plan.version,
                "model_version": m.version, "sha256": m.sha256}),
        );
        self.finish(tx, draft).await?;
        Ok(plan)
    }
}

impl Service {
    /// Whether the actor may upload, approve or retire its organisation's models.
    pub async fn may_manage_models(&self, actor: &Actor) -> bool {
        self.lab_owner(actor, Action::ManageModels).await.is_ok()
    }
}
