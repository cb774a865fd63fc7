//! The ledger (C8): accounts, transfers (batches with linked chains, two-phase transfers,
//! idempotent replays), balances and verification. Other commands (premiums, claims,
//! subsidies) record their money through [`Service::apply_transfers`] inside their own
//! transaction; the operator and tests use [`Service::create_transfers`].

use crate::authz::{Action, Actor, Basis, Resource};
use crate::{Result, Service, ServiceError};
use kebao_domain::event::{EventDraft, Verifier};
use kebao_domain::ledger::{
    self as rules, Account, AccountFlags, LedgerEntry, PendingState, StoredTransfer, Transfer, TransferResult,
};
use kebao_domain::FieldError;
use kebao_store::{events, ledger as store, Tx};

/// An account to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    pub id: String,
    pub owner_id: String,
    pub kind: String,
    pub flags: AccountFlags,
}

/// What `kebao ledger verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerReport {
    pub accounts: usize,
    pub transfers: usize,
    pub debits_posted: i64,
    pub credits_posted: i64,
    pub debits_pending: i64,
    pub credits_pending: i64,
    /// Everything wrong: totals that differ, flags broken, balances that the transfers do not explain.
    pub problems: Vec<String>,
}

/// How often a batch is retried after losing a race (PostgreSQL) or a busy database.
const ATTEMPTS: usize = 8;

