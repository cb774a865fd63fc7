//! `kebao`: the platform's one binary. Serves a zone, generates a demo zone, migrates,
//! manages users, imports and exports the registry, and checks the audit log.

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use kebao_service::authz::{Actor, Authz};
use kebao_service::import::{rows_from_table, ImportOptions};
use kebao_service::tabular::{self, Format};
use kebao_service::users::{parse_roles, NewUserInput};
use kebao_service::{Config, Service, SystemClock, CATALOGUE};
use kebao_store::{OpenOptions, Store};
#[macro_use]
mod out;
mod activity;
mod backup;
mod credit;
mod demo;
mod fit;
mod index;
mod index_runs;
mod jobs;
mod loans;
mod scheme;
mod score;
mod showcase;
mod stats;
mod subsidy;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "kebao", version, about = "Kebao 科保 — the East Lake tech-insurance zone platform")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Db {
    /// Database: sqlite://PATH (created if missing) or postgres://…
    #[arg(long = "database", env = "KEBAO_DATABASE_URL", default_value = "sqlite://kebao.db", global = true)]
    url: String,
    /// A directory of Cedar policies (*.cedar and schema.cedarschema) replacing the embedded ones.
    #[arg(long, env = "KEBAO_POLICIES", global = true)]
    policies: Option<PathBuf>,
    /// The platform's ed25519 key for signed tree heads (64 hex digits; created by `serve`).
    #[arg(long, env = "KEBAO_SIGNING_KEY", default_value = "kebao-signing.key", global = true)]
    signing_key: PathBuf,
    /// Days the platform gives itself to answer a personal-data request (the law says
    /// "promptly" and names no number).
    #[arg(long, env = "KEBAO_DATA_REQUEST_DAYS", default_value_t = kebao_domain::privacy::RESPONSE_DAYS, global = true,
          value_parser = clap::value_parser!(i64).range(1..=60))]
    data_request_days: i64,
}

/// How the web edge sees its clients.
#[derive(Args, Clone, Default)]
struct WebArgs {
    /// The platform is served over TLS (usually ended at a proxy): send HSTS.
    #[arg(long, env = "KEBAO_HSTS")]
    hsts: bool,
    /// A proxy whose X-Forwarded-For is believed for the client's address (repeatable).
    #[arg(long = "trusted-proxy", env = "KEBAO_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// Serve `/metrics` (without a token) on this private address only, e.g. 127.0.0.1:9108.
    #[arg(long, env = "KEBAO_METRICS_LISTEN")]
    metrics_listen: Option<String>,
    /// Serve `/metrics` on the main address to requests bearing this token (at least 32
    /// characters). Without it or `--metrics-listen`, no metrics are served.
    #[arg(long, env = "KEBAO_METRICS_TOKEN", value_parser = metrics_token)]
    metrics_token: Option<String>,
    /// A metrics address that cannot be had only warns (the demo's).
    #[arg(skip)]
    metrics_best_effort: bool,
}

fn metrics_token(s: &str) -> std::result::Result<String, String> {
    if s.chars().count() < 32 {
        return Err("the metrics token must have at least 32 characters".into());
    }
    Ok(s.to_owned())
}

