//! Role management on [`Auth`]: what the role routes call, and what an application or a
//! command-line tool calls to manage roles itself.
//!
//! Every change is logged under the target `fastauth::security` with ids and role names
//! only.

use crate::core::AuthError;
use crate::core::rbac::{DeclaredRoles, permission_problem, role_name_problem};
use crate::store::{RoleRecord, Store, StoreError};
use crate::user::{AuthUser, NewUser};

use super::{ADMIN_ROLE, Auth, SECURITY};
use crate::core::security::{SecurityEvent, SecurityEventKind as Kind};

/// The roles of a user and the union of their permissions, both sorted and without
/// duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserRoles {
    /// The role names.
    pub roles: Vec<String>,
    /// The permissions of those roles.
    pub permissions: Vec<String>,
}

fn check_names(role: Option<&str>, permissions: &[String]) -> Result<(), AuthError> {
    if let Some(problem) = role.and_then(role_name_problem) {
        return Err(AuthError::InvalidName(problem));
    }
    match permissions.iter().find_map(|p| permission_problem(p)) {
        Some(problem) => Err(AuthError::InvalidName(problem)),
        None => Ok(()),
    }
}

/// Fails with [`AuthError::RoleNotFound`] for a name that no role can have, so that an
/// oversized name from a URL path costs no query.
fn check_lookup(role: &str) -> Result<(), AuthError> {
    match role_name_problem(role) {
        Some(_) => Err(AuthError::RoleNotFound),
        None => Ok(()),
    }
}

impl<U: AuthUser, S: Store<U>, const P: u32, R: DeclaredRoles> Auth<U, S, P, R> {
    /// Returns whether the store keeps roles. When it does not, the role routes and guards
    /// respond with `RBAC is not configured`.
    pub fn roles_enabled(&self) -> bool {
        self.inner.store.supports_roles()
    }

    fn role_store(&self) -> Result<&S, AuthError> {
        if self.roles_enabled() {
            Ok(&self.inner.store)
        } else {
            Err(AuthError::RolesNotConfigured)
        }
    }

    /// Lists every role with its permissions, sorted by name.
    pub async fn list_roles(&self) -> Result<Vec<RoleRecord>, AuthError> {
        Ok(self.role_store()?.list_roles().await?)
    }

    /// Creates a role; [`AuthError::RoleExists`] when the name is taken. `actor_id` is the
    /// user who sent the request, for the security log.
    pub async fn create_role(
        &self,
        name: &str,
        permissions: &[String],
        actor_id: Option<&str>,
    ) -> Result<RoleRecord, AuthError> {
        check_names(Some(name), permissions)?;
        if !self.role_store()?.create_role(name, permissions).await? {
            return Err(AuthError::RoleExists);
        }
        let event = SecurityEvent::new(Kind::RoleCreated)
            .actor(actor_id)
            .role(name);
        self.events.emit(event).await;
        Ok(RoleRecord {
            name: name.to_owned(),
            permissions: crate::store::sorted_unique(permissions.to_vec()),
        })
    }

    /// Deletes a role and takes it from every user; [`AuthError::RoleNotFound`] when there
    /// is no such role.
    pub async fn delete_role(&self, name: &str, actor_id: Option<&str>) -> Result<(), AuthError> {
        let store = self.role_store()?;
        check_lookup(name)?;
        if !store.delete_role(name).await? {
            return Err(AuthError::RoleNotFound);
        }
        let event = SecurityEvent::new(Kind::RoleDeleted)
            .actor(actor_id)
            .role(name);
        self.events.emit(event).await;
        Ok(())
    }

    /// Grants permissions to a role; those it has already are kept.
    pub async fn add_permissions(
        &self,
        role: &str,
        permissions: &[String],
        actor_id: Option<&str>,
    ) -> Result<(), AuthError> {
        let store = self.role_store()?;
        check_lookup(role)?;
        check_names(None, permissions)?;
        if !store.add_permissions(role, permissions).await? {
            return Err(AuthError::RoleNotFound);
        }
        let event = SecurityEvent::new(Kind::RolePermissionsChanged)
            .actor(actor_id)
            .role(role)
            .reason(format!("granted: {}", permissions.join(", ")));
        self.events.emit(event).await;
        Ok(())
    }

    /// Takes permissions from a role; those it lacks are ignored.
    pub async fn remove_permissions(
        &self,
        role: &str,
        permissions: &[String],
        actor_id: Option<&str>,
    ) -> Result<(), AuthError> {
        let store = self.role_store()?;
        check_lookup(role)?;
        if !store.remove_permissions(role, permissions).await? {
            return Err(AuthError::RoleNotFound);
        }
        let event = SecurityEvent::new(Kind::RolePermissionsChanged)
            .actor(actor_id)
            .role(role)
            .reason(format!("removed: {}", permissions.join(", ")));
        self.events.emit(event).await;
        Ok(())
    }

