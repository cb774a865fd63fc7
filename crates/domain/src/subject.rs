//! What a policy covers and whom it names: the insured object (the equipment, material,
//! software or product line) and the policy parties besides the policyholder (the insured
//! and the beneficiary). The first-set and new-material rules count years of cover,
//! continuity and cumulative premium per manufacturer and object, across policies and
//! insurers, and name the user of the equipment as beneficiary (rules.md §3.1, §4).

use crate::error::{Collector, FieldError, Invalid};
use crate::org::string_enum;
use crate::uscc::Uscc;

string_enum! {
    /// What kind of thing a policy insures.
    ObjectKind {
        Equipment = "equipment", "装备", "Equipment";
        Material = "material", "材料", "Material";
        Software = "software", "软件", "Software";
        ProductLine = "product_line", "产品线", "Product line";
    }
}

/// The longest identifier, catalogue entry or party name kept (characters).
pub const MAX_TEXT_CHARS: usize = 100;

/// The thing a policy insures.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InsuredObject {
    pub kind: ObjectKind,
    /// Model of the equipment, grade of the material, name and version of the software.
    pub identifier: String,
    /// The entry of the catalogue it is listed in (首台(套)推广应用指导目录, 重点新材料首批次应用示范指导目录).
    pub catalogue_entry: Option<String>,
}

impl InsuredObject {
    /// What counts as "the same object" across policies and insurers: the kind and the
    /// identifier without case, full-width forms or spacing differences.
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind.code(), normalise(&self.identifier))
    }

    /// The object in words, for lists and pages.
    pub fn describe(&self, en: bool) -> String {
        let kind = if en { self.kind.label_en() } else { self.kind.label_zh() };
        match &self.catalogue_entry {
            Some(c) if en => format!("{kind} {} (catalogue: {c})", self.identifier),
            Some(c) => format!("{kind} {}（目录：{c}）", self.identifier),
            None => format!("{kind} {}", self.identifier),
        }
    }
}

/// A party named on a policy other than the policyholder.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Party {
    pub name: String,
    /// Unified social credit code, where the party is an organisation registered in China.
    pub uscc: Option<String>,
}

/// The insured object and parties of a policy (or of the application for it). The
/// policyholder is the enterprise that applies; the insured is the policyholder unless named.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Subject {
    pub object: Option<InsuredObject>,
    pub insured: Option<Party>,
    pub beneficiary: Option<Party>,
}

/// A subject as typed (the API's body, a page's form): blanks are "not given".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubjectFields {
    pub object_kind: String,
    pub object_identifier: String,
    pub object_catalogue: String,
    pub insured_name: String,
    pub insured_uscc: String,
    pub beneficiary_name: String,
    pub beneficiary_uscc: String,
}

fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.trim().chars() {
        // Full-width ASCII forms (Ａ, ０, －) are the same characters typed with a Chinese IME.
        let c = match c as u32 {
            0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            0x3000 => ' ',
            _ => c,
        };
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.extend(c.to_uppercase());
    }
    out
}

fn text(field: &str, s: &str, c: &mut Collector) -> Option<String> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if t.chars().count() > MAX_TEXT_CHARS || t.chars().any(char::is_control) {
        c.push(FieldError::new(
            field,
            "too_long",
            format!("最多 {MAX_TEXT_CHARS} 个字符，且不含控制字符"),
            format!("at most {MAX_TEXT_CHARS} characters, without control characters"),
        ));
        return None;
    }
    Some(t.to_owned())
}

fn party(name_field: &str, uscc_field: &str, name: &str, uscc: &str, c: &mut Collector) -> Option<Party> {
    let name = text(name_field, name, c);
    let uscc = match uscc.trim() {
        "" => None,
        u => c.take(Uscc::parse(u).map_err(|e| e.at(uscc_field))).map(|u| u.as_str().to_owned()),
    };
    match (name, uscc) {
        (Some(name), uscc) => Some(Party { name, uscc }),
        (None, Some(_)) => {
            c.push(FieldError::new(name_field, "required", "请填写名称", "give the name"));
            None
        }
        (None, None) => None,
    }
}

