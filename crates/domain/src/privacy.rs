//! Personal-data rights (个人信息保护法 Arts 44–50; issue 18.4): a person asks to see, correct
//! or delete what the platform holds about them, and the request is answered by a deadline.

use crate::error::FieldError;
use crate::org::string_enum;
use time::Date;

string_enum! {
    /// What the person asks for.
    RequestKind {
        Access = "access", "查阅、复制我的个人信息", "See and copy my personal data";
        Correct = "correct", "更正、补充", "Correct or complete it";
        Delete = "delete", "删除", "Delete it";
    }
}

string_enum! {
    /// Where a request stands.
    RequestState {
        Open = "open", "待答复", "Awaiting an answer";
        Granted = "granted", "已办理", "Done";
        Refused = "refused", "不予办理（已说明理由）", "Refused, with reasons";
    }
}

/// Days the platform gives itself to answer. The law says "promptly" (及时, PIPL Art 50) and
/// names no number: this is the platform's own commitment, to be confirmed by the zone [U].
pub const RESPONSE_DAYS: i64 = 15;

/// A person's request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataRequest {
    pub id: String,
    /// The person (a user) the request is about, who filed it.
    pub user_id: String,
    pub org_id: String,
    pub kind: RequestKind,
    /// What to correct or delete, or anything else the person says.
    pub details: String,
    pub filed_at_us: i64,
    /// The day the answer is due.
    pub due_on: Date,
    pub state: RequestState,
    pub answer: Option<String>,
    pub answered_by: Option<String>,
    pub answered_at_us: Option<i64>,
}

/// The longest text a request or an answer may have, in characters.
pub const MAX_TEXT: usize = 2000;

/// Checks a request's text: what to correct or delete must be said.
pub fn check_details(kind: RequestKind, details: &str) -> Result<String, FieldError> {
    let d = details.trim();
    if d.chars().count() > MAX_TEXT {
        return Err(FieldError::new(
            "details",
            "too_long",
            format!("最多 {MAX_TEXT} 个字符"),
            format!("at most {MAX_TEXT} characters"),
        ));
    }
    if d.is_empty() && kind != RequestKind::Access {
        return Err(FieldError::new(
            "details",
            "required",
            "请写明要更正或删除的信息",
            "say which data to correct or delete",
        ));
    }
    Ok(d.to_owned())
}

/// Checks an answer: it says what was done, or why not.
pub fn check_answer(answer: &str) -> Result<String, FieldError> {
    let a = answer.trim();
    if a.is_empty() {
        return Err(FieldError::new(
            "answer",
            "required",
            "请写明办理情况或不予办理的理由",
            "say what was done, or why not",
        ));
    }
    if a.chars().count() > MAX_TEXT {
        return Err(FieldError::new(
            "answer",
            "too_long",
            format!("最多 {MAX_TEXT} 个字符"),
            format!("at most {MAX_TEXT} characters"),
        ));
    }
    Ok(a.to_owned())
}

impl RequestState {
    /// The state after an answer, or why the request cannot be answered.
    pub fn answer(self, grant: bool) -> Result<RequestState, FieldError> {
        match self {
            RequestState::Open => Ok(if grant { RequestState::Granted } else { RequestState::Refused }),
            other => Err(FieldError::new(
                "state",
                "answered",
                format!("该请求已答复（{}）", other.label_zh()),
                format!("the request was answered already ({})", other.label_en()),
            )),
        }
    }
}

impl DataRequest {
    /// Whether the answer is late on `today`.
    pub fn overdue(&self, today: Date) -> bool {
        self.state == RequestState::Open && today > self.due_on
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_answered_once_and_says_what() {
        assert_eq!(RequestState::Open.answer(true).unwrap(), RequestState::Granted);
        assert_eq!(RequestState::Open.answer(false).unwrap(), RequestState::Refused);
        assert_eq!(RequestState::Granted.answer(false).unwrap_err().code, "answered");
        assert!(check_details(RequestKind::Correct, "  ").is_err());
        assert_eq!(check_details(RequestKind::Access, " ").unwrap(), "");
        assert!(check_details(RequestKind::Delete, &"字".repeat(MAX_TEXT + 1)).is_err());
        assert!(check_answer("").is_err());
    }
}
