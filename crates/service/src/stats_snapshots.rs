//! The statistics dashboard's figures, kept as snapshots the platform brings up to date.
//!
//! A report over a million policies takes seconds to add up, and the dashboard shows about a
//! dozen (the period's report, its quarters, the industry × stage grid, the parks, eight
//! quarters by class). So the dashboard reads snapshots: each figure set is kept with the
//! event log's length and the zone's date it was computed at. A snapshot that still matches
//! both is exactly what a fresh report would give (every write the statistics count appends an
//! event). One that no longer matches is shown at once, marked with the time it was taken,
//! while the platform computes the new one in the background — one computation per figure set
//! at a time, and one background computation at a time in all — and `kebao serve` refreshes
//! every snapshot read in the last hour once a minute.
//! A figure set asked for the first time is computed while the reader waits (a second reader
//! waits for the same computation). Reports, downloads, the API and the command line always
//! compute afresh.
//!
//! At most [`MAX_SNAPSHOTS`] are kept; the one read longest ago goes first.

use crate::authz::Actor;
use crate::stats::{
    class_query, class_trend, trend_quarters, ClassTrend, IndustryStageGrid, StatsQuery, StatsReport,
};
use crate::{Result, Service};
use kebao_domain::stats::{Breakdown, Measures, Part, Period};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How many figure sets are kept.
pub const MAX_SNAPSHOTS: usize = 512;

/// How long a snapshot nobody reads is still refreshed.
const KEEP_FRESH_US: i64 = 3_600 * 1_000_000;

/// What a snapshot holds (queries already checked against their reader).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum What {
    Report(StatsQuery),
    Grid(StatsQuery),
}

#[derive(Debug, Clone)]
enum Figures {
    Report(Arc<StatsReport>),
    Grid(Arc<IndustryStageGrid>),
}

/// The records a snapshot was computed from: the event log's length and the zone's date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Version {
    events: u64,
    today: time::Date,
}

#[derive(Debug)]
struct Entry {
    figures: Figures,
    version: Version,
    /// When the computation began (its figures are those of that moment).
    as_of_us: i64,
    read_us: i64,
}

/// The kept snapshots, shared by every clone of the service.
#[derive(Debug)]
pub(crate) struct Snapshots {
    entries: Mutex<HashMap<What, Entry>>,
    /// One computation per figure set at a time.
    busy: Mutex<HashMap<What, Arc<tokio::sync::Mutex<()>>>>,
    /// Background refreshes run one at a time (at most one core of the machine).
    background: tokio::sync::Semaphore,
}

impl Default for Snapshots {
    fn default() -> Self {
        Snapshots {
            entries: Mutex::default(),
            busy: Mutex::default(),
            background: tokio::sync::Semaphore::new(1),
        }
    }
}

impl Snapshots {
    /// The snapshot, marked read now, and whether it matches `version`.
    fn read(&self, what: &What, version: Version, now_us: i64) -> Option<(Figures, i64, bool)> {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let e = entries.get_mut(what)?;
        e.read_us = now_us;
        Some((e.figures.clone(), e.as_of_us, e.version == version))
    }

    fn store(&self, what: What, figures: Figures, version: Version, as_of_us: i64) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let read_us = entries.get(&what).map_or(as_of_us, |e| e.read_us);
        if !entries.contains_key(&what) && entries.len() >= MAX_SNAPSHOTS {
            let oldest = entries.iter().min_by_key(|(_, e)| e.read_us).map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                entries.remove(&k);
            }
        }
        entries.insert(what, Entry { figures, version, as_of_us, read_us });
    }

    fn gate(&self, what: &What) -> Arc<tokio::sync::Mutex<()>> {
        let mut busy = self.busy.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if busy.len() >= 2 * MAX_SNAPSHOTS {
            // Gates nobody holds are dropped (a figure set is in `entries` once computed).
            busy.retain(|_, g| Arc::strong_count(g) > 1);
        }
        busy.entry(what.clone()).or_default().clone()
    }

    /// The figure sets read within the last hour that no longer match `version`.
    fn stale(&self, version: Version, now_us: i64) -> Vec<What> {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries
            .iter()
            .filter(|(_, e)| e.version != version && now_us - e.read_us < KEEP_FRESH_US)
            .map(|(k, _)| k.clone())
            .collect()
    }
}

