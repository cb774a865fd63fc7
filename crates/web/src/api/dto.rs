//! Wire types, converted from domain types by hand.

use super::rfc3339;
use kebao_domain::org::{Organisation, OrganisationInput, Qualification, YearlyFacts};
use kebao_domain::User;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use crate::forms::registry::OrgQuery;

/// An organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgDto {
    pub id: String,
    pub name: String,
    /// 统一社会信用代码.
    pub uscc: String,
    /// enterprise | insurer | bank | guarantor | investor | service_body | government
    pub kind: String,
    /// pending | verified | rejected
    pub status: String,
    /// GB/T 4754-2017 code.
    pub industry_code: Option<String>,
    /// The zone's 5+2 industry tags of the code.
    pub zone_industries: Vec<String>,
    /// rnd | commercialisation | production | market | financing | overseas
    pub lifecycle_stage: Option<String>,
    pub founded_on: Option<String>,
    pub address: Option<String>,
    pub parent_id: Option<String>,
    /// The zone park an enterprise sits in (an id of the zone's configuration).
    pub park: Option<String>,
    /// specialist_branch | insurtech | research_body | intermediary | service_body (the plan's targets count these).
    pub institution_kind: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Organisation> for OrgDto {
    fn from(o: &Organisation) -> OrgDto {
        OrgDto {
            id: o.id.clone(),
            name: o.name.clone(),
            uscc: o.uscc.clone(),
            kind: o.kind.code().to_owned(),
            status: o.status.code().to_owned(),
            industry_code: o.industry_code.clone(),
            zone_industries: o.zone_industries.clone(),
            lifecycle_stage: o.lifecycle_stage.map(|s| s.code().to_owned()),
            founded_on: o.founded_on.map(|d| d.to_string()),
            address: o.address.clone(),
            parent_id: o.parent_id.clone(),
            park: o.park.clone(),
            institution_kind: o.institution_kind.map(|k| k.code().to_owned()),
            created_at: rfc3339(o.created_at_us),
            updated_at: rfc3339(o.updated_at_us),
        }
    }
}

/// An organisation as submitted. Codes or Chinese labels are accepted for enums.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct OrgInputDto {
    pub name: String,
    pub uscc: String,
    pub kind: String,
    pub industry_code: String,
    pub lifecycle_stage: String,
    /// YYYY-MM-DD
    pub founded_on: String,
    pub address: String,
    /// Parent organisation id (branches of insurers and banks).
    pub parent_id: String,
    /// The zone park an enterprise sits in (an id of the zone's configuration); optional.
    pub park: String,
    /// The kind of institution the plan's targets count (institutions only); optional.
    pub institution_kind: String,
}

impl From<OrgInputDto> for OrganisationInput {
    fn from(d: OrgInputDto) -> OrganisationInput {
        OrganisationInput {
            name: d.name,
            uscc: d.uscc,
            kind: d.kind,
            industry_code: d.industry_code,
            lifecycle_stage: d.lifecycle_stage,
            founded_on: d.founded_on,
            address: d.address,
            parent_id: d.parent_id,
            park: d.park,
            institution_kind: d.institution_kind,
        }
    }
}

/// A page of organisations.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgPageDto {
    pub items: Vec<OrgDto>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    pub total: u64,
}

/// One year of an enterprise's facts. Money in fen; the export share in basis points.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FactsDto {
    #[serde(default)]
    pub year: i32,
    pub revenue_fen: i64,
    pub rnd_expense_fen: i64,
    pub staff: u32,
    pub rnd_staff: u32,
    pub patents_granted: u32,
    pub patents_pending: u32,
    pub export_share_bp: u32,
}

impl From<&YearlyFacts> for FactsDto {
    fn from(f: &YearlyFacts) -> FactsDto {
        FactsDto {
            year: f.year,
            revenue_fen: f.revenue.fen(),
            rnd_expense_fen: f.rnd_expense.fen(),
            staff: f.staff,
            rnd_staff: f.rnd_staff,
            patents_granted: f.patents_granted,
            patents_pending: f.patents_pending,
            export_share_bp: f.export_share_bp,
        }
    }
}

/// A qualification held for a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct QualificationDto {
    pub id: String,
    pub kind: String,
    pub valid_from: String,
    pub valid_to: String,
    pub certificate_no: Option<String>,
}

impl From<&(String, Qualification)> for QualificationDto {
    fn from((id, q): &(String, Qualification)) -> QualificationDto {
        QualificationDto {
            id: id.clone(),
            kind: q.kind.code().to_owned(),
            valid_from: q.valid_from.to_string(),
            valid_to: q.valid_to.to_string(),
            certificate_no: q.certificate_no.clone(),
        }
    }
}

