//! Each role's working day, walked in headless Chromium against the demo zone as a user
//! starts it (`kebao demo`): the pages the role uses daily and one action, at desktop width
//! and at 390 px, in Chinese and in English. A page fails when it answers 4xx or 5xx, when
//! it scrolls sideways, when it shows an internal key (the domain's enum codes, the
//! catalogue's type ids, rating band keys), or when the English page shows Chinese text that
//! is not data (names, addresses and free text, read from the database).
//!
//! Text marked `translate="no"` (a proper name shortened to fit a chart, an official
//! document's title) and code samples are not checked.
//!
//! Set `KEBAO_WALK_SHOTS=DIR` to keep a screenshot of every page walked.

use crate::cli::key_for;
use crate::webdriver::Driver;
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const PW: &str = "kebao-demo-2026";

/// A role's day: its demo login, the pages it opens, and the links it follows, each from a
/// page of its own (the cases it works on).
struct Day {
    login: &'static str,
    pages: &'static [&'static str],
    follow: &'static [(&'static str, &'static str)],
}

const DAYS: &[Day] = &[
    Day {
        login: "ent.admin",
        pages: &[
            "/dashboard",
            "/policies",
            "/policies/register",
            "/claims",
            "/disputes",
            "/subsidies",
            "/consents",
            "/account/data",
            "/products",
            "/loans",
            "/loans/new",
        ],
        // A policy, and one whose premium is still due (its payment card), from the dashboard;
        // a loan being repaid.
        follow: &[
            ("/policies", "#policies a[href^='/policies/']"),
            ("/dashboard", "#underway a[href^='/policies/']"),
            ("/loans?status=servicing", "#loans a[href^='/loans/']"),
        ],
    },
    Day {
        login: "ins.underwriter",
        pages: &["/dashboard", "/underwriting", "/policies", "/policies?status=unconfirmed", "/loans"],
        // A policy, a paper policy waiting for its confirmation, the insurer's own page (its
        // collection account), and an approved loan waiting for its guarantee policy.
        follow: &[
            ("/loans?status=approved", "#loans a[href^='/loans/']"),
            ("/policies", "#policies a[href^='/policies/']"),
            ("/policies?status=unconfirmed", "#policies a[href^='/policies/']"),
            ("/dashboard", "a[href^='/orgs/']"),
        ],
    },
    Day {
        login: "ins.claims",
        pages: &["/dashboard", "/claims", "/disputes"],
        follow: &[("/claims", "#claims a[href^='/claims/']")],
    },
    Day {
        login: "ins.filer",
        pages: &["/dashboard", "/filings"],
        // A filing (its rating plan form), not the form for a new one.
        follow: &[("/filings", "a[href^='/filings/']:not([href='/filings/new'])")],
    },
    Day {
        login: "zone.reviewer",
        pages: &["/dashboard", "/subsidies", "/filings", "/orgs?status=pending", "/policies", "/claims"],
        follow: &[("/subsidies", "td a[href^='/subsidies/']")],
    },
    Day {
        login: "zone.approver",
        pages: &[
            "/dashboard",
            "/subsidies",
            "/subsidies/dashboard",
            "/zone/insurance",
            "/disputes",
            "/loans",
            "/loans/dashboard",
            "/loans/schemes",
            "/loans/simulate",
        ],
        follow: &[("/subsidies", "td a[href^='/subsidies/']")],
    },
    Day {
        login: "regulator",
        pages: &[
            "/dashboard",
            "/zone/insurance",
            "/policies",
            "/claims",
            "/disputes",
            "/audit",
            "/jobs",
            "/loans/dashboard",
        ],
        follow: &[("/disputes", "#disputes a[href^='/disputes/']")],
    },
    Day {
        login: "mediator",
        pages: &["/dashboard", "/disputes"],
        follow: &[("/disputes", "#disputes a[href^='/disputes/']")],
    },
    Day {
        login: "bank.officer",
        pages: &["/dashboard", "/consents", "/orgs?kind=enterprise", "/loans", "/loans?status=servicing"],
        follow: &[("/loans?status=in_review", "#loans a[href^='/loans/']")],
    },
    Day { login: "guarantor.officer", pages: &["/dashboard", "/consents", "/loans"], follow: &[] },
    Day {
        login: "platform.admin",
        pages: &[
            "/dashboard",
            "/admin/users",
            "/audit",
            "/audit?kind=policy",
            "/jobs",
            "/admin/data-requests",
            "/admin/impact-assessments",
            "/admin/password",
        ],
        follow: &[("/admin/data-requests", "#data-requests a[href^='/admin/data-requests/']")],
    },
];

