//! Every user's to-do list and notifications. Later capabilities add kinds of items.

use crate::authz::Actor;
use crate::{Result, Service, ServiceError};
use kebao_store::todos::{self, Notification, Todo};

/// What a user has to do and has been told.
#[derive(Debug, Clone, Default)]
pub struct Inbox {
    pub todos: Vec<Todo>,
    pub notifications: Vec<Notification>,
    pub unread: usize,
}

impl Service {
    /// The signed-in user's open to-dos (for any of their roles) and newest notifications.
    pub async fn inbox(&self, actor: &Actor) -> Result<Inbox> {
        let user = actor.user().ok_or(ServiceError::Unauthenticated("not signed in"))?;
        let roles: Vec<&str> = user.roles.iter().map(|r| r.code()).collect();
        let mut tx = self.store.begin_read().await?;
        let todos = todos::open_todos(tx.conn(), &user.org_id, &roles, 50).await?;
        let notifications = todos::notifications(tx.conn(), &user.id, 20).await?;
        let unread = notifications.iter().filter(|n| n.read_at_us.is_none()).count();
        Ok(Inbox { todos, notifications, unread })
    }

    /// Marks the user's notifications read.
    pub async fn mark_notifications_read(&self, actor: &Actor) -> Result<u64> {
        let user = actor.user().ok_or(ServiceError::Unauthenticated("not signed in"))?;
        let mut tx = self.store.begin_write().await?;
        let n = todos::mark_all_read(tx.conn(), &user.id, self.now_us()).await?;
        let draft = kebao_domain::EventDraft::new(
            &actor.log_name(),
            "notifications.read",
            &user.id,
            serde_json::json!({"count": n}),
        );
        self.finish(tx, draft).await?;
        Ok(n)
    }
}
