//! The risk lab's monitoring (C9, fourth part): for a scorecard in use, per month of scoring,
//! the PSI of the score against its first month in use (the scorecard file keeps each
//! variable's training bins but not the training scores' distribution), the CSI of each
//! variable against its training bins, and for lending scores the realised default rate of
//! the ended loans against the predicted one. A month whose PSI or CSI reaches the model's
//! thresholds (defaults 0.10 to watch, 0.25 to alert; the owner may change them) is marked,
//! and an alert opens a to-do for the model's owner. See `docs/lab.md`.

use crate::authz::{Action, Actor};
use crate::lab::{Model, ModelKind};
use crate::{Result, Service, ServiceError};
use kebao_domain::event::EventDraft;
pub use kebao_domain::lab::DriftLevel;
use kebao_domain::lab::{DEFAULT_ALERT, DEFAULT_WATCH, LOAN_COLUMNS};
use kebao_domain::{FieldError, Invalid};
use kebao_store::lab_scores as store;

/// One month of a model's scores.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MonthDrift {
    /// `YYYY-MM`.
    pub month: String,
    pub scored: u64,
    pub mean_score: f64,
    /// Against the first month in use (none for that month itself).
    pub psi: Option<f64>,
    /// (variable, CSI against its training bins).
    pub csi: Vec<(String, f64)>,
    /// For lending scores: the mean predicted default probability, and of the scored loans
    /// that have ended, how many and the share that defaulted.
    pub predicted: Option<f64>,
    pub ended: u64,
    pub realised: Option<f64>,
    pub level: DriftLevel,
}

/// A model's monitoring.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Monitoring {
    pub model: Model,
    pub watch: f64,
    pub alert: f64,
    pub months: Vec<MonthDrift>,
}

fn share(counts: &[f64]) -> Vec<f64> {
    let n: f64 = counts.iter().sum();
    counts.iter().map(|c| if n > 0.0 { (c / n).max(1e-4) } else { 1e-4 }).collect()
}

fn index(expected: &[f64], actual: &[f64]) -> f64 {
    share(expected).iter().zip(share(actual)).map(|(e, a)| (a - e) * (a / e).ln()).sum()
}

/// The months of a scorecard's scores with their drift.
pub fn monitor(
    sc: &kebao_scorecard::Scorecard,
    scores: &[store::MonitoredScore],
    watch: f64,
    alert: f64,
) -> Vec<MonthDrift> {
    let month_of = |us: i64| {
        let d = kebao_domain::time_zone::business_date(kebao_domain::time_zone::from_unix_us(us));
        format!("{}-{:02}", d.year(), u8::from(d.month()))
    };
    let mut months: Vec<(String, Vec<&store::MonitoredScore>)> = Vec::new();
    for s in scores {
        let m = month_of(s.created_at_us);
        match months.last_mut() {
            Some((last, v)) if *last == m => v.push(s),
            _ => months.push((m, vec![s])),
        }
    }
    let baseline: Vec<f64> =
        months.first().map(|(_, v)| v.iter().map(|s| s.score_c as f64 / 100.0).collect()).unwrap_or_default();
    months
        .iter()
        .enumerate()
        .map(|(i, (month, v))| {
            let scores: Vec<f64> = v.iter().map(|s| s.score_c as f64 / 100.0).collect();
            let psi = (i > 0).then(|| kebao_scorecard::psi(&baseline, &scores, 10)).filter(|p| p.is_finite());
            let inputs: Vec<serde_json::Map<String, serde_json::Value>> =
                v.iter().map(|s| serde_json::from_str(&s.inputs).unwrap_or_default()).collect();
            let csi = sc
                .variables
                .iter()
                .map(|var| {
                    let b = &var.binning;
                    let cells = b.bins.len() + 2;
                    let mut expected: Vec<f64> = b.bins.iter().map(|x| x.count as f64).collect();
                    expected.push(b.special.count as f64);
                    expected.push(b.missing.count as f64);
                    let mut actual = vec![0.0; cells];
                    let categorical =
                        LOAN_COLUMNS.iter().find(|c| c.name == b.name).is_some_and(|c| c.categorical);
                    for row in &inputs {
                        let raw = row.get(&b.name).and_then(|x| x.as_str()).unwrap_or("").trim();
                        let cell = if categorical {
                            let v = (!raw.is_empty() && raw != "unknown").then_some(raw);
                            match v {
                                None => cells - 1,
                                Some(v) => b.category_bin(Some(v)).unwrap_or(cells - 1),
                            }
                        } else {
                            match b.numeric_bin(raw.parse::<f64>().unwrap_or(f64::NAN)) {
                                Ok(k) => k,
                                Err(true) => cells - 2,
                                Err(false) => cells - 1,
                            }
                        };
                        if let Some(c) = actual.get_mut(cell) {
                            *c += 1.0;
                        }
                    }
                    (b.name.clone(), index(&expected, &actual))
                })
                .collect::<Vec<_>>();
            let lending: Vec<&&store::MonitoredScore> =
                v.iter().filter(|s| s.loan_status.is_some()).collect();
            let predicted = (!lending.is_empty()).then(|| {
                lending.iter().map(|s| s.probability_ppm as f64 / 1e6).sum::<f64>() / lending.len() as f64
            });
            let ended: Vec<bool> = lending
                .iter()
                .filter_map(|s| match s.loan_status.as_deref() {
                    Some("repaid") => Some(false),
                    Some("claimed" | "claim_paid") => Some(true),
                    _ => None,
                })
                .collect();
            let realised =
                (!ended.is_empty()).then(|| ended.iter().filter(|b| **b).count() as f64 / ended.len() as f64);
            let worst = csi.iter().map(|c| c.1).chain(psi).fold(0.0f64, f64::max);
            let level = if worst >= alert {
                DriftLevel::Alert
            } else if worst >= watch {
                DriftLevel::Watch
            } else {
                DriftLevel::Stable
            };
            MonthDrift {
                month: month.clone(),
                scored: scores.len() as u64,
                mean_score: scores.iter().sum::<f64>() / scores.len().max(1) as f64,
                psi,
                csi,
                predicted,
                ended: ended.len() as u64,
                realised,
                level,
            }
        })
        .collect()
}

