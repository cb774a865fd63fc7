//! Use cases. Each command runs in one database transaction: authorise → load → decide
//! (in `domain`) → persist → append exactly one event → commit. Reads are authorised
//! here too; nothing above this crate decides who may see what.

pub mod advisor;
pub mod advisor_broker;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod claims;
pub mod consent;
pub mod cover;
pub mod disputes;
pub mod evaluation;
pub mod import;
pub mod inbox;
pub mod index;
pub mod jobs;
pub mod lab;
pub mod lab_data;
pub mod lab_monitor;
pub mod lab_scores;
pub mod ledger;
pub mod loan_money;
pub mod loans;
pub mod monitoring;
pub mod overview;
pub mod payments;
pub mod policies;
pub mod privacy;
pub mod products;
pub mod publicity;
pub mod rating;
pub mod rating_sheet;
pub mod registered;
pub mod registry;
pub mod retention;
pub mod scheme_sim;
pub mod stats;
pub mod stats_snapshots;
pub mod subsidies;
pub mod tabular;
pub mod transparency;
pub mod unified;
pub mod users;
pub mod worklists;

use authz::Authz;
use kebao_domain::event::{EventDraft, EventRecord};
use kebao_domain::{FieldError, IndustryMap, Invalid};
use kebao_store::{Store, StoreError, Tx};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub use kebao_domain as domain;

/// What went wrong, in terms a caller can act on. `web` maps each to an HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Input failed validation; nothing changed.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The object does not exist (or the actor may not know that it does).
    #[error("not found")]
    NotFound,
    /// Not signed in, wrong credentials, or an expired session.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// Authorisation denied the action.
    #[error("not allowed: {action} ({reason})")]
    Forbidden { action: &'static str, reason: String },
    /// The change conflicts with what is stored (a duplicate, a stale state).
    #[error("conflict: {}", .0.message_en)]
    Conflict(FieldError),
    /// The database is busy; try again.
    #[error("busy, try again")]
    Busy,
    /// Anything else. The message is logged, not shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<FieldError> for ServiceError {
    fn from(e: FieldError) -> Self {
        ServiceError::Invalid(Invalid(vec![e]))
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ServiceError::NotFound,
            StoreError::Busy => ServiceError::Busy,
            StoreError::Conflict(what) => ServiceError::Conflict(FieldError::new(
                "",
                "conflict",
                format!("与已有数据冲突（{what}）"),
                format!("conflicts with stored data (`{what}`)"),
            )),
            other => ServiceError::Internal(other.to_string()),
        }
    }
}

/// Result of a use case.
pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// The source of the current time (injected: tests and simulations fix it).
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Microseconds since the Unix epoch, UTC.
    fn now_us(&self) -> i64;
}

/// The machine's clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_us(&self) -> i64 {
        domain::time_zone::to_unix_us(time::OffsetDateTime::now_utc())
    }
}

/// A clock that stands still until moved (tests, the demo generator).
#[derive(Debug)]
pub struct FixedClock(std::sync::atomic::AtomicI64);

impl FixedClock {
    /// A clock at `us`.
    pub fn new(us: i64) -> FixedClock {
        FixedClock(std::sync::atomic::AtomicI64::new(us))
    }

