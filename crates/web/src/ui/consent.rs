//! UI of consents and credit information: the enterprise's consents and receipts, the
//! credit report a bank reads under consent, "who looked at my data" with proofs, the
//! published tree heads, and API keys for third-party applications.

use super::kit::{
    chrome, chrome_blank, csrf_page, error_page, form_errors, html, with_status, Authed, Chrome, Page,
};
use super::Tr;
use crate::forms::consent::{consent_input, read_form};
use crate::session::same_secret;
use crate::AppState;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use kebao_domain::consent::{DataScope, PersonRole, Purpose};
use kebao_domain::org::OrgKind;
use kebao_domain::time_zone::{from_unix_us, SHANGHAI};
use kebao_domain::FieldError;
use kebao_service::authz::{Action, Actor};
use kebao_service::consent::ConsentView;
use kebao_service::ServiceError;
use std::collections::HashMap;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/consents", get(consents_page).post(consent_create))
        .route("/consents/{id}", get(consent_page))
        .route("/consents/{id}/revoke", post(consent_revoke))
        .route("/consents/{id}/evidence", get(consent_evidence))
        .route("/credit/{org_id}", get(report_page))
        .route("/my-data", get(access_page))
        .route("/transparency", get(transparency_page))
        .route("/api-keys", get(keys_page).post(keys_create))
}

fn when(us: i64) -> String {
    from_unix_us(us)
        .to_offset(SHANGHAI)
        .format(time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]"))
        .unwrap_or_default()
}

struct ConsentRow {
    id: String,
    enterprise_id: String,
    enterprise: String,
    grantee: String,
    kind: String,
    scopes: String,
    purpose: String,
    purpose_code: String,
    period: String,
    state: String,
    state_code: String,
    person: String,
}

/// A recorded basis (`consent`, or several joined by `/`) in words.
fn basis_text(tr: Tr, code: &str) -> String {
    code.split('/')
        .map(|c| {
            let (zh, en) = kebao_service::authz::basis_label(c.trim());
            tr.t(zh, en)
        })
        .collect::<Vec<_>>()
        .join(tr.t("；", "; "))
}

fn row(tr: Tr, v: &ConsentView) -> ConsentRow {
    let c = &v.consent;
    ConsentRow {
        id: c.id.clone(),
        enterprise_id: c.enterprise_id.clone(),
        enterprise: v.enterprise_name.clone(),
        grantee: v.grantee_name.clone(),
        kind: tr.t(c.kind.label_zh(), c.kind.label_en()).to_owned(),
        scopes: c
            .scopes
            .iter()
            .map(|s| tr.t(s.label_zh(), s.label_en()))
            .collect::<Vec<_>>()
            .join(tr.t("、", ", ")),
        purpose: tr.t(c.purpose.label_zh(), c.purpose.label_en()).to_owned(),
        purpose_code: c.purpose.code().to_owned(),
        period: format!("{} — {}", c.valid_from, c.expires_on),
        state: tr.t(v.state.label_zh(), v.state.label_en()).to_owned(),
        state_code: v.state.code().to_owned(),
        person: match (&c.person_name, c.person_role) {
            (Some(n), Some(r)) => {
                format!("{n}{}{}{}", tr.t("（", " ("), tr.t(r.label_zh(), r.label_en()), tr.t("）", ")"))
            }
            // A personal consent whose names were erased under the retention rules.
            (None, Some(r)) => format!(
                "{}{}{}{}",
                tr.t("姓名已依保留规则删除", "name erased under the retention rules"),
                tr.t("（", " ("),
                tr.t(r.label_zh(), r.label_en()),
                tr.t("）", ")")
            ),
            _ => String::new(),
        },
    }
}

type Options = Vec<(String, String, bool)>;

#[derive(Template)]
#[template(path = "consents.html")]
struct ConsentsTpl {
    c: Chrome,
    rows: Vec<ConsentRow>,
    enterprise: bool,
    can_grant: bool,
    grantees: Options,
    scopes: Options,
    purposes: Options,
    roles: Options,
    f: HashMap<String, String>,
    errors: Vec<String>,
}

impl ConsentsTpl {
    fn fv(&self, k: &str) -> String {
        self.f.get(k).cloned().unwrap_or_default()
    }
}

