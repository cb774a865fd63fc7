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

/// Days the platform gives itself to answer, unless configured otherwise (`kebao serve
/// --data-request-days`). The law says "promptly" (及时, PIPL Art 50) and names no number: this
/// is the platform's own commitment, to be confirmed by the zone [U].
pub const RESPONSE_DAYS: i64 = 15;

/// A person's request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataRequest {
    pub id: String,
    /// The person the request is about when they are a user (who then filed it).
    pub user_id: Option<String>,
    /// The user's organisation, or the enterprise that named the person.
    pub org_id: Option<String>,
    /// The person the request is about when they are not a user (an enterprise's legal
    /// representative, a guarantor named in a consent): the platform's administrator records
    /// the request for them.
    pub person_name: Option<String>,
    /// How that person's identity was checked (document seen, by whom).
    pub identity_check: Option<String>,
    /// The user who filed it: the person, or the administrator who recorded it.
    pub filed_by: String,
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

/// The longest person's name, in characters.
pub const MAX_NAME: usize = 50;

/// Checks the person a request recorded for a non-user is about: a name of at least two
/// characters (the platform searches what it holds by it) and how their identity was checked.
pub fn check_person(name: &str, identity_check: &str) -> Result<(String, String), FieldError> {
    let name = crate::org::text_field("person_name", name, true, MAX_NAME)?.unwrap_or_default();
    if name.chars().count() < 2 {
        return Err(FieldError::new(
            "person_name",
            "too_short",
            "姓名至少两个字",
            "a name has at least two characters",
        ));
    }
    let check = crate::org::text_field("identity_check", identity_check, true, 200).map_err(|e| {
        if e.code == "required" {
            FieldError::new(
                "identity_check",
                "required",
                "请写明如何核验了本人身份（如：查验居民身份证原件）",
                "say how the person's identity was checked (an identity card seen, say)",
            )
        } else {
            e
        }
    })?;
    Ok((name, check.unwrap_or_default()))
}

string_enum! {
    /// What a personal-information protection impact assessment (个人信息保护法 Arts 55–56)
    /// covers: personal data going to a new recipient, or into an extract.
    AssessmentTarget {
        Recipient = "recipient", "向新的接收方提供个人信息", "Personal data to a new recipient";
        Extract = "extract", "含个人信息的导出", "An extract holding personal data";
    }
}

string_enum! {
    /// The extracts that carry personal data out of the platform; each is enabled once an
    /// assessment of it is on record. Today they are the API-key scopes that read personal
    /// data: another system then takes it automatically.
    Extract {
        ApiCreditRead = "api_credit_read", "经 API 密钥读取信用报告（含个人信用记录）", "Credit reports read with an API key (personal credit records included)";
        ApiConsentsRead = "api_consents_read", "经 API 密钥读取授权记录（含签署人与个人姓名、授权书）", "Consents read with an API key (names of signers and persons, the signed documents)";
    }
}

impl Extract {
    /// The extract an API-key scope opens, if it reads personal data.
    pub fn for_scope(scope: &str) -> Option<Extract> {
        match scope {
            "credit:read" => Some(Extract::ApiCreditRead),
            "consents:read" => Some(Extract::ApiConsentsRead),
            _ => None,
        }
    }
}

/// A personal-information protection impact assessment, kept as a record (PIPL Art 56: the
/// purpose, the data, the recipients, the date, who reviewed it; kept at least three years).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImpactAssessment {
    pub id: String,
    pub target: AssessmentTarget,
    /// The organisation that will receive personal data (`Recipient`).
    pub recipient_org_id: Option<String>,
    /// The extract (`Extract`).
    pub extract: Option<Extract>,
    pub purpose: String,
    /// Which personal data, field by field or by class.
    pub data: String,
    /// Who receives it, and how it is protected on the way.
    pub recipients: String,
    pub assessed_on: Date,
    /// Who reviewed the assessment (name and post).
    pub reviewer: String,
    /// The conclusion: the risks and the measures taken.
    pub conclusion: String,
    pub recorded_by: String,
    pub recorded_at_us: i64,
}

