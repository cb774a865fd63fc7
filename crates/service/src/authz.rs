//! Authorisation: every read and write is decided here, by Cedar, default deny.
//!
//! The policies (`data/policies/*.cedar`) are embedded at build time; a deployment may
//! replace them with its own directory at start (the binary reads the files and passes
//! the texts in). Each policy is re-identified by its `@id` annotation so that the
//! decision names the policies that decided.

use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicyId,
    PolicySet, Request, RestrictedExpression, Schema, ValidationMode, Validator,
};
use kebao_domain::org::{OrgKind, OrgStatus};
use kebao_domain::user::User;
use std::collections::{HashMap, HashSet};
use std::str::FromStr;

/// The embedded schema.
pub const SCHEMA: &str = include_str!("../../../data/policies/schema.cedarschema");
/// The embedded policy files.
pub const POLICIES: &[(&str, &str)] = &[
    ("registry.cedar", include_str!("../../../data/policies/registry.cedar")),
    ("products.cedar", include_str!("../../../data/policies/products.cedar")),
    ("consent.cedar", include_str!("../../../data/policies/consent.cedar")),
];

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in user (web session or API token).
    User { user: User, org_kind: OrgKind },
    /// The local operator: the CLI, which has the database itself. Named in the log.
    System { name: String },
    /// A visitor who has not signed in.
    Anonymous,
}

impl Actor {
    /// The actor as the event log names it.
    pub fn log_name(&self) -> String {
        match self {
            Actor::User { user, .. } => format!("user:{}", user.id),
            Actor::System { name } => format!("system:{name}"),
            Actor::Anonymous => "anonymous".to_owned(),
        }
    }

    /// The user, if a user is asking.
    pub fn user(&self) -> Option<&User> {
        match self {
            Actor::User { user, .. } => Some(user),
            _ => None,
        }
    }

    /// The actor's organisation, if any.
    pub fn org_id(&self) -> Option<&str> {
        self.user().map(|u| u.org_id.as_str())
    }
}

/// The actions the policies know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ReadProfile,
    /// Reading an enterprise's non-public data: decided with [`Authz::decide_read`].
    ReadEnterpriseData,
    WriteFacts,
    UpdateOrg,
    VerifyOrg,
    ManageStaff,
    CreateOrg,
    RegisterSelf,
    ResetPassword,
    ReadAudit,
    FileProduct,
    EditProduct,
    ReviewProduct,
    ReadProduct,
    WritePublicity,
    LoadCatalogue,
    GrantConsent,
    ImportCreditData,
    WriteLedger,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::ReadProfile => "read_profile",
            Action::ReadEnterpriseData => "read_enterprise_data",
            Action::WriteFacts => "write_facts",
            Action::UpdateOrg => "update_org",
            Action::VerifyOrg => "verify_org",
            Action::ManageStaff => "manage_staff",
            Action::CreateOrg => "create_org",
            Action::RegisterSelf => "register_self",
            Action::ResetPassword => "reset_password",
            Action::ReadAudit => "read_audit",
            Action::FileProduct => "file_product",
            Action::EditProduct => "edit_product",
            Action::ReviewProduct => "review_product",
            Action::ReadProduct => "read_product",
            Action::WritePublicity => "write_publicity",
            Action::LoadCatalogue => "load_catalogue",
            Action::GrantConsent => "grant_consent",
            Action::ImportCreditData => "import_credit_data",
            Action::WriteLedger => "write_ledger",
        }
    }
}

/// What the action is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// An organisation, with what the policies look at.
    Org { id: String, kind: OrgKind, status: OrgStatus },
    /// An insurer's product; `published` when the version concerned is the public one.
    Product { id: String, insurer_id: String, published: bool },
    /// The zone as a whole.
    Zone,
}

/// The lawful basis for touching another organisation's data (C10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    /// The actor's own organisation.
    Own,
    /// A statutory duty (zone officers, the regulator), for a purpose.
    StatutoryDuty { purpose: String },
    /// The enterprise's consent, for the consent's purpose.
    Consent { purpose: String, consent_id: String },
    /// No basis.
    None,
}

