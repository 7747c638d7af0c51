//! hospital-view over real TLS on loopback (`run_tls` with the development CA verifying
//! client certificates): only a certificate naming an edge delivers; tablets', hospitals',
//! foreign CAs' certificates and the bearer token are refused; browsers without a
//! certificate still sign in, with a `Secure` cookie.

use std::time::Duration;

use axum::http::StatusCode;
use chrono::Utc;
use myna_domain::client_identity::ClientIdentity;
use myna_service::dev_tls::{ClientCredentials, ClientSubject, DevTls};

use crate::{TOKEN, fixture, notice, sign_in_form};

/// A client certificate for `identity`, issued by `tls`'s CA as `name`.
fn credentials(tls: &DevTls, name: &str, identity: ClientIdentity) -> ClientCredentials {
    let subject = ClientSubject {
        organization: "test".into(),
        organizational_unit: String::new(),
        common_name: name.into(),
        uri: identity.to_uri(),
    };
    tls.client_certificate(name, &subject).expect("issue")
}

/// A client trusting only `tls`'s CA, presenting `identity` when given; no redirects
/// followed, so the sign-in redirect and its cookie can be read.
fn client(tls: &DevTls, identity: Option<&ClientCredentials>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_der(tls.ca_der()).expect("ca"))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10));
    if let Some(identity) = identity {
        let pem = format!("{}\n{}", identity.cert_pem, identity.key_pem);
        builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).expect("pem"));
    }
    builder.build().expect("client")
}

#[tokio::test]
async fn over_tls_only_the_edges_certificate_delivers_and_browsers_still_sign_in() {
    let f = fixture();
    let tls = DevTls::load_or_create(&f.dir.path().join("tls")).expect("dev tls");
    let edge = credentials(
        &tls,
        "edge",
        ClientIdentity::Edge {
            edge_id: "localhost/myna-edge/access-log".into(),
        },
    );
    let device = credentials(
        &tls,
        "tablet-1",
        ClientIdentity::Device {
            fire_department: "fd-tokyo".into(),
            unit: "Setagaya 1".into(),
            device_id: "tablet-1".into(),
        },
    );
    let hospital = credentials(
        &tls,
        "hospital-other",
        ClientIdentity::Hospital {
            hospital_id: "hosp-other".into(),
        },
    );
    // An edge certificate from another CA: the handshake refuses it.
    let foreign_tls = DevTls::load_or_create(&f.dir.path().join("foreign")).expect("dev tls");
    let foreign_edge = credentials(
        &foreign_tls,
        "edge",
        ClientIdentity::Edge {
            edge_id: "localhost/myna-edge/access-log".into(),
        },
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("https://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(hospital_view::run_tls(
        listener,
        f.state.clone(),
        tls.mtls_server_config(),
        async {
            let _ = stopped.await;
        },
    ));

    let stored = |id: u128| {
        let state = f.state.clone();
        async move {
            state
                .store()
                .run(move |s| s.contains(uuid::Uuid::from_u128(id)))
                .await
                .expect("store")
        }
    };
    let post = |client: reqwest::Client, n: u128, bearer: bool| {
        let url = format!("{base}/v1/arrivals");
        async move {
            let mut request = client.post(url).json(&notice(n, 10));
            if bearer {
                request = request.bearer_auth(TOKEN);
            }
            request.send().await
        }
    };

    // Refused: no certificate (token or not), a tablet's, another hospital's. Nothing stored.
    for (who, client, bearer) in [
        ("bearer token only", client(&tls, None), true),
        ("nothing", client(&tls, None), false),
        ("tablet certificate", client(&tls, Some(&device)), true),
        ("hospital certificate", client(&tls, Some(&hospital)), true),
    ] {
        let response = post(client, 1, bearer).await.expect("served");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{who}");
    }
    assert!(!stored(1).await, "a refused notice was stored");
    let foreign = post(client(&tls, Some(&foreign_edge)), 1, false).await;
    assert!(
        foreign.is_err(),
        "another CA's certificate got a connection"
    );
    assert!(!stored(1).await);

    // The edge's certificate: stored, once.
    let edge_client = client(&tls, Some(&edge));
    let response = post(edge_client.clone(), 1, false).await.expect("served");
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(stored(1).await);
    let again = post(edge_client.clone(), 1, false).await.expect("served");
    assert_eq!(again.status(), StatusCode::OK);

    // The withdrawal and the JSON list are edge routes too.
    let withdrawal = |client: &reqwest::Client| {
        let id = uuid::Uuid::from_u128(1);
        client
            .post(format!("{base}/v1/arrivals/{id}/withdrawal"))
            .bearer_auth(TOKEN)
            .json(&serde_json::json!({ "handoff_id": id, "at": Utc::now() }))
            .send()
    };
    let refused = withdrawal(&client(&tls, Some(&hospital))).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let listed = client(&tls, None)
        .get(format!("{base}/v1/arrivals"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), StatusCode::UNAUTHORIZED);
    let listed: serde_json::Value = edge_client
        .get(format!("{base}/v1/arrivals"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    let withdrawn = withdrawal(&edge_client).await.unwrap();
    assert_eq!(withdrawn.status(), StatusCode::OK);

    // A browser without a certificate: the dashboard sends it to sign in, the sign-in page
    // is served, and the session cookie it gets is Secure.
    let browser = client(&tls, None);
    let dashboard = browser.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(dashboard.status(), StatusCode::SEE_OTHER);
    let page = browser.get(format!("{base}/sign-in")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("<form"));
    f.clock.advance(chrono::Duration::seconds(30));
    let code = hospital_view::dev_totp_code(hospital_view::Clock::now(f.clock.as_ref()));
    let signed_in = browser
        .post(format!("{base}/sign-in"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(sign_in_form(
            "er-nurse",
            hospital_view::DEV_STAFF_PASSWORD,
            &code,
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let cookie = signed_in
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("session cookie")
        .to_string();
    assert!(cookie.contains("Secure"), "{cookie}");
    let session = cookie.split(';').next().unwrap().to_string();
    let dashboard = browser
        .get(format!("{base}/"))
        .header("cookie", session)
        .send()
        .await
        .unwrap();
    assert_eq!(dashboard.status(), StatusCode::OK);

    stop.send(()).expect("server running");
    tokio::time::timeout(Duration::from_secs(15), server)
        .await
        .expect("stops")
        .expect("not panicked")
        .expect("served");
}