/// What a person types to record an assessment.
#[derive(Debug, Clone, Default)]
pub struct AssessmentInput {
    pub target: String,
    pub recipient_org_id: String,
    pub extract: String,
    pub purpose: String,
    pub data: String,
    pub recipients: String,
    pub assessed_on: String,
    pub reviewer: String,
    pub conclusion: String,
}

/// A checked assessment input. An assessment is made before the processing, so its date is
/// not in the future.
pub struct CheckedAssessment {
    pub target: AssessmentTarget,
    pub recipient_org_id: Option<String>,
    pub extract: Option<Extract>,
    pub purpose: String,
    pub data: String,
    pub recipients: String,
    pub assessed_on: Date,
    pub reviewer: String,
    pub conclusion: String,
}

impl AssessmentInput {
    /// Checks every field; all errors at once.
    pub fn check(&self, today: Date) -> Result<CheckedAssessment, Vec<FieldError>> {
        let mut errs = Vec::new();
        let target = AssessmentTarget::from_code(&self.target);
        if target.is_none() {
            errs.push(FieldError::new("target", "unknown", "请选择评估对象", "choose what is assessed"));
        }
        let mut recipient = None;
        let mut extract = None;
        match target {
            Some(AssessmentTarget::Recipient) => {
                let r = self.recipient_org_id.trim();
                if r.is_empty() {
                    errs.push(FieldError::new(
                        "recipient_org_id",
                        "required",
                        "请选择接收个人信息的机构",
                        "choose the organisation that receives the data",
                    ));
                } else {
                    recipient = Some(r.to_owned());
                }
            }
            Some(AssessmentTarget::Extract) => {
                extract = Extract::from_code(&self.extract);
                if extract.is_none() {
                    errs.push(FieldError::new("extract", "unknown", "请选择导出", "choose the extract"));
                }
            }
            None => {}
        }
        let mut text = |field: &str, v: &str, max: usize| match crate::org::text_field(field, v, true, max) {
            Ok(v) => v.unwrap_or_default(),
            Err(e) => {
                errs.push(e);
                String::new()
            }
        };
        let purpose = text("purpose", &self.purpose, MAX_TEXT);
        let data = text("data", &self.data, MAX_TEXT);
        let recipients = text("recipients", &self.recipients, MAX_TEXT);
        let reviewer = text("reviewer", &self.reviewer, 100);
        let conclusion = text("conclusion", &self.conclusion, MAX_TEXT);
        let assessed_on = match crate::org::parse_date("assessed_on", &self.assessed_on) {
            Ok(d) if d > today => {
                errs.push(FieldError::new(
                    "assessed_on",
                    "future",
                    "评估日期不能晚于今天",
                    "the assessment date cannot be in the future",
                ));
                today
            }
            Ok(d) => d,
            Err(e) => {
                errs.push(e);
                today
            }
        };
        match target {
            Some(target) if errs.is_empty() => Ok(CheckedAssessment {
                target,
                recipient_org_id: recipient,
                extract,
                purpose,
                data,
                recipients,
                assessed_on,
                reviewer,
                conclusion,
            }),
            _ => Err(errs),
        }
    }
}

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
        ("loans.bank_reason", Enterprise, "银行审查理由", "the bank's reasons on a loan"),
        ("loans.insurer_reason", Enterprise, "保险机构审查理由", "the insurer's reasons on a loan"),
        ("loans.zone_reason", Enterprise, "示范区审批理由", "the zone's reasons on a loan"),
        (
            "loan_pledges.owner",
            Enterprise,
            "出质知识产权的权利人",
            "the holder of a pledged patent or trademark",
        ),
        ("product_versions.decision_reason", Enterprise, "备案审核理由", "the reason of a filing decision"),
        ("product_comments.author_name", Personal, "审核意见作者姓名", "a review comment's author"),
        (
            "product_comments.body",
            Personal,
            "备案审核意见（可能涉及个人）",
            "a filing review comment (may concern people)",
        ),
        ("articles.author_name", Public, "政策文章署名", "an article's byline"),
        ("articles.title", Public, "政策文章标题", "an article's title"),
        ("collection_accounts.account_name", Enterprise, "收款账户户名", "a collection account's name"),
        ("collection_accounts.note", Enterprise, "收款说明", "a payment note"),
        ("organisations.name", Public, "机构名称", "an organisation's name"),
        ("organisations.address", Public, "机构地址", "an organisation's address"),
        ("products.name", Public, "产品名称", "a product's name"),
        ("lab_models.name", Enterprise, "模型名称（机构自定）", "a model's name (the institution's own)"),
        ("lab_extracts.purpose", Enterprise, "经验数据提取的用途说明", "why an experience extract was made"),
        (
            "lab_extracts.pia_recipient",
            Enterprise,
            "影响评估记载的接收机构或部门",
            "the institution or department an impact assessment names as recipient",
        ),
        ("data_requests.details", Personal, "个人信息请求的说明", "what a personal-data request says"),
        ("data_requests.answer", Personal, "对个人信息请求的答复", "the answer to a personal-data request"),
        (
            "data_requests.person_name",
            Personal,
            "代为登记的请求所涉个人姓名",
            "the name of a person a request was recorded for",
        ),
        (
            "data_requests.identity_check",
            Personal,
            "本人身份核验方式",
            "how the person's identity was checked",
        ),
        ("impact_assessments.reviewer", Personal, "影响评估审核人", "who reviewed an impact assessment"),
        ("impact_assessments.purpose", Enterprise, "影响评估所述目的", "an impact assessment's purpose"),
        (
            "impact_assessments.recipients",
            Enterprise,
            "影响评估所述接收方",
            "an impact assessment's recipients",
        ),
        (
            "event_personal.data",
            Personal,
            "事件旁存的个人文字（理由、说明、文件名）",
            "words kept beside an event (reasons, notes, file names)",
        ),
        ("erasures.fields", Enterprise, "已删除的字段名", "the names of erased fields"),
    ]
};

