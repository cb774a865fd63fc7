//! The audit trail: the head of the event log and a full verification of its chain.

use crate::authz::{Action, Actor, Basis, Resource};
use crate::{Result, Service};
use kebao_domain::event::{ChainBreak, EventRecord, Head, Verifier};
use kebao_store::events;

/// The result of a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Every link holds; the head.
    Sound(Head),
    /// The first broken link.
    Broken(ChainBreak),
}

impl Service {
    /// How many events the log holds: whether the database answers, for the health check
    /// and the metrics page (a count, nothing of the events' content).
    pub async fn log_size(&self) -> Result<u64> {
        let mut tx = self.store.begin_read().await?;
        Ok(events::head(tx.conn()).await?.count)
    }

    /// The current head of the log.
    pub async fn audit_head(&self, actor: &Actor) -> Result<Head> {
        self.require(actor, Action::ReadAudit, &Resource::Zone, &Basis::None)?;
        let mut tx = self.store.begin_read().await?;
        Ok(events::head(tx.conn()).await?)
    }

    /// Walks the whole log from the first event, checking every hash and link, and the
    /// head row; with `expect`, also checks against a head recorded earlier. `progress`
    /// is called with the count checked so far.
    pub async fn audit_verify(
        &self,
        actor: &Actor,
        expect: Option<Head>,
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<Verification> {
        self.require(actor, Action::ReadAudit, &Resource::Zone, &Basis::None)?;
        let mut tx = self.store.begin_read().await?;
        let recorded = events::head(tx.conn()).await?;
        let mut v = Verifier::new(expect);
        let mut after = 0u64;
        loop {
            let page = events::page(tx.conn(), after, 5_000).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for e in &page {
                if let Err(b) = v.push(e) {
                    return Ok(Verification::Broken(b));
                }
            }
            progress(after, recorded.count);
        }
        match v.finish() {
            Err(b) => Ok(Verification::Broken(b)),
            Ok(head) if recorded.count > head.count => Ok(Verification::Broken(ChainBreak::Truncated {
                expected: recorded.count,
                found: head.count,
            })),
            Ok(head) if recorded.count == head.count && recorded.hash != head.hash => {
                Ok(Verification::Broken(ChainBreak::HeadMismatch { seq: head.count }))
            }
            Ok(head) => Ok(Verification::Sound(head)),
        }
    }

    /// The newest events about one subject (for an organisation's history).
    pub async fn history(&self, actor: &Actor, subject: &str, limit: u32) -> Result<Vec<EventRecord>> {
        self.require(actor, Action::ReadAudit, &Resource::Zone, &Basis::None)?;
        let mut tx = self.store.begin_read().await?;
        Ok(events::for_subject(tx.conn(), subject, limit).await?)
    }
}

impl Service {
    /// The newest events of the whole log (for auditors).
    pub async fn recent_events(&self, actor: &Actor, limit: u32) -> Result<Vec<EventRecord>> {
        self.require(actor, Action::ReadAudit, &Resource::Zone, &Basis::None)?;
        let mut tx = self.store.begin_read().await?;
        Ok(events::latest(tx.conn(), limit).await?)
    }
}
