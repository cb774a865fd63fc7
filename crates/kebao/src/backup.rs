//! `kebao backup` and `kebao restore`. SQLite: an online copy (`VACUUM INTO`, one read
//! transaction while the server goes on writing), checked by SQLite's integrity check.
//! PostgreSQL: `pg_dump` in its custom format, checked by `pg_restore --list` finding the event
//! log and the ledger in it. A restore writes only into a new file or an empty database, then
//! brings the schema up to this version and runs the audit verification (the hash chain, the
//! signed tree heads, the ledger against the log) on the restored copy.

use super::*;
use kebao_domain::job::{JobFailure, JobResult};
use kebao_service::jobs::{JobContext, JobFuture, JobHandler, JobStop};
use std::process::Command as Process;
use std::time::Instant;

/// The tables a backup must carry (the log and the money).
const ESSENTIAL: [&str; 3] = ["events", "ledger_accounts", "ledger_transfers"];

fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// Runs a PostgreSQL client tool; its own message on failure.
fn tool(name: &str, args: &[&std::ffi::OsStr]) -> Result<String> {
    let out = Process::new(name)
        .args(args)
        .output()
        .with_context(|| format!("running {name} (install PostgreSQL's client tools)"))?;
    if !out.status.success() {
        bail!("{name} failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Checks a `pg_dump` archive: `pg_restore` reads its table of contents, which lists the data
/// of the event log and the ledger.
fn check_archive(path: &Path) -> Result<()> {
    let list = tool("pg_restore", &["--list".as_ref(), path.as_os_str()])
        .with_context(|| format!("{} is not a pg_dump archive", path.display()))?;
    for t in ESSENTIAL {
        if !list.lines().any(|l| l.contains("TABLE DATA") && l.split_whitespace().any(|w| w == t)) {
            bail!("{}: the archive holds no data of the table `{t}`: not a Kebao backup", path.display());
        }
    }
    Ok(())
}

/// Whether the file starts as every SQLite database does (checked before SQLite is asked to
/// open it, which would otherwise retry until its timeout).
fn is_sqlite_file(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 16];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut magic)).is_ok()
        && &magic == b"SQLite format 3\0"
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Creates the backup's file, empty and readable by its owner only (a backup holds personal
/// and credit data); refuses a path that exists.
fn create_private(path: &Path) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("{} exists: a backup is written to a new file", path.display())
        }
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
    }
}

/// `kebao backup --to FILE`.
pub(crate) async fn backup(url: &str, to: &Path) -> Result<()> {
    let started = Instant::now();
    write_backup(url, to).await?;
    outln!("backup: {} ({} bytes) in {:.1} s", to.display(), size(to), started.elapsed().as_secs_f64());
    Ok(())
}

/// Writes a backup of the database at `url` to the new file `to` and checks it; on failure
/// no file is left behind. For another process's database (the command line): it opens the
/// database itself.
pub(crate) async fn write_backup(url: &str, to: &Path) -> Result<()> {
    if to.exists() {
        bail!("{} exists: a backup is written to a new file", to.display());
    }
    if is_sqlite(url) {
        let Some(path) = kebao_store::sqlite_path(url) else { bail!("`{url}` is not a database file") };
        if !path.is_file() {
            bail!("{} does not exist", path.display());
        }
        if !is_sqlite_file(&path) {
            bail!("{} is not a SQLite database", path.display());
        }
        let store = Store::connect(url, &OpenOptions::default())
            .await
            .with_context(|| format!("opening database `{url}`"))?;
        if store.schema_version().await? == 0 {
            store.close().await;
            bail!("{} holds no Kebao database", path.display());
        }
        let written = copy_sqlite(&store, to).await;
        store.close().await;
        written
    } else {
        dump_postgres(url, to).await
    }
}

