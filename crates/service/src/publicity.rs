//! The publicity section: cases, regulations and notices written by zone officers in
//! Markdown, published on the portal.

use crate::authz::{Action, Actor, Basis, Resource};
use crate::{Result, Service, ServiceError};
use kebao_domain::event::EventDraft;
use kebao_domain::publicity::Article;
use kebao_domain::publicity::{ArticleContent, ArticleKind};
use kebao_store::products as store;

impl Service {
    fn author_name(actor: &Actor) -> String {
        actor.user().map(|u| u.display_name.clone()).unwrap_or_else(|| actor.log_name())
    }

    /// Writes a new article (a draft unless `publish`).
    pub async fn create_article(
        &self,
        actor: &Actor,
        kind: &str,
        title: &str,
        body: &str,
        publish: bool,
    ) -> Result<Article> {
        self.require(actor, Action::WritePublicity, &Resource::Zone, &Basis::None)?;
        let c = ArticleContent::parse(kind, title, body)?;
        let now = self.now_us();
        let a = Article {
            id: self.new_id(),
            kind: c.kind,
            title: c.title,
            body_md: c.body_md,
            status: if publish { "published" } else { "draft" }.to_owned(),
            author: actor.log_name(),
            author_name: Self::author_name(actor),
            created_at_us: now,
            updated_at_us: now,
            published_at_us: publish.then_some(now),
        };
        let mut tx = self.store.begin_write().await?;
        store::put_article(tx.conn(), &a).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "article.created",
            &a.id,
            serde_json::json!({"kind": a.kind.code(), "status": a.status}),
        );
        self.finish(tx, draft).await?;
        Ok(a)
    }

    /// Edits an article; `publish` publishes it (or keeps it published), `false` takes it down.
    pub async fn update_article(
        &self,
        actor: &Actor,
        id: &str,
        kind: &str,
        title: &str,
        body: &str,
        publish: bool,
    ) -> Result<Article> {
        self.require(actor, Action::WritePublicity, &Resource::Zone, &Basis::None)?;
        let c = ArticleContent::parse(kind, title, body)?;
        let mut tx = self.store.begin_write().await?;
        let old = store::get_article(tx.conn(), id).await?;
        let now = self.now_us();
        let a = Article {
            kind: c.kind,
            title: c.title,
            body_md: c.body_md,
            status: if publish { "published" } else { "draft" }.to_owned(),
            updated_at_us: now,
            published_at_us: if publish { old.published_at_us.or(Some(now)) } else { None },
            ..old
        };
        store::put_article(tx.conn(), &a).await?;
        let draft = EventDraft::new(
            &actor.log_name(),
            "article.updated",
            id,
            serde_json::json!({"kind": a.kind.code(), "status": a.status}),
        );
        self.finish(tx, draft).await?;
        Ok(a)
    }

    /// Published articles (everyone), or every article (those who write them).
    pub async fn articles(&self, actor: &Actor, kind: Option<ArticleKind>) -> Result<Vec<Article>> {
        let writer = self.authz.decide(actor, Action::WritePublicity, &Resource::Zone, &Basis::None).allowed;
        let mut tx = self.store.begin_read().await?;
        Ok(store::articles(tx.conn(), kind, writer).await?)
    }

    /// One article; drafts only for those who write them.
    pub async fn article(&self, actor: &Actor, id: &str) -> Result<Article> {
        let mut tx = self.store.begin_read().await?;
        let a = store::get_article(tx.conn(), id).await?;
        if a.status != "published"
            && !self.authz.decide(actor, Action::WritePublicity, &Resource::Zone, &Basis::None).allowed
        {
            return Err(ServiceError::NotFound);
        }
        Ok(a)
    }

    /// Whether the actor writes in the publicity section.
    pub fn may_write_publicity(&self, actor: &Actor) -> bool {
        self.authz.decide(actor, Action::WritePublicity, &Resource::Zone, &Basis::None).allowed
    }
}