/// A figure set from a snapshot: the figures, when they were taken, and whether newer records
/// exist that they do not count yet.
#[derive(Debug, Clone)]
pub struct Snapshot<T> {
    pub figures: T,
    pub as_of_us: i64,
    pub stale: bool,
}

/// Everything the statistics page shows, from snapshots.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// The report asked for.
    pub report: StatsReport,
    /// The totals of the period's year, quarter by quarter, up to today's quarter.
    pub quarters: Vec<(Period, Measures)>,
    /// Industry × stage for the period.
    pub grid: IndustryStageGrid,
    /// Part 2 by park for the period.
    pub parks: StatsReport,
    /// Premium by class over the eight quarters up to the period's end.
    pub trend: ClassTrend,
    /// When the oldest of these figures was taken.
    pub as_of_us: i64,
    /// Whether records exist that some of these figures do not count yet (being added up).
    pub stale: bool,
}

impl Service {
    async fn stats_version(&self) -> Result<Version> {
        let mut tx = self.store.begin_read().await?;
        let head = kebao_store::events::head(tx.conn()).await?;
        Ok(Version { events: head.count, today: self.today() })
    }

    async fn stats_compute(&self, what: &What, background: bool) -> Result<Figures> {
        Ok(match what {
            What::Report(q) => Figures::Report(Arc::new(self.stats_report_of(q, background).await?)),
            What::Grid(q) => Figures::Grid(Arc::new(self.stats_grid_of(q, background).await?)),
        })
    }

    /// Computes the figure set and keeps it (the caller holds its gate); in the background on
    /// one core, for a waiting reader with all the store has.
    async fn stats_refresh(&self, what: &What, background: bool) -> Result<(Figures, i64)> {
        let version = self.stats_version().await?;
        let at = self.now_us();
        let figures = self.stats_compute(what, background).await?;
        self.snapshots.store(what.clone(), figures.clone(), version, at);
        Ok((figures, at))
    }

    async fn stats_snapshot(&self, what: What, version: Version) -> Result<(Figures, i64, bool)> {
        let read = |svc: &Service| svc.snapshots.read(&what, version, svc.now_us());
        if let Some(hit) = read(self) {
            if !hit.2 {
                self.stats_refresh_in_background(&what);
            }
            return Ok((hit.0, hit.1, !hit.2));
        }
        let gate = self.snapshots.gate(&what);
        let _computing = gate.lock().await;
        // Another reader may have computed it meanwhile.
        if let Some(hit) = read(self) {
            return Ok((hit.0, hit.1, !hit.2));
        }
        let (figures, at) = self.stats_refresh(&what, false).await?;
        Ok((figures, at, false))
    }

    /// Starts computing the figure set anew unless that is already under way.
    fn stats_refresh_in_background(&self, what: &What) {
        let Ok(held) = self.snapshots.gate(what).try_lock_owned() else { return };
        let (svc, what) = (self.clone(), what.clone());
        tokio::spawn(async move {
            // The semaphore is never closed; a closed one would only mean no turn-taking.
            let _turn = svc.snapshots.background.acquire().await;
            if let Err(e) = svc.stats_refresh(&what, true).await {
                tracing::warn!(error = %e, "a statistics snapshot could not be refreshed");
            }
            drop(held);
        });
    }

