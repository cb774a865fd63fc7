//! Personal-data rights (issue 18.4): what the platform holds about a person, shown to them,
//! and their requests to see, correct or delete it, answered by the platform's administrators
//! by a deadline (a to-do for them, a notification for the person).

use crate::authz::{Action, Actor, Basis, Resource};
use crate::{Result, Service, ServiceError};
use kebao_domain::event::{EventDraft, EventRecord};
use kebao_domain::privacy::{
    check_answer, check_details, check_person, AssessmentInput, DataRequest, Extract, ImpactAssessment,
    RequestKind, RequestState,
};
use kebao_domain::retention::DELETION_REQUEST;
use kebao_domain::user::Role;
use kebao_domain::FieldError;
use kebao_store::privacy::{self as store, Named};
use kebao_store::retention::Erasure;
use kebao_store::todos::{self, Notification, Todo};
use kebao_store::{events, orgs, users, Tx};

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
    /// The person's name (and user name, for a user).
    pub person: String,
    /// The user's organisation, or the enterprise that named the person (may be empty).
    pub org_name: String,
    pub overdue: bool,
}

/// Words kept beside an event that name the person (a decision's reason, a file's name).
#[derive(Debug, Clone)]
pub struct PersonText {
    pub seq: u64,
    pub at_us: i64,
    pub action: String,
    pub subject: String,
    /// The field (`reason`, `note`, `file_name`) and its words.
    pub field: String,
    pub text: String,
}

/// One request, with what the platform holds about its person: the extract an
/// administrator gives the person, and the words a deletion may erase.
#[derive(Debug, Clone)]
pub struct RequestDetail {
    pub view: RequestView,
    /// The name searched for.
    pub name: String,
    /// The user's account (a request a user filed).
    pub account: Option<MyData>,
    /// Records that name the person, field by field.
    pub named: Vec<Named>,
    /// Words kept beside events that name the person (not yet erased).
    pub texts: Vec<PersonText>,
}

/// A request recorded for a person who is not a user.
#[derive(Debug, Clone, Default)]
pub struct PersonRequestInput {
    pub person_name: String,
    pub identity_check: String,
    /// The enterprise that named the person (optional).
    pub org_id: String,
    pub kind: String,
    pub details: String,
}

