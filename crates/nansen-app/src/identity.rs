//! Organisations, users, memberships, passwords and API tokens.

use crate::{App, AppError, Result};
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use nansen_model::{Principal, Role, Timestamp};
use nansen_store::{MemberRecord, OrgRecord, StoreError, TokenRecord};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Who is asking, and how they appear in the audit log.
#[derive(Clone, Debug)]
pub struct Caller {
    pub principal: Principal,
    pub label: String,
}

impl Caller {
    pub fn operator() -> Caller {
        Caller {
            principal: Principal::Operator,
            label: "operator".into(),
        }
    }
    pub fn anonymous() -> Caller {
        Caller {
            principal: Principal::Anonymous,
            label: "anonymous".into(),
        }
    }
    pub fn user_id(&self) -> Option<i64> {
        match &self.principal {
            Principal::User { id, .. } => Some(*id),
            _ => None,
        }
    }
    /// The person's e-mail address; none for the operator and the anonymous.
    pub fn email(&self) -> Option<&str> {
        match &self.principal {
            Principal::User { email, .. } => Some(email),
            _ => None,
        }
    }
}

fn slug_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

pub fn check_slug(s: &str, what: &str) -> Result<()> {
    if slug_ok(s) {
        Ok(())
    } else {
        Err(AppError::BadRequest(format!(
            "{what} {s:?} must be 1 to 64 lower-case letters, digits, - or _"
        )))
    }
}

fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::BadRequest(format!("cannot hash the password: {e}")))
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn conflict(e: StoreError, what: String) -> AppError {
    match &e {
        StoreError::Db(db) if db.is_conflict() => AppError::Conflict(what),
        _ => AppError::Store(e),
    }
}

/// A web session lasts a working day; then the person signs in again.
pub const SESSION_SECONDS: i64 = 12 * 3600;

pub(crate) fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// A readable random password for a new account.
pub fn generate_password() -> String {
    random_hex(15)
}