    /// Brings up to date every snapshot read in the last hour whose records have changed, one
    /// after the other; returns how many were computed. `kebao serve` calls it every minute.
    pub async fn refresh_stats_snapshots(&self) -> Result<usize> {
        let version = self.stats_version().await?;
        let mut done = 0;
        for what in self.snapshots.stale(version, self.now_us()) {
            let gate = self.snapshots.gate(&what);
            // A reader's refresh of it is under way: that one will do.
            let Ok(_held) = gate.try_lock() else { continue };
            let _turn = self.snapshots.background.acquire().await;
            self.stats_refresh(&what, true).await?;
            done += 1;
        }
        Ok(done)
    }

    /// A report from its snapshot (the same access as [`Service::stats_report`]).
    pub async fn stats_report_snapshot(
        &self,
        actor: &Actor,
        q: &StatsQuery,
    ) -> Result<Snapshot<StatsReport>> {
        let q = self.stats_authorise(actor, q).await?;
        let v = self.stats_version().await?;
        self.report_snapshot(q, v).await
    }

    async fn report_snapshot(&self, q: StatsQuery, v: Version) -> Result<Snapshot<StatsReport>> {
        match self.stats_snapshot(What::Report(q), v).await? {
            (Figures::Report(r), as_of_us, stale) => Ok(Snapshot { figures: (*r).clone(), as_of_us, stale }),
            _ => Err(crate::ServiceError::Internal("a report's snapshot holds another figure set".into())),
        }
    }

    async fn grid_snapshot(&self, q: StatsQuery, v: Version) -> Result<Snapshot<IndustryStageGrid>> {
        match self.stats_snapshot(What::Grid(q), v).await? {
            (Figures::Grid(g), as_of_us, stale) => Ok(Snapshot { figures: (*g).clone(), as_of_us, stale }),
            _ => Err(crate::ServiceError::Internal("a grid's snapshot holds another figure set".into())),
        }
    }

    /// The statistics page's figures for the query, from snapshots (see the module's words).
    pub async fn stats_dashboard(&self, actor: &Actor, q: &StatsQuery) -> Result<Dashboard> {
        let q = self.stats_authorise(actor, q).await?;
        let mut as_of_us = i64::MAX;
        let mut stale = false;
        let mut note = |s_as_of: i64, s_stale: bool| {
            as_of_us = as_of_us.min(s_as_of);
            stale |= s_stale;
        };
        // The records' version once for the page: every figure set is compared with the same.
        let v = self.stats_version().await?;
        let report = self.report_snapshot(q.clone(), v).await?;
        note(report.as_of_us, report.stale);
        let today = self.today();
        let mut quarters = Vec::new();
        for p in Period::quarters(q.period.year()) {
            if p.first_day() > today {
                break;
            }
            let r = self.report_snapshot(StatsQuery { period: p, ..q.clone() }, v).await?;
            note(r.as_of_us, r.stale);
            quarters.push((p, r.figures.total));
        }
        let grid = self.grid_snapshot(q.clone(), v).await?;
        note(grid.as_of_us, grid.stale);
        let parks = self
            .report_snapshot(StatsQuery { part: Part::Entities, by: Breakdown::Park, ..q.clone() }, v)
            .await?;
        note(parks.as_of_us, parks.stale);
        let mut by_quarter = Vec::new();
        for p in trend_quarters(today, q.period) {
            let r = self.report_snapshot(class_query(&q, p), v).await?;
            note(r.as_of_us, r.stale);
            by_quarter.push((p, r.figures));
        }
        Ok(Dashboard {
            report: report.figures,
            quarters,
            grid: grid.figures,
            parks: parks.figures,
            trend: class_trend(&by_quarter),
            as_of_us,
            stale,
        })
    }

    /// Computes the zone's dashboard for this year if it is not kept yet, so that the first
    /// reader after a start does not wait (`kebao serve` calls it when it starts).
    pub async fn warm_stats_dashboard(&self) -> Result<()> {
        let op = Actor::System { name: "statistics".into() };
        let q = StatsQuery {
            period: Period::Year(self.today().year()),
            part: Part::Products,
            by: Part::Products.default_breakdown(),
            insurer_id: None,
        };
        self.stats_dashboard(&op, &q).await.map(|_| ())
    }
}