/// One action of a role's day, done as the person does it: from a list, open the case (a
/// script that returns its address), fill and send the form (a script; confirmations are
/// accepted), and land on a page whose address shows what happened.
struct Act {
    login: &'static str,
    what: &'static str,
    list: &'static str,
    open: Option<&'static str>,
    fill: &'static str,
    expect: &'static str,
    /// What must be on the page after (a CSS selector; empty: nothing in particular).
    shows: &'static str,
}

const ACTS: &[Act] = &[
    Act {
        login: "ent.admin",
        what: "reports a claim on a policy in force",
        list: "/policies?status=in_force",
        open: Some("const a = document.querySelector(\"#policies a[href^='/policies/']\"); return a && a.getAttribute('href');"),
        fill: "const f = document.querySelector('#report-claim form');\
               f.querySelector('[name=loss_date]').value = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);\
               f.querySelector('[name=claimed_yuan]').value = '12000';\
               f.querySelector('[name=description]').value = '走查：实验样机因电源故障损坏';\
               f.requestSubmit();",
        expect: "done=claim",
        shows: "",
    },
    Act {
        login: "ins.underwriter",
        what: "accepts the referred application",
        list: "/underwriting",
        open: None,
        fill: "const f = document.querySelector('#queue form'); f.querySelector('[name=decision]').value = 'accept'; f.requestSubmit();",
        expect: "done=accept",
        shows: "",
    },
    Act {
        login: "ins.underwriter",
        what: "confirms a paper policy its holder registered",
        list: "/policies?status=unconfirmed",
        open: Some("const a = document.querySelector(\"#policies a[href^='/policies/']\"); return a && a.getAttribute('href');"),
        fill: "const f = document.querySelector('#answer-form'); f.requestSubmit(document.querySelector('#confirm-registration'));",
        expect: "done=answered",
        shows: "#registration-answer",
    },
    Act {
        login: "ins.claims",
        what: "takes the new claim",
        list: "/claims?status=reported",
        open: Some("const a = document.querySelector(\"#claims a[href^='/claims/']\"); return a && a.getAttribute('href');"),
        fill: "document.querySelector('input[name=step][value=assign]').form.requestSubmit();",
        expect: "done=claim_step",
        shows: "",
    },
    Act {
        login: "ins.filer",
        what: "answers on a filing",
        list: "/filings",
        open: Some("const a = document.querySelector(\"a[href^='/filings/']:not([href='/filings/new'])\"); return a && a.getAttribute('href');"),
        fill: "const f = document.querySelector(\"form[action$='/comment']\"); f.querySelector('[name=body]').value = '已按意见补充条款说明。'; f.requestSubmit();",
        expect: "#comments",
        shows: "",
    },
    Act {
        login: "zone.reviewer",
        what: "passes a submitted subsidy application in local review",
        list: "/subsidies",
        // The zone's own programme (national ones are recommended instead).
        open: Some("const a = [...document.querySelectorAll('td.sub-submitted')].map(td => td.parentElement.querySelector(\"a[href^='/subsidies/']\")).find(a => a.textContent.includes('示范区')); return a && a.getAttribute('href');"),
        fill: "const f = document.querySelector('input[name=step][value=local_review]').form; f.querySelector('[name=reason]').value = '材料齐全'; f.requestSubmit(f.querySelector('button[name=pass][value=\"1\"]'));",
        expect: "done=subsidy_step",
        shows: "",
    },
    Act {
        login: "zone.approver",
        what: "passes a locally reviewed application and publishes it",
        list: "/subsidies",
        open: Some("const td = document.querySelector('td.sub-local_reviewed'); return td && td.parentElement.querySelector(\"a[href^='/subsidies/']\").getAttribute('href');"),
        fill: "const f = document.querySelector('input[name=step][value=department_review]').form; f.requestSubmit(f.querySelector('button[name=pass][value=\"1\"]'));",
        expect: "done=subsidy_step",
        shows: "",
    },
    Act {
        login: "regulator",
        what: "searches the zone's policies",
        list: "/policies",
        open: None,
        fill: "const f = document.querySelector('form[role=search]'); f.querySelector('[name=q]').value = 'DHKB'; f.requestSubmit();",
        expect: "q=DHKB",
        shows: "",
    },
    Act {
        login: "mediator",
        what: "is told at the form that a session needs its notes",
        list: "/disputes?status=mediating",
        open: Some("const a = document.querySelector(\"#disputes a[href^='/disputes/']\"); return a && a.getAttribute('href');"),
        fill: "const f = document.querySelector('input[name=step][value=session]').form; f.querySelector('[name=notes]').value = ''; f.requestSubmit();",
        expect: "/disputes/",
        shows: "form p.error[role=alert]",
    },
    Act {
        login: "mediator",
        what: "records a mediation session",
        list: "/disputes?status=mediating",
        open: Some("const a = document.querySelector(\"#disputes a[href^='/disputes/']\"); return a && a.getAttribute('href');"),
        fill: "const f = document.querySelector('input[name=step][value=session]').form;\
               f.querySelector('[name=on]').value = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);\
               f.querySelector('[name=notes]').value = '双方到场，约定补充定损材料后再议。'; f.requestSubmit();",
        expect: "done=dispute_step",
        shows: "",
    },
    Act {
        login: "bank.officer",
        what: "reads a consented credit report",
        list: "/consents",
        open: Some("const a = document.querySelector(\"a[href^='/credit/']\"); return a && a.getAttribute('href');"),
        fill: "",
        expect: "/credit/",
        shows: "",
    },
    Act {
        login: "platform.admin",
        what: "narrows the audit log to policies",
        list: "/audit",
        open: None,
        fill: "const f = document.querySelector('form[role=search]'); f.querySelector('[name=kind]').value = 'policy'; f.requestSubmit();",
        expect: "kind=policy",
        shows: "",
    },
    Act {
        login: "ent.admin",
        what: "asks the platform to correct their personal data",
        list: "/account/data",
        open: None,
        fill: "const f = document.querySelector('form[action=\"/account/data\"]'); f.querySelector('[name=kind]').value = 'correct'; f.querySelector('[name=details]').value = '姓名拼写有误，应为张伟'; f.requestSubmit();",
        expect: "done=data_request",
        shows: "#my-requests",
    },
    Act {
        login: "bank.officer",
        what: "approves a loan application it has to review",
        list: "/loans?status=in_review",
        open: Some("const a = document.querySelector(\"#loans a[href^='/loans/']\"); return a && a.getAttribute('href');"),
        fill: "const f = document.querySelector('#decide form');\
               f.querySelector('[name=reason]').value = '走查：经营稳定，同意放款';\
               f.requestSubmit(f.querySelector('button[value=approve]'));",
        expect: "done=loan_decided",
        shows: "#decisions",
    },
    Act {
        login: "ins.underwriter",
        what: "issues the guarantee policy on an approved loan",
        list: "/loans?status=approved",
        open: Some("const a = document.querySelector(\"#loans a[href^='/loans/']\"); return a && a.getAttribute('href');"),
        fill: "const f = document.querySelector('#issue-policy form');\
               f.querySelector('[name=number]').value = 'LGI-WALK-0001';\
               f.querySelector('[name=premium_reference]').value = 'PREM-WALK-0001';\
               f.requestSubmit();",
        expect: "done=loan_policy_issued",
        shows: "#guarantee-policy",
    },
    Act {
        login: "zone.approver",
        what: "runs a what-if simulation of a loan scheme",
        list: "/loans/simulate",
        open: None,
        fill: "const f = document.querySelector('#simulate');\
               f.querySelector('[name=pool]').value = 'count,principal,pd,lgd\\n200,300000,0.03,0.45\\n';\
               f.querySelector('[name=scenarios]').value = '2000';\
               f.requestSubmit();",
        expect: "/loans/simulate/01",
        shows: "#run",
    },
    Act {
        login: "zone.approver",
        what: "approves a loan both the bank and the insurer approved",
        list: "/loans?status=zone_review",
        open: Some("const a = document.querySelector(\"#loans a[href^='/loans/']\"); return a && a.getAttribute('href');"),
        fill: "const f = document.querySelector('#decide form'); f.requestSubmit(f.querySelector('button[value=approve]'));",
        expect: "done=loan_decided",
        shows: "#decisions",
    },
    Act {
        login: "bank.officer",
        what: "records a repayment on a loan being repaid",
        list: "/loans?status=servicing",
        open: Some("const a = document.querySelector(\"#loans a[href^='/loans/']\"); return a && a.getAttribute('href');"),
        fill: "const f = document.querySelector('#repay form');\
               f.querySelector('[name=reference]').value = 'WALK-0001';\
               f.querySelector('[name=amount_yuan]').value = '1000';\
               f.requestSubmit();",
        expect: "done=loan_repayment",
        shows: "#repayments",
    },
    Act {
        login: "platform.admin",
        what: "answers the personal-data request a legal representative made at the counter",
        list: "/admin/data-requests",
        open: Some("const a = document.querySelector(\"#data-requests a[href^='/admin/data-requests/']\"); return a && a.getAttribute('href');"),
        fill: "const f = document.querySelector('#answer');\
               f.querySelector('[name=answer]').value = '已将平台保存的信息清单打印，寄至公司注册地址';\
               f.requestSubmit(f.querySelector('button[value=grant]'));",
        expect: "done=data_answer",
        shows: "#named",
    },
    Act {
        login: "platform.admin",
        what: "starts the full audit verification and follows its progress",
        list: "/audit",
        open: None,
        fill: "document.querySelector('#verify-chain').click();",
        expect: "/jobs/",
        shows: "#job-state",
    },
];

