//! CLI: consents and credit reports, external credit data, and the verifiable log
//! (signed tree heads, inclusion and consistency proofs).

use anyhow::{bail, Context, Result};
use kebao_domain::consent::Purpose;
use kebao_domain::merkle::{ConsistencyProof, InclusionProof, PublishedHead};
use kebao_service::Service;
use std::path::{Path, PathBuf};

/// Loads the platform's signing key from `path` (64 hex digits), creating it with fresh
/// randomness (file mode 0600) when `create` and the file is missing.
pub fn signing_key(path: &Path, create: bool) -> Result<Option<ed25519_dalek::SigningKey>> {
    if !path.exists() {
        if !create {
            return Ok(None);
        }
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness for a key: {e}"))?;
        // Written whole to a private temporary file, then linked into place: the link fails
        // if another process created the key first (then that key is read below), and a
        // reader never sees a half-written key.
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).with_context(|| format!("creating the signing key {}", tmp.display()))?;
        std::io::Write::write_all(&mut f, hex::encode(seed).as_bytes())?;
        f.sync_all()?;
        drop(f);
        let linked = std::fs::hard_link(&tmp, path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                eprintln!(
                    "created the platform's signing key {} (keep it secret; publish its public key)",
                    path.display()
                );
                return Ok(Some(ed25519_dalek::SigningKey::from_bytes(&seed)));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).with_context(|| format!("creating the signing key {}", path.display())),
        }
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut seed = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut seed)
        .with_context(|| format!("{}: a signing key is 64 hex digits", path.display()))?;
    Ok(Some(ed25519_dalek::SigningKey::from_bytes(&seed)))
}

/// Where the signed tree heads are kept beside the key: `<signing-key>.heads`.
pub fn head_journal_path(key: &Path) -> PathBuf {
    let mut p = key.as_os_str().to_owned();
    p.push(".heads");
    PathBuf::from(p)
}

/// The append-only file of signed tree heads beside the signing key: one JSON line per head,
/// appended (and synced) when the head is signed. `kebao audit verify` reads it back.
#[derive(Debug)]
pub struct FileJournal {
    pub path: PathBuf,
}

impl kebao_service::transparency::HeadJournal for FileJournal {
    fn record(&self, head: &PublishedHead) -> std::result::Result<(), String> {
        use std::io::Write;
        let mut line = serde_json::to_string(head).map_err(|e| e.to_string())?;
        line.push('\n');
        let mut opts = std::fs::OpenOptions::new();
        opts.append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        // One write of one line with O_APPEND: a server and a CLI appending at once do not
        // interleave their lines.
        let mut f = opts.open(&self.path).map_err(|e| format!("{}: {e}", self.path.display()))?;
        f.write_all(line.as_bytes()).map_err(|e| format!("{}: {e}", self.path.display()))?;
        f.sync_all().map_err(|e| format!("{}: {e}", self.path.display()))
    }

    fn kept(&self) -> std::result::Result<Vec<PublishedHead>, String> {
        read_head_journal(&self.path).map_err(|e| format!("{e:#}"))
    }
}

/// The heads kept in the journal, oldest first (none if there is no journal yet).
pub fn read_head_journal(path: &Path) -> Result<Vec<PublishedHead>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .with_context(|| format!("{} line {}: not a signed tree head", path.display(), i + 1))
        })
        .collect()
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a {what}", path.display()))
}

fn pinned(key: Option<&str>) -> Result<Option<[u8; 32]>> {
    match key {
        None => Ok(None),
        Some(k) => {
            let mut out = [0u8; 32];
            hex::decode_to_slice(k.trim(), &mut out).context("--public-key is 64 hex digits")?;
            Ok(Some(out))
        }
    }
}

/// `kebao audit verify-proof`: checks an inclusion proof, offline.
pub fn verify_proof(proof: &Path, tree_head: Option<&PathBuf>, public_key: Option<&str>) -> Result<()> {
    let p: InclusionProof = read_json(proof, "Kebao inclusion proof")?;
    let published: Option<PublishedHead> = match tree_head {
        Some(t) => Some(read_json(t, "published tree head")?),
        None => None,
    };
    let key = pinned(public_key)?;
    if published.is_none() && key.is_none() {
        // The head a proof carries is signed by whichever key the proof also carries: on
        // its own it proves nothing.
        bail!(
            "give --tree-head (a head the platform published) or --public-key (the platform's key): a proof checked only against the head it carries proves nothing"
        );
    }
    match p.verify(published.as_ref(), key.as_ref()) {
        Ok(h) => {
            outln!(
                "ok: event #{} ({}, {}) is in the log at tree size {} (root {})",
                p.event.seq,
                p.event.action,
                p.event.subject,
                h.tree_size,
                h.root_hash
            );
            Ok(())
        }
        Err(e) => bail!("the proof does not verify: {e}"),
    }
}

/// `kebao audit verify-consistency`: checks that a newer head extends an older one.
pub fn verify_consistency(old: &Path, new: &Path, proof: &Path, public_key: Option<&str>) -> Result<()> {
    let a: PublishedHead = read_json(old, "published tree head")?;
    let b: PublishedHead = read_json(new, "published tree head")?;
    let p: ConsistencyProof = read_json(proof, "Kebao consistency proof")?;
    match p.verify(&a, &b, pinned(public_key)?.as_ref()) {
        Ok(()) => {
            outln!(
                "ok: the log at size {} extends the log at size {} without changing it",
                b.tree_size,
                a.tree_size
            );
            Ok(())
        }
        Err(e) => bail!("the logs are not consistent: {e}"),
    }
}

/// `kebao credit report`.
pub async fn report(
    svc: &Service,
    actor: &kebao_service::authz::Actor,
    org: &str,
    purpose: &str,
) -> Result<()> {
    let purpose = Purpose::from_code(purpose).with_context(|| {
        format!(
            "purpose `{purpose}` is not on the list: {}",
            Purpose::ALL.iter().map(|p| p.code()).collect::<Vec<_>>().join(", ")
        )
    })?;
    let op = kebao_service::authz::Actor::System { name: "cli".into() };
    let id = svc
        .org_id_by_uscc(&op, org)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .with_context(|| format!("no organisation has the code `{org}`"))?;
    let r = svc.credit_report(actor, &id, purpose).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    outln!("{} {} — purpose {} (event #{})", r.org.name, r.org.uscc, r.purpose.code(), r.event_seq);
    for s in &r.sections {
        if s.check.allowed {
            outln!("[{} / {}] basis {}", s.scope.code(), s.class.code(), s.check.basis);
            for (_, zh, _, v) in &s.fields {
                let lines: Vec<&str> = v.iter().map(|l| l.zh.as_str()).collect();
                outln!("  {zh}: {}", if lines.is_empty() { "—".to_owned() } else { lines.join("; ") });
            }
        } else {
            outln!("[{} / {}] withheld: {}", s.scope.code(), s.class.code(), s.check.reason_en);
        }
    }
    Ok(())
}
