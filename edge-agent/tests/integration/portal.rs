//! The patient portal: each patient sees their own history and nothing else, a page at a
//! time, filtered, checked against the signed log, and can report an entry.

use std::collections::HashSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use edge_agent::app;
use http_body_util::BodyExt;
use myna_domain::transparency::{LogVerifier, hash_from_base64, leaf_hash, verify_inclusion};
use myna_domain::wire::proof_hashes;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::*;

const OFFICER: &str = "dev-privacy-officer-token";
const OSAKA_DEVICE: &str = "dev-device-token-3";
const GIVEN: &str = r#"{"decision":"given"}"#;
const UNCONSCIOUS: &str = r#"{"decision":"difficult","reason":{"kind":"unconscious"}}"#;

async fn sign_in(edge: &TestEdge, patient: &str) -> String {
    let (status, body) = edge
        .call(
            Method::POST,
            "/portal/v1/dev-sign-in",
            None,
            Some(format!(r#"{{"patient_id":"{patient}"}}"#)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().unwrap().to_string()
}

/// One viewed summary (one access record) of seeded patient `index` by the tablet `device`.
async fn view_by(edge: &TestEdge, device: &str, index: u64, consent: &str) {
    let incident = open_with_consent(edge, device, index, consent).await;
    let (status, body) = edge
        .get(&format!("/v1/incidents/{incident}/summary"), device)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn view(edge: &TestEdge, index: u64) {
    view_by(edge, DEVICE, index, GIVEN).await;
}

fn entries(history: &Value) -> &Vec<Value> {
    history["entries"].as_array().expect("entries")
}

fn leaves(history: &Value) -> Vec<u64> {
    entries(history)
        .iter()
        .map(|e| e["leaf_index"].as_u64().unwrap())
        .collect()
}

/// A browser request with the session cookie; returns status, body text and `Location`.
async fn browse(
    edge: &TestEdge,
    method: Method,
    path: &str,
    session: &str,
    headers: &[(&str, &str)],
    form: Option<&str>,
) -> (StatusCode, String, Option<String>) {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("cookie", format!("portal_session={session}"));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    if form.is_some() {
        req = req.header("content-type", "application/x-www-form-urlencoded");
    }
    let req = req
        .body(
            form.map(|f| Body::from(f.to_string()))
                .unwrap_or_else(Body::empty),
        )
        .unwrap();
    let response = app(edge.state.clone()).oneshot(req).await.unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap(), location)
}

#[tokio::test]
async fn portal_patients_see_only_their_own_history() {
    let edge = TestEdge::new();
    let (a, b) = (carded_patient(0), carded_patient(1));
    for index in [a, b, b] {
        view(&edge, index).await;
    }
    let token_a = sign_in(&edge, &patient_id(a)).await;
    let token_b = sign_in(&edge, &patient_id(b)).await;
    let (status, history_a) = edge.get("/portal/v1/history", &token_a).await;
    assert_eq!(status, StatusCode::OK);
    let (_, history_b) = edge.get("/portal/v1/history", &token_b).await;
    assert_eq!(entries(&history_a).len(), 1);
    assert_eq!(entries(&history_b).len(), 2);
    let entry = &entries(&history_a)[0];
    assert_eq!(entry["institution"], "東京消防庁 Tokyo Fire Department");
    assert_eq!(entry["institution_id"], "fd-tokyo");
    assert_eq!(entry["role"], "paramedic");
    assert_eq!(entry["outcome"]["type"], "disclosed");
    assert_eq!(entry["without_consent"], false);
    assert!(
        !entry.to_string().contains("crew-0042") && entry.get("staff_id").is_none(),
        "staff ids are not shown to patients: {entry}"
    );

    // B's entry through A's session: the same 404 as an id that does not exist.
    let b_entry = entries(&history_b)[0]["access_id"]
        .as_str()
        .unwrap()
        .to_string();
    let unknown = uuid::Uuid::new_v4().to_string();
    for id in [b_entry.as_str(), unknown.as_str(), "not-a-uuid"] {
        for suffix in ["proof", "audit-event"] {
            let path = format!("/portal/v1/history/{id}/{suffix}");
            let (status, body) = edge.get(&path, &token_a).await;
            assert_eq!(
                (status, body["code"].as_str()),
                (StatusCode::NOT_FOUND, Some("access_not_found")),
                "{path}"
            );
        }
        let (status, body) = edge
            .call(
                Method::POST,
                &format!("/portal/v1/history/{id}/flag"),
                Some(&token_a),
                None,
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("access_not_found"))
        );
    }
    // Nothing of B's was flagged by A's attempts.
    let (_, queue) = edge.get("/v1/review-queue", OFFICER).await;
    assert_eq!(queue["items"].as_array().unwrap().len(), 0);

    // A device token is not a portal session, and no token gets nothing.
    assert_eq!(
        edge.get("/portal/v1/history", DEVICE).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        edge.call(Method::GET, "/portal/v1/history", None, None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn portal_unknown_patient_cannot_sign_in() {
    let edge = TestEdge::new();
    let (status, body) = edge
        .call(
            Method::POST,
            "/portal/v1/dev-sign-in",
            None,
            Some(r#"{"patient_id":"P9999999"}"#.into()),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_patient"))
    );
}

#[tokio::test]
async fn portal_history_pages_newest_first_without_gaps_or_duplicates() {
    let edge = TestEdge::new();
    let (me, other) = (carded_patient(0), carded_patient(1));
    for n in 0..23 {
        view(&edge, me).await;
        if n % 4 == 0 {
            view(&edge, other).await; // interleaved: my leaves are not contiguous
        }
    }
    let token = sign_in(&edge, &patient_id(me)).await;

    // Default page size 20, then the rest.
    let (_, first) = edge.get("/portal/v1/history", &token).await;
    assert_eq!(entries(&first).len(), 20);
    let cursor = first["next_before"].as_u64().expect("a next page");
    assert_eq!(cursor, *leaves(&first).last().unwrap());
    let (_, last) = edge
        .get(&format!("/portal/v1/history?before={cursor}"), &token)
        .await;
    assert_eq!(entries(&last).len(), 3);
    assert!(last["next_before"].is_null(), "{}", last["next_before"]);

    // Walking pages of 5 gives every entry once, newest first.
    let mut walked = Vec::new();
    let mut path = "/portal/v1/history?limit=5".to_string();
    let mut pages = 0;
    loop {
        let (status, page) = edge.get(&path, &token).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(entries(&page).len() <= 5);
        walked.extend(leaves(&page));
        pages += 1;
        match page["next_before"].as_u64() {
            Some(next) => path = format!("/portal/v1/history?limit=5&before={next}"),
            None => break,
        }
    }
    assert_eq!(pages, 5);
    let mine: Vec<u64> = edge
        .access_log()
        .iter()
        .enumerate()
        .filter(|(_, r)| r.patient.as_ref().map(|p| p.0.clone()) == Some(patient_id(me)))
        .map(|(leaf, _)| leaf as u64)
        .rev()
        .collect();
    assert_eq!(mine.len(), 23);
    assert_eq!(walked, mine, "every entry once, newest first");
    let mut first_and_last = leaves(&first);
    first_and_last.extend(leaves(&last));
    assert_eq!(first_and_last, mine);
}

#[tokio::test]
async fn portal_filters_by_japan_date_and_institution() {
    let edge = TestEdge::new();
    let me = carded_patient(0);
    // 2026-11-25 03:00 UTC = 12:00 JST on the 25th.
    view(&edge, me).await;
    // 16:00 UTC on the 25th = 01:00 JST on the 26th.
    edge.clock.advance(chrono::Duration::hours(13));
    view_by(&edge, OSAKA_DEVICE, me, GIVEN).await;
    // 2026-11-27 16:00 UTC = 01:00 JST on the 28th.
    edge.clock.advance(chrono::Duration::days(2));
    view(&edge, me).await;
    let token = sign_in(&edge, &patient_id(me)).await;
    let get = |query: &'static str| {
        let (edge, token) = (&edge, &token);
        async move {
            let (status, body) = edge
                .get(&format!("/portal/v1/history?{query}"), token)
                .await;
            assert_eq!(status, StatusCode::OK, "{query}: {body}");
            leaves(&body)
        }
    };
    assert_eq!(get("").await, vec![2, 1, 0]);
    assert_eq!(get("from=2026-11-25&to=2026-11-25").await, vec![0]);
    assert_eq!(get("from=2026-11-26&to=2026-11-26").await, vec![1]);
    assert_eq!(get("from=2026-11-26").await, vec![2, 1]);
    assert_eq!(get("to=2026-11-27").await, vec![1, 0]);
    assert_eq!(
        get("from=2026-11-27&to=2026-11-27").await,
        Vec::<u64>::new()
    );
    assert_eq!(get("institution=fd-osaka").await, vec![1]);
    assert_eq!(get("institution=fd-tokyo&from=2026-11-26").await, vec![2]);
    assert_eq!(get("institution=hosp-none").await, Vec::<u64>::new());

    let (_, history) = edge.get("/portal/v1/history?limit=1", &token).await;
    let ids: Vec<&str> = history["institutions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "every institution of the whole history");
    assert!(ids.contains(&"fd-osaka") && ids.contains(&"fd-tokyo"));

    // The page offers them and keeps the filter in its links.
    let (status, html, _) = browse(
        &edge,
        Method::GET,
        "/portal?lang=en&institution=fd-tokyo&limit=1",
        &token,
        &[],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"<option value="fd-osaka">"#), "{html}");
    assert!(
        html.contains(r#"<option value="fd-tokyo" selected>"#),
        "{html}"
    );
    assert!(
        html.contains("/portal?lang=en&amp;institution=fd-tokyo&amp;limit=1&amp;before=2"),
        "{html}"
    );
}

#[tokio::test]
async fn portal_bad_query_values_are_4xx_json() {
    let edge = TestEdge::new();
    let me = carded_patient(0);
    view(&edge, me).await;
    let token = sign_in(&edge, &patient_id(me)).await;
    for (query, code) in [
        ("limit=0", "invalid_limit"),
        ("limit=101", "invalid_limit"),
        ("limit=ten", "invalid_limit"),
        ("before=-3", "invalid_cursor"),
        ("before=x", "invalid_cursor"),
        ("from=2026-02-30", "invalid_date"),
        ("to=25/11/2026", "invalid_date"),
        ("from=2026-11-26&to=2026-11-25", "invalid_date_range"),
        ("institution=fd%20tokyo", "invalid_institution"),
        ("limit=1&limit=2", "invalid_query"),
    ] {
        let (status, body) = edge
            .get(&format!("/portal/v1/history?{query}"), &token)
            .await;
        assert!(status.is_client_error(), "{query}: {status}");
        assert_eq!(body["code"].as_str(), Some(code), "{query}: {body}");
    }
    // Empty values, as an empty form sends them, are no filter.
    let (status, body) = edge
        .get("/portal/v1/history?from=&to=&institution=&lang=en", &token)
        .await;
    assert_eq!((status, entries(&body).len()), (StatusCode::OK, 1));
    // The page says what is wrong, in the patient's language.
    let (status, html, _) = browse(
        &edge,
        Method::GET,
        "/portal?lang=en&from=2026-02-30",
        &token,
        &[],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Enter dates like 2026-11-25"), "{html}");
}

#[tokio::test]
async fn portal_flags_an_entry_once_and_queues_it_for_review() {
    let edge = TestEdge::new();
    let me = carded_patient(0);
    view_by(&edge, DEVICE, me, UNCONSCIOUS).await;
    view(&edge, me).await;
    let token = sign_in(&edge, &patient_id(me)).await;
    let (_, history) = edge.get("/portal/v1/history", &token).await;
    let older = &entries(&history)[1];
    assert_eq!(older["without_consent"], true);
    assert!(older["flagged_at"].is_null());
    let id = older["access_id"].as_str().unwrap().to_string();
    let flag = format!("/portal/v1/history/{id}/flag");

    let too_long = format!(r#"{{"note":"{}"}}"#, "x".repeat(501));
    let (status, body) = edge
        .call(Method::POST, &flag, Some(&token), Some(too_long))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("note_too_long"))
    );
    let (status, body) = edge
        .call(
            Method::POST,
            &flag,
            Some(&token),
            Some(r#"{"note":"I was not ill that day"}"#.into()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["already_flagged"], false);
    let first_at = body["flagged_at"].clone();
    edge.clock.advance(chrono::Duration::minutes(5));
    let (status, body) = edge.call(Method::POST, &flag, Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["already_flagged"], true);
    assert_eq!(body["flagged_at"], first_at, "the first flag is kept");

    let (_, history) = edge.get("/portal/v1/history", &token).await;
    assert_eq!(entries(&history)[1]["flagged_at"], first_at);
    assert!(entries(&history)[0]["flagged_at"].is_null());

    // The officer sees it once, without record content.
    let (status, queue) = edge.get("/v1/review-queue", OFFICER).await;
    assert_eq!(status, StatusCode::OK, "{queue}");
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{queue}");
    let item = &items[0];
    assert_eq!(item["access_id"], id.as_str());
    // Queued when it was logged (no consent), and again by the patient's flag.
    assert_eq!(
        item["queued_for"],
        json!(["difficult_consent", "patient_flag"])
    );
    assert_eq!(item["flags"][0]["code"], "patient_flag");
    assert_eq!(item["institution_id"], "fd-tokyo");
    assert_eq!(item["consent"]["state"], "difficult");
    assert_eq!(item["queued_at"], item["at"], "queued as it was logged");
    let keys: HashSet<&str> = item
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys,
        HashSet::from([
            "access_id",
            "position",
            "at",
            "queued_at",
            "institution_id",
            "institution",
            "unit",
            "device_id",
            "role",
            "action",
            "disclosed",
            "denial",
            "incident_id",
            "consent",
            "patient_id",
            "queued_for",
            "flags",
            "patient_note",
            "state",
            "outcomes",
        ])
    );
    assert_eq!(item["patient_note"], "I was not ill that day");
    assert!(queue["next_after"].is_null(), "one item, one page");
    let rows: i64 = edge
        .raw_connection()
        .query_row(
            "SELECT COUNT(*) FROM access_flags WHERE access_id = ?1 AND note = 'I was not ill that day'",
            [&id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 1);

    // Only a privacy officer reads the queue.
    assert_eq!(
        edge.call(Method::GET, "/v1/review-queue", None, None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    for (other, status) in [
        (DEVICE, StatusCode::FORBIDDEN),
        (token.as_str(), StatusCode::FORBIDDEN),
        ("dev-privacy-officer-token-2", StatusCode::UNAUTHORIZED),
    ] {
        assert_eq!(
            edge.get("/v1/review-queue", other).await.0,
            status,
            "{other}"
        );
    }
}

#[tokio::test]
async fn portal_proofs_are_pending_until_a_checkpoint_then_verified() {
    let edge = TestEdge::new();
    let me = carded_patient(0);
    view(&edge, carded_patient(1)).await;
    view(&edge, me).await;
    let token = sign_in(&edge, &patient_id(me)).await;
    let (_, history) = edge.get("/portal/v1/history", &token).await;
    assert_eq!(entries(&history)[0]["proof"], "pending");
    assert!(history["checkpoint_size"].is_null());
    let id = entries(&history)[0]["access_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, proof) = edge
        .get(&format!("/portal/v1/history/{id}/proof"), &token)
        .await;
    assert_eq!(status, StatusCode::OK, "{proof}");
    assert_eq!(proof["status"], "pending");
    assert!(proof["checkpoint"].is_null() && proof["proof"].is_null());

    edge_agent::transparency::publish(&edge.state)
        .await
        .unwrap();
    view(&edge, me).await; // after the checkpoint: not covered yet
    let (_, history) = edge.get("/portal/v1/history", &token).await;
    let statuses: Vec<&str> = entries(&history)
        .iter()
        .map(|e| e["proof"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["pending", "verified"]);
    assert_eq!(history["checkpoint_size"], 2);

    // The proof checks out independently, from the verifier key alone.
    let (_, proof) = edge
        .get(&format!("/portal/v1/history/{id}/proof"), &token)
        .await;
    assert_eq!(proof["status"], "verified");
    assert_eq!(proof["leaf_index"], 1);
    let verifier = LogVerifier::new(edge.state.log_signer.verifier_key()).unwrap();
    let checkpoint = verifier
        .open(proof["checkpoint"].as_str().unwrap())
        .unwrap();
    let leaf = hash_from_base64(proof["leaf_hash"].as_str().unwrap()).unwrap();
    let hashes: Vec<String> = serde_json::from_value(proof["proof"]["hashes"].clone()).unwrap();
    verify_inclusion(&checkpoint, 1, leaf, &proof_hashes(&hashes).unwrap()).unwrap();
    assert!(
        verify_inclusion(&checkpoint, 0, leaf, &proof_hashes(&hashes).unwrap()).is_err(),
        "the proof is for this leaf only"
    );
    // The leaf is the stored record of this access, which names the crew member and the
    // tablet; the patient gets its hash, never those ids.
    let stored: String = edge
        .state
        .store
        .read(|tx| Ok(tx.log_entry(1)?.unwrap()))
        .await
        .unwrap();
    assert_eq!(leaf, leaf_hash(stored.as_bytes()));
    let record: Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(record["id"], id.as_str());
    let staff = record["viewer"]["staff_id"].as_str().unwrap();
    let device = record["viewer"]["device_id"].as_str().unwrap();

    let (status, event) = edge
        .get(&format!("/portal/v1/history/{id}/audit-event"), &token)
        .await;
    assert_eq!(status, StatusCode::OK, "{event}");
    assert_eq!(event["resourceType"], "AuditEvent");
    assert_eq!(event["id"], id.as_str());
    for body in [proof.to_string(), event.to_string()] {
        assert!(
            !body.contains(staff) && !body.contains(device),
            "staff or device id shown to the patient: {body}"
        );
    }
}

#[tokio::test]
async fn portal_shows_failed_when_a_stored_entry_was_altered() {
    let edge = TestEdge::new();
    let me = carded_patient(0);
    view(&edge, me).await;
    view(&edge, me).await;
    edge_agent::transparency::publish(&edge.state)
        .await
        .unwrap();
    // An attacker with the database file rewrites an entry (past the append-only trigger).
    let conn = edge.raw_connection();
    conn.execute_batch(
        "DROP TRIGGER access_log_no_update;
         UPDATE access_log SET record_json = replace(record_json, 'Tokyo', 'Osaka') WHERE seq = 1;",
    )
    .unwrap();
    let token = sign_in(&edge, &patient_id(me)).await;
    let (_, history) = edge.get("/portal/v1/history", &token).await;
    let statuses: Vec<&str> = entries(&history)
        .iter()
        .map(|e| e["proof"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["verified", "failed"]);
    let (_, html, _) = browse(&edge, Method::GET, "/portal?lang=en", &token, &[], None).await;
    assert!(
        html.contains(r#"<div class="failed" role="alert">"#),
        "{html}"
    );
    assert!(html.contains("Check FAILED"), "{html}");
}

#[tokio::test]
async fn portal_page_speaks_japanese_or_english_and_reports_by_form() {
    let edge = TestEdge::new();
    let me = carded_patient(0);
    view_by(&edge, DEVICE, me, UNCONSCIOUS).await;
    for _ in 0..2 {
        view(&edge, me).await;
    }
    let token = sign_in(&edge, &patient_id(me)).await;

    let (status, en, _) = browse(
        &edge,
        Method::GET,
        "/portal?lang=en&limit=2",
        &token,
        &[],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for expected in [
        r#"<html lang="en">"#,
        r#"name="viewport""#,
        "Who viewed your medical records",
        "Japan time",
        "Tokyo Fire Department",
        "Paramedic",
        "Consent given",
        "… Pending: the log is signed every few seconds",
        "I don't recognise this",
        "Older entries →",
        "/portal?lang=en&amp;limit=2&amp;before=1",
        "/portal?lang=ja&amp;limit=2",
    ] {
        assert!(en.contains(expected), "missing {expected:?} in {en}");
    }
    assert!(
        !en.contains("crew-0042") && !en.contains("tablet-tfd"),
        "no staff or device ids"
    );
    assert!(!en.contains("心当たりがない"), "one language at a time");

    // The older page holds the break-the-glass entry.
    let (_, en_older, _) = browse(
        &edge,
        Method::GET,
        "/portal?lang=en&limit=2&before=1",
        &token,
        &[],
        None,
    )
    .await;
    assert!(
        en_older.contains("⚠ Viewed without your consent"),
        "{en_older}"
    );
    assert!(
        en_older.contains("Consent difficult: unconscious"),
        "{en_older}"
    );
    assert!(en_older.contains("← Newest entries"), "{en_older}");

    // Japanese by default and from Accept-Language; ?lang wins over the header.
    let (_, ja, _) = browse(&edge, Method::GET, "/portal", &token, &[], None).await;
    for expected in [
        r#"<html lang="ja">"#,
        "あなたの医療情報の閲覧履歴",
        "日本時間",
        "心当たりがない",
        "⚠ 同意なしで閲覧されました",
        "同意取得困難: 意識障害",
        "救急隊員",
        "確認待ち",
    ] {
        assert!(ja.contains(expected), "missing {expected:?} in {ja}");
    }
    let (_, by_header, _) = browse(
        &edge,
        Method::GET,
        "/portal",
        &token,
        &[("accept-language", "en-US,en;q=0.9")],
        None,
    )
    .await;
    assert!(by_header.contains("Who viewed your medical records"));
    let (_, forced, _) = browse(
        &edge,
        Method::GET,
        "/portal?lang=ja",
        &token,
        &[("accept-language", "en")],
        None,
    )
    .await;
    assert!(forced.contains("心当たりがない"));

    // Reporting by the form: back to the same page with a confirmation, marked reported.
    let (_, history) = edge.get("/portal/v1/history", &token).await;
    let id = entries(&history)[2]["access_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _, location) = browse(
        &edge,
        Method::POST,
        &format!("/portal/history/{id}/flag?lang=en&limit=2&before=1"),
        &token,
        &[],
        Some("note=not+me"),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = location.unwrap();
    assert_eq!(
        location,
        format!("/portal?lang=en&limit=2&before=1&reported={id}#entry-{id}")
    );
    let (_, after, _) = browse(
        &edge,
        Method::GET,
        location.split('#').next().unwrap(),
        &token,
        &[],
        None,
    )
    .await;
    assert!(after.contains("We received your report"), "{after}");
    assert!(after.contains("⚑ Reported"), "{after}");
    let (_, queue) = edge.get("/v1/review-queue", OFFICER).await;
    assert_eq!(queue["items"].as_array().unwrap().len(), 1);
    // Without a session the form leads to sign-in, and nothing is flagged.
    let (status, _, location) = browse(
        &edge,
        Method::POST,
        &format!(
            "/portal/history/{}/flag?lang=en",
            entries(&history)[0]["access_id"].as_str().unwrap()
        ),
        "expired-or-made-up",
        &[],
        Some("note="),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/portal/sign-in?lang=en"));
    let (_, queue) = edge.get("/v1/review-queue", OFFICER).await;
    assert_eq!(queue["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn portal_review_queue_pages_past_any_limit() {
    let edge = TestEdge::new();
    let me = carded_patient(0);
    for _ in 0..5 {
        view(&edge, me).await;
    }
    let token = sign_in(&edge, &patient_id(me)).await;
    let (_, history) = edge.get("/portal/v1/history", &token).await;
    for entry in entries(&history) {
        let id = entry["access_id"].as_str().unwrap();
        let (status, _) = edge
            .call(
                Method::POST,
                &format!("/portal/v1/history/{id}/flag"),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let mut seen = Vec::new();
    let mut url = "/v1/review-queue?limit=2".to_string();
    loop {
        let (status, page) = edge.get(&url, OFFICER).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|i| i["position"].as_i64().unwrap()));
        match page["next_after"].as_i64() {
            Some(after) => url = format!("/v1/review-queue?limit=2&after={after}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5, "every flag reaches the officer: {seen:?}");
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "oldest first: {seen:?}"
    );
    for bad in ["limit=0", "limit=501", "after=x"] {
        let (status, body) = edge.get(&format!("/v1/review-queue?{bad}"), OFFICER).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert!(body["code"].is_string(), "{bad}: {body}");
    }
    // The public log endpoints answer bad parameters with the same JSON errors.
    for bad in [
        "/v1/log/proof/inclusion?index=x&tree_size=1",
        "/v1/log/proof/consistency?from=1",
    ] {
        let (status, body) = edge.call(Method::GET, bad, None, None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_query")),
            "{bad}"
        );
    }
}
