//! Files attached to something on the platform: a product version's filed documents, a
//! claim's documents, a subsidy application's documents and a consent's signed evidence.
//! One entity, one set of upload checks; the bodies are content-addressed (stored once per
//! SHA-256).

use crate::error::FieldError;
use crate::org::string_enum;
use sha2::Digest;

string_enum! {
    /// What an attachment belongs to.
    OwnerKind {
        ProductVersion = "product_version", "产品备案版本", "Product version";
        Claim = "claim", "理赔", "Claim";
        SubsidyApplication = "subsidy_application", "补贴申请", "Subsidy application";
        Consent = "consent", "授权", "Consent";
        PremiumPayment = "premium_payment", "缴费凭证", "Payment evidence";
        RegisteredPolicy = "registered_policy", "线下保单文件", "Registered policy's documents";
    }
}

impl OwnerKind {
    /// The most attachments one owner may carry (`None`: no limit).
    pub const fn max_per_owner(self) -> Option<usize> {
        match self {
            OwnerKind::ProductVersion => Some(MAX_PER_VERSION),
            OwnerKind::Claim => Some(MAX_PER_CLAIM),
            OwnerKind::SubsidyApplication => None,
            OwnerKind::Consent => Some(1),
            OwnerKind::PremiumPayment => Some(MAX_PER_PAYMENT),
            OwnerKind::RegisteredPolicy => Some(MAX_PER_PAYMENT),
        }
    }

    /// The error for one attachment too many on an owner of this kind.
    pub fn too_many(self) -> FieldError {
        let n = self.max_per_owner().unwrap_or(usize::MAX);
        match self {
            OwnerKind::ProductVersion => FieldError::new(
                "document",
                "too_many",
                format!("每个版本最多 {n} 份文件"),
                format!("at most {n} documents per version"),
            ),
            OwnerKind::Claim => FieldError::new(
                "document",
                "too_many",
                format!("每个理赔最多 {n} 份材料"),
                format!("at most {n} documents per claim"),
            ),
            OwnerKind::SubsidyApplication => FieldError::new(
                "document",
                "too_many",
                format!("每个申请最多 {n} 份材料"),
                format!("at most {n} documents per application"),
            ),
            OwnerKind::PremiumPayment => FieldError::new(
                "evidence",
                "too_many",
                format!("每张保单最多 {n} 份缴费凭证"),
                format!("at most {n} payment documents per policy"),
            ),
            OwnerKind::RegisteredPolicy => FieldError::new(
                "document",
                "too_many",
                format!("每张登记保单最多 {n} 份文件"),
                format!("at most {n} documents per registered policy"),
            ),
            OwnerKind::Consent => FieldError::new(
                "evidence",
                "too_many",
                "每份授权只有一份签署的授权书",
                "a consent has exactly one signed authorisation",
            ),
        }
    }
}

/// What an attachment belongs to: the kind, the owner's id and, for a product, the version.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Owner {
    pub kind: OwnerKind,
    pub id: String,
    /// The product version (product versions only).
    pub version: Option<i64>,
}

impl Owner {
    /// A product's version.
    pub fn product_version(product_id: &str, version: i64) -> Owner {
        Owner { kind: OwnerKind::ProductVersion, id: product_id.to_owned(), version: Some(version) }
    }

    /// A claim.
    pub fn claim(id: &str) -> Owner {
        Owner { kind: OwnerKind::Claim, id: id.to_owned(), version: None }
    }

    /// A subsidy application.
    pub fn subsidy_application(id: &str) -> Owner {
        Owner { kind: OwnerKind::SubsidyApplication, id: id.to_owned(), version: None }
    }

    /// A policy registered from outside the platform (the paper policy, the invoice).
    pub fn registered_policy(policy_id: &str) -> Owner {
        Owner { kind: OwnerKind::RegisteredPolicy, id: policy_id.to_owned(), version: None }
    }

