//! Page sessions: a signed-in user's token stays on the server, in memory, under a random
//! session id; the browser holds only that id (an HttpOnly, SameSite=Strict cookie). Each
//! session has its own CSRF token for the forms. Sessions end at sign-out, after
//! [`IDLE`] without a request, or once the token is revoked.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::RngCore;
use store::Role;

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "al_sessie";
/// The cookie of the sign-in form's CSRF token (there is no session yet).
pub(crate) const SIGN_IN_CSRF_COOKIE: &str = "al_csrf";

/// A session ends after this long without a request.
const IDLE: Duration = Duration::from_secs(8 * 60 * 60);
/// At most this many sessions are kept; the least recently used goes first.
const MAX_SESSIONS: usize = 10_000;

/// A random secret of 32 bytes, as 64 hex digits.
pub(crate) fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Compares two secrets in time independent of where they first differ (`subtle`); only a
/// difference in length shows, and every secret of the pages has the same length.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// One signed-in browser. Deliberately not `Debug`: the token must never reach a log.
pub(crate) struct Session {
    token: String,
    pub(crate) csrf: String,
    pub(crate) actor: String,
    pub(crate) role: Role,
    last_seen: Instant,
}

impl Session {
    pub(crate) fn token(&self) -> &str {
        &self.token
    }
}

/// What a page needs to know of its session (no token).
#[derive(Clone)]
pub(crate) struct SessionView {
    pub(crate) id: String,
    pub(crate) csrf: String,
    pub(crate) actor: String,
    pub(crate) role: Role,
    pub(crate) token: String,
}

impl std::fmt::Debug for SessionView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionView")
            .field("actor", &self.actor)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// Every open session of this server.
#[derive(Default)]
pub(crate) struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Opens a session for a checked token and returns its id.
    pub(crate) fn open(&self, token: String, actor: String, role: Role) -> String {
        let id = random_secret();
        let session = Session {
            token,
            csrf: random_secret(),
            actor,
            role,
            last_seen: Instant::now(),
        };
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, s| s.last_seen.elapsed() < IDLE);
        if map.len() >= MAX_SESSIONS {
            if let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        map.insert(id.clone(), session);
        id
    }

    /// The live session with this id, marked as used now.
    pub(crate) fn get(&self, id: &str) -> Option<SessionView> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let expired = map.get(id)?.last_seen.elapsed() >= IDLE;
        if expired {
            map.remove(id);
            return None;
        }
        let session = map.get_mut(id)?;
        session.last_seen = Instant::now();
        Some(SessionView {
            id: id.to_owned(),
            csrf: session.csrf.clone(),
            actor: session.actor.clone(),
            role: session.role,
            token: session.token().to_owned(),
        })
    }

    /// Ends a session (sign-out, or its token was revoked).
    pub(crate) fn close(&self, id: &str) {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_found_by_its_id_until_closed() {
        let sessions = Sessions::default();
        let id = sessions.open("secret".into(), "Sanne".into(), Role::Secretary);
        let view = sessions.get(&id).expect("open");
        assert_eq!(view.actor, "Sanne");
        assert_eq!(view.token, "secret");
        assert_ne!(view.csrf, id);
        assert!(!format!("{view:?}").contains("secret"));
        sessions.close(&id);
        assert!(sessions.get(&id).is_none());
        assert!(sessions.get("not-an-id").is_none());
    }

    #[test]
    fn secrets_compare_exactly() {
        let a = random_secret();
        assert_eq!(a.len(), 64);
        assert!(same_secret(&a, &a.clone()));
        assert!(!same_secret(&a, &random_secret()));
        assert!(!same_secret(&a, ""));
    }
}
