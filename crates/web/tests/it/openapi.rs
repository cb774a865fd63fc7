//! The OpenAPI document describes the API: the error envelope, one schema per name, who may
//! call what, the statuses the edge gives. Schemathesis (`.ci/schemathesis.sh`) checks the
//! same against a running server; these catch regressions in `cargo test`.

use crate::client::*;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

async fn document(c: &mut Client<'_>) -> Value {
    let r = c.get("/api/v1/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    r.json()
}

/// Every operation: (method, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            if let Some(op) = item.get(m) {
                ops.push((m.to_owned(), path.clone(), op.clone()));
            }
        }
    }
    ops
}

/// Whether an operation may be called without a token (`{}` among its requirements).
fn optional_auth(doc: &Value, op: &Value) -> bool {
    let security = op.get("security").unwrap_or(&doc["security"]);
    security.as_array().unwrap().iter().any(|r| r.as_object().unwrap().is_empty())
}

#[tokio::test]
async fn every_error_response_is_documented_as_the_envelope_it_is() {
    let app = app().await;
    let mut c = Client::new(&app);
    let doc = document(&mut c).await;
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["ErrorBody"]["required"], json!(["error"]));
    assert_eq!(schemas["ErrorBody"]["properties"]["error"]["$ref"], "#/components/schemas/ErrorInfo");
    for field in ["code", "message", "message_zh", "details"] {
        assert!(schemas["ErrorInfo"]["properties"][field].is_object(), "ErrorInfo.{field}");
    }
    // The body of an actual error is what the document says.
    let r = c.get("/api/v1/me").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let body = r.json();
    assert_eq!(body.as_object().unwrap().keys().collect::<Vec<_>>(), ["error"]);
    assert_eq!(body["error"]["code"], "unauthenticated");

    let ops = operations(&doc);
    assert!(ops.len() >= 90, "{} operations", ops.len());
    for (m, path, op) in &ops {
        let responses = op["responses"].as_object().unwrap();
        for (status, resp) in responses {
            if status.as_str() >= "400" {
                assert_eq!(
                    resp["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody",
                    "{m} {path} {status}"
                );
            }
        }
        let has = |s: &str| responses.contains_key(s);
        for s in ["401", "403", "429", "503"] {
            assert!(has(s), "{m} {path} documents {s}");
        }
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        if params.iter().any(|p| p["in"] == "path") {
            assert!(has("400") && has("404"), "{m} {path}: a bad or unknown id");
        }
        if op.get("requestBody").is_some() {
            for s in ["400", "413", "415", "422"] {
                assert!(has(s), "{m} {path} documents {s}");
            }
        }
        // A path's every `{name}` is a path parameter, and nothing else is one.
        let mut named: Vec<&str> =
            path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).collect();
        let mut declared: Vec<&str> =
            params.iter().filter(|p| p["in"] == "path").map(|p| p["name"].as_str().unwrap()).collect();
        named.sort_unstable();
        declared.sort_unstable();
        assert_eq!(named, declared, "{m} {path}");
    }
}

#[tokio::test]
async fn one_schema_per_name_and_apply_bodies_are_their_own() {
    let app = app().await;
    let mut c = Client::new(&app);
    let doc = document(&mut c).await;
    let body_schema = |path: &str| {
        let r = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap()
            .to_owned();
        let name = r.rsplit('/').next().unwrap().to_owned();
        doc["components"]["schemas"][&name]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    let policy = body_schema("/api/v1/products/{id}/apply");
    assert!(policy.contains(&"quote".to_owned()) && policy.contains(&"start_date".to_owned()), "{policy:?}");
    let subsidy = body_schema("/api/v1/subsidies");
    assert!(
        subsidy.contains(&"policy_id".to_owned()) && subsidy.contains(&"programme_id".to_owned()),
        "{subsidy:?}"
    );

    // utoipa keys schemas by name, so a second type of the same name silently replaces the
    // first in the document: look for it in the source.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            let mut derives_schema = false;
            for line in text.lines().map(str::trim) {
                if line.starts_with("#[derive(") && line.contains("ToSchema") {
                    derives_schema = true;
                } else if derives_schema && (line.starts_with("pub struct ") || line.starts_with("pub enum "))
                {
                    let name: String = line
                        .split_whitespace()
                        .nth(2)
                        .unwrap()
                        .chars()
                        .take_while(|ch| ch.is_alphanumeric() || *ch == '_')
                        .collect();
                    let at = p.display().to_string();
                    if let Some(first) = seen.insert(name.clone(), at.clone()) {
                        panic!("two schemas named `{name}`: {first} and {at}");
                    }
                    derives_schema = false;
                } else if derives_schema && line.contains("schema(as") {
                    panic!("`#[schema(as = …)]` in {}: give the type its own name instead", p.display());
                }
            }
        }
    }
    assert!(seen.contains_key("ApplyDto") && seen.contains_key("SubsidyApplyDto"));
}

