//! The double-entry ledger (C8), on TigerBeetle's model: accounts with posted and pending
//! debits and credits in integer fen and balance flags; transfers whose id is the
//! idempotency key; two-phase transfers (pending, then post or void); linked transfers
//! that apply all or nothing. The ledger records what was paid, by whom and to whom, as
//! evidence — it holds no money itself.
//!
//! This module is the rules: given the accounts a transfer touches (and its pending
//! transfer, if it posts or voids one), what the result is and how the balances change.
//! The store applies them in one transaction.

use crate::org::string_enum;

/// An account's balance flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct AccountFlags {
    /// Debits (pending + posted) may never exceed posted credits.
    pub debits_must_not_exceed_credits: bool,
    /// Credits (pending + posted) may never exceed posted debits.
    pub credits_must_not_exceed_debits: bool,
}

/// An account and its balances (fen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    /// The organisation the account belongs to.
    pub owner_id: String,
    /// What the account is for (`premium_receivable`, `insurer_income`, `subsidy_budget` …).
    pub kind: String,
    /// Always `CNY` here; transfers only move between accounts of one currency.
    pub currency: String,
    pub flags: AccountFlags,
    pub debits_pending: i64,
    pub debits_posted: i64,
    pub credits_pending: i64,
    pub credits_posted: i64,
}

impl Account {
    /// Credits minus debits, posted only.
    pub fn balance(&self) -> i64 {
        self.credits_posted.saturating_sub(self.debits_posted)
    }

    /// Whether the balances respect the flags.
    pub fn flags_hold(&self) -> bool {
        let d = self.debits_pending.checked_add(self.debits_posted);
        let c = self.credits_pending.checked_add(self.credits_posted);
        let debits_ok =
            !self.flags.debits_must_not_exceed_credits || d.is_some_and(|d| d <= self.credits_posted);
        let credits_ok =
            !self.flags.credits_must_not_exceed_debits || c.is_some_and(|c| c <= self.debits_posted);
        debits_ok && credits_ok
    }
}

/// A transfer's flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct TransferFlags {
    /// Part of a chain with the next transfer of the batch: all apply or none.
    pub linked: bool,
    /// Reserve the amount (two-phase); post or void it later.
    pub pending: bool,
    /// Post the pending transfer `pending_id` (amount 0: all of it).
    pub post_pending: bool,
    /// Void the pending transfer `pending_id`.
    pub void_pending: bool,
}

/// A transfer as asked for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Transfer {
    /// The idempotency key: the same id with the same fields is the same transfer.
    pub id: String,
    pub debit_account_id: String,
    pub credit_account_id: String,
    /// Fen, > 0 (0 on post/void means the pending amount).
    pub amount: i64,
    /// For post/void: the pending transfer.
    pub pending_id: Option<String>,
    /// What the transfer is (premium due, premium paid, claim paid, subsidy …).
    pub code: u16,
    /// The business event it belongs to (a policy, claim or application id …).
    pub event_ref: String,
    pub flags: TransferFlags,
}

string_enum! {
    /// The state of a pending transfer.
    PendingState {
        None = "none", "非预留", "Not pending";
        Pending = "pending", "预留中", "Pending";
        Posted = "posted", "已过账", "Posted";
        Voided = "voided", "已撤销", "Voided";
    }
}

/// A stored transfer: what was asked, and what it applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTransfer {
    pub transfer: Transfer,
    /// For post/void: the amount actually posted or released.
    pub applied_amount: i64,
    /// For pending transfers: where they stand.
    pub state: PendingState,
    pub timestamp_us: i64,
}

