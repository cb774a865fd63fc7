//! The verifiable query log (C13): the event log as an RFC 9162 Merkle tree, signed tree
//! heads (the platform's ed25519 key), inclusion proofs for enterprises and consistency
//! proofs for anyone.

use crate::authz::{Action, Actor, Resource};
use crate::{Result, Service, ServiceError};
use kebao_domain::event::Hash32;
use kebao_domain::merkle::{
    self, ConsistencyProof, InclusionProof, ProvenEvent, PublishedHead, TreeHead, CONSISTENCY_FORMAT,
    INCLUSION_FORMAT,
};
use kebao_domain::FieldError;
use kebao_store::consents::{self as store, SignedHead};
use kebao_store::events;

/// Events read per page when the tree catches up with the log.
const PAGE: u32 = 5_000;

/// A copy of the signed tree heads kept outside the database (the binary appends them to
/// a file beside the signing key), so that a rewrite of the log that also deletes or
/// rewrites the `tree_heads` rows is still seen by [`Service::verify_recorded_heads`].
pub trait HeadJournal: Send + Sync + std::fmt::Debug {
    /// Keeps one newly signed head; called after the head is committed.
    fn record(&self, head: &PublishedHead) -> std::result::Result<(), String>;

    /// Every head kept so far (for the audit verification); none by default.
    fn kept(&self) -> std::result::Result<Vec<PublishedHead>, String> {
        Ok(Vec::new())
    }
}

impl Service {
    /// The platform's public key, if a signing key is configured.
    pub fn public_key(&self) -> Option<[u8; 32]> {
        self.signer.as_ref().map(|k| k.verifying_key().to_bytes())
    }

    /// The same service, keeping every head it signs in `journal` as well.
    pub fn with_head_journal(mut self, journal: std::sync::Arc<dyn HeadJournal>) -> Service {
        self.head_journal = Some(journal);
        self
    }