impl Service {
    /// Opens an account. The same id with the same fields is the same account; with other
    /// fields it is a conflict.
    pub async fn open_account(&self, actor: &Actor, a: &NewAccount) -> Result<Account> {
        self.require(actor, Action::WriteLedger, &Resource::Zone, &Basis::None)?;
        if a.id.trim().is_empty() || a.id.len() > 128 {
            return Err(FieldError::new(
                "id",
                "id_shape",
                "账户编号为 1–128 个字符",
                "an account id is 1 to 128 characters",
            )
            .into());
        }
        let want = Account {
            id: a.id.clone(),
            owner_id: a.owner_id.clone(),
            kind: a.kind.clone(),
            currency: "CNY".into(),
            flags: a.flags,
            debits_pending: 0,
            debits_posted: 0,
            credits_pending: 0,
            credits_posted: 0,
        };
        let mut tx = self.store.begin_write().await?;
        let backend = self.store.backend();
        if let Some(existing) =
            store::accounts_for_update(tx.conn(), &[a.id.as_str()], backend).await?.into_iter().next()
        {
            let same = existing.owner_id == want.owner_id
                && existing.kind == want.kind
                && existing.flags == want.flags;
            return if same {
                Ok(existing)
            } else {
                Err(ServiceError::Conflict(FieldError::new(
                    "id",
                    "exists_with_different_fields",
                    "该账户编号已用于另一账户",
                    format!("account `{}` exists with other fields", a.id),
                )))
            };
        }
        store::insert_account(tx.conn(), &want, self.now_us()).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "ledger.account_opened",
            &a.id,
            serde_json::json!({"owner": a.owner_id, "kind": a.kind, "flags": a.flags}),
        );
        self.finish(tx, draft).await?;
        Ok(want)
    }

    /// Opens an account in the caller's transaction unless it exists (the accounts other
    /// commands keep for an organisation).
    pub(crate) async fn ensure_account(
        &self,
        tx: &mut Tx,
        id: &str,
        owner_id: &str,
        kind: &str,
        flags: AccountFlags,
    ) -> Result<()> {
        let backend = self.store.backend();
        if store::accounts_for_update(tx.conn(), &[id], backend).await?.is_empty() {
            let a = Account {
                id: id.to_owned(),
                owner_id: owner_id.to_owned(),
                kind: kind.to_owned(),
                currency: "CNY".into(),
                flags,
                debits_pending: 0,
                debits_posted: 0,
                credits_pending: 0,
                credits_posted: 0,
            };
            store::insert_account(tx.conn(), &a, self.now_us()).await?;
        }
        Ok(())
    }

    /// Applies a batch of transfers in the caller's transaction: chains of linked
    /// transfers apply all or nothing; a replayed id is compared with what is stored.
    pub(crate) async fn apply_transfers(&self, tx: &mut Tx, ts: &[Transfer]) -> Result<Vec<TransferResult>> {
        let backend = self.store.backend();
        // Lock every account of the batch up front, in id order: no deadlocks between batches.
        let mut ids: Vec<&str> =
            ts.iter().flat_map(|t| [t.debit_account_id.as_str(), t.credit_account_id.as_str()]).collect();
        ids.sort_unstable();
        ids.dedup();
        store::accounts_for_update(tx.conn(), &ids, backend).await?;
        let now = self.now_us();
        let mut results = vec![TransferResult::Ok; ts.len()];
        let mut i = 0;
        while i < ts.len() {
            let mut j = i;
            while ts.get(j).is_some_and(|t| t.flags.linked) && j + 1 < ts.len() {
                j += 1;
            }
            if ts.get(j).is_some_and(|t| t.flags.linked) {
                // The batch ends inside a chain.
                for (k, r) in results.iter_mut().enumerate().take(j + 1).skip(i) {
                    *r = if k == j {
                        TransferResult::LinkedEventChainOpen
                    } else {
                        TransferResult::LinkedEventFailed
                    };
                }
                i = j + 1;
                continue;
            }
            let chain = j > i;
            if chain {
                store::savepoint(tx, "ledger_chain").await?;
            }
            let mut failed = None;
            for k in i..=j {
                let Some(t) = ts.get(k) else { break };
                let r = self.apply_one(tx, t, now).await?;
                if let Some(slot) = results.get_mut(k) {
                    *slot = r;
                }
                if !matches!(r, TransferResult::Ok | TransferResult::Exists) {
                    failed = Some(k);
                    break;
                }
            }
            if chain {
                match failed {
                    Some(f) => {
                        store::rollback_to(tx, "ledger_chain").await?;
                        for k in i..=j {
                            if k != f {
                                if let Some(slot) = results.get_mut(k) {
                                    *slot = TransferResult::LinkedEventFailed;
                                }
                            }
                        }
                    }
                    None => store::release(tx, "ledger_chain").await?,
                }
            }
            i = j + 1;
        }
        Ok(results)
    }

    async fn apply_one(&self, tx: &mut Tx, t: &Transfer, now: i64) -> Result<TransferResult> {
        let backend = self.store.backend();
        if let Err(r) = rules::check_shape(t) {
            return Ok(r);
        }
        if let Some(existing) = store::transfer(tx.conn(), &t.id, backend).await? {
            return Ok(rules::compare_existing(&existing.transfer, t));
        }
        let accs = store::accounts_for_update(
            tx.conn(),
            &[t.debit_account_id.as_str(), t.credit_account_id.as_str()],
            backend,
        )
        .await?;
        let Some(mut debit) = accs.iter().find(|a| a.id == t.debit_account_id).cloned() else {
            return Ok(TransferResult::DebitAccountNotFound);
        };
        let Some(mut credit) = accs.iter().find(|a| a.id == t.credit_account_id).cloned() else {
            return Ok(TransferResult::CreditAccountNotFound);
        };
        let pending = match &t.pending_id {
            Some(p) => store::transfer(tx.conn(), p, backend).await?,
            None => None,
        };
        let effect = match rules::apply(t, &mut debit, &mut credit, pending.as_ref()) {
            Ok(e) => e,
            Err(r) => return Ok(r),
        };
        store::set_balances(tx.conn(), &debit).await?;
        store::set_balances(tx.conn(), &credit).await?;
        // The pending transfer this one posts or voids is not changed: its state is read from
        // this transfer from now on (`effect.resolves` is what that read will say).
        store::insert_transfer(
            tx,
            &StoredTransfer {
                transfer: t.clone(),
                applied_amount: effect.applied,
                state: if t.flags.pending { PendingState::Pending } else { PendingState::None },
                timestamp_us: now,
            },
        )
        .await?;
        Ok(TransferResult::Ok)
    }

    /// Creates a batch of transfers (the operator). One event records the batch when
    /// anything applied; when nothing did, nothing changes. Retries a batch that lost a
    /// race for the same id or found the database busy.
    pub async fn create_transfers(&self, actor: &Actor, ts: &[Transfer]) -> Result<Vec<TransferResult>> {
        self.require(actor, Action::WriteLedger, &Resource::Zone, &Basis::None)?;
        let mut last = None;
        for attempt in 0..ATTEMPTS {
            let mut tx = self.store.begin_write().await?;
            match self.apply_transfers(&mut tx, ts).await {
                Ok(results) => {
                    if !results.contains(&TransferResult::Ok) {
                        return Ok(results);
                    }
                    let summary: Vec<(String, &str)> =
                        ts.iter().zip(&results).map(|(t, r)| (t.id.clone(), r.code())).collect();
                    let subject = ts.first().map(|t| t.event_ref.clone()).unwrap_or_default();
                    let draft = EventDraft::new(
                        &actor.log_name(),
                        "ledger.transfers",
                        &subject,
                        serde_json::json!({"transfers": summary}),
                    );
                    match self.finish(tx, draft).await {
                        Ok(_) => return Ok(results),
                        Err(e @ (ServiceError::Busy | ServiceError::Conflict(_))) => last = Some(e),
                        Err(e) => return Err(e),
                    }
                }
                Err(e @ (ServiceError::Busy | ServiceError::Conflict(_))) => last = Some(e),
                Err(e) => return Err(e),
            }
            tokio::time::sleep(std::time::Duration::from_millis(2 << attempt.min(6))).await;
        }
        Err(last.unwrap_or(ServiceError::Busy))
    }

    /// Accounts: an organisation's own, or all of them for the zone's auditors.
    pub async fn ledger_accounts(&self, actor: &Actor, owner_id: Option<&str>) -> Result<Vec<Account>> {
        let auditor = self.allows(actor, Action::ReadAnyAccounts, &Resource::Zone);
        let mut tx = self.store.begin_read().await?;
        match (owner_id, auditor) {
            (None, true) => Ok(store::all_accounts(tx.conn()).await?),
            (Some(o), true) => Ok(store::accounts_of(tx.conn(), o).await?),
            (Some(o), false) if actor.org_id() == Some(o) => Ok(store::accounts_of(tx.conn(), o).await?),
            (None, false) => match actor.org_id() {
                Some(o) => Ok(store::accounts_of(tx.conn(), o).await?),
                None => Err(ServiceError::Unauthenticated("sign in first")),
            },
            _ => Err(self.refused(actor, Action::ReadAnyAccounts, &Resource::Zone)),
        }
    }

    /// Checks the ledger: total debits equal total credits (posted and pending), every
    /// flagged account keeps its flag, every balance is what the transfers add up to, and
    /// the ledger is what the event log says it is — the chain holds, every transfer in the
    /// table is recorded by exactly one event with the same fields, every recorded transfer
    /// is in the table, and the balances recomputed from the events alone are the accounts'.
    pub async fn ledger_verify(&self) -> Result<LedgerReport> {
        let mut tx = self.store.begin_snapshot().await?;
        let accounts = store::all_accounts(tx.conn()).await?;
        let mut expect: std::collections::HashMap<String, [i64; 4]> =
            accounts.iter().map(|a| (a.id.clone(), [0i64; 4])).collect();
        let mut problems = Vec::new();
        let mut after = String::new();
        let mut table: std::collections::BTreeMap<String, StoredTransfer> = std::collections::BTreeMap::new();
        loop {
            let page = store::transfers_after(tx.conn(), &after, 5_000).await.map_err(ServiceError::from)?;
            let Some(last) = page.last() else { break };
            after = last.transfer.id.clone();
            for st in page {
                let t = &st.transfer;
                let (pending, posted) = if t.flags.post_pending {
                    (0, st.applied_amount)
                } else if t.flags.void_pending {
                    (0, 0)
                } else if t.flags.pending {
                    (if st.state == PendingState::Pending { t.amount } else { 0 }, 0)
                } else {
                    (0, t.amount)
                };
                // Saturating: a sum beyond i64 cannot equal a stored balance, so it is reported
                // below as a problem rather than panicking.
                match expect.get_mut(&t.debit_account_id) {
                    Some(e) => {
                        e[0] = e[0].saturating_add(pending);
                        e[1] = e[1].saturating_add(posted);
                    }
                    None => problems.push(format!("transfer {} debits an unknown account", t.id)),
                }
                match expect.get_mut(&t.credit_account_id) {
                    Some(e) => {
                        e[2] = e[2].saturating_add(pending);
                        e[3] = e[3].saturating_add(posted);
                    }
                    None => problems.push(format!("transfer {} credits an unknown account", t.id)),
                }
                table.insert(t.id.clone(), st);
            }
        }
        let transfers = table.len();
        problems.extend(self.ledger_against_events(&mut tx, &accounts, &table).await?);
        let sum = |f: fn(&Account) -> i64| accounts.iter().map(f).fold(0i64, i64::saturating_add);
        let (dp, dq, cp, cq) = (
            sum(|a| a.debits_posted),
            sum(|a| a.debits_pending),
            sum(|a| a.credits_posted),
            sum(|a| a.credits_pending),
        );
        if dp != cp {
            problems.push(format!("posted debits {dp} ≠ posted credits {cp}"));
        }
        if dq != cq {
            problems.push(format!("pending debits {dq} ≠ pending credits {cq}"));
        }
        for a in &accounts {
            if !a.flags_hold() {
                problems.push(format!("account {} breaks its balance flag", a.id));
            }
            let got = [a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted];
            if expect.get(&a.id) != Some(&got) {
                problems.push(format!(
                    "account {}'s balances {:?} are not what its transfers add up to {:?}",
                    a.id,
                    got,
                    expect.get(&a.id)
                ));
            }
        }
        Ok(LedgerReport {
            accounts: accounts.len(),
            transfers,
            debits_posted: dp,
            credits_posted: cp,
            debits_pending: dq,
            credits_pending: cq,
            problems,
        })
    }
}