string_enum! {
    /// The result of one transfer (TigerBeetle's `CreateTransferResult`, the cases used here).
    TransferResult {
        Ok = "ok", "成功", "OK";
        LinkedEventFailed = "linked_event_failed", "关联转账中有失败，整体未执行", "A linked transfer failed; none applied";
        LinkedEventChainOpen = "linked_event_chain_open", "关联链未闭合", "The last transfer of a batch is linked";
        Exists = "exists", "已存在（同一转账）", "Exists (the same transfer)";
        ExistsWithDifferentFlags = "exists_with_different_flags", "编号已用于标志不同的转账", "Exists with different flags";
        ExistsWithDifferentPendingId = "exists_with_different_pending_id", "编号已用于预留编号不同的转账", "Exists with a different pending id";
        ExistsWithDifferentDebitAccountId = "exists_with_different_debit_account_id", "编号已用于借方不同的转账", "Exists with a different debit account";
        ExistsWithDifferentCreditAccountId = "exists_with_different_credit_account_id", "编号已用于贷方不同的转账", "Exists with a different credit account";
        ExistsWithDifferentAmount = "exists_with_different_amount", "编号已用于金额不同的转账", "Exists with a different amount";
        ExistsWithDifferentCode = "exists_with_different_code", "编号已用于类型不同的转账", "Exists with a different code";
        ExistsWithDifferentEventRef = "exists_with_different_event_ref", "编号已用于业务事件不同的转账", "Exists with a different event";
        IdMustNotBeEmpty = "id_must_not_be_empty", "转账编号不能为空", "The id must not be empty";
        FlagsAreMutuallyExclusive = "flags_are_mutually_exclusive", "标志互斥", "The flags are mutually exclusive";
        AmountMustNotBeZero = "amount_must_not_be_zero", "金额须大于零", "The amount must be above zero";
        AccountsMustBeDifferent = "accounts_must_be_different", "借贷方不能相同", "The accounts must differ";
        DebitAccountNotFound = "debit_account_not_found", "借方账户不存在", "The debit account does not exist";
        CreditAccountNotFound = "credit_account_not_found", "贷方账户不存在", "The credit account does not exist";
        AccountsMustHaveTheSameCurrency = "accounts_must_have_the_same_currency", "币种不同", "The accounts' currencies differ";
        PendingIdRequired = "pending_id_required", "过账或撤销须指明预留转账", "Post and void name the pending transfer";
        PendingIdMustBeEmpty = "pending_id_must_be_empty", "普通转账不能指明预留转账", "Only post and void name a pending transfer";
        PendingTransferNotFound = "pending_transfer_not_found", "预留转账不存在", "The pending transfer does not exist";
        PendingTransferNotPending = "pending_transfer_not_pending", "该转账不是预留转账", "The transfer is not pending";
        PendingTransferHasDifferentDebitAccountId = "pending_transfer_has_different_debit_account_id", "与预留转账借方不同", "The pending transfer's debit account differs";
        PendingTransferHasDifferentCreditAccountId = "pending_transfer_has_different_credit_account_id", "与预留转账贷方不同", "The pending transfer's credit account differs";
        ExceedsPendingTransferAmount = "exceeds_pending_transfer_amount", "超过预留金额", "Exceeds the pending amount";
        PendingTransferHasDifferentAmount = "pending_transfer_has_different_amount", "撤销金额须等于预留金额", "A void is for the whole pending amount";
        PendingTransferAlreadyPosted = "pending_transfer_already_posted", "预留转账已过账", "The pending transfer was posted";
        PendingTransferAlreadyVoided = "pending_transfer_already_voided", "预留转账已撤销", "The pending transfer was voided";
        ExceedsCredits = "exceeds_credits", "超出借方账户可用贷方余额", "Exceeds the debit account's credits";
        ExceedsDebits = "exceeds_debits", "超出贷方账户可用借方余额", "Exceeds the credit account's debits";
        Overflow = "overflow", "金额溢出", "An amount overflows";
    }
}

