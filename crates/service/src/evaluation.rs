//! Evaluation of the zone's institutions against service standards (C11, plan 四（二）;
//! docs/evaluation.md): each insurer (with its branches) and bank, per calendar year, against the
//! standards of `data/zone/standards.toml`, with a composite score by the published method and
//! the distribution it sits in. The zone's officers and the regulator see every institution; an
//! insurer or a bank its own standing and the others' scores without names.

use crate::authz::{Action, Actor, Basis, Resource};
use crate::{Result, Service, ServiceError};
use kebao_domain::evaluation::{self as domain, AppliesTo, Standard, StandardMeasure};
use kebao_domain::org::{OrgKind, OrgStatus};
use kebao_domain::{FieldError, Invalid};
use kebao_store::evaluation as store;
use std::collections::{HashMap, HashSet};

/// The standards as shipped.
pub const STANDARDS: &str = include_str!("../../../data/zone/standards.toml");

/// One standard's figure for an institution.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Figure {
    pub standard_id: String,
    /// `None` when the institution has no figure that year (no claims, say).
    pub value: Option<f64>,
    pub score: Option<f64>,
    pub met: bool,
}

/// An institution's standing.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Standing {
    pub org_id: String,
    pub name: String,
    pub kind: &'static str,
    /// Per standard of its kind, in the standards' order.
    pub figures: Vec<Figure>,
    pub score: Option<f64>,
    /// Its place among the institutions of its kind with a score (1 = best), and how many.
    pub rank: Option<usize>,
    pub of: usize,
}

/// A year's evaluation, as the actor may see it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Evaluation {
    pub year: i32,
    pub version: String,
    #[serde(skip)]
    pub standards: Vec<Standard>,
    /// Every institution (the zone's officers, the regulator) or the actor's own.
    pub standings: Vec<Standing>,
    /// Per kind: every institution's composite score, best first, without names.
    pub distributions: Vec<(&'static str, Vec<f64>)>,
    pub zone_wide: bool,
}

/// The standards as shipped, checked.
pub fn standards() -> std::result::Result<(String, Vec<Standard>), String> {
    domain::parse(STANDARDS).map_err(|e| e.to_string())
}

#[derive(Default)]
struct Sums {
    decided: i64,
    decided_within: i64,
    payments: i64,
    paid_within: i64,
    complaints: i64,
    in_force: i64,
    insured: HashSet<String>,
    early: HashSet<String>,
    products: i64,
    loans: i64,
    principal_fen: i64,
}

impl Sums {
    fn value(&self, m: &StandardMeasure) -> f64 {
        let pct = |a: i64, b: i64| if b > 0 { a as f64 * 100.0 / b as f64 } else { f64::NAN };
        match m {
            StandardMeasure::ClaimsDecidedWithinDays(_) => pct(self.decided_within, self.decided),
            StandardMeasure::ClaimsPaidWithinDays(_) => pct(self.paid_within, self.payments),
            StandardMeasure::ComplaintsPerThousand => {
                if self.in_force > 0 {
                    self.complaints as f64 * 1000.0 / self.in_force as f64
                } else {
                    f64::NAN
                }
            }
            StandardMeasure::EarlyStageShare(_) => pct(
                i64::try_from(self.early.len()).unwrap_or(0),
                i64::try_from(self.insured.len()).unwrap_or(0),
            ),
            StandardMeasure::ProductsFiled => self.products as f64,
            StandardMeasure::LoansDisbursed => self.loans as f64,
            StandardMeasure::LoanPrincipalWan => self.principal_fen as f64 / 1_000_000.0,
        }
    }
}