async fn consents_tpl(
    st: &AppState,
    c: Chrome,
    actor: &Actor,
    f: HashMap<String, String>,
    errs: &[FieldError],
) -> Response {
    let tr = c.tr;
    let list = match st.svc.my_consents(actor).await {
        Ok(l) => l,
        Err(e) => return error_page(tr, c, e),
    };
    let ab = match st.svc.abilities(actor).await {
        Ok(ab) => ab,
        Err(e) => return error_page(tr, c, e),
    };
    let enterprise = matches!(actor, Actor::User { org_kind, .. } if *org_kind == OrgKind::Enterprise);
    let can_grant = ab.on_own_org(Action::GrantConsent);
    let mut grantees = Vec::new();
    if can_grant {
        for kind in
            [OrgKind::Bank, OrgKind::Insurer, OrgKind::Guarantor, OrgKind::Investor, OrgKind::ServiceBody]
        {
            let filter = kebao_domain::org::OrgFilter { kind: Some(kind), ..Default::default() };
            if let Ok(page) = st.svc.list_orgs(actor, &filter, None, 200).await {
                for o in page.items {
                    let sel = f.get("grantee_id") == Some(&o.id);
                    grantees.push((
                        o.id.clone(),
                        format!(
                            "{}{}{}{}",
                            o.name,
                            tr.t("（", " ("),
                            tr.t(kind.label_zh(), kind.label_en()),
                            tr.t("）", ")")
                        ),
                        sel,
                    ));
                }
            }
        }
    }
    let chosen: Vec<&str> = f.get("scopes").map(|s| s.split(',').collect()).unwrap_or_default();
    let status = if errs.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    with_status(
        status,
        html(&ConsentsTpl {
            rows: list.iter().map(|v| row(tr, v)).collect(),
            enterprise,
            can_grant,
            grantees,
            scopes: DataScope::ALL
                .iter()
                .filter(|s| **s != DataScope::Personal)
                .map(|s| {
                    (
                        s.code().to_owned(),
                        tr.t(s.label_zh(), s.label_en()).to_owned(),
                        chosen.contains(&s.code()),
                    )
                })
                .collect(),
            purposes: Purpose::ALL
                .iter()
                .map(|p| {
                    (
                        p.code().to_owned(),
                        tr.t(p.label_zh(), p.label_en()).to_owned(),
                        f.get("purpose").map(String::as_str) == Some(p.code()),
                    )
                })
                .collect(),
            roles: PersonRole::ALL
                .iter()
                .map(|r| {
                    (
                        r.code().to_owned(),
                        tr.t(r.label_zh(), r.label_en()).to_owned(),
                        f.get("person_role").map(String::as_str) == Some(r.code()),
                    )
                })
                .collect(),
            errors: errs.iter().map(|e| tr.pick(e.message_zh.clone(), e.message_en.clone())).collect(),
            f,
            c,
        }),
    )
}

async fn consents_page(State(st): State<AppState>, Authed { c, s, .. }: Authed) -> Page {
    let today = st.svc.today();
    let f = HashMap::from([
        ("valid_from".to_owned(), today.to_string()),
        ("expires_on".to_owned(), (today + time::Duration::days(180)).to_string()),
        ("kind".to_owned(), "enterprise".to_owned()),
    ]);
    Ok(consents_tpl(&st, c, &s.actor, f, &[]).await)
}

