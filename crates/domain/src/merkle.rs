//! The event log as an RFC 9162 Merkle tree: tree heads, inclusion and consistency proofs,
//! and their verification, and signed tree heads (ed25519).
//!
//! Leaf `i` of the tree is the RFC 9162 leaf hash of event `i + 1`'s canonical bytes
//! ([`crate::event::leaf_bytes`], [`crate::event::leaf_hash`]); the hash chain of
//! `event.rs` and this tree cover the same leaves. Algorithms: RFC 9162 §2.1.1 (MTH),
//! §2.1.3 (inclusion: PATH and its verification), §2.1.4 (consistency: PROOF and its
//! verification). Tested against transparency-dev/merkle's test vectors.

use crate::event::Hash32;
use sha2::{Digest, Sha256};

/// SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &Hash32, right: &Hash32) -> Hash32 {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left.0);
    h.update(right.0);
    Hash32(h.finalize().into())
}

/// The root of the empty tree: SHA-256 of nothing.
pub fn empty_root() -> Hash32 {
    Hash32(Sha256::digest([]).into())
}

/// The largest power of two smaller than `n` (`n` ≥ 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// MTH(D[n]) over leaf hashes.
pub fn root(leaves: &[Hash32]) -> Hash32 {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves.first().copied().unwrap_or_else(empty_root),
        n => {
            let k = split(n);
            let (l, r) = leaves.split_at(k);
            node_hash(&root(l), &root(r))
        }
    }
}

/// Why a proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf index {index} is not below the tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("the proof has the wrong number of hashes")]
    WrongLength,
    #[error("the proof does not lead to the root hash")]
    RootMismatch,
    #[error("the first tree ({first}) is larger than the second ({second})")]
    SizesOutOfOrder { first: u64, second: u64 },
    #[error("a consistency proof between different trees cannot be empty")]
    EmptyProof,
    #[error("a hash is not 32 bytes")]
    BadHash,
}

/// PATH(m, D[n]): the audit path of leaf `m` (RFC 9162 §2.1.3.1).
pub fn inclusion_path(leaves: &[Hash32], m: usize) -> Result<Vec<Hash32>, ProofError> {
    if m >= leaves.len() {
        return Err(ProofError::IndexOutOfRange { index: m as u64, size: leaves.len() as u64 });
    }
    let mut out = Vec::new();
    path_into(leaves, m, &mut out);
    Ok(out)
}

fn path_into(leaves: &[Hash32], m: usize, out: &mut Vec<Hash32>) {
    let n = leaves.len();
    if n <= 1 {
        return;
    }
    let k = split(n);
    let (l, r) = leaves.split_at(k);
    if m < k {
        path_into(l, m, out);
        out.push(root(r));
    } else {
        path_into(r, m - k, out);
        out.push(root(l));
    }
}

/// PROOF(m, D[n]): the consistency proof from the tree of the first `m` leaves to the
/// tree of all of them (RFC 9162 §2.1.4.1).
pub fn consistency_proof(leaves: &[Hash32], m: usize) -> Result<Vec<Hash32>, ProofError> {
    let n = leaves.len();
    if m > n {
        return Err(ProofError::SizesOutOfOrder { first: m as u64, second: n as u64 });
    }
    let mut out = Vec::new();
    if m > 0 && m < n {
        subproof(leaves, m, true, &mut out);
    }
    Ok(out)
}

fn subproof(leaves: &[Hash32], m: usize, whole: bool, out: &mut Vec<Hash32>) {
    let n = leaves.len();
    if m == n {
        if !whole {
            out.push(root(leaves));
        }
        return;
    }
    let k = split(n);
    let (l, r) = leaves.split_at(k);
    if m <= k {
        subproof(l, m, whole, out);
        out.push(root(r));
    } else {
        subproof(r, m - k, false, out);
        out.push(root(l));
    }
}