    /// Gives a user a role. [`AuthError::RoleNotFound`] or [`AuthError::UserNotFound`]
    /// when either does not exist; a role the user holds already is no error.
    pub async fn assign_role(
        &self,
        user_id: &str,
        role: &str,
        actor_id: Option<&str>,
    ) -> Result<(), AuthError> {
        let store = self.role_store()?;
        check_lookup(role)?;
        if store.find_role(role).await?.is_none() {
            return Err(AuthError::RoleNotFound);
        }
        if store.find_user_by_id(user_id).await?.is_none() {
            return Err(AuthError::UserNotFound);
        }
        store.assign_role(user_id, role).await?;
        let event = SecurityEvent::new(Kind::RoleAssigned)
            .user(user_id)
            .actor(actor_id)
            .role(role);
        self.events.emit(event).await;
        Ok(())
    }

    /// Takes a role from a user; a role they do not hold is no error.
    pub async fn revoke_role(
        &self,
        user_id: &str,
        role: &str,
        actor_id: Option<&str>,
    ) -> Result<(), AuthError> {
        if self.role_store()?.revoke_role(user_id, role).await? {
            let event = SecurityEvent::new(Kind::RoleRevoked)
                .user(user_id)
                .actor(actor_id)
                .role(role);
            self.events.emit(event).await;
        }
        Ok(())
    }

    /// Returns the roles and permissions of a user, with empty lists for an unknown user.
    pub async fn user_roles(&self, user_id: &str) -> Result<UserRoles, AuthError> {
        let (roles, permissions) = self.role_store()?.user_roles(user_id).await?;
        Ok(UserRoles { roles, permissions })
    }

    /// Gives the account with address `email` (normalised here) the role `role`, creating
    /// the role without permissions when it is missing. Returns `false`, changing nothing,
    /// when no account has that address. For an application's set-up code or a
    /// command-line tool that names the first administrator.
    pub async fn grant_role_by_email(&self, email: &str, role: &str) -> Result<bool, AuthError> {
        check_names(Some(role), &[])?;
        let email = crate::email::normalize_email(email)
            .map_err(|_| AuthError::InvalidName("an e-mail address must contain `@`"))?;
        let store = self.role_store()?;
        let Some(record) = store.find_user_by_email(&email).await? else {
            return Ok(false);
        };
        store.create_role(role, &[]).await?;
        store.assign_role(&record.core.id, role).await?;
        let event = SecurityEvent::new(Kind::RoleAssigned)
            .user(&record.core.id)
            .role(role)
            .reason("granted by address");
        self.events.emit(event).await;
        Ok(true)
    }

    /// Creates the `admin` role when it is missing and, when
    /// [`crate::AuthConfig::admin_email`] is set and that account exists, gives it the role.
    /// Call it at start-up, after [`Auth::migrate`].
    pub async fn bootstrap_admin(&self) -> Result<(), AuthError> {
        let store = self.role_store()?;
        if store.create_role(ADMIN_ROLE, &[]).await? {
            tracing::info!(target: SECURITY, role = ADMIN_ROLE, "role created at start-up");
        }
        if let Some(email) = self.inner.config.admin_email.clone() {
            let granted = self.grant_role_by_email(&email, ADMIN_ROLE).await?;
            if !granted {
                tracing::info!(
                    target: SECURITY,
                    "the admin account does not exist yet: it gets the role when it registers"
                );
            }
        }
        Ok(())
    }

    /// Gives a newly created account the `admin` role when its address is the configured
    /// admin address, and returns the account's roles and permissions.
    pub(crate) async fn grant_admin_on_signup(
        &self,
        user: &NewUser,
    ) -> Result<(Vec<String>, Vec<String>), StoreError> {
        let store = &self.inner.store;
        let is_admin = self.inner.config.admin_email.as_deref() == Some(user.email.as_str());
        if !is_admin || !store.supports_roles() {
            return Ok((Vec::new(), Vec::new()));
        }
        store.create_role(ADMIN_ROLE, &[]).await?;
        store.assign_role(&user.id, ADMIN_ROLE).await?;
        let event = SecurityEvent::new(Kind::RoleAssigned)
            .user(&user.id)
            .role(ADMIN_ROLE)
            .reason("configured admin address registered");
        self.events.emit(event).await;
        store.user_roles(&user.id).await
    }
}
