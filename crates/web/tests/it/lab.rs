//! The risk lab's model registry through the pages and the API: an upload, the model's page,
//! the uploader refused as approver, a second person approving; wrong files refused.

use crate::client::{app, hidden, Client, PW};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};

fn glm_file() -> String {
    serde_json::json!({
        "schema": "kebao.rating_plan/1", "family": "poisson", "power": null, "link": "log",
        "response": "Defaults", "exposure": null, "base": 0.01,
        "factors": [{"name": "Stage", "reference": "rnd", "levels": [
            {"level": "rnd", "coefficient": 0.0, "relativity": 1.0},
            {"level": "market", "coefficient": -0.2, "relativity": 0.818731}]}],
        "numeric": [],
        "fit": {"n_obs": 900, "deviance": 321.5, "null_deviance": 340.0, "df_residual": 898,
                "aic": 700.0, "dispersion": 1.0, "l2": 0.0}
    })
    .to_string()
}

fn multipart(fields: &[(&str, &str)], file: &[u8]) -> (String, Vec<u8>) {
    let b = "----kebaolabboundary";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(
            format!("--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    body.extend(
        format!("--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"model.json\"\r\nContent-Type: application/json\r\n\r\n")
            .as_bytes(),
    );
    body.extend(file);
    body.extend(format!("\r\n--{b}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={b}"), body)
}

#[tokio::test]
async fn a_model_is_uploaded_on_the_page_and_approved_by_a_second_person() {
    let app = app().await;
    let op = kebao_service::authz::Actor::System { name: "test".into() };
    let banker = app.svc.actor_for(app.svc.find_user("banker").await.unwrap()).await.unwrap();
    let bank = banker.org_id().unwrap().to_owned();
    let input = kebao_service::users::NewUserInput {
        username: "bank.checker".into(),
        display_name: "复核人".into(),
        password: PW.into(),
    };
    app.svc.add_user(&op, &bank, &input, &[kebao_domain::user::Role::OrgAdmin]).await.unwrap();

    let mut b = Client::new(&app);
    b.login("banker", PW).await;
    let page = b.get("/lab").await;
    assert_eq!(page.status, StatusCode::OK);
    let t = page.text();
    assert!(t.contains("风险实验室") && t.contains("href=\"/lab\""), "the menu leads here");
    let csrf = hidden(&t, "csrf");
    // A GLM file uploaded as a scorecard is refused on the page, nothing stored.
    let (ct, body) =
        multipart(&[("csrf", &csrf), ("kind", "scorecard"), ("name", "违约频率")], glm_file().as_bytes());
    let r =
        b.send(Request::post("/lab").header(header::CONTENT_TYPE, ct).body(Body::from(body)).unwrap()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("该文件是广义线性模型（费率），不是评分卡"), "{}", r.text());
    assert!(app.svc.models(&banker).await.unwrap().is_empty());
    // Uploaded as what it is: its page shows the fit and the relativities; no approve button for
    // the uploader, and the step refused if tried.
    let (ct, body) =
        multipart(&[("csrf", &csrf), ("kind", "glm"), ("name", "违约频率")], glm_file().as_bytes());
    let r =
        b.send(Request::post("/lab").header(header::CONTENT_TYPE, ct).body(Body::from(body)).unwrap()).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let id = app.svc.models(&banker).await.unwrap()[0].id.clone();
    let t = b.get(&format!("/lab/models/{id}")).await.text();
    for want in ["违约频率", "待审批", "321.50", "0.8187", "SHA-256"] {
        assert!(t.contains(want), "{want}: {t}");
    }
    assert!(!t.contains("id=\"model-approve\""));
    let r = b.post_form(&format!("/lab/models/{id}/approve"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("上传模型的人不能批准自己的模型"));

    // The second person approves on the page.
    let mut k = Client::new(&app);
    k.login("bank.checker", PW).await;
    let t = k.get(&format!("/lab/models/{id}")).await.text();
    assert!(t.contains("id=\"model-approve\""));
    let csrf = hidden(&t, "csrf");
    let r = k.post_form(&format!("/lab/models/{id}/approve"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(k.get(&format!("/lab/models/{id}")).await.text().contains("已批准使用"));

    // The API: the bank's list, the zone's view of every institution, a wrong kind refused.
    let token = b.token("banker").await;
    let l = b.get_auth("/api/v1/lab/models", &token).await;
    assert_eq!(l.status, StatusCode::OK);
    assert_eq!(l.json()[0]["status"], "approved");
    let one = b.get_auth(&format!("/api/v1/lab/models/{id}"), &token).await.json();
    assert_eq!(one["contents"]["kind"], "glm");
    let (ct, body) = multipart(&[("kind", "glm"), ("name", "x")], b"{\"schema\": \"kebao.scorecard/1\"}");
    let r = b
        .send(
            Request::post("/api/v1/lab/models")
                .header(header::CONTENT_TYPE, ct)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("wrong_kind"));
    let mut z = Client::new(&app);
    let zone = z.token("regulator").await;
    assert_eq!(z.get_auth("/api/v1/lab/models", &zone).await.json().as_array().unwrap().len(), 1);
    let mut e = Client::new(&app);
    let ent = e.token("ent.admin").await;
    assert_eq!(e.get_auth("/api/v1/lab/models", &ent).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_bank_extracts_its_loans_on_the_page_and_a_fit_without_outcomes_fails_with_its_reason() {
    use kebao_service::jobs::JobRunner;
    let app = app().await;
    let mut b = Client::new(&app);
    b.login("banker", PW).await;
    let t = b.get("/lab").await.text();
    assert!(t.contains("提取经验数据") && t.contains("贷款结果"), "a bank is offered its loans only");
    assert!(!t.contains("value=\"claims\""), "a bank is not offered claims");
    let csrf = hidden(&t, "csrf");

    // No purpose; personal lines asked for loans: refused on the page, nothing queued.
    let r = b.post_form("/lab/extracts", &[("csrf", &csrf), ("kind", "loans"), ("purpose", " ")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("请写明提取用途"), "{}", r.text());
    let r = b
        .post_form(
            "/lab/extracts",
            &[("csrf", &csrf), ("kind", "loans"), ("purpose", "授信"), ("include_personal", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(JobRunner::new(app.svc.clone()).run_once().await.unwrap().is_none());

    // Queued, run, listed with its basis and purpose; the file downloads as CSV.
    let r = b
        .post_form(
            "/lab/extracts",
            &[("csrf", &csrf), ("kind", "loans"), ("purpose", "2027 年科技贷准入评分")],
        )
        .await;
    assert_eq!(r.location(), "/lab?done=extract_queued#jobs", "{}", r.text());
    let t = b.get("/lab?done=extract_queued").await.text();
    assert!(t.contains("提取任务已排队") && t.contains("排队中"), "the job is shown queued");
    let ended = JobRunner::new(app.svc.clone()).run_once().await.unwrap().unwrap();
    assert_eq!(ended.state, kebao_domain::job::JobState::Succeeded, "{:?}", ended.failure);
    let t = b.get("/lab").await.text();
    assert!(t.contains("2027 年科技贷准入评分") && t.contains("本机构自有业务"), "{t}");
    let href = t.split("href=\"/lab/extracts/").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let file = b.get(&format!("/lab/extracts/{href}")).await;
    assert_eq!(file.status, StatusCode::OK);
    assert!(file.text().starts_with("loan_ref,applied_year,scheme,"));
    let extract_id = href.trim_end_matches("/file").to_owned();

    // A fit from it: the demo bank has no ended loans, so the job fails and says why.
    let r = b
        .post_form(
            "/lab/fits",
            &[("csrf", &csrf), ("extract_id", &extract_id), ("name", "准入评分"), ("variable", "rnd_ratio")],
        )
        .await;
    assert_eq!(r.location(), "/lab?done=fit_queued#jobs", "{}", r.text());
    let ended = JobRunner::new(app.svc.clone()).run_once().await.unwrap().unwrap();
    assert_eq!(ended.state, kebao_domain::job::JobState::Failed);
    let t = b.get("/lab").await.text();
    assert!(t.contains("拟合未能完成") && t.contains("同时有违约和正常结清"), "the reason, in Chinese: {t}");
    assert!(!t.contains("both outcomes"));

    // The API: the same extract listed; an insurer's claims asked by the bank is refused.
    let token = b.token("banker").await;
    let list = b.get_auth("/api/v1/lab/extracts", &token).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.json()[0]["basis"], "own_book");
    let r = b
        .json(
            "POST",
            "/api/v1/lab/extracts",
            Some(&token),
            serde_json::json!({"kind": "claims", "purpose": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["details"][0]["code"], "no_basis", "{}", r.text());
    let r = b
        .json(
            "POST",
            "/api/v1/lab/extracts",
            Some(&token),
            serde_json::json!({"kind": "loans", "purpose": "复核"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    assert_eq!(r.json()["state"], "queued");
}