impl Basis {
    /// The code recorded with decisions.
    pub fn code(&self) -> &'static str {
        match self {
            Basis::Own => "own",
            Basis::StatutoryDuty { .. } => "statutory_duty",
            Basis::Consent { .. } => "consent",
            Basis::None => "none",
        }
    }

    /// The purpose stated with the basis.
    pub fn purpose(&self) -> &str {
        match self {
            Basis::StatutoryDuty { purpose } | Basis::Consent { purpose, .. } => purpose,
            _ => "",
        }
    }
}

/// What a read of enterprise data is about (the context of `read_enterprise_data`).
#[derive(Debug, Clone)]
pub struct ReadContext<'a> {
    pub scope: &'a str,
    pub data_class: &'a str,
    pub purpose: &'a str,
    /// The business date as `yyyymmdd`.
    pub today: i64,
    pub consent: Option<&'a kebao_domain::consent::Consent>,
}

/// A decision and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    pub allowed: bool,
    /// The policies that decided (permits when allowed, forbids when one fired).
    pub policies: Vec<String>,
    pub basis: &'static str,
}

/// A policy or schema error at start.
#[derive(Debug, thiserror::Error)]
pub enum AuthzError {
    #[error("policy schema: {0}")]
    Schema(String),
    #[error("policy file `{file}`: {message}")]
    Policy { file: String, message: String },
    #[error("policy `{0}` has no @id annotation")]
    MissingId(String),
    #[error("policies do not validate against the schema: {0}")]
    Validation(String),
}

/// The policy set and schema.
#[derive(Debug)]
pub struct Authz {
    schema: Schema,
    policies: PolicySet,
    authorizer: Authorizer,
}

fn uid(ty: &str, id: &str) -> Result<EntityUid, String> {
    let ty = EntityTypeName::from_str(ty).map_err(|e| e.to_string())?;
    Ok(EntityUid::from_type_name_and_id(ty, EntityId::new(id)))
}

impl Authz {
    /// Loads a schema and policy files (name, text), validating them strictly.
    pub fn new(schema: &str, files: &[(&str, &str)]) -> Result<Authz, AuthzError> {
        let (schema, _) =
            Schema::from_cedarschema_str(schema).map_err(|e| AuthzError::Schema(e.to_string()))?;
        let mut policies = PolicySet::new();
        for (file, text) in files {
            let parsed = PolicySet::from_str(text)
                .map_err(|e| AuthzError::Policy { file: (*file).to_owned(), message: e.to_string() })?;
            for p in parsed.policies() {
                let id = p.annotation("id").ok_or_else(|| AuthzError::MissingId(p.to_string()))?;
                policies
                    .add(p.new_id(PolicyId::new(id)))
                    .map_err(|e| AuthzError::Policy { file: (*file).to_owned(), message: e.to_string() })?;
            }
        }
        let result = Validator::new(schema.clone()).validate(&policies, ValidationMode::Strict);
        if !result.validation_passed() {
            let msgs: Vec<String> = result.validation_errors().map(|e| e.to_string()).collect();
            return Err(AuthzError::Validation(msgs.join("; ")));
        }
        Ok(Authz { schema, policies, authorizer: Authorizer::new() })
    }

    /// The embedded policies.
    pub fn embedded() -> Result<Authz, AuthzError> {
        Authz::new(SCHEMA, POLICIES)
    }

    /// How many policies are loaded.
    pub fn policy_count(&self) -> usize {
        self.policies.policies().count()
    }

    /// Whether the schema lets the actor's kind of principal ask for `action` at all (only
    /// anonymous visitors are looked at; the other principals are in every action).
    fn principal_may_ask(&self, actor: &Actor, action: &EntityUid) -> bool {
        if !matches!(actor, Actor::Anonymous) {
            return true;
        }
        self.schema
            .principals_for_action(action)
            .is_some_and(|mut types| types.any(|t| t.to_string() == "Kebao::Anonymous"))
    }