/// The fields of a replayed id compared with the stored transfer, in TigerBeetle's order.
pub fn compare_existing(stored: &Transfer, t: &Transfer) -> TransferResult {
    if stored.flags != t.flags {
        TransferResult::ExistsWithDifferentFlags
    } else if stored.pending_id != t.pending_id {
        TransferResult::ExistsWithDifferentPendingId
    } else if stored.debit_account_id != t.debit_account_id {
        TransferResult::ExistsWithDifferentDebitAccountId
    } else if stored.credit_account_id != t.credit_account_id {
        TransferResult::ExistsWithDifferentCreditAccountId
    } else if stored.amount != t.amount {
        TransferResult::ExistsWithDifferentAmount
    } else if stored.code != t.code {
        TransferResult::ExistsWithDifferentCode
    } else if stored.event_ref != t.event_ref {
        TransferResult::ExistsWithDifferentEventRef
    } else {
        TransferResult::Exists
    }
}

/// Checks that need nothing stored.
pub fn check_shape(t: &Transfer) -> Result<(), TransferResult> {
    if t.id.trim().is_empty() {
        return Err(TransferResult::IdMustNotBeEmpty);
    }
    let f = t.flags;
    if [f.pending, f.post_pending, f.void_pending].iter().filter(|x| **x).count() > 1 {
        return Err(TransferResult::FlagsAreMutuallyExclusive);
    }
    let two_phase_end = f.post_pending || f.void_pending;
    if two_phase_end && t.pending_id.is_none() {
        return Err(TransferResult::PendingIdRequired);
    }
    if !two_phase_end && t.pending_id.is_some() {
        return Err(TransferResult::PendingIdMustBeEmpty);
    }
    if t.amount < 0 || (t.amount == 0 && !two_phase_end) {
        return Err(TransferResult::AmountMustNotBeZero);
    }
    if t.debit_account_id == t.credit_account_id {
        return Err(TransferResult::AccountsMustBeDifferent);
    }
    Ok(())
}

/// What a transfer does to the balances: how much moves to and from pending and posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Effect {
    /// Added to pending (negative: released from pending).
    pub pending: i64,
    /// Added to posted.
    pub posted: i64,
    /// For post/void: the amount posted or released.
    pub applied: i64,
    /// For post/void: the pending transfer's new state.
    pub resolves: Option<PendingState>,
}

/// Decides a new transfer (not a replay) against its accounts and, for post/void, the
/// pending transfer; on success the balances are changed in place.
pub fn apply(
    t: &Transfer,
    debit: &mut Account,
    credit: &mut Account,
    pending: Option<&StoredTransfer>,
) -> Result<Effect, TransferResult> {
    check_shape(t)?;
    if debit.currency != credit.currency {
        return Err(TransferResult::AccountsMustHaveTheSameCurrency);
    }
    let effect = if t.flags.post_pending || t.flags.void_pending {
        let p = pending.ok_or(TransferResult::PendingTransferNotFound)?;
        match p.state {
            PendingState::Pending => {}
            PendingState::Posted => return Err(TransferResult::PendingTransferAlreadyPosted),
            PendingState::Voided => return Err(TransferResult::PendingTransferAlreadyVoided),
            PendingState::None => return Err(TransferResult::PendingTransferNotPending),
        }
        if p.transfer.debit_account_id != t.debit_account_id {
            return Err(TransferResult::PendingTransferHasDifferentDebitAccountId);
        }
        if p.transfer.credit_account_id != t.credit_account_id {
            return Err(TransferResult::PendingTransferHasDifferentCreditAccountId);
        }
        let full = p.transfer.amount;
        if t.flags.post_pending {
            let a = if t.amount == 0 { full } else { t.amount };
            if a > full {
                return Err(TransferResult::ExceedsPendingTransferAmount);
            }
            Effect { pending: -full, posted: a, applied: a, resolves: Some(PendingState::Posted) }
        } else {
            if t.amount != 0 && t.amount != full {
                return Err(TransferResult::PendingTransferHasDifferentAmount);
            }
            Effect { pending: -full, posted: 0, applied: full, resolves: Some(PendingState::Voided) }
        }
    } else if t.flags.pending {
        Effect { pending: t.amount, posted: 0, applied: t.amount, resolves: None }
    } else {
        Effect { pending: 0, posted: t.amount, applied: t.amount, resolves: None }
    };
    let add = |a: i64, b: i64| a.checked_add(b).ok_or(TransferResult::Overflow);
    let mut d = debit.clone();
    let mut c = credit.clone();
    d.debits_pending = add(d.debits_pending, effect.pending)?;
    d.debits_posted = add(d.debits_posted, effect.posted)?;
    c.credits_pending = add(c.credits_pending, effect.pending)?;
    c.credits_posted = add(c.credits_posted, effect.posted)?;
    // Releasing a reservation never breaks a flag; adding to debits or credits may.
    if d.flags.debits_must_not_exceed_credits && add(d.debits_pending, d.debits_posted)? > d.credits_posted {
        return Err(TransferResult::ExceedsCredits);
    }
    if c.flags.credits_must_not_exceed_debits && add(c.credits_pending, c.credits_posted)? > c.debits_posted {
        return Err(TransferResult::ExceedsDebits);
    }
    *debit = d;
    *credit = c;
    Ok(effect)
}

