//! Users and roles. A user belongs to exactly one organisation and holds roles that fit
//! its kind.

use crate::error::FieldError;
use crate::org::{string_enum, OrgKind};

string_enum! {
    /// What a user may do, within its organisation.
    Role {
        EnterpriseAdmin = "enterprise_admin", "企业管理员", "Enterprise admin";
        EnterpriseStaff = "enterprise_staff", "企业员工", "Enterprise staff";
        OrgAdmin = "org_admin", "机构管理员", "Organisation admin";
        ProductFiler = "product_filer", "产品备案员", "Product filer";
        Underwriter = "underwriter", "核保员", "Underwriter";
        ClaimsHandler = "claims_handler", "理赔员", "Claims handler";
        Mediator = "mediator", "调解员", "Mediator";
        BankOfficer = "bank_officer", "银行客户经理", "Bank officer";
        ZoneReviewer = "zone_reviewer", "管委会初审员", "Zone reviewer";
        ZoneApprover = "zone_approver", "管委会审批员", "Zone approver";
        Regulator = "regulator", "监管人员（只读）", "Regulator (read-only)";
        PlatformAdmin = "platform_admin", "平台管理员", "Platform admin";
    }
}

impl Role {
    /// Whether a member of an organisation of `kind` may hold this role.
    pub fn fits(self, kind: OrgKind) -> bool {
        use OrgKind as K;
        use Role as R;
        match self {
            R::EnterpriseAdmin | R::EnterpriseStaff => kind == K::Enterprise,
            R::OrgAdmin => kind != K::Enterprise,
            R::ProductFiler | R::Underwriter | R::ClaimsHandler => kind == K::Insurer,
            R::BankOfficer => matches!(kind, K::Bank | K::Guarantor | K::Investor),
            R::Mediator => matches!(kind, K::ServiceBody | K::Government),
            R::ZoneReviewer | R::ZoneApprover | R::Regulator | R::PlatformAdmin => kind == K::Government,
        }
    }

    /// The role's labels as a member of an organisation of `kind` sees them: a guarantor's or
    /// an investor's officer is not a bank's 客户经理.
    pub fn label_in(self, kind: OrgKind) -> (&'static str, &'static str) {
        match (self, kind) {
            (Role::BankOfficer, OrgKind::Guarantor) => ("担保业务经理", "Guarantee officer"),
            (Role::BankOfficer, OrgKind::Investor) => ("投资经理", "Investment officer"),
            _ => (self.label_zh(), self.label_en()),
        }
    }

    /// Whether the role administers its organisation's staff.
    pub fn is_admin(self) -> bool {
        matches!(self, Role::EnterpriseAdmin | Role::OrgAdmin | Role::PlatformAdmin)
    }

    /// Whether the role carries a statutory duty to read enterprise data (zone, regulator).
    pub fn has_statutory_duty(self) -> bool {
        matches!(self, Role::ZoneReviewer | Role::ZoneApprover | Role::Regulator)
    }
}

/// A login name: 3–32 characters of lower-case letters, digits, `.`, `_` and `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// Parses a login name; upper case is folded.
    pub fn parse(input: &str) -> Result<Username, FieldError> {
        let s = input.trim().to_ascii_lowercase();
        if s.is_empty() {
            return Err(FieldError::required("username"));
        }
        let ok = (3..=32).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if !ok {
            return Err(FieldError::new(
                "username",
                "username_format",
                format!("用户名 `{s}` 无效：3–32位，仅限小写字母、数字和 . _ -"),
                format!("user name `{s}` is invalid: 3–32 characters of lower-case letters, digits, `.`, `_` and `-`"),
            ));
        }
        Ok(Username(s))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The shortest password accepted.
pub const PASSWORD_MIN_CHARS: usize = 10;

/// Checks a new password's length (hashing is the service's job).
pub fn check_new_password(pw: &str) -> Result<(), FieldError> {
    let n = pw.chars().count();
    if n < PASSWORD_MIN_CHARS {
        return Err(FieldError::new(
            "password",
            "password_too_short",
            format!("密码至少{PASSWORD_MIN_CHARS}位（当前{n}位）"),
            format!("a password has at least {PASSWORD_MIN_CHARS} characters (this has {n})"),
        ));
    }
    if n > 256 {
        return Err(FieldError::new("password", "too_long", "密码过长", "the password is too long"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_fit_their_kinds() {
        assert!(Role::Underwriter.fits(OrgKind::Insurer));
        assert!(!Role::Underwriter.fits(OrgKind::Bank));
        assert!(!Role::EnterpriseAdmin.fits(OrgKind::Insurer));
        assert!(Role::Regulator.has_statutory_duty());
        assert_eq!(Role::from_code("核保员"), Some(Role::Underwriter));
    }

    #[test]
    fn usernames() {
        assert_eq!(Username::parse(" Zhang.San ").map(|u| u.as_str().to_owned()), Ok("zhang.san".into()));
        assert!(Username::parse("张三").is_err());
        assert!(Username::parse("ab").is_err());
    }
}

/// A user as stored (without the password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub org_id: String,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub active: bool,
    /// The password was set by someone else (an administrator, the operator) and must be
    /// changed before the user does anything else.
    pub must_change_password: bool,
}

impl User {
    /// Whether the user holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// An API token or key as kept: its secret is never stored, only a hash of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub created_at_us: i64,
    pub expires_at_us: i64,
    pub revoked_at_us: Option<i64>,
    /// An API key's scopes (comma-separated); `None` for a user's full token.
    pub scopes: Option<String>,
    pub rate_per_minute: Option<i64>,
}
