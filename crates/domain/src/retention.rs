//! Retention (issue 18.3): how long the platform keeps what, as configuration
//! (`data/retention.toml`), each rule with its source and confidence tag. The daily retention
//! job applies the `delete` and `anonymise` rules; `keep` rules are listed so that the list is
//! complete (money and the signed log are never removed).

use crate::error::FieldError;
use crate::org::string_enum;
use serde::Deserialize;
use time::Date;

/// The embedded rules.
pub const RETENTION: &str = include_str!("../../../data/retention.toml");

string_enum! {
    /// What happens when a rule's time is up.
    RetentionAction {
        Delete = "delete", "删除", "Deleted";
        Anonymise = "anonymise", "删除个人信息字段", "Personal fields erased";
        OnRequest = "on_request", "应本人请求删除", "Erased at the person's request";
        Keep = "keep", "长期保存", "Kept";
    }
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionRule {
    pub id: String,
    pub label_zh: String,
    pub label_en: String,
    pub action: RetentionAction,
    /// The period, in years (none: kept without end).
    #[serde(default)]
    pub years: Option<i32>,
    pub counted_from: String,
    /// For `negative_records`: the external record kinds it covers.
    #[serde(default)]
    pub record_kinds: Vec<String>,
    /// For `anonymise`: the fields it erases.
    #[serde(default)]
    pub fields: Vec<String>,
    #[serde(default)]
    pub note: Option<String>,
    pub source: String,
    /// The source in English.
    pub source_en: String,
    /// `C`, `R` or `U` (see `rules.md`).
    pub confidence: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    rule: Vec<RetentionRule>,
}

/// The rules, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionRules(pub Vec<RetentionRule>);

/// The rules the retention job applies (by id).
pub const NEGATIVE_RECORDS: &str = "negative_records";
pub const ENDED_PERSONAL_CONSENTS: &str = "ended_personal_consents";
pub const DEACTIVATED_USER_CREDENTIALS: &str = "deactivated_user_credentials";
pub const SIGN_IN_ATTEMPTS: &str = "sign_in_attempts";
/// The rule an erasure made by granting a deletion request is listed under.
pub const DELETION_REQUEST: &str = "deletion_request";
/// The rules the daily job applies.
pub const APPLIED_DAILY: [&str; 4] =
    [NEGATIVE_RECORDS, ENDED_PERSONAL_CONSENTS, DEACTIVATED_USER_CREDENTIALS, SIGN_IN_ATTEMPTS];

impl RetentionRules {
    /// Parses and checks a rules file: ids unique, a period for every rule that removes
    /// anything, a confidence tag, and the two rules the job applies present.
    pub fn from_toml(text: &str) -> Result<RetentionRules, FieldError> {
        let bad = |en: String| FieldError::new("retention", "invalid", format!("保留规则有误：{en}"), en);
        let f: File = toml::from_str(text).map_err(|e| bad(format!("the rules do not read: {e}")))?;
        let mut seen = std::collections::BTreeSet::new();
        for r in &f.rule {
            if !seen.insert(r.id.as_str()) {
                return Err(bad(format!("rule `{}` is given twice", r.id)));
            }
            if !["C", "R", "U"].contains(&r.confidence.as_str()) {
                return Err(bad(format!("rule `{}`: confidence must be C, R or U", r.id)));
            }
            let timed = !matches!(r.action, RetentionAction::Keep | RetentionAction::OnRequest);
            if timed && !r.years.is_some_and(|y| (1..=100).contains(&y)) {
                return Err(bad(format!(
                    "rule `{}` removes data: it needs a period of 1 to 100 years",
                    r.id
                )));
            }
            if r.source.trim().is_empty() || r.source_en.trim().is_empty() {
                return Err(bad(format!("rule `{}` names no source", r.id)));
            }
        }
        for needed in APPLIED_DAILY {
            if !f.rule.iter().any(|r| {
                r.id == needed && matches!(r.action, RetentionAction::Delete | RetentionAction::Anonymise)
            }) {
                return Err(bad(format!("the rule `{needed}` is missing")));
            }
        }
        if !f.rule.iter().any(|r| r.id == DELETION_REQUEST && r.action == RetentionAction::OnRequest) {
            return Err(bad(format!("the rule `{DELETION_REQUEST}` is missing")));
        }
        Ok(RetentionRules(f.rule))
    }

    /// The embedded rules (checked by this module's tests).
    pub fn embedded() -> RetentionRules {
        RetentionRules::from_toml(RETENTION).unwrap_or_else(|_| RetentionRules(Vec::new()))
    }

    /// A rule by id.
    pub fn get(&self, id: &str) -> Option<&RetentionRule> {
        self.0.iter().find(|r| r.id == id)
    }
}

/// What an erasure's `fields` name, in words.
pub fn fields_label(fields: &str) -> (String, String) {
    if fields == "*" {
        return ("整条记录".into(), "the whole record".into());
    }
    if let Some(n) = fields.strip_prefix("count:") {
        return (format!("{n} 条记录"), format!("{n} records"));
    }
    let (zh, en): (Vec<&str>, Vec<&str>) = fields
        .split(',')
        .map(|f| match f {
            "signer_name" => ("签署人姓名", "signer's name"),
            "person_name" => ("个人姓名", "person's name"),
            "document" => ("同意书文件内容", "the consent document's content"),
            "password_hash" => ("登录口令（散列值）", "the password (its hash)"),
            "api_tokens" => ("API 令牌", "API tokens"),
            "sessions" => ("登录会话", "sign-in sessions"),
            "reason" => ("理由", "reason"),
            "note" => ("说明", "note"),
            "file_name" => ("文件名", "file name"),
            _ => ("其他字段", "other field"),
        })
        .unzip();
    (zh.join("、"), en.join(", "))
}

/// What an erasure's subject is, in words.
pub fn subject_label(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "external_record" => ("外部信用记录", "External credit record"),
        "consent" => ("个人单独同意", "Separate personal consent"),
        "user" => ("停用的用户", "Deactivated user"),
        "login_attempt" => ("登录尝试记录", "Sign-in attempt records"),
        "event" => ("事件旁存的文字", "Words kept beside an event"),
        _ => ("其他记录", "Other record"),
    }
}

