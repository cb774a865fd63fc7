//! The only place that writes SQL. One logical schema on SQLite (the embedded default)
//! and PostgreSQL, through sqlx's `Any` driver with queries built at run time.
//!
//! Every write goes through a [`Tx`] from [`Store::begin_write`]; a command appends its
//! event with [`events::append`] inside the same transaction. On SQLite one writer runs
//! at a time (a process-wide mutex, plus `busy_timeout` for other processes); on
//! PostgreSQL appends serialise on the `event_head` row lock, so the chain never forks.

pub mod advisor;
pub mod advisor_broker;
pub mod attachments;
pub mod claims;
pub mod consents;
pub mod disputes;
pub mod evaluation;
pub mod events;
mod group;
pub mod index;
pub mod jobs;
pub mod lab;
pub mod lab_data;
pub mod lab_scores;
pub mod ledger;
pub mod loans;
pub mod monitoring;
pub mod orgs;
pub mod policies;
pub mod privacy;
pub mod products;
pub mod rating;
pub mod retention;
pub mod schema;
pub mod sessions;
pub mod stats;
pub mod subsidies;
pub mod todos;
pub mod users;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, Executor};
use std::borrow::Cow;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A storage failure, mapped from the driver.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness or foreign-key constraint refused the write.
    #[error("conflict on `{0}`")]
    Conflict(String),
    /// Another process holds the database (SQLite); try again.
    #[error("the database is busy; try again")]
    Busy,
    /// The URL or configuration is wrong.
    #[error("{0}")]
    Config(String),
    /// Anything else the driver reported.
    #[error("database error: {0}")]
    Other(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) => {
                let msg = db.message().to_owned();
                if db.is_unique_violation() || db.is_foreign_key_violation() || db.is_check_violation() {
                    let what = db.constraint().map(str::to_owned).unwrap_or(msg);
                    StoreError::Conflict(what)
                } else if msg.contains("database is locked") || msg.contains("database is busy") {
                    StoreError::Busy
                } else {
                    StoreError::Other(msg)
                }
            }
            _ => StoreError::Other(e.to_string()),
        }
    }
}

/// Result of a store call.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The connection pool and what is needed to use it safely.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    writer: Arc<tokio::sync::Mutex<()>>,
    /// Group commit (SQLite, [`Store::grouped`]): the writer connection and its batch.
    group: Option<Arc<group::Group>>,
}

/// Where a transaction runs: its own pooled transaction, or the grouped writer's batch.
enum Inner {
    Own(sqlx::Transaction<'static, sqlx::Any>),
    Grouped(group::Lease),
    /// A pooled connection outside any transaction, for PostgreSQL reads: at READ COMMITTED
    /// each statement takes its own snapshot whether or not a transaction is open, so `BEGIN`
    /// and `COMMIT` would only cost two round trips. (Consistent reads use `begin_snapshot`.)
    Plain(sqlx::pool::PoolConnection<sqlx::Any>),
}

impl Inner {
    fn conn(&mut self) -> &mut sqlx::AnyConnection {
        match self {
            Inner::Own(t) => t,
            Inner::Grouped(lease) => lease.conn(),
            Inner::Plain(c) => c,
        }
    }
}

/// A write transaction. Dropping it without committing rolls it back. It commits only when
/// an event recorded its command ([`Tx::commit`], after [`events::append`] or an
/// [`events::Appender`] wrote the head), or for one of the named [`Unlogged`] reasons.
pub struct Tx {
    inner: Inner,
    group: Option<Arc<group::Group>>,
    _writer: Option<tokio::sync::OwnedMutexGuard<()>>,
    backend: Backend,
    /// Ledger transfers written in this transaction and not yet recorded by an event.
    // INVARIANT: emptied by the next event appended ([`events::Appender::push`]); a
    // transaction that still holds some refuses to commit, so no transfer is stored
    // without the event that commits to it.
    transfers: Vec<kebao_domain::ledger::StoredTransfer>,
    /// The length of `transfers` at the open savepoint, if any.
    transfers_mark: Option<usize>,
    /// Whether an event has been appended (and the head row written) in this transaction.
    logged: bool,
}

/// Why a write transaction may commit without a command event: each is named in
/// `ARCHITECTURE.md`, and nothing else commits unlogged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unlogged {
    /// A sign-in attempt recorded for throttling: bookkeeping of the gate, not a command.
    LoginAttempt,
    /// A signed tree head: it signs the log, so it cannot itself be an entry of the log.
    TreeHeadSigning,
    /// A background job's queue entry, lease and progress: the runner's bookkeeping. The
    /// job's end is its event.
    JobBookkeeping,
    /// An erasure by the retention job: recorded in the `erasures` table as it is done and
    /// counted in the job's end event (a resumed run finds what is still due).
    RetentionErasure,
    /// A test that writes behind the service's back on purpose: to damage the database and
    /// show that the verifiers find it, or to set up a state no command makes.
    Tampering,
}