    /// A consent (its signed evidence).
    pub fn consent(id: &str) -> Owner {
        Owner { kind: OwnerKind::Consent, id: id.to_owned(), version: None }
    }
}

/// A stored file (without its body).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Attachment {
    pub id: String,
    pub owner: Owner,
    pub file_name: String,
    pub media_type: String,
    /// Hex SHA-256 of the body.
    pub sha256: String,
    pub size: i64,
    /// Who uploaded it, as the event log names them.
    pub uploaded_by: String,
    pub uploaded_at_us: i64,
    /// What the file is filed as among the documents its owner asks for (a subsidy
    /// programme's document code); empty when nothing is asked.
    pub label: String,
}

/// An upload that passed the checks: the cleaned name, its media type, hash and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    pub file_name: String,
    pub media_type: &'static str,
    pub sha256: String,
    pub size: i64,
}

impl NewAttachment {
    /// Checks an uploaded file (name, size, type, PDF magic) — the one check every upload
    /// path goes through.
    pub fn parse(file_name: &str, bytes: &[u8]) -> Result<NewAttachment, FieldError> {
        let (file_name, media_type) = check(file_name, bytes)?;
        Ok(NewAttachment {
            file_name,
            media_type,
            sha256: hex::encode(sha2::Sha256::digest(bytes)),
            size: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
        })
    }

    /// The attachment this upload becomes.
    pub fn into_attachment(self, id: String, owner: Owner, uploaded_by: String, at_us: i64) -> Attachment {
        Attachment {
            id,
            owner,
            file_name: self.file_name,
            media_type: self.media_type.to_owned(),
            sha256: self.sha256,
            size: self.size,
            uploaded_by,
            uploaded_at_us: at_us,
            label: String::new(),
        }
    }
}

/// The largest file accepted (bytes).
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
/// The most documents on one product version.
pub const MAX_PER_VERSION: usize = 20;
/// The most documents on one claim.
pub const MAX_PER_CLAIM: usize = 20;

/// Payment evidence documents per policy.
pub const MAX_PER_PAYMENT: usize = 10;
/// Accepted file types (by extension), with their media type.
pub const TYPES: &[(&str, &str)] = &[
    ("pdf", "application/pdf"),
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("doc", "application/msword"),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("txt", "text/plain; charset=utf-8"),
];

/// The most characters in a file name.
pub const MAX_NAME_CHARS: usize = 120;

/// An uploaded file name as the platform keeps and shows it: the last path component
/// only, without control characters and without the bidirectional controls that make
/// `invoice\u{202E}fdp.exe` display as `invoiceexe.pdf`, trimmed. Every upload path
/// goes through [`NewAttachment::parse`] ([`check`]), which calls this and then caps the
/// length at [`MAX_NAME_CHARS`].
pub fn clean_file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let name: String = last.chars().filter(|&c| !c.is_control() && !is_bidi_control(c)).collect();
    name.trim().to_owned()
}

/// Unicode's bidirectional formatting characters (UAX #9): marks, embeddings,
/// overrides and isolates.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Checks a file's name and size; returns the cleaned file name and its media type.
pub fn check(file_name: &str, bytes: &[u8]) -> Result<(String, &'static str), FieldError> {
    let name = clean_file_name(file_name);
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::new(
            "document",
            "file_name",
            "文件名为空或过长（最多 120 个字符）",
            "the file name is empty or longer than 120 characters",
        ));
    }
    if bytes.is_empty() {
        return Err(FieldError::new("document", "empty", "文件为空", "the file is empty"));
    }
    if bytes.len() > MAX_BYTES {
        return Err(too_large(bytes.len()));
    }
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let Some((_, mime)) = TYPES.iter().find(|(e, _)| *e == ext) else {
        return Err(FieldError::new(
            "document",
            "file_type",
            format!("不支持的文件类型 `{ext}`：请上传 PDF、Word、Excel、PNG、JPG 或 TXT"),
            format!("file type `{ext}` is not accepted: upload PDF, Word, Excel, PNG, JPG or TXT"),
        ));
    };
    if ext == "pdf" && !bytes.starts_with(b"%PDF") {
        return Err(FieldError::new(
            "document",
            "file_content",
            "文件扩展名为 PDF，但内容不是 PDF",
            "the file is named .pdf but is not a PDF",
        ));
    }
    Ok((name, mime))
}

