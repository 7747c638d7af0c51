//! The edge client against canned answers over a real socket.

use super::*;

#[test]
fn base_url_and_token_are_checked() {
    let new = |url: &str, token: &str| EdgeClient::new(url.into(), token.into());
    assert!(new("http://127.0.0.1:9", "t0k3n").is_ok());
    assert!(new("https://edge.example/api", "t0k3n").is_ok());
    for (url, token) in [
        ("not a url", "t"),
        ("ftp://edge.example", "t"),
        ("mailto:x@example.com", "t"),
        ("http://edge.example", ""),
        ("http://edge.example", "with space"),
        ("http://edge.example", "line\nbreak"),
    ] {
        assert!(
            matches!(new(url, token), Err(EdgeError::Configuration { .. })),
            "{url} {token:?}"
        );
    }
}

#[test]
fn paths_join_under_the_base_path() {
    let client = EdgeClient::new("https://edge.example/api".into(), "t".into()).unwrap();
    assert_eq!(
        client.base_url.join("v1/hospitals").unwrap().as_str(),
        "https://edge.example/api/v1/hospitals"
    );
    assert!(!format!("{client:?}").contains("\"t\""));
}

#[test]
fn rejections_keep_code_or_fall_back_to_status() {
    let body = br#"{"code":"consent_refused","message":"the patient refused consent"}"#;
    assert_eq!(
        rejected(StatusCode::FORBIDDEN, body),
        EdgeError::Rejected {
            status: 403,
            code: "consent_refused".into(),
            message: "the patient refused consent".into()
        }
    );
    assert_eq!(
        rejected(StatusCode::BAD_GATEWAY, b"<html>proxy</html>"),
        EdgeError::Rejected {
            status: 502,
            code: "http_502".into(),
            message: "Bad Gateway".into()
        }
    );
}

#[tokio::test]
async fn identity_challenges_are_posted_with_the_token_and_decoded() {
    use myna_domain::identity::ChallengeId;

    use crate::test_support::{Exchange, FakeEdge};

    let expires_at = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let issued =
        IdentityChallenge::new(ChallengeId(uuid::Uuid::from_u128(5)), &[7; 32], expires_at);
    let fake = FakeEdge::start(vec![
        Exchange {
            expect: "POST /v1/identity-challenges".into(),
            status: 201,
            body: serde_json::to_string(&issued).unwrap(),
        },
        Exchange {
            expect: "POST /v1/identity-challenges".into(),
            status: 401,
            body: r#"{"code":"unauthorized","message":"missing or unknown credentials"}"#.into(),
        },
    ])
    .await;
    let client = EdgeClient::new(fake.base_url.clone(), "tablet-token".into()).unwrap();
    let challenge = client.identity_challenge().await.unwrap();
    assert_eq!(challenge, issued);
    assert_eq!(challenge.challenge().unwrap(), [7; 32]);
    assert_eq!(
        client.identity_challenge().await,
        Err(EdgeError::Rejected {
            status: 401,
            code: "unauthorized".into(),
            message: "missing or unknown credentials".into()
        })
    );
    let received = fake.received();
    assert_eq!(received.len(), 2);
    assert_eq!(
        received[0].authorization.as_deref(),
        Some("Bearer tablet-token")
    );
    assert_eq!(received[0].body, "");
}

#[tokio::test]
async fn log_checkpoint_and_proof_are_fetched_with_bounds() {
    use crate::test_support::{Exchange, FakeEdge};

    let note = "myna.example/log\n3\nAAAA\n\n— myna.example/log sig\n";
    let proof = ConsistencyProofDto {
        from: 2,
        to: 3,
        hashes: vec!["aGFzaA==".into()],
    };
    let get = |path: &str, status: u16, body: String| Exchange {
        expect: format!("GET {path}"),
        status,
        body,
    };
    let fake = FakeEdge::start(vec![
        get("/v1/log/checkpoint", 200, note.into()),
        get(
            "/v1/log/proof/consistency?from=2&to=3",
            200,
            serde_json::to_string(&proof).unwrap(),
        ),
        get(
            "/v1/log/checkpoint",
            200,
            "<html>sign in to Wi-Fi</html>".into(),
        ),
        get(
            "/v1/log/checkpoint",
            200,
            "x".repeat(MAX_CHECKPOINT_BYTES + 1),
        ),
        get(
            "/v1/log/proof/consistency?from=5&to=3",
            400,
            r#"{"code":"proof_range_invalid","message":"from is after to"}"#.into(),
        ),
    ])
    .await;
    let client = EdgeClient::new(fake.base_url.clone(), "tablet-token".into()).unwrap();
    assert_eq!(client.log_checkpoint().await.unwrap(), note);
    assert_eq!(client.consistency_proof(2, 3).await.unwrap(), proof);
    for _ in 0..2 {
        assert!(matches!(
            client.log_checkpoint().await,
            Err(EdgeError::InvalidResponse { .. })
        ));
    }
    assert!(matches!(
        client.consistency_proof(5, 3).await,
        Err(EdgeError::Rejected { status: 400, ref code, .. }) if code == "proof_range_invalid"
    ));
    assert_eq!(fake.received().len(), 5);
}

#[test]
fn a_pinned_ca_must_be_a_certificate() {
    let ca = rcgen::CertificateParams::new(vec![])
        .unwrap()
        .self_signed(&rcgen::KeyPair::generate().unwrap())
        .unwrap();
    let pinned = |der: Vec<u8>| {
        EdgeClient::with_root_certificate("https://127.0.0.1:9".into(), "t".into(), der)
    };
    assert!(pinned(ca.der().to_vec()).is_ok());
    for der in [vec![], b"not DER".to_vec(), ca.pem().into_bytes()] {
        assert!(
            matches!(pinned(der), Err(EdgeError::Configuration { .. })),
            "accepted a broken CA"
        );
    }
    assert!(matches!(
        EdgeClient::with_root_certificate("ftp://x".into(), "t".into(), ca.der().to_vec()),
        Err(EdgeError::Configuration { .. })
    ));
}

#[test]
fn a_client_certificate_must_be_a_certificate_and_key() {
    let ca = rcgen::CertificateParams::new(vec![])
        .unwrap()
        .self_signed(&rcgen::KeyPair::generate().unwrap())
        .unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec![])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let with = |cert: &str, key: &str| {
        EdgeClient::with_client_certificate(
            "https://127.0.0.1:9".into(),
            "t".into(),
            ca.der().to_vec(),
            cert,
            key,
        )
    };
    assert!(with(&leaf.pem(), &key.serialize_pem()).is_ok());
    for (cert, key) in [
        (String::new(), key.serialize_pem()),
        (leaf.pem(), String::new()),
        ("garbage".to_string(), "garbage".to_string()),
    ] {
        assert!(
            matches!(with(&cert, &key), Err(EdgeError::Configuration { .. })),
            "accepted a broken identity"
        );
    }
}

#[tokio::test]
async fn unreachable_server_is_reported_as_such() {
    let client = EdgeClient::new("http://127.0.0.1:9".into(), "t".into()).unwrap();
    assert!(matches!(
        client.hospitals().await,
        Err(EdgeError::Unreachable { .. })
    ));
}