/// Verifies an inclusion proof (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash32,
    path: &[Hash32],
    root_hash: &Hash32,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if r != *root_hash {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Verifies a consistency proof between two tree heads (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &Hash32,
    second_root: &Hash32,
    proof: &[Hash32],
) -> Result<(), ProofError> {
    if first > second {
        return Err(ProofError::SizesOutOfOrder { first, second });
    }
    if first == second {
        return if !proof.is_empty() {
            Err(ProofError::WrongLength)
        } else if first_root == second_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    if first == 0 {
        return if proof.is_empty() { Ok(()) } else { Err(ProofError::WrongLength) };
    }
    if proof.is_empty() {
        return Err(ProofError::EmptyProof);
    }
    let mut path: Vec<Hash32> = Vec::with_capacity(proof.len() + 1);
    if first.is_power_of_two() {
        path.push(*first_root);
    }
    path.extend_from_slice(proof);
    let (mut fn_, mut sn) = (first - 1, second - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let start = *path.first().ok_or(ProofError::EmptyProof)?;
    let (mut fr, mut sr) = (start, start);
    for c in path.iter().skip(1) {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr != *first_root || sr != *second_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// A tree head: the size and root of the log at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeHead {
    pub tree_size: u64,
    pub root_hash: Hash32,
    pub timestamp_us: i64,
}

impl TreeHead {
    /// The bytes signed: `kebao-tree-head/1\n`, then the size and the timestamp as 8-byte
    /// big-endian integers, then the 32-byte root.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let mut out = b"kebao-tree-head/1\n".to_vec();
        out.extend_from_slice(&self.tree_size.to_be_bytes());
        out.extend_from_slice(&self.timestamp_us.to_be_bytes());
        out.extend_from_slice(&self.root_hash.0);
        out
    }

    /// Signs the head with the platform's key.
    pub fn sign(&self, key: &ed25519_dalek::SigningKey) -> [u8; 64] {
        use ed25519_dalek::Signer;
        key.sign(&self.signed_bytes()).to_bytes()
    }

    /// Checks a signature on the head.
    pub fn verify(&self, public_key: &[u8; 32], signature: &[u8; 64]) -> bool {
        use ed25519_dalek::Verifier;
        let Ok(vk) = ed25519_dalek::VerifyingKey::from_bytes(public_key) else { return false };
        vk.verify(&self.signed_bytes(), &ed25519_dalek::Signature::from_bytes(signature)).is_ok()
    }
}

/// A signed tree head as published (JSON, hex hashes).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PublishedHead {
    pub tree_size: u64,
    pub root_hash: String,
    pub timestamp_us: i64,
    /// ed25519 signature of [`TreeHead::signed_bytes`], hex.
    pub signature: String,
    /// The platform's ed25519 public key, hex.
    pub public_key: String,
}

/// An event as a proof carries it, so that its leaf hash can be recomputed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProvenEvent {
    pub seq: u64,
    pub at_us: i64,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub payload: String,
    /// The ledger transfers the event recorded (version 0x02 leaves); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger: Option<String>,
}

/// An inclusion proof (`kebao.inclusion/1`): the event, its RFC 9162 §2.1 audit path and
/// the signed tree head it leads to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InclusionProof {
    pub format: String,
    /// 0-based: event `seq` is leaf `seq - 1`.
    pub leaf_index: u64,
    pub event: ProvenEvent,
    pub leaf_hash: String,
    pub inclusion_path: Vec<String>,
    pub tree_head: PublishedHead,
}

/// A consistency proof (`kebao.consistency/1`) between two tree sizes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConsistencyProof {
    pub format: String,
    pub first: u64,
    pub second: u64,
    pub proof: Vec<String>,
}

/// The format names.
pub const INCLUSION_FORMAT: &str = "kebao.inclusion/1";
pub const CONSISTENCY_FORMAT: &str = "kebao.consistency/1";

fn hex32(s: &str, what: &str) -> Result<Hash32, String> {
    Hash32::from_hex(s).ok_or_else(|| format!("{what} is not 64 hex digits"))
}

impl PublishedHead {
    /// From a signed head.
    pub fn new(head: &TreeHead, signature: &[u8; 64], public_key: &[u8; 32]) -> PublishedHead {
        PublishedHead {
            tree_size: head.tree_size,
            root_hash: head.root_hash.to_hex(),
            timestamp_us: head.timestamp_us,
            signature: hex::encode(signature),
            public_key: hex::encode(public_key),
        }
    }