#[derive(Subcommand)]
enum Command {
    /// Serve the platform (web UI and JSON API).
    Serve {
        #[command(flatten)]
        db: Db,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Do not mark cookies Secure (only behind plain-HTTP proxies on other hosts).
        #[arg(long)]
        insecure_cookies: bool,
        /// Commit each command on its own instead of letting concurrent commands share one
        /// durable commit (SQLite; for comparison, see ARCHITECTURE.md "Group commit").
        #[arg(long)]
        commit_per_command: bool,
        #[command(flatten)]
        web: WebArgs,
        #[command(flatten)]
        jobs: jobs::JobArgs,
    },
    /// Create (or reuse) a demo zone in ./kebao-demo.db and serve it.
    Demo {
        /// Database (default: the demo file).
        #[arg(long = "database", env = "KEBAO_DATABASE_URL", default_value = "sqlite://kebao-demo.db")]
        url: String,
        /// Enterprises to generate.
        #[arg(long, default_value_t = 2000)]
        enterprises: usize,
        /// Seed of the generator: the same seed gives the same zone.
        #[arg(long, default_value_t = 20200930)]
        seed: u64,
        /// Port on 127.0.0.1.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Generate only; do not start the server.
        #[arg(long)]
        no_serve: bool,
        /// Years of the zone's activity to generate before today (policies, premiums,
        /// renewals, claims, complaints), through the service.
        #[arg(long, default_value_t = 3)]
        years: u32,
    },
    /// Bring the database schema up to date.
    Migrate {
        #[command(flatten)]
        db: Db,
    },
    /// Write a consistent copy of the database to a new file, while the server runs (SQLite:
    /// an online copy checked by SQLite; PostgreSQL: pg_dump's custom format, checked by pg_restore).
    Backup {
        #[command(flatten)]
        db: Db,
        /// The new file.
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a backup into a new SQLite file or an empty PostgreSQL database, then verify
    /// the restored copy as `kebao audit verify` does.
    Restore {
        #[command(flatten)]
        db: Db,
        /// The backup written by `kebao backup`.
        #[arg(long)]
        from: PathBuf,
    },
    /// Background jobs: list, start, cancel, or run the queue here.
    Jobs {
        #[command(subcommand)]
        command: jobs::JobsCommand,
    },
    /// Users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The registry of organisations.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Composite indices (the development index engine).
    Index {
        #[command(subcommand)]
        command: IndexCommand,
    },
    /// Score records with a scorecard model (writes scores and reason codes).
    Score(score::ScoreArgs),
    /// Fit models from data (the analytics engines).
    Fit {
        #[command(subcommand)]
        command: FitCommand,
    },
    /// The catalogue of product types.
    Catalogue {
        #[command(subcommand)]
        command: CatalogueCommand,
    },
    /// Rating plans.
    Rating {
        #[command(subcommand)]
        command: RatingCommand,
    },
    /// The double-entry ledger.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Credit information under consent.
    Credit {
        #[command(subcommand)]
        command: CreditCommand,
    },
    /// Insurers' products.
    Product {
        #[command(subcommand)]
        command: ProductCommand,
    },
    /// Premium subsidies: programmes, eligibility checks, what-if runs.
    Subsidy {
        #[command(subcommand)]
        command: subsidy::SubsidyCommand,
    },
    /// The tech-insurance statistics (the NFRA report).
    Stats {
        #[command(subcommand)]
        command: stats::StatsCommand,
    },
    /// Loans backed by insurance: the schemes, checked and loaded.
    Loan {
        #[command(subcommand)]
        command: loans::LoanCommand,
    },
    /// Scheme simulation: each party's loss distribution before money is at stake.
    Scheme {
        #[command(subcommand)]
        command: scheme::SchemeCommand,
    },
}

#[derive(Subcommand)]
enum CatalogueCommand {
    /// Check a catalogue file without loading it.
    Check {
        /// The TOML file (the shape of data/catalogue.toml).
        file: PathBuf,
    },
    /// Load a catalogue file into the database; a running server uses it after a restart.
    Load {
        #[command(flatten)]
        db: Db,
        file: PathBuf,
    },
    /// List the product types in force.
    List {
        #[command(flatten)]
        db: Db,
    },
}

#[derive(Subcommand)]
enum RatingCommand {
    /// File a GLM plan written by `kebao fit glm --plan` as a product's rating plan.
    ImportGlm {
        #[command(flatten)]
        db: Db,
        /// The insurer's product filer or admin.
        #[arg(long = "as")]
        as_user: String,
        #[arg(long)]
        product: String,
        /// YYYY-MM-DD.
        #[arg(long)]
        effective_from: String,
        /// The GLM plan (kebao.rating_plan/1).
        #[arg(long)]
        plan: PathBuf,
        /// GLM factor name = platform variable (industry, stage, size_band, limit_band,
        /// deductible_band, claims_history); repeat.
        #[arg(long = "map")]
        mapping: Vec<String>,
        /// What the base rate multiplies: limit | sum_insured | revenue | flat.
        #[arg(long, default_value = "limit")]
        basis: String,
        /// Multiplies the GLM base (e.g. severity × loading) into the base rate.
        #[arg(long, default_value = "1")]
        loading: String,
        #[arg(long, default_value_t = 0)]
        min_premium: i64,
    },
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Check that total debits equal total credits, that no flagged account breaks its flag,
    /// and that every balance is what its transfers add up to.
    Verify {
        #[command(flatten)]
        db: Db,
    },
}

#[derive(Subcommand)]
enum CreditCommand {
    /// Import records exported by an external source (CSV or .xlsx: uscc, kind, title, detail, occurred_on, person_name).
    Import {
        #[command(flatten)]
        db: Db,
        /// provincial_credit | tax | ip_office | personal_credit
        #[arg(long)]
        source: String,
        file: PathBuf,
    },
    /// A credit report, read as a user (the read is checked and logged like any other).
    Report {
        #[command(flatten)]
        db: Db,
        /// The reader's user name.
        #[arg(long = "as")]
        as_user: String,
        /// The enterprise's unified social credit code.
        #[arg(long)]
        org: String,
        #[arg(long)]
        purpose: String,
    },
}

#[derive(Subcommand)]
enum ProductCommand {
    /// Write the registered-product roster (.xlsx or .csv).
    Roster {
        #[command(flatten)]
        db: Db,
        /// Output file; the extension picks the format.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum IndexCommand {
    /// Build an index from COINr-shaped iMeta and iData files (COINr's default pipeline and options).
    Build(Box<index::BuildArgs>),
    /// Uncertainty and sensitivity of the index's ranks to weights (on chosen levels),
    /// normalisation, aggregation, imputation, the winsorisation limit and the treatment.
    Uncertainty(Box<index::UncertaintyArgs>),
    /// The zone's index from live data: run, list, show, export, import official statistics,
    /// load a framework.
    #[command(flatten)]
    Live(index_runs::RunCommand),
}

#[derive(Subcommand)]
enum FitCommand {
    /// A generalised linear model (pricing): prints the coefficient table and `deviance: …`.
    Glm(fit::GlmArgs),
    /// A credit scorecard (risk lab): binning tables, IV ranking, scorecard, test metrics.
    Scorecard(score::FitArgs),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user to an organisation (by its USCC).
    Add {
        #[command(flatten)]
        db: Db,
        /// The organisation's unified social credit code.
        #[arg(long)]
        org: String,
        #[arg(long)]
        username: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Roles, comma-separated (e.g. zone_reviewer,platform_admin).
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
        /// Read the password from standard input (otherwise a random one is printed).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password for a user (there is no mail server).
    ResetPassword {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Import organisations from .csv or .xlsx; imports nothing if any row is bad.
    Import {
        #[command(flatten)]
        db: Db,
        file: PathBuf,
        /// Import the good rows and report the bad ones.
        #[arg(long)]
        skip_invalid: bool,
        /// Also write the row-by-row report to this CSV file.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Export organisations to .csv or .xlsx.
    Export {
        #[command(flatten)]
        db: Db,
        file: PathBuf,
        /// Only this kind.
        #[arg(long)]
        kind: Option<String>,
        /// Include each enterprise's newest facts where the actor may see them.
        #[arg(long)]
        with_facts: bool,
        /// Run as this user, under their authorisation (default: the local operator).
        #[arg(long = "as")]
        as_user: Option<String>,
        /// The purpose of the read: other enterprises' facts appear only under a consent for it.
        #[arg(long)]
        purpose: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Print the head of the log: `COUNT:HASH`.
    Head {
        #[command(flatten)]
        db: Db,
    },
    /// Re-derive totals from the event log (policies, premium received, claims paid) and
    /// compare them with the tables; exits 1 when they differ.
    Reconcile {
        #[command(flatten)]
        db: Db,
    },
    /// Sign and publish a tree head for the log as it is now; prints it as JSON.
    SignHead {
        #[command(flatten)]
        db: Db,
    },
    /// Write the inclusion proof of event SEQ (JSON) against the newest signed tree head.
    Prove {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        seq: u64,
    },
    /// Check an inclusion proof offline against a published tree head and/or the platform's public key.
    VerifyProof {
        /// The proof (JSON, `kebao.inclusion/1`).
        proof: PathBuf,
        /// A published tree head (JSON), as the portal shows it.
        #[arg(long)]
        tree_head: Option<PathBuf>,
        /// The platform's published public key (hex).
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Check that a newer published tree head extends an older one.
    VerifyConsistency {
        #[arg(long)]
        old: PathBuf,
        #[arg(long)]
        new: PathBuf,
        /// The proof (JSON, `kebao.consistency/1`).
        #[arg(long)]
        proof: PathBuf,
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Check the whole hash chain; with --expect-head, also against a head recorded earlier.
    Verify {
        #[command(flatten)]
        db: Db,
        /// A head printed earlier by `kebao audit head`.
        #[arg(long)]
        expect_head: Option<String>,
    },
}

fn operator() -> Actor {
    let who = std::env::var("USER").unwrap_or_else(|_| "cli".to_owned());
    Actor::System { name: format!("cli:{who}") }
}

fn load_authz(dir: Option<&Path>) -> Result<Authz> {
    let Some(dir) = dir else { return Authz::embedded().context("embedded policies") };
    let schema = std::fs::read_to_string(dir.join("schema.cedarschema"))
        .with_context(|| format!("reading {}/schema.cedarschema", dir.display()))?;
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "cedar") {
            let text =
                std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            files.push((path.display().to_string(), text));
        }
    }
    files.sort();
    let refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    Authz::new(&schema, &refs).context("loading policies")
}

/// The service with the platform's signing key, if the file exists (or is to be created).
fn with_key(svc: Service, path: &Path, create: bool) -> Result<Service> {
    match credit::signing_key(path, create)? {
        Some(k) => Ok(svc
            .with_signing_key(k)
            .with_head_journal(Arc::new(credit::FileJournal { path: credit::head_journal_path(path) }))),
        None => bail!(
            "no signing key at {} (the server creates one at its first start; or pass --signing-key)",
            path.display()
        ),
    }
}

impl Db {
    /// The defaults, on another database (the demo's).
    fn at(url: &str) -> Db {
        Db {
            url: url.to_owned(),
            policies: None,
            signing_key: PathBuf::from("kebao-signing.key"),
            data_request_days: kebao_domain::privacy::RESPONSE_DAYS,
        }
    }
}

async fn service(db: &Db) -> Result<Service> {
    service_with(db, true).await
}

async fn service_with(db: &Db, grouped: bool) -> Result<Service> {
    let url = db.url.as_str();
    let mut store = Store::open(url, &OpenOptions::default())
        .await
        .with_context(|| format!("opening database `{url}`"))?;
    if grouped {
        // Group commit: concurrent commands share one durable commit (SQLite; see
        // ARCHITECTURE.md).
        store = store.grouped().await.context("opening the writer connection")?;
    }
    let industries = kebao_domain::IndustryMap::from_toml(CATALOGUE).context("the embedded catalogue")?;
    let config = Config { data_request_days: db.data_request_days, ..Config::default() };
    let svc =
        Service::new(store, load_authz(db.policies.as_deref())?, industries, Arc::new(SystemClock), config);
    svc.use_stored_catalogue().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(svc)
}

pub(crate) fn bar(total: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40.cyan/blue}] {pos}/{len} ({per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(what.to_owned());
    pb
}

fn read_password(from_stdin: bool) -> Result<(String, bool)> {
    if from_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).context("reading the password from standard input")?;
        Ok((s.trim_end_matches(['\n', '\r']).to_owned(), false))
    } else {
        Ok((kebao_service::auth::random_secret()?.get(..16).unwrap_or_default().to_owned(), true))
    }
}

async fn serve(svc: Service, listen: &str, secure_cookies: bool, web: WebArgs) -> Result<()> {
    // Publish a signed tree head now and every five minutes while the log grows.
    let signer = svc.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(300));
        loop {
            tick.tick().await;
            if let Err(e) = signer.sign_tree_head().await {
                tracing::warn!(error = %e, "could not sign a tree head");
            }
        }
    });
    // The statistics dashboard's snapshots: the zone's this year computed now, then every
    // snapshot read in the last hour brought up to date each minute.
    let stats = svc.clone();
    tokio::spawn(async move {
        if let Err(e) = stats.warm_stats_dashboard().await {
            tracing::warn!(error = %e, "could not compute the statistics dashboard");
        }
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            if let Err(e) = stats.refresh_stats_snapshots().await {
                tracing::warn!(error = %e, "could not refresh the statistics snapshots");
            }
        }
    });
    let settings = kebao_web::Settings {
        secure_cookies,
        hsts: web.hsts,
        trusted_proxies: web.trusted_proxies,
        metrics_token: web.metrics_token,
        ..Default::default()
    };
    let state = kebao_web::AppState::new(svc, settings);
    if let Some(addr) = &web.metrics_listen {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(private) => {
                outln!("metrics: http://{addr}/metrics (keep this address private)");
                let metrics = kebao_web::metrics::private_router(state.clone());
                tokio::spawn(async move {
                    if let Err(e) = axum::serve(private, metrics).await {
                        tracing::error!(error = %e, "the metrics listener stopped");
                    }
                });
            }
            Err(e) if web.metrics_best_effort => eprintln!("warning: no metrics on {addr}: {e}"),
            Err(e) => return Err(e).with_context(|| format!("listening for metrics on {addr}")),
        }
    }
    let app = kebao_web::router(state);
    let listener =
        tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
    outln!("Kebao 科保 is serving http://{listen}/");
    // The peer's address feeds the sign-in throttle and the anonymous search limit.
    axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving")
}