impl Service {
    /// A year's evaluation (`year`: 2000–this year). The zone's officers and the regulator see
    /// every institution; an insurer's or a bank's officers their own (its head office's, for a
    /// branch) and the distribution without names; anyone else is refused.
    pub async fn evaluation(&self, actor: &Actor, year: &str) -> Result<Evaluation> {
        let zone_wide = self.allows(actor, Action::ReadEvaluation, &Resource::Zone);
        let own = if zone_wide {
            self.require(actor, Action::ReadEvaluation, &Resource::Zone, &Basis::None)?;
            None
        } else {
            let id = actor.org_id().map(str::to_owned).unwrap_or_default();
            let mut tx = self.store.begin_read().await?;
            let org = kebao_store::orgs::get(tx.conn(), &id).await;
            drop(tx);
            let resource = match &org {
                Ok(o) => crate::authz::org_resource(o),
                Err(_) => {
                    Resource::Org { id: id.clone(), kind: OrgKind::Enterprise, status: OrgStatus::Pending }
                }
            };
            self.require(actor, Action::ReadEvaluation, &resource, &Basis::None)?;
            Some(id)
        };
        let this_year = self.today().year();
        let year: i32 = match year.trim().parse() {
            Ok(y) if (2000..=this_year).contains(&y) => y,
            _ => {
                return Err(ServiceError::Invalid(Invalid(vec![FieldError::new(
                    "year",
                    "year",
                    format!("年份须在 2000–{this_year} 之间"),
                    format!("the year must be 2000–{this_year}"),
                )])))
            }
        };
        let (version, standards) = standards().map_err(ServiceError::Internal)?;
        let (first, last, from_us, to_us) = crate::stats::bounds(kebao_domain::stats::Period::Year(year));
        let decided_days = standards.iter().find_map(|s| match s.measure {
            StandardMeasure::ClaimsDecidedWithinDays(d) => Some(d),
            _ => None,
        });
        let paid_days = standards.iter().find_map(|s| match s.measure {
            StandardMeasure::ClaimsPaidWithinDays(d) => Some(d),
            _ => None,
        });
        let early: Vec<&str> = standards
            .iter()
            .filter_map(|s| match &s.measure {
                StandardMeasure::EarlyStageShare(st) => Some(st.iter().map(|x| x.code())),
                _ => None,
            })
            .flatten()
            .collect();
        let mut tx = self.store.begin_read().await?;
        let backend = tx.backend();
        let insurers = store::institutions(tx.conn(), "insurer").await?;
        let banks = store::institutions(tx.conn(), "bank").await?;
        let decided = store::claims_decided(tx.conn(), backend, first, last).await?;
        let payments = store::claim_payments(tx.conn(), from_us, to_us).await?;
        let complaints = store::complaints(tx.conn(), first, last).await?;
        let in_force = store::in_force(tx.conn(), first, last).await?;
        let insured = store::insured(tx.conn(), from_us, to_us).await?;
        let products = store::products_filed(tx.conn(), from_us, to_us).await?;
        let loans = store::loans(tx.conn(), first, last).await?;
        drop(tx);
        // Branches roll up to their head office (the top of their tree).
        let head_of = |list: &[(String, Option<String>, String)]| -> HashMap<String, String> {
            let parent: HashMap<&str, &str> =
                list.iter().filter_map(|(id, p, _)| p.as_deref().map(|p| (id.as_str(), p))).collect();
            list.iter()
                .map(|(id, _, _)| {
                    let mut at = id.as_str();
                    for _ in 0..list.len() {
                        match parent.get(at) {
                            Some(p) if list.iter().any(|(x, _, _)| x == p) => at = p,
                            _ => break,
                        }
                    }
                    (id.clone(), at.to_owned())
                })
                .collect()
        };
        let ins_head = head_of(&insurers);
        let bank_head = head_of(&banks);
        // A branch's officers see their head office's standing.
        let own = own.map(|o| ins_head.get(&o).or_else(|| bank_head.get(&o)).cloned().unwrap_or(o));
        let mut sums: HashMap<String, Sums> = HashMap::new();
        let ins = |id: &str| ins_head.get(id).cloned();
        for (id, days, n) in decided {
            if let Some(h) = ins(&id) {
                let s = sums.entry(h).or_default();
                s.decided += n;
                if decided_days.is_some_and(|d| days <= d) {
                    s.decided_within += n;
                }
            }
        }
        for (id, decided_on, at) in payments {
            if let Some(h) = ins(&id) {
                let s = sums.entry(h).or_default();
                s.payments += 1;
                let paid_on =
                    kebao_domain::time_zone::business_date(kebao_domain::time_zone::from_unix_us(at));
                let within = decided_on
                    .and_then(|d| kebao_domain::org::parse_date("decided_on", &d).ok())
                    .is_some_and(|d| paid_days.is_some_and(|m| (paid_on - d).whole_days() <= m));
                if within {
                    s.paid_within += 1;
                }
            }
        }
        for (id, n) in complaints {
            if let Some(h) = ins(&id) {
                sums.entry(h).or_default().complaints += n;
            }
        }
        for (id, n) in in_force {
            if let Some(h) = ins(&id) {
                sums.entry(h).or_default().in_force += n;
            }
        }
        for (id, ent, stage) in insured {
            if let Some(h) = ins(&id) {
                let s = sums.entry(h).or_default();
                if stage.as_deref().is_some_and(|st| early.contains(&st)) {
                    s.early.insert(ent.clone());
                }
                s.insured.insert(ent);
            }
        }
        for (id, n) in products {
            if let Some(h) = ins(&id) {
                sums.entry(h).or_default().products += n;
            }
        }
        for (id, n, amount) in loans {
            if let Some(h) = bank_head.get(&id).cloned() {
                let s = sums.entry(h).or_default();
                s.loans += n;
                s.principal_fen += amount;
            }
        }
        let empty = Sums::default();
        let mut standings = Vec::new();
        let mut distributions = Vec::new();
        for (kind, list) in [(AppliesTo::Insurer, &insurers), (AppliesTo::Bank, &banks)] {
            let mine: Vec<&Standard> = standards.iter().filter(|s| s.applies_to == kind).collect();
            let mut rows: Vec<Standing> = list
                .iter()
                .filter(|(id, p, _)| {
                    p.as_ref().is_none_or(|p| !list.iter().any(|(x, _, _)| x == p)) && !id.is_empty()
                })
                .map(|(id, _, name)| {
                    let s = sums.get(id).unwrap_or(&empty);
                    let figures: Vec<Figure> = mine
                        .iter()
                        .map(|st| {
                            let v = s.value(&st.measure);
                            Figure {
                                standard_id: st.id.clone(),
                                value: v.is_finite().then_some(v),
                                score: v.is_finite().then(|| st.score(v)),
                                met: st.met(v),
                            }
                        })
                        .collect();
                    let score = domain::composite(
                        &mine
                            .iter()
                            .zip(&figures)
                            .map(|(st, f)| (st.weight, f.score.unwrap_or(f64::NAN)))
                            .collect::<Vec<_>>(),
                    );
                    Standing {
                        org_id: id.clone(),
                        name: name.clone(),
                        kind: kind.code(),
                        figures,
                        score,
                        rank: None,
                        of: 0,
                    }
                })
                .collect();
            let mut scores: Vec<f64> = rows.iter().filter_map(|r| r.score).collect();
            scores.sort_by(|a, b| b.total_cmp(a));
            let of = scores.len();
            for r in rows.iter_mut() {
                r.of = of;
                r.rank = r.score.map(|s| 1 + scores.iter().filter(|x| **x > s).count());
            }
            rows.sort_by(|a, b| {
                (a.rank.unwrap_or(usize::MAX), &a.name).cmp(&(b.rank.unwrap_or(usize::MAX), &b.name))
            });
            distributions.push((kind.code(), scores));
            standings.extend(rows.into_iter().filter(|r| own.as_ref().is_none_or(|o| *o == r.org_id)));
        }
        Ok(Evaluation { year, version, standards, standings, distributions, zone_wide })
    }
}
