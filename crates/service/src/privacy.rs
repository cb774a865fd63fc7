//! Personal-data rights (issue 18.4): what the platform holds about a person, shown to them,
//! and their requests to see, correct or delete it, answered by the platform's administrators
//! by a deadline (a to-do for them, a notification for the person).

use crate::authz::{Action, Actor, Basis, Resource};
use crate::{Result, Service, ServiceError};
use kebao_domain::event::EventDraft;
use kebao_domain::privacy::{
    check_answer, check_details, DataRequest, RequestKind, RequestState, RESPONSE_DAYS,
};
use kebao_domain::user::Role;
use kebao_store::privacy as store;
use kebao_store::todos::{self, Notification, Todo};
use kebao_store::{orgs, users};

/// What the platform holds about the signed-in person.
#[derive(Debug, Clone)]
pub struct MyData {
    pub username: String,
    pub display_name: String,
    pub org_name: String,
    pub roles: Vec<Role>,
    pub active: bool,
    /// Open sessions, API tokens and keys not revoked, sign-in attempts recorded.
    pub sessions: i64,
    pub api_tokens: i64,
    pub sign_in_attempts: i64,
    pub requests: Vec<DataRequest>,
}

/// A request with the person named (for the administrators' list).
#[derive(Debug, Clone)]
pub struct RequestView {
    pub request: DataRequest,
    pub person: String,
    pub org_name: String,
    pub overdue: bool,
}

impl Service {
    /// What the platform holds about the signed-in person, and their requests.
    pub async fn my_data(&self, actor: &Actor) -> Result<MyData> {
        let me = actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        self.require(actor, Action::FileDataRequest, &Resource::Zone, &Basis::None)?;
        let mut tx = self.store.begin_read().await?;
        let stored = users::get(tx.conn(), &me.id).await?;
        let org = orgs::get(tx.conn(), &stored.org_id).await?;
        let (sessions, api_tokens, sign_in_attempts) =
            store::holdings(tx.conn(), &stored.id, &stored.username, self.now_us()).await?;
        let requests = store::list(tx.conn(), Some(&stored.id), 100).await?;
        Ok(MyData {
            username: stored.username,
            display_name: stored.display_name,
            org_name: org.name,
            roles: stored.roles,
            active: stored.active,
            sessions,
            api_tokens,
            sign_in_attempts,
            requests,
        })
    }

    /// A person asks to see, correct or delete their personal data; the platform's
    /// administrators get a to-do with the day the answer is due.
    pub async fn file_data_request(
        &self,
        actor: &Actor,
        kind: RequestKind,
        details: &str,
    ) -> Result<DataRequest> {
        let me = actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        self.require(actor, Action::FileDataRequest, &Resource::Zone, &Basis::None)?;
        let details = check_details(kind, details)?;
        let now = self.now_us();
        let request = DataRequest {
            id: self.new_id(),
            user_id: me.id.clone(),
            org_id: me.org_id.clone(),
            kind,
            details,
            filed_at_us: now,
            due_on: self.today() + time::Duration::days(RESPONSE_DAYS),
            state: RequestState::Open,
            answer: None,
            answered_by: None,
            answered_at_us: None,
        };
        let mut tx = self.store.begin_write().await?;
        store::insert(tx.conn(), &request).await?;
        let mut admin_orgs: Vec<String> =
            users::any_with_role(tx.conn(), Role::PlatformAdmin).await?.into_iter().map(|(_, o)| o).collect();
        admin_orgs.sort();
        admin_orgs.dedup();
        for org in admin_orgs {
            let todo = Todo {
                id: self.new_id(),
                org_id: org,
                role: Role::PlatformAdmin.code().to_owned(),
                kind: "data_request".to_owned(),
                subject: request.id.clone(),
                title_zh: format!(
                    "答复个人信息请求（{}）：{}，{} 前",
                    kind.label_zh(),
                    me.display_name,
                    request.due_on
                ),
                title_en: format!(
                    "Answer a personal-data request ({}): {}, by {}",
                    kind.label_en(),
                    me.display_name,
                    request.due_on
                ),
                link: "/admin/data-requests".to_owned(),
                created_at_us: now,
                done_at_us: None,
            };
            todos::add_todo(tx.conn(), &todo).await?;
        }
        // The event names the kind and the deadline; what the person wrote stays in the table.
        let draft = EventDraft::new(
            &actor.log_name(),
            "privacy.request_filed",
            &request.id,
            serde_json::json!({"kind": kind.code(), "due_on": request.due_on.to_string()}),
        );
        self.finish(tx, draft).await?;
        Ok(request)
    }

    /// Every request, open ones first (the platform's administrators).
    pub async fn data_requests(&self, actor: &Actor) -> Result<Vec<RequestView>> {
        self.require(actor, Action::AnswerDataRequests, &Resource::Zone, &Basis::None)?;
        let today = self.today();
        let mut tx = self.store.begin_read().await?;
        let list = store::list(tx.conn(), None, 500).await?;
        let mut out = Vec::with_capacity(list.len());
        for r in list {
            let u = users::get(tx.conn(), &r.user_id).await?;
            let org = orgs::get(tx.conn(), &r.org_id).await?;
            out.push(RequestView {
                overdue: r.overdue(today),
                person: format!("{}（{}）", u.display_name, u.username),
                org_name: org.name,
                request: r,
            });
        }
        Ok(out)
    }

    /// Answers a request: done (what was done) or refused (why). The person is notified.
    pub async fn answer_data_request(
        &self,
        actor: &Actor,
        id: &str,
        grant: bool,
        answer: &str,
    ) -> Result<DataRequest> {
        self.require(actor, Action::AnswerDataRequests, &Resource::Zone, &Basis::None)?;
        let answer = check_answer(answer)?;
        let mut tx = self.store.begin_write().await?;
        let mut r = store::get(tx.conn(), id).await?;
        r.state = r.state.answer(grant)?;
        let now = self.now_us();
        r.answer = Some(answer);
        r.answered_by = Some(actor.log_name());
        r.answered_at_us = Some(now);
        if !store::answer(tx.conn(), &r).await? {
            return Err(ServiceError::Busy);
        }
        todos::close_todo(tx.conn(), "data_request", id, now).await?;
        todos::notify(
            tx.conn(),
            &Notification {
                id: self.new_id(),
                user_id: r.user_id.clone(),
                title_zh: format!("您的个人信息请求（{}）已答复：{}", r.kind.label_zh(), r.state.label_zh()),
                title_en: format!(
                    "Your personal-data request ({}) was answered: {}",
                    r.kind.label_en(),
                    r.state.label_en()
                ),
                link: "/account/data".to_owned(),
                created_at_us: now,
                read_at_us: None,
            },
        )
        .await?;
        let late = self.today() > r.due_on;
        let draft = EventDraft::new(
            &actor.log_name(),
            "privacy.request_answered",
            id,
            serde_json::json!({"kind": r.kind.code(), "outcome": r.state.code(), "late": late}),
        );
        self.finish(tx, draft).await?;
        Ok(r)
    }
}