    /// Decides one request. Any error building the request is a denial.
    pub fn decide(&self, actor: &Actor, action: Action, resource: &Resource, basis: &Basis) -> Decided {
        match self.try_decide(actor, action, resource, basis) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "authorisation request could not be built; denied");
                Decided { allowed: false, policies: Vec::new(), basis: basis.code() }
            }
        }
    }

    /// Decides a read of an enterprise's non-public data: one scope, of one data class,
    /// for a purpose, on a basis — with the consent the basis names, if any. This is the
    /// one check every such read passes (API, UI, export, CLI).
    pub fn decide_read(
        &self,
        actor: &Actor,
        enterprise: &Resource,
        basis: &Basis,
        read: &ReadContext<'_>,
    ) -> Decided {
        type Extra = (Vec<(String, RestrictedExpression)>, Vec<Entity>);
        let extra = || -> Result<Extra, String> {
            let mut ctx = vec![
                ("scope".to_owned(), RestrictedExpression::new_string(read.scope.to_owned())),
                ("data_class".to_owned(), RestrictedExpression::new_string(read.data_class.to_owned())),
                ("purpose".to_owned(), RestrictedExpression::new_string(read.purpose.to_owned())),
                ("today".to_owned(), RestrictedExpression::new_long(read.today)),
            ];
            let mut entities = Vec::new();
            if let Some(c) = read.consent {
                let cu = uid("Kebao::Consent", &c.id)?;
                let scopes = c.scopes.iter().map(|s| RestrictedExpression::new_string(s.code().to_owned()));
                let attrs = HashMap::from([
                    (
                        "enterprise".to_owned(),
                        RestrictedExpression::new_entity_uid(uid("Kebao::Organisation", &c.enterprise_id)?),
                    ),
                    (
                        "grantee".to_owned(),
                        RestrictedExpression::new_entity_uid(uid("Kebao::Organisation", &c.grantee_id)?),
                    ),
                    ("kind".to_owned(), RestrictedExpression::new_string(c.kind.code().to_owned())),
                    ("scopes".to_owned(), RestrictedExpression::new_set(scopes)),
                    ("purpose".to_owned(), RestrictedExpression::new_string(c.purpose.code().to_owned())),
                    ("active".to_owned(), RestrictedExpression::new_bool(c.revoked_at_us.is_none())),
                    (
                        "valid_from".to_owned(),
                        RestrictedExpression::new_long(kebao_domain::consent::date_number(c.valid_from)),
                    ),
                    (
                        "expires_on".to_owned(),
                        RestrictedExpression::new_long(kebao_domain::consent::date_number(c.expires_on)),
                    ),
                ]);
                entities.push(Entity::new(cu.clone(), attrs, HashSet::new()).map_err(|e| e.to_string())?);
                ctx.push(("consent".to_owned(), RestrictedExpression::new_entity_uid(cu)));
            }
            Ok((ctx, entities))
        };
        let result = extra().and_then(|(ctx, entities)| {
            self.try_decide_with(actor, Action::ReadEnterpriseData, enterprise, basis, ctx, entities)
        });
        match result {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "authorisation request could not be built; denied");
                Decided { allowed: false, policies: Vec::new(), basis: basis.code() }
            }
        }
    }

    fn try_decide(
        &self,
        actor: &Actor,
        action: Action,
        resource: &Resource,
        basis: &Basis,
    ) -> Result<Decided, String> {
        self.try_decide_with(actor, action, resource, basis, Vec::new(), Vec::new())
    }

    fn try_decide_with(
        &self,
        actor: &Actor,
        action: Action,
        resource: &Resource,
        basis: &Basis,
        extra_context: Vec<(String, RestrictedExpression)>,
        extra_entities: Vec<Entity>,
    ) -> Result<Decided, String> {
        let action_uid = uid("Kebao::Action", action.name())?;
        if !self.principal_may_ask(actor, &action_uid) {
            // The schema already says no: an anonymous visitor is not a principal of this
            // action (write actions). That is a known denial, not a failure to decide.
            return Ok(Decided { allowed: false, policies: Vec::new(), basis: basis.code() });
        }
        let mut entities: Vec<Entity> = extra_entities;
        let principal = match actor {
            Actor::User { user, org_kind } => {
                let org = uid("Kebao::Organisation", &user.org_id)?;
                let roles = user.roles.iter().map(|r| RestrictedExpression::new_string(r.code().to_owned()));
                let attrs = HashMap::from([
                    ("org".to_owned(), RestrictedExpression::new_entity_uid(org.clone())),
                    ("roles".to_owned(), RestrictedExpression::new_set(roles)),
                    ("active".to_owned(), RestrictedExpression::new_bool(user.active)),
                ]);
                let me = uid("Kebao::User", &user.id)?;
                entities.push(
                    Entity::new(me.clone(), attrs, HashSet::from([org.clone()]))
                        .map_err(|e| e.to_string())?,
                );
                // The principal's organisation; its status is not looked at for the principal.
                let is_resource = matches!(resource, Resource::Org { id, .. } if *id == user.org_id);
                if !is_resource {
                    let attrs = HashMap::from([
                        ("kind".to_owned(), RestrictedExpression::new_string(org_kind.code().to_owned())),
                        ("status".to_owned(), RestrictedExpression::new_string("verified".to_owned())),
                    ]);
                    entities.push(Entity::new(org, attrs, HashSet::new()).map_err(|e| e.to_string())?);
                }
                me
            }
            Actor::System { .. } => uid("Kebao::System", "operator")?,
            Actor::Anonymous => uid("Kebao::Anonymous", "visitor")?,
        };
        let res = match resource {
            Resource::Org { id, kind, status } => {
                let r = uid("Kebao::Organisation", id)?;
                let attrs = HashMap::from([
                    ("kind".to_owned(), RestrictedExpression::new_string(kind.code().to_owned())),
                    ("status".to_owned(), RestrictedExpression::new_string(status.code().to_owned())),
                ]);
                entities.push(Entity::new(r.clone(), attrs, HashSet::new()).map_err(|e| e.to_string())?);
                r
            }
            Resource::Product { id, insurer_id, published } => {
                let r = uid("Kebao::Product", id)?;
                let insurer = uid("Kebao::Organisation", insurer_id)?;
                let attrs = HashMap::from([
                    ("insurer".to_owned(), RestrictedExpression::new_entity_uid(insurer)),
                    ("published".to_owned(), RestrictedExpression::new_bool(*published)),
                ]);
                entities.push(Entity::new(r.clone(), attrs, HashSet::new()).map_err(|e| e.to_string())?);
                r
            }
            Resource::Zone => uid("Kebao::Zone", "zone")?,
        };
        let basis_rec = RestrictedExpression::new_record([
            ("kind".to_owned(), RestrictedExpression::new_string(basis.code().to_owned())),
            ("purpose".to_owned(), RestrictedExpression::new_string(basis.purpose().to_owned())),
        ])
        .map_err(|e| e.to_string())?;
        let mut pairs = vec![("basis".to_owned(), basis_rec)];
        pairs.extend(extra_context);
        let context = Context::from_pairs(pairs).map_err(|e| e.to_string())?;
        let request = Request::new(principal, action_uid, res, context, Some(&self.schema))
            .map_err(|e| e.to_string())?;
        let entities = Entities::from_entities(entities, Some(&self.schema)).map_err(|e| e.to_string())?;
        let response = self.authorizer.is_authorized(&request, &self.policies, &entities);
        for e in response.diagnostics().errors() {
            tracing::warn!(error = %e, "policy evaluation error (treated as not matching)");
        }
        Ok(Decided {
            allowed: response.decision() == Decision::Allow,
            policies: response.diagnostics().reason().map(ToString::to_string).collect(),
            basis: basis.code(),
        })
    }
}
