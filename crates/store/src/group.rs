//! Group commit on SQLite: concurrent commands share one durable commit.
//!
//! SQLite has one writer, and with `synchronous=FULL` every commit waits for the disk, so a
//! store that commits each command on its own cannot do more commands per second than the
//! disk does flushes (about 480 a second on some of the machines this runs on). In grouped mode the store keeps one writer connection
//! with one open transaction, the batch. Each command runs inside it behind its own savepoint
//! (`kb_cmd`), with its own authorisation, rules and event as before; when it commits, its
//! savepoint is released and it waits until the batch is durable. The first command that waits
//! schedules a flush; the flush queues for the writer behind the commands already waiting for
//! it (the writer lock is fair), so everything that arrived meanwhile joins the batch, and one
//! `COMMIT` (one flush of the disk) acknowledges them all. A command that fails, or is dropped
//! without committing, is rolled back to its savepoint, and the others in the batch are not
//! touched. No command is acknowledged before the batch that holds it is durable; if the
//! commit fails, every command in it gets the error.
//!
//! In held mode ([`crate::Store::hold_commits`]) commits do not wait: the caller flushes when
//! it chooses ([`crate::Store::flush`]), and reads go through the writer connection so that
//! they see what the batch holds. The demo's replayer uses it for one transaction per
//! simulated day. It is for one task at a time: a read or write begun while another is open
//! is refused instead of waiting for itself.

use crate::{Result, StoreError};
use sqlx::AnyConnection;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{oneshot, Mutex, OwnedMutexGuard};

/// The name of the savepoint each command runs behind.
const SAVEPOINT: &str = "kb_cmd";

/// The writer connection and the batch it holds.
pub(crate) struct Slot {
    conn: AnyConnection,
    /// Whether a transaction (the batch) is open on `conn`.
    open: bool,
    /// A command ended without committing: roll back to its savepoint before anything else.
    pub(crate) undo: bool,
    /// Whether a command is under way.
    pub(crate) in_command: bool,
    /// Whether the command under way runs behind a savepoint; the first command of a batch
    /// does not need one (undoing it undoes the batch, which holds nothing else).
    savepoint: bool,
    /// Commands released into the batch, waiting for it to be durable.
    waiters: Vec<oneshot::Sender<std::result::Result<(), String>>>,
    /// Whether a flush has been scheduled for the open batch.
    flush_scheduled: bool,
    /// Commands released into the open batch.
    pub(crate) commands: u64,
    /// A statement that changes the transaction's shape (BEGIN, SAVEPOINT, RELEASE, ROLLBACK)
    /// is under way. A command dropped then (its request cancelled) may leave the connection
    /// in a state the flags above do not describe.
    transition: bool,
    /// So the next user of the writer rolls back whatever is open and starts clean, telling
    /// those who wait on the batch that it was not committed.
    resync: bool,
}

