//! Staff administration (`hospital-view admin`): each command run on its own connection to
//! the database of a running service (as the command does, beside the service), then the
//! service's sign-in judged through the router.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{Duration, SubsecRound, Utc};
use hospital_view::admin::{self, Issued};
use hospital_view::staff::totp::TotpSecret;
use hospital_view::store::{Actor, Store};
use hospital_view::{AppState, Clock, Config, ManualClock, TotpKey};
use tempfile::TempDir;
use tower::ServiceExt;

use crate::{config, sign_in_form};

/// A service in production shape (no seeded staff, a configured TOTP key) and the
/// administrator's own connection to its database.
struct Running {
    _dir: TempDir,
    config: Config,
    state: AppState,
    admin: Store,
    clock: Arc<ManualClock>,
}

impl Running {
    fn start() -> Running {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            staff: Vec::new(),
            totp_key: Some(TotpKey::generate()),
            ..config(&dir)
        };
        let clock = Arc::new(ManualClock::new(Utc::now().trunc_subsecs(0)));
        let state = AppState::open_with_clock(config.clone(), clock.clone()).unwrap();
        let admin = hospital_view::open_store(&config).unwrap();
        Running {
            _dir: dir,
            config,
            state,
            admin,
            clock,
        }
    }

    fn actor(&self) -> Actor<'static> {
        Actor {
            name: "alice",
            now: self.clock.now(),
        }
    }

    fn add(&self, id: &str) -> Issued {
        admin::add(
            &self.admin,
            &self.actor(),
            &self.config.hospital_id,
            id,
            "救急 看護師",
            None,
        )
        .unwrap()
    }

    /// Signs in one TOTP step later than the last attempt, with `password` and the code of
    /// `secret` (base32) then.
    async fn sign_in(&self, id: &str, password: &str, secret: &str) -> StatusCode {
        self.clock.advance(Duration::seconds(30));
        let code = TotpSecret::from_base32(secret)
            .unwrap()
            .code_at(u64::try_from(self.clock.now().timestamp()).unwrap());
        hospital_view::app(self.state.clone())
            .oneshot(
                Request::post("/sign-in")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(sign_in_form(id, password, &code)))
                    .unwrap(),
            )
            .await
            .unwrap()
            .status()
    }
}

/// A successful sign-in redirects to the dashboard.
const SIGNED_IN: StatusCode = StatusCode::SEE_OTHER;

#[tokio::test]
async fn production_an_added_account_signs_in_and_a_disabled_one_cannot() {
    let running = Running::start();
    let issued = running.add("er-nurse-7");
    let password = issued.password.clone().unwrap();
    assert!(issued.otpauth_uri.starts_with("otpauth://totp/"));
    assert_eq!(
        running
            .sign_in("er-nurse-7", &password, &issued.totp_secret)
            .await,
        SIGNED_IN
    );
    admin::set_disabled(&running.admin, &running.actor(), "er-nurse-7", true).unwrap();
    assert_ne!(
        running
            .sign_in("er-nurse-7", &password, &issued.totp_secret)
            .await,
        SIGNED_IN,
        "a disabled account cannot sign in"
    );
    admin::set_disabled(&running.admin, &running.actor(), "er-nurse-7", false).unwrap();
    assert_eq!(
        running
            .sign_in("er-nurse-7", &password, &issued.totp_secret)
            .await,
        SIGNED_IN,
        "enabled again"
    );
    assert!(admin::set_disabled(&running.admin, &running.actor(), "nobody", true).is_err());
}

#[tokio::test]
async fn production_unlock_lets_a_locked_account_sign_in() {
    let running = Running::start();
    let issued = running.add("er-doctor-2");
    let password = issued.password.clone().unwrap();
    for _ in 0..running.config.sign_in.max_failures {
        running
            .sign_in("er-doctor-2", "wrong-password", &issued.totp_secret)
            .await;
    }
    assert_ne!(
        running
            .sign_in("er-doctor-2", &password, &issued.totp_secret)
            .await,
        SIGNED_IN,
        "locked"
    );
    let listed = running.admin.list_staff().unwrap();
    assert!(listed[0].locked_until.is_some());
    admin::unlock(&running.admin, &running.actor(), "er-doctor-2").unwrap();
    assert_eq!(
        running
            .sign_in("er-doctor-2", &password, &issued.totp_secret)
            .await,
        SIGNED_IN,
        "unlocked"
    );
}

#[tokio::test]
async fn production_reset_totp_invalidates_the_old_code() {
    let running = Running::start();
    let issued = running.add("er-nurse-8");
    let password = issued.password.clone().unwrap();
    let reset = admin::reset_totp(
        &running.admin,
        &running.actor(),
        &running.config.hospital_id,
        "er-nurse-8",
    )
    .unwrap();
    assert_ne!(reset.totp_secret, issued.totp_secret);
    assert_ne!(
        running
            .sign_in("er-nurse-8", &password, &issued.totp_secret)
            .await,
        SIGNED_IN,
        "the old secret's code is refused"
    );
    assert_eq!(
        running
            .sign_in("er-nurse-8", &password, &reset.totp_secret)
            .await,
        SIGNED_IN
    );
}

#[tokio::test]
async fn production_admin_actions_are_recorded_with_the_actor_and_never_rewritten() {
    let running = Running::start();
    running.add("er-nurse-9");
    let bob = Actor {
        name: "bob",
        now: running.clock.now(),
    };
    admin::set_disabled(&running.admin, &bob, "er-nurse-9", true).unwrap();
    admin::set_disabled(&running.admin, &bob, "er-nurse-9", false).unwrap();
    admin::unlock(&running.admin, &bob, "er-nurse-9").unwrap();
    admin::reset_totp(&running.admin, &bob, "h", "er-nurse-9").unwrap();
    // A refused action (no such account) records nothing.
    assert!(admin::unlock(&running.admin, &bob, "nobody").is_err());
    let actions: Vec<(String, String, String)> = running
        .state
        .store()
        .admin_actions()
        .unwrap()
        .into_iter()
        .map(|a| (a.actor, a.action, a.staff_id))
        .collect();
    let expected = [
        ("alice", "add"),
        ("bob", "disable"),
        ("bob", "enable"),
        ("bob", "unlock"),
        ("bob", "reset-totp"),
    ]
    .map(|(who, what)| (who.to_string(), what.to_string(), "er-nurse-9".to_string()));
    assert_eq!(actions, expected);
    let conn = rusqlite::Connection::open(running.config.database_path()).unwrap();
    assert!(
        conn.execute("UPDATE admin_actions SET actor = 'mallory'", [])
            .is_err()
    );
    assert!(conn.execute("DELETE FROM admin_actions", []).is_err());
}
