//! Pages for policies bought outside the platform: the policyholder registers one from the
//! paper and files its documents; the insurer named on it answers on the policy page.

use super::kit::{check_csrf, error_page, form_page, Authed, Field, Page, Tr};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use kebao_domain::attachment::Owner;
use kebao_domain::policy::RegistrationFields;
use kebao_domain::subject::{ObjectKind, Subject, SubjectFields};
use kebao_domain::FieldError;
use kebao_service::authz::Action;
use kebao_service::registered::AnswerFields;
use kebao_service::ServiceError;
use std::collections::HashMap;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/policies/register", get(register_page).post(register_post))
        .route("/policies/{id}/registration", post(answer_post))
        .route("/policies/{id}/registration-documents", post(document_upload))
        .route("/policies/{id}/registration-documents/{doc}", get(document_download))
}

/// The subject's form fields: name, Chinese and English labels, hint.
pub(super) const SUBJECT_FIELDS: [(&str, &str, &str, &str); 7] = [
    ("object_kind", "保险标的类型", "Insured object: kind", ""),
    ("object_identifier", "标的型号/牌号/名称", "Model, grade or name", "HX-3000"),
    ("object_catalogue", "所列目录条目", "Catalogue entry", "首台（套）推广应用指导目录 2024 版 3.2"),
    ("insured_name", "被保险人（与投保人不同时填写）", "Insured (where not the policyholder)", ""),
    ("insured_uscc", "被保险人统一社会信用代码", "Insured's credit code", ""),
    (
        "beneficiary_name",
        "受益人（首台套、新材料为用户单位）",
        "Beneficiary (first-set, new materials: the user)",
        "",
    ),
    ("beneficiary_uscc", "受益人统一社会信用代码", "Beneficiary's credit code", ""),
];

/// The object kinds as select options.
pub(super) fn object_kinds(tr: Tr) -> Vec<(String, String)> {
    ObjectKind::ALL
        .iter()
        .map(|k| (k.code().to_owned(), tr.t(k.label_zh(), k.label_en()).to_owned()))
        .collect()
}

/// The subject typed into a form.
pub(super) fn subject_fields(form: &HashMap<String, String>) -> SubjectFields {
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    SubjectFields {
        object_kind: g("object_kind"),
        object_identifier: g("object_identifier"),
        object_catalogue: g("object_catalogue"),
        insured_name: g("insured_name"),
        insured_uscc: g("insured_uscc"),
        beneficiary_name: g("beneficiary_name"),
        beneficiary_uscc: g("beneficiary_uscc"),
    }
}

/// The subject of a policy as lines of its schedule: (label, value).
pub(super) fn subject_lines(tr: Tr, s: &Subject) -> Vec<(String, String)> {
    let party = |p: &kebao_domain::subject::Party| match &p.uscc {
        Some(u) => format!("{}{}{u}{}", p.name, tr.t("（", " ("), tr.t("）", ")")),
        None => p.name.clone(),
    };
    let mut out = Vec::new();
    if let Some(o) = &s.object {
        out.push((tr.t("保险标的", "Insured object").to_owned(), o.describe(tr.en)));
    }
    if let Some(p) = &s.insured {
        out.push((tr.t("被保险人", "Insured").to_owned(), party(p)));
    }
    if let Some(p) = &s.beneficiary {
        out.push((tr.t("受益人", "Beneficiary").to_owned(), party(p)));
    }
    out
}

const MONEY_FIELDS: [(&str, &str, &str, bool); 3] = [
    ("premium_yuan", "保费（元，以保单所载为准）", "Premium (yuan, as printed)", true),
    ("sum_insured_yuan", "保险金额（元）", "Sum insured (yuan)", false),
    ("limit_yuan", "赔偿限额（元）", "Limit of liability (yuan)", false),
];

