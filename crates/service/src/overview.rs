//! The zone officer's overview of insurance in the zone (C4, C5): per insurer, the policies,
//! written and received premium (from the ledger), claims and their cycle time and payout,
//! and disputes. For zone officers and the regulator, on their statutory basis.

use crate::authz::{Action, Actor, Basis, Resource};
use crate::{Result, Service};
use kebao_domain::claim::ClaimStatus;
use kebao_domain::dispute::DisputeStatus;
use kebao_domain::policy::{codes, loss_ratio, PolicyStatus};
use kebao_domain::Money;
use kebao_store::{claims, disputes, ledger, orgs, policies};
use std::collections::BTreeMap;

/// One insurer's line of the overview (fen and counts).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InsurerLine {
    pub insurer_id: String,
    pub insurer_name: String,
    pub policies_in_force: u64,
    pub policies_cancelled: u64,
    /// The insurer's written premium net of returns and co-insurance shares (its ledger account).
    pub written_fen: i64,
    /// Premium received on the policies it leads.
    pub received_fen: i64,
    pub claims_open: u64,
    pub claims_closed: u64,
    pub claimed_fen: i64,
    /// Paid on all claims, and on closed claims (the payout ratio counts closed ones).
    pub paid_fen: i64,
    pub closed_paid_fen: i64,
    /// Mean days from report to close, over closed claims.
    pub mean_cycle_days: Option<f64>,
    /// Paid ÷ claimed over closed claims.
    pub payout_ratio: Option<f64>,
    /// Premium earned to date on the policies it leads ([`Policy::earned_premium`]).
    ///
    /// [`Policy::earned_premium`]: kebao_domain::policy::Policy::earned_premium
    pub earned_fen: i64,
    /// Incurred: paid on all claims plus the reserves of open ones.
    pub incurred_fen: i64,
    /// Incurred ÷ earned ([`kebao_domain::policy::loss_ratio`]).
    pub loss_ratio: Option<f64>,
    pub disputes_open: u64,
    pub disputes_settled: u64,
    pub disputes_escalated: u64,
}

/// The overview: one line per insurer with policies or claims, and the zone's totals.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InsuranceOverview {
    pub lines: Vec<InsurerLine>,
    pub total: InsurerLine,
}

impl Service {
    /// The zone's insurance overview (zone officers and the regulator).
    pub async fn insurance_overview(&self, actor: &Actor) -> Result<InsuranceOverview> {
        self.require(actor, Action::ReadInsuranceOverview, &Resource::Zone, &Basis::None)?;
        let mut tx = self.store.begin_read().await?;
        let mut map: BTreeMap<String, InsurerLine> = BTreeMap::new();
        fn line<'a>(map: &'a mut BTreeMap<String, InsurerLine>, id: &str) -> &'a mut InsurerLine {
            map.entry(id.to_owned())
                .or_insert_with(|| InsurerLine { insurer_id: id.to_owned(), ..Default::default() })
        }
        let today = self.today();
        for p in policies::all_policies(tx.conn()).await? {
            let received = ledger::sum_for_event(tx.conn(), &p.id, codes::PREMIUM_PAID).await?
                - ledger::sum_for_event(tx.conn(), &p.id, codes::REFUND_PAID).await?;
            let l = line(&mut map, &p.insurer_id);
            match p.status {
                // A policy bought outside the platform counts once its insurer confirms it.
                PolicyStatus::InForce | PolicyStatus::Registered => l.policies_in_force += 1,
                PolicyStatus::Cancelled => l.policies_cancelled += 1,
                PolicyStatus::Unconfirmed | PolicyStatus::Unrecognised => continue,
            }
            l.received_fen += received;
            l.earned_fen += p.earned_premium(today).fen();
        }
        let mut cycle: Vec<(String, f64)> = Vec::new();
        for c in claims::all(tx.conn()).await? {
            let l = line(&mut map, &c.insurer_id);
            l.paid_fen += c.paid.fen();
            l.incurred_fen += c.paid.fen() + c.reserve.fen();
            if c.status == ClaimStatus::Closed {
                l.claims_closed += 1;
                l.claimed_fen += c.claimed.fen();
                l.closed_paid_fen += c.paid.fen();
                if let Some(t) = c.closed_at_us {
                    cycle.push((c.insurer_id.clone(), (t - c.reported_at_us) as f64 / 86_400_000_000.0));
                }
            } else {
                l.claims_open += 1;
            }
        }
        for d in disputes::list(tx.conn(), None).await? {
            let l = line(&mut map, &d.insurer_id);
            match d.status {
                DisputeStatus::Complained | DisputeStatus::Mediating => l.disputes_open += 1,
                DisputeStatus::Settled => l.disputes_settled += 1,
                DisputeStatus::Escalated => l.disputes_escalated += 1,
            }
        }
        // Written premium is the insurer's ledger account (co-insurers included).
        for a in ledger::all_accounts(tx.conn()).await?.iter().filter(|a| a.kind == "premium_written") {
            line(&mut map, &a.owner_id).written_fen = a.credits_posted - a.debits_posted;
        }
        let mean = |d: &[f64]| (!d.is_empty()).then(|| d.iter().sum::<f64>() / d.len() as f64);
        let ratio = |paid: i64, claimed: i64| (claimed > 0).then(|| paid as f64 / claimed as f64);
        let mut total = InsurerLine::default();
        let mut lines: Vec<InsurerLine> = Vec::new();
        for (_, mut l) in map {
            l.insurer_name = orgs::get(tx.conn(), &l.insurer_id).await.map(|o| o.name).unwrap_or_default();
            let days: Vec<f64> = cycle.iter().filter(|(i, _)| *i == l.insurer_id).map(|(_, d)| *d).collect();
            l.mean_cycle_days = mean(&days);
            l.payout_ratio = ratio(l.closed_paid_fen, l.claimed_fen);
            l.loss_ratio = loss_ratio(Money::from_fen(l.incurred_fen), Money::from_fen(l.earned_fen));
            total.earned_fen += l.earned_fen;
            total.incurred_fen += l.incurred_fen;
            total.policies_in_force += l.policies_in_force;
            total.policies_cancelled += l.policies_cancelled;
            total.written_fen += l.written_fen;
            total.received_fen += l.received_fen;
            total.claims_open += l.claims_open;
            total.claims_closed += l.claims_closed;
            total.claimed_fen += l.claimed_fen;
            total.closed_paid_fen += l.closed_paid_fen;
            total.paid_fen += l.paid_fen;
            total.disputes_open += l.disputes_open;
            total.disputes_settled += l.disputes_settled;
            total.disputes_escalated += l.disputes_escalated;
            lines.push(l);
        }
        let all_days: Vec<f64> = cycle.iter().map(|(_, d)| *d).collect();
        total.mean_cycle_days = mean(&all_days);
        total.payout_ratio = ratio(total.closed_paid_fen, total.claimed_fen);
        total.loss_ratio = loss_ratio(Money::from_fen(total.incurred_fen), Money::from_fen(total.earned_fen));
        lines.sort_by(|a, b| {
            b.written_fen.cmp(&a.written_fen).then_with(|| a.insurer_name.cmp(&b.insurer_name))
        });
        Ok(InsuranceOverview { lines, total })
    }
}