impl Service {
    /// The ledger as the event log records it, compared with the tables: what differs, by
    /// transfer and by account (see [`Service::ledger_verify`]).
    async fn ledger_against_events(
        &self,
        tx: &mut impl kebao_store::Conn,
        accounts: &[Account],
        table: &std::collections::BTreeMap<String, StoredTransfer>,
    ) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let mut chain = Verifier::new(None);
        let mut chain_sound = true;
        let mut recorded: Vec<(u64, LedgerEntry)> = Vec::new();
        let mut recorded_by: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
        let mut after = 0u64;
        loop {
            let page = events::page(tx.conn(), after, 5_000).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for e in page {
                if chain_sound {
                    if let Err(b) = chain.push(&e) {
                        problems.push(format!("the event log is broken: {b}"));
                        chain_sound = false;
                    }
                }
                let Some(text) = &e.ledger else { continue };
                match rules::decode_entries(text) {
                    Err(why) => {
                        problems.push(format!("event #{}'s ledger field is unreadable: {why}", e.seq))
                    }
                    Ok(entries) => {
                        for entry in entries {
                            if let Some(first) = recorded_by.insert(entry.id.clone(), e.seq) {
                                problems.push(format!(
                                    "transfer {} is recorded twice, by event #{first} and event #{}",
                                    entry.id, e.seq
                                ));
                                continue;
                            }
                            recorded.push((e.seq, entry));
                        }
                    }
                }
            }
        }
        for (seq, entry) in &recorded {
            match table.get(&entry.id) {
                None => problems.push(format!(
                    "transfer {} recorded by event #{seq} is missing from the ledger (deleted?)",
                    entry.id
                )),
                Some(st) => {
                    let diffs = entry.differences(st);
                    if !diffs.is_empty() {
                        problems.push(format!(
                            "transfer {} differs from what event #{seq} recorded: {}",
                            entry.id,
                            diffs.join("; ")
                        ));
                    }
                }
            }
        }
        for id in table.keys().filter(|id| !recorded_by.contains_key(*id)) {
            problems.push(format!("transfer {id} is in the ledger but no event records it"));
        }
        let entries: Vec<LedgerEntry> = recorded.into_iter().map(|(_, e)| e).collect();
        let (balances, unexplained) = rules::replay(&entries);
        problems.extend(unexplained);
        for a in accounts {
            let got = [a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted];
            let want = balances.get(&a.id).copied().unwrap_or([0; 4]);
            if got != want {
                problems.push(format!(
                    "account {}'s balances {got:?} are not what the event log's transfers add up to {want:?}",
                    a.id
                ));
            }
        }
        for id in balances.keys().filter(|id| !accounts.iter().any(|a| &a.id == *id)) {
            problems.push(format!("the event log's transfers name account {id}, which does not exist"));
        }
        Ok(problems)
    }
}

