//! Who may do what with a story. Every story has an owner; a private one is seen only by
//! its owner, its collaborators and admins, a public one by anyone. Collaborators are
//! `editor` (nodes, cover, title, status, tags) or `viewer` (reads it while private); only the
//! owner deletes a story, changes its visibility or shares it. Admin accounts and the
//! admin token may do anything.
//!
//! Refusals: an anonymous write is 401; a story the caller may not read is 404 (its
//! existence is not revealed); a write the caller's role does not allow is 403. Every
//! write of the library passes through [`AppState::story_for`] with the role it needs, so
//! an endpoint cannot forget the check.

use std::sync::Arc;

use server::store::Store;

use crate::backend::{AppState, identity::Viewer, time::now_micros};
use crate::model::{
    ApiError, Collaborator, CollaboratorRole, Collaborators, ErrorCode, Story, Visibility,
    fields::Id,
};

/// What a caller may do with one story, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Nothing: a private story of someone else.
    None,
    /// Read it.
    Reader,
    /// Edit its nodes, cover, title, status and tags.
    Editor,
    /// Everything: delete it, change its visibility, share it.
    Owner,
}

impl Role {
    fn needed(self) -> &'static str {
        match self {
            Role::Owner => "only the story's owner may do this",
            _ => "this story is shared with you to read, not to edit",
        }
    }
}

/// The role `account_id` was given on `story_id`, if any.
async fn collaborator_role(
    store: &Store,
    story_id: &str,
    account_id: &str,
) -> Result<Option<CollaboratorRole>, ApiError> {
    let reader = store.read().await?;
    let role = reader
        .query_opt(
            "collaborator.role",
            "SELECT role FROM collaborators WHERE story_id = ?1 AND account_id = ?2",
            (story_id, account_id),
            |r| r.get::<String>(0),
        )
        .await?;
    Ok(role.and_then(|r| CollaboratorRole::parse(&r)))
}

impl AppState {
    /// `caller`'s role on `story`.
    pub async fn role_on(&self, caller: &Viewer, story: &Story) -> Result<Role, ApiError> {
        if caller.is_admin() {
            return Ok(Role::Owner);
        }
        let public = story.visibility == Visibility::Public;
        let Some(account) = caller.account() else {
            return Ok(if public { Role::Reader } else { Role::None });
        };
        if story.owner == account.handle {
            return Ok(Role::Owner);
        }
        Ok(
            match collaborator_role(self.store(), &story.id, &account.id).await? {
                Some(CollaboratorRole::Editor) => Role::Editor,
                Some(CollaboratorRole::Viewer) => Role::Reader,
                None if public => Role::Reader,
                None => Role::None,
            },
        )
    }

    /// The story `id` if `caller` has at least `needed` on it: 401 for an anonymous
    /// caller who needs more than reading, 404 if it may not read it, 403 if it may read
    /// but not do this.
    pub async fn story_for(
        &self,
        caller: &Viewer,
        id: &Id,
        needed: Role,
    ) -> Result<Arc<Story>, ApiError> {
        let anonymous = caller.account().is_none() && !caller.is_admin();
        if needed > Role::Reader && anonymous {
            return Err(ApiError::unauthenticated());
        }
        let story = self.story(id).await?;
        match self.role_on(caller, &story).await? {
            Role::None => Err(ApiError::not_found("story", id.as_str())),
            role if role < needed => Err(ApiError::forbidden(needed.needed())),
            _ => Ok(story),
        }
    }

    /// The story `id` if `caller` may read it (404 otherwise).
    pub async fn readable_story(&self, caller: &Viewer, id: &Id) -> Result<Arc<Story>, ApiError> {
        self.story_for(caller, id, Role::Reader).await
    }

    /// The story `id` if `caller` may edit it (its nodes, cover, fields).
    pub async fn editable_story(&self, caller: &Viewer, id: &Id) -> Result<Arc<Story>, ApiError> {
        self.story_for(caller, id, Role::Editor).await
    }