/// Operations that need a token say so and refuse an anonymous caller with 401 — before they
/// read the body; the others take one optionally and answer an anonymous caller otherwise.
#[tokio::test]
async fn the_document_says_which_operations_need_a_token_and_they_do() {
    let app = app().await;
    let mut c = Client::new(&app);
    let doc = document(&mut c).await;
    let mut public = Vec::new();
    for (m, path, op) in operations(&doc) {
        let uri = path.replace("{year}", "2025").replace("{seq}", "1").replace('{', "x").replace('}', "");
        let mut req = Request::builder().method(m.to_uppercase().as_str()).uri(&uri);
        let body = if m == "get" {
            Body::empty()
        } else {
            req = req.header(header::CONTENT_TYPE, "application/json");
            // Not what the operation wants: an anonymous caller hears about the token first.
            Body::from("{\"unexpected\": true}")
        };
        let r = c.send(req.body(body).unwrap()).await;
        if optional_auth(&doc, &op) {
            assert_ne!(r.status, StatusCode::UNAUTHORIZED, "{m} {path} is public: {}", r.text());
            public.push(format!("{} {path}", m.to_uppercase()));
        } else {
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{m} {path} needs a token: {}", r.text());
            assert_eq!(r.json()["error"]["code"], "unauthenticated", "{m} {path}");
        }
    }
    for p in [
        "POST /api/v1/auth/token",
        "POST /api/v1/register",
        "GET /api/v1/industries",
        "GET /api/v1/orgs",
        "GET /api/v1/products",
        "GET /api/v1/product-types",
        "GET /api/v1/articles",
        "GET /api/v1/subsidy/programmes",
        "GET /api/v1/transparency/tree-heads",
    ] {
        assert!(public.iter().any(|x| x == p), "{p} is public");
    }
    assert!(!public.iter().any(|x| x == "GET /api/v1/me" || x == "POST /api/v1/orgs"));
}

#[tokio::test]
async fn bad_paths_and_uploads_are_400_in_the_envelope() {
    let app = app().await;
    let mut c = Client::new(&app);
    let token = c.token("ent.admin").await;
    let envelope = |r: &Resp| {
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
        assert_eq!(r.headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(r.json()["error"]["code"], "bad_request");
    };
    // Was `text/plain` "Invalid URL: Cannot parse `-1` to a `u64`".
    envelope(&c.get("/api/v1/transparency/inclusion/-1").await);
    let facts = json!({"revenue_fen": 0, "rnd_expense_fen": 0, "staff": 1, "rnd_staff": 0, "patents_granted": 0, "patents_pending": 0, "export_share_bp": 0});
    let path = format!("/api/v1/orgs/{}/facts/2147483648", app.enterprise);
    envelope(&c.json("PUT", &path, Some(&token), facts).await);
    // Was `text/plain` "Invalid `boundary` for `multipart/form-data` request".
    let r = c
        .send(
            Request::post("/api/v1/consents")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    envelope(&r);
}

#[tokio::test]
async fn integers_are_documented_with_the_range_the_server_accepts() {
    let app = app().await;
    let mut c = Client::new(&app);
    let doc = document(&mut c).await;
    // `u32`: utoipa wrote `int32` (2^31 is a valid `u32`), and no maximum.
    let staff = &doc["components"]["schemas"]["FactsDto"]["properties"]["staff"];
    assert_eq!((&staff["minimum"], &staff["maximum"]), (&json!(0), &json!(u32::MAX)), "{staff}");
    let limit = doc["paths"]["/api/v1/orgs"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .unwrap();
    assert_eq!(limit["in"], "query");
    assert_eq!(limit["schema"]["maximum"], json!(u32::MAX));
    let r = c.get("/api/v1/orgs?limit=4294967295").await;
    assert_eq!(r.status, StatusCode::OK);
    let r = c.get("/api/v1/orgs?limit=4294967296").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // No format a JSON Schema tool would not know.
    let text = doc.to_string();
    for f in ["int8\"", "int16\"", "uint", "u-int"] {
        assert!(!text.contains(f), "{f} in the document");
    }
}