/// The server's own backup (a job): through the store it already has. Never through a second
/// handle on the live SQLite file: closing any descriptor of that file in this process would
/// drop the locks SQLite holds on it (POSIX locks are per process), and the server's
/// connections would then fail with I/O errors.
async fn write_own_backup(svc: &Service, url: &str, to: &Path) -> Result<()> {
    if to.exists() {
        bail!("{} exists: a backup is written to a new file", to.display());
    }
    if is_sqlite(url) {
        copy_sqlite(svc.store(), to).await
    } else {
        dump_postgres(url, to).await
    }
}

/// SQLite's online copy into the new private file `to`, then SQLite's check of the copy.
async fn copy_sqlite(store: &Store, to: &Path) -> Result<()> {
    // SQLite writes into an empty file it is given, keeping its permissions.
    create_private(to)?;
    if let Err(e) = store.backup_into(to).await {
        let _ = std::fs::remove_file(to);
        bail!("the backup failed: {e}");
    }
    // The copy opens, passes SQLite's integrity check and has the same schema.
    let copy_url = format!("sqlite://{}", to.display());
    let checked = async {
        let copy = Store::connect(&copy_url, &OpenOptions::default()).await?;
        let checked = copy.integrity_check().await;
        copy.close().await;
        checked
    }
    .await;
    if let Err(e) = checked {
        remove_sqlite(to);
        bail!("the copy {} fails its check: {e}", to.display());
    }
    Ok(())
}

/// `pg_dump`'s custom format into the new private file `to`, checked by `pg_restore --list`.
async fn dump_postgres(url: &str, to: &Path) -> Result<()> {
    create_private(to)?;
    let (url2, to2) = (url.to_owned(), to.to_owned());
    // pg_dump runs as a child process: off the async threads.
    let written = tokio::task::spawn_blocking(move || {
        tool(
            "pg_dump",
            &[
                "--format=custom".as_ref(),
                "--no-owner".as_ref(),
                "--file".as_ref(),
                to2.as_os_str(),
                url2.as_ref(),
            ],
        )
        .and_then(|_| check_archive(&to2))
    })
    .await
    .map_err(|e| anyhow::anyhow!("the backup task failed: {e}"))
    .and_then(|r| r);
    if let Err(e) = written {
        let _ = std::fs::remove_file(to);
        return Err(e);
    }
    Ok(())
}

/// The scheduled (or requested) backup as a background job: a new file named by the time in
/// the server's backup directory, checked, then the oldest of the directory's Kebao backups
/// removed beyond the number to keep.
#[derive(Debug)]
pub(crate) struct BackupJob {
    pub url: String,
    pub dir: PathBuf,
    /// How many backups the directory keeps (the newest).
    pub keep: usize,
}

/// The names of the backups `BackupJob` writes: `kebao-backup-YYYYMMDDTHHMMSSZ.{db,dump}`.
const BACKUP_PREFIX: &str = "kebao-backup-";

impl BackupJob {
    fn extension(&self) -> &'static str {
        if is_sqlite(&self.url) {
            "db"
        } else {
            "dump"
        }
    }

    /// The directory's Kebao backups of this store's kind, oldest first.
    fn existing(&self) -> Result<Vec<PathBuf>> {
        let ext = self.extension();
        let mut found: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .with_context(|| format!("reading {}", self.dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    n.starts_with(BACKUP_PREFIX) && n.ends_with(&format!(".{ext}")) && !n.contains(".part")
                })
            })
            .collect();
        found.sort();
        Ok(found)
    }

    async fn run_inner(
        &self,
        svc: &Service,
        ctx: &mut JobContext,
    ) -> std::result::Result<JobResult, JobStop> {
        let fail = |e: anyhow::Error| {
            JobStop::Failed(JobFailure::new(format!("备份失败：{e:#}"), format!("the backup failed: {e:#}")))
        };
        ctx.progress(0, 3, None).await?;
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("creating {}", self.dir.display()))
            .map_err(fail)?;
        let stamp = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"))
            .map_err(|e| fail(e.into()))?;
        let name = format!("{BACKUP_PREFIX}{stamp}.{}", self.extension());
        let path = self.dir.join(&name);
        write_own_backup(svc, &self.url, &path).await.map_err(fail)?;
        ctx.progress(2, 3, None).await?;
        let mut removed = 0u64;
        let existing = self.existing().map_err(fail)?;
        let excess = existing.len().saturating_sub(self.keep.max(1));
        for old in existing.iter().take(excess) {
            if old != &path {
                std::fs::remove_file(old)
                    .with_context(|| format!("removing {}", old.display()))
                    .map_err(fail)?;
                removed += 1;
            }
        }
        ctx.progress(3, 3, None).await?;
        Ok(JobResult::BackupWritten {
            file: path.display().to_string(),
            bytes: size(&path),
            removed_old: removed,
        })
    }
}

