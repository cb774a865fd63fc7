//! Consent: the multipart consent form.

use crate::error::ApiError;
use axum::extract::Multipart;
use kebao_domain::consent::ConsentInput;
use std::collections::HashMap;

/// Reads a multipart form: text fields (repeatable) and one file field.
pub(crate) async fn read_form(
    mut m: Multipart,
    file_field: &str,
) -> Result<(HashMap<String, Vec<String>>, Option<(String, Vec<u8>)>), ApiError> {
    let mut fields: HashMap<String, Vec<String>> = HashMap::new();
    let mut file = None;
    loop {
        let field = match m.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return Err(ApiError::new(e.status(), "bad_multipart", e.body_text(), "上传内容有误或过大"))
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == file_field {
            let fname = field.file_name().unwrap_or_default().to_owned();
            let bytes = field.bytes().await.map_err(|e| {
                ApiError::new(e.status(), "bad_multipart", e.body_text(), "上传内容有误或过大")
            })?;
            file = Some((fname, bytes.to_vec()));
        } else {
            let text = field
                .text()
                .await
                .map_err(|e| ApiError::new(e.status(), "bad_multipart", e.body_text(), "上传内容有误"))?;
            fields.entry(name).or_default().push(text);
        }
    }
    Ok((fields, file))
}

pub(crate) fn consent_input(f: &HashMap<String, Vec<String>>) -> ConsentInput {
    let one = |k: &str| f.get(k).and_then(|v| v.first()).cloned().unwrap_or_default();
    ConsentInput {
        grantee_id: one("grantee_id"),
        kind: one("kind"),
        scopes: f
            .get("scopes")
            .map(|v| v.iter().flat_map(|s| s.split(',')).map(str::to_owned).collect())
            .unwrap_or_default(),
        purpose: one("purpose"),
        valid_from: one("valid_from"),
        expires_on: one("expires_on"),
        signer_name: one("signer_name"),
        signer_title: one("signer_title"),
        person_name: one("person_name"),
        person_role: one("person_role"),
    }
}