    /// Checks the signature (and, when given, that the key is the pinned one); returns the head.
    pub fn verify(&self, pinned_key: Option<&[u8; 32]>) -> Result<TreeHead, String> {
        let head = TreeHead {
            tree_size: self.tree_size,
            root_hash: hex32(&self.root_hash, "root_hash")?,
            timestamp_us: self.timestamp_us,
        };
        let mut key = [0u8; 32];
        hex::decode_to_slice(self.public_key.trim(), &mut key)
            .map_err(|_| "public_key is not 64 hex digits")?;
        if let Some(pinned) = pinned_key {
            if pinned != &key {
                return Err("the tree head is signed by another key than the platform's published key".into());
            }
        }
        let mut sig = [0u8; 64];
        hex::decode_to_slice(self.signature.trim(), &mut sig)
            .map_err(|_| "signature is not 128 hex digits")?;
        if !head.verify(&key, &sig) {
            return Err("the tree head's signature does not verify".into());
        }
        Ok(head)
    }
}

impl InclusionProof {
    /// Verifies the proof: the event's leaf hash, the audit path up to the signed root, the
    /// signature, and — when given — that the signed head is the published one.
    pub fn verify(
        &self,
        published: Option<&PublishedHead>,
        pinned_key: Option<&[u8; 32]>,
    ) -> Result<TreeHead, String> {
        if self.format != INCLUSION_FORMAT {
            return Err(format!("unknown proof format `{}`", self.format));
        }
        let head = self.tree_head.verify(pinned_key)?;
        if let Some(p) = published {
            let ph = p.verify(pinned_key)?;
            if ph.tree_size != head.tree_size || ph.root_hash != head.root_hash {
                return Err(format!(
                    "the proof is for tree size {} but the published head is for size {}: ask for a proof against the published head, or check consistency between the two",
                    head.tree_size, ph.tree_size
                ));
            }
        }
        let e = &self.event;
        if e.seq == 0 || e.seq - 1 != self.leaf_index {
            return Err("the leaf index does not match the event's sequence number".into());
        }
        let leaf = crate::event::leaf_hash(&crate::event::event_leaf_bytes(
            e.seq,
            e.at_us,
            &e.actor,
            &e.action,
            &e.subject,
            &e.payload,
            e.ledger.as_deref(),
        ));
        if leaf.to_hex() != self.leaf_hash.trim() {
            return Err("the event's contents do not match its leaf hash (the event was altered)".into());
        }
        let path = self
            .inclusion_path
            .iter()
            .map(|h| hex32(h, "an audit path hash"))
            .collect::<Result<Vec<_>, _>>()?;
        verify_inclusion(self.leaf_index, head.tree_size, &leaf, &path, &head.root_hash)
            .map_err(|e| e.to_string())?;
        Ok(head)
    }
}

impl ConsistencyProof {
    /// Verifies the proof between two published heads.
    pub fn verify(
        &self,
        old: &PublishedHead,
        new: &PublishedHead,
        pinned_key: Option<&[u8; 32]>,
    ) -> Result<(), String> {
        if self.format != CONSISTENCY_FORMAT {
            return Err(format!("unknown proof format `{}`", self.format));
        }
        let a = old.verify(pinned_key)?;
        let b = new.verify(pinned_key)?;
        if a.tree_size != self.first || b.tree_size != self.second {
            return Err("the proof's sizes are not those of the two tree heads".into());
        }
        let proof = self.proof.iter().map(|h| hex32(h, "a proof hash")).collect::<Result<Vec<_>, _>>()?;
        verify_consistency(a.tree_size, b.tree_size, &a.root_hash, &b.root_hash, &proof)
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    const VECTORS: &str = include_str!("../../../data/reference/merkle/transparency-dev-vectors.json");

    fn b64(s: &str) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD.decode(s).unwrap_or_default()
    }

    fn h(bytes: Vec<u8>) -> Option<Hash32> {
        <[u8; 32]>::try_from(bytes).ok().map(Hash32)
    }

    fn hashes(v: &serde_json::Value) -> Option<Vec<Hash32>> {
        match v.as_array() {
            None => Some(Vec::new()),
            Some(a) => a.iter().map(|x| h(b64(x.as_str().unwrap_or_default()))).collect(),
        }
    }