/// A read-only transaction: it can read a consistent view, and it cannot commit (dropping
/// it ends it). Writes belong in a [`Tx`].
pub struct ReadTx {
    inner: Inner,
    backend: Backend,
}

/// What both kinds of transaction offer to code that only reads: the connection.
pub trait Conn: Send {
    /// The connection, for the repository functions.
    fn conn(&mut self) -> &mut sqlx::AnyConnection;
    /// Which database this is.
    fn backend(&self) -> Backend;
}

impl Conn for ReadTx {
    fn conn(&mut self) -> &mut sqlx::AnyConnection {
        self.inner.conn()
    }
    fn backend(&self) -> Backend {
        self.backend
    }
}

impl Conn for Tx {
    fn conn(&mut self) -> &mut sqlx::AnyConnection {
        self.inner.conn()
    }
    fn backend(&self) -> Backend {
        self.backend
    }
}

impl std::fmt::Debug for ReadTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadTx").field("backend", &self.backend).finish()
    }
}

impl ReadTx {
    /// The connection, for the repository functions.
    pub fn conn(&mut self) -> &mut sqlx::AnyConnection {
        self.inner.conn()
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx").field("backend", &self.backend).finish()
    }
}

impl Tx {
    /// Commits the command whose event was appended in this transaction; without that event
    /// it refuses (see [`Tx::commit_unlogged`] for the named exceptions).
    pub async fn commit(self) -> Result<()> {
        if !self.logged {
            return Err(StoreError::Other(
                "a write transaction commits only with the event that records it".into(),
            ));
        }
        self.commit_inner().await
    }

    /// Commits without a command event, for one of the named reasons.
    pub async fn commit_unlogged(self, why: Unlogged) -> Result<()> {
        let _ = why;
        self.commit_inner().await
    }

    /// Marks that an event was appended and the head row written.
    pub(crate) fn mark_logged(&mut self) {
        self.logged = true;
    }

    async fn commit_inner(self) -> Result<()> {
        if !self.transfers.is_empty() {
            return Err(StoreError::Other(format!(
                "{} ledger transfer(s) written without an event recording them",
                self.transfers.len()
            )));
        }
        match (self.inner, self.group) {
            (Inner::Own(t), _) => t.commit().await.map_err(StoreError::from),
            (Inner::Grouped(mut lease), Some(group)) => {
                let told = group.release(&mut lease).await?;
                // The writer is free for the next command while this one waits for the disk.
                drop(lease);
                group::durable(told).await
            }
            (Inner::Grouped(_), None) => {
                Err(StoreError::Other("a grouped transaction without its group".into()))
            }
            (Inner::Plain(_), _) => Err(StoreError::Other("a read cannot commit".into())),
        }
    }

    /// The transfers written since the last event, to be recorded by the next one.
    pub(crate) fn take_transfers(&mut self) -> Vec<kebao_domain::ledger::StoredTransfer> {
        self.transfers_mark = self.transfers_mark.map(|_| 0);
        std::mem::take(&mut self.transfers)
    }

    /// The connection, for the repository functions.
    pub fn conn(&mut self) -> &mut sqlx::AnyConnection {
        self.inner.conn()
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }
}

