//! Use cases. Each command runs in one database transaction: authorise → load → decide
//! (in `domain`) → persist → append exactly one event → commit. Reads are authorised
//! here too; nothing above this crate decides who may see what.

pub mod audit;
pub mod auth;
pub mod authz;
pub mod claims;
pub mod consent;
pub mod cover;
pub mod disputes;
pub mod import;
pub mod inbox;
pub mod ledger;
pub mod overview;
pub mod policies;
pub mod products;
pub mod publicity;
pub mod rating;
pub mod registry;
pub mod subsidies;
pub mod tabular;
pub mod transparency;
pub mod users;

use authz::Authz;
use kebao_domain::event::{EventDraft, EventRecord};
use kebao_domain::{FieldError, IndustryMap, Invalid};
use kebao_store::{Store, StoreError, Tx};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub use kebao_domain as domain;
pub use kebao_store as store;

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

/// A fresh identifier (UUIDv7: time-ordered, stable in URLs).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
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
}

impl Default for Config {
    fn default() -> Self {
        Config {
            session_ttl_us: 8 * 3600 * 1_000_000,
            token_ttl_us: 90 * 24 * 3600 * 1_000_000,
            claim_deadlines: kebao_domain::claim::Deadlines::default(),
            password_checks: 3,
            password_wait_ms: 5_000,
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
            catalogue: Arc::new(std::sync::RwLock::new(Arc::new(catalogue))),
            signer: None,
            head_journal: None,
            leaves: Arc::default(),
            store,
            authz: Arc::new(authz),
            industries: Arc::new(industries),
            clock,
            config,
            fault_before_event: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A service with the embedded policies and catalogue and the system clock.
    pub fn with_defaults(store: Store) -> Result<Service> {
        let authz = Authz::embedded().map_err(|e| ServiceError::Internal(e.to_string()))?;
        let industries =
            IndustryMap::from_toml(CATALOGUE).map_err(|e| ServiceError::Internal(e.to_string()))?;
        Ok(Service::new(store, authz, industries, Arc::new(SystemClock), Config::default()))
    }

    /// The same service, signing tree heads with `key`.
    /// The same service on another clock (the demo generator writes its history on one).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Service {
        self.clock = clock;
        self
    }

    pub fn with_signing_key(mut self, key: ed25519_dalek::SigningKey) -> Service {
        self.signer = Some(Arc::new(key));
        self
    }

    /// The store (for the binary's maintenance commands).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The zone's industry tags.
    pub fn industries(&self) -> &IndustryMap {
        &self.industries
    }

    /// Now, in microseconds.
    pub fn now_us(&self) -> i64 {
        self.clock.now_us()
    }

    /// Today's business date in Asia/Shanghai.
    pub fn today(&self) -> time::Date {
        domain::time_zone::business_date(domain::time_zone::from_unix_us(self.now_us()))
    }

    /// Test hook: the next command fails after its change and before its event, so that a
    /// test can see both rolled back. Resets itself.
    #[doc(hidden)]
    pub fn inject_fault_before_event(&self) {
        self.fault_before_event.store(true, Ordering::SeqCst);
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