async fn register_form(
    st: &AppState,
    c: super::kit::Chrome,
    values: &HashMap<String, String>,
    errs: &[FieldError],
) -> Page {
    let tr = c.tr;
    let products = match st.svc.registrable_products().await {
        Ok(p) => p,
        Err(e) => return Err(error_page(tr, c, e)),
    };
    let err = |name: &str| {
        errs.iter()
            .filter(|e| e.field == name)
            .map(|e| tr.pick(e.message_zh.clone(), e.message_en.clone()))
            .collect::<Vec<_>>()
            .join(tr.t("；", "; "))
    };
    let v = |k: &str| values.get(k).cloned().unwrap_or_default();
    let field = |name: &str,
                 zh: &str,
                 en: &str,
                 required: bool,
                 options: Vec<(String, String)>,
                 hint: &str,
                 ty: &str| {
        Field {
            name: name.to_owned(),
            label: tr.t(zh, en).to_owned(),
            value: v(name),
            error: err(name),
            required,
            options,
            hint: hint.to_owned(),
            type_: ty.to_owned(),
        }
    };
    let options =
        products.into_iter().map(|(id, insurer, name)| (id, format!("{insurer} · {name}"))).collect();
    let mut fields = vec![
        field("product_id", "保险机构与产品", "Insurer and product", true, options, "", "text"),
        field(
            "number",
            "保单号（按保单所载）",
            "Policy number (as printed)",
            true,
            vec![],
            "PICC-2024-000123",
            "text",
        ),
        field("start_date", "起保日", "Cover starts", true, vec![], "", "date"),
        field("end_date", "终保日（保障最后一日）", "Cover ends (last day)", true, vec![], "", "date"),
    ];
    for (name, zh, en, required) in MONEY_FIELDS {
        fields.push(field(name, zh, en, required, vec![], "", "text"));
    }
    for (name, zh, en, hint) in SUBJECT_FIELDS {
        let options = if name == "object_kind" { object_kinds(tr) } else { Vec::new() };
        fields.push(field(name, zh, en, false, options, hint, "text"));
    }
    Ok(form_page(
        c,
        tr.t("登记线下购买的保单", "Register a policy bought outside the platform").to_owned(),
        "/policies/register".into(),
        fields,
        errs,
        tr.t("登记并请保险公司确认", "Register and ask the insurer to confirm").to_owned(),
        "/policies".into(),
    ))
}

async fn register_page(State(st): State<AppState>, Authed { c, s, tr }: Authed) -> Page {
    // Only an enterprise's own staff register its policies: others get the refusal, not a form.
    if !st
        .svc
        .allowed_actions(&s.actor, &kebao_service::authz::Resource::Zone)
        .contains(&Action::RegisterPolicy)
    {
        return Err(super::kit::forbidden_page(tr, c));
    }
    register_form(&st, c, &HashMap::new(), &[]).await
}

async fn register_post(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    let fields = RegistrationFields {
        product_id: g("product_id"),
        number: g("number"),
        start_date: g("start_date"),
        end_date: g("end_date"),
        premium_yuan: g("premium_yuan"),
        sum_insured_yuan: g("sum_insured_yuan"),
        limit_yuan: g("limit_yuan"),
    };
    let r = match Subject::parse(&subject_fields(&form)) {
        Ok(subject) => st.svc.register_policy(&s.actor, &fields, &subject).await,
        Err(e) => Err(ServiceError::Invalid(e)),
    };
    match r {
        Ok(p) => Ok(Redirect::to(&format!("/policies/{}?done=registered", p.id)).into_response()),
        Err(e) => match super::kit::form_errors(e) {
            Ok(errs) => Err(register_form(&st, c, &form, &errs).await.unwrap_or_else(|r| r)),
            Err(other) => Err(error_page(tr, c, other)),
        },
    }
}

/// The insurer's answer as typed on the policy page.
pub(super) fn answer_fields(confirm: bool, form: &HashMap<String, String>) -> AnswerFields {
    let g = |k: &str| form.get(k).cloned().unwrap_or_default();
    AnswerFields {
        confirm,
        premium_yuan: g("premium_yuan"),
        received_yuan: g("received_yuan"),
        note: g("note"),
    }
}

async fn answer_post(
    State(st): State<AppState>,
    Authed { c, s, .. }: Authed,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    check_csrf(&form, &s)?;
    let confirm = form.get("answer").is_some_and(|a| a == "confirm");
    let f = answer_fields(confirm, &form);
    match st.svc.answer_registration(&s.actor, &id, &f).await {
        Ok(_) => Ok(Redirect::to(&format!("/policies/{id}?done=answered")).into_response()),
        Err(e) => Err(super::policies::refused(
            &st,
            c,
            &s.actor,
            &id,
            "answer",
            &["premium_yuan", "received_yuan", "note"],
            form,
            e,
        )
        .await),
    }
}

async fn document_upload(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    multipart: axum::extract::Multipart,
) -> Page {
    let owner = Owner::registered_policy(&id);
    super::policies::upload_to_policy(&st, c, &s, tr, &id, multipart, &owner, "document#registration").await
}

async fn document_download(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path((id, doc)): Path<(String, String)>,
) -> Page {
    super::policies::policy_attachment(&st, c, &s.actor, tr, &doc, &Owner::registered_policy(&id)).await
}
