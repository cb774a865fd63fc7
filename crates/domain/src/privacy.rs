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

/// How a stored field is classed (数据安全法 Art 21; 个人信息保护法 Arts 4, 28): every column
/// that can hold a name, a contact, an address or a person's own words is listed here with its
/// class, so that retention, access requests and extracts know what they are handling
/// (`kebao/tests/it/tidy.rs` `every_stored_field_that_may_name_a_person_is_classified`).
/// `Personal` covers fields that are personal when the subject is a person (an insured or a
/// beneficiary may be a company).
pub const STORED_FIELDS: &[(&str, crate::consent::DataClass, &str, &str)] = {
    use crate::consent::DataClass::{Enterprise, Personal, Public};
    &[
        ("users.username", Personal, "用户登录名", "a user's sign-in name"),
        ("users.display_name", Personal, "用户姓名", "a user's name"),
        ("login_attempts.username", Personal, "登录尝试所用的用户名", "the user name a sign-in attempt used"),
        (
            "login_attempts.address",
            Personal,
            "登录尝试的网络地址",
            "the network address of a sign-in attempt",
        ),
        ("login_attempts.reason", Enterprise, "登录失败原因代码", "why a sign-in failed (a code)"),
        ("api_tokens.name", Enterprise, "API 令牌名称", "an API token's name"),
        ("consents.signer_name", Personal, "授权书签署人姓名", "the name of who signed a consent"),
        ("consents.signer_title", Personal, "签署人职务", "the signer's title"),
        (
            "consents.person_name",
            Personal,
            "个人单独同意所涉个人的姓名",
            "the person a separate consent is about",
        ),
        (
            "consents.evidence_file_name",
            Personal,
            "授权书文件名（可能含姓名）",
            "the consent document's file name (may name a person)",
        ),
        (
            "external_records.person_name",
            Personal,
            "外部个人信用记录所涉个人",
            "the person an external credit record is about",
        ),
        (
            "external_records.title",
            Enterprise,
            "外部记录标题（个人记录时为个人信息）",
            "an external record's title (personal on a personal record)",
        ),
        (
            "external_records.detail",
            Enterprise,
            "外部记录内容（个人记录时为个人信息）",
            "an external record's content (personal on a personal record)",
        ),
        (
            "attachments.file_name",
            Personal,
            "上传文件名（可能含姓名）",
            "an uploaded file's name (may name a person)",
        ),
        ("applications.insured_name", Personal, "被保险人名称", "the insured's name"),
        ("applications.beneficiary_name", Personal, "受益人名称", "the beneficiary's name"),
        ("policies.insured_name", Personal, "被保险人名称", "the insured's name"),
        ("policies.beneficiary_name", Personal, "受益人名称", "the beneficiary's name"),
        (
            "policies.answer_note",
            Enterprise,
            "保险机构对线下保单的答复",
            "the insurer's answer on a registered policy",
        ),
        ("claims.description", Personal, "出险经过（可能涉及个人）", "what happened (may concern people)"),
        ("claims.reason", Enterprise, "理赔决定理由", "the reason of a claim decision"),
        ("disputes.complaint", Personal, "投诉内容", "a complaint's text"),
        ("endorsements.reason", Enterprise, "批改理由", "the reason of a policy change"),
        ("subsidy_applications.reason", Enterprise, "补贴审核理由", "the reason of a subsidy decision"),
        ("subsidy_bans.reason", Enterprise, "禁止申请理由", "the reason of a ban"),
        ("product_versions.decision_reason", Enterprise, "备案审核理由", "the reason of a filing decision"),
        ("product_comments.author_name", Personal, "审核意见作者姓名", "a review comment's author"),
        ("articles.author_name", Public, "政策文章署名", "an article's byline"),
        ("articles.title", Public, "政策文章标题", "an article's title"),
        ("collection_accounts.account_name", Enterprise, "收款账户户名", "a collection account's name"),
        ("collection_accounts.note", Enterprise, "收款说明", "a payment note"),
        ("organisations.name", Public, "机构名称", "an organisation's name"),
        ("organisations.address", Public, "机构地址", "an organisation's address"),
        ("products.name", Public, "产品名称", "a product's name"),
        ("data_requests.details", Personal, "个人信息请求的说明", "what a personal-data request says"),
        ("data_requests.answer", Personal, "对个人信息请求的答复", "the answer to a personal-data request"),
        ("erasures.fields", Enterprise, "已删除的字段名", "the names of erased fields"),
    ]
};

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
