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
mod credit;
mod fit;
mod index;
mod score;
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
        #[command(flatten)]
        web: WebArgs,
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

async fn service(url: &str, policies: Option<&Path>) -> Result<Service> {
    let store = Store::open(url, &OpenOptions::default())
        .await
        .with_context(|| format!("opening database `{url}`"))?;
    let industries = kebao_domain::IndustryMap::from_toml(CATALOGUE).context("the embedded catalogue")?;
    let svc =
        Service::new(store, load_authz(policies)?, industries, Arc::new(SystemClock), Config::default());
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
    let settings = kebao_web::Settings {
        secure_cookies,
        hsts: web.hsts,
        trusted_proxies: web.trusted_proxies,
        ..Default::default()
    };
    let state = kebao_web::AppState::new(svc, settings);
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
        Command::Serve { db, listen, insecure_cookies, web } => {
            let svc = with_key(service(&db.url, db.policies.as_deref()).await?, &db.signing_key, true)?;
            svc.restore_catalogue().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            serve(svc, &listen, !insecure_cookies, web).await
        }
        Command::Demo { url, enterprises, seed, port, no_serve, years } => {
            demo(&url, enterprises, seed, port, no_serve, years).await
        }
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
                let svc = service(&db.url, db.policies.as_deref()).await?;
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
                let svc = service(&db.url, db.policies.as_deref()).await?;
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
                let svc = service(&db.url, db.policies.as_deref()).await?;
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
                let svc = service(&db.url, db.policies.as_deref()).await?;
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
        Command::Catalogue { command } => catalogue_command(command).await,
        Command::Product { command: ProductCommand::Roster { db, file } } => {
            let svc = service(&db.url, db.policies.as_deref()).await?;
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
            let svc = service(&db.url, db.policies.as_deref()).await?;
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
        Command::Ledger { command: LedgerCommand::Verify { db } } => {
            let svc = service(&db.url, db.policies.as_deref()).await?;
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
                let svc = service(&db.url, db.policies.as_deref()).await?;
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
                let svc = service(&db.url, db.policies.as_deref()).await?;
                let user =
                    svc.find_user(&as_user).await.map_err(|e| anyhow::anyhow!("user `{as_user}`: {e}"))?;
                let actor = svc.actor_for(user).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                credit::report(&svc, &actor, &org, &purpose).await
            }
        },
        Command::Audit { command } => match command {
            AuditCommand::SignHead { db } => {
                let svc = with_key(service(&db.url, db.policies.as_deref()).await?, &db.signing_key, false)?;
                let h = svc.sign_tree_head().await.map_err(|e| anyhow::anyhow!("{e}"))?;
                outln!("{}", serde_json::to_string_pretty(&h)?);
                Ok(())
            }
            AuditCommand::Prove { db, seq } => {
                let svc = with_key(service(&db.url, db.policies.as_deref()).await?, &db.signing_key, false)?;
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
                let svc = service(&db.url, db.policies.as_deref()).await?;
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
                let svc = service(&db.url, db.policies.as_deref()).await?;
                let h = svc.audit_head(&operator()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                outln!("{h}");
                Ok(())
            }
            AuditCommand::Verify { db, expect_head } => {
                let svc = service(&db.url, db.policies.as_deref()).await?;
                let expect = match expect_head {
                    Some(s) => Some(kebao_domain::event::Head::parse(&s).with_context(|| {
                        format!("`{s}` is not a head: write COUNT:HASH as `kebao audit head` prints it")
                    })?),
                    None => None,
                };
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
                        let journal = credit::head_journal_path(&db.signing_key);
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
        },
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
            let svc = service(&db.url, db.policies.as_deref()).await?;
            let c = svc
                .load_catalogue(&operator(), &text, &file.display().to_string())
                .await
                .map_err(|e| anyhow::anyhow!("{}", cli_error(&e)))?;
            outln!("loaded {} product types (sha256 {})", c.types().len(), c.hash());
            Ok(())
        }
        CatalogueCommand::List { db } => {
            let svc = service(&db.url, db.policies.as_deref()).await?;
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

/// An illustrative rating plan for a demo product: base rates by line are invented for the
/// demo (no tariff is confirmed in the catalogue) and labelled so on the pages that matter.
fn demo_plan(cat: &kebao_domain::catalogue::Catalogue, type_id: &str) -> kebao_domain::rating::PlanDoc {
    use kebao_domain::catalogue::ProductLine as L;
    use kebao_domain::rating::{Band, FactorTable, PlanDoc, RateBasis, RatingVariable as V};
    let line = cat.get(type_id).map(|t| t.product_line()).unwrap_or(L::Composite);
    let base = match line {
        L::Property => "0.0025",
        L::Liability => "0.006",
        L::Surety | L::Credit => "0.012",
        L::Health => "0.03",
        L::Accident => "0.004",
        L::Ip => "0.02",
        L::Composite => "0.01",
    };
    let lv = |pairs: &[(&str, &str)]| pairs.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect();
    PlanDoc {
        basis: RateBasis::Limit,
        base: base.into(),
        size_bands: vec![
            Band { key: "micro".into(), up_to_yuan: Some(5_000_000) },
            Band { key: "small".into(), up_to_yuan: Some(50_000_000) },
            Band { key: "medium".into(), up_to_yuan: Some(500_000_000) },
            Band { key: "large".into(), up_to_yuan: None },
        ],
        limit_bands: vec![],
        deductible_bands: vec![],
        factors: vec![
            FactorTable {
                variable: V::SizeBand,
                levels: lv(&[("micro", "0.85"), ("small", "0.95"), ("medium", "1"), ("large", "1.1")]),
                default: None,
            },
            FactorTable {
                variable: V::ClaimsHistory,
                levels: lv(&[("0", "0.9"), ("1", "1.15"), ("2+", "1.4")]),
                default: None,
            },
        ],
        min_premium_yuan: 2_000,
        max_premium_yuan: None,
        factor_floor: Some("0.7".into()),
        factor_cap: Some("1.5".into()),
        underwriting: kebao_domain::policy::UnderwritingRules {
            auto_accept_max_limit_yuan: Some(5_000_000),
            decline_claims_3y: Some(4),
            refer_if_claims: true,
        },
    }
}

async fn seed_products(svc: &Service, zone: &kebao_sim::Zone, seed: u64) -> Result<()> {
    use kebao_service::products::Review;
    use kebao_sim::products::Outcome;
    let demo = Actor::System { name: "demo".into() };
    let err = |e: kebao_service::ServiceError| anyhow::anyhow!("{}", cli_error(&e));
    // Hubei branches file locally; the demo filer's branch first.
    let mut insurers: Vec<(String, String)> = zone
        .orgs
        .iter()
        .filter(|o| o.org.kind == "insurer" && o.org.name.ends_with("湖北分公司"))
        .map(|o| (o.org.uscc.clone(), o.org.name.clone()))
        .collect();
    if let Some(u) = zone.users.iter().find(|u| u.username == "ins.filer") {
        insurers.sort_by_key(|(uscc, _)| *uscc != u.org_uscc);
    }
    let filings = kebao_sim::products::filings(seed, &svc.catalogue(), &insurers);
    // The demo's own filer and reviewer act where they can, so their pages show their names.
    let as_user = |name: &'static str| async move {
        match svc.find_user(name).await {
            Ok(u) => svc.actor_for(u).await.ok(),
            Err(_) => None,
        }
    };
    let reviewer = as_user("zone.reviewer").await.unwrap_or_else(|| demo.clone());
    let filer = as_user("ins.filer").await;
    let pb = bar(filings.len() as u64, "filings");
    let all_items: Vec<String> =
        kebao_domain::product::CHECKLIST.iter().map(|(c, _, _)| (*c).to_owned()).collect();
    for f in &filings {
        let insurer = svc.org_id_by_uscc(&demo, &f.insurer_uscc).await.map_err(err)?;
        let Some(insurer) = insurer else { bail!("demo insurer {} is missing", f.insurer_uscc) };
        let by = match &filer {
            Some(a) if a.org_id() == Some(insurer.as_str()) => a.clone(),
            _ => demo.clone(),
        };
        let id = svc.file_product(&by, &insurer, &f.input).await.map_err(err)?;
        svc.add_product_document(&by, &id, &f.document.0, &f.document.1).await.map_err(err)?;
        // A product is approved for quoting only with a rating plan on file.
        let approve = |id: String| {
            let items = all_items.clone();
            let (by, reviewer) = (by.clone(), reviewer.clone());
            let plan = demo_plan(&svc.catalogue(), &f.input.type_id);
            async move {
                // In force from the day it is filed (the demo's activity starts then).
                svc.file_rating_plan(&by, &id, &svc.today().to_string(), plan).await?;
                svc.submit_product(&by, &id).await?;
                svc.set_product_checklist(&reviewer, &id, &items).await?;
                svc.review_product(&reviewer, &id, &Review::Approve).await?;
                svc.publish_product(&by, &id).await?;
                Ok::<_, kebao_service::ServiceError>(())
            }
        };
        let demo = by.clone();
        match f.outcome {
            Outcome::Draft => {}
            Outcome::InReview => svc.submit_product(&demo, &id).await.map_err(err)?,
            Outcome::ChangesRequested => {
                svc.submit_product(&demo, &id).await.map_err(err)?;
                svc.review_product(&reviewer, &id, &Review::RequestChanges { reason: f.reason.clone() })
                    .await
                    .map_err(err)?;
            }
            Outcome::Rejected => {
                svc.submit_product(&demo, &id).await.map_err(err)?;
                svc.review_product(&reviewer, &id, &Review::Reject { reason: f.reason.clone() })
                    .await
                    .map_err(err)?;
            }
            Outcome::Published => approve(id.clone()).await.map_err(err)?,
            Outcome::Withdrawn => {
                approve(id.clone()).await.map_err(err)?;
                svc.withdraw_product(&demo, &id).await.map_err(err)?;
            }
            Outcome::PublishedWithNewVersion => {
                approve(id.clone()).await.map_err(err)?;
                svc.new_product_version(&demo, &id).await.map_err(err)?;
                svc.submit_product(&demo, &id).await.map_err(err)?;
            }
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    for a in kebao_sim::products::articles() {
        svc.create_article(&reviewer, a.kind, a.title, a.body_md, true).await.map_err(err)?;
    }
    outln!("demo products: {} filings by {} insurers", filings.len(), insurers.len());
    Ok(())
}

/// The demo enterprise's applications: one bound by the insurer's rules (premium partly
/// received), one waiting in `ins.underwriter`'s queue.
async fn seed_policies(svc: &Service) -> Result<()> {
    let err = |e: kebao_service::ServiceError| anyhow::anyhow!("{}", cli_error(&e));
    let actor = |name: &'static str| async move {
        let u = svc.find_user(name).await?;
        svc.actor_for(u).await
    };
    let ent = actor("ent.admin").await.map_err(err)?;
    let uw = actor("ins.underwriter").await.map_err(err)?;
    let admin = actor("ins.admin").await.map_err(err)?;
    svc.set_underwriter_authority(&admin, "ins.underwriter", 10_000_000).await.map_err(err)?;
    // Where its policyholders pay (shown on every policy page with premium due).
    let insurer = admin.org_id().unwrap_or_default().to_owned();
    let name = svc.get_org(&admin, &insurer).await.map_err(err)?.org.name;
    let account = kebao_domain::policy::CollectionAccount {
        bank: "中国工商银行武汉东湖开发区支行".into(),
        account_name: name,
        account_no: "3202 0261 0900 0018 826".into(),
        note: String::new(),
    };
    svc.set_collection_account(&admin, &insurer, &account).await.map_err(err)?;
    let portal = svc
        .portal(&kebao_service::products::PortalQuery { per_page: 100, ..Default::default() })
        .await
        .map_err(err)?;
    let mine = uw.org_id().unwrap_or_default().to_owned();
    let mut quoted = Vec::new();
    for it in &portal.items {
        let has_plan = svc
            .rating_plans(&kebao_service::authz::Actor::System { name: "demo".into() }, &it.product.id)
            .await
            .map(|p| !p.is_empty())
            .unwrap_or(false);
        // Only products the demo enterprise is eligible for (industries, stages, qualifications).
        let eligible = svc.eligibility_for(&ent, &it.version.content.eligibility).await.is_ok();
        if has_plan && eligible {
            quoted.push((it.product.id.clone(), it.product.insurer_id == mine));
        }
    }
    let start = (svc.today() + time::Duration::days(3)).to_string();
    let q = |limit: i64| kebao_domain::rating::QuoteInput {
        limit: kebao_domain::Money::from_fen(limit * 100),
        revenue: kebao_domain::Money::from_fen(3_000_000_000),
        ..Default::default()
    };
    // Bound by the rules (within 5,000,000 yuan), on the demo insurer's product if it has one.
    let first = quoted.iter().find(|(_, m)| *m).or(quoted.first()).map(|(id, _)| id.clone());
    if let Some(pid) = first {
        svc.apply_for_policy(&ent, &pid, &q(2_000_000), &start).await.map_err(err)?;
        // Referred: over the auto-accept limit.
        svc.apply_for_policy(&ent, &pid, &q(8_000_000), &start).await.map_err(err)?;
        if let Some(p) = svc.my_policies(&ent).await.map_err(err)?.first() {
            if p.insurer_id == mine {
                svc.record_premium_paid(
                    &uw,
                    &p.id,
                    kebao_domain::Money::from_fen(p.premium.fen() / 2),
                    "DEMO-BANK-0001",
                )
                .await
                .map_err(err)?;
            }
        }
    }
    if let Some(pid) = quoted.iter().find(|(_, m)| *m).map(|(id, _)| id.clone()) {
        seed_policy_life(svc, &pid, &ent, &uw, &admin).await?;
    }
    outln!("demo policies: one bound, one referred to ins.underwriter, one endorsed and co-insured with a paid claim in mediation, one cancelled with its refund paid");
    Ok(())
}

/// Cover that has lived a little: a policy starting today, paid, endorsed, co-insured,
/// with a claim (documents, reserve, partial payment) and a complaint taken to mediation;
/// and a policy cancelled by the enterprise with its refund paid.
async fn seed_policy_life(
    svc: &Service,
    pid: &str,
    ent: &kebao_service::authz::Actor,
    uw: &kebao_service::authz::Actor,
    admin: &kebao_service::authz::Actor,
) -> Result<()> {
    use kebao_domain::Money;
    let err = |e: kebao_service::ServiceError| anyhow::anyhow!("{}", cli_error(&e));
    let actor = |name: &'static str| async move {
        let u = svc.find_user(name).await?;
        svc.actor_for(u).await
    };
    let claims = actor("ins.claims").await.map_err(err)?;
    let mediator = actor("mediator").await.map_err(err)?;
    let today = svc.today().to_string();
    let q = |limit: i64| kebao_domain::rating::QuoteInput {
        limit: Money::from_fen(limit * 100),
        revenue: Money::from_fen(3_000_000_000),
        ..Default::default()
    };
    let bind = |limit: i64| {
        let today = today.clone();
        async move {
            let a = svc.apply_for_policy(ent, pid, &q(limit), &today).await.map_err(err)?;
            let p = svc.my_policies(ent).await.map_err(err)?.into_iter().find(|p| p.application_id == a.id);
            p.ok_or_else(|| anyhow::anyhow!("demo: the application for {limit} yuan was not bound"))
        }
    };
    let p = bind(1_000_000).await?;
    svc.record_premium_paid(uw, &p.id, p.premium, "DEMO-BANK-0002").await.map_err(err)?;
    svc.endorse_policy(admin, &p.id, &q(1_500_000), &today, "企业新增研发项目，提高责任限额")
        .await
        .map_err(err)?;
    let op = kebao_service::authz::Actor::System { name: "demo".into() };
    let filter =
        kebao_domain::org::OrgFilter { kind: Some(kebao_domain::OrgKind::Insurer), ..Default::default() };
    let other = svc
        .list_orgs(&op, &filter, None, 100)
        .await
        .map_err(err)?
        .items
        .into_iter()
        .find(|o| Some(o.id.as_str()) != uw.org_id() && o.parent_id.is_none());
    if let Some(o) = other {
        svc.set_coinsurance(admin, &p.id, &[(o.id, 3_000)]).await.map_err(err)?;
    }
    let c = svc
        .report_claim(
            ent,
            &p.id,
            &kebao_domain::claim::ClaimInput::new(
                &today,
                "中试线调试时样机过热起火，波及合作方租用的检测设备",
                Money::from_fen(32_000_000),
            ),
        )
        .await
        .map_err(err)?;
    svc.add_claim_document(
        ent,
        &c.id,
        "出险经过说明.txt",
        "中试线样机过热起火，现场照片与消防记录另附。".as_bytes(),
    )
    .await
    .map_err(err)?;
    svc.assign_claim(&claims, &c.id).await.map_err(err)?;
    svc.set_claim_reserve(&claims, &c.id, Money::from_fen(30_000_000)).await.map_err(err)?;
    svc.decide_claim(
        &claims,
        &c.id,
        kebao_domain::claim::ClaimOutcome::Partial,
        Money::from_fen(24_000_000),
        "检测设备租赁损失按合同约定的赔偿限额计算，停工损失不属保险责任",
    )
    .await
    .map_err(err)?;
    svc.pay_claim(&claims, &c.id, Money::from_fen(24_000_000), "DEMO-CLM-0001").await.map_err(err)?;
    let d = svc.complain(ent, &c.id, "停工损失系事故直接导致，请求调解").await.map_err(err)?;
    svc.take_dispute(&mediator, &d.id).await.map_err(err)?;
    svc.record_session(&mediator, &d.id, &today, "双方到场陈述，保险机构同意复核停工损失凭证")
        .await
        .map_err(err)?;
    // Cancelled by the enterprise the day cover starts: the filed method returns the rest.
    let p2 = bind(500_000).await?;
    svc.record_premium_paid(uw, &p2.id, p2.premium, "DEMO-BANK-0003").await.map_err(err)?;
    let out = svc.cancel_policy(ent, &p2.id, &today, "项目终止，不再需要该保障").await.map_err(err)?;
    if out.refund_fen > 0 {
        svc.record_refund_paid(uw, &p2.id, Money::from_fen(out.refund_fen), "DEMO-REFUND-0001")
            .await
            .map_err(err)?;
    }
    Ok(())
}

/// The demo enterprise's consents, external credit records, a bank's read and a refused
/// attempt, so that the consent pages and "who looked at my data" have something to show.
async fn seed_consents(svc: &Service, zone: &kebao_sim::Zone) -> Result<()> {
    use kebao_domain::consent::{ConsentInput, Purpose};
    let err = |e: kebao_service::ServiceError| anyhow::anyhow!("{}", cli_error(&e));
    let actor = |name: &'static str| async move {
        let u = svc.find_user(name).await?;
        svc.actor_for(u).await
    };
    let ent = actor("ent.admin").await.map_err(err)?;
    let bank = actor("bank.officer").await.map_err(err)?;
    let guarantor = actor("guarantor.officer").await.map_err(err)?;
    let ent_id = ent.org_id().unwrap_or_default().to_owned();
    let ent_uscc =
        zone.users.iter().find(|u| u.username == "ent.admin").map(|u| u.org_uscc.clone()).unwrap_or_default();
    let op = Actor::System { name: "demo".into() };
    let rec =
        |kind: &str, title: &str, detail: &str, on: &str, person: &str| kebao_service::consent::RecordInput {
            uscc: ent_uscc.clone(),
            kind: kind.into(),
            title: title.into(),
            detail: detail.into(),
            occurred_on: on.into(),
            person_name: person.into(),
        };
    struct Src(&'static str, Vec<kebao_service::consent::RecordInput>);
    impl kebao_service::consent::CreditSource for Src {
        fn source(&self) -> &str {
            self.0
        }
        fn records(&self) -> std::result::Result<Vec<kebao_service::consent::RecordInput>, String> {
            Ok(self.1.clone())
        }
    }
    let sources = [
        Src(
            "provincial_credit",
            vec![
                rec("legal_representative", "法定代表人", "张伟（董事长）", "2019-03-12", ""),
                rec("honour", "守合同重信用企业", "湖北省市场监督管理局公示（演示）", "2024-06-30", ""),
                rec("loan", "流动资金贷款", "汉江银行，500 万元，已按期结清（演示）", "2023-09-01", ""),
            ],
        ),
        Src("tax", vec![rec("tax_rating", "纳税信用 A 级", "2024 年度（演示）", "2025-04-15", "")]),
        Src(
            "ip_office",
            vec![rec("patent_grant", "发明专利授权", "一种激光器温控装置（演示）", "2025-02-20", "")],
        ),
        Src(
            "personal_credit",
            vec![rec(
                "person_credit_record",
                "个人征信查询结果",
                "无逾期记录（演示，经本人同意查询）",
                "2026-10-10",
                "张伟",
            )],
        ),
    ];
    for s in &sources {
        svc.import_external(&op, s).await.map_err(err)?;
    }
    let today = svc.today();
    let bank_org = bank.org_id().unwrap_or_default().to_owned();
    let guarantor_org = guarantor.org_id().unwrap_or_default().to_owned();
    let consent = |grantee: &str, scopes: &[&str], kind: &str| ConsentInput {
        grantee_id: grantee.into(),
        kind: kind.into(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        purpose: "loan_review".into(),
        valid_from: today.to_string(),
        expires_on: (today + time::Duration::days(180)).to_string(),
        signer_name: "张伟".into(),
        signer_title: "法定代表人".into(),
        person_name: if kind == "personal" { "张伟".into() } else { String::new() },
        person_role: if kind == "personal" { "legal_representative".into() } else { String::new() },
    };
    let evidence =
        "企业信用信息查询授权书（演示文本）\n授权汉江银行为贷款审查查询本企业信用信息。\n签署：张伟"
            .as_bytes();
    svc.grant_consent(
        &ent,
        &ent_id,
        &consent(&bank_org, &["profile", "financial_facts", "ip", "loans"], "enterprise"),
        "查询授权书.txt",
        evidence,
    )
    .await
    .map_err(err)?;
    svc.grant_consent(
        &ent,
        &ent_id,
        &consent(&bank_org, &[], "personal"),
        "个人信息查询同意书.txt",
        evidence,
    )
    .await
    .map_err(err)?;
    let revoked = svc
        .grant_consent(
            &ent,
            &ent_id,
            &consent(&guarantor_org, &["profile", "loans"], "enterprise"),
            "担保查询授权书.txt",
            evidence,
        )
        .await
        .map_err(err)?;
    svc.revoke_consent(&ent, &revoked.consent.id).await.map_err(err)?;
    svc.credit_report(&bank, &ent_id, Purpose::LoanReview).await.map_err(err)?;
    let _ = svc.credit_report(&guarantor, &ent_id, Purpose::GuaranteeReview).await;
    outln!("demo consents: 3 consents (one revoked), 6 external records, 2 queries");
    Ok(())
}

async fn demo(url: &str, enterprises: usize, seed: u64, port: u16, no_serve: bool, years: u32) -> Result<()> {
    let key = std::env::var("KEBAO_SIGNING_KEY").unwrap_or_else(|_| "kebao-demo-signing.key".to_owned());
    let svc = with_key(service(url, None).await?, Path::new(&key), true)?;
    let demo_actor = Actor::System { name: "demo".into() };
    // The demo's history is generated on a clock of its own: `years` of the zone's activity,
    // then the showcase over the last four weeks (so that notice periods and deadlines have
    // run); then the server runs on the real clock.
    let real_now = kebao_service::Clock::now_us(&SystemClock);
    let years = years.min(10);
    let demo_clock = Arc::new(kebao_service::FixedClock::new(
        real_now - 28 * DEMO_DAY_US - i64::from(years) * 365 * DEMO_DAY_US,
    ));
    // Its ids come from a source seeded like the zone, so that the same seed gives the same ids.
    let seeding =
        svc.clone().with_clock(demo_clock.clone()).with_ids(Arc::new(kebao_service::SeededIds::new(seed)));
    let existing = svc
        .list_orgs(&demo_actor, &Default::default(), None, 1)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .total;
    let zone = kebao_sim::generate(
        &kebao_sim::Options { seed, enterprises, ..Default::default() },
        svc.industries(),
    );
    if existing == 0 {
        let started = std::time::Instant::now();
        let rows = zone.orgs.clone();
        let pb = bar(rows.len() as u64, "generating");
        let mut progress = |done: u64, total: u64| {
            pb.set_length(total);
            pb.set_position(done);
        };
        let r = svc
            .import_orgs(&demo_actor, rows, ImportOptions::default(), &mut progress)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        pb.finish_and_clear();
        if !r.problems.is_empty() {
            print_problems(&r);
            bail!("the demo generator produced invalid rows");
        }
        let secs = started.elapsed().as_secs_f64();
        outln!(
            "demo zone: {} organisations in {secs:.1} s ({:.0} rows/s)",
            r.imported,
            r.imported as f64 / secs
        );
        for u in &zone.users {
            let org =
                seeding.org_id_by_uscc(&demo_actor, &u.org_uscc).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let Some(org_id) = org else { bail!("demo user {} has no organisation", u.username) };
            let input = NewUserInput {
                username: u.username.clone(),
                display_name: u.display_name.clone(),
                password: kebao_sim::DEMO_PASSWORD.into(),
            };
            seeding
                .add_user(&demo_actor, &org_id, &input, &u.roles)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        // A few enterprises registered themselves and wait for the zone's reviewers.
        for (org, admin) in &zone.pending {
            let input = NewUserInput {
                username: admin.username.clone(),
                display_name: admin.display_name.clone(),
                password: kebao_sim::DEMO_PASSWORD.into(),
            };
            seeding.register_self(org, &input).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    } else {
        outln!("reusing the demo zone in {url} ({existing} organisations)");
    }
    seeding.restore_catalogue().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let filed: u64 =
        seeding.filing_stats().await.map_err(|e| anyhow::anyhow!("{e}"))?.iter().map(|(_, n)| n).sum();
    if filed == 0 {
        seed_products(&seeding, &zone, seed).await?;
        if years > 0 {
            let started = std::time::Instant::now();
            let pb = bar(u64::from(years) * 365, "activity (days)");
            let mut progress = |done: u64, total: u64| {
                pb.set_length(total);
                pb.set_position(done);
            };
            let s = activity::replay(&seeding, &demo_clock, &zone, seed, years, &mut progress).await?;
            pb.finish_and_clear();
            let secs = started.elapsed().as_secs_f64();
            let refused: Vec<String> = s.refused.iter().map(|(k, n)| format!("{k} {n}")).collect();
            if std::env::var_os("KEBAO_DEMO_VERBOSE").is_some() {
                for (k, r) in &s.reasons {
                    outln!("  refused {k}: {r}");
                }
            }
            outln!(
                "demo activity: {years} years, {} commands in {secs:.1} s ({:.0}/s): {} policies, {} claims, {} disputes, {} subsidy applications, {} consents{}",
                s.commands,
                s.commands as f64 / secs,
                s.policies,
                s.claims,
                s.disputes,
                s.subsidies,
                s.consents,
                if refused.is_empty() { String::new() } else { format!("; refused by the rules: {}", refused.join(", ")) }
            );
        }
    } else if years > 0 {
        // Reused: the clock goes straight to the showcase's weeks.
        demo_clock.advance_us(i64::from(years) * 365 * DEMO_DAY_US);
    }
    let consents_seeded = match seeding.find_user("ent.admin").await {
        Ok(u) => {
            let a = seeding.actor_for(u).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            !seeding.my_consents(&a).await.map_err(|e| anyhow::anyhow!("{e}"))?.is_empty()
        }
        Err(_) => true,
    };
    if !consents_seeded {
        seed_consents(&seeding, &zone).await?;
        demo_clock.advance_us(DEMO_DAY_US);
        let subsidised = seed_subsidised_products(&seeding).await?;
        seed_policies(&seeding).await?;
        demo_clock.advance_us(DEMO_DAY_US);
        seed_subsidies(&seeding, &demo_clock, real_now, &subsidised).await?;
    }
    if let Err(e) = svc.sign_tree_head().await {
        eprintln!("warning: could not sign a tree head: {e}");
    }
    if no_serve {
        return Ok(());
    }
    let listen = format!("127.0.0.1:{port}");
    outln!("\nKebao 科保 demo zone ({url})");
    outln!("Demo logins (password `{}`):", kebao_sim::DEMO_PASSWORD);
    for u in &zone.users {
        let roles: Vec<&str> = u.roles.iter().map(|r| r.label_en()).collect();
        outln!("  {:<18} {}", u.username, roles.join(", "));
    }
    for (_, u) in &zone.pending {
        outln!("  {:<18} Enterprise admin of a registration waiting for verification", u.username);
    }
    for name in ["ent2.admin", "ent3.admin"] {
        if svc.find_user(name).await.is_ok() {
            outln!("  {name:<18} Enterprise admin (another demo enterprise with subsidy applications)");
        }
    }
    outln!();
    serve(svc, &listen, true, WebArgs::default()).await
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

const DEMO_DAY_US: i64 = 86_400_000_000;

/// The demo insurer's products of subsidised types, open to enterprises at every stage.
/// Filed before the demo policies, so that the demo enterprise has products of the demo
/// insurer it is eligible for.
async fn seed_subsidised_products(svc: &Service) -> Result<std::collections::HashMap<&'static str, String>> {
    use kebao_domain::product::{CoverageInput, ProductInput, CHECKLIST};
    use kebao_service::products::Review;
    let err = |e: kebao_service::ServiceError| anyhow::anyhow!("{}", cli_error(&e));
    let actor = |name: String| async move {
        let u = svc.find_user(&name).await?;
        svc.actor_for(u).await
    };
    let filer = actor("ins.filer".into()).await.map_err(err)?;
    let reviewer = actor("zone.reviewer".into()).await.map_err(err)?;
    let insurer = filer.org_id().unwrap_or_default().to_owned();
    // The demo insurer files products of subsidised types.
    let items: Vec<String> = CHECKLIST.iter().map(|(c, _, _)| (*c).to_owned()).collect();
    let mut pids = std::collections::HashMap::new();
    for (ty, name) in [
        ("rd_liability", "楚天研发责任保险（光谷版）"),
        ("product_quality_guarantee", "楚天产品质量保证保险"),
        ("first_set_equipment", "楚天首台（套）重大技术装备综合保险"),
        ("new_material_first_batch", "楚天新材料首批次应用综合保险"),
    ] {
        let input = ProductInput {
            type_id: ty.into(),
            name: name.into(),
            summary: "东湖科技保险创新示范区备案产品（演示）。".into(),
            coverages: vec![CoverageInput {
                name: "保险责任".into(),
                limit_yuan: "50000000".into(),
                ..Default::default()
            }],
            premium_basis: "limit".into(),
            term_months: "12".into(),
            rate_text: "按本公司备案费率表，依风险状况浮动".into(),
            contact_name: "王经理".into(),
            contact_phone: "027-87650000".into(),
            // Open to the applicants below at whatever stage they are.
            stages: kebao_domain::org::LifecycleStage::ALL.iter().map(|s| s.code().to_owned()).collect(),
            ..Default::default()
        };
        let id = svc.file_product(&filer, &insurer, &input).await.map_err(err)?;
        svc.file_rating_plan(&filer, &id, "2026-01-01", demo_plan(&svc.catalogue(), ty))
            .await
            .map_err(err)?;
        svc.submit_product(&filer, &id).await.map_err(err)?;
        svc.set_product_checklist(&reviewer, &id, &items).await.map_err(err)?;
        svc.review_product(&reviewer, &id, &Review::Approve).await.map_err(err)?;
        svc.publish_product(&filer, &id).await.map_err(err)?;
        pids.insert(ty, id);
    }
    Ok(pids)
}

/// Subsidy applications in every state across the programmes. The demo insurer files four
/// products of subsidised types; three demo enterprises buy cover; the zone's reviewer and
/// approver work the applications over the demo's weeks (the clock moves so that notice
/// periods run out), leaving some in review and one in public notice now.
async fn seed_subsidies(
    svc: &Service,
    clock: &kebao_service::FixedClock,
    real_now_us: i64,
    pids: &std::collections::HashMap<&'static str, String>,
) -> Result<()> {
    use kebao_domain::subsidy::SubsidyStep;
    use kebao_domain::Money;
    use kebao_service::subsidies::Declarations;
    let err = |e: kebao_service::ServiceError| anyhow::anyhow!("{}", cli_error(&e));
    let actor = |name: String| async move {
        let u = svc.find_user(&name).await?;
        svc.actor_for(u).await
    };
    let uw = actor("ins.underwriter".into()).await.map_err(err)?;
    let reviewer = actor("zone.reviewer".into()).await.map_err(err)?;
    let approver = actor("zone.approver".into()).await.map_err(err)?;
    let bank = actor("bank.officer".into()).await.map_err(err)?;
    let ent = actor("ent.admin".into()).await.map_err(err)?;
    let op = Actor::System { name: "demo".into() };
    // Two more enterprises of other industries join the demo enterprise as applicants.
    let page = svc
        .list_orgs(
            &op,
            &kebao_domain::org::OrgFilter {
                kind: Some(kebao_domain::OrgKind::Enterprise),
                ..Default::default()
            },
            None,
            200,
        )
        .await
        .map_err(err)?;
    let ent_org = ent.org_id().unwrap_or_default().to_owned();
    let first = page.items.iter().find(|o| o.id == ent_org).and_then(|o| o.zone_industries.first().cloned());
    let mut applicants = vec![ent.clone()];
    let mut seen = first.into_iter().collect::<Vec<_>>();
    for o in
        page.items.iter().filter(|o| o.id != ent_org && o.status == kebao_domain::org::OrgStatus::Verified)
    {
        let Some(tag) = o.zone_industries.first() else { continue };
        if seen.contains(tag) || applicants.len() >= 3 {
            continue;
        }
        seen.push(tag.clone());
        let name = format!("ent{}.admin", applicants.len() + 1);
        let input = NewUserInput {
            username: name.clone(),
            display_name: format!("{}管理员", o.name),
            password: kebao_sim::DEMO_PASSWORD.into(),
        };
        svc.add_user(&op, &o.id, &input, &[kebao_domain::user::Role::EnterpriseAdmin]).await.map_err(err)?;
        let q = kebao_domain::org::Qualification {
            kind: kebao_domain::org::QualificationKind::TechSme,
            valid_from: svc.today() - time::Duration::days(200),
            valid_to: svc.today() + time::Duration::days(500),
            certificate_no: Some(format!("2026420100{:05}", applicants.len())),
        };
        svc.add_qualification(&op, &o.id, q).await.map_err(err)?;
        applicants.push(actor(name).await.map_err(err)?);
    }
    let pid = |ty: &str| pids.get(ty).cloned().unwrap_or_default();
    let first_set = pid("first_set_equipment");
    let new_material = pid("new_material_first_batch");
    let bind = |who: kebao_service::authz::Actor, product: String, limit: i64| {
        let uw = uw.clone();
        let first_set = first_set.clone();
        let new_material = new_material.clone();
        async move {
            let q = kebao_domain::rating::QuoteInput {
                limit: Money::from_fen(limit * 100),
                revenue: Money::from_fen(3_000_000_000),
                ..Default::default()
            };
            // First-set and new-material cover names the equipment (its model) or the
            // material (its grade), and the user as beneficiary.
            use kebao_domain::subject::{InsuredObject, ObjectKind, Party, Subject};
            let object = |kind, identifier: String, catalogue: &str| Subject {
                object: Some(InsuredObject { kind, identifier, catalogue_entry: Some(catalogue.into()) }),
                insured: None,
                beneficiary: Some(Party { name: "武汉示范用户制造有限公司".into(), uscc: None }),
            };
            let subject = if product == first_set {
                object(
                    ObjectKind::Equipment,
                    format!("KB-{}型数控装备", limit / 10_000),
                    "首台（套）重大技术装备推广应用指导目录",
                )
            } else if product == new_material {
                object(
                    ObjectKind::Material,
                    format!("KB-{}牌号高温合金", limit / 10_000),
                    "重点新材料首批次应用示范指导目录",
                )
            } else {
                Subject::default()
            };
            let a = svc.apply_for_policy_with(&who, &product, &q, &svc.today().to_string(), &subject).await?;
            let p = svc.my_policies(&who).await?.into_iter().find(|p| p.application_id == a.id);
            let p = p.ok_or(kebao_service::ServiceError::NotFound)?;
            svc.record_premium_paid(&uw, &p.id, p.premium, &format!("DEMO-SUB-{}", p.number)).await?;
            Ok::<String, kebao_service::ServiceError>(p.id)
        }
    };
    let none = Declarations::default();
    let zone = "zone_tech_insurance";
    // Each application is filed with the documents its programme lists (a scan each).
    let apply = |who: kebao_service::authz::Actor,
                 pol: String,
                 prog: &'static str,
                 stage: &'static str,
                 decl: Declarations| async move {
        let a = svc.apply_subsidy(&who, &pol, prog, stage, &decl).await?;
        let programmes = svc.subsidy_programmes().await?;
        let docs = programmes
            .iter()
            .find(|p| p.id == a.programme_id && p.version == a.programme_version)
            .map(|p| p.documents.clone())
            .unwrap_or_default();
        for d in docs {
            let body = format!("%PDF-1.4\n% {} {}\n", d.code, a.id).into_bytes();
            svc.add_subsidy_document(&who, &a.id, &d.code, &format!("{}.pdf", d.name_zh), &body).await?;
        }
        Ok::<_, kebao_service::ServiceError>(a)
    };
    let who = |i: usize| applicants.get(i).cloned().unwrap_or_else(|| ent.clone());
    // Zone programme: eight policies, one per state.
    let mut zone_apps = Vec::new();
    for (i, (ty, limit)) in [
        ("rd_liability", 1_000_000),
        ("product_quality_guarantee", 800_000),
        ("rd_liability", 1_500_000),
        ("rd_liability", 600_000),
        ("product_quality_guarantee", 1_200_000),
        ("rd_liability", 900_000),
        ("product_quality_guarantee", 700_000),
    ]
    .iter()
    .enumerate()
    {
        let w = who(i % 3);
        let pol = bind(w.clone(), pid(ty), *limit).await.map_err(err)?;
        zone_apps.push(apply(w, pol, zone, "", none.clone()).await.map_err(err)?.id);
    }
    let z = |i: usize| zone_apps.get(i).cloned().unwrap_or_default();
    // 0 stays submitted; 1 passes local review; 5 is rejected locally.
    svc.subsidy_local_review(&reviewer, &z(1), true, "材料齐全").await.map_err(err)?;
    svc.subsidy_local_review(&reviewer, &z(5), false, "保费支付凭证与发票金额不一致").await.map_err(err)?;
    for i in [2, 3, 4, 6] {
        svc.subsidy_local_review(&reviewer, &z(i), true, "材料齐全").await.map_err(err)?;
    }
    for i in [3, 4, 6] {
        svc.subsidy_department_review(&approver, &z(i), true, "同意公示").await.map_err(err)?;
    }
    // An offer that will lapse: a policy bought now, offered tomorrow, never confirmed.
    let lapse_pol = bind(who(1), pid("rd_liability"), 500_000).await.map_err(err)?;
    clock.advance_us(DEMO_DAY_US);
    svc.offer_auto_grants(&approver, zone).await.map_err(err)?;
    // National first-set: one qualified and granted; one forwarded; one just filed.
    // New material: one recommended; one not qualified.
    let fs1 = bind(who(0), pid("first_set_equipment"), 2_000_000).await.map_err(err)?;
    let fs2 = bind(who(1), pid("first_set_equipment"), 3_000_000).await.map_err(err)?;
    let fs3 = bind(who(2), pid("first_set_equipment"), 1_000_000).await.map_err(err)?;
    let fs4 = bind(who(1), pid("first_set_equipment"), 1_500_000).await.map_err(err)?;
    let nm1 = bind(who(0), pid("new_material_first_batch"), 4_000_000).await.map_err(err)?;
    let nm2 = bind(who(2), pid("new_material_first_batch"), 2_000_000).await.map_err(err)?;
    let q1 = apply(who(0), fs1.clone(), "first_set", "qualification", none.clone()).await.map_err(err)?.id;
    let q2 = apply(who(1), fs2, "first_set", "qualification", none.clone()).await.map_err(err)?.id;
    let q4 = apply(who(1), fs4.clone(), "first_set", "qualification", none.clone()).await.map_err(err)?.id;
    apply(who(2), fs3, "first_set", "qualification", none.clone()).await.map_err(err)?;
    // A paper policy bought before the platform, registered by its holder with the scan of
    // the policy: it waits for the insurer's underwriters to confirm it.
    let paper = kebao_domain::policy::RegistrationFields {
        product_id: pid("first_set_equipment"),
        number: "CT-2025-FS-000318".into(),
        start_date: (svc.today() - time::Duration::days(300)).to_string(),
        end_date: (svc.today() + time::Duration::days(64)).to_string(),
        premium_yuan: "36000".into(),
        sum_insured_yuan: "12000000".into(),
        limit_yuan: String::new(),
    };
    let paper_subject = kebao_domain::subject::Subject {
        object: Some(kebao_domain::subject::InsuredObject {
            kind: kebao_domain::subject::ObjectKind::Equipment,
            identifier: "KB-50型激光加工中心".into(),
            catalogue_entry: Some("首台（套）重大技术装备推广应用指导目录".into()),
        }),
        insured: None,
        beneficiary: Some(kebao_domain::subject::Party {
            name: "湖北示范精密制造有限公司".into(),
            uscc: None,
        }),
    };
    let paper = svc.register_policy(&who(2), &paper, &paper_subject).await.map_err(err)?;
    let scan = b"%PDF-1.4\n% CT-2025-FS-000318 policy and invoice (demo scan)\n";
    svc.attach(
        &who(2),
        &kebao_domain::attachment::Owner::registered_policy(&paper.id),
        "保单及发票.pdf",
        scan,
    )
    .await
    .map_err(err)?;
    let contract = Declarations { contract_amount_yuan: Some(1_500_000), ..Default::default() };
    let n1 = apply(who(0), nm1, "new_material", "qualification", contract.clone()).await.map_err(err)?.id;
    let n2 = apply(who(2), nm2, "new_material", "qualification", contract).await.map_err(err)?.id;
    for id in [&q1, &q2, &q4, &n1, &n2] {
        svc.national_step(&reviewer, id, SubsidyStep::Recommend, true, Money::ZERO, "").await.map_err(err)?;
    }
    for id in [&q1, &q2, &q4, &n2] {
        svc.national_step(&approver, id, SubsidyStep::Forward, true, Money::ZERO, "").await.map_err(err)?;
    }
    clock.advance_us(9 * DEMO_DAY_US);
    svc.national_step(
        &approver,
        &q1,
        SubsidyStep::Decision,
        true,
        Money::ZERO,
        "工信厅装函〔2026〕（演示）1号",
    )
    .await
    .map_err(err)?;
    svc.national_step(
        &approver,
        &n2,
        SubsidyStep::Decision,
        false,
        Money::ZERO,
        "工信厅原函〔2026〕（演示）2号",
    )
    .await
    .map_err(err)?;
    let f1 = apply(who(0), fs1, "first_set", "funding", none.clone()).await.map_err(err)?;
    svc.national_step(&reviewer, &f1.id, SubsidyStep::Recommend, true, Money::ZERO, "").await.map_err(err)?;
    svc.national_step(&approver, &f1.id, SubsidyStep::Forward, true, Money::ZERO, "").await.map_err(err)?;
    svc.national_step(&approver, &f1.id, SubsidyStep::Decision, true, f1.amount, "财建〔2026〕（演示）3号")
        .await
        .map_err(err)?;
    svc.national_step(
        &approver,
        &q4,
        SubsidyStep::Decision,
        true,
        Money::ZERO,
        "工信厅装函〔2026〕（演示）4号",
    )
    .await
    .map_err(err)?;
    let f4 = apply(who(1), fs4, "first_set", "funding", none.clone()).await.map_err(err)?;
    svc.national_step(&reviewer, &f4.id, SubsidyStep::Recommend, true, Money::ZERO, "").await.map_err(err)?;
    svc.national_step(&approver, &f4.id, SubsidyStep::Forward, true, Money::ZERO, "").await.map_err(err)?;
    svc.national_step(
        &approver,
        &f4.id,
        SubsidyStep::Decision,
        false,
        Money::ZERO,
        "财建〔2026〕（演示）5号：装备未列入当期目录",
    )
    .await
    .map_err(err)?;
    // The zone notices have run: approve 3, 4 and 6; pay 4 and 6; claw back 6 (the policy
    // was surrendered).
    for i in [3, 4, 6] {
        svc.approve_subsidy(&approver, &z(i)).await.map_err(err)?;
    }
    svc.disburse_subsidy(&approver, &z(4), "GKQ-2026-0001").await.map_err(err)?;
    svc.disburse_subsidy(&approver, &z(6), "GKQ-2026-0002").await.map_err(err)?;
    svc.claw_back_subsidy(&approver, &z(6), false, "企业退保，按规定追回已拨付补贴").await.map_err(err)?;
    // Now: the lapsed offer lapses with a new round, which offers a fresh policy; one
    // application enters its public notice with an objection.
    let now = kebao_service::Clock::now_us(clock);
    if real_now_us > now {
        clock.advance_us(real_now_us - now - DEMO_DAY_US);
    }
    bind(who(2), pid("product_quality_guarantee"), 500_000).await.map_err(err)?;
    svc.offer_auto_grants(&approver, zone).await.map_err(err)?;
    svc.subsidy_department_review(&approver, &z(2), true, "同意公示").await.map_err(err)?;
    svc.object_to_subsidy(&bank, &z(2), "据了解该企业研发项目已于上月终止，请核实保单是否仍然有效")
        .await
        .map_err(err)?;
    let _ = lapse_pol;
    outln!(
        "demo subsidies: applications in every state across the zone, first-set and new-material programmes"
    );
    Ok(())
}