impl Subject {
    /// Reads what was typed: an object needs a kind and an identifier; a party needs a name
    /// (its credit code is optional and checked when given). Every problem names its field.
    pub fn parse(f: &SubjectFields) -> Result<Subject, Invalid> {
        let mut c = Collector::default();
        let kind = match f.object_kind.trim() {
            "" => None,
            k => {
                let kind = ObjectKind::from_code(k);
                if kind.is_none() {
                    c.push(FieldError::new(
                        "object_kind",
                        "unknown",
                        "标的类型应为装备、材料、软件或产品线",
                        "the object's kind is equipment, material, software or product line",
                    ));
                }
                kind
            }
        };
        let identifier = text("object_identifier", &f.object_identifier, &mut c);
        let catalogue_entry = text("object_catalogue", &f.object_catalogue, &mut c);
        let object = match (kind, identifier) {
            (Some(kind), Some(identifier)) => Some(InsuredObject { kind, identifier, catalogue_entry }),
            (Some(_), None) => {
                c.push(FieldError::new(
                    "object_identifier",
                    "required",
                    "请填写标的型号、牌号或名称",
                    "give the object's model, grade or name",
                ));
                None
            }
            (None, Some(_)) if f.object_kind.trim().is_empty() => {
                c.push(FieldError::new(
                    "object_kind",
                    "required",
                    "请选择标的类型",
                    "choose the object's kind",
                ));
                None
            }
            _ => None,
        };
        let insured = party("insured_name", "insured_uscc", &f.insured_name, &f.insured_uscc, &mut c);
        let beneficiary =
            party("beneficiary_name", "beneficiary_uscc", &f.beneficiary_name, &f.beneficiary_uscc, &mut c);
        c.finish()?;
        Ok(Subject { object, insured, beneficiary })
    }

    /// The object's key, where there is an object.
    pub fn object_key(&self) -> Option<String> {
        self.object.as_ref().map(InsuredObject::key)
    }

    /// The fields that would type this subject again (a form filled in from a policy).
    pub fn fields(&self) -> SubjectFields {
        let o = self.object.as_ref();
        let p = |p: &Option<Party>| {
            (
                p.as_ref().map(|p| p.name.clone()).unwrap_or_default(),
                p.as_ref().and_then(|p| p.uscc.clone()).unwrap_or_default(),
            )
        };
        let (insured_name, insured_uscc) = p(&self.insured);
        let (beneficiary_name, beneficiary_uscc) = p(&self.beneficiary);
        SubjectFields {
            object_kind: o.map(|o| o.kind.code().to_owned()).unwrap_or_default(),
            object_identifier: o.map(|o| o.identifier.clone()).unwrap_or_default(),
            object_catalogue: o.and_then(|o| o.catalogue_entry.clone()).unwrap_or_default(),
            insured_name,
            insured_uscc,
            beneficiary_name,
            beneficiary_uscc,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(kind: &str, id: &str) -> SubjectFields {
        SubjectFields { object_kind: kind.into(), object_identifier: id.into(), ..Default::default() }
    }

    #[test]
    fn the_same_object_typed_differently_has_one_key() {
        let a = Subject::parse(&fields("equipment", "HX-3000  型")).unwrap();
        let b = Subject::parse(&fields("装备", " ｈｘ－３０００ 型")).unwrap();
        assert_eq!(a.object_key(), b.object_key());
        let m = Subject::parse(&fields("material", "HX-3000 型")).unwrap();
        assert_ne!(a.object_key(), m.object_key(), "a material is not the equipment of the same name");
    }

    #[test]
    fn incomplete_or_bad_input_names_its_field() {
        let e = Subject::parse(&fields("equipment", "")).unwrap_err();
        assert_eq!(e.0[0].field, "object_identifier");
        let e = Subject::parse(&fields("", "HX")).unwrap_err();
        assert_eq!(e.0[0].field, "object_kind");
        let e = Subject::parse(&fields("rocket", "HX")).unwrap_err();
        assert_eq!(e.0[0].field, "object_kind");
        let f = SubjectFields { beneficiary_uscc: "91420100MA4K0000XX".into(), ..Default::default() };
        let e = Subject::parse(&f).unwrap_err();
        assert!(e.0.iter().any(|e| e.field == "beneficiary_uscc"), "{e:?}");
        let f = SubjectFields { beneficiary_uscc: "91420100MA4K0000XJ".into(), ..Default::default() };
        let e = Subject::parse(&f).unwrap_err();
        assert!(e.0.iter().any(|e| e.field == "beneficiary_name"), "{e:?}");
        let f = SubjectFields { insured_name: "x".repeat(MAX_TEXT_CHARS + 1), ..Default::default() };
        assert_eq!(Subject::parse(&f).unwrap_err().0[0].field, "insured_name");
    }

    #[test]
    fn blank_is_nothing_and_fields_round_trip() {
        assert_eq!(Subject::parse(&SubjectFields::default()).unwrap(), Subject::default());
        let s = Subject::parse(&SubjectFields {
            object_kind: "equipment".into(),
            object_identifier: "HX-3000".into(),
            object_catalogue: "2024 版 第 3.2 项".into(),
            beneficiary_name: "武汉某用户公司".into(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(Subject::parse(&s.fields()).unwrap(), s);
        assert!(s.object.unwrap().describe(false).contains("HX-3000"));
    }
}
