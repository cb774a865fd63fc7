//! The ledger against a small independent model: a seeded run of random batches (new
//! transfers, two-phase post and void, linked chains, replays of old ids with the same or
//! different fields), every result and every balance compared after each step, on both
//! stores; and a concurrency stress test. The seed is printed on failure.

#![allow(
    clippy::needless_range_loop,
    reason = "the model follows the index arithmetic of the rules it restates"
)]

use crate::contract;
use crate::harness::*;
use kebao_domain::ledger::{AccountFlags, Transfer, TransferFlags, TransferResult};
use kebao_service::ledger::NewAccount;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, HashMap};

#[derive(Clone, Debug, Default)]
struct MAcc {
    guard_debits: bool,
    guard_credits: bool,
    dp: i64,
    dq: i64,
    cp: i64,
    cq: i64,
}

#[derive(Clone, Debug)]
struct MTr {
    t: Transfer,
    /// "none" | "pending" | "posted" | "voided"
    state: &'static str,
}

/// The ledger's rules, written again from the issue and TigerBeetle's documentation.
#[derive(Clone, Debug, Default)]
struct Model {
    accounts: BTreeMap<String, MAcc>,
    transfers: HashMap<String, MTr>,
}

impl Model {
    fn one(&mut self, t: &Transfer) -> &'static str {
        let f = t.flags;
        if t.id.is_empty() {
            return "id_must_not_be_empty";
        }
        if (f.pending as u8 + f.post_pending as u8 + f.void_pending as u8) > 1 {
            return "flags_are_mutually_exclusive";
        }
        let ends = f.post_pending || f.void_pending;
        if ends && t.pending_id.is_none() {
            return "pending_id_required";
        }
        if !ends && t.pending_id.is_some() {
            return "pending_id_must_be_empty";
        }
        if t.amount < 0 || (t.amount == 0 && !ends) {
            return "amount_must_not_be_zero";
        }
        if t.debit_account_id == t.credit_account_id {
            return "accounts_must_be_different";
        }
        if let Some(old) = self.transfers.get(&t.id) {
            let o = &old.t;
            return if o.flags != t.flags {
                "exists_with_different_flags"
            } else if o.pending_id != t.pending_id {
                "exists_with_different_pending_id"
            } else if o.debit_account_id != t.debit_account_id {
                "exists_with_different_debit_account_id"
            } else if o.credit_account_id != t.credit_account_id {
                "exists_with_different_credit_account_id"
            } else if o.amount != t.amount {
                "exists_with_different_amount"
            } else if o.code != t.code {
                "exists_with_different_code"
            } else if o.event_ref != t.event_ref {
                "exists_with_different_event_ref"
            } else {
                "exists"
            };
        }
        let Some(mut d) = self.accounts.get(&t.debit_account_id).cloned() else {
            return "debit_account_not_found";
        };
        let Some(mut c) = self.accounts.get(&t.credit_account_id).cloned() else {
            return "credit_account_not_found";
        };
        let (pend, post, resolve) = if ends {
            let Some(p) = self.transfers.get(t.pending_id.as_ref().unwrap()) else {
                return "pending_transfer_not_found";
            };
            match p.state {
                "posted" => return "pending_transfer_already_posted",
                "voided" => return "pending_transfer_already_voided",
                "none" => return "pending_transfer_not_pending",
                _ => {}
            }
            if p.t.debit_account_id != t.debit_account_id {
                return "pending_transfer_has_different_debit_account_id";
            }
            if p.t.credit_account_id != t.credit_account_id {
                return "pending_transfer_has_different_credit_account_id";
            }
            let full = p.t.amount;
            if f.post_pending {
                let a = if t.amount == 0 { full } else { t.amount };
                if a > full {
                    return "exceeds_pending_transfer_amount";
                }
                (-full, a, Some("posted"))
            } else {
                if t.amount != 0 && t.amount != full {
                    return "pending_transfer_has_different_amount";
                }
                (-full, 0, Some("voided"))
            }
        } else if f.pending {
            (t.amount, 0, None)
        } else {
            (0, t.amount, None)
        };
        d.dp += pend;
        d.dq += post;
        c.cp += pend;
        c.cq += post;
        if d.guard_debits && d.dp + d.dq > d.cq {
            return "exceeds_credits";
        }
        if c.guard_credits && c.cp + c.cq > c.dq {
            return "exceeds_debits";
        }
        self.accounts.insert(t.debit_account_id.clone(), d);
        self.accounts.insert(t.credit_account_id.clone(), c);
        if let (Some(p), Some(s)) = (&t.pending_id, resolve) {
            if let Some(x) = self.transfers.get_mut(p) {
                x.state = s;
            }
        }
        self.transfers
            .insert(t.id.clone(), MTr { t: t.clone(), state: if f.pending { "pending" } else { "none" } });
        "ok"
    }

    fn batch(&mut self, ts: &[Transfer]) -> Vec<&'static str> {
        let mut out = vec!["ok"; ts.len()];
        let mut i = 0;
        while i < ts.len() {
            let mut j = i;
            while ts[j].flags.linked && j + 1 < ts.len() {
                j += 1;
            }
            if ts[j].flags.linked {
                for k in i..=j {
                    out[k] = if k == j { "linked_event_chain_open" } else { "linked_event_failed" };
                }
                i = j + 1;
                continue;
            }
            let saved = self.clone();
            let mut failed = None;
            for k in i..=j {
                out[k] = self.one(&ts[k]);
                if out[k] != "ok" && out[k] != "exists" {
                    failed = Some(k);
                    break;
                }
            }
            if let Some(f) = failed {
                if j > i {
                    *self = saved;
                    for k in i..=j {
                        if k != f {
                            out[k] = "linked_event_failed";
                        }
                    }
                }
            }
            i = j + 1;
        }
        out
    }
}

