//! Staff sign-in: password and TOTP code together, replay, lockout with backoff, session
//! expiry (idle and absolute) and stale accounts, on the fixture's manual clock.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use hospital_view::{AppState, Clock, DEV_STAFF_PASSWORD, ManualClock, SignInPolicy};
use tower::ServiceExt;

use crate::{Fixture, config, fixture, sign_in_form};

/// The outcome of one `POST /sign-in`.
struct SignIn {
    status: StatusCode,
    cookie: Option<String>,
    body: String,
}

async fn sign_in(state: &AppState, staff_id: &str, password: &str, code: &str) -> SignIn {
    let response = hospital_view::app(state.clone())
        .oneshot(
            Request::post("/sign-in")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(sign_in_form(staff_id, password, code)))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string());
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    SignIn {
        status,
        cookie,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn code_at(t: DateTime<Utc>) -> String {
    hospital_view::dev_totp_code(t)
}

/// A code that is not the one for `t` or either neighbouring step.
fn wrong_code(t: DateTime<Utc>) -> String {
    let used: Vec<String> = [-30, 0, 30]
        .iter()
        .map(|s| code_at(t + Duration::seconds(*s)))
        .collect();
    (0..4u32)
        .map(|n| format!("{:06}", 123_456 + n))
        .find(|c| !used.contains(c))
        .unwrap()
}

/// Signs in as the nurse with the right password and the current code.
async fn nurse(f: &Fixture) -> SignIn {
    f.clock.advance(Duration::seconds(30));
    sign_in(
        &f.state,
        "er-nurse",
        DEV_STAFF_PASSWORD,
        &code_at(f.clock.now()),
    )
    .await
}

/// The status of `GET uri` with `cookie`.
async fn get_status(state: &AppState, uri: &str, cookie: &str) -> StatusCode {
    hospital_view::app(state.clone())
        .oneshot(
            Request::get(uri)
                .header(header::COOKIE, cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap()
        .status()
}

fn with_policy(policy: SignInPolicy) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Utc::now().trunc_subsecs(0)));
    let state = AppState::open_with_clock(
        hospital_view::Config {
            sign_in: policy,
            ..config(&dir)
        },
        clock.clone(),
    )
    .unwrap();
    Fixture { dir, state, clock }
}