    /// Moves the clock forward.
    pub fn advance_us(&self, by: i64) {
        self.0.fetch_add(by, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_us(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Where new identifiers come from (injected beside the [`Clock`]: tests and the demo
/// generator use a seeded source, so that the same commands give the same ids).
pub trait IdSource: Send + Sync + std::fmt::Debug {
    /// A fresh UUIDv7, created at `now_us` (the service's clock).
    fn next_id(&self, now_us: i64) -> uuid::Uuid;
}

/// Random UUIDv7s from the machine's clock (the behaviour before ids were injected:
/// time-ordered and monotonic within the process).
#[derive(Debug, Default)]
pub struct RandomIds;

impl IdSource for RandomIds {
    fn next_id(&self, _now_us: i64) -> uuid::Uuid {
        uuid::Uuid::now_v7()
    }
}

/// Deterministic UUIDv7-shaped ids: the injected clock's millisecond, then a counter (so that
/// ids sort in the order they were made, even on a clock that stands still or goes back),
/// then bits from a ChaCha stream seeded by `seed`. Two sources with the same seed, asked
/// at the same times, give the same ids.
#[derive(Debug)]
pub struct SeededIds(std::sync::Mutex<SeededState>);

#[derive(Debug)]
struct SeededState {
    rng: rand_chacha::ChaCha8Rng,
    /// How many ids were made (42 bits are used: the ids stay ordered for 4.3e12 of them).
    count: u64,
    /// The largest millisecond used so far.
    last_ms: u64,
}

impl SeededIds {
    /// A source seeded by `seed`.
    pub fn new(seed: u64) -> SeededIds {
        use rand::SeedableRng;
        SeededIds(std::sync::Mutex::new(SeededState {
            rng: rand_chacha::ChaCha8Rng::seed_from_u64(seed),
            count: 0,
            last_ms: 0,
        }))
    }
}

impl IdSource for SeededIds {
    fn next_id(&self, now_us: i64) -> uuid::Uuid {
        use rand::RngCore;
        // The state is consistent after any panic elsewhere: a poisoned lock is still usable.
        let mut s = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let ms = u64::try_from(now_us.div_euclid(1000)).unwrap_or(0).max(s.last_ms) & 0xFFFF_FFFF_FFFF;
        s.last_ms = ms;
        let n = s.count & 0x3FF_FFFF_FFFF;
        s.count = s.count.wrapping_add(1);
        let random = u128::from(s.rng.next_u32());
        // unix_ts_ms (48) | ver 7 (4) | rand_a: counter high 12 | var 0b10 (2) | rand_b: counter
        // low 30, random 32.
        let value = (u128::from(ms) << 80)
            | (0x7 << 76)
            | (u128::from(n >> 30) << 64)
            | (0b10 << 62)
            | (u128::from(n & 0x3FFF_FFFF) << 32)
            | random;
        uuid::Uuid::from_u128(value)
    }
}

/// Settings of the service layer.
#[derive(Debug, Clone)]
pub struct Config {
    /// How long a web session lasts without being renewed.
    pub session_ttl_us: i64,
    /// How long an API token lasts.
    pub token_ttl_us: i64,
    /// Claims deadlines (defaults recalled from the Insurance Law, unconfirmed).
    pub claim_deadlines: kebao_domain::claim::Deadlines,
    /// How many password checks (argon2id, 19 MiB each) may run at once.
    pub password_checks: usize,
    /// How long a sign-in waits for a free password check before it is refused as busy.
    pub password_wait_ms: u64,
    /// Days the platform gives itself to answer a personal-data request.
    pub data_request_days: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            session_ttl_us: 8 * 3600 * 1_000_000,
            token_ttl_us: 90 * 24 * 3600 * 1_000_000,
            claim_deadlines: kebao_domain::claim::Deadlines::default(),
            password_checks: 3,
            password_wait_ms: 5_000,
            data_request_days: kebao_domain::privacy::RESPONSE_DAYS,
        }
    }
}

/// The platform's use cases over one store.
#[derive(Debug, Clone)]
pub struct Service {
    pub(crate) store: Store,
    pub(crate) authz: Arc<Authz>,
    pub(crate) industries: Arc<IndustryMap>,
    pub(crate) clock: Arc<dyn Clock>,
    /// Where new ids come from.
    pub(crate) ids: Arc<dyn IdSource>,
    pub(crate) config: Config,
    pub(crate) catalogue: Arc<std::sync::RwLock<Arc<kebao_domain::catalogue::Catalogue>>>,
    /// The platform's key for signed tree heads (none: heads are not signed here).
    pub(crate) signer: Option<Arc<ed25519_dalek::SigningKey>>,
    /// Where each newly signed tree head is also kept, outside the database.
    pub(crate) head_journal: Option<Arc<dyn transparency::HeadJournal>>,
    /// The event log's leaf hashes, cached in order (the Merkle tree's leaves).
    pub(crate) leaves: Arc<tokio::sync::Mutex<Vec<kebao_domain::event::Hash32>>>,
    fault_before_event: Arc<AtomicBool>,
    /// The bound on concurrent password checks.
    pub(crate) password_gate: Arc<auth::PasswordGate>,
    /// The kinds of background job this process runs (`None`: not known here).
    pub(crate) runnable_jobs: Option<Arc<std::collections::HashSet<kebao_domain::job::JobKind>>>,
    /// The statistics dashboard's snapshots.
    pub(crate) snapshots: Arc<stats_snapshots::Snapshots>,
}

/// The zone's catalogue file, embedded.
pub const CATALOGUE: &str = include_str!("../../../data/catalogue.toml");

impl Service {
    /// A service over `store` with the given policies, industry map and clock.
    pub fn new(
        store: Store,
        authz: Authz,
        industries: IndustryMap,
        clock: Arc<dyn Clock>,
        config: Config,
    ) -> Service {
        // The embedded catalogue is checked by the domain's tests; an empty one is only a
        // fallback that `restore_catalogue` replaces.
        let catalogue = kebao_domain::catalogue::Catalogue::from_toml(CATALOGUE).unwrap_or_else(|e| {
            tracing::error!(error = %e, "the embedded catalogue does not load");
            kebao_domain::catalogue::Catalogue::empty()
        });
        let password_gate = Arc::new(auth::PasswordGate::new(
            config.password_checks,
            std::time::Duration::from_millis(config.password_wait_ms),
        ));
        Service {
            password_gate,
            runnable_jobs: None,
            catalogue: Arc::new(std::sync::RwLock::new(Arc::new(catalogue))),
            signer: None,
            head_journal: None,
            leaves: Arc::default(),
            store,
            authz: Arc::new(authz),
            industries: Arc::new(industries),
            clock,
            ids: Arc::new(RandomIds),
            config,
            fault_before_event: Arc::new(AtomicBool::new(false)),
            snapshots: Arc::default(),
        }
    }

    /// A service over the database at `url`, opened with the default options and migrated.
    pub async fn open(
        url: &str,
        authz: Authz,
        industries: IndustryMap,
        clock: Arc<dyn Clock>,
        config: Config,
    ) -> Result<Service> {
        let store = Store::open(url, &kebao_store::OpenOptions::default()).await?;
        Ok(Service::new(store, authz, industries, clock, config))
    }

    /// A service with the embedded policies and catalogue and the system clock.
    pub fn with_defaults(store: Store) -> Result<Service> {
        let authz = Authz::embedded().map_err(|e| ServiceError::Internal(e.to_string()))?;
        let industries =
            IndustryMap::from_toml(CATALOGUE).map_err(|e| ServiceError::Internal(e.to_string()))?;
        Ok(Service::new(store, authz, industries, Arc::new(SystemClock), Config::default()))
    }

    /// The same service on another clock (the demo generator writes its history on one).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Service {
        self.clock = clock;
        self
    }

    /// The same service taking new ids from `ids` (tests and the demo generator seed one).
    pub fn with_ids(mut self, ids: Arc<dyn IdSource>) -> Service {
        self.ids = ids;
        self
    }

    /// The same service, signing tree heads with `key`.
    pub fn with_signing_key(mut self, key: ed25519_dalek::SigningKey) -> Service {
        self.signer = Some(Arc::new(key));
        self
    }

    /// The zone's industry tags.
    pub fn industries(&self) -> &IndustryMap {
        &self.industries
    }

    /// Now, in microseconds.
    pub fn now_us(&self) -> i64 {
        self.clock.now_us()
    }

    /// A fresh identifier from the injected id source (UUIDv7 text: time-ordered, stable in
    /// URLs).
    pub fn new_id(&self) -> String {
        self.ids.next_id(self.now_us()).to_string()
    }

    /// Days the platform gives itself to answer a personal-data request.
    pub fn data_request_days(&self) -> i64 {
        self.config.data_request_days
    }

    /// Today's business date in Asia/Shanghai.
    pub fn today(&self) -> time::Date {
        domain::time_zone::business_date(domain::time_zone::from_unix_us(self.now_us()))
    }

    /// Held commits on a grouped store (see [`Store::hold_commits`]): the demo's replayer
    /// makes each simulated day one durable transaction, each command behind its savepoint.
    pub fn hold_commits(&self, on: bool) -> Result<()> {
        self.store.hold_commits(on)?;
        Ok(())
    }

    /// Group commit's counts so far: (commands made durable, commits), on a grouped store.
    pub fn group_stats(&self) -> Option<(u64, u64)> {
        self.store.group_stats()
    }

    /// Makes what held commits kept durable; returns how many commands that was.
    pub async fn flush_commits(&self) -> Result<u64> {
        Ok(self.store.flush().await?)
    }

    /// Test hook: the next command fails after its change and before its event, so that a
    /// test can see both rolled back. Resets itself.
    #[doc(hidden)]
    pub fn inject_fault_before_event(&self) {
        self.fault_before_event.store(true, Ordering::SeqCst);
    }

    /// Moves words a person wrote that may name someone (a decision's reason, a note) out of
    /// the chained payload into the event's erasable personal part, under a fresh salt
    /// ([`EventDraft::with_personal`], `docs/event-log.md`).
    pub(crate) fn with_personal(draft: EventDraft, part: serde_json::Value) -> Result<EventDraft> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| ServiceError::Internal(format!("no randomness: {e}")))?;
        Ok(draft.with_personal(salt, part))
    }

    /// Appends the command's one event and commits: the end of every command.
    pub(crate) async fn finish(&self, mut tx: Tx, draft: EventDraft) -> Result<EventRecord> {
        if self.fault_before_event.swap(false, Ordering::SeqCst) {
            return Err(ServiceError::Internal("injected fault before the event".into()));
        }
        let rec = kebao_store::events::append(&mut tx, draft, self.now_us()).await?;
        tx.commit().await?;
        Ok(rec)
    }
}