/// One transfer as the event log records it: everything a `ledger_transfers` row holds
/// that matters (its state is not stored: a pending transfer is resolved by the later
/// post or void that names it). The field order is the canonical JSON order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerEntry {
    pub id: String,
    pub debit_account_id: String,
    pub credit_account_id: String,
    pub amount: i64,
    pub pending_id: Option<String>,
    pub code: u16,
    pub event_ref: String,
    pub flags: TransferFlags,
    pub applied_amount: i64,
    pub timestamp_us: i64,
}

impl LedgerEntry {
    /// The entry of a stored transfer.
    pub fn of(t: &StoredTransfer) -> LedgerEntry {
        let tr = &t.transfer;
        LedgerEntry {
            id: tr.id.clone(),
            debit_account_id: tr.debit_account_id.clone(),
            credit_account_id: tr.credit_account_id.clone(),
            amount: tr.amount,
            pending_id: tr.pending_id.clone(),
            code: tr.code,
            event_ref: tr.event_ref.clone(),
            flags: tr.flags,
            applied_amount: t.applied_amount,
            timestamp_us: t.timestamp_us,
        }
    }

    /// The names of the fields in which a stored transfer differs from this entry, each with
    /// the stored and the recorded value (`amount: 100 ≠ 1000`).
    pub fn differences(&self, stored: &StoredTransfer) -> Vec<String> {
        let other = LedgerEntry::of(stored);
        let mut out = Vec::new();
        let mut cmp = |name: &str, a: String, b: String| {
            if a != b {
                out.push(format!("{name}: {a} in the table, {b} in the event"));
            }
        };
        cmp("debit_account_id", other.debit_account_id, self.debit_account_id.clone());
        cmp("credit_account_id", other.credit_account_id, self.credit_account_id.clone());
        cmp("amount", other.amount.to_string(), self.amount.to_string());
        cmp("pending_id", format!("{:?}", other.pending_id), format!("{:?}", self.pending_id));
        cmp("code", other.code.to_string(), self.code.to_string());
        cmp("event_ref", other.event_ref, self.event_ref.clone());
        cmp("flags", format!("{:?}", other.flags), format!("{:?}", self.flags));
        cmp("applied_amount", other.applied_amount.to_string(), self.applied_amount.to_string());
        cmp("timestamp_us", other.timestamp_us.to_string(), self.timestamp_us.to_string());
        out
    }
}

/// The canonical text of the transfers one command wrote, in the order written: a compact
/// JSON array of [`LedgerEntry`] objects, fields in declaration order (`docs/ledger.md`).
pub fn encode_entries(transfers: &[StoredTransfer]) -> String {
    let entries: Vec<LedgerEntry> = transfers.iter().map(LedgerEntry::of).collect();
    serde_json::to_string(&entries).unwrap_or_default()
}

