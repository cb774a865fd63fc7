//! Consent, credit reports, proofs and API keys over HTTP.

use crate::client::*;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use kebao_service::authz::Actor;
use serde_json::json;

fn consent_form(
    csrf: Option<&str>,
    grantee: &str,
    scopes: &[&str],
    purpose: &str,
    evidence: Option<&[u8]>,
) -> (String, Vec<u8>) {
    let b = "----kebaoconsent";
    let mut body = Vec::new();
    let mut field = |k: &str, v: &str| {
        body.extend(
            format!("--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    };
    if let Some(t) = csrf {
        field("csrf", t);
    }
    field("grantee_id", grantee);
    for s in scopes {
        field("scopes", s);
    }
    field("purpose", purpose);
    field("valid_from", "2026-11-28");
    field("expires_on", "2027-05-28");
    field("signer_name", "张伟");
    field("signer_title", "法定代表人");
    if let Some(e) = evidence {
        body.extend(format!("--{b}\r\nContent-Disposition: form-data; name=\"evidence\"; filename=\"授权书.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").as_bytes());
        body.extend(e);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{b}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={b}"), body)
}

async fn bank_id(app: &App) -> String {
    app.svc.org_id_by_uscc(&Actor::System { name: "t".into() }, &uscc(2)).await.unwrap().unwrap()
}

#[tokio::test]
async fn consent_report_access_log_and_proof_through_the_api() {
    let app = app().await;
    let bank = bank_id(&app).await;
    let mut c = Client::new(&app);
    let ent = c.token("ent.admin").await;
    let banker = c.token("banker").await;
    let report = format!("/api/v1/credit-reports/{}?purpose=loan_review", app.enterprise);
    // No consent yet: 403, and no purpose: 422.
    assert_eq!(c.get_auth(&report, &banker).await.status, StatusCode::FORBIDDEN);
    let r = c.get_auth(&format!("/api/v1/credit-reports/{}", app.enterprise), &banker).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["details"][0]["field"], "purpose");
    // The enterprise grants; a consent without its evidence is refused.
    let (ct, body) = consent_form(None, &bank, &["profile", "financial_facts"], "loan_review", None);
    let req = |ct: String, body: Vec<u8>, t: &str| {
        Request::post("/api/v1/consents")
            .header(header::CONTENT_TYPE, ct)
            .header(header::AUTHORIZATION, format!("Bearer {t}"))
            .body(Body::from(body))
            .unwrap()
    };
    assert_eq!(c.send(req(ct, body, &ent)).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let (ct, body) =
        consent_form(None, &bank, &["profile", "financial_facts"], "loan_review", Some(b"%PDF-1.7 signed"));
    assert_eq!(c.send(req(ct.clone(), body.clone(), &banker)).await.status, StatusCode::FORBIDDEN);
    let r = c.send(req(ct, body, &ent)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let consent = r.json();
    assert_eq!(
        (consent["state"].as_str(), consent["purpose"].as_str()),
        (Some("valid"), Some("loan_review"))
    );
    // The bank reads the allowed scopes; the facts show on the org page under the purpose.
    let r = c.get_auth(&report, &banker).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let rep = r.json();
    let sections = rep["sections"].as_array().unwrap();
    let allowed: Vec<&str> =
        sections.iter().filter(|s| s["allowed"] == true).map(|s| s["scope"].as_str().unwrap()).collect();
    assert_eq!(allowed, vec!["profile", "financial_facts"]);
    assert!(r.text().contains("987654321") || r.text().contains("9,876,543.21"));
    let org =
        c.get_auth(&format!("/api/v1/orgs/{}?purpose=loan_review", app.enterprise), &banker).await.json();
    assert_eq!(org["facts_basis"], "consent");
    assert!(c.get_auth(&format!("/api/v1/orgs/{}", app.enterprise), &banker).await.json()["facts"].is_null());
    // The enterprise sees the read and gets a proof that verifies offline.
    let log = c.get_auth(&format!("/api/v1/orgs/{}/access-log", app.enterprise), &ent).await.json();
    let seq = rep["event_seq"].as_u64().unwrap();
    let entry = log.as_array().unwrap().iter().find(|e| e["seq"].as_u64() == Some(seq)).unwrap();
    assert_eq!(entry["consent_id"], consent["id"]);
    assert_eq!(
        c.get_auth(&format!("/api/v1/orgs/{}/access-log", app.enterprise), &banker).await.status,
        StatusCode::FORBIDDEN
    );
    let p = c.get_auth(entry["proof_url"].as_str().unwrap(), &ent).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text());
    let proof: kebao_domain::merkle::InclusionProof = serde_json::from_slice(&p.body).unwrap();
    let heads = c.get("/api/v1/transparency/tree-heads").await.json();
    let key_hex = heads["public_key"].as_str().unwrap();
    let mut key = [0u8; 32];
    hex::decode_to_slice(key_hex, &mut key).unwrap();
    proof.verify(None, Some(&key)).unwrap();
    let published: kebao_domain::merkle::PublishedHead =
        serde_json::from_value(heads["tree_heads"][0].clone()).unwrap();
    proof.verify(Some(&published), Some(&key)).unwrap();
    // A stranger gets no proof of someone else's event.
    let mut other = Client::new(&app);
    let reg = other.token("regulator").await;
    assert_eq!(other.get_auth(entry["proof_url"].as_str().unwrap(), &reg).await.status, StatusCode::OK);
    assert_eq!(c.get(entry["proof_url"].as_str().unwrap()).await.status, StatusCode::NOT_FOUND);
    // Consistency between sizes.
    let r = c.get(&format!("/api/v1/transparency/consistency?first=3&second={}", published.tree_size)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        c.get("/api/v1/transparency/consistency?first=9&second=3").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Revocation.
    let r = c
        .json(
            "POST",
            &format!("/api/v1/consents/{}/revoke", consent["id"].as_str().unwrap()),
            Some(&ent),
            json!({}),
        )
        .await;
    assert_eq!(r.json()["state"], "revoked");
    assert_eq!(c.get_auth(&report, &banker).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn api_keys_are_scoped_and_rate_limited() {
    let app = app().await;
    let mut c = Client::new(&app);
    let token = c.token("banker").await;
    let bad = c
        .json(
            "POST",
            "/api/v1/api-keys",
            Some(&token),
            json!({"name": "loan system", "scopes": ["everything"], "rate_per_minute": 0}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["error"]["details"].as_array().unwrap().len(), 2);
    let r = c
        .json(
            "POST",
            "/api/v1/api-keys",
            Some(&token),
            json!({"name": "loan system", "scopes": ["products:read"], "rate_per_minute": 2}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let key = r.json()["key"].as_str().unwrap().to_owned();
    assert_eq!(c.get_auth("/api/v1/products", &key).await.status, StatusCode::OK);
    let r = c.get_auth("/api/v1/orgs", &key).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["error"]["code"], "scope_missing");
    let r = c.json("POST", "/api/v1/filings", Some(&key), json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(c.get_auth("/api/v1/product-types", &key).await.status, StatusCode::OK);
    let r = c.get_auth("/api/v1/products", &key).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.json()["error"]["code"], "rate_limited");
    // The user's own token is not limited by the key.
    assert_eq!(c.get_auth("/api/v1/orgs", &token).await.status, StatusCode::OK);
}

#[tokio::test]
async fn consent_pages_grant_show_a_receipt_and_revoke() {
    let app = app().await;
    let bank = bank_id(&app).await;
    let mut e = Client::new(&app);
    e.login("ent.admin", PW).await;
    let csrf = e.csrf().await;
    let page = e.get("/consents").await.text();
    assert!(page.contains("id=\"grant\"") && page.contains("汉江银行光谷支行"));
    // A bad form shows the errors and keeps the input.
    let (ct, body) = consent_form(Some(&csrf), &bank, &[], "loan_review", Some(b"%PDF-1.7"));
    let r = e
        .send(Request::post("/consents").header(header::CONTENT_TYPE, ct).body(Body::from(body)).unwrap())
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("请至少选择一项数据范围"), "{}", r.text());
    let (ct, body) = consent_form(Some("forged"), &bank, &["profile"], "loan_review", Some(b"%PDF-1.7"));
    let r = e
        .send(Request::post("/consents").header(header::CONTENT_TYPE, ct).body(Body::from(body)).unwrap())
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let (ct, body) =
        consent_form(Some(&csrf), &bank, &["profile", "loans"], "loan_review", Some(b"%PDF-1.7"));
    let r = e
        .send(Request::post("/consents").header(header::CONTENT_TYPE, ct).body(Body::from(body)).unwrap())
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let receipt = e.get(&r.location()).await.text();
    assert!(receipt.contains("贷款审查") && receipt.contains("汉江银行光谷支行") && receipt.contains("有效"));
    // The bank opens the report from its consents.
    let mut b = Client::new(&app);
    b.login("banker", PW).await;
    let list = b.get("/consents").await.text();
    let link = format!("/credit/{}?purpose=loan_review", app.enterprise);
    assert!(list.contains(&link.replace('&', "&amp;")) || list.contains(&link), "{list}");
    let rep = b.get(&link).await;
    assert_eq!(rep.status, StatusCode::OK);
    assert!(rep.text().contains("未提供") && rep.text().contains("光谷激光科技有限公司"));
    // The enterprise sees it under "who looked at my data"; it revokes.
    assert!(e.get("/my-data").await.text().contains("汉江银行光谷支行"));
    let id = r.location().trim_start_matches("/consents/").to_owned();
    let r = e.post_form(&format!("/consents/{id}/revoke"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(e.get(&format!("/consents/{id}")).await.text().contains("已撤回"));
    assert_eq!(b.get(&link).await.status, StatusCode::FORBIDDEN);
    // The published heads are public.
    app.svc.sign_tree_head().await.unwrap();
    let t = Client::new(&app).get("/transparency").await.text();
    assert!(t.contains("id=\"public-key\"") && t.contains("<td class=\"num\">"));
}