impl Service {
    /// A scorecard's monitoring (its owner's staff; the zone's officers).
    pub async fn model_monitoring(&self, actor: &Actor, model_id: &str) -> Result<Monitoring> {
        let model = self.model(actor, model_id).await?;
        if model.kind != ModelKind::Scorecard {
            return Err(ServiceError::Invalid(Invalid(vec![FieldError::new(
                "model",
                "wrong_kind",
                "监测适用于评分卡",
                "monitoring is for scorecards",
            )])));
        }
        let (doc, scores, th) = {
            let mut tx = self.store.begin_read().await?;
            let doc = kebao_store::lab::get(tx.conn(), model_id).await?.document;
            let scores = store::model_scores(tx.conn(), model_id).await?;
            let th = store::thresholds(tx.conn(), model_id).await?;
            (doc, scores, th)
        };
        let (watch, alert) =
            th.map_or((DEFAULT_WATCH, DEFAULT_ALERT), |(w, a)| (w as f64 / 10_000.0, a as f64 / 10_000.0));
        let sc = kebao_scorecard::Scorecard::from_json(&doc)
            .map_err(|e| ServiceError::Internal(format!("stored scorecard: {e}")))?;
        let months = tokio::task::spawn_blocking(move || monitor(&sc, &scores, watch, alert))
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        Ok(Monitoring { model, watch, alert, months })
    }