/// Reads the text [`encode_entries`] wrote.
pub fn decode_entries(text: &str) -> Result<Vec<LedgerEntry>, String> {
    serde_json::from_str(text).map_err(|e| format!("not a list of ledger transfers: {e}"))
}

/// Balances recomputed from transfers: `[debits_pending, debits_posted, credits_pending,
/// credits_posted]` per account id.
pub type Recomputed = std::collections::BTreeMap<String, [i64; 4]>;

/// Recomputes every account's balances from the transfers in the order they were written
/// (a post or void after the pending transfer it names), and lists what cannot be
/// explained: a post or void of an unknown or already resolved transfer, an overflow.
pub fn replay(entries: &[LedgerEntry]) -> (Recomputed, Vec<String>) {
    let mut out = Recomputed::new();
    let mut problems = Vec::new();
    // Pending transfers not yet resolved, with their amounts.
    let mut open: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
    for e in entries {
        let f = e.flags;
        let (pending, posted) = if f.post_pending || f.void_pending {
            let full = match e.pending_id.as_deref().and_then(|p| open.remove(p)) {
                Some(full) => full,
                None => {
                    problems.push(format!(
                        "transfer {} resolves {:?}, which is not an open pending transfer",
                        e.id, e.pending_id
                    ));
                    continue;
                }
            };
            (full.checked_neg(), if f.post_pending { Some(e.applied_amount) } else { Some(0) })
        } else if f.pending {
            open.insert(e.id.as_str(), e.amount);
            (Some(e.amount), Some(0))
        } else {
            (Some(0), Some(e.amount))
        };
        let (Some(pending), Some(posted)) = (pending, posted) else {
            problems.push(format!("transfer {} overflows", e.id));
            continue;
        };
        for (account, first) in [(&e.debit_account_id, 0usize), (&e.credit_account_id, 2usize)] {
            let b = out.entry(account.clone()).or_insert([0; 4]);
            let sum = |slot: Option<&mut i64>, by: i64| match slot {
                Some(v) => v.checked_add(by).map(|n| *v = n).is_some(),
                None => false,
            };
            let ok = sum(b.get_mut(first), pending) && sum(b.get_mut(first + 1), posted);
            if !ok {
                problems.push(format!("transfer {} overflows account {account}", e.id));
            }
        }
    }
    (out, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acc(id: &str, flags: AccountFlags) -> Account {
        Account {
            id: id.into(),
            owner_id: "o".into(),
            kind: "k".into(),
            currency: "CNY".into(),
            flags,
            debits_pending: 0,
            debits_posted: 0,
            credits_pending: 0,
            credits_posted: 0,
        }
    }

    fn tr(id: &str, d: &str, c: &str, amount: i64) -> Transfer {
        Transfer {
            id: id.into(),
            debit_account_id: d.into(),
            credit_account_id: c.into(),
            amount,
            pending_id: None,
            code: 1,
            event_ref: "e".into(),
            flags: TransferFlags::default(),
        }
    }

    #[test]
    fn posted_pending_post_void_and_flags() {
        let guarded = AccountFlags { debits_must_not_exceed_credits: true, ..Default::default() };
        let mut a = acc("a", guarded);
        let mut b = acc("b", AccountFlags::default());
        // a has no credits: it cannot be debited.
        assert_eq!(apply(&tr("1", "a", "b", 100), &mut a, &mut b, None), Err(TransferResult::ExceedsCredits));
        assert_eq!((a.debits_posted, b.credits_posted), (0, 0), "nothing changed");
        apply(&tr("2", "b", "a", 500), &mut b, &mut a, None).unwrap_or_default();
        assert_eq!(a.balance(), 500);
        let mut p = tr("3", "a", "b", 300);
        p.flags.pending = true;
        apply(&p, &mut a, &mut b, None).unwrap_or_default();
        assert_eq!(a.debits_pending, 300);
        // Only 200 left beyond the reservation.
        assert_eq!(apply(&tr("4", "a", "b", 201), &mut a, &mut b, None), Err(TransferResult::ExceedsCredits));
        let stored = StoredTransfer {
            transfer: p.clone(),
            applied_amount: 300,
            state: PendingState::Pending,
            timestamp_us: 0,
        };
        let mut post = tr("5", "a", "b", 250);
        post.pending_id = Some("3".into());
        post.flags.post_pending = true;
        let e = apply(&post, &mut a, &mut b, Some(&stored));
        assert_eq!(e.map(|e| e.applied), Ok(250));
        assert_eq!((a.debits_pending, a.debits_posted, a.balance()), (0, 250, 250));
        let done = StoredTransfer { state: PendingState::Posted, ..stored };
        let mut void = tr("6", "a", "b", 0);
        void.pending_id = Some("3".into());
        void.flags.void_pending = true;
        assert_eq!(
            apply(&void, &mut a, &mut b, Some(&done)),
            Err(TransferResult::PendingTransferAlreadyPosted)
        );
        assert!(a.flags_hold() && b.flags_hold());
    }

    #[test]
    fn replays_are_compared_field_by_field() {
        let t = tr("1", "a", "b", 100);
        assert_eq!(compare_existing(&t, &t), TransferResult::Exists);
        assert_eq!(compare_existing(&t, &tr("1", "a", "b", 101)), TransferResult::ExistsWithDifferentAmount);
        assert_eq!(
            compare_existing(&t, &tr("1", "a", "c", 100)),
            TransferResult::ExistsWithDifferentCreditAccountId
        );
        let mut f = t.clone();
        f.flags.pending = true;
        assert_eq!(compare_existing(&t, &f), TransferResult::ExistsWithDifferentFlags);
        assert_eq!(check_shape(&tr("", "a", "b", 1)), Err(TransferResult::IdMustNotBeEmpty));
        assert_eq!(check_shape(&tr("x", "a", "a", 1)), Err(TransferResult::AccountsMustBeDifferent));
        assert_eq!(check_shape(&tr("x", "a", "b", 0)), Err(TransferResult::AmountMustNotBeZero));
    }

    #[test]
    fn entries_round_trip_and_replay_to_the_balances() {
        let mut p = tr("p", "a", "b", 300);
        p.flags.pending = true;
        let mut post = tr("q", "a", "b", 250);
        post.pending_id = Some("p".into());
        post.flags.post_pending = true;
        let stored = |t: &Transfer, applied: i64| StoredTransfer {
            transfer: t.clone(),
            applied_amount: applied,
            state: PendingState::None,
            timestamp_us: 7,
        };
        let ts = [stored(&tr("1", "b", "a", 500), 500), stored(&p, 300), stored(&post, 250)];
        let text = encode_entries(&ts);
        assert!(text.starts_with(r#"[{"id":"1","debit_account_id":"b","credit_account_id":"a","amount":500,"pending_id":null,"code":1,"event_ref":"e","flags":{"linked":false,"pending":false,"post_pending":false,"void_pending":false},"applied_amount":500,"timestamp_us":7}"#), "{text}");
        let entries = decode_entries(&text).unwrap();
        assert_eq!(entries.len(), 3);
        let (balances, problems) = replay(&entries);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(balances.get("a"), Some(&[0, 250, 0, 500]));
        assert_eq!(balances.get("b"), Some(&[0, 500, 0, 250]));
        // A second post of the same pending transfer is not explained.
        let (_, problems) = replay(&[entries[1].clone(), entries[2].clone(), entries[2].clone()]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        let mut changed = ts[0].clone();
        changed.transfer.amount = 50;
        assert_eq!(entries[0].differences(&changed), vec!["amount: 50 in the table, 500 in the event"]);
        assert!(decode_entries("[{\"id\":1}]").is_err());
    }
}