fn tr(id: String, d: &str, c: &str, amount: i64) -> Transfer {
    Transfer {
        id,
        debit_account_id: d.into(),
        credit_account_id: c.into(),
        amount,
        pending_id: None,
        code: 1,
        event_ref: "test".into(),
        flags: TransferFlags::default(),
    }
}

const ACCOUNTS: [&str; 6] = ["source", "a", "b", "c", "sink", "d"];

async fn open_accounts(ctx: &Ctx, model: &mut Model) {
    let org = ctx.svc.create_org(&operator(), &org_input("账本测试机构", &uscc(77), "bank")).await.unwrap();
    for (i, id) in ACCOUNTS.iter().enumerate() {
        let flags = AccountFlags {
            debits_must_not_exceed_credits: (1..=3).contains(&i),
            credits_must_not_exceed_debits: i == 5,
        };
        ctx.svc
            .open_account(
                &operator(),
                &NewAccount { id: (*id).into(), owner_id: org.id.clone(), kind: "test".into(), flags },
            )
            .await
            .unwrap();
        model.accounts.insert(
            (*id).into(),
            MAcc {
                guard_debits: flags.debits_must_not_exceed_credits,
                guard_credits: flags.credits_must_not_exceed_debits,
                ..Default::default()
            },
        );
    }
}

fn random_batch(rng: &mut ChaCha8Rng, n: &mut u32, model: &Model, history: &[Transfer]) -> Vec<Transfer> {
    let pick = |rng: &mut ChaCha8Rng| {
        let i = rng.random_range(0..ACCOUNTS.len() + 1);
        ACCOUNTS.get(i).copied().unwrap_or("nowhere")
    };
    let mut fresh = |rng: &mut ChaCha8Rng| {
        *n += 1;
        let mut t = tr(format!("t{n}"), pick(rng), pick(rng), rng.random_range(0..400));
        if rng.random::<f64>() < 0.2 {
            t.flags.pending = true;
        }
        if rng.random::<f64>() < 0.25 {
            // Fund a guarded account so that later debits can pass.
            t.debit_account_id = "source".into();
        }
        t
    };
    let x: f64 = rng.random();
    if x < 0.35 {
        vec![fresh(rng)]
    } else if x < 0.55 {
        // Post or void a pending transfer (or something that is not one).
        let pendings: Vec<&MTr> = model.transfers.values().filter(|m| m.t.flags.pending).collect();
        *n += 1;
        let base = if pendings.is_empty() || rng.random::<f64>() < 0.1 {
            tr(format!("t{n}"), pick(rng), pick(rng), 0)
        } else {
            let mut keys: Vec<&String> = pendings.iter().map(|m| &m.t.id).collect();
            keys.sort();
            let p = &model.transfers[keys[rng.random_range(0..keys.len())]];
            let mut t = tr(format!("t{n}"), &p.t.debit_account_id, &p.t.credit_account_id, 0);
            t.pending_id = Some(p.t.id.clone());
            t
        };
        let mut t = base;
        if t.pending_id.is_none() {
            t.pending_id = Some(format!("t{}", rng.random_range(1..=*n)));
        }
        if rng.random::<bool>() {
            t.flags.post_pending = true;
            t.amount = [0, rng.random_range(1..300), 1_000][rng.random_range(0..3)];
        } else {
            t.flags.void_pending = true;
            t.amount = if rng.random::<f64>() < 0.8 { 0 } else { 7 };
        }
        vec![t]
    } else if x < 0.75 && !history.is_empty() {
        // Replay an old id: the same fields, or one field changed.
        let mut t = history[rng.random_range(0..history.len())].clone();
        match rng.random_range(0..5) {
            0 => t.amount += 1,
            1 => t.code += 1,
            2 => t.credit_account_id = pick(rng).into(),
            3 => t.event_ref.push('x'),
            _ => {}
        }
        vec![t]
    } else if x < 0.95 {
        // A linked chain of two or three.
        let len = rng.random_range(2..=3);
        let mut chain: Vec<Transfer> = (0..len).map(|_| fresh(rng)).collect();
        for t in chain.iter_mut().take(len - 1) {
            t.flags.linked = true;
        }
        chain
    } else {
        // A batch that ends inside a chain.
        let mut t = fresh(rng);
        t.flags.linked = true;
        vec![fresh(rng), t]
    }
}

