//! Attachments: the one multipart upload reader and the one download response for every
//! file the platform keeps (product, claim and subsidy documents, consent evidence).

use crate::error::ApiError;
use axum::extract::Multipart;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use kebao_domain::attachment::Attachment;
use kebao_domain::Invalid;

/// Reads the `file` field of a multipart upload, and the `csrf` field (the UI's forms).
pub(crate) async fn read_upload(multipart: Multipart) -> Result<(String, Vec<u8>, String), ApiError> {
    read_upload_with(multipart, &[]).await.map(|(name, bytes, csrf, _)| (name, bytes, csrf))
}

/// [`read_upload`], and the text fields named in `extra` (other fields are read and
/// dropped; the request body is bounded as every body is).
pub(crate) async fn read_upload_with(
    mut multipart: Multipart,
    extra: &[&str],
) -> Result<(String, Vec<u8>, String, Vec<(String, String)>), ApiError> {
    let mut found = None;
    let mut csrf = String::new();
    let mut fields = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(upload_error(e.status(), &e.body_text())),
        };
        match field.name() {
            Some("file") => {
                let name = field.file_name().unwrap_or_default().to_owned();
                let bytes = field.bytes().await.map_err(|e| upload_error(e.status(), &e.body_text()))?;
                found = Some((name, bytes.to_vec()));
            }
            Some("csrf") => {
                csrf = field.text().await.map_err(|e| upload_error(e.status(), &e.body_text()))?;
            }
            Some(name) if extra.contains(&name) => {
                let name = name.to_owned();
                let text = field.text().await.map_err(|e| upload_error(e.status(), &e.body_text()))?;
                fields.push((name, text));
            }
            _ => {
                let _ = field.bytes().await;
            }
        }
    }
    found.map(|(n, b)| (n, b, csrf, fields)).ok_or_else(|| {
        ApiError::invalid(vec![crate::error::ErrorDetail {
            field: "file".into(),
            code: "required".into(),
            message_zh: "请选择要上传的文件".into(),
            message_en: "choose a file to upload (multipart field `file`)".into(),
        }])
    })
}

fn upload_error(status: StatusCode, text: &str) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        // Cut off at the body limit: the file's real size is not known, only that it is over.
        let f = kebao_domain::attachment::over_limit();
        let mut e = ApiError::new(status, "too_large", f.message_en.clone(), f.message_zh.clone());
        e.body.details = crate::error::details_of(&Invalid(vec![f]));
        e
    } else {
        ApiError::bad_request(text.to_owned())
    }
}

/// The one download response of every attachment (product, claim and subsidy documents,
/// consent evidence): its media type, a safe `Content-Disposition`, its SHA-256, no sniffing.
pub(crate) fn attachment_response(doc: &Attachment, body: Vec<u8>) -> Response {
    // Cleaned again: names stored before uploads were cleaned of bidi controls may hold them.
    let name = kebao_domain::attachment::clean_file_name(&doc.file_name);
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '_' }).collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'.' {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, doc.media_type.clone()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"),
            ),
            (header::HeaderName::from_static("x-content-sha256"), doc.sha256.clone()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// An upload refused for its size is a 413 (the body limit's status), not a 422.
pub(crate) fn too_large_is_413(e: kebao_service::ServiceError) -> ApiError {
    let big =
        matches!(&e, kebao_service::ServiceError::Invalid(i) if i.0.iter().any(|f| f.code == "too_large"));
    let mut err = ApiError::from(e);
    if big {
        err.status = StatusCode::PAYLOAD_TOO_LARGE;
    }
    err
}