/// Checks a recorded payment's bank reference (1–64 characters, trimmed) and amount (above
/// zero): the same rules wherever money is recorded. Returns the trimmed reference.
pub(crate) fn payment_input(reference: &str, amount: kebao_domain::Money) -> Result<&str> {
    let reference = reference.trim();
    if reference.is_empty() || reference.len() > 64 {
        return Err(FieldError::new(
            "reference",
            "required",
            "请填写付款凭证号（1–64 个字符）",
            "give the payment reference (1 to 64 characters)",
        )
        .into());
    }
    if amount.fen() <= 0 {
        return Err(FieldError::new(
            "amount_yuan",
            "not_positive",
            "金额须大于零",
            "the amount must be above zero",
        )
        .into());
    }
    Ok(reference)
}

/// The refusal of an amount that would overflow a balance or a total: a conflict the user
/// can act on (`amount_overflow`, 409), never an internal error.
pub(crate) fn amount_overflow() -> ServiceError {
    ServiceError::Conflict(FieldError::new(
        "amount_yuan",
        "amount_overflow",
        "金额过大：记账后余额或合计将超出可表示范围，未作任何变更",
        "the amount is too large: a balance or total would overflow; nothing was changed",
    ))
}

/// A ledger result a command did not expect: an overflow is [`amount_overflow`]; anything
/// else is an internal error (`what` names the step for the log).
pub(crate) fn unexpected(r: TransferResult, what: &str) -> ServiceError {
    match r {
        TransferResult::Overflow => amount_overflow(),
        other => ServiceError::Internal(format!("{what}: {}", other.code())),
    }
}

