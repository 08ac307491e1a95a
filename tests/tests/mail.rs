//! The SMTP and webhook transports against real servers on loopback: aiosmtpd (run by
//! `scripts/smtp_sink.py` from the virtual environment that `scripts/test.sh` creates) and
//! an HTTP receiver started here. Each test reads the delivered message, checks its headers
//! and both parts, follows the link and checks the result.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::http::StatusCode;
use fastauth::mail::{Message, SmtpTransport, WebhookTransport};
use fastauth_tests::mail::{SmtpSink, as_message, link_of, path_of};
use fastauth_tests::{Backend, PASSWORD, TestDb, TokenPair, config, run};
use serde_json::{Value, json};

const FROM: &str = "FastAuth <noreply@localhost>";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_delivers_verification_link() {
    run(Backend::Sqlite, |db| Box::pin(smtp_verification(db))).await;
}

async fn smtp_verification(db: &TestDb) {
    let mut sink = SmtpSink::start().await;
    let transport = SmtpTransport::from_url(&sink.url(), FROM).expect("valid SMTP URL");
    let app = db
        .app(config().mail(transport).base_url("http://127.0.0.1:8000"))
        .await;
    let pair = app.register("ada@example.com").await;

    let welcome = sink.next_message().await;
    assert_eq!(welcome["subject"], json!("Welcome!"));

    let reply = app
        .post_authorized("/auth/request-verify-email", &pair.access, &json!({}))
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let delivered = sink.next_message().await;
    assert_eq!(delivered["mail_from"], json!("noreply@localhost"));
    assert_eq!(delivered["rcpt_tos"], json!(["ada@example.com"]));
    assert_eq!(delivered["from"], json!(FROM));
    assert_eq!(delivered["to"], json!("ada@example.com"));
    assert_eq!(delivered["subject"], json!("Verify your email address"));
    assert_eq!(delivered["content_type"], json!("multipart/alternative"));

    let message = as_message(&delivered);
    let link = link_of(&message);
    assert!(
        link.starts_with("http://127.0.0.1:8000/auth/verify-email?token="),
        "{link}"
    );
    let token = link.rsplit('=').next().expect("the link has a token");
    assert!(message.html.contains("<html"), "{}", message.html);
    assert!(message.html.contains(token), "{}", message.html);

    let reply = app.get_with(&path_of(&link), &[]).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(
        app.me(&pair.access).await.json["email_verified"],
        json!(true)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_failure_keeps_answer() {
    run(Backend::Sqlite, |db| Box::pin(smtp_failure(db))).await;
}

async fn smtp_failure(db: &TestDb) {
    // A port where nothing listens: every send fails.
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        probe.local_addr().expect("local address").port()
    };
    let url = format!("smtp://127.0.0.1:{port}");
    let transport = SmtpTransport::from_url(&url, FROM).expect("valid SMTP URL");
    let app = db.app(config().mail(transport)).await;
    app.register("ada@example.com").await;

    for email in ["ada@example.com", "nobody@example.com"] {
        let reply = app
            .post("/auth/forgot-password", &json!({ "email": email }))
            .await;
        assert_eq!(reply.status.as_u16(), 200, "{email}: {}", reply.text);
        assert_eq!(
            reply.json,
            json!({ "message": "If the email exists, a reset link has been sent" })
        );
    }
}

/// An HTTP server on a free loopback port that records every JSON body POSTed to it and
/// responds with `status`.
async fn start_receiver(status: StatusCode) -> (String, Arc<Mutex<Vec<Value>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let recorder = Arc::clone(&received);
    let router = axum::Router::new().route(
        "/mail",
        axum::routing::post(move |Json(body): Json<Value>| {
            let recorder = Arc::clone(&recorder);
            async move {
                recorder.lock().expect("receiver lock").push(body);
                status
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the receiver");
    let address = listener.local_addr().expect("receiver address");
    tokio::spawn(async move {
        axum::serve(listener, router)
            .await
            .expect("the receiver runs");
    });
    (format!("http://{address}/mail"), received)
}

async fn wait_for_bodies(received: &Mutex<Vec<Value>>, count: usize) -> Vec<Value> {
    for _ in 0..500 {
        let bodies = received.lock().expect("receiver lock").clone();
        if bodies.len() >= count {
            return bodies;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the webhook received fewer than {count} messages in 5 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_delivers_reset_link() {
    run(Backend::Sqlite, |db| Box::pin(webhook_reset(db))).await;
}

async fn webhook_reset(db: &TestDb) {
    let (url, received) = start_receiver(StatusCode::OK).await;
    let transport = WebhookTransport::new(&url).expect("valid webhook URL");
    let app = db.app(config().mail(transport)).await;
    let pair = app.register("ada@example.com").await;

    let reply = app
        .post(
            "/auth/forgot-password",
            &json!({ "email": "ada@example.com" }),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let bodies = wait_for_bodies(&received, 2).await;
    let body = &bodies[1];
    let mut keys: Vec<&str> = body
        .as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["body_html", "body_text", "subject", "to"]);
    assert_eq!(body["to"], json!("ada@example.com"));
    assert_eq!(body["subject"], json!("Reset your password"));
    let message = Message {
        to: "ada@example.com".to_owned(),
        subject: String::new(),
        html: body["body_html"].as_str().unwrap_or_default().to_owned(),
        text: body["body_text"].as_str().unwrap_or_default().to_owned(),
    };
    assert!(message.html.contains("<html"), "{}", message.html);
    let token = fastauth_tests::mail::token_of(&message);

    let body = json!({ "token": token, "new_password": "a brand new password" });
    let reply = app.post("/auth/reset-password", &body).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    app.me(&pair.access).await.assert_not_authenticated();
    let reply = app
        .login_with("ada@example.com", "a brand new password")
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    TokenPair::from_reply(&reply);
    app.login_with("ada@example.com", PASSWORD)
        .await
        .assert_error(401, "Invalid email or password");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_error_status_keeps_answer() {
    run(Backend::Sqlite, |db| Box::pin(webhook_error(db))).await;
}

async fn webhook_error(db: &TestDb) {
    let (url, received) = start_receiver(StatusCode::INTERNAL_SERVER_ERROR).await;
    let transport = WebhookTransport::new(&url).expect("valid webhook URL");
    let app = db.app(config().mail(transport)).await;
    app.register("ada@example.com").await;

    let reply = app
        .post(
            "/auth/magic-links/login",
            &json!({ "email": "ada@example.com" }),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    // The receiver got the message and rejected it, and the response did not change.
    let bodies = wait_for_bodies(&received, 2).await;
    assert_eq!(bodies[1]["subject"], json!("Log In to your account"));
}