impl Slot {
    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }

    /// Runs a statement that changes the transaction's shape, marked as a transition while it
    /// runs: if the future is dropped before it ends, the writer resynchronises.
    async fn shape(&mut self, sql: &str) -> Result<()> {
        self.transition = true;
        let r = sqlx::query(sql).execute(&mut self.conn).await;
        self.transition = false;
        r.map(|_| ()).map_err(StoreError::from)
    }

    /// Undoes what a command left behind and opens the batch.
    async fn ready(&mut self) -> Result<()> {
        self.settle().await?;
        if !self.open {
            self.shape("BEGIN IMMEDIATE").await?;
            self.open = true;
        }
        Ok(())
    }

    /// Rolls back a command that ended without committing; after a command dropped during a
    /// transition, rolls back the whole batch (nothing in it was acknowledged) and tells its
    /// waiters so.
    async fn settle(&mut self) -> Result<()> {
        if self.resync {
            self.transition = true;
            // Whatever is open (if anything: without a transaction this fails, harmlessly).
            let _ = sqlx::query("ROLLBACK").execute(&mut self.conn).await;
            self.open = false;
            self.undo = false;
            self.in_command = false;
            self.savepoint = false;
            self.commands = 0;
            self.flush_scheduled = false;
            for w in std::mem::take(&mut self.waiters) {
                let _ = w.send(Err("the batch was rolled back: a command was cancelled half-way".into()));
            }
            self.resync = false;
            self.transition = false;
            return Ok(());
        }
        if self.undo {
            let undone = if self.savepoint {
                match self.shape(&format!("ROLLBACK TO SAVEPOINT {SAVEPOINT}")).await {
                    Ok(()) => self.shape(&format!("RELEASE SAVEPOINT {SAVEPOINT}")).await,
                    Err(e) => Err(e),
                }
            } else {
                let r = self.shape("ROLLBACK").await;
                if r.is_ok() {
                    self.open = false;
                }
                r
            };
            if let Err(e) = undone {
                // The next user starts clean instead of failing on the same undo for ever.
                self.resync = true;
                return Err(e);
            }
            self.undo = false;
            self.in_command = false;
            self.savepoint = false;
        }
        Ok(())
    }

    /// Starts a command: the batch's first, or behind its savepoint.
    pub(crate) async fn begin_command(&mut self) -> Result<()> {
        self.settle().await?;
        if self.open {
            self.shape(&format!("SAVEPOINT {SAVEPOINT}")).await?;
            self.savepoint = true;
        } else {
            self.shape("BEGIN IMMEDIATE").await?;
            self.open = true;
            self.savepoint = false;
        }
        self.in_command = true;
        Ok(())
    }

    /// Keeps the command's work in the batch.
    pub(crate) async fn release_command(&mut self) -> Result<()> {
        if self.savepoint {
            self.shape(&format!("RELEASE SAVEPOINT {SAVEPOINT}")).await?;
        }
        self.in_command = false;
        self.savepoint = false;
        self.commands += 1;
        Ok(())
    }

    /// Commits the batch (one flush of the disk) and tells everyone waiting for it.
    async fn commit_batch(&mut self) -> Result<u64> {
        self.flush_scheduled = false;
        let waiters = std::mem::take(&mut self.waiters);
        let commands = std::mem::take(&mut self.commands);
        let outcome = match self.settle().await {
            Ok(()) if self.open => {
                sqlx::query("COMMIT").execute(&mut self.conn).await.map(|_| ()).map_err(StoreError::from)
            }
            Ok(()) => Ok(()),
            Err(e) => Err(e),
        };
        if outcome.is_err() && self.open {
            // Nothing in the batch was acknowledged: undo it all.
            let _ = sqlx::query("ROLLBACK").execute(&mut self.conn).await;
        }
        self.open = false;
        self.undo = false;
        self.in_command = false;
        self.savepoint = false;
        let told = outcome.as_ref().map(|_| ()).map_err(|e| e.to_string());
        for w in waiters {
            let _ = w.send(told.clone());
        }
        outcome.map(|()| commands)
    }
}

/// The shared state of a grouped store.
pub(crate) struct Group {
    slot: Arc<Mutex<Slot>>,
    hold: AtomicBool,
    /// Commands made durable, and the commits that did it.
    pub(crate) durable_commands: AtomicU64,
    pub(crate) commits: AtomicU64,
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group").field("hold", &self.hold.load(Ordering::Relaxed)).finish()
    }
}

/// A command's (or, in held mode, a read's) hold on the writer. A command that ends
/// without committing is rolled back to its savepoint by the next user of the writer.
pub(crate) struct Lease(OwnedMutexGuard<Slot>);

impl Lease {
    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        self.0.conn()
    }
}

impl std::ops::Deref for Lease {
    type Target = Slot;
    fn deref(&self) -> &Slot {
        &self.0
    }
}