impl App {
    pub(crate) fn require_operator(&self, who: &Caller) -> Result<()> {
        if self.is_operator(who)? {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "only a platform operator may do this".into(),
            ))
        }
    }

    /// The command line's operator, or a user the operator made a platform operator.
    pub fn is_operator(&self, who: &Caller) -> Result<bool> {
        Ok(match who.principal {
            Principal::Operator => true,
            Principal::User { id, .. } => self.store.user(id)?.is_some_and(|u| u.operator),
            Principal::Anonymous => false,
        })
    }

    /// Organisations whose members `who` may manage: all for an operator, else those they administer.
    pub fn administered_orgs(&self, who: &Caller) -> Result<Vec<OrgRecord>> {
        let all = self.store.orgs()?;
        if self.is_operator(who)? {
            return Ok(all);
        }
        Ok(all
            .into_iter()
            .filter(|o| who.principal.role_in(&o.slug) == Some(Role::Admin))
            .collect())
    }

    /// Every organisation, for choosing partners; only to someone signed in.
    pub fn organisations(&self, who: &Caller) -> Result<Vec<OrgRecord>> {
        match who.principal {
            Principal::Anonymous => Err(AppError::Unauthorized),
            _ => Ok(self.store.orgs()?),
        }
    }

    /// Members of the organisations `who` administers.
    pub fn members(&self, who: &Caller) -> Result<Vec<MemberRecord>> {
        let orgs: Vec<String> = self
            .administered_orgs(who)?
            .into_iter()
            .map(|o| o.slug)
            .collect();
        if orgs.is_empty() {
            return Err(AppError::Forbidden(
                "managing members is for administrators".into(),
            ));
        }
        Ok(self.store.members(Some(&orgs))?)
    }

    /// Gives `email` a role in `org`, creating the account when it is new. An organisation's
    /// admins may do this for their organisation. Returns the new account's password, made
    /// here and shown once.
    pub fn set_member(
        &self,
        who: &Caller,
        email: &str,
        org: &str,
        (role, supervisor): (Role, bool),
    ) -> Result<Option<String>> {
        if !self.administered_orgs(who)?.iter().any(|o| o.slug == org) {
            return Err(AppError::Forbidden(format!(
                "only admins of {org} may change its members"
            )));
        }
        check_supervisor(role, supervisor)?;
        let email = email.trim().to_lowercase();
        let new = self.store.user_by_email(&email)?.is_none();
        let password = new.then(generate_password);
        self.add_member(
            who,
            &email,
            org,
            (role, supervisor),
            password.as_deref().unwrap_or(""),
        )?;
        Ok(password)
    }

    /// Ends `email`'s membership of `org`. An admin may not remove their own admin role, so
    /// an organisation is never left without one by accident.
    pub fn remove_member(&self, who: &Caller, email: &str, org: &str) -> Result<()> {
        let org_rec = self
            .administered_orgs(who)?
            .into_iter()
            .find(|o| o.slug == org)
            .ok_or_else(|| {
                AppError::Forbidden(format!("only admins of {org} may change its members"))
            })?;
        let email = email.trim().to_lowercase();
        let u = self
            .store
            .user_by_email(&email)?
            .ok_or_else(|| AppError::NotFound(format!("member {email} of {org}")))?;
        if who.user_id() == Some(u.id) {
            return Err(AppError::BadRequest(
                "you cannot remove yourself; ask another admin".into(),
            ));
        }
        let done = self.store.write(|tx| {
            let done = tx.remove_membership(u.id, org_rec.id)?;
            if done {
                tx.audit(
                    &who.label,
                    "membership.remove",
                    &email,
                    &serde_json::json!({ "org": org }).to_string(),
                )?;
            }
            Ok::<_, StoreError>(done)
        })?;
        if done {
            Ok(())
        } else {
            Err(AppError::NotFound(format!("member {email} of {org}")))
        }
    }

    /// Makes a user a platform operator (or not); only an operator may.
    pub fn set_operator(&self, who: &Caller, email: &str, operator: bool) -> Result<()> {
        self.require_operator(who)?;
        let email = email.trim().to_lowercase();
        let u = self
            .store
            .user_by_email(&email)?
            .ok_or_else(|| AppError::NotFound(format!("user {email}")))?;
        self.store.write(|tx| {
            tx.set_operator(u.id, operator)?;
            tx.audit(
                &who.label,
                "user.operator",
                &email,
                &serde_json::json!({ "operator": operator }).to_string(),
            )?;
            Ok::<_, StoreError>(())
        })?;
        Ok(())
    }

    /// Signs in and starts a web session. Returns the session's secret (for a cookie, stored
    /// only as its hash), its form token against cross-site requests, and the caller.
    pub fn start_session(&self, email: &str, password: &str) -> Result<(String, String, Caller)> {
        let who = self.sign_in(email, password)?;
        let id = who.user_id().ok_or(AppError::Unauthorized)?;
        let secret = random_hex(32);
        let csrf = random_hex(32);
        self.store.write(|tx| {
            tx.insert_session(
                &token_hash(&secret),
                id,
                &csrf,
                Timestamp::now().plus_seconds(SESSION_SECONDS),
            )?;
            tx.audit(&who.label, "session.start", &who.label, "{}")?;
            Ok::<_, StoreError>(())
        })?;
        Ok((secret, csrf, who))
    }

    /// The caller of a live session, with its form token.
    pub fn session(&self, secret: &str) -> Result<(Caller, String)> {
        let s = self
            .store
            .session(&token_hash(secret))?
            .ok_or(AppError::Unauthorized)?;
        let u = self.store.user(s.user_id)?.ok_or(AppError::Unauthorized)?;
        Ok((
            Caller {
                principal: self.principal_of(u.id, &u.email)?,
                label: u.email,
            },
            s.csrf,
        ))
    }

    pub fn end_session(&self, secret: &str) -> Result<()> {
        let label = self
            .session(secret)
            .map(|(c, _)| c.label)
            .unwrap_or_default();
        self.store.write(|tx| {
            if tx.delete_session(&token_hash(secret))? {
                tx.audit(&label, "session.end", &label, "{}")?;
            }
            Ok::<_, StoreError>(())
        })?;
        Ok(())
    }

    pub fn add_org(&self, who: &Caller, slug: &str, name: &str) -> Result<OrgRecord> {
        self.add_org_of(who, slug, name, None)
    }

    /// Adds an organisation that speaks for a state (`country`, a code or name): a receiving
    /// partner for that state in programmes, and the state it reports for.
    pub fn add_org_of(
        &self,
        who: &Caller,
        slug: &str,
        name: &str,
        country: Option<&str>,
    ) -> Result<OrgRecord> {
        self.require_operator(who)?;
        check_slug(slug, "organisation slug")?;
        if name.trim().is_empty() {
            return Err(AppError::BadRequest("an organisation needs a name".into()));
        }
        let country = country
            .map(|c| crate::cases::state_code("country", c))
            .transpose()?;
        let id = self
            .store
            .write(|tx| {
                let id = tx.insert_org_of(slug, name.trim(), country.as_deref())?;
                tx.audit(
                    &who.label,
                    "org.add",
                    slug,
                    &serde_json::json!({ "name": name.trim(), "country": country }).to_string(),
                )?;
                Ok::<_, StoreError>(id)
            })
            .map_err(|e| conflict(e, format!("organisation {slug} exists already")))?;
        Ok(OrgRecord {
            id,
            slug: slug.into(),
            name: name.trim().into(),
            country,
        })
    }

    /// Creates the user if new (with `password`), and gives them `role` in `org`.
    pub fn add_user(
        &self,
        who: &Caller,
        email: &str,
        org: &str,
        role: Role,
        password: &str,
    ) -> Result<()> {
        self.add_user_as(who, email, org, (role, false), password)
    }

    /// As `add_user`, the role with whether the member is a supervisor (who approves the
    /// stages that need it and may override a missing consent).
    pub fn add_user_as(
        &self,
        who: &Caller,
        email: &str,
        org: &str,
        (role, supervisor): (Role, bool),
        password: &str,
    ) -> Result<()> {
        self.require_operator(who)?;
        check_supervisor(role, supervisor)?;
        self.add_member(who, email, org, (role, supervisor), password)
    }

    fn add_member(
        &self,
        who: &Caller,
        email: &str,
        org: &str,
        (role, supervisor): (Role, bool),
        password: &str,
    ) -> Result<()> {
        let email = email.trim().to_lowercase();
        if !email.contains('@') || email.len() > 254 {
            return Err(AppError::BadRequest(format!(
                "{email:?} is not an e-mail address"
            )));
        }
        let org_rec = self
            .store
            .org(org)?
            .ok_or_else(|| AppError::NotFound(format!("organisation {org}")))?;
        let existing = self.store.user_by_email(&email)?;
        if existing.is_none() && password.chars().count() < 10 {
            return Err(AppError::BadRequest(
                "a password needs at least 10 characters".into(),
            ));
        }
        let hash = if existing.is_none() {
            Some(hash_password(password)?)
        } else {
            None
        };
        self.store.write(|tx| {
            let id = match (&existing, &hash) {
                (Some(u), _) => u.id,
                (None, Some(h)) => {
                    let id = tx.insert_user(&email, h)?;
                    tx.audit(&who.label, "user.add", &email, "{}")?;
                    id
                }
                (None, None) => unreachable!("a new user always has a hash"),
            };
            tx.set_membership(id, org_rec.id, role, supervisor)?;
            tx.audit(
                &who.label,
                "membership.set",
                &email,
                &serde_json::json!({ "org": org, "role": role, "supervisor": supervisor })
                    .to_string(),
            )?;
            Ok::<_, AppError>(())
        })
    }

    pub(crate) fn principal_of(&self, user_id: i64, email: &str) -> Result<Principal> {
        let memberships = self.store.memberships(user_id)?;
        Ok(Principal::User {
            id: user_id,
            email: email.to_string(),
            memberships,
        })
    }

    /// The operator acting as a user (`--as EMAIL`): that user's permissions, audited as both.
    pub fn act_as(&self, email: &str) -> Result<Caller> {
        let u = self
            .store
            .user_by_email(&email.trim().to_lowercase())?
            .ok_or_else(|| AppError::NotFound(format!("user {email}")))?;
        Ok(Caller {
            principal: self.principal_of(u.id, &u.email)?,
            label: format!("operator as {}", u.email),
        })
    }

    pub fn sign_in(&self, email: &str, password: &str) -> Result<Caller> {
        let email = email.trim().to_lowercase();
        let user = self.store.user_by_email(&email)?;
        // Verify against a dummy hash when the user is unknown, so timing does not tell.
        let stored = user.as_ref().map(|u| u.password_hash.clone()).unwrap_or_else(|| {
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$PQvXpYc5dE2KOlvg6WlHL8Zu8H2BgLMUnyJtOGGJ1r8".into()
        });
        let ok = PasswordHash::new(&stored).is_ok_and(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        });
        match (user, ok) {
            (Some(u), true) => Ok(Caller {
                principal: self.principal_of(u.id, &u.email)?,
                label: u.email,
            }),
            _ => Err(AppError::Unauthorized),
        }
    }

    /// A new API token for a user: returned once, stored only as its hash.
    pub fn create_token(&self, who: &Caller, email: &str, name: &str) -> Result<String> {
        let email = email.trim().to_lowercase();
        let u = self
            .store
            .user_by_email(&email)?
            .ok_or_else(|| AppError::NotFound(format!("user {email}")))?;
        match &who.principal {
            Principal::Operator => {}
            Principal::User { id, .. } if *id == u.id => {}
            _ => {
                return Err(AppError::Forbidden(
                    "a token can only be made by its owner or the operator".into(),
                ))
            }
        }
        let mut raw = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut raw);
        let token = format!("nansen_{}", hex::encode(raw));
        let name = if name.trim().is_empty() {
            "token"
        } else {
            name.trim()
        };
        self.store.write(|tx| {
            let id = tx.insert_token(u.id, name, &token_hash(&token))?;
            tx.audit(
                &who.label,
                "token.create",
                &email,
                &serde_json::json!({ "token": id, "name": name }).to_string(),
            )?;
            Ok::<_, StoreError>(())
        })?;
        Ok(token)
    }

    pub fn tokens(&self, who: &Caller) -> Result<Vec<TokenRecord>> {
        let id = who.user_id().ok_or(AppError::Unauthorized)?;
        Ok(self.store.tokens(id)?)
    }

    pub fn revoke_token(&self, who: &Caller, token_id: i64) -> Result<()> {
        let id = who.user_id().ok_or(AppError::Unauthorized)?;
        let done = self.store.write(|tx| {
            let done = tx.revoke_token(id, token_id)?;
            if done {
                tx.audit(
                    &who.label,
                    "token.revoke",
                    &who.label,
                    &serde_json::json!({ "token": token_id }).to_string(),
                )?;
            }
            Ok::<_, StoreError>(done)
        })?;
        if done {
            Ok(())
        } else {
            Err(AppError::NotFound(format!("token {token_id}")))
        }
    }

    /// The caller a bearer token stands for, stamping the token's last use.
    pub fn authenticate_token(&self, token: &str) -> Result<Caller> {
        let user_id = self
            .store
            .use_token(&token_hash(token.trim()))?
            .ok_or(AppError::Unauthorized)?;
        let u = self.store.user(user_id)?.ok_or(AppError::Unauthorized)?;
        Ok(Caller {
            principal: self.principal_of(u.id, &u.email)?,
            label: u.email,
        })
    }
}