/// A qualification as submitted.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct QualificationInputDto {
    pub kind: String,
    pub valid_from: String,
    pub valid_to: String,
    pub certificate_no: String,
}

/// What the caller may do with an organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct PermissionsDto {
    pub edit: bool,
    pub write_facts: bool,
    pub verify: bool,
    pub manage_staff: bool,
}

/// An organisation with what the caller may see of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgDetailDto {
    pub org: OrgDto,
    pub parent: Option<OrgDto>,
    pub branches: Vec<OrgDto>,
    pub qualifications: Vec<QualificationDto>,
    /// Yearly facts, newest first; absent when the caller has no lawful basis to see them.
    pub facts: Option<Vec<FactsDto>>,
    /// own | statutory_duty | none
    pub facts_basis: String,
    pub permissions: PermissionsDto,
}

/// A user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserDto {
    pub id: String,
    pub org_id: String,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<String>,
    pub active: bool,
    /// The password was set by an administrator and must be changed (`PUT /api/v1/me/password`)
    /// before anything else.
    pub must_change_password: bool,
}

impl From<&User> for UserDto {
    fn from(u: &User) -> UserDto {
        UserDto {
            id: u.id.clone(),
            org_id: u.org_id.clone(),
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            roles: u.roles.iter().map(|r| r.code().to_owned()).collect(),
            active: u.active,
            must_change_password: u.must_change_password,
        }
    }
}

/// A new user.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewUserDto {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub roles: Vec<String>,
}

/// A change to a user's roles or status.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdateDto {
    pub roles: Vec<String>,
    pub active: bool,
}

/// Self-registration of an enterprise with its first admin.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RegisterDto {
    pub organisation: OrgInputDto,
    pub admin: NewAdminDto,
}

/// The first admin of a self-registered enterprise.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewAdminDto {
    pub username: String,
    pub display_name: String,
    pub password: String,
}

/// A verification decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyDto {
    pub approve: bool,
}

/// Credentials for an API token.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TokenRequestDto {
    pub username: String,
    pub password: String,
    /// A name to recognise the token by.
    pub name: String,
}

/// A change of one's own password.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordChangeDto {
    pub current_password: String,
    /// At least 10 characters, and not the current one.
    pub new_password: String,
}

/// A new API token; the secret is shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenDto {
    pub id: String,
    pub token: String,
    pub expires_at: String,
}

impl TokenDto {
    pub(crate) fn new(secret: String, row: &kebao_domain::user::ApiToken) -> TokenDto {
        TokenDto { id: row.id.clone(), token: secret, expires_at: rfc3339(row.expires_at_us) }
    }
}

/// The signed-in caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeDto {
    pub user: UserDto,
    pub org_kind: String,
}

/// A to-do item.
#[derive(Debug, Serialize, ToSchema)]
pub struct TodoDto {
    pub kind: String,
    pub subject: String,
    pub title_zh: String,
    pub title_en: String,
    pub link: String,
    pub created_at: String,
}

/// A notification.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationDto {
    pub title_zh: String,
    pub title_en: String,
    pub link: String,
    pub created_at: String,
    pub read: bool,
}

/// The caller's to-dos and notifications.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxDto {
    pub todos: Vec<TodoDto>,
    pub notifications: Vec<NotificationDto>,
}

impl From<&kebao_service::inbox::Inbox> for InboxDto {
    fn from(i: &kebao_service::inbox::Inbox) -> InboxDto {
        InboxDto {
            todos: i
                .todos
                .iter()
                .map(|t| TodoDto {
                    kind: t.kind.clone(),
                    subject: t.subject.clone(),
                    title_zh: t.title_zh.clone(),
                    title_en: t.title_en.clone(),
                    link: t.link.clone(),
                    created_at: rfc3339(t.created_at_us),
                })
                .collect(),
            notifications: i
                .notifications
                .iter()
                .map(|n| NotificationDto {
                    title_zh: n.title_zh.clone(),
                    title_en: n.title_en.clone(),
                    link: n.link.clone(),
                    created_at: rfc3339(n.created_at_us),
                    read: n.read_at_us.is_some(),
                })
                .collect(),
        }
    }
}

/// A zone industry tag.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndustryDto {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    /// GB/T 4754 prefixes mapped to the tag (configuration: the 5+2 grouping is unconfirmed).
    pub gb4754_prefixes: Vec<String>,
}

/// The head of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct HeadDto {
    pub count: u64,
    pub hash: String,
}
