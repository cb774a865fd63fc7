//! The `kebao` binary, run as a user would.

use std::io::Write;
use std::process::{Command, Output, Stdio};

pub(crate) fn kebao(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kebao"))
        .args(args)
        .env("KEBAO_DATABASE_URL", db)
        .env("KEBAO_LOG", "warn")
        .env("KEBAO_SIGNING_KEY", key_for(db))
        .output()
        .unwrap()
}

/// One signing key (and so one `.heads` journal) per database: tests run in parallel, and
/// the heads one database signed are not another's.
pub(crate) fn key_for(db: &str) -> std::path::PathBuf {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    db.hash(&mut h);
    std::env::temp_dir().join(format!("kebao-cli-test-{}-{:016x}.key", std::process::id(), h.finish()))
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn uscc(n: u32) -> String {
    kebao_domain::Uscc::complete(&format!("91420100{n:09}")).unwrap().to_string()
}

#[test]
fn demo_import_export_and_audit() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("cli.db").display());
    let o = kebao(&db, &["demo", "--enterprises", "30", "--seed", "7", "--no-serve", "--database", &db]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("demo zone:"));
    // Three self-registrations wait for the zone: the bank sees none of them in its export.
    // A second run reuses the database.
    let o = kebao(&db, &["demo", "--no-serve", "--database", &db]);
    assert!(stdout(&o).contains("reusing the demo zone"), "{}", stdout(&o));

    // Subsidies from the command line: the programmes with their caveats, a what-if run
    // that changes nothing, a policy check, and bad input refused.
    let o = kebao(&db, &["subsidy", "programmes"]);
    assert!(
        stdout(&o).contains("zone_tech_insurance") && stdout(&o).contains("not a Donghu rule"),
        "{}",
        stdout(&o)
    );
    let head = stdout(&kebao(&db, &["audit", "head"]));
    let o = kebao(&db, &["subsidy", "what-if", "--programme", "zone_tech_insurance", "--share", "30"]);
    assert!(o.status.success() && stdout(&o).contains("cost:"), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&kebao(&db, &["audit", "head"])), head, "a what-if writes nothing");
    let o = kebao(&db, &["subsidy", "what-if", "--programme", "zone_tech_insurance", "--share", "150"]);
    assert!(!o.status.success() && stderr(&o).contains("0 to 100"), "{}", stderr(&o));
    let o = kebao(&db, &["subsidy", "what-if", "--programme", "no_such"]);
    assert!(!o.status.success() && stderr(&o).contains("does not exist"), "{}", stderr(&o));
    let o = kebao(
        &db,
        &["subsidy", "check", "--policy", "DHKB-P-2026-000001", "--programme", "zone_tech_insurance"],
    );
    assert!(stdout(&o).contains("zone_tech_insurance v1"), "{}{}", stdout(&o), stderr(&o));
    // The declarations the API takes reach the rules: related party, already compensated.
    let check = |extra: &[&str]| {
        let mut args =
            vec!["subsidy", "check", "--policy", "DHKB-P-2026-000001", "--programme", "new_material"];
        args.extend_from_slice(extra);
        stdout(&kebao(&db, &args))
    };
    let plain = check(&[]);
    assert!(plain.contains("new_material v2024"), "{plain}");
    assert!(!plain.contains("related_party:") && !plain.contains("already_compensated:"), "{plain}");
    let declared = check(&["--related-party", "--already-compensated", "--contract-amount", "1500000"]);
    assert!(
        declared.contains("related_party: the user is a related party")
            && declared.contains("already_compensated: the project has already been compensated"),
        "{declared}"
    );
    let o = kebao(
        &db,
        &["subsidy", "check", "--policy", "DHKB-P-1999-000001", "--programme", "zone_tech_insurance"],
    );
    assert!(!o.status.success() && stderr(&o).contains("DHKB-P-1999-000001"), "{}", stderr(&o));
    // A loan's guarantee premium is checked by the loan's id; a policy and a loan at once are
    // refused before anything is read.
    let o =
        kebao(&db, &["subsidy", "check", "--loan", "no-such-loan", "--programme", "loan_guarantee_premium"]);
    assert!(!o.status.success() && stderr(&o).contains("loan `no-such-loan`"), "{}", stderr(&o));
    let o = kebao(
        &db,
        &[
            "subsidy",
            "check",
            "--policy",
            "DHKB-P-2026-000001",
            "--loan",
            "x",
            "--programme",
            "zone_tech_insurance",
        ],
    );
    assert!(!o.status.success() && stderr(&o).contains("cannot be used with"), "{}", stderr(&o));
    let o = kebao(&db, &["ledger", "verify"]);
    assert!(o.status.success(), "{}", stderr(&o));

    // An import with one bad row imports nothing and says which row and column.
    let csv = dir.path().join("in.csv");
    std::fs::write(&csv, format!("name,uscc,kind,industry_code,lifecycle_stage,year,revenue_yuan\n甲,{},enterprise,C3976,rnd,2025,100\n乙,{},enterprise,C3976,rnd,2025,-100\n", uscc(901), uscc(902))).unwrap();
    let head_before = stdout(&kebao(&db, &["audit", "head"]));
    let o = kebao(&db, &["org", "import", csv.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("row      3") && err.contains("revenue_yuan") && err.contains("nothing imported"),
        "{err}"
    );
    assert_eq!(stdout(&kebao(&db, &["audit", "head"])), head_before, "nothing changed");
    // --skip-invalid imports the good row and writes the report.
    let report = dir.path().join("report.csv");
    let o = kebao(
        &db,
        &["org", "import", csv.to_str().unwrap(), "--skip-invalid", "--report", report.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("imported 1 of 2"));
    assert!(std::fs::read_to_string(&report).unwrap().contains("negative"));
    // A spreadsheet lacking a column.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "name,kind\n甲,enterprise\n").unwrap();
    let o = kebao(&db, &["org", "import", bad.to_str().unwrap()]);
    assert!(!o.status.success() && stderr(&o).contains("lacks the required column `uscc`"), "{}", stderr(&o));

    // Export as the operator includes facts; as the demo bank officer it withholds them.
    let all = dir.path().join("all.xlsx");
    let o = kebao(&db, &["org", "export", all.to_str().unwrap(), "--with-facts"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bank = dir.path().join("bank.csv");
    let o = kebao(
        &db,
        &[
            "org",
            "export",
            bank.to_str().unwrap(),
            "--with-facts",
            "--as",
            "bank.officer",
            "--kind",
            "enterprise",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // The demo's 30, the one imported above, and one newcomer that registered itself during the
    // demo's years and was verified.
    assert!(stdout(&o).contains("facts withheld for 32 enterprise(s)"), "{}", stdout(&o));
    let text = std::fs::read_to_string(&bank).unwrap();
    assert!(text.lines().skip(1).all(|l| l.ends_with(",,,,,,,")), "no facts in a bank's export");
    let o = kebao(&db, &["org", "export", dir.path().join("x.pdf").to_str().unwrap()]);
    assert!(!o.status.success() && stderr(&o).contains(".csv or .xlsx"));

    // The audit log verifies, also against the head recorded before.
    let head = stdout(&kebao(&db, &["audit", "head"]));
    let o = kebao(&db, &["audit", "verify", "--expect-head", head.trim()]);
    assert!(o.status.success() && stdout(&o).starts_with("ok: "), "{}{}", stdout(&o), stderr(&o));
    let o = kebao(&db, &["audit", "verify", "--expect-head", "garbage"]);
    assert!(!o.status.success() && stderr(&o).contains("is not a head"));
    // A head from the future (more events than there are) means the tail was cut.
    let (count, hash) = head.trim().split_once(':').unwrap();
    let future = format!("{}:{hash}", count.parse::<u64>().unwrap() + 5);
    let o = kebao(&db, &["audit", "verify", "--expect-head", &future]);
    assert!(!o.status.success() && stderr(&o).contains("newest events were deleted"), "{}", stderr(&o));

    // The development index: the demo stored runs; a run exported rebuilds to the same scores
    // and rank intervals with `kebao index build` and `kebao index uncertainty`.
    let o = kebao(&db, &["index", "runs"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let id = stdout(&o)
        .lines()
        .find(|l| l.contains(" park "))
        .and_then(|l| l.split_whitespace().next())
        .map(str::to_owned);
    let id = id.unwrap_or_else(|| panic!("no park run: {}", stdout(&o)));
    let o = kebao(&db, &["index", "run", "--units", "industry", "--year", "2025"]);
    assert!(
        o.status.success() && stdout(&o).contains("index of 5+2 industries, version"),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
    let o = kebao(&db, &["index", "run", "--units", "districts", "--year", "2025"]);
    assert!(!o.status.success() && stderr(&o).contains("unit_kind"), "{}", stderr(&o));
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&kebao(&db, &["index", "show", &id, "--json"]))).unwrap();
    let out = dir.path().join("index-run");
    let o = kebao(&db, &["index", "export", &id, "--dir", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let f = |n: &str| out.join(n).to_str().unwrap().to_owned();
    let o = kebao(
        &db,
        &[
            "index",
            "build",
            "--framework",
            &f("iMeta.csv"),
            "--data",
            &f("iData.csv"),
            "--config",
            &f("config.toml"),
            "--out",
            &f("results.csv"),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let rebuilt = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let units = json["units"].as_array().unwrap();
    assert!(units.len() >= 2, "{json}");
    for u in units {
        let line = rebuilt
            .lines()
            .find(|l| {
                l.split(',').next().map(|c| c.trim_start_matches('\u{feff}'))
                    == Some(u["id"].as_str().unwrap())
            })
            .unwrap();
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[1], u["rank"].as_u64().unwrap().to_string(), "{line}");
        let kbi = u["scores"][0].as_f64().unwrap();
        assert_eq!(cells[2], format!("{kbi:.10}"), "{line} against {u}");
    }
    let o = kebao(
        &db,
        &[
            "index",
            "uncertainty",
            "--framework",
            &f("iMeta.csv"),
            "--data",
            &f("iData.csv"),
            "--config",
            &f("config.toml"),
            "--out",
            &f("ranks.csv"),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let ranks = std::fs::read_to_string(out.join("ranks.csv")).unwrap();
    for u in units {
        let id = u["id"].as_str().unwrap();
        let line = ranks
            .lines()
            .find(|l| l.split(',').next().map(|c| c.trim_start_matches('\u{feff}')) == Some(id))
            .unwrap();
        let want = format!(
            "{},{},{},{},{}",
            id,
            u["rank"],
            u["median"].as_f64().unwrap(),
            u["q05"].as_f64().unwrap(),
            u["q95"].as_f64().unwrap()
        );
        assert_eq!(line.trim_start_matches('\u{feff}'), want);
    }
    // Official statistics with a bad row: nothing imported, each row named.
    let csv = dir.path().join("official.csv");
    std::fs::write(
        &csv,
        "unit_kind,unit,year,indicator,value,source\npark,biolake,2025,rnd_intensity,x,公报\n",
    )
    .unwrap();
    let o = kebao(&db, &["index", "import", csv.to_str().unwrap()]);
    assert!(!o.status.success() && stdout(&o).contains("row 2 `value`"), "{}{}", stdout(&o), stderr(&o));
}

#[test]
fn users_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("u.db").display());
    assert!(kebao(&db, &["demo", "--enterprises", "5", "--no-serve", "--database", &db]).status.success());
    let zone_uscc = {
        let csv = dir.path().join("gov.csv");
        assert!(kebao(&db, &["org", "export", csv.to_str().unwrap(), "--kind", "government"])
            .status
            .success());
        let text = std::fs::read_to_string(&csv).unwrap();
        text.lines().find(|l| l.contains("管理委员会")).unwrap().split(',').nth(1).unwrap().to_owned()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_kebao"))
        .args([
            "user",
            "add",
            "--org",
            &zone_uscc,
            "--username",
            "new.reviewer",
            "--name",
            "新审核员",
            "--roles",
            "zone_reviewer",
            "--password-stdin",
        ])
        .env("KEBAO_DATABASE_URL", &db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"a long enough password\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    // Wrong input: unknown role, a role that does not fit, an unknown organisation, a short password.
    let o = kebao(
        &db,
        &["user", "add", "--org", &zone_uscc, "--username", "x.y", "--name", "X", "--roles", "astronaut"],
    );
    assert!(!o.status.success() && stderr(&o).contains("unknown role `astronaut`"), "{}", stderr(&o));
    let o = kebao(
        &db,
        &["user", "add", "--org", &zone_uscc, "--username", "x.y", "--name", "X", "--roles", "underwriter"],
    );
    assert!(
        !o.status.success() && stderr(&o).contains("cannot hold the role `underwriter`"),
        "{}",
        stderr(&o)
    );
    let o = kebao(
        &db,
        &["user", "add", "--org", &uscc(999), "--username", "x.y", "--name", "X", "--roles", "zone_reviewer"],
    );
    assert!(!o.status.success() && stderr(&o).contains("no organisation"), "{}", stderr(&o));
    let o = kebao(&db, &["user", "reset-password", "--username", "new.reviewer"]);
    assert!(o.status.success() && stdout(&o).contains("password: "), "{}", stderr(&o));
    let o = kebao(&db, &["user", "reset-password", "--username", "nobody.here"]);
    assert!(!o.status.success() && stderr(&o).contains("not found"), "{}", stderr(&o));
    let o = kebao("sqlite:///nonexistent-dir/x.db", &["audit", "head"]);
    assert!(!o.status.success() && stderr(&o).contains("opening database"), "{}", stderr(&o));
    let o = kebao("mysql://x", &["audit", "head"]);
    assert!(!o.status.success() && stderr(&o).contains("unsupported database url"), "{}", stderr(&o));
}

#[test]
fn fit_glm_from_the_command_line() {
    let data =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/reference/mass_insurance.csv");
    let data = data.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let o = kebao(
        "sqlite://unused",
        &[
            "fit",
            "glm",
            "--data",
            data,
            "--family",
            "poisson",
            "--response",
            "Claims",
            "--offset",
            "log:Holders",
            "--factors",
            "District,Group,Age",
            "--plan",
            plan.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("deviance: 51.4200327 on 54 degrees of freedom"), "{out}");
    assert!(out.contains("Group>2l"));
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    assert_eq!(json["schema"], "kebao.rating_plan/1");
    assert_eq!(json["factors"][1]["name"], "Group");
    // Wrong input: each gets a clear error and a non-zero exit.
    let bad = |args: &[&str], expect: &str| {
        let mut all = vec!["fit", "glm", "--data", data, "--response", "Claims"];
        all.extend_from_slice(args);
        let o = kebao("sqlite://unused", &all);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(stderr(&o).contains(expect), "{args:?}: {}", stderr(&o));
    };
    bad(&["--family", "poison"], "unknown family `poison`");
    bad(&["--family", "tweedie"], "needs --power");
    bad(&["--family", "tweedie", "--power", "2.5"], "strictly between 1 and 2");
    bad(&["--family", "poisson", "--factors", "Colour"], "no column `Colour`");
    bad(
        &["--family", "gamma", "--factors", "District", "--offset", "log:Holders", "--link", "logit"],
        "logit link cannot be used",
    );
    bad(&["--family", "poisson", "--factors", "District", "--reference", "District=9"], "no level `9`");
    let neg = dir.path().join("neg.csv");
    std::fs::write(&neg, "Claims,Holders,g\n1,10,a\n-2,10,b\n3,0,a\n").unwrap();
    let o = kebao(
        "sqlite://unused",
        &[
            "fit",
            "glm",
            "--data",
            neg.to_str().unwrap(),
            "--family",
            "poisson",
            "--response",
            "Claims",
            "--factors",
            "g",
        ],
    );
    assert!(stderr(&o).contains("row 2: the response -2 is outside the support"), "{}", stderr(&o));
    let o = kebao(
        "sqlite://unused",
        &[
            "fit",
            "glm",
            "--data",
            neg.to_str().unwrap(),
            "--family",
            "poisson",
            "--response",
            "Holders",
            "--offset",
            "log:Holders",
        ],
    );
    assert!(stderr(&o).contains("line 4: exposure `Holders` is 0"), "{}", stderr(&o));
    let gaps = dir.path().join("gaps.csv");
    std::fs::write(&gaps, "Claims,x\n1,2\n,3\n").unwrap();
    let o = kebao(
        "sqlite://unused",
        &[
            "fit",
            "glm",
            "--data",
            gaps.to_str().unwrap(),
            "--family",
            "poisson",
            "--response",
            "Claims",
            "--numeric",
            "x",
        ],
    );
    assert!(stderr(&o).contains("line 3, column `Claims`: `` is not a number"), "{}", stderr(&o));
}

#[test]
fn index_build_reproduces_coinr() {
    let asem = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/reference/asem");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results.csv");
    let (fw, data) = (asem.join("asem_iMeta.csv"), asem.join("asem_iData.csv"));
    let o = kebao(
        "sqlite://unused",
        &[
            "index",
            "build",
            "--framework",
            fw.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--group",
            "EurAsia_group",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("1. CHE      68.3837242383"), "{}", stdout(&o));
    let ours = std::fs::read_to_string(&out).unwrap();
    let coinr = std::fs::read_to_string(asem.join("coinr-default/asem_results.csv")).unwrap();
    // Same rows in the same order, same values to the 10 decimals COINr printed.
    let norm = |s: &str| {
        s.trim_start_matches('\u{feff}').replace('"', "").lines().map(str::to_owned).collect::<Vec<_>>()
    };
    assert_eq!(norm(&ours).len(), norm(&coinr).len());
    for (a, b) in norm(&ours).iter().zip(norm(&coinr)).skip(1) {
        let (a, b): (Vec<&str>, Vec<&str>) = (a.split(',').collect(), b.split(',').collect());
        assert_eq!(a[..2], b[..2]);
        for (x, y) in a.iter().zip(&b).skip(2) {
            assert!((x.parse::<f64>().unwrap() - y.parse::<f64>().unwrap()).abs() < 1e-9, "{x} vs {y}");
        }
    }
    assert!(out.with_extension("xlsx").exists());
    let o = kebao(
        "sqlite://unused",
        &[
            "index",
            "build",
            "--framework",
            data.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(!o.status.success() && stderr(&o).contains("iMeta"), "{}", stderr(&o));
}

#[test]
fn index_uncertainty_runs_and_refuses_nonsense() {
    let asem = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/reference/asem");
    let (fw, data) = (asem.join("asem_iMeta.csv"), asem.join("asem_iData.csv"));
    let base = [
        "index",
        "uncertainty",
        "--framework",
        fw.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--group",
        "EurAsia_group",
    ];
    let mut args = base.to_vec();
    args.extend([
        "--runs",
        "100",
        "--aggregations",
        "arithmetic,geometric",
        "--imputations",
        "group,median",
        "--sensitivity",
        "20",
    ]);
    let o = kebao("sqlite://unused", &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("100 runs over weights, aggregation, imputation") && out.contains("CHE            1"),
        "{out}"
    );
    assert!(out.contains("sensitivity of the mean absolute rank shift (100 runs)"), "{out}");
    for (extra, expect) in [
        (vec!["--runs", "0"], "--runs must be at least 1"),
        (vec!["--weight-noise", "1.5"], "--weight-noise is a share"),
        (vec!["--aggregations", "median"], "unknown aggregation `median`"),
        (vec!["--imputations", "magic"], "unknown imputation `magic`"),
        (vec!["--weight-noise", "0", "--sensitivity", "10"], "nothing is uncertain"),
    ] {
        let mut a = base.to_vec();
        a.extend(extra);
        let o = kebao("sqlite://unused", &a);
        assert!(!o.status.success() && stderr(&o).contains(expect), "{}", stderr(&o));
    }
}

#[test]
fn scorecard_fit_and_score() {
    let data =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/reference/germancredit_split.csv");
    let data = data.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("card.json");
    let o = kebao(
        "sqlite://unused",
        &[
            "fit",
            "scorecard",
            "--data",
            data,
            "--target",
            "creditability",
            "--bad",
            "bad",
            "--split-col",
            "split",
            "--out",
            model.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let auc: f64 = out.lines().find_map(|l| l.strip_prefix("test AUC: ")).unwrap().parse().unwrap();
    assert!(auc >= 0.79, "{auc}");
    assert!(out.contains("IV ranking:") && out.contains("status_of_existing_checking_account"));
    assert!(
        out.contains("score PSI (test against training)")
            && out.contains("CSI status_of_existing_checking_account"),
        "{out}"
    );
    let scored = dir.path().join("scored.csv");
    let o = kebao(
        "sqlite://unused",
        &["score", "--model", model.to_str().unwrap(), "--data", data, "--out", scored.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&scored).unwrap();
    assert_eq!(text.lines().count(), 1001);
    assert!(text.contains("reason_1"));
    // Wrong input.
    let o = kebao("sqlite://unused", &["fit", "scorecard", "--data", data, "--target", "creditability"]);
    assert!(!o.status.success() && stderr(&o).contains("not 0/1"), "{}", stderr(&o));
    let o = kebao("sqlite://unused", &["fit", "scorecard", "--data", data, "--target", "nope"]);
    assert!(!o.status.success() && stderr(&o).contains("no column `nope`"), "{}", stderr(&o));
    let o = kebao(
        "sqlite://unused",
        &["fit", "scorecard", "--data", data, "--target", "creditability", "--bad", "nobody"],
    );
    assert!(!o.status.success() && stderr(&o).contains("single class"), "{}", stderr(&o));
    let o = kebao("sqlite://unused", &["score", "--model", data, "--data", data]);
    assert!(!o.status.success() && stderr(&o).contains("not a scorecard model"), "{}", stderr(&o));
}

/// The column reader behind `fit glm`, `fit scorecard` and `score`: a bad cell, a ragged row
/// or a missing column is named by file, line and column.
#[test]
fn bad_cells_are_named_by_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let data =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/reference/germancredit_split.csv");
    let model = dir.path().join("card.json");
    let args =
        ["fit", "scorecard", "--data", data.to_str().unwrap(), "--target", "creditability", "--bad", "bad"];
    let o = kebao(
        "sqlite://unused",
        &[&args[..], &["--split-col", "split", "--out", model.to_str().unwrap()]].concat(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // Scoring: the second record's duration is text.
    let text = std::fs::read_to_string(&data).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[2] = lines[2].replacen(",48,", ",forty-eight,", 1);
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let o = kebao(
        "sqlite://unused",
        &["score", "--model", model.to_str().unwrap(), "--data", bad.to_str().unwrap()],
    );
    let want =
        format!("{}: line 3, column `duration_in_month`: `forty-eight` is not a number", bad.display());
    assert!(!o.status.success() && stderr(&o).contains(&want), "{}", stderr(&o));
    // A ragged row.
    let ragged = dir.path().join("ragged.csv");
    std::fs::write(&ragged, "Claims,g\n1,a\n2\n").unwrap();
    let o = kebao(
        "sqlite://unused",
        &[
            "fit",
            "glm",
            "--data",
            ragged.to_str().unwrap(),
            "--family",
            "poisson",
            "--response",
            "Claims",
            "--factors",
            "g",
        ],
    );
    let want = format!("{}: line 3: 1 fields where the header has 2", ragged.display());
    assert!(!o.status.success() && stderr(&o).contains(&want), "{}", stderr(&o));
    // An excluded column must exist.
    let o = kebao("sqlite://unused", &[&args[..], &["--exclude", "colour"]].concat());
    assert!(!o.status.success() && stderr(&o).contains("no column `colour`"), "{}", stderr(&o));
}

#[test]
fn consent_credit_reports_and_proofs_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("c.db").display());
    let o = kebao(&db, &["demo", "--enterprises", "30", "--seed", "7", "--no-serve", "--database", &db]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("demo showcase: "), "{}", stdout(&o));
    let industries = kebao_domain::IndustryMap::from_toml(kebao_service::CATALOGUE).unwrap();
    let zone = kebao_sim::generate(
        &kebao_sim::Options { seed: 7, enterprises: 30, ..Default::default() },
        &industries,
    );
    let ent = zone.users.iter().find(|u| u.username == "ent.admin").unwrap().org_uscc.clone();
    // The bank reads under its consent; the read names its basis; others are withheld.
    let o =
        kebao(&db, &["credit", "report", "--as", "bank.officer", "--org", &ent, "--purpose", "loan_review"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("[financial_facts / enterprise] basis consent"), "{out}");
    assert!(out.contains("[policies_claims / sensitive_personal] withheld"), "{out}");
    // The wrong purpose, an unknown purpose, a revoked consent: refused with a reason.
    let o =
        kebao(&db, &["credit", "report", "--as", "bank.officer", "--org", &ent, "--purpose", "underwriting"]);
    assert!(!o.status.success() && stderr(&o).contains("not for this purpose"), "{}", stderr(&o));
    let o =
        kebao(&db, &["credit", "report", "--as", "bank.officer", "--org", &ent, "--purpose", "curiosity"]);
    assert!(!o.status.success() && stderr(&o).contains("not on the list"), "{}", stderr(&o));
    let o = kebao(
        &db,
        &["credit", "report", "--as", "guarantor.officer", "--org", &ent, "--purpose", "loan_review"],
    );
    assert!(!o.status.success() && stderr(&o).contains("revoked"), "{}", stderr(&o));
    // Exports go through the same check: facts only under the consent's purpose.
    let out_csv = dir.path().join("e.csv");
    let o = kebao(
        &db,
        &[
            "org",
            "export",
            out_csv.to_str().unwrap(),
            "--kind",
            "enterprise",
            "--with-facts",
            "--as",
            "bank.officer",
            "--purpose",
            "loan_review",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out_csv).unwrap();
    let with_facts: Vec<&str> = text.lines().filter(|l| l.contains(&ent)).collect();
    assert_eq!(with_facts.len(), 1);
    assert!(with_facts[0].split(',').filter(|c| !c.is_empty()).count() > 10, "{}", with_facts[0]);
    // A proof of an event verifies against a signed head; a doctored one does not.
    let sth = dir.path().join("sth.json");
    let o = kebao(&db, &["audit", "sign-head"]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::write(&sth, stdout(&o)).unwrap();
    let proof = dir.path().join("p.json");
    let o = kebao(&db, &["audit", "prove", "--seq", "5"]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::write(&proof, stdout(&o)).unwrap();
    let o =
        kebao(&db, &["audit", "verify-proof", proof.to_str().unwrap(), "--tree-head", sth.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("ok: event #5"));
    let bad =
        stdout(&kebao(&db, &["audit", "prove", "--seq", "5"])).replacen("\"actor\": \"", "\"actor\": \"x", 1);
    std::fs::write(&proof, bad).unwrap();
    let o =
        kebao(&db, &["audit", "verify-proof", proof.to_str().unwrap(), "--tree-head", sth.to_str().unwrap()]);
    assert!(!o.status.success() && stderr(&o).contains("altered"), "{}", stderr(&o));
    // A proof checked against nothing but the head it carries proves nothing: refused.
    std::fs::write(&proof, stdout(&kebao(&db, &["audit", "prove", "--seq", "5"]))).unwrap();
    let o = kebao(&db, &["audit", "verify-proof", proof.to_str().unwrap()]);
    assert!(!o.status.success() && stderr(&o).contains("give --tree-head"), "{}", stderr(&o));
    // Not JSON at all.
    std::fs::write(&proof, "nonsense").unwrap();
    let o = kebao(&db, &["audit", "verify-proof", proof.to_str().unwrap()]);
    assert!(!o.status.success() && stderr(&o).contains("is not a Kebao inclusion proof"), "{}", stderr(&o));
    // The whole log matches its signed heads.
    let o = kebao(&db, &["audit", "verify"]);
    assert!(o.status.success() && stdout(&o).contains("signed tree heads"), "{}{}", stdout(&o), stderr(&o));
}

#[test]
fn deleted_tree_heads_are_found_by_the_copy_beside_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("heads.db").display());
    std::fs::write(key_for(&db), "07".repeat(32)).unwrap();
    let journal = format!("{}.heads", key_for(&db).display());
    let _ = std::fs::remove_file(&journal);
    let import = |from: u32| {
        let csv = dir.path().join(format!("orgs{from}.csv"));
        std::fs::write(
            &csv,
            format!(
                "name,uscc,kind,industry_code,lifecycle_stage,year,revenue_yuan\n甲{from},{},enterprise,C3976,rnd,2025,100\n乙{from},{},enterprise,C3976,rnd,2025,100\n",
                uscc(from),
                uscc(from + 1)
            ),
        )
        .unwrap();
        let o = kebao(&db, &["org", "import", csv.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
    };
    import(701);
    assert!(kebao(&db, &["audit", "sign-head"]).status.success());
    import(711);
    let o = kebao(&db, &["audit", "sign-head"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Each head signed is also a line of the journal beside the key.
    assert_eq!(std::fs::read_to_string(&journal).unwrap().lines().count(), 2);
    let o = kebao(&db, &["audit", "verify"]);
    assert!(
        o.status.success() && stdout(&o).contains("all 2 signed tree heads recorded in"),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );

    // Deleting the heads from the database (as a rewrite of the log would) is seen.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let store = kebao_store::Store::open(&db, &kebao_store::OpenOptions::default()).await.unwrap();
        let mut tx = store.begin_write().await.unwrap();
        sqlx::query("DELETE FROM tree_heads").execute(tx.conn()).await.unwrap();
        tx.commit_unlogged(kebao_store::Unlogged::Tampering).await.unwrap();
        store.close().await;
    });
    let o = kebao(&db, &["audit", "verify"]);
    assert!(!o.status.success(), "{}", stdout(&o));
    assert!(stderr(&o).contains("kept outside the database, is missing from the database"), "{}", stderr(&o));
}

#[test]
fn passwords_the_operator_sets_are_changed_first_and_the_database_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    let db = format!("sqlite://{}", path.display());
    assert!(kebao(&db, &["demo", "--enterprises", "5", "--no-serve", "--database", &db]).status.success());
    // The file holds password hashes: its owner alone reads it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "database file mode {mode:o}");
    }
    let o = kebao(&db, &["user", "reset-password", "--username", "ent.admin"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let store = kebao_store::Store::open(&db, &kebao_store::OpenOptions::default()).await.unwrap();
        let svc = kebao_service::Service::with_defaults(store).unwrap();
        // The demo's logins browse without a forced change; a reset by the operator forces one.
        assert!(!svc.find_user("bank.officer").await.unwrap().must_change_password);
        assert!(svc.find_user("ent.admin").await.unwrap().must_change_password);
    });
}

/// How standard output goes away under a command that prints to it.
#[derive(Clone, Copy, Debug)]
enum Reader {
    /// `| head -n 1`: the first line is read, then the read end is closed.
    HeadOne,
    /// The read end is closed as the command starts, long before it has read its input and
    /// printed anything: its first write meets `EPIPE`.
    Gone,
}

/// Runs the binary with standard output a pipe that `reader` closes; returns the exit status
/// and standard error.
fn kebao_into_closed_pipe(args: &[&str], reader: Reader) -> (std::process::ExitStatus, String) {
    use std::io::{BufRead, Read};
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kebao"));
    cmd.args(args)
        .env("KEBAO_DATABASE_URL", "sqlite://unused")
        .env("KEBAO_LOG", "warn")
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = match reader {
        Reader::HeadOne => {
            let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
            let mut lines = std::io::BufReader::new(child.stdout.take().unwrap());
            let mut first = String::new();
            lines.read_line(&mut first).unwrap();
            assert!(!first.is_empty(), "{args:?} printed nothing");
            drop(lines);
            child
        }
        Reader::Gone => {
            let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
            drop(child.stdout.take());
            child
        }
    };
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (child.wait().unwrap(), err)
}

/// `kebao index build … | head -n 1` and friends: a closed pipe ends the command quietly with
/// status 0 (no panic, no 101), and the files the command writes are written in full.
#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    let asem = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/reference/asem");
    let (fw, data) = (asem.join("asem_iMeta.csv"), asem.join("asem_iData.csv"));
    let (fw, data) = (fw.to_str().unwrap(), data.to_str().unwrap());
    let credit =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/reference/germancredit_split.csv");
    let credit = credit.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let results = file("weights-results.csv");
    // Each command; `OUT` stands for the file it writes.
    let commands = [
        (
            "weights",
            vec![
                "index",
                "build",
                "--framework",
                fw,
                "--data",
                data,
                "--weights",
                "pca",
                "--out",
                &results,
                "--weights-out",
                "OUT",
            ],
        ),
        (
            "build",
            vec![
                "index",
                "build",
                "--framework",
                fw,
                "--data",
                data,
                "--group",
                "EurAsia_group",
                "--out",
                "OUT",
            ],
        ),
        (
            "uncertainty",
            vec![
                "index",
                "uncertainty",
                "--framework",
                fw,
                "--data",
                data,
                "--group",
                "EurAsia_group",
                "--runs",
                "50",
                "--aggregations",
                "arithmetic,geometric",
                "--sensitivity",
                "5",
                "--out",
                "OUT",
            ],
        ),
        (
            "scorecard",
            vec![
                "fit",
                "scorecard",
                "--data",
                credit,
                "--target",
                "creditability",
                "--bad",
                "bad",
                "--split-col",
                "split",
                "--out",
                "OUT",
            ],
        ),
    ];
    let args = |a: &[&str], out: &str| -> Vec<String> {
        a.iter().map(|x| if *x == "OUT" { out.to_owned() } else { (*x).to_owned() }).collect()
    };
    for (name, command) in commands {
        // The file as the command writes it with standard output read to the end.
        let reference = file(&format!("{name}-reference"));
        let a = args(&command, &reference);
        let o = kebao("sqlite://unused", &a.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        assert!(stdout(&o).lines().count() > 5, "{name} prints a lot: {}", stdout(&o));
        let reference = std::fs::read(&reference).unwrap();
        for reader in [Reader::HeadOne, Reader::Gone] {
            let out = file(&format!("{name}-{reader:?}"));
            let a = args(&command, &out);
            let (status, err) =
                kebao_into_closed_pipe(&a.iter().map(String::as_str).collect::<Vec<_>>(), reader);
            assert!(!err.contains("panicked"), "{name}, {reader:?}: {err}");
            assert_eq!(status.code(), Some(0), "{name}, {reader:?}: {err}");
            assert!(
                std::fs::read(&out).unwrap() == reference,
                "{name}, {reader:?}: the --out file is not complete"
            );
        }
    }
    // Scores to standard output, the one command whose product is standard output.
    let model = file("scorecard-reference");
    for reader in [Reader::HeadOne, Reader::Gone] {
        let (status, err) = kebao_into_closed_pipe(&["score", "--model", &model, "--data", credit], reader);
        assert!(!err.contains("panicked") && status.code() == Some(0), "score, {reader:?}: {status} {err}");
    }
}

#[test]
fn the_demo_zone_lives_years_through_the_service_and_its_totals_reconcile() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("life.db").display());
    let o = kebao(
        &db,
        &["demo", "--enterprises", "60", "--years", "2", "--seed", "11", "--no-serve", "--database", &db],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let line = out.lines().find(|l| l.starts_with("demo activity:")).unwrap_or_else(|| panic!("{out}"));
    // "… N commands …: P policies, C claims, D disputes"
    let count = |what: &str| -> u64 {
        let at = line.find(what).unwrap_or_else(|| panic!("{line}"));
        line[..at]
            .split_whitespace()
            .last()
            .unwrap()
            .trim_matches(|c: char| !c.is_ascii_digit())
            .parse()
            .unwrap()
    };
    assert!(count(" policies") >= 40, "{line}");
    assert!(count(" commands") > count(" policies"), "{line}");
    // Both verifiers pass, and the totals re-derived from the events match the tables.
    let o = kebao(&db, &["ledger", "verify"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let o = kebao(&db, &["audit", "verify"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let o = kebao(&db, &["audit", "reconcile"]);
    assert!(o.status.success() && stdout(&o).contains("ok:"), "{}{}", stdout(&o), stderr(&o));
    assert!(!stdout(&o).contains("DIFFER"), "{}", stdout(&o));
}

#[test]
fn loan_schemes_are_checked_listed_and_loaded_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("l.db").display());
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/loans/schemes.toml");
    let o = kebao(&db, &["loan", "check", shipped]);
    assert!(o.status.success() && stdout(&o).contains("ok tianmen_style v1"), "{}", stderr(&o));
    let text = std::fs::read_to_string(shipped).unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, text.replacen("insurer_bp = 7000", "insurer_bp = 6000", 1)).unwrap();
    let o = kebao(&db, &["loan", "check", bad.to_str().unwrap()]);
    assert!(!o.status.success() && stdout(&o).contains("tianmen_style.shares"), "{}", stdout(&o));
    assert!(kebao(&db, &["demo", "--enterprises", "5", "--no-serve", "--database", &db]).status.success());
    let v2 = dir.path().join("v2.toml");
    std::fs::write(&v2, text.replace("version = 1", "version = 2")).unwrap();
    let o = kebao(&db, &["loan", "load", "--as", "bank.officer", v2.to_str().unwrap()]);
    assert!(!o.status.success(), "a bank does not load schemes");
    let o = kebao(&db, &["loan", "load", "--as", "zone.approver", v2.to_str().unwrap()]);
    assert!(o.status.success() && stdout(&o).contains("loaded tianmen_style v2"), "{}", stderr(&o));
    let o = kebao(&db, &["loan", "load", "--as", "zone.approver", v2.to_str().unwrap()]);
    assert!(!o.status.success() && stderr(&o).contains("never replaced"), "{}", stderr(&o));
    let o = kebao(&db, &["loan", "schemes"]);
    assert!(stdout(&o).contains("tianmen_style\tv2") && stdout(&o).contains("[C-local]"), "{}", stdout(&o));
}

#[test]
fn a_scheme_is_simulated_from_the_command_line_and_bad_input_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("s.db").display());
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/loans/schemes.toml");
    let pool = dir.path().join("pool.csv");
    std::fs::write(&pool, "count,principal,pd,lgd\n400,300000,0.03,0.45\n100,1000000,0.02,0.45\n").unwrap();
    let out = dir.path().join("results.json");
    let args = |scheme: &str, pool: &str, scenarios: &str| -> Vec<String> {
        [
            "scheme",
            "simulate",
            "--scheme",
            scheme,
            "--scheme-id",
            "tianmen_style",
            "--pool",
            pool,
            "--scenarios",
            scenarios,
            "--seed",
            "5",
            "--rho",
            "0.2",
            "--out",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .chain([out.to_str().unwrap().to_owned()])
        .collect()
    };
    let run = |a: Vec<String>| kebao(&db, &a.iter().map(String::as_str).collect::<Vec<_>>());
    let o = run(args(shipped, pool.to_str().unwrap(), "5000"));
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("tianmen_style v1: 500 loans × 5000 scenarios"), "{}", stdout(&o));
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    // 400 × 3 % × 300,000 × 0.45 + 100 × 2 % × 1,000,000 × 0.45 = 2,520,000 yuan expected.
    let (mean, se) =
        (r["gross"]["mean"]["value"].as_f64().unwrap(), r["gross"]["mean"]["se"].as_f64().unwrap());
    assert!((mean - 2_520_000.0).abs() < 4.0 * se, "{mean} ± {se}");
    assert_eq!(r["params"]["seed"], 5);
    // The same seed, the same file.
    let first = std::fs::read_to_string(&out).unwrap();
    assert!(run(args(shipped, pool.to_str().unwrap(), "5000")).status.success());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), first);
    std::fs::remove_file(&out).unwrap();
    // A scheme that does not load, a pool with a negative principal, a run above the cap: each
    // refused with the reason, and no file written.
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(shipped).unwrap().replacen("insurer_bp = 7000", "insurer_bp = 6000", 1),
    )
    .unwrap();
    let o = run(args(bad.to_str().unwrap(), pool.to_str().unwrap(), "5000"));
    assert!(!o.status.success() && stderr(&o).contains("does not load"), "{}", stderr(&o));
    let neg = dir.path().join("neg.csv");
    std::fs::write(&neg, "principal,pd,lgd\n-1,0.02,0.4\n").unwrap();
    let o = run(args(shipped, neg.to_str().unwrap(), "5000"));
    assert!(!o.status.success() && stderr(&o).contains("line 2"), "{}", stderr(&o));
    let o = run(args(shipped, pool.to_str().unwrap(), "2000000"));
    assert!(!o.status.success() && stderr(&o).contains("cap"), "{}", stderr(&o));
    assert!(!out.exists());
}