/// Only those who run cases approve their moves.
fn check_supervisor(role: Role, supervisor: bool) -> Result<()> {
    if supervisor && !matches!(role, Role::Caseworker | Role::Admin) {
        return Err(AppError::BadRequest(format!(
            "a supervisor is a caseworker or an admin, not a {role}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::test_support::apps;
    use crate::*;

    #[test]
    fn tokens_are_shown_once_stored_as_hashes_and_revocable() {
        for (t, app) in apps() {
            let op = Caller::operator();
            app.add_org(&op, "euaa", "EU Asylum Agency").unwrap();
            app.add_user(
                &op,
                "Ana@Example.org",
                "euaa",
                nansen_model::Role::Analyst,
                "correct horse battery",
            )
            .unwrap();
            let token = app.create_token(&op, "ana@example.org", "laptop").unwrap();
            let who = app.authenticate_token(&token).unwrap();
            assert_eq!(who.label, "ana@example.org", "{}", t.name);
            let stored = t.store.query("SELECT token_hash FROM tokens", &[]).unwrap();
            assert_ne!(
                stored[0].get::<String>("token_hash").unwrap(),
                token,
                "the token itself is never stored"
            );
            let list = app.tokens(&who).unwrap();
            assert!(list[0].last_used_at.is_some(), "last use is stamped");
            app.revoke_token(&who, list[0].id).unwrap();
            assert!(
                matches!(app.authenticate_token(&token), Err(AppError::Unauthorized)),
                "{}",
                t.name
            );
            assert!(app
                .sign_in("ana@example.org", "correct horse battery")
                .is_ok());
            assert!(matches!(
                app.sign_in("ana@example.org", "wrong"),
                Err(AppError::Unauthorized)
            ));
            let hash = t
                .store
                .query("SELECT password_hash FROM users", &[])
                .unwrap()[0]
                .get::<String>("password_hash")
                .unwrap();
            assert!(hash.starts_with("$argon2id$"), "{hash}");
        }
    }

    #[test]
    fn a_user_may_belong_to_several_organisations_with_a_role_in_each() {
        for (_t, app) in apps() {
            let op = Caller::operator();
            app.add_org(&op, "euaa", "EUAA").unwrap();
            app.add_org(&op, "iom", "IOM").unwrap();
            app.add_user(
                &op,
                "li@example.org",
                "euaa",
                nansen_model::Role::Editor,
                "0123456789ab",
            )
            .unwrap();
            app.add_user(&op, "li@example.org", "iom", nansen_model::Role::Viewer, "")
                .unwrap();
            let who = app.act_as("li@example.org").unwrap();
            assert_eq!(
                who.principal.role_in("euaa"),
                Some(nansen_model::Role::Editor)
            );
            assert_eq!(
                who.principal.role_in("iom"),
                Some(nansen_model::Role::Viewer)
            );
            assert!(matches!(
                app.add_org(&who, "x", "X"),
                Err(AppError::Forbidden(_))
            ));
            assert!(matches!(
                app.add_org(&op, "euaa", "again"),
                Err(AppError::Conflict(_))
            ));
        }
    }

    #[test]
    fn web_sessions_are_stored_as_hashes_expire_and_end() {
        for (t, app) in apps() {
            let op = Caller::operator();
            app.add_org(&op, "euaa", "EUAA").unwrap();
            app.add_user(
                &op,
                "ana@euaa.eu",
                "euaa",
                nansen_model::Role::Analyst,
                "correct horse battery",
            )
            .unwrap();
            assert!(matches!(
                app.start_session("ana@euaa.eu", "wrong"),
                Err(AppError::Unauthorized)
            ));
            let (secret, csrf, who) = app
                .start_session("ANA@euaa.eu", "correct horse battery")
                .unwrap();
            assert_eq!(who.label, "ana@euaa.eu");
            let (again, form_token) = app.session(&secret).unwrap();
            assert_eq!(
                (again.label.as_str(), form_token.as_str()),
                ("ana@euaa.eu", csrf.as_str()),
                "{}",
                t.name
            );
            let stored = t.store.query("SELECT id_hash FROM sessions", &[]).unwrap();
            assert_ne!(
                stored[0].get::<String>("id_hash").unwrap(),
                secret,
                "{}: the secret itself is never stored",
                t.name
            );
            app.end_session(&secret).unwrap();
            assert!(
                matches!(app.session(&secret), Err(AppError::Unauthorized)),
                "{}: an ended session is gone",
                t.name
            );
            let (secret, _, _) = app
                .start_session("ana@euaa.eu", "correct horse battery")
                .unwrap();
            t.store
                .query(
                    "UPDATE sessions SET expires_at = '2000-01-01T00:00:00Z'",
                    &[],
                )
                .unwrap();
            assert!(
                matches!(app.session(&secret), Err(AppError::Unauthorized)),
                "{}: an expired session is gone",
                t.name
            );
            assert!(matches!(
                app.session("not a session"),
                Err(AppError::Unauthorized)
            ));
        }
    }

    #[test]
    fn an_organisations_admin_manages_its_own_members_and_no_one_elses() {
        for (t, app) in apps() {
            let op = Caller::operator();
            app.add_org(&op, "euaa", "EUAA").unwrap();
            app.add_org(&op, "iom", "IOM").unwrap();
            app.add_user(
                &op,
                "boss@euaa.eu",
                "euaa",
                nansen_model::Role::Admin,
                "correct horse battery",
            )
            .unwrap();
            app.add_user(
                &op,
                "boss@iom.int",
                "iom",
                nansen_model::Role::Admin,
                "correct horse battery",
            )
            .unwrap();
            let boss = app.act_as("boss@euaa.eu").unwrap();
            let password = app
                .set_member(
                    &boss,
                    "New@euaa.eu",
                    "euaa",
                    (nansen_model::Role::Editor, false),
                )
                .unwrap();
            let password = password.expect("a new account gets a password, shown once");
            assert!(app.sign_in("new@euaa.eu", &password).is_ok(), "{}", t.name);
            assert_eq!(
                app.set_member(
                    &boss,
                    "new@euaa.eu",
                    "euaa",
                    (nansen_model::Role::Viewer, false)
                )
                .unwrap(),
                None,
                "an existing account keeps its password"
            );
            let members: Vec<(String, nansen_model::Role)> = app
                .members(&boss)
                .unwrap()
                .into_iter()
                .map(|m| (m.email, m.role))
                .collect();
            assert_eq!(
                members,
                [
                    ("boss@euaa.eu".into(), nansen_model::Role::Admin),
                    ("new@euaa.eu".into(), nansen_model::Role::Viewer)
                ],
                "{}: only euaa's members",
                t.name
            );
            app.set_member(
                &boss,
                "new@euaa.eu",
                "euaa",
                (nansen_model::Role::Caseworker, true),
            )
            .unwrap();
            assert!(
                app.members(&boss)
                    .unwrap()
                    .iter()
                    .any(|m| m.email == "new@euaa.eu" && m.supervisor),
                "{}: an admin makes a caseworker a supervisor",
                t.name
            );
            assert!(
                matches!(
                    app.set_member(
                        &boss,
                        "new@euaa.eu",
                        "euaa",
                        (nansen_model::Role::Analyst, true)
                    ),
                    Err(AppError::BadRequest(_))
                ),
                "{}: an analyst approves no moves",
                t.name
            );
            app.set_member(
                &boss,
                "new@euaa.eu",
                "euaa",
                (nansen_model::Role::Viewer, false),
            )
            .unwrap();
            assert!(
                matches!(
                    app.set_member(
                        &boss,
                        "x@iom.int",
                        "iom",
                        (nansen_model::Role::Admin, false)
                    ),
                    Err(AppError::Forbidden(_))
                ),
                "{}",
                t.name
            );
            assert!(matches!(
                app.remove_member(&boss, "boss@iom.int", "iom"),
                Err(AppError::Forbidden(_))
            ));
            assert!(
                matches!(
                    app.remove_member(&boss, "boss@euaa.eu", "euaa"),
                    Err(AppError::BadRequest(_))
                ),
                "an admin does not remove themself"
            );
            let analyst = app.act_as("new@euaa.eu").unwrap();
            assert!(matches!(app.members(&analyst), Err(AppError::Forbidden(_))));
            assert!(
                matches!(
                    app.add_org(&boss, "bamf", "BAMF"),
                    Err(AppError::Forbidden(_))
                ),
                "organisations are for operators"
            );
            app.set_operator(&op, "boss@euaa.eu", true).unwrap();
            let boss = app.act_as("boss@euaa.eu").unwrap();
            app.add_org(&boss, "bamf", "BAMF").unwrap();
            assert_eq!(
                app.members(&boss).unwrap().len(),
                3,
                "an operator sees every organisation's members"
            );
            app.remove_member(&boss, "new@euaa.eu", "euaa").unwrap();
            assert!(
                app.act_as("new@euaa.eu")
                    .unwrap()
                    .principal
                    .role_in("euaa")
                    .is_none(),
                "{}",
                t.name
            );
            let actions: Vec<String> = app
                .audit_log(&op)
                .unwrap()
                .into_iter()
                .map(|e| e.action)
                .collect();
            assert!(
                actions.contains(&"membership.remove".to_string())
                    && actions.contains(&"user.operator".to_string()),
                "{actions:?}"
            );
        }
    }
}