impl JobHandler for BackupJob {
    fn run<'a>(&'a self, svc: &'a Service, ctx: &'a mut JobContext) -> JobFuture<'a> {
        Box::pin(self.run_inner(svc, ctx))
    }
}

/// `kebao restore --from FILE`: into a new SQLite file or an empty PostgreSQL database.
pub(crate) async fn restore(from: &Path, url: &str, signing_key: &Path) -> Result<()> {
    if !from.is_file() {
        bail!("{} is not a file", from.display());
    }
    let started = Instant::now();
    if is_sqlite(url) {
        let Some(target) = kebao_store::sqlite_path(url) else { bail!("`{url}` is not a database file") };
        if target.exists() {
            bail!("{} exists: restore into a new file, then point the server at it", target.display());
        }
        if !is_sqlite_file(from) {
            bail!("{} is not a Kebao backup (not a SQLite database)", from.display());
        }
        // Copied beside the target under another name, checked, then renamed into place: a
        // bad file never becomes the target.
        let mut tmp = target.clone().into_os_string();
        tmp.push(".restoring");
        let tmp = PathBuf::from(tmp);
        std::fs::copy(from, &tmp)
            .with_context(|| format!("copying {} to {}", from.display(), tmp.display()))?;
        let checked = async {
            let store =
                Store::connect(&format!("sqlite://{}", tmp.display()), &OpenOptions::default()).await?;
            let r = match store.integrity_check().await {
                Ok(()) => store.schema_version().await,
                Err(e) => Err(e),
            };
            store.close().await;
            r
        }
        .await;
        match checked {
            Ok(v) if v > 0 => std::fs::rename(&tmp, &target)
                .with_context(|| format!("moving {} to {}", tmp.display(), target.display()))?,
            Ok(_) => {
                remove_sqlite(&tmp);
                bail!("{} is not a Kebao backup (no Kebao schema in it)", from.display());
            }
            Err(e) => {
                remove_sqlite(&tmp);
                bail!("{} is not a usable backup: {e}", from.display());
            }
        }
    } else {
        let store = Store::connect(url, &OpenOptions::default())
            .await
            .with_context(|| format!("opening database `{url}`"))?;
        let empty = store.is_empty().await;
        store.close().await;
        if !empty? {
            bail!("the database `{url}` is not empty: restore into a new, empty database");
        }
        check_archive(from)?;
        tool(
            "pg_restore",
            &[
                "--no-owner".as_ref(),
                "--exit-on-error".as_ref(),
                "--single-transaction".as_ref(),
                "--dbname".as_ref(),
                url.as_ref(),
                from.as_os_str(),
            ],
        )?;
    }
    outln!("restore: {} into {url} in {:.1} s", from.display(), started.elapsed().as_secs_f64());
    // The schema as this version has it, then the verification of the restored copy.
    let svc = service(&crate::Db::at(url)).await?;
    crate::audit_verify(&svc, signing_key, None).await?;
    outln!("restored and verified in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// A SQLite file and the journal files beside it.
fn remove_sqlite(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}