fn migrations(backend: Backend) -> Vec<Migration> {
    let files: &[(i64, &str, &str)] = match backend {
        Backend::Sqlite => &[
            (1, "registry", include_str!("../migrations/sqlite/0001_registry.sql")),
            (2, "products", include_str!("../migrations/sqlite/0002_products.sql")),
            (3, "consent", include_str!("../migrations/sqlite/0003_consent.sql")),
            (4, "ledger", include_str!("../migrations/sqlite/0004_ledger.sql")),
            (5, "rating", include_str!("../migrations/sqlite/0005_rating.sql")),
            (6, "policies", include_str!("../migrations/sqlite/0006_policies.sql")),
            (7, "claims", include_str!("../migrations/sqlite/0007_claims.sql")),
            (8, "disputes", include_str!("../migrations/sqlite/0008_disputes.sql")),
            (9, "cover", include_str!("../migrations/sqlite/0009_cover.sql")),
            (10, "subsidy", include_str!("../migrations/sqlite/0010_subsidy.sql")),
            (12, "ledger_bound", include_str!("../migrations/sqlite/0012_ledger_bound.sql")),
            (13, "credentials", include_str!("../migrations/sqlite/0013_credentials.sql")),
            (14, "attachments", include_str!("../migrations/sqlite/0014_attachments.sql")),
            (15, "collection_accounts", include_str!("../migrations/sqlite/0015_collection_accounts.sql")),
            (16, "attachment_labels", include_str!("../migrations/sqlite/0016_attachment_labels.sql")),
            (17, "policy_subject", include_str!("../migrations/sqlite/0017_policy_subject.sql")),
            (18, "jobs", include_str!("../migrations/sqlite/0018_jobs.sql")),
            (19, "retention", include_str!("../migrations/sqlite/0019_retention.sql")),
            (20, "privacy", include_str!("../migrations/sqlite/0020_privacy.sql")),
            (21, "personal_parts", include_str!("../migrations/sqlite/0021_personal_parts.sql")),
            (22, "loans", include_str!("../migrations/sqlite/0022_loans.sql")),
            (23, "loan_claims", include_str!("../migrations/sqlite/0023_loan_claims.sql")),
            (24, "loan_recoveries", include_str!("../migrations/sqlite/0024_loan_recoveries.sql")),
            (
                25,
                "loan_policies_funds_pledges",
                include_str!("../migrations/sqlite/0025_loan_policies_funds_pledges.sql"),
            ),
            (26, "loan_subsidies", include_str!("../migrations/sqlite/0026_loan_subsidies.sql")),
            (27, "loan_guarantors", include_str!("../migrations/sqlite/0027_loan_guarantors.sql")),
            (28, "statistics", include_str!("../migrations/sqlite/0028_statistics.sql")),
            (29, "institution_kinds", include_str!("../migrations/sqlite/0029_institution_kinds.sql")),
            (30, "index", include_str!("../migrations/sqlite/0030_index.sql")),
            (31, "advisor", include_str!("../migrations/sqlite/0031_advisor.sql")),
            (32, "advisor_broker", include_str!("../migrations/sqlite/0032_advisor_broker.sql")),
            (33, "lab_models", include_str!("../migrations/sqlite/0033_lab_models.sql")),
            (34, "lab_extracts", include_str!("../migrations/sqlite/0034_lab_extracts.sql")),
            (35, "lab_scores", include_str!("../migrations/sqlite/0035_lab_scores.sql")),
            (36, "lab_monitoring", include_str!("../migrations/sqlite/0036_lab_monitoring.sql")),
            (37, "zone_switches", include_str!("../migrations/sqlite/0037_zone_switches.sql")),
        ],
        Backend::Postgres => &[
            (1, "registry", include_str!("../migrations/postgres/0001_registry.sql")),
            (2, "products", include_str!("../migrations/postgres/0002_products.sql")),
            (3, "consent", include_str!("../migrations/postgres/0003_consent.sql")),
            (4, "ledger", include_str!("../migrations/postgres/0004_ledger.sql")),
            (5, "rating", include_str!("../migrations/postgres/0005_rating.sql")),
            (6, "policies", include_str!("../migrations/postgres/0006_policies.sql")),
            (7, "claims", include_str!("../migrations/postgres/0007_claims.sql")),
            (8, "disputes", include_str!("../migrations/postgres/0008_disputes.sql")),
            (9, "cover", include_str!("../migrations/postgres/0009_cover.sql")),
            (10, "subsidy", include_str!("../migrations/postgres/0010_subsidy.sql")),
            (12, "ledger_bound", include_str!("../migrations/postgres/0012_ledger_bound.sql")),
            (13, "credentials", include_str!("../migrations/postgres/0013_credentials.sql")),
            (14, "attachments", include_str!("../migrations/postgres/0014_attachments.sql")),
            (15, "collection_accounts", include_str!("../migrations/postgres/0015_collection_accounts.sql")),
            (16, "attachment_labels", include_str!("../migrations/postgres/0016_attachment_labels.sql")),
            (17, "policy_subject", include_str!("../migrations/postgres/0017_policy_subject.sql")),
            (18, "jobs", include_str!("../migrations/postgres/0018_jobs.sql")),
            (19, "retention", include_str!("../migrations/postgres/0019_retention.sql")),
            (20, "privacy", include_str!("../migrations/postgres/0020_privacy.sql")),
            (21, "personal_parts", include_str!("../migrations/postgres/0021_personal_parts.sql")),
            (22, "loans", include_str!("../migrations/postgres/0022_loans.sql")),
            (23, "loan_claims", include_str!("../migrations/postgres/0023_loan_claims.sql")),
            (24, "loan_recoveries", include_str!("../migrations/postgres/0024_loan_recoveries.sql")),
            (
                25,
                "loan_policies_funds_pledges",
                include_str!("../migrations/postgres/0025_loan_policies_funds_pledges.sql"),
            ),
            (26, "loan_subsidies", include_str!("../migrations/postgres/0026_loan_subsidies.sql")),
            (27, "loan_guarantors", include_str!("../migrations/postgres/0027_loan_guarantors.sql")),
            (28, "statistics", include_str!("../migrations/postgres/0028_statistics.sql")),
            (29, "institution_kinds", include_str!("../migrations/postgres/0029_institution_kinds.sql")),
            (30, "index", include_str!("../migrations/postgres/0030_index.sql")),
            (31, "advisor", include_str!("../migrations/postgres/0031_advisor.sql")),
            (32, "advisor_broker", include_str!("../migrations/postgres/0032_advisor_broker.sql")),
            (33, "lab_models", include_str!("../migrations/postgres/0033_lab_models.sql")),
            (34, "lab_extracts", include_str!("../migrations/postgres/0034_lab_extracts.sql")),
            (35, "lab_scores", include_str!("../migrations/postgres/0035_lab_scores.sql")),
            (36, "lab_monitoring", include_str!("../migrations/postgres/0036_lab_monitoring.sql")),
            (37, "zone_switches", include_str!("../migrations/postgres/0037_zone_switches.sql")),
        ],
    };
    files
        .iter()
        .map(|(v, d, sql)| {
            Migration::new(*v, Cow::Borrowed(*d), MigrationType::Simple, Cow::Borrowed(*sql), false)
        })
        .collect()
}