    /// Sets a model's monitoring thresholds (its owner's analysts).
    pub async fn set_monitoring_thresholds(
        &self,
        actor: &Actor,
        model_id: &str,
        watch: &str,
        alert: &str,
    ) -> Result<()> {
        let m = self.model(actor, model_id).await?;
        let org = self.lab_owner(actor, Action::ManageModels).await?;
        if m.owner_org_id != org.id {
            return Err(ServiceError::NotFound);
        }
        let parse = |field: &str, v: &str| -> std::result::Result<f64, FieldError> {
            match v.trim().parse::<f64>() {
                Ok(x) if x > 0.0 && x <= 100.0 => Ok(x),
                _ => Err(FieldError::new(
                    field,
                    "threshold",
                    "阈值须为大于 0、不超过 100 的数（如 0.10）",
                    "a threshold is a number above 0 and at most 100 (say 0.10)",
                )),
            }
        };
        let mut errs = Vec::new();
        let w = parse("watch", watch).map_err(|e| errs.push(e)).ok();
        let a = parse("alert", alert).map_err(|e| errs.push(e)).ok();
        if let (Some(w), Some(a)) = (w, a) {
            if w > a {
                errs.push(FieldError::new(
                    "alert",
                    "crossed",
                    "预警阈值不能低于关注阈值",
                    "the alert threshold cannot be below the watch one",
                ));
            }
        }
        let (Some(w), Some(a), true) = (w, a, errs.is_empty()) else { return Err(Invalid(errs).into()) };
        let (wb, ab) = ((w * 10_000.0).round() as i64, (a * 10_000.0).round() as i64);
        let mut tx = self.store.begin_write().await?;
        store::set_thresholds(tx.conn(), model_id, wb, ab, &actor.log_name(), self.now_us()).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "lab.thresholds_set",
            model_id,
            serde_json::json!({"owner": org.id, "watch": w, "alert": a}),
        );
        self.finish(tx, draft).await.map(|_| ())
    }

    /// After new scores: when the model's latest month alerts, a to-do for its owner's
    /// analysts (one per model, opened again if it was done).
    pub(crate) async fn alert_on_drift(&self, model_id: &str) -> Result<Option<DriftLevel>> {
        let (doc, scores, th, owner) = {
            let mut tx = self.store.begin_read().await?;
            let m = kebao_store::lab::get(tx.conn(), model_id).await?;
            let scores = store::model_scores(tx.conn(), model_id).await?;
            let th = store::thresholds(tx.conn(), model_id).await?;
            let owner = kebao_store::orgs::get(tx.conn(), &m.owner_org_id).await?;
            (m.document, scores, th, owner)
        };
        let (watch, alert) =
            th.map_or((DEFAULT_WATCH, DEFAULT_ALERT), |(w, a)| (w as f64 / 10_000.0, a as f64 / 10_000.0));
        let Ok(sc) = kebao_scorecard::Scorecard::from_json(&doc) else { return Ok(None) };
        let months = tokio::task::spawn_blocking(move || monitor(&sc, &scores, watch, alert))
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let Some(last) = months.last() else { return Ok(None) };
        if last.level == DriftLevel::Alert {
            let role = match owner.kind {
                kebao_domain::org::OrgKind::Government => "zone_reviewer",
                _ => "org_admin",
            };
            let todo = kebao_store::todos::Todo {
                id: self.new_id(),
                org_id: owner.id.clone(),
                role: role.to_owned(),
                kind: "lab_drift".into(),
                subject: model_id.to_owned(),
                title_zh: format!("模型监测预警：{} 月评分分布明显偏移，请复核模型", last.month),
                title_en: format!(
                    "Model monitoring alert: the scores of {} have drifted; review the model",
                    last.month
                ),
                link: format!("/lab/models/{model_id}/monitoring"),
                created_at_us: self.now_us(),
                done_at_us: None,
            };
            let mut tx = self.store.begin_write().await?;
            kebao_store::todos::add_todo(tx.conn(), &todo).await?;
            let draft = EventDraft::new(
                "system:lab",
                "lab.drift_alert",
                model_id,
                serde_json::json!({"owner": owner.id, "month": last.month, "psi": last.psi,
                    "csi": last.csi, "alert": alert}),
            );
            self.finish(tx, draft).await?;
        }
        Ok(Some(last.level))
    }
}

impl Service {
    /// Whether a zone switch is on (off until the zone's approvers turn it on).
    pub async fn zone_switch(&self, key: kebao_domain::lab::ZoneSwitch) -> Result<bool> {
        let mut tx = self.store.begin_read().await?;
        Ok(store::switch(tx.conn(), key.code()).await?)
    }

    /// Turns a zone switch on or off (the zone's approvers); an event.
    pub async fn set_zone_switch(
        &self,
        actor: &Actor,
        key: kebao_domain::lab::ZoneSwitch,
        on: bool,
    ) -> Result<()> {
        self.require(
            actor,
            Action::SetZoneSwitches,
            &crate::authz::Resource::Zone,
            &crate::authz::Basis::None,
        )?;
        let mut tx = self.store.begin_write().await?;
        store::set_switch(tx.conn(), key.code(), on, &actor.log_name(), self.now_us()).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "zone.switch_set",
            key.code(),
            serde_json::json!({"switch": key.code(), "enabled": on}),
        );
        self.finish(tx, draft).await.map(|_| ())
    }
}

impl Service {
    /// Whether the actor may turn the zone's switches (the zone's approvers).
    pub fn may_set_zone_switches(&self, actor: &Actor) -> bool {
        self.allows(actor, Action::SetZoneSwitches, &crate::authz::Resource::Zone)
    }
}
