//! Money and date bounds over HTTP: quotes, cover dates, claim reserves within the policy's
//! remaining limit, overflow as a conflict, and one replay rule for recorded payments.

use crate::client::*;
use crate::products::{filing, insurers, registered};
use axum::http::StatusCode;
use kebao_domain::user::Role;
use kebao_service::authz::Actor;
use kebao_service::users::NewUserInput;
use serde_json::json;

/// The largest amount there is: i64::MAX fen.
const MAX_YUAN: &str = "92233720368547758.07";

fn detail(r: &Resp) -> (String, String) {
    let j = r.json();
    let d = &j["error"]["details"][0];
    (d["field"].as_str().unwrap_or_default().to_owned(), d["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn amounts_and_dates_are_bounded_and_payment_replays_answer_alike() {
    let app = app().await;
    insurers(&app).await;
    let op = Actor::System { name: "t".into() };
    let ins = app.svc.org_id_by_uscc(&op, &uscc(31)).await.unwrap().unwrap();
    let input =
        NewUserInput { username: "claims.b".into(), display_name: "理赔员".into(), password: PW.into() };
    app.svc.add_user(&op, &ins, &input, &[Role::ClaimsHandler, Role::Underwriter]).await.unwrap();
    let mut c = Client::new(&app);
    let filer = c.token("filer").await;
    let zone = c.token("reviewer").await;
    let id = registered(&mut c, &filer, &zone, filing("rd_liability", "研发责任险", "1000000", "0")).await;
    let plan = json!({"effective_from": "2026-01-01", "plan": {"basis": "limit", "base": "0.01",
        "min_premium_yuan": 1000, "underwriting": {"auto_accept_max_limit_yuan": 1000000}}});
    c.json("POST", &format!("/api/v1/filings/{id}/rating-plans"), Some(&filer), plan).await;
    let ent = c.token("ent.admin").await;
    let quote = format!("/api/v1/products/{id}/quote");
    let apply = format!("/api/v1/products/{id}/apply");

    // Quotes: 422 naming the field, in both languages.
    for (body, field, code) in [
        (json!({"limit_yuan": "500000", "revenue_yuan": "-1"}), "revenue_yuan", "negative"),
        (
            json!({"limit_yuan": "500000", "deductible_yuan": "500000"}),
            "deductible_yuan",
            "deductible_not_below_limit",
        ),
        (json!({"limit_yuan": MAX_YUAN}), "limit_yuan", "too_large"),
    ] {
        let r = c.json("POST", &quote, Some(&ent), body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert_eq!(detail(&r), (field.to_owned(), code.to_owned()), "{}", r.text());
        let d = &r.json()["error"]["details"][0];
        assert!(
            !d["message_zh"].as_str().unwrap().is_empty() && !d["message_en"].as_str().unwrap().is_empty()
        );
        let r = c.json("POST", &apply, Some(&ent), json!({"quote": body, "start_date": "2026-12-01"})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    }
    // Cover dates: 9999-12-31 does not bind.
    let r = c
        .json(
            "POST",
            &apply,
            Some(&ent),
            json!({"quote": {"limit_yuan": "500000"}, "start_date": "9999-12-31"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(detail(&r), ("start_date".to_owned(), "too_far_ahead".to_owned()));
    // Limit 500,000 yuan, deductible 10,000: 490,000 can be paid.
    let r = c
        .json(
            "POST",
            &apply,
            Some(&ent),
            json!({"quote": {"limit_yuan": "500000", "deductible_yuan": "10000"}, "start_date": "2026-11-28"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let policy = c.get_auth("/api/v1/policies", &ent).await.json()[0]["id"].as_str().unwrap().to_owned();

    // A claim above the limit is accepted; the page states the cap in both languages.
    let r = c
        .json(
            "POST",
            &format!("/api/v1/policies/{policy}/claims"),
            Some(&ent),
            json!({"loss_date": "2026-11-28", "description": "研发样机起火，第三方受损", "claimed_yuan": "800000"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let claim = r.json()["id"].as_str().unwrap().to_owned();
    let mut e = Client::new(&app);
    e.login("ent.admin", PW).await;
    let page = e.get(&format!("/claims/{claim}")).await.text();
    assert!(page.contains("id=\"claim-cap\">490,000.00") && page.contains("赔付以此为限"), "{page}");
    let page = e.get(&format!("/claims/{claim}?lang=en")).await.text();
    assert!(page.contains("payment is capped at this amount"), "{page}");

    // The attacker's reserve is refused with the field and the cap; a normal one works after.
    let h = c.token("claims.b").await;
    let steps = format!("/api/v1/claims/{claim}/steps");
    assert_eq!(c.json("POST", &steps, Some(&h), json!({"step": "assign"})).await.status, StatusCode::OK);
    let r = c.json("POST", &steps, Some(&h), json!({"step": "reserve", "amount_yuan": MAX_YUAN})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(detail(&r), ("amount_yuan".to_owned(), "above_limit".to_owned()));
    assert!(r.text().contains("490,000.00"), "{}", r.text());
    let r = c.json("POST", &steps, Some(&h), json!({"step": "reserve", "amount_yuan": "490000"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = c.json("POST", &steps, Some(&h), json!({"step": "decide", "outcome": "pay"})).await;
    assert_eq!((r.status, r.json()["decided_yuan"].as_str()), (StatusCode::OK, Some("490000.00")));

    // Replays: the same reference and content answers 200 with the same result; the same
    // reference with another amount is a 409 — for premium and for claim payments alike.
    let prem = format!("/api/v1/policies/{policy}/premium-payments");
    let first = c.json("POST", &prem, Some(&h), json!({"amount_yuan": "1000", "reference": "B-1"})).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    let again = c.json("POST", &prem, Some(&h), json!({"amount_yuan": "1000", "reference": "B-1"})).await;
    assert_eq!(
        (again.status, again.json()["paid_yuan"].clone()),
        (StatusCode::OK, first.json()["paid_yuan"].clone())
    );
    let other = c.json("POST", &prem, Some(&h), json!({"amount_yuan": "999", "reference": "B-1"})).await;
    assert_eq!(other.status, StatusCode::CONFLICT, "{}", other.text());
    assert_eq!(detail(&other), ("reference".to_owned(), "exists_with_different_amount".to_owned()));
    let pay = json!({"step": "pay", "amount_yuan": "490000", "reference": "C-1"});
    let first = c.json("POST", &steps, Some(&h), pay.clone()).await;
    assert_eq!((first.status, first.json()["status"].as_str()), (StatusCode::OK, Some("closed")));
    let again = c.json("POST", &steps, Some(&h), pay).await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "a replay after closing answers as the first time: {}",
        again.text()
    );
    assert_eq!(again.json()["paid_yuan"], first.json()["paid_yuan"]);
    let other = c
        .json("POST", &steps, Some(&h), json!({"step": "pay", "amount_yuan": "1", "reference": "C-1"}))
        .await;
    assert_eq!(other.status, StatusCode::CONFLICT, "{}", other.text());

    // An amount that would overflow the insurer's cash is a 409 with a clear code, not a 500.
    let r = c.json("POST", &prem, Some(&h), json!({"amount_yuan": MAX_YUAN, "reference": "B-2"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(detail(&r).1, "amount_overflow");
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("overflow"));
    assert!(app.svc.ledger_verify().await.unwrap().problems.is_empty());
}