/// The error for a file over [`MAX_BYTES`].
pub fn too_large(len: usize) -> FieldError {
    let mib = |b: usize| b as f64 / 1024.0 / 1024.0;
    FieldError::new(
        "document",
        "too_large",
        format!("文件过大：{:.1} MiB，上限为 {:.0} MiB", mib(len), mib(MAX_BYTES)),
        format!("the file is too large: {:.1} MiB, the limit is {:.0} MiB", mib(len), mib(MAX_BYTES)),
    )
}

/// The error for an upload cut off at the request's size limit (its size is not known).
pub fn over_limit() -> FieldError {
    let mib = MAX_BYTES as f64 / 1024.0 / 1024.0;
    FieldError::new(
        "document",
        "too_large",
        format!("文件过大：上限为 {mib:.0} MiB"),
        format!("the file is too large: the limit is {mib:.0} MiB"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_bidi_controls_control_characters_and_paths() {
        assert_eq!(clean_file_name("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        assert_eq!(
            clean_file_name("a\u{200E}b\u{200F}c\u{202A}d\u{2066}e\u{2069}f\u{061C}.pdf"),
            "abcdef.pdf"
        );
        assert_eq!(clean_file_name("..\\..\\C:\\tmp/x/报告\u{0}\n.pdf "), "报告.pdf");
        // The override no longer hides the real extension: refused as an .exe.
        let e = check("invoice\u{202E}fdp.exe", b"MZ").unwrap_err();
        assert_eq!(e.code, "file_type");
        let (name, _) = check("合同\u{202E}.pdf", b"%PDF-1.7").unwrap();
        assert_eq!(name, "合同.pdf");
        let long = format!("{}.pdf", "名".repeat(MAX_NAME_CHARS));
        assert_eq!(check(&long, b"%PDF").unwrap_err().code, "file_name");
    }

    #[test]
    fn uploads_are_checked() {
        assert!(check("wording.pdf", b"%PDF-1.7 ...").is_ok());
        assert_eq!(check("x.pdf", b"<html>").err().map(|e| e.code), Some("file_content"));
        assert_eq!(check("x.exe", b"MZ").err().map(|e| e.code), Some("file_type"));
        let big = vec![b'a'; MAX_BYTES + 1];
        assert_eq!(check("x.txt", &big).err().map(|e| e.code), Some("too_large"));
        assert_eq!(check("../../etc/条款.txt", b"a").ok().map(|(n, _)| n), Some("条款.txt".into()));
    }

    #[test]
    fn a_new_attachment_carries_its_hash_and_size() {
        let n = NewAttachment::parse("dir/条款.txt", b"abc").unwrap();
        assert_eq!(n.file_name, "条款.txt");
        assert_eq!(n.media_type, "text/plain; charset=utf-8");
        assert_eq!(n.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(n.size, 3);
        let a = n.into_attachment("d1".into(), Owner::claim("c1"), "u".into(), 7);
        assert_eq!(a.owner.kind, OwnerKind::Claim);
        assert_eq!(a.owner.version, None);
        assert_eq!(Owner::product_version("p", 2).version, Some(2));
        for k in OwnerKind::ALL {
            assert!(k.max_per_owner().is_none_or(|n| n >= 1));
            assert_eq!(OwnerKind::from_code(k.code()), Some(*k));
            assert!(!k.too_many().message_zh.is_empty());
        }
    }
}