/// Creates a missing SQLite database file readable by its owner only (0600): it holds
/// password hashes. SQLite gives the `-wal` and `-shm` files the database file's mode.
/// The file of a `sqlite://PATH` URL (none: not SQLite, or in memory).
pub fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path.starts_with(':') || url.contains("mode=memory") {
        return None;
    }
    Some(std::path::PathBuf::from(path))
}

fn create_private_file(url: &str) {
    let Some(path) = sqlite_path(url) else { return };
    if url.contains("mode=ro") {
        return;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    // An existing file is left as it is; a missing directory and the like SQLite reports in
    // its own words.
    let _ = opts.open(path);
}

/// Options for opening a store.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Pool size (PostgreSQL; SQLite readers).
    pub max_connections: u32,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions { max_connections: 8 }
    }
}

impl Store {
    /// Connects to `sqlite://PATH` (created if missing) or `postgres://…`. Does not migrate.
    pub async fn connect(url: &str, opts: &OpenOptions) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::Config(format!(
                "unsupported database url `{url}`: use sqlite://PATH or postgres://…"
            )));
        };
        if backend == Backend::Sqlite {
            create_private_file(url);
        }
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url).map_err(|e| StoreError::Config(e.to_string()))?;
        let pool = AnyPoolOptions::new()
            .max_connections(opts.max_connections)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // INVARIANT: money must survive a crash: WAL with synchronous=FULL.
                        for pragma in [
                            "PRAGMA journal_mode = WAL",
                            "PRAGMA synchronous = FULL",
                            "PRAGMA foreign_keys = ON",
                            "PRAGMA busy_timeout = 10000",
                        ] {
                            conn.execute(pragma).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(StoreError::from)?;
        Ok(Store { pool, backend, writer: Arc::new(tokio::sync::Mutex::new(())), group: None })
    }

    /// Connects and brings the schema up to date.
    pub async fn open(url: &str, opts: &OpenOptions) -> Result<Store> {
        let store = Store::connect(url, opts).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Writes a consistent copy of a SQLite database to the new file `dest` (`VACUUM INTO`
    /// runs in one read transaction: writers go on meanwhile, and the copy is the database as
    /// one commit left it). PostgreSQL's copies are `pg_dump`'s, made by the binary.
    pub async fn backup_into(&self, dest: &std::path::Path) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Config("a PostgreSQL database is backed up with pg_dump".into()));
        }
        let dest = dest
            .to_str()
            .ok_or_else(|| StoreError::Config(format!("`{}` is not a UTF-8 path", dest.display())))?;
        sqlx::query("VACUUM INTO $1").bind(dest).execute(&self.pool).await?;
        Ok(())
    }

    /// Whether the database holds no table yet (what a restore may write into).
    pub async fn is_empty(&self) -> Result<bool> {
        let sql = match self.backend {
            Backend::Sqlite => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
            Backend::Postgres => {
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()"
            }
        };
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&self.pool).await?;
        Ok(n == 0)
    }

    /// The migrations applied (0: not a Kebao database, or an empty one).
    pub async fn schema_version(&self) -> Result<i64> {
        if self.is_empty().await? {
            return Ok(0);
        }
        Ok(sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success")
            .fetch_one(&self.pool)
            .await
            .unwrap_or(0))
    }

    /// SQLite's own check of the file (`PRAGMA integrity_check`); PostgreSQL checks its pages
    /// itself, so there it passes.
    pub async fn integrity_check(&self) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Ok(());
        }
        let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&self.pool).await?;
        if rows.len() == 1 && rows.first().is_some_and(|r| r == "ok") {
            Ok(())
        } else {
            Err(StoreError::Other(format!("the file fails SQLite's integrity check: {}", rows.join("; "))))
        }
    }

    /// Applies pending migrations; returns how many were applied.
    pub async fn migrate(&self) -> Result<usize> {
        self.migrate_up_to(i64::MAX).await
    }

    /// Applies pending migrations up to and including version `last` (tests of a migration
    /// build a database at the version before it); returns how many were applied.
    pub async fn migrate_up_to(&self, last: i64) -> Result<usize> {
        let migrator = Migrator {
            migrations: Cow::Owned(
                migrations(self.backend).into_iter().filter(|m| m.version <= last).collect(),
            ),
            ignore_missing: false,
            locking: true,
            no_tx: false,
        };
        let before = self.applied_migrations().await.unwrap_or(0);
        migrator.run(&self.pool).await.map_err(|e| StoreError::Other(e.to_string()))?;
        let after = self.applied_migrations().await.unwrap_or(before);
        Ok(after.saturating_sub(before))
    }

    async fn applied_migrations(&self) -> Result<usize> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
            .fetch_one(&self.pool)
            .await?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for read-only queries outside a transaction.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The same store with group commit (SQLite; PostgreSQL already groups the flushes of
    /// concurrent transactions and is returned unchanged): see the `group` module. Call it
    /// before the store is shared.
    pub async fn grouped(mut self) -> Result<Store> {
        if self.backend == Backend::Sqlite && self.group.is_none() {
            let conn = group::writer_connection(&self.pool).await?;
            self.group = Some(Arc::new(group::Group::new(conn)));
        }
        Ok(self)
    }

    /// Whether commits are grouped.
    pub fn is_grouped(&self) -> bool {
        self.group.is_some()
    }

    /// A grouped store's counts so far: (commands made durable, commits that did it).
    pub fn group_stats(&self) -> Option<(u64, u64)> {
        use std::sync::atomic::Ordering;
        self.group
            .as_ref()
            .map(|g| (g.durable_commands.load(Ordering::Relaxed), g.commits.load(Ordering::Relaxed)))
    }

    /// Held commits (grouped stores): a command's commit returns once its savepoint is
    /// released, and the batch becomes durable at the next [`Store::flush`]. For one task
    /// that replays many commands (the demo's days); nothing it did is durable, or visible
    /// to other connections, before the flush.
    pub fn hold_commits(&self, on: bool) -> Result<()> {
        match &self.group {
            Some(g) => {
                g.set_hold(on);
                Ok(())
            }
            None => Err(StoreError::Config("held commits need a grouped store".into())),
        }
    }

    /// Commits the open batch now (a grouped store); returns how many commands it held.
    pub async fn flush(&self) -> Result<u64> {
        match &self.group {
            Some(g) => g.flush().await,
            None => Ok(0),
        }
    }

    /// A transaction that may write. On SQLite it waits for the one writer slot.
    pub async fn begin_write(&self) -> Result<Tx> {
        if let Some(g) = &self.group {
            let lease = g.lease().await?;
            return Ok(Tx {
                inner: Inner::Grouped(lease),
                group: Some(Arc::clone(g)),
                _writer: None,
                backend: self.backend,
                transfers: Vec::new(),
                transfers_mark: None,
                logged: false,
            });
        }
        let guard = match self.backend {
            Backend::Sqlite => Some(self.writer.clone().lock_owned().await),
            Backend::Postgres => None,
        };
        let inner = self.pool.begin().await?;
        Ok(Tx {
            inner: Inner::Own(inner),
            group: None,
            _writer: guard,
            backend: self.backend,
            transfers: Vec::new(),
            transfers_mark: None,
            logged: false,
        })
    }

    /// A transaction for reading a consistent snapshot.
    pub async fn begin_read(&self) -> Result<ReadTx> {
        if let Some(g) = self.group.as_ref().filter(|g| g.held()) {
            let lease = g.read_lease().await?;
            return Ok(ReadTx { inner: Inner::Grouped(lease), backend: self.backend });
        }
        if self.backend == Backend::Postgres {
            let c = self.pool.acquire().await?;
            return Ok(ReadTx { inner: Inner::Plain(c), backend: self.backend });
        }
        let inner = self.pool.begin().await?;
        Ok(ReadTx { inner: Inner::Own(inner), backend: self.backend })
    }

    /// A read for work in the background that should leave the machine's other cores to the
    /// people using it: on PostgreSQL a read-only transaction without parallel query workers
    /// (one core); on SQLite a plain read (one core already).
    pub async fn begin_background_read(&self) -> Result<ReadTx> {
        if self.backend == Backend::Postgres {
            let mut tx = ReadTx { inner: Inner::Own(self.pool.begin().await?), backend: self.backend };
            sqlx::query("SET TRANSACTION READ ONLY").execute(tx.conn()).await?;
            sqlx::query("SET LOCAL max_parallel_workers_per_gather = 0").execute(tx.conn()).await?;
            return Ok(tx);
        }
        self.begin_read().await
    }

    /// A read transaction in which every statement sees the same snapshot (PostgreSQL's
    /// REPEATABLE READ; a SQLite read transaction already does), for verifications that
    /// compare several tables while writers go on.
    pub async fn begin_snapshot(&self) -> Result<ReadTx> {
        if self.backend == Backend::Postgres {
            let mut tx = ReadTx { inner: Inner::Own(self.pool.begin().await?), backend: self.backend };
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(tx.conn())
                .await?;
            return Ok(tx);
        }
        self.begin_read().await
    }

    /// Commits what a grouped store holds and closes the pool.
    pub async fn close(&self) {
        if let Some(g) = &self.group {
            let _ = g.flush().await;
        }
        self.pool.close().await;
    }
}