async fn consent_create(State(st): State<AppState>, Authed { c, s, tr }: Authed, m: Multipart) -> Page {
    let (fields, file) = match read_form(m, "evidence").await {
        Ok(x) => x,
        Err(api) => {
            let e =
                FieldError::new("evidence", "upload", api.body.message_zh.clone(), api.body.message.clone());
            return Err(consents_tpl(&st, c, &s.actor, HashMap::new(), &[e]).await);
        }
    };
    let csrf = fields.get("csrf").and_then(|v| v.first()).cloned().unwrap_or_default();
    if !same_secret(&csrf, &s.csrf_token) {
        return Err(csrf_page());
    }
    let input = consent_input(&fields);
    let mut echo: HashMap<String, String> =
        fields.iter().filter(|(k, _)| k.as_str() != "csrf").map(|(k, v)| (k.clone(), v.join(","))).collect();
    echo.entry("kind".into()).or_insert_with(|| "enterprise".into());
    let (name, bytes) = file.unwrap_or_default();
    let enterprise = s.actor.org_id().unwrap_or_default().to_owned();
    match st.svc.grant_consent(&s.actor, &enterprise, &input, &name, &bytes).await {
        Ok(v) => Ok(Redirect::to(&format!("/consents/{}", v.consent.id)).into_response()),
        Err(ServiceError::Forbidden { .. }) => Err(super::kit::forbidden_page(tr, c)),
        Err(e) => match form_errors(e) {
            Ok(errs) => Err(consents_tpl(&st, c, &s.actor, echo, &errs).await),
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentTpl {
    c: Chrome,
    r: ConsentRow,
    signer: String,
    evidence_name: String,
    evidence_sha256: String,
    created: String,
    revoked: String,
    can_revoke: bool,
    can_read: bool,
}

async fn consent_page(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
) -> Page {
    let v = st.svc.consent(&s.actor, &id).await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    let admin = s.actor.org_id() == Some(v.consent.enterprise_id.as_str())
        && st
            .svc
            .abilities(&s.actor)
            .await
            .map_err(|e| error_page(tr, chrome_blank(tr), e))?
            .on_own_org(Action::GrantConsent);
    let can_read = s.actor.org_id() == Some(v.consent.grantee_id.as_str())
        && v.state == kebao_domain::consent::ConsentState::Valid;
    Ok(html(&ConsentTpl {
        r: row(tr, &v),
        signer: if v.consent.signer_name.is_empty() {
            format!(
                "{} {}",
                tr.t("（姓名已依保留规则删除）", "(name erased under the retention rules)"),
                v.consent.signer_title
            )
        } else {
            format!("{} {}", v.consent.signer_name, v.consent.signer_title)
        },
        evidence_name: v.evidence.file_name.clone(),
        evidence_sha256: v.consent.evidence_sha256.clone(),
        created: when(v.consent.created_at_us),
        revoked: v.consent.revoked_at_us.map(when).unwrap_or_default(),
        can_revoke: admin && v.consent.revoked_at_us.is_none(),
        can_read,
        c,
    }))
}

async fn consent_revoke(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    super::kit::check_csrf(&form, &s)?;
    match st.svc.revoke_consent(&s.actor, &id).await {
        Ok(()) => Ok(Redirect::to(&format!("/consents/{id}?done=revoked")).into_response()),
        Err(e) => Err(error_page(tr, c, e)),
    }
}

async fn consent_evidence(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
) -> Page {
    let (a, body) = st.svc.consent_evidence(&s.actor, &id).await.map_err(|e| error_page(tr, c, e))?;
    Ok(crate::forms::attachments::attachment_response(&a, body))
}

struct SectionT {
    title: String,
    class: String,
    allowed: bool,
    basis: String,
    reason: String,
    fields: Vec<(String, Vec<String>)>,
}

#[derive(Template)]
#[template(path = "credit_report.html")]
struct ReportTpl {
    c: Chrome,
    name: String,
    uscc: String,
    purpose: String,
    generated: String,
    seq: u64,
    sections: Vec<SectionT>,
}

async fn report_page(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(org_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let Some(purpose) = q.get("purpose").and_then(|p| Purpose::from_code(p)) else {
        let e = FieldError::new("purpose", "required", "请说明查询用途", "state the purpose of the read");
        return Err(error_page(tr, c, e.into()));
    };
    let r = st
        .svc
        .credit_report(&s.actor, &org_id, purpose)
        .await
        .map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    Ok(html(&ReportTpl {
        name: r.org.name.clone(),
        uscc: r.org.uscc.clone(),
        purpose: tr.t(purpose.label_zh(), purpose.label_en()).to_owned(),
        generated: when(r.generated_at_us),
        seq: r.event_seq,
        sections: r
            .sections
            .iter()
            .map(|x| SectionT {
                title: tr.t(x.scope.label_zh(), x.scope.label_en()).to_owned(),
                class: tr.t(x.class.label_zh(), x.class.label_en()).to_owned(),
                allowed: x.check.allowed,
                basis: basis_text(tr, x.check.basis),
                reason: tr.pick(x.check.reason_zh.clone(), x.check.reason_en.clone()),
                fields: x
                    .fields
                    .iter()
                    .map(|(_, zh, en, v)| {
                        (
                            tr.pick(zh.clone(), en.clone()),
                            v.iter().map(|l| tr.pick(l.zh.clone(), l.en.clone())).collect(),
                        )
                    })
                    .collect(),
            })
            .collect(),
        c,
    }))
}

struct AccessRow {
    seq: u64,
    at: String,
    reader: String,
    purpose: String,
    basis: String,
    consent: String,
    outcome: String,
    scopes: String,
}

#[derive(Template)]
#[template(path = "access_log.html")]
struct AccessTpl {
    c: Chrome,
    org_name: String,
    rows: Vec<AccessRow>,
}

async fn access_page(State(st): State<AppState>, Authed { c, s, tr }: Authed) -> Page {
    let Some(org_id) = s.actor.org_id().map(str::to_owned) else {
        return Err(super::kit::forbidden_page(tr, c));
    };
    let log = st.svc.access_log(&s.actor, &org_id).await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    let org = st.svc.get_org(&s.actor, &org_id).await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    Ok(html(&AccessTpl {
        org_name: org.org.name,
        rows: log
            .iter()
            .map(|a| AccessRow {
                seq: a.event.seq,
                at: when(a.event.at_us),
                reader: a.reader_name.clone(),
                purpose: Purpose::from_code(&a.purpose)
                    .map(|p| tr.t(p.label_zh(), p.label_en()).to_owned())
                    .unwrap_or_else(|| a.purpose.clone()),
                basis: basis_text(tr, &a.basis),
                consent: a.consent_id.clone().unwrap_or_default(),
                outcome: if a.outcome == "refused" {
                    tr.t("被拒绝", "refused")
                } else {
                    tr.t("已读取", "read")
                }
                .to_owned(),
                scopes: a
                    .scopes
                    .iter()
                    .map(|s| {
                        DataScope::from_code(s)
                            .map(|d| tr.t(d.label_zh(), d.label_en()).to_owned())
                            .unwrap_or_else(|| s.clone())
                    })
                    .collect::<Vec<_>>()
                    .join(tr.t("、", ", ")),
            })
            .collect(),
        c,
    }))
}

#[derive(Template)]
#[template(path = "transparency.html")]
struct TransparencyTpl {
    c: Chrome,
    public_key: String,
    heads: Vec<(u64, String, String, String)>,
}

async fn transparency_page(
    State(st): State<AppState>,
    Extension(tr): Extension<Tr>,
    headers: HeaderMap,
) -> Page {
    let (c, _) = chrome(&st, &headers, tr).await?;
    let heads = st.svc.tree_heads(50).await.map_err(|e| error_page(tr, chrome_blank(tr), e))?;
    Ok(html(&TransparencyTpl {
        public_key: st.svc.public_key().map(hex::encode).unwrap_or_default(),
        heads: heads
            .into_iter()
            .map(|h| (h.tree_size, h.root_hash, when(h.timestamp_us), h.signature))
            .collect(),
        c,
    }))
}

#[derive(Template)]
#[template(path = "api_keys.html")]
struct KeysTpl {
    c: Chrome,
    scopes: Vec<(String, String)>,
    secret: String,
    errors: Vec<String>,
}

async fn keys_page(Authed { c, tr, .. }: Authed) -> Page {
    Ok(html(&KeysTpl { scopes: scopes(tr), secret: String::new(), errors: Vec::new(), c }))
}

fn scopes(tr: Tr) -> Vec<(String, String)> {
    kebao_service::auth::API_SCOPES
        .iter()
        .map(|(c, zh, en)| ((*c).to_owned(), tr.t(zh, en).to_owned()))
        .collect()
}

async fn keys_create(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Form(form): Form<Vec<(String, String)>>,
) -> Page {
    let map: HashMap<String, String> = form.iter().filter(|(k, _)| k != "scopes").cloned().collect();
    super::kit::check_csrf(&map, &s)?;
    let chosen: Vec<String> = form.iter().filter(|(k, _)| k == "scopes").map(|(_, v)| v.clone()).collect();
    let rate = map.get("rate_per_minute").and_then(|r| r.trim().parse::<u32>().ok()).unwrap_or(0);
    match st.svc.issue_api_key(&s.actor, map.get("name").map_or("", String::as_str), &chosen, rate).await {
        Ok((secret, _)) => Ok(html(&KeysTpl { scopes: scopes(tr), secret, errors: Vec::new(), c })),
        Err(e) => match form_errors(e) {
            Ok(errs) => {
                let errors =
                    errs.iter().map(|f| tr.pick(f.message_zh.clone(), f.message_en.clone())).collect();
                Err(with_status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    html(&KeysTpl { scopes: scopes(tr), secret: String::new(), errors, c }),
                ))
            }
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}
