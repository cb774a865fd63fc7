//! The audit log (regulator, platform admin, zone approver).

use super::kit::{chrome_blank, error_page, html, Authed, Chrome, Page};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;

/// The audit log's route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/audit", get(audit_page))
}

// ---------------------------------------------------------------------------------------
// Audit log (regulator, platform admin, zone approver)

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditTpl {
    c: Chrome,
    count: u64,
    hash: String,
    verified: Option<String>,
    events: Vec<(u64, String, String, String, String)>,
}

async fn audit_page(
    State(st): State<AppState>,
    Authed { c, s, tr }: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let head = match st.svc.audit_head(&s.actor).await {
        Ok(h) => h,
        Err(e) => return Err(error_page(tr, c, e)),
    };
    let verified = if q.contains_key("verify") {
        match st
            .svc
            .audit_verify(&s.actor, None, &mut |_, _| {})
            .await
            .map_err(|e| error_page(tr, chrome_blank(tr), e))?
        {
            kebao_service::audit::Verification::Sound(h) => Some(tr.pick(
                format!("完好：{} 个事件，每一环均可验证", h.count),
                format!("sound: {} events, every link holds", h.count),
            )),
            kebao_service::audit::Verification::Broken(b) => {
                Some(tr.pick(format!("已损坏：{b}"), format!("broken: {b}")))
            }
        }
    } else {
        None
    };
    let when = |us: i64| kebao_domain::time_zone::display_local(kebao_domain::time_zone::from_unix_us(us));
    let events = st
        .svc
        .recent_events(&s.actor, 50)
        .await
        .map_err(|e| error_page(tr, chrome_blank(tr), e))?
        .into_iter()
        .map(|e| (e.seq, when(e.at_us), e.actor, e.action, e.subject))
        .collect();
    Ok(html(&AuditTpl { c, count: head.count, hash: head.hash.to_hex(), verified, events }))
}