/// The demo server: the binary, on a fresh database, killed when dropped.
struct Demo {
    child: Child,
    site: String,
    db: String,
    _dir: tempfile::TempDir,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn demo() -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("walk.db").display());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(env!("CARGO_BIN_EXE_kebao"))
        .args(["demo", "--enterprises", "20", "--port", &port.to_string(), "--database", &db])
        .env("KEBAO_LOG", "warn")
        .env("KEBAO_SIGNING_KEY", key_for(&db))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let site = format!("http://127.0.0.1:{port}");
    // Killed and reaped when dropped, also when the demo never answers.
    let demo = Demo { child, site, db, _dir: dir };
    let http = reqwest::Client::new();
    for _ in 0..600 {
        if http.get(format!("{}/login", demo.site)).send().await.is_ok_and(|r| r.status().is_success()) {
            return demo;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the demo did not start within a minute");
}

/// Every text the database holds as data (names, addresses, free text, JSON string leaves),
/// longest first: these may be in any language on any page.
async fn data_strings(db: &str) -> Vec<String> {
    use sqlx::{Connection, Row};
    let mut conn = sqlx::SqliteConnection::connect(db).await.unwrap();
    // Configuration with labels in both languages is not data: the page must pick one.
    let skip = [
        "_sqlx_migrations",
        "catalogues",
        "subsidy_programmes",
        "subsidy_settings",
        "events",
        "event_head",
        "tree_heads",
        "todos",
        "notifications",
        "sessions",
        "login_attempts",
        "ledger_accounts",
        "ledger_transfers",
        "blobs",
    ];
    let tables: Vec<String> = sqlx::query("SELECT name FROM sqlite_master WHERE type = 'table'")
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>(0))
        .filter(|t| !skip.contains(&t.as_str()) && !t.starts_with("product_search"))
        .collect();
    let mut out = BTreeSet::new();
    fn leaves(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::String(s) => {
                out.insert(s.clone());
            }
            Value::Array(a) => a.iter().for_each(|x| leaves(x, out)),
            Value::Object(o) => o.values().for_each(|x| leaves(x, out)),
            _ => {}
        }
    }
    for t in tables {
        for row in sqlx::query(&format!("SELECT * FROM \"{t}\"")).fetch_all(&mut conn).await.unwrap() {
            for (i, _) in row.columns().iter().enumerate() {
                let Ok(Some(s)) = row.try_get::<Option<String>, _>(i) else { continue };
                match serde_json::from_str::<Value>(&s) {
                    Ok(v @ (Value::Object(_) | Value::Array(_))) => leaves(&v, &mut out),
                    _ => {
                        out.insert(s);
                    }
                }
            }
        }
    }
    let mut v: Vec<String> = out.into_iter().filter(|s| s.chars().count() >= 2).collect();
    v.sort_by_key(|s| std::cmp::Reverse(s.len()));
    v
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{303f}' | '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{ff00}'..='\u{ffef}')
}