impl Service {
    /// One rule for every recorded payment (premium, refund, claim), checked before anything
    /// else about the payment: a payment whose transfer id (built from the payment reference)
    /// is stored already is a replay. An exact replay (same reference, same content) returns
    /// `Ok(true)`: the caller answers as it did the first time and changes nothing. The same
    /// reference with other content (another amount, another policy or claim) is a conflict
    /// naming what differs. `Ok(false)`: a new payment.
    pub(crate) async fn payment_replayed(&self, tx: &mut Tx, t: &Transfer) -> Result<bool> {
        let Some(stored) = store::transfer(tx.conn(), &t.id, self.store.backend()).await? else {
            return Ok(false);
        };
        match rules::compare_existing(&stored.transfer, t) {
            TransferResult::Exists => Ok(true),
            other => Err(reused_reference(other)),
        }
    }
}

/// The same payment reference recorded before with other content.
fn reused_reference(r: TransferResult) -> ServiceError {
    ServiceError::Conflict(FieldError::new(
        "reference",
        r.code(),
        format!("该付款凭证号已登记过另一笔付款（{}），请核对凭证号", r.label_zh()),
        format!(
            "this payment reference was recorded for a different payment ({}); check the reference",
            r.label_en().to_lowercase()
        ),
    ))
}

/// What became of a new payment transfer (after [`Service::payment_replayed`]): `Ok(true)`
/// recorded; `Ok(false)` only if the same transfer was stored meanwhile (the replay rule
/// answers the same). Refused when it exceeds what its flagged account allows (`over`, with
/// the given code and messages), as [`amount_overflow`] when a balance would overflow, or for
/// any other ledger reason.
pub(crate) fn payment_outcome(
    r: Option<&TransferResult>,
    over: TransferResult,
    code: &'static str,
    zh: &'static str,
    en: &'static str,
) -> Result<bool> {
    match r {
        Some(TransferResult::Ok) => Ok(true),
        Some(TransferResult::Exists) => Ok(false),
        Some(x) if *x == over => Err(FieldError::new("amount_yuan", code, zh, en).into()),
        Some(TransferResult::Overflow) => Err(amount_overflow()),
        Some(other) if other.code().starts_with("exists_with_") => Err(reused_reference(*other)),
        Some(other) => Err(ServiceError::Conflict(FieldError::new(
            "reference",
            other.code(),
            other.label_zh(),
            other.label_en(),
        ))),
        None => Err(ServiceError::Internal("no ledger result".into())),
    }
}