async fn check_balances(ctx: &Ctx, model: &Model, seed: u64, step: usize) {
    let accounts = ctx.svc.ledger_accounts(&operator(), None).await.unwrap();
    for a in accounts {
        let m = &model.accounts[&a.id];
        assert_eq!(
            (a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted),
            (m.dp, m.dq, m.cp, m.cq),
            "seed {seed}, step {step}: account {} differs from the model",
            a.id
        );
        assert!(a.flags_hold(), "seed {seed}, step {step}: account {} breaks its flag", a.id);
    }
}

contract!(random_batches_match_the_model_after_every_step, |ctx: Ctx| async move {
    let seed: u64 =
        std::env::var("KEBAO_LEDGER_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20_261_128);
    let steps: usize = std::env::var("KEBAO_LEDGER_STEPS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_500);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut model = Model::default();
    open_accounts(&ctx, &mut model).await;
    let mut n = 0u32;
    let mut history: Vec<Transfer> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for step in 0..steps {
        let batch = random_batch(&mut rng, &mut n, &model, &history);
        let want = model.batch(&batch);
        let got = ctx.svc.create_transfers(&operator(), &batch).await.unwrap();
        let got: Vec<&str> = got.iter().map(|r| r.code()).collect();
        assert_eq!(got, want, "seed {seed}, step {step}: results differ for {batch:#?}");
        for (t, r) in batch.iter().zip(&want) {
            seen.insert(*r);
            if *r == "ok" {
                history.push(t.clone());
            }
        }
        check_balances(&ctx, &model, seed, step).await;
    }
    let report = ctx.svc.ledger_verify().await.unwrap();
    assert!(report.problems.is_empty(), "seed {seed}: {:?}", report.problems);
    assert_eq!(report.debits_posted, report.credits_posted);
    // The run exercised the interesting outcomes.
    for r in [
        "ok",
        "exists",
        "exists_with_different_amount",
        "linked_event_failed",
        "exceeds_credits",
        "pending_transfer_already_posted",
        "debit_account_not_found",
        "linked_event_chain_open",
    ] {
        assert!(seen.contains(r), "seed {seed}: no `{r}` in {seen:?}");
    }
    // Nothing that failed left a trace: a batch with no success adds no event.
    let before = state(&ctx).await.1;
    let r = ctx.svc.create_transfers(&operator(), &[tr("bad".into(), "a", "a", 5)]).await.unwrap();
    assert_eq!(r, vec![TransferResult::AccountsMustBeDifferent]);
    assert_eq!(state(&ctx).await.1, before);
    // A balance edited behind the ledger's back is found.
    let mut tx = ctx.store.begin_write().await.unwrap();
    sqlx::query("UPDATE ledger_accounts SET credits_posted = credits_posted + 1 WHERE id = 'sink'")
        .execute(&mut *tx.conn())
        .await
        .unwrap();
    tx.commit_unlogged(kebao_store::Unlogged::Tampering).await.unwrap();
    let report = ctx.svc.ledger_verify().await.unwrap();
    assert!(report.problems.iter().any(|p| p.contains("posted debits")), "{:?}", report.problems);
    assert!(report.problems.iter().any(|p| p.contains("account sink")), "{:?}", report.problems);
});

contract!(many_writers_at_once_leave_a_sound_ledger, |ctx: Ctx| async move {
    let mut model = Model::default();
    open_accounts(&ctx, &mut model).await;
    let writers = 8;
    let per = 60;
    let mut handles = Vec::new();
    for w in 0..writers {
        let svc = ctx.svc.clone();
        handles.push(tokio::spawn(async move {
            let mut rng = ChaCha8Rng::seed_from_u64(1000 + w);
            let mut ok = 0;
            for i in 0..per {
                // Writers share ids on purpose: the same transfer sent by two writers applies once.
                let id = if i % 5 == 0 { format!("shared-{i}") } else { format!("w{w}-{i}") };
                let (d, c) = match rng.random_range(0..3) {
                    0 => ("source", "a"),
                    1 => ("a", "b"),
                    _ => ("b", "sink"),
                };
                let amount = if id.starts_with("shared") { 10 } else { rng.random_range(1..50) };
                let t = Transfer { id, ..tr(String::new(), d, c, amount) };
                let t = if t.id.starts_with("shared") {
                    Transfer { debit_account_id: "source".into(), credit_account_id: "a".into(), ..t }
                } else {
                    t
                };
                let r = svc.create_transfers(&operator(), &[t]).await.expect("no error under contention");
                if r[0] == TransferResult::Ok {
                    ok += 1;
                }
            }
            ok
        }));
    }
    let mut applied = 0;
    for h in handles {
        applied += h.await.unwrap();
    }
    let report = ctx.svc.ledger_verify().await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.transfers, applied, "every applied transfer is stored once");
    // The shared ids applied exactly once each.
    let accounts = ctx.svc.ledger_accounts(&operator(), None).await.unwrap();
    assert!(accounts.iter().all(|a| a.flags_hold()));
    assert_eq!(report.debits_posted, report.credits_posted);
});