/// A stored field in words (`consents.signer_name` → 授权书签署人姓名).
pub fn field_label(field: &str) -> (&'static str, &'static str) {
    STORED_FIELDS.iter().find(|f| f.0 == field).map_or(("其他字段", "another field"), |f| (f.2, f.3))
}

/// A personal part's field in words.
pub fn word_label(key: &str) -> (&'static str, &'static str) {
    match key {
        "reason" => ("理由", "reason"),
        "note" => ("说明", "note"),
        "file_name" => ("文件名", "file name"),
        _ => ("文字", "words"),
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
        assert_eq!(check_person("王", "身份证").unwrap_err().code, "too_short");
        assert_eq!(check_person("王五", " ").unwrap_err().code, "required");
        assert_eq!(check_person(" 王五 ", "查验身份证原件").unwrap().0, "王五");
    }

    #[test]
    fn an_assessment_names_its_target_and_is_not_dated_ahead() {
        let today = time::macros::date!(2026 - 12 - 06);
        let mut a = AssessmentInput {
            target: "recipient".into(),
            purpose: "贷款审查".into(),
            data: "担保人姓名、信用记录".into(),
            recipients: "某银行授信部".into(),
            assessed_on: "2026-12-07".into(),
            reviewer: "张三（合规）".into(),
            conclusion: "风险可控".into(),
            ..AssessmentInput::default()
        };
        let codes: Vec<_> = a.check(today).err().unwrap().into_iter().map(|e| e.code).collect();
        assert_eq!(codes, vec!["required", "future"]);
        a.recipient_org_id = "bank-1".into();
        a.assessed_on = "2026-12-01".into();
        let ok = a.check(today).ok().unwrap();
        assert_eq!(
            (ok.target, ok.recipient_org_id.as_deref(), ok.extract),
            (AssessmentTarget::Recipient, Some("bank-1"), None)
        );
        a.target = "extract".into();
        a.extract = "nothing".into();
        assert_eq!(a.check(today).err().unwrap()[0].field, "extract");
        a.extract = "api_credit_read".into();
        assert_eq!(a.check(today).ok().unwrap().extract, Some(Extract::ApiCreditRead));
        assert_eq!(Extract::for_scope("consents:read"), Some(Extract::ApiConsentsRead));
        assert_eq!(Extract::for_scope("products:read"), None);
    }
}