    /// Who `story` is shared with: for anyone who may read it.
    pub async fn collaborators(&self, caller: &Viewer, id: &Id) -> Result<Collaborators, ApiError> {
        let story = self.readable_story(caller, id).await?;
        let reader = self.store().read().await?;
        let collaborators = reader
            .query(
                "collaborator.list",
                "SELECT a.handle, c.role FROM collaborators c JOIN accounts a ON a.id = c.account_id
                 WHERE c.story_id = ?1 ORDER BY c.added_at",
                [id.as_str()],
                |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)),
            )
            .await?
            .into_iter()
            .filter_map(|(handle, role)| {
                Some(Collaborator {
                    handle,
                    role: CollaboratorRole::parse(&role)?,
                })
            })
            .collect();
        Ok(Collaborators {
            owner: story.owner.clone(),
            collaborators,
        })
    }

    /// Shares story `id` with the writer `handle` as `role` (the owner only); sharing
    /// again changes the role.
    pub async fn share(
        &self,
        caller: &Viewer,
        id: &Id,
        handle: &str,
        role: CollaboratorRole,
    ) -> Result<Collaborators, ApiError> {
        let story = self.story_for(caller, id, Role::Owner).await?;
        let account = self.account_by_handle(handle).await?;
        if account.handle == story.owner {
            return Err(ApiError::invalid(
                "handle",
                "the owner of a story cannot be its collaborator",
            ));
        }
        let writer = self.store().write().await?;
        writer
            .execute(
                "collaborator.put",
                "INSERT INTO collaborators (story_id, account_id, role, added_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (story_id, account_id) DO UPDATE SET role = excluded.role",
                (
                    id.as_str(),
                    account.id.as_str(),
                    role.as_str(),
                    now_micros(),
                ),
            )
            .await?;
        drop(writer);
        self.sharing_changed(id).await;
        self.collaborators(caller, id).await
    }

    /// Stops sharing story `id` with `handle` (the owner only).
    pub async fn unshare(
        &self,
        caller: &Viewer,
        id: &Id,
        handle: &str,
    ) -> Result<Collaborators, ApiError> {
        self.story_for(caller, id, Role::Owner).await?;
        let account = self.account_by_handle(handle).await?;
        let writer = self.store().write().await?;
        let removed = writer
            .execute(
                "collaborator.delete",
                "DELETE FROM collaborators WHERE story_id = ?1 AND account_id = ?2",
                (id.as_str(), account.id.as_str()),
            )
            .await?;
        drop(writer);
        if removed == 0 {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                format!("story {} is not shared with {handle}", id.as_str()),
            ));
        }
        self.sharing_changed(id).await;
        self.collaborators(caller, id).await
    }

    async fn account_by_handle(
        &self,
        handle: &str,
    ) -> Result<crate::backend::identity::accounts::AccountRow, ApiError> {
        use crate::backend::identity::accounts::{Handle, by_handle};
        let parsed = Handle::parse("handle", handle)?;
        by_handle(self.store(), &parsed)
            .await?
            .map(|(account, _)| account)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    format!("no writer with the handle {handle}"),
                )
                .with_field("handle")
            })
    }

    /// After sharing changed: the lists (`scope=shared`) of every instance.
    async fn sharing_changed(&self, id: &Id) {
        self.invalidate_everywhere(&[
            super::super::cache::LIST_TAG,
            &super::super::cache::story_tag(id.as_str()),
        ])
        .await;
    }
}

/// A new story's owner row values: the account id (an operator's stories belong to the
/// demo account).
pub fn owner_id(caller: &Viewer) -> Result<String, ApiError> {
    match (caller.account(), caller) {
        (Some(account), _) => Ok(account.id.clone()),
        (None, Viewer::Operator) => Ok(crate::backend::schema::DEMO_ACCOUNT.to_owned()),
        _ => Err(ApiError::unauthenticated()),
    }
}