/// `%needle%` for `LIKE … ESCAPE '\'`, with the needle's wildcards escaped.
pub(crate) fn like_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Reads an optional text column.
pub(crate) fn opt_text(row: &sqlx::any::AnyRow, col: &str) -> Result<Option<String>> {
    use sqlx::Row;
    row.try_get::<Option<String>, _>(col).map_err(StoreError::from)
}

/// A stored value that does not parse: the database holds what no command writes.
pub(crate) fn bad_value(col: &str, v: &str) -> StoreError {
    StoreError::Other(format!("stored `{col}` has an unknown value `{v}`"))
}

/// A stored `YYYY-MM-DD` date (the one way dates are read back).
pub(crate) fn date_col(row: &sqlx::any::AnyRow, col: &str) -> Result<time::Date> {
    use sqlx::Row;
    let s: String = row.try_get(col)?;
    parse_stored_date(col, &s)
}

/// A stored optional `YYYY-MM-DD` date.
pub(crate) fn opt_date_col(row: &sqlx::any::AnyRow, col: &str) -> Result<Option<time::Date>> {
    match opt_text(row, col)? {
        None => Ok(None),
        Some(s) => parse_stored_date(col, &s).map(Some),
    }
}

fn parse_stored_date(col: &str, s: &str) -> Result<time::Date> {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| bad_value(col, s))
}

/// A stored JSON column read into its domain type (a value no command wrote is an error, never
/// a default).
pub(crate) fn json_col<T: serde::de::DeserializeOwned>(row: &sqlx::any::AnyRow, col: &str) -> Result<T> {
    use sqlx::Row;
    let s: String = row.try_get(col)?;
    serde_json::from_str(&s)
        .map_err(|e| StoreError::Other(format!("stored `{col}` is not what was written: {e}")))
}

/// A value written to a JSON column.
pub(crate) fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Other(e.to_string()))
}