/// The most records of each kind and texts a request's page lists.
const HOLDINGS_LIMIT: u32 = 200;

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
        let request = DataRequest {
            id: self.new_id(),
            user_id: Some(me.id.clone()),
            org_id: Some(me.org_id.clone()),
            person_name: None,
            identity_check: None,
            filed_by: me.id.clone(),
            kind,
            details,
            filed_at_us: self.now_us(),
            due_on: self.today() + time::Duration::days(self.config.data_request_days),
            state: RequestState::Open,
            answer: None,
            answered_by: None,
            answered_at_us: None,
        };
        let mut tx = self.store.begin_write().await?;
        self.open_request(&mut tx, &request, &me.display_name).await?;
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

    /// A platform administrator records the request of a person who is not a user (an
    /// enterprise's legal representative, a guarantor named in a consent), who asked in
    /// person or in writing, after checking who they are. It is answered like any other.
    pub async fn record_data_request(
        &self,
        actor: &Actor,
        input: &PersonRequestInput,
    ) -> Result<DataRequest> {
        self.require(actor, Action::AnswerDataRequests, &Resource::Zone, &Basis::None)?;
        let me = actor.user().ok_or(ServiceError::Unauthenticated("sign in first"))?;
        let mut errs = Vec::new();
        let person = check_person(&input.person_name, &input.identity_check).map_err(|e| errs.push(e)).ok();
        let kind = RequestKind::from_code(&input.kind);
        if kind.is_none() {
            errs.push(FieldError::new(
                "kind",
                "unknown",
                "请选择请求的种类",
                "choose what the person asks for",
            ));
        }
        let details = kind.and_then(|k| check_details(k, &input.details).map_err(|e| errs.push(e)).ok());
        let mut tx = self.store.begin_write().await?;
        let org_id = match input.org_id.trim() {
            "" => None,
            id => match orgs::get(tx.conn(), id).await {
                Ok(o) => Some(o.id),
                Err(kebao_store::StoreError::NotFound) => {
                    errs.push(FieldError::new("org_id", "unknown", "机构不存在", "no such organisation"));
                    None
                }
                Err(e) => return Err(e.into()),
            },
        };
        let (Some((name, check)), Some(kind), Some(details), true) = (person, kind, details, errs.is_empty())
        else {
            return Err(kebao_domain::error::Invalid(errs).into());
        };
        let request = DataRequest {
            id: self.new_id(),
            user_id: None,
            org_id,
            person_name: Some(name.clone()),
            identity_check: Some(check),
            filed_by: me.id.clone(),
            kind,
            details,
            filed_at_us: self.now_us(),
            due_on: self.today() + time::Duration::days(self.config.data_request_days),
            state: RequestState::Open,
            answer: None,
            answered_by: None,
            answered_at_us: None,
        };
        self.open_request(&mut tx, &request, &name).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "privacy.request_filed",
            &request.id,
            serde_json::json!({"kind": kind.code(), "due_on": request.due_on.to_string(), "for_non_user": true}),
        );
        self.finish(tx, draft).await?;
        Ok(request)
    }

    /// Stores a new request and gives every platform administrator's organisation its to-do.
    async fn open_request(&self, tx: &mut Tx, request: &DataRequest, person: &str) -> Result<()> {
        store::insert(tx.conn(), request).await?;
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
                    request.kind.label_zh(),
                    person,
                    request.due_on
                ),
                title_en: format!(
                    "Answer a personal-data request ({}): {}, by {}",
                    request.kind.label_en(),
                    person,
                    request.due_on
                ),
                link: format!("/admin/data-requests/{}", request.id),
                created_at_us: request.filed_at_us,
                done_at_us: None,
            };
            todos::add_todo(tx.conn(), &todo).await?;
        }
        Ok(())
    }

    /// A request's person and organisation, named.
    async fn request_view(
        &self,
        tx: &mut kebao_store::ReadTx,
        r: DataRequest,
    ) -> Result<(RequestView, String)> {
        let (person, name) = match (&r.user_id, &r.person_name) {
            (Some(u), _) => {
                let u = users::get(tx.conn(), u).await?;
                (format!("{}（{}）", u.display_name, u.username), u.display_name)
            }
            (None, Some(n)) => (n.clone(), n.clone()),
            (None, None) => (String::new(), String::new()),
        };
        let org_name = match &r.org_id {
            Some(o) => orgs::get(tx.conn(), o).await?.name,
            None => String::new(),
        };
        Ok((RequestView { overdue: r.overdue(self.today()), person, org_name, request: r }, name))
    }

    /// Every request, open ones first (the platform's administrators).
    pub async fn data_requests(&self, actor: &Actor) -> Result<Vec<RequestView>> {
        self.require(actor, Action::AnswerDataRequests, &Resource::Zone, &Basis::None)?;
        let mut tx = self.store.begin_read().await?;
        let list = store::list(tx.conn(), None, 500).await?;
        let mut out = Vec::with_capacity(list.len());
        for r in list {
            out.push(self.request_view(&mut tx, r).await?.0);
        }
        Ok(out)
    }

    /// One request with what the platform holds about its person (the administrators).
    pub async fn data_request(&self, actor: &Actor, id: &str) -> Result<RequestDetail> {
        self.require(actor, Action::AnswerDataRequests, &Resource::Zone, &Basis::None)?;
        let mut tx = self.store.begin_read().await?;
        let r = store::get(tx.conn(), id).await?;
        let (view, name) = self.request_view(&mut tx, r).await?;
        let account = match &view.request.user_id {
            Some(u) => {
                let stored = users::get(tx.conn(), u).await?;
                let org = orgs::get(tx.conn(), &stored.org_id).await?;
                let (sessions, api_tokens, sign_in_attempts) =
                    store::holdings(tx.conn(), &stored.id, &stored.username, self.now_us()).await?;
                Some(MyData {
                    username: stored.username,
                    display_name: stored.display_name,
                    org_name: org.name,
                    roles: stored.roles,
                    active: stored.active,
                    sessions,
                    api_tokens,
                    sign_in_attempts,
                    requests: Vec::new(),
                })
            }
            None => None,
        };
        let (named, texts) = if name.chars().count() >= 2 {
            let named = store::named(tx.conn(), &name, HOLDINGS_LIMIT).await?;
            let events = events::with_personal_text(tx.conn(), &name, HOLDINGS_LIMIT).await?;
            (named, events.iter().flat_map(|e| person_texts(e, &name)).collect())
        } else {
            (Vec::new(), Vec::new())
        };
        Ok(RequestDetail { view, name, account, named, texts })
    }

    /// Answers a request: done (what was done) or refused (why). Granting a deletion may
    /// erase words kept beside events that name the person (`erase`: the events' numbers,
    /// each listed on the request's page), with the copies their cases keep; each erasure is
    /// listed on the audit page under the request. A user is notified.
    pub async fn answer_data_request(
        &self,
        actor: &Actor,
        id: &str,
        grant: bool,
        answer: &str,
        erase: &[u64],
    ) -> Result<DataRequest> {
        self.require(actor, Action::AnswerDataRequests, &Resource::Zone, &Basis::None)?;
        let answer = check_answer(answer)?;
        let mut tx = self.store.begin_write().await?;
        let mut r = store::get(tx.conn(), id).await?;
        r.state = r.state.answer(grant)?;
        let deletion_granted = grant && r.kind == RequestKind::Delete;
        if !erase.is_empty() && !deletion_granted {
            return Err(FieldError::new(
                "erase",
                "not_a_deletion",
                "只有办理删除请求时才能删除文字",
                "words are erased only when a deletion request is granted",
            )
            .into());
        }
        let name = match (&r.user_id, &r.person_name) {
            (Some(u), _) => users::get(tx.conn(), u).await?.display_name,
            (None, Some(n)) => n.clone(),
            (None, None) => String::new(),
        };
        let now = self.now_us();
        let mut erased = Vec::new();
        let mut wanted: Vec<u64> = erase.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        for seq in wanted {
            let e = match events::get(tx.conn(), seq).await {
                Ok(e) => e,
                Err(kebao_store::StoreError::NotFound) => return Err(not_listed(seq)),
                Err(e) => return Err(e.into()),
            };
            // Only words that name the person, as the request's page lists them.
            if person_texts(&e, &name).is_empty() {
                return Err(not_listed(seq));
            }
            let keys = self.erase_words(&mut tx, &e).await?;
            let erasure = Erasure {
                id: self.new_id(),
                rule: DELETION_REQUEST.to_owned(),
                subject_kind: "event".to_owned(),
                subject_id: seq.to_string(),
                org_id: r.org_id.clone(),
                fields: keys.join(","),
                at_us: now,
                job_id: None,
                request_id: Some(r.id.clone()),
            };
            kebao_store::retention::record(tx.conn(), &erasure).await?;
            erased.push(seq);
        }
        r.answer = Some(answer);
        r.answered_by = Some(actor.log_name());
        r.answered_at_us = Some(now);
        if !store::answer(tx.conn(), &r).await? {
            return Err(ServiceError::Busy);
        }
        todos::close_todo(tx.conn(), "data_request", id, now).await?;
        if let Some(user_id) = &r.user_id {
            todos::notify(
                tx.conn(),
                &Notification {
                    id: self.new_id(),
                    user_id: user_id.clone(),
                    title_zh: format!(
                        "您的个人信息请求（{}）已答复：{}",
                        r.kind.label_zh(),
                        r.state.label_zh()
                    ),
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
        }
        let late = self.today() > r.due_on;
        let draft = EventDraft::new(
            &actor.log_name(),
            "privacy.request_answered",
            id,
            serde_json::json!({"kind": r.kind.code(), "outcome": r.state.code(), "late": late, "erased_events": erased}),
        );
        self.finish(tx, draft).await?;
        Ok(r)
    }

    /// The impact assessments on record, newest first, with the recipient named (the
    /// administrators who record them, and whoever reads the audit log).
    pub async fn impact_assessments(&self, actor: &Actor) -> Result<Vec<(ImpactAssessment, Option<String>)>> {
        if !self.allows(actor, Action::ManageImpactAssessments, &Resource::Zone) {
            self.require(actor, Action::ReadAudit, &Resource::Zone, &Basis::None)?;
        }
        let mut tx = self.store.begin_read().await?;
        Ok(store::assessments(tx.conn(), 500).await?)
    }

    /// Records an impact assessment; from then on personal data may go to its recipient
    /// (a separate personal consent to it can be given) or into its extract.
    pub async fn record_impact_assessment(
        &self,
        actor: &Actor,
        input: &AssessmentInput,
    ) -> Result<ImpactAssessment> {
        self.require(actor, Action::ManageImpactAssessments, &Resource::Zone, &Basis::None)?;
        let checked = input.check(self.today()).map_err(kebao_domain::error::Invalid)?;
        let mut tx = self.store.begin_write().await?;
        if let Some(org) = &checked.recipient_org_id {
            match orgs::get(tx.conn(), org).await {
                Ok(o) if o.kind != kebao_domain::org::OrgKind::Enterprise => {}
                Ok(_) => {
                    return Err(FieldError::new(
                        "recipient_org_id",
                        "recipient_kind",
                        "接收方应为银行、保险、担保、投资或服务机构",
                        "the recipient is a bank, insurer, guarantor, investor or service body",
                    )
                    .into())
                }
                Err(kebao_store::StoreError::NotFound) => {
                    return Err(FieldError::new(
                        "recipient_org_id",
                        "unknown",
                        "机构不存在",
                        "no such organisation",
                    )
                    .into())
                }
                Err(e) => return Err(e.into()),
            }
        }
        let a = ImpactAssessment {
            id: self.new_id(),
            target: checked.target,
            recipient_org_id: checked.recipient_org_id,
            extract: checked.extract,
            purpose: checked.purpose,
            data: checked.data,
            recipients: checked.recipients,
            assessed_on: checked.assessed_on,
            reviewer: checked.reviewer,
            conclusion: checked.conclusion,
            recorded_by: actor.log_name(),
            recorded_at_us: self.now_us(),
        };
        store::insert_assessment(tx.conn(), &a).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "privacy.assessment_recorded",
            &a.id,
            serde_json::json!({"target": a.target.code(), "recipient": a.recipient_org_id,
                "extract": a.extract.map(Extract::code), "assessed_on": a.assessed_on.to_string()}),
        );
        self.finish(tx, draft).await?;
        Ok(a)
    }
}

/// The words kept beside an event that contain `name`.
fn person_texts(e: &EventRecord, name: &str) -> Vec<PersonText> {
    let Some(kebao_domain::event::Personal::Kept(part)) = &e.personal else { return Vec::new() };
    if name.chars().count() < 2 {
        return Vec::new();
    }
    let words: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&part.data).unwrap_or_default();
    words
        .into_iter()
        .filter_map(|(k, v)| {
            let t = v.as_str()?;
            t.contains(name).then(|| PersonText {
                seq: e.seq,
                at_us: e.at_us,
                action: e.action.clone(),
                subject: e.subject.clone(),
                field: k.clone(),
                text: t.to_owned(),
            })
        })
        .collect()
}

fn not_listed(seq: u64) -> ServiceError {
    FieldError::new(
        "erase",
        "not_listed",
        format!("事件 #{seq} 旁没有提及此人的文字"),
        format!("event #{seq} keeps no words that name this person"),
    )
    .into()
}