#[tokio::test]
async fn a_wrong_or_missing_code_is_refused_like_a_wrong_password() {
    let f = fixture();
    let now = f.clock.now();
    let wrong_code = sign_in(&f.state, "er-nurse", DEV_STAFF_PASSWORD, &wrong_code(now)).await;
    let no_code = sign_in(&f.state, "er-nurse", DEV_STAFF_PASSWORD, "").await;
    let wrong_password = sign_in(&f.state, "er-nurse", "wrong-password", &code_at(now)).await;
    let unknown = sign_in(&f.state, "er-nobody", DEV_STAFF_PASSWORD, &code_at(now)).await;
    for refused in [&wrong_code, &no_code, &wrong_password, &unknown] {
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        assert!(refused.cookie.is_none());
        // One message whatever was wrong.
        assert_eq!(refused.body, wrong_code.body);
    }
    assert!(wrong_code.body.contains("Sign-in refused"));
    assert_eq!(nurse(&f).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_code_signs_in_once() {
    let f = fixture();
    let code = code_at(f.clock.now());
    let first = sign_in(&f.state, "er-nurse", DEV_STAFF_PASSWORD, &code).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert!(first.cookie.is_some());
    let replay = sign_in(&f.state, "er-nurse", DEV_STAFF_PASSWORD, &code).await;
    assert_eq!(
        replay.status,
        StatusCode::UNAUTHORIZED,
        "the same code again"
    );
    assert!(replay.cookie.is_none());
    // The previous step's code is older than the one used: refused too.
    let previous = code_at(f.clock.now() - Duration::seconds(30));
    let earlier = sign_in(&f.state, "er-nurse", DEV_STAFF_PASSWORD, &previous).await;
    assert_eq!(earlier.status, StatusCode::UNAUTHORIZED);
    // The next step's code is accepted (clock drift of one step).
    let next = code_at(f.clock.now() + Duration::seconds(30));
    let ahead = sign_in(&f.state, "er-nurse", DEV_STAFF_PASSWORD, &next).await;
    assert_eq!(ahead.status, StatusCode::SEE_OTHER);
    // Another account's use of the step is its own.
    let doctor = sign_in(&f.state, "er-doctor", DEV_STAFF_PASSWORD, &code).await;
    assert_eq!(doctor.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn five_failures_lock_the_account_then_the_lock_doubles() {
    let f = fixture();
    let account = |f: &Fixture| {
        f.state
            .store()
            .staff_account("er-nurse")
            .unwrap()
            .expect("stored")
    };
    for n in 1..=5 {
        f.clock.advance(Duration::seconds(30));
        let now = f.clock.now();
        let refused = if n % 2 == 0 {
            sign_in(&f.state, "er-nurse", "wrong-password", &code_at(now)).await
        } else {
            sign_in(&f.state, "er-nurse", DEV_STAFF_PASSWORD, &wrong_code(now)).await
        };
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        assert_eq!(account(&f).status.failed_attempts, n);
    }
    let locked_at = f.clock.now();
    assert_eq!(
        account(&f).status.locked_until,
        Some(locked_at + Duration::minutes(15))
    );
    // Locked: the right password and code are refused, and not counted as a success.
    assert_eq!(nurse(&f).await.status, StatusCode::UNAUTHORIZED);
    // (`nurse` moves the clock 30 s on first: this tries 1 s before the lock ends.)
    f.clock
        .set(locked_at + Duration::minutes(15) - Duration::seconds(31));
    assert_eq!(nurse(&f).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(account(&f).status.failed_attempts, 5, "refused unchecked");

    // The lock ends; one more failure locks again, for twice as long.
    f.clock.set(locked_at + Duration::minutes(15));
    let now = f.clock.now();
    let sixth = sign_in(&f.state, "er-nurse", "wrong-password", &code_at(now)).await;
    assert_eq!(sixth.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        account(&f).status.locked_until,
        Some(now + Duration::minutes(30))
    );
    f.clock.advance(Duration::minutes(29));
    assert_eq!(nurse(&f).await.status, StatusCode::UNAUTHORIZED);
    f.clock.advance(Duration::minutes(1));
    let back = nurse(&f).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "the lock has ended");
    let after = account(&f);
    assert_eq!(
        after.status.failed_attempts, 0,
        "a success resets the count"
    );
    assert_eq!(after.status.locked_until, None);
    assert_eq!(after.status.last_active, f.clock.now());
}

#[tokio::test]
async fn sessions_end_after_two_idle_hours_and_after_twelve_hours_in_any_case() {
    let f = fixture();
    let cookie = nurse(&f).await.cookie.expect("session");
    f.clock.advance(Duration::hours(2) - Duration::seconds(1));
    assert_eq!(get_status(&f.state, "/", &cookie).await, StatusCode::OK);
    // Used just now: another 2 h from here.
    f.clock.advance(Duration::hours(2) - Duration::seconds(1));
    assert_eq!(get_status(&f.state, "/", &cookie).await, StatusCode::OK);
    f.clock.advance(Duration::hours(2));
    assert_eq!(
        get_status(&f.state, "/", &cookie).await,
        StatusCode::SEE_OTHER,
        "idle for 2 h: back to the sign-in page"
    );
    assert_eq!(
        get_status(&f.state, "/events", &cookie).await,
        StatusCode::UNAUTHORIZED
    );

    // Used every hour, a session still ends 12 h after sign-in.
    let cookie = nurse(&f).await.cookie.expect("session");
    let signed_in = f.clock.now();
    for hour in 1..12 {
        f.clock.set(signed_in + Duration::hours(hour));
        assert_eq!(
            get_status(&f.state, "/", &cookie).await,
            StatusCode::OK,
            "{hour} h"
        );
    }
    f.clock.set(signed_in + Duration::hours(12));
    assert_eq!(
        get_status(&f.state, "/events", &cookie).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get_status(&f.state, "/", &cookie).await,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn an_account_unused_for_ninety_days_is_disabled_at_sign_in() {
    let f = fixture();
    assert_eq!(nurse(&f).await.status, StatusCode::SEE_OTHER);
    f.clock.advance(Duration::days(89));
    assert_eq!(
        nurse(&f).await.status,
        StatusCode::SEE_OTHER,
        "89 days: fine"
    );
    f.clock.advance(Duration::days(90));
    let stale = nurse(&f).await;
    assert_eq!(stale.status, StatusCode::UNAUTHORIZED);
    let account = f.state.store().staff_account("er-nurse").unwrap().unwrap();
    assert!(account.status.disabled);
    // Disabled stays disabled, with the right credentials and a fresh code.
    assert_eq!(nurse(&f).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_sweep_disables_stale_accounts_and_ends_their_sessions() {
    let f = with_policy(SignInPolicy {
        stale_after: Duration::hours(1),
        ..SignInPolicy::default()
    });
    let cookie = nurse(&f).await.cookie.expect("session");
    f.clock.advance(Duration::minutes(50));
    assert_eq!(f.state.sweep_stale_staff().await.unwrap(), 0);
    assert_eq!(get_status(&f.state, "/", &cookie).await, StatusCode::OK);
    // The doctor never signed in (counted from creation), the nurse 60 min ago.
    f.clock.advance(Duration::minutes(10));
    assert_eq!(f.state.sweep_stale_staff().await.unwrap(), 2);
    assert_eq!(
        get_status(&f.state, "/", &cookie).await,
        StatusCode::SEE_OTHER,
        "the disabled account's session ended"
    );
    let code = code_at(f.clock.now() + Duration::seconds(30));
    let doctor = sign_in(&f.state, "er-doctor", DEV_STAFF_PASSWORD, &code).await;
    assert_eq!(doctor.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn seeded_accounts_store_an_argon2id_hash_and_survive_a_restart() {
    let f = fixture();
    let account = f.state.store().staff_account("er-doctor").unwrap().unwrap();
    assert!(account.password_phc.starts_with("$argon2id$"));
    assert!(!account.password_phc.contains(DEV_STAFF_PASSWORD));
    let cookie = nurse(&f).await.cookie.expect("session");
    let (dir, clock) = (f.dir, f.clock);
    drop(f.state);
    let state = crate::open(&dir, &clock);
    let again = state.store().staff_account("er-doctor").unwrap().unwrap();
    assert_eq!(again.password_phc, account.password_phc, "not re-seeded");
    assert_eq!(get_status(&state, "/", &cookie).await, StatusCode::OK);
}

#[test]
fn short_seed_passwords_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut short = config(&dir);
    short.staff[0].password = "short".into();
    assert!(AppState::open(short).is_err());
}