fn print_problems(report: &kebao_service::import::ImportReport) {
    for p in &report.problems {
        eprintln!("row {:>6}  {:<22} {} ({})", p.row, p.column, p.reason_en, p.reason_zh);
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve { db, listen, insecure_cookies, commit_per_command, web, jobs } => {
            let svc = with_key(service_with(&db, !commit_per_command).await?, &db.signing_key, true)?;
            svc.restore_catalogue().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let svc = jobs::start(svc, &db.url, &jobs);
            serve(svc, &listen, !insecure_cookies, web).await
        }
        Command::Demo { url, enterprises, seed, port, no_serve, years } => {
            demo::demo(&url, enterprises, seed, port, no_serve, years).await
        }
        Command::Backup { db, to } => backup::backup(&db.url, &to).await,
        Command::Restore { db, from } => backup::restore(&from, &db.url, &db.signing_key).await,
        Command::Migrate { db } => {
            let store = Store::connect(&db.url, &OpenOptions::default())
                .await
                .with_context(|| format!("opening `{}`", db.url))?;
            let n = store.migrate().await?;
            outln!("applied {n} migration(s); the schema is up to date");
            Ok(())
        }
        Command::User { command } => match command {
            UserCommand::Add { db, org, username, name, roles, password_stdin } => {
                let svc = service(&db).await?;
                let roles = parse_roles(&roles).map_err(|e| anyhow::anyhow!("{e}"))?;
                let Some(org_id) =
                    svc.org_id_by_uscc(&operator(), &org).await.map_err(|e| anyhow::anyhow!("{e}"))?
                else {
                    bail!("no organisation with the unified social credit code `{org}`")
                };
                let org_row =
                    svc.get_org(&operator(), &org_id).await.map_err(|e| anyhow::anyhow!("{e}"))?.org;
                let (password, generated) = read_password(password_stdin)?;
                let input = NewUserInput { username, display_name: name, password: password.clone() };
                // The operator chose this password: the user changes it at the first sign-in.
                let opts = kebao_service::users::AddUserOptions {
                    must_change_password: true,
                    without_sign_in: false,
                };
                let u = svc
                    .add_user_with(&operator(), &org_row.id, &input, &roles, opts)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                outln!("added user {} ({}) to {}", u.username, u.id, org_row.name);
                if generated {
                    outln!("password: {password}");
                }
                Ok(())
            }
            UserCommand::ResetPassword { db, username, password_stdin } => {
                let svc = service(&db).await?;
                let (password, generated) = read_password(password_stdin)?;
                let u = svc
                    .reset_password(&operator(), &username, &password)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                outln!(
                    "reset the password of {}; their sessions and API tokens were ended, and they change it at the next sign-in",
                    u.username
                );
                if generated {
                    outln!("password: {password}");
                }
                Ok(())
            }
        },
        Command::Org { command } => match command {
            OrgCommand::Import { db, file, skip_invalid, report } => {
                let svc = service(&db).await?;
                let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
                let format =
                    Format::from_name(&file.to_string_lossy()).unwrap_or_else(|| Format::sniff(&bytes));
                let table =
                    tabular::read(&bytes, format).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
                let rows = rows_from_table(&table).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
                let pb = bar(rows.len() as u64, "importing");
                let mut progress = |done: u64, total: u64| {
                    pb.set_length(total);
                    pb.set_position(done);
                };
                let r = svc
                    .import_orgs(&operator(), rows, ImportOptions { skip_invalid }, &mut progress)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                pb.finish_and_clear();
                print_problems(&r);
                if let Some(path) = report {
                    let t = tabular::Table {
                        headers: vec![
                            "row".into(),
                            "column".into(),
                            "code".into(),
                            "reason_en".into(),
                            "reason_zh".into(),
                        ],
                        rows: r
                            .problems
                            .iter()
                            .map(|p| {
                                vec![
                                    p.row.to_string(),
                                    p.column.clone(),
                                    p.code.to_owned(),
                                    p.reason_en.clone(),
                                    p.reason_zh.clone(),
                                ]
                            })
                            .collect(),
                    };
                    std::fs::write(&path, tabular::write_csv(&t).map_err(anyhow::Error::msg)?)
                        .with_context(|| format!("writing {}", path.display()))?;
                }
                if !r.problems.is_empty() && !skip_invalid {
                    bail!("{} problem(s) in {} row(s): nothing imported (use --skip-invalid to import the good rows)", r.problems.len(), r.rows);
                }
                outln!("imported {} of {} row(s); skipped {}", r.imported, r.rows, r.skipped);
                Ok(())
            }
            OrgCommand::Export { db, file, kind, with_facts, as_user, purpose } => {
                let purpose = match purpose {
                    None => None,
                    Some(p) => Some(kebao_domain::consent::Purpose::from_code(&p).with_context(|| {
                        format!(
                            "purpose `{p}` is not on the list: {}",
                            kebao_domain::consent::Purpose::ALL
                                .iter()
                                .map(|x| x.code())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })?),
                };
                let svc = service(&db).await?;
                let actor = match as_user {
                    Some(u) => {
                        let user = svc.find_user(&u).await.map_err(|e| anyhow::anyhow!("user `{u}`: {e}"))?;
                        svc.actor_for(user).await.map_err(|e| anyhow::anyhow!("{e}"))?
                    }
                    None => operator(),
                };
                let mut filter = kebao_domain::org::OrgFilter::default();
                if let Some(k) = kind {
                    filter.kind = Some(
                        kebao_domain::OrgKind::from_code(&k)
                            .with_context(|| format!("unknown kind `{k}`"))?,
                    );
                }
                let format = Format::from_name(&file.to_string_lossy())
                    .with_context(|| format!("{}: name the file .csv or .xlsx", file.display()))?;
                let (table, withheld) = svc
                    .export_orgs_for(&actor, &filter, with_facts, purpose)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                let bytes = match format {
                    Format::Csv => tabular::write_csv(&table),
                    Format::Xlsx => tabular::write_xlsx(&table, "organisations"),
                }
                .map_err(anyhow::Error::msg)?;
                std::fs::write(&file, bytes).with_context(|| format!("writing {}", file.display()))?;
                outln!("exported {} organisation(s) to {}", table.rows.len(), file.display());
                if withheld > 0 {
                    outln!("facts withheld for {withheld} enterprise(s): no lawful basis for this user");
                }
                Ok(())
            }
        },
        Command::Fit { command: FitCommand::Glm(args) } => fit::run(&args),
        Command::Fit { command: FitCommand::Scorecard(args) } => score::fit(&args),
        Command::Score(args) => score::score(&args),
        Command::Index { command: IndexCommand::Build(args) } => index::build(&args),
        Command::Index { command: IndexCommand::Uncertainty(args) } => index::uncertainty(&args),
        Command::Index { command: IndexCommand::Live(cmd) } => index_runs::run(cmd).await,
        Command::Catalogue { command } => catalogue_command(command).await,
        Command::Product { command: ProductCommand::Roster { db, file } } => {
            let svc = service(&db).await?;
            let format = Format::from_name(&file.to_string_lossy())
                .with_context(|| format!("`{}`: name the file .xlsx or .csv", file.display()))?;
            let rows = svc.registered_roster().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let table = tabular::Table {
                headers: [
                    "registration_no",
                    "product",
                    "insurer",
                    "type",
                    "nfra_class",
                    "version",
                    "status",
                    "approved_on",
                ]
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
                rows: rows
                    .iter()
                    .map(|r| {
                        vec![
                            r.registration_no.clone(),
                            r.product_name.clone(),
                            r.insurer.clone(),
                            r.type_name.clone(),
                            r.nfra_class.clone(),
                            r.version.to_string(),
                            r.status.code().to_owned(),
                            r.approved_on.clone(),
                        ]
                    })
                    .collect(),
            };
            let bytes = match format {
                Format::Csv => tabular::write_csv(&table),
                Format::Xlsx => tabular::write_xlsx(&table, "registered products"),
            }
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            std::fs::write(&file, bytes).with_context(|| format!("writing {}", file.display()))?;
            outln!("{} registered versions written to {}", rows.len(), file.display());
            Ok(())
        }
        Command::Rating {
            command:
                RatingCommand::ImportGlm {
                    db,
                    as_user,
                    product,
                    effective_from,
                    plan,
                    mapping,
                    basis,
                    loading,
                    min_premium,
                },
        } => {
            let svc = service(&db).await?;
            let user = svc.find_user(&as_user).await.map_err(|e| anyhow::anyhow!("user `{as_user}`: {e}"))?;
            let actor = svc.actor_for(user).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let text =
                std::fs::read_to_string(&plan).with_context(|| format!("reading {}", plan.display()))?;
            let glm: serde_json::Value =
                serde_json::from_str(&text).with_context(|| format!("{} is not JSON", plan.display()))?;
            let mut map = Vec::new();
            for m in &mapping {
                let (a, b) =
                    m.split_once('=').with_context(|| format!("--map `{m}`: write GLM_NAME=variable"))?;
                map.push((a.trim().to_owned(), b.trim().to_owned()));
            }
            let row = svc
                .import_glm_rating_plan(
                    &actor,
                    &product,
                    &effective_from,
                    &glm,
                    &map,
                    &basis,
                    &loading,
                    min_premium,
                )
                .await
                .map_err(|e| anyhow::anyhow!("{}", cli_error(&e)))?;
            outln!("filed rating plan version {} in force from {}", row.version, row.effective_from);
            Ok(())
        }
        Command::Subsidy { command } => subsidy::run(command).await,
        Command::Loan { command } => loans::run(command).await,
        Command::Stats { command } => stats::run(command).await,
        Command::Scheme { command } => scheme::run(command),
        Command::Jobs { command } => jobs::run(command).await,
        Command::Ledger { command: LedgerCommand::Verify { db } } => {
            let svc = service(&db).await?;
            let r = svc.ledger_verify().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            if r.problems.is_empty() {
                outln!(
                    "ok: {} accounts, {} transfers; posted debits = posted credits = {} fen; pending {} fen; every flag holds",
                    r.accounts, r.transfers, r.debits_posted, r.debits_pending
                );
                Ok(())
            } else {
                for p in &r.problems {
                    eprintln!("{p}");
                }
                bail!("the ledger does not balance: {} problem(s)", r.problems.len())
            }
        }
        Command::Credit { command } => match command {
            CreditCommand::Import { db, source, file } => {
                let svc = service(&db).await?;
                let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
                let format =
                    Format::from_name(&file.to_string_lossy()).unwrap_or_else(|| Format::sniff(&bytes));
                let table =
                    tabular::read(&bytes, format).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
                let src = kebao_service::consent::FileSource { source, table };
                let n = svc
                    .import_external(&operator(), &src)
                    .await
                    .map_err(|e| anyhow::anyhow!("{}", cli_error(&e)))?;
                outln!("imported {n} records");
                Ok(())
            }
            CreditCommand::Report { db, as_user, org, purpose } => {
                let svc = service(&db).await?;
                let user =
                    svc.find_user(&as_user).await.map_err(|e| anyhow::anyhow!("user `{as_user}`: {e}"))?;
                let actor = svc.actor_for(user).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                credit::report(&svc, &actor, &org, &purpose).await
            }
        },
        Command::Audit { command } => match command {
            AuditCommand::SignHead { db } => {
                let svc = with_key(service(&db).await?, &db.signing_key, false)?;
                let h = svc.sign_tree_head().await.map_err(|e| anyhow::anyhow!("{e}"))?;
                outln!("{}", serde_json::to_string_pretty(&h)?);
                Ok(())
            }
            AuditCommand::Prove { db, seq } => {
                let svc = with_key(service(&db).await?, &db.signing_key, false)?;
                let p = svc.inclusion_proof(&operator(), seq).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                outln!("{}", serde_json::to_string_pretty(&p)?);
                Ok(())
            }
            AuditCommand::VerifyProof { proof, tree_head, public_key } => {
                credit::verify_proof(&proof, tree_head.as_ref(), public_key.as_deref())
            }
            AuditCommand::VerifyConsistency { old, new, proof, public_key } => {
                credit::verify_consistency(&old, &new, &proof, public_key.as_deref())
            }

            AuditCommand::Reconcile { db } => {
                let svc = service(&db).await?;
                let r = svc.reconcile(&operator()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                let line = |name: &str, b: kebao_service::audit::Both| {
                    format!(
                        "{name}: events {} · tables {} {}",
                        b.from_events,
                        b.from_tables,
                        if b.agree() { "✓" } else { "✗ DIFFER" }
                    )
                };
                outln!("{}", line("policies", r.policies));
                outln!("{}", line("premium received (fen)", r.premium_received_fen));
                outln!("{}", line("claims paid (fen)", r.claims_paid_fen));
                if !r.agrees() {
                    bail!("the event log and the tables disagree");
                }
                outln!("ok: the totals re-derived from the event log match the tables");
                Ok(())
            }
            AuditCommand::Head { db } => {
                let svc = service(&db).await?;
                let h = svc.audit_head(&operator()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                outln!("{h}");
                Ok(())
            }
            AuditCommand::Verify { db, expect_head } => {
                let svc = service(&db).await?;
                let expect = match expect_head {
                    Some(s) => Some(kebao_domain::event::Head::parse(&s).with_context(|| {
                        format!("`{s}` is not a head: write COUNT:HASH as `kebao audit head` prints it")
                    })?),
                    None => None,
                };
                audit_verify(&svc, &db.signing_key, expect).await
            }
        },
    }
}

/// The audit verification: the hash chain (against `expect` when given), the signed tree heads
/// in the database and in the journal beside `signing_key`, and the ledger against the log.
pub(crate) async fn audit_verify(
    svc: &Service,
    signing_key: &Path,
    expect: Option<kebao_domain::event::Head>,
) -> Result<()> {
    let head = svc.audit_head(&operator()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let pb = bar(head.count, "verifying");
    let v = svc
        .audit_verify(&operator(), expect, &mut |done, _| pb.set_position(done))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    pb.finish_and_clear();
    match v {
        kebao_service::audit::Verification::Sound(h) => {
            outln!("ok: {} events, every link holds; head {h}", h.count);
            match svc.verify_tree_heads().await.map_err(|e| anyhow::anyhow!("{e}"))? {
                Ok(n) => outln!("ok: the log matches all {n} signed tree heads"),
                Err(e) => bail!("the audit log is broken: {e}"),
            }
            let journal = credit::head_journal_path(signing_key);
            let kept = credit::read_head_journal(&journal)?;
            match svc.verify_recorded_heads(&kept).await.map_err(|e| anyhow::anyhow!("{e}"))? {
                Ok(n) => outln!(
                    "ok: the database keeps all {n} signed tree heads recorded in {}",
                    journal.display()
                ),
                Err(e) => bail!("the audit log is broken: {e}"),
            }
            let r = svc.ledger_verify().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            if !r.problems.is_empty() {
                for p in &r.problems {
                    eprintln!("{p}");
                }
                bail!(
                    "the audit log is broken: the ledger is not what the log records ({} problem(s))",
                    r.problems.len()
                );
            }
            outln!("ok: the ledger's {} transfers are the ones the log records", r.transfers);
            Ok(())
        }
        kebao_service::audit::Verification::Broken(b) => bail!("the audit log is broken: {b}"),
    }
}

async fn catalogue_command(command: CatalogueCommand) -> Result<()> {
    match command {
        CatalogueCommand::Check { file } => {
            let text =
                std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let c = kebao_domain::catalogue::Catalogue::from_toml(&text)
                .with_context(|| format!("`{}` is not a valid catalogue", file.display()))?;
            outln!(
                "{}: {} product types, {} subsidy rules, sha256 {}",
                file.display(),
                c.types().len(),
                c.subsidy_rules().len(),
                c.hash()
            );
            Ok(())
        }
        CatalogueCommand::Load { db, file } => {
            let text =
                std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let svc = service(&db).await?;
            let c = svc
                .load_catalogue(&operator(), &text, &file.display().to_string())
                .await
                .map_err(|e| anyhow::anyhow!("{}", cli_error(&e)))?;
            outln!("loaded {} product types (sha256 {})", c.types().len(), c.hash());
            Ok(())
        }
        CatalogueCommand::List { db } => {
            let svc = service(&db).await?;
            let c = svc.catalogue();
            for t in c.types() {
                outln!(
                    "{:<32} {:<8} part {} {}",
                    t.id,
                    t.rate_confidence().code(),
                    t.nfra().part(),
                    t.name_zh
                );
            }
            Ok(())
        }
    }
}

/// A service error as one line for the terminal, with the field messages in both languages.
fn cli_error(e: &kebao_service::ServiceError) -> String {
    match e {
        kebao_service::ServiceError::Invalid(inv) => inv
            .0
            .iter()
            .map(|f| format!("{}: {} ({})", f.field, f.message_en, f.message_zh))
            .collect::<Vec<_>>()
            .join("; "),
        kebao_service::ServiceError::Conflict(f) => format!("{} ({})", f.message_en, f.message_zh),
        other => other.to_string(),
    }
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KEBAO_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(run(cli));
    // Whatever the command printed is flushed now; a closed pipe (`| head`) is no error.
    let result = result.and_then(|()| out::finish().context("writing to standard output"));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // The reader of standard output went away: the command ends quietly, as `head` expects.
        Err(e) if out::is_broken_pipe(&e) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