impl RetentionRule {
    /// The last day whose data is due on `today`: data counted from a day before or on it has
    /// been kept the rule's whole period. `None` for a rule that keeps.
    pub fn due_through(&self, today: Date) -> Option<Date> {
        let years = self.years?;
        if matches!(self.action, RetentionAction::Keep | RetentionAction::OnRequest) {
            return None;
        }
        let y = today.year() - years;
        // 29 February of a leap year, `years` back in a common year: the 28th.
        let back = Date::from_calendar_date(y, today.month(), today.day())
            .or_else(|_| Date::from_calendar_date(y, today.month(), today.day().saturating_sub(1)))
            .ok()?;
        back.previous_day()
    }

    /// The confidence tag in words.
    pub fn confidence_label(&self) -> (&'static str, &'static str) {
        match self.confidence.as_str() {
            "C" => ("已核对原文", "confirmed against the text"),
            "R" => ("凭记忆引用，未重新核对", "recalled, not re-verified"),
            _ => ("未经确认，须由示范区确认", "unconfirmed: the zone must confirm it"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_embedded_rules_load_and_name_their_sources() {
        let r = RetentionRules::from_toml(RETENTION).unwrap();
        let neg = r.get(NEGATIVE_RECORDS).unwrap();
        assert_eq!((neg.action, neg.years, neg.confidence.as_str()), (RetentionAction::Delete, Some(5), "C"));
        assert!(neg.source.contains("第十六条"));
        assert!(neg.record_kinds.contains(&"dishonest_debtor".to_owned()));
        assert_eq!(r.get("query_logs").unwrap().confidence, "U");
        assert_eq!(r.get("money").unwrap().action, RetentionAction::Keep);
        assert_eq!(r.get(DELETION_REQUEST).unwrap().action, RetentionAction::OnRequest);
        assert_eq!(r.get(SIGN_IN_ATTEMPTS).unwrap().years, Some(1));
    }

    #[test]
    fn a_period_ends_the_day_after_the_same_day_years_later() {
        let r = RetentionRules::embedded();
        let neg = r.get(NEGATIVE_RECORDS).unwrap();
        // Ended on 2021-12-05: five years are over on 2026-12-05; due from 2026-12-06.
        assert_eq!(neg.due_through(date!(2026 - 12 - 06)), Some(date!(2021 - 12 - 05)));
        assert_eq!(neg.due_through(date!(2028 - 02 - 29)), Some(date!(2023 - 02 - 27)));
        assert_eq!(r.get("money").unwrap().due_through(date!(2026 - 12 - 06)), None);
    }

    #[test]
    fn bad_rules_are_refused() {
        let base = RETENTION.to_owned();
        assert!(
            RetentionRules::from_toml(&base.replace("confidence = \"C\"", "confidence = \"maybe\"")).is_err()
        );
        assert!(RetentionRules::from_toml(&base.replace(
            "years = 5\ncounted_from = \"the day the negative",
            "counted_from = \"the day the negative"
        ))
        .is_err());
        assert!(
            RetentionRules::from_toml(&base.replace("id = \"negative_records\"", "id = \"other\"")).is_err()
        );
        assert!(RetentionRules::from_toml("[[rule]]\nid = 1").is_err());
    }
}
