//! UI of the enterprise's unified view (360°, C3): every section the reader's lawful basis
//! opens, each hidden one with why, and the timeline.

use super::kit::{error_page, html, Authed, Chrome, Page, Tr};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::Router;
use kebao_domain::consent::Purpose;
use kebao_domain::FieldError;
use kebao_service::unified::UnifiedView;
use std::collections::HashMap;

/// Routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/orgs/{id}/view", get(page))
}

struct RowT {
    cells: Vec<String>,
    link: String,
}

struct SectionT {
    key: String,
    title: String,
    allowed: bool,
    /// The lawful basis that opened it, in words (others than the enterprise).
    basis: String,
    reason: String,
    columns: Vec<String>,
    rows: Vec<RowT>,
    empty: String,
}

#[derive(Template)]
#[template(path = "unified.html")]
struct UnifiedTpl {
    c: Chrome,
    org_id: String,
    org_name: String,
    own: bool,
    /// The purpose stated (code), blank if none.
    purpose: String,
    /// (code, label) of the purposes a reader may state.
    purposes: Vec<(String, String)>,
    hidden: usize,
    sections: Vec<SectionT>,
    /// (date, section, what, link).
    timeline: Vec<(String, String, String, String)>,
}

fn render(c: Chrome, v: &UnifiedView) -> UnifiedTpl {
    let tr: Tr = c.tr;
    let sections: Vec<SectionT> = v
        .sections
        .iter()
        .map(|s| SectionT {
            key: s.key.to_owned(),
            title: tr.t(s.title_zh, s.title_en).to_owned(),
            allowed: s.allowed,
            basis: if s.basis.is_empty() || v.own {
                String::new()
            } else {
                let (zh, en) = kebao_service::authz::basis_label(s.basis);
                tr.t(zh, en).to_owned()
            },
            reason: tr.t(&s.reason_zh, &s.reason_en).to_owned(),
            columns: s.columns.iter().map(|(zh, en)| tr.t(zh, en).to_owned()).collect(),
            rows: s
                .rows
                .iter()
                .map(|r| RowT {
                    cells: r.cells.iter().map(|x| tr.t(&x.zh, &x.en).to_owned()).collect(),
                    link: r.link.clone().unwrap_or_default(),
                })
                .collect(),
            empty: tr.t(s.empty_zh, s.empty_en).to_owned(),
        })
        .collect();
    UnifiedTpl {
        org_id: v.org_id.clone(),
        org_name: v.org_name.clone(),
        own: v.own,
        purpose: v.purpose.map(|p| p.code().to_owned()).unwrap_or_default(),
        purposes: Purpose::ALL
            .iter()
            .map(|p| (p.code().to_owned(), tr.t(p.label_zh(), p.label_en()).to_owned()))
            .collect(),
        hidden: sections.iter().filter(|s| !s.allowed).count(),
        sections,
        timeline: v
            .timeline
            .iter()
            .map(|t| {
                (
                    t.on.to_string(),
                    tr.t(t.section_zh, t.section_en).to_owned(),
                    tr.t(&t.what.zh, &t.what.en).to_owned(),
                    t.link.clone().unwrap_or_default(),
                )
            })
            .collect(),
        c,
    }
}

/// The purpose in the query: none when blank, refused when unknown.
pub fn purpose_of(q: &HashMap<String, String>) -> Result<Option<Purpose>, FieldError> {
    match q.get("purpose").map(|p| p.trim()).filter(|p| !p.is_empty()) {
        None => Ok(None),
        Some(p) => Purpose::from_code(p).map(Some).ok_or_else(|| {
            FieldError::new(
                "purpose",
                "unknown_purpose",
                format!("查询用途 `{p}` 不存在"),
                format!("purpose `{p}` does not exist"),
            )
        }),
    }
}

async fn page(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let purpose = match purpose_of(&q) {
        Ok(p) => p,
        Err(e) => return Err(error_page(tr, c, e.into())),
    };
    match st.svc.unified_view(&s.actor, &id, purpose).await {
        Ok(v) => Ok(html(&render(c, &v))),
        Err(e) => Err(error_page(tr, c, e)),
    }
}