    /// Brings the cached leaf hashes up to the log's end; returns their count.
    async fn leaves(&self) -> Result<tokio::sync::MutexGuard<'_, Vec<Hash32>>> {
        let mut leaves = self.leaves.lock().await;
        loop {
            let mut tx = self.store.begin_read().await?;
            let more = store::leaf_hashes(tx.conn(), leaves.len() as u64, PAGE).await?;
            if more.is_empty() {
                break;
            }
            leaves.extend(more);
        }
        Ok(leaves)
    }

    /// Signs and publishes a tree head for the log as it is now, unless the newest one
    /// already covers it. Needs the signing key.
    pub async fn sign_tree_head(&self) -> Result<PublishedHead> {
        let key = self.signer.clone().ok_or_else(|| {
            ServiceError::Internal(
                "no signing key is configured (start the server with --signing-key)".into(),
            )
        })?;
        let leaves = self.leaves().await?;
        let size = leaves.len() as u64;
        let mut tx = self.store.begin_write().await?;
        if let Some(h) = store::head_of_size(tx.conn(), size).await? {
            return Ok(PublishedHead::new(&h.head, &h.signature, &h.public_key));
        }
        let head =
            TreeHead { tree_size: size, root_hash: merkle::root(&leaves), timestamp_us: self.now_us() };
        drop(leaves);
        let signed =
            SignedHead { head, signature: head.sign(&key), public_key: key.verifying_key().to_bytes() };
        store::insert_head(tx.conn(), &signed).await?;
        tx.commit_unlogged(kebao_store::Unlogged::TreeHeadSigning).await?;
        let published = PublishedHead::new(&signed.head, &signed.signature, &signed.public_key);
        if let Some(j) = &self.head_journal {
            j.record(&published).map_err(|e| {
                ServiceError::Internal(format!(
                    "tree head {size} was signed but not kept outside the database: {e}"
                ))
            })?;
        }
        Ok(published)
    }

    /// The published tree heads, newest first.
    pub async fn tree_heads(&self, limit: u32) -> Result<Vec<PublishedHead>> {
        let mut tx = self.store.begin_read().await?;
        Ok(store::heads(tx.conn(), limit.clamp(1, 1000))
            .await?
            .iter()
            .map(|h| PublishedHead::new(&h.head, &h.signature, &h.public_key))
            .collect())
    }

    /// An inclusion proof for event `seq` against the newest signed tree head (signing a new
    /// one if the newest does not cover the event yet). For the enterprise the event is
    /// about, the actor who caused it, and the zone's auditors.
    pub async fn inclusion_proof(&self, actor: &Actor, seq: u64) -> Result<InclusionProof> {
        let mut tx = self.store.begin_read().await?;
        let page = events::page(tx.conn(), seq.saturating_sub(1), 1).await?;
        drop(tx);
        let e = page.into_iter().next().filter(|e| e.seq == seq).ok_or(ServiceError::NotFound)?;
        let mine = actor.org_id().is_some_and(|o| o == e.subject)
            || e.actor == actor.log_name()
            || matches!(actor, Actor::System { .. })
            || self.supervises(actor)
            || self.allows(actor, Action::ReadAudit, &Resource::Zone);
        if !mine {
            return Err(ServiceError::NotFound);
        }
        let mut tx = self.store.begin_read().await?;
        let newest = store::heads(tx.conn(), 1).await?.into_iter().next();
        drop(tx);
        let head = match newest {
            Some(h) if h.head.tree_size >= seq => PublishedHead::new(&h.head, &h.signature, &h.public_key),
            _ => self.sign_tree_head().await?,
        };
        let leaves = self.leaves().await?;
        let n = usize::try_from(head.tree_size).map_err(|_| ServiceError::Internal("tree size".into()))?;
        let sub = leaves
            .get(..n)
            .ok_or_else(|| ServiceError::Internal("the log is shorter than a signed head".into()))?;
        let index = usize::try_from(seq - 1).map_err(|_| ServiceError::Internal("index".into()))?;
        let path = merkle::inclusion_path(sub, index).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let leaf = sub.get(index).copied().ok_or(ServiceError::NotFound)?;
        Ok(InclusionProof {
            format: INCLUSION_FORMAT.to_owned(),
            leaf_index: seq - 1,
            event: ProvenEvent {
                seq: e.seq,
                at_us: e.at_us,
                actor: e.actor,
                action: e.action,
                subject: e.subject,
                payload: e.payload,
                ledger: e.ledger,
            },
            leaf_hash: leaf.to_hex(),
            inclusion_path: path.iter().map(Hash32::to_hex).collect(),
            tree_head: head,
        })
    }

    /// A consistency proof between two tree sizes (public).
    pub async fn consistency_proof(&self, first: u64, second: u64) -> Result<ConsistencyProof> {
        let leaves = self.leaves().await?;
        let size = leaves.len() as u64;
        if first > second || second > size {
            return Err(FieldError::new(
                "second",
                "range",
                format!("须满足 0 ≤ first ≤ second ≤ {size}"),
                format!("the sizes must satisfy 0 ≤ first ≤ second ≤ {size}"),
            )
            .into());
        }
        let sub = leaves.get(..usize::try_from(second).unwrap_or(usize::MAX)).unwrap_or_default();
        let proof = merkle::consistency_proof(sub, usize::try_from(first).unwrap_or(0))
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        Ok(ConsistencyProof {
            format: CONSISTENCY_FORMAT.to_owned(),
            first,
            second,
            proof: proof.iter().map(Hash32::to_hex).collect(),
        })
    }

    /// Checks every published tree head against the log as stored now (read afresh, not
    /// from the cache): the first head whose root no longer matches means the log was
    /// rewritten after that head was signed.
    pub async fn verify_tree_heads(&self) -> Result<std::result::Result<usize, String>> {
        let mut tx = self.store.begin_read().await?;
        let heads = store::heads(tx.conn(), 1000).await?;
        let mut leaves: Vec<Hash32> = Vec::new();
        loop {
            let more = store::leaf_hashes(tx.conn(), leaves.len() as u64, PAGE).await?;
            if more.is_empty() {
                break;
            }
            leaves.extend(more);
        }
        for h in heads.iter() {
            if !h.head.verify(&h.public_key, &h.signature) {
                return Ok(Err(format!("the signature of tree head {} does not verify", h.head.tree_size)));
            }
            let n = usize::try_from(h.head.tree_size).unwrap_or(usize::MAX);
            let Some(sub) = leaves.get(..n) else {
                return Ok(Err(format!("the log is shorter than signed tree head {}", h.head.tree_size)));
            };
            if merkle::root(sub) != h.head.root_hash {
                return Ok(Err(format!(
                    "the log no longer matches signed tree head {} (root {}): an event at or before #{} was altered",
                    h.head.tree_size, h.head.root_hash, h.head.tree_size
                )));
            }
        }
        Ok(Ok(heads.len()))
    }

    /// Checks heads kept outside the database (oldest first) against the database and the
    /// log: each must still be in `tree_heads`, unchanged, and match the log's leaves. A
    /// head seen before that is gone means the log was rewritten and its heads deleted.
    pub async fn verify_recorded_heads(
        &self,
        recorded: &[PublishedHead],
    ) -> Result<std::result::Result<usize, String>> {
        let mut tx = self.store.begin_snapshot().await?;
        let mut leaves: Vec<Hash32> = Vec::new();
        loop {
            let more = store::leaf_hashes(tx.conn(), leaves.len() as u64, PAGE).await?;
            if more.is_empty() {
                break;
            }
            leaves.extend(more);
        }
        for p in recorded {
            let head = match p.verify(None) {
                Ok(h) => h,
                Err(e) => {
                    return Ok(Err(format!("a tree head kept outside the database does not verify: {e}")))
                }
            };
            let size = head.tree_size;
            match store::head_of_size(tx.conn(), size).await? {
                None => {
                    return Ok(Err(format!(
                        "signed tree head {size} (root {}), kept outside the database, is missing from the database: the log or its heads were rewritten",
                        head.root_hash
                    )))
                }
                Some(h) if h.head != head => {
                    return Ok(Err(format!(
                        "signed tree head {size} in the database differs from the one kept outside it (root {} there, {} here)",
                        h.head.root_hash, head.root_hash
                    )))
                }
                Some(_) => {}
            }
            let n = usize::try_from(size).unwrap_or(usize::MAX);
            let Some(sub) = leaves.get(..n) else {
                return Ok(Err(format!(
                    "the log is shorter than signed tree head {size}, kept outside the database"
                )));
            };
            if merkle::root(sub) != head.root_hash {
                return Ok(Err(format!(
                    "the log no longer matches signed tree head {size} (root {}), kept outside the database: an event at or before #{size} was altered",
                    head.root_hash
                )));
            }
        }
        Ok(Ok(recorded.len()))
    }
}