    fn leaves() -> Vec<Hash32> {
        let v: serde_json::Value = serde_json::from_str(VECTORS).unwrap_or_default();
        v["leaves_hex"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| {
                        crate::event::leaf_hash(
                            &hex::decode(x.as_str().unwrap_or_default()).unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn inclusion_vectors_verify_and_regenerate() {
        let v: serde_json::Value = serde_json::from_str(VECTORS).unwrap_or_default();
        let cases = v["inclusion"].as_array().cloned().unwrap_or_default();
        assert_eq!(cases.len(), 11);
        let all = leaves();
        for c in cases {
            let want_err = c["wantErr"].as_bool().unwrap_or(false);
            let idx = c["leafIdx"].as_u64().unwrap_or(0);
            let size = c["treeSize"].as_u64().unwrap_or(0);
            let got = (|| {
                let leaf = h(b64(c["leafHash"].as_str()?))?;
                let root_hash = h(b64(c["root"].as_str()?))?;
                let path = hashes(&c["proof"])?;
                Some(verify_inclusion(idx, size, &leaf, &path, &root_hash).is_ok())
            })()
            .unwrap_or(false);
            assert_eq!(got, !want_err, "{}", c["desc"]);
            if !want_err {
                // Our own generator produces the same path and root from the leaves.
                let n = usize::try_from(size).unwrap_or(0);
                let sub = all.get(..n).unwrap_or_default();
                let path = inclusion_path(sub, usize::try_from(idx).unwrap_or(0)).unwrap_or_default();
                assert_eq!(Some(path), hashes(&c["proof"]), "{}", c["desc"]);
                assert_eq!(Some(root(sub)), h(b64(c["root"].as_str().unwrap_or_default())), "{}", c["desc"]);
            }
        }
    }

    #[test]
    fn consistency_vectors_verify_and_regenerate() {
        let v: serde_json::Value = serde_json::from_str(VECTORS).unwrap_or_default();
        let cases = v["consistency"].as_array().cloned().unwrap_or_default();
        assert_eq!(cases.len(), 11);
        let all = leaves();
        for c in cases {
            let want_err = c["wantErr"].as_bool().unwrap_or(false);
            let (s1, s2) = (c["size1"].as_u64().unwrap_or(0), c["size2"].as_u64().unwrap_or(0));
            let got = (|| {
                let r1 = h(b64(c["root1"].as_str()?))?;
                let r2 = h(b64(c["root2"].as_str()?))?;
                let proof = hashes(&c["proof"])?;
                Some(verify_consistency(s1, s2, &r1, &r2, &proof).is_ok())
            })()
            .unwrap_or(false);
            assert_eq!(got, !want_err, "{}", c["desc"]);
            if !want_err {
                let sub = all.get(..usize::try_from(s2).unwrap_or(0)).unwrap_or_default();
                let proof = consistency_proof(sub, usize::try_from(s1).unwrap_or(0)).unwrap_or_default();
                assert_eq!(Some(proof), hashes(&c["proof"]), "{}", c["desc"]);
            }
        }
    }

    #[test]
    fn every_proof_of_a_random_tree_verifies() {
        let leaves: Vec<Hash32> = (0u32..70).map(|i| crate::event::leaf_hash(&i.to_be_bytes())).collect();
        for n in 1..=leaves.len() {
            let sub = &leaves[..n];
            let r = root(sub);
            for m in 0..n {
                let p = inclusion_path(sub, m).unwrap_or_default();
                assert_eq!(verify_inclusion(m as u64, n as u64, &sub[m], &p, &r), Ok(()), "{m} of {n}");
                // A wrong index or leaf fails.
                assert!(
                    verify_inclusion(m as u64, n as u64, &leaves[(m + 1) % 70], &p, &r).is_err() || n == 1
                );
            }
            for m in 0..=n {
                let p = consistency_proof(sub, m).unwrap_or_default();
                let r1 = root(&sub[..m]);
                assert_eq!(verify_consistency(m as u64, n as u64, &r1, &r, &p), Ok(()), "{m} → {n}");
            }
        }
    }

    #[test]
    fn tree_heads_are_signed_and_checked() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let head = TreeHead { tree_size: 8, root_hash: Hash32([9; 32]), timestamp_us: 1 };
        let sig = head.sign(&key);
        let public = key.verifying_key().to_bytes();
        assert!(head.verify(&public, &sig));
        let other = TreeHead { tree_size: 9, ..head };
        assert!(!other.verify(&public, &sig));
        assert!(!head.verify(&[0u8; 32], &sig));
    }
}