/// What a page shows, as the browser renders it.
struct Seen {
    status: u64,
    scroll_width: u64,
    width: u64,
    text: String,
}

async fn look(d: &Driver) -> Seen {
    let v = d
        .exec(
            "const n = performance.getEntriesByType('navigation')[0];\
             const b = document.body.cloneNode(true);\
             b.querySelectorAll('code, pre, kbd, script, style, [translate=no]').forEach(e => e.remove());\
             document.body.appendChild(b); b.style.position='absolute'; b.style.left='-99999px';\
             const t = b.innerText; b.remove();\
             return {status: n ? n.responseStatus : 0, sw: document.documentElement.scrollWidth,\
                     w: window.innerWidth, text: t};",
        )
        .await;
    Seen {
        status: v["status"].as_u64().unwrap_or(0),
        scroll_width: v["sw"].as_u64().unwrap_or(0),
        width: v["w"].as_u64().unwrap_or(0),
        text: v["text"].as_str().unwrap_or_default().to_owned(),
    }
}

/// The problems of one page: (what, where).
fn problems(seen: &Seen, en: bool, data: &[String], keys: &BTreeSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    if seen.status >= 400 {
        out.push(format!("HTTP {}", seen.status));
    }
    if seen.scroll_width > seen.width + 1 {
        out.push(format!("scrolls sideways: {} px wide in a {} px window", seen.scroll_width, seen.width));
    }
    // Data shortened to fit a card ends in `…`: the shown part is the start of a data text.
    let mut text = without_shortened_data(&seen.text, data);
    for s in data {
        if text.contains(s.as_str()) {
            text = text.replace(s.as_str(), " ");
        }
    }
    // The language switch names the other language in it; the brand is 科保 Kebao.
    let text = text.replace("中文", " ").replace("科保", " ");
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if keys.contains(word) && (!en || word.contains('_')) {
            let line = text.lines().find(|l| l.contains(word)).unwrap_or_default();
            out.push(format!("internal key `{word}`: {}", line.trim().chars().take(80).collect::<String>()));
        }
    }
    if en {
        let mut shown = 0;
        for line in text.lines() {
            if line.chars().any(is_cjk) && shown < 4 {
                out.push(format!(
                    "Chinese on the English page: {}",
                    line.trim().chars().take(80).collect::<String>()
                ));
                shown += 1;
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn squeeze(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` without the shortened data it shows: at each `…`, the longest run of at least ten
/// characters before it that a data text (whitespace squeezed) starts with.
fn without_shortened_data(text: &str, data: &[String]) -> String {
    if !text.contains('…') {
        return text.to_owned();
    }
    let data: Vec<String> = data.iter().map(|d| squeeze(d)).filter(|d| d.chars().count() >= 10).collect();
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut rest = line;
        while let Some(p) = rest.find('…') {
            let before = &rest[..p];
            let cut = before
                .char_indices()
                .map(|(i, _)| i)
                .find(|&i| {
                    let cand = squeeze(&before[i..]);
                    cand.chars().count() >= 10 && data.iter().any(|d| d.starts_with(&cand))
                })
                .unwrap_or(p);
            out.push_str(&before[..cut]);
            if cut == p {
                out.push('…');
            }
            rest = &rest[p + '…'.len_utf8()..];
        }
        out.push_str(rest);
        out.push('\n');
    }
    out
}

fn with_lang(path: &str, en: bool) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}lang={}", if en { "en" } else { "zh" })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_walks_its_day_at_desktop_and_phone_width_in_both_languages() {
    let Some(desk) = Driver::start(1280, 900).await else { return };
    let Some(phone) = Driver::start(390, 844).await else { return };
    let demo = demo().await;
    let data = data_strings(&demo.db).await;
    let cat = kebao_domain::catalogue::Catalogue::from_toml(kebao_service::CATALOGUE).unwrap();
    let mut keys: BTreeSet<String> = kebao_domain::keys::all_keys(&cat).into_iter().collect();
    // The service's own codes: the lawful basis of a read and the credit-data sources (the
    // plain words among them, `own` and `none`, would also match ordinary text).
    keys.extend(
        kebao_service::authz::BASES
            .iter()
            .map(|b| b.0)
            .chain(kebao_service::consent::SOURCES.iter().map(|s| s.0))
            .filter(|c| c.contains('_') || *c == "consent")
            .map(str::to_owned),
    );
    let shots = std::env::var("KEBAO_WALK_SHOTS").ok().map(std::path::PathBuf::from);
    let mut failures: Vec<String> = Vec::new();
    for (d, width) in [(&desk, "desktop"), (&phone, "390px")] {
        for day in DAYS {
            d.sign_in(&demo.site, day.login, PW).await;
            for en in [false, true] {
                let mut pages: Vec<String> = day.pages.iter().map(|p| (*p).to_owned()).collect();
                for (list, link) in day.follow {
                    d.go(&format!("{}{}", demo.site, with_lang(list, en))).await;
                    let href = d
                        .exec(&format!(
                            "const a = document.querySelector(\"{link}\"); return a ? a.getAttribute('href') : null;"
                        ))
                        .await;
                    match href.as_str() {
                        Some(h) => pages.push(h.to_owned()),
                        None => failures
                            .push(format!("{} {width}: {list} has no case to open ({link})", day.login)),
                    }
                }
                for page in &pages {
                    d.go(&format!("{}{}", demo.site, with_lang(page, en))).await;
                    let seen = look(d).await;
                    for p in problems(&seen, en, &data, &keys) {
                        failures.push(format!(
                            "{} {width} {} {page}: {p}",
                            day.login,
                            if en { "en" } else { "zh" }
                        ));
                    }
                    if let Some(dir) = &shots {
                        let png = d.screenshot().await;
                        let name = format!(
                            "{}-{width}-{}-{}.png.b64",
                            day.login,
                            if en { "en" } else { "zh" },
                            page.trim_start_matches('/').replace(['/', '?', '=', '&'], "_")
                        );
                        std::fs::create_dir_all(dir).unwrap();
                        std::fs::write(dir.join(name), png).unwrap();
                    }
                }
            }
        }
    }
    // One action each, at desktop width and in Chinese, after every page was seen as it was.
    for act in ACTS {
        desk.sign_in(&demo.site, act.login, PW).await;
        desk.go(&format!("{}{}", demo.site, with_lang(act.list, false))).await;
        if let Some(open) = act.open {
            match desk.exec(open).await.as_str() {
                Some(h) => desk.go(&format!("{}{h}", demo.site)).await,
                None => {
                    failures.push(format!("{} {}: nothing to open on {}", act.login, act.what, act.list));
                    continue;
                }
            }
        }
        if !act.fill.is_empty() {
            let script = format!(
                "try {{ window.confirm = () => true; {} return null; }} catch (e) {{ return String(e); }}",
                act.fill
            );
            if let Some(e) = desk.exec(&script).await.as_str() {
                failures.push(format!(
                    "{} {}: the form is not there on {}: {e}",
                    act.login,
                    act.what,
                    desk.url().await
                ));
                continue;
            }
        }
        let url = desk.wait_for_url(act.expect).await;
        if !act.shows.is_empty() {
            // Wait for the answer to the form (the page it replaces has no such element).
            let mut found = false;
            for _ in 0..50 {
                let q = format!("return document.querySelector(\"{}\") !== null;", act.shows);
                if desk.exec(&q).await.as_bool() == Some(true) {
                    found = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            if !found {
                failures.push(format!("{} {}: {url} shows no `{}`", act.login, act.what, act.shows));
            }
        }
        let seen = look(&desk).await;
        if !url.contains(act.expect) {
            failures.push(format!("{} {}: ended on {url}, not `{}`", act.login, act.what, act.expect));
        }
        for p in problems(&seen, false, &data, &keys) {
            // A refused form answers 422 Unprocessable Content, with the form again.
            if act.shows.is_empty() || p != "HTTP 422" {
                failures.push(format!("{} {}: {url}: {p}", act.login, act.what));
            }
        }
        if let Some(dir) = &shots {
            let name =
                format!("{}-action{}.png.b64", act.login, if act.shows.is_empty() { "" } else { "-refused" });
            std::fs::write(dir.join(name), desk.screenshot().await).unwrap();
        }
    }
    desk.quit().await;
    phone.quit().await;
    assert!(failures.is_empty(), "{} problems on the walks:\n{}", failures.len(), failures.join("\n"));
}