impl std::ops::DerefMut for Lease {
    fn deref_mut(&mut self) -> &mut Slot {
        &mut self.0
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if self.0.transition {
            self.0.resync = true;
        } else if self.0.in_command {
            self.0.undo = true;
        }
    }
}

/// What a released command waits on.
pub(crate) type Told = oneshot::Receiver<std::result::Result<(), String>>;

/// Waits until the batch holding a released command is durable (at once when held).
pub(crate) async fn durable(told: Option<Told>) -> Result<()> {
    match told {
        None => Ok(()),
        Some(told) => match told.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StoreError::Other(format!("the group commit failed: {e}"))),
            Err(_) => Err(StoreError::Other("the group commit ended without an answer".into())),
        },
    }
}

impl Group {
    pub(crate) fn new(conn: AnyConnection) -> Group {
        Group {
            slot: Arc::new(Mutex::new(Slot {
                conn,
                open: false,
                undo: false,
                in_command: false,
                savepoint: false,
                waiters: Vec::new(),
                flush_scheduled: false,
                commands: 0,
                transition: false,
                resync: false,
            })),
            hold: AtomicBool::new(false),
            durable_commands: AtomicU64::new(0),
            commits: AtomicU64::new(0),
        }
    }

    pub(crate) fn held(&self) -> bool {
        self.hold.load(Ordering::SeqCst)
    }

    pub(crate) fn set_hold(&self, on: bool) {
        self.hold.store(on, Ordering::SeqCst);
    }

    /// The writer, for a command. Held mode refuses a second lease instead of waiting.
    pub(crate) async fn lease(&self) -> Result<Lease> {
        let mut lease = Lease(if self.held() {
            self.slot.clone().try_lock_owned().map_err(|_| {
                StoreError::Other("held commits: a transaction was begun while another is open".into())
            })?
        } else {
            self.slot.clone().lock_owned().await
        });
        lease.begin_command().await?;
        Ok(lease)
    }

    /// The writer connection, for reading what the batch holds (held mode).
    pub(crate) async fn read_lease(&self) -> Result<Lease> {
        let mut lease = Lease(self.slot.clone().try_lock_owned().map_err(|_| {
            StoreError::Other("held commits: a read was begun while another transaction is open".into())
        })?);
        lease.ready().await?;
        Ok(lease)
    }

    /// Releases a command into the batch. Unless commits are held, it returns what to wait
    /// on ([`durable`]) once the writer is given up; a flush is scheduled for the batch. The
    /// flush runs as a task of its own, also when nobody else is waiting: a commit is never
    /// cut off half-way because the request that released the command went away.
    pub(crate) async fn release(self: &Arc<Group>, lease: &mut Lease) -> Result<Option<Told>> {
        lease.release_command().await?;
        if self.held() {
            return Ok(None);
        }
        let (tell, told) = oneshot::channel();
        lease.waiters.push(tell);
        if !lease.flush_scheduled {
            lease.flush_scheduled = true;
            let group = Arc::clone(self);
            tokio::spawn(async move {
                let mut slot = group.slot.clone().lock_owned().await;
                let done = slot.commit_batch().await;
                group.count(done.as_ref().ok().copied());
            });
        }
        Ok(Some(told))
    }

    /// Commits the open batch now; returns how many commands it held.
    pub(crate) async fn flush(&self) -> Result<u64> {
        let mut slot = self.slot.clone().lock_owned().await;
        let done = slot.commit_batch().await;
        self.count(done.as_ref().ok().copied());
        done
    }

    fn count(&self, committed: Option<u64>) {
        if let Some(n) = committed.filter(|n| *n > 0) {
            self.durable_commands.fetch_add(n, Ordering::Relaxed);
            self.commits.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Opens the dedicated writer connection.
pub(crate) async fn writer_connection(pool: &sqlx::AnyPool) -> Result<AnyConnection> {
    let conn = pool.acquire().await?.detach();
    Ok(conn)
}
