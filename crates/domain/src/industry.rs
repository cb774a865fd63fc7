//! GB/T 4754-2017 industry codes and the zone's "5+2" industry tags.
//!
//! The 5+2 grouping is not confirmed in a published source (`rules.md` §10), so it is
//! configuration: `[[industry_tag]]` tables (id, name_zh, gb4754 prefixes) read from the
//! zone's catalogue. A code maps to every tag one of whose prefixes it starts with, so the
//! mapping is many-to-many (C3974 displays is both optoelectronics and IC/display).
//!
//! The same file names the zone's parks (`[[park]]`: id, name_zh, name_en), where its
//! enterprises sit; statistics are drilled down by park.

use crate::error::FieldError;
use std::fmt;

/// A GB/T 4754-2017 code: a section letter (A–T) and 2 to 4 digits (division, group, class).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IndustryCode(String);

impl IndustryCode {
    /// Parses `C3976`, `I65`, `m7340`; spaces around are ignored.
    pub fn parse(input: &str) -> Result<IndustryCode, FieldError> {
        let s = input.trim().to_ascii_uppercase();
        if s.is_empty() {
            return Err(FieldError::required("industry_code"));
        }
        let mut chars = s.chars();
        let section = chars.next().unwrap_or(' ');
        let digits: String = chars.collect();
        let shape_ok = ('A'..='T').contains(&section)
            && (2..=4).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit());
        if !shape_ok {
            return Err(FieldError::new(
                "industry_code",
                "industry_code_shape",
                format!("行业代码 `{s}` 格式不正确：应为门类字母 A–T 加 2–4 位数字，如 `C3976`"),
                format!(
                    "industry code `{s}` is malformed: it is a section letter A–T followed by 2 to 4 digits, such as `C3976`"
                ),
            ));
        }
        Ok(IndustryCode(s))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IndustryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One of the zone's industry tags ("5+2").
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct ZoneIndustry {
    /// Stable slug (`optoelectronics`).
    pub id: String,
    /// Chinese name (`光电子信息`).
    pub name_zh: String,
    /// English name; the slug when the configuration gives none.
    #[serde(default)]
    pub name_en: String,
    /// GB/T 4754 prefixes that belong to this tag.
    #[serde(rename = "gb4754")]
    pub prefixes: Vec<String>,
}

/// One of the zone's parks (园区).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct ZonePark {
    /// Stable slug (`biolake`): 2–40 lower-case letters, digits or `_`.
    pub id: String,
    /// Chinese name (`光谷生物城`).
    pub name_zh: String,
    /// English name.
    pub name_en: String,
}

/// The zone's mapping from industry codes to tags, and its parks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndustryMap {
    tags: Vec<ZoneIndustry>,
    parks: Vec<ZonePark>,
}

/// A configuration error in the industry map.
#[derive(Debug, thiserror::Error)]
pub enum IndustryMapError {
    /// The text is not valid TOML of the expected shape.
    #[error("industry map: {0}")]
    Toml(String),
    /// A prefix is not a valid (possibly shorter) industry code.
    #[error("industry tag `{tag}` has a malformed GB/T 4754 prefix `{prefix}`")]
    BadPrefix { tag: String, prefix: String },
    /// Two tags share an id.
    #[error("industry tag `{0}` is defined twice")]
    Duplicate(String),
    /// A park's id is malformed, repeated, or it lacks a name.
    #[error("park `{0}`: the id must be 2–40 lower-case letters, digits or `_`, unique, with both names")]
    BadPark(String),
}

#[derive(serde::Deserialize)]
struct CatalogueFile {
    #[serde(default)]
    industry_tag: Vec<ZoneIndustry>,
    #[serde(default)]
    park: Vec<ZonePark>,
}

fn english_name(id: &str) -> &'static str {
    match id {
        "optoelectronics" => "Optoelectronics",
        "ic_semiconductor_display" => "Integrated circuits and displays",
        "bio" => "Life sciences and health",
        "env_energy_saving" => "Environmental protection and energy saving",
        "high_end_equipment" => "High-end equipment",
        "modern_services" => "Modern services",
        "digital_economy" => "Digital economy",
        _ => "",
    }
}

impl IndustryMap {
    /// Reads the `[[industry_tag]]` tables of a catalogue file.
    pub fn from_toml(text: &str) -> Result<IndustryMap, IndustryMapError> {
        let file: CatalogueFile = toml::from_str(text).map_err(|e| IndustryMapError::Toml(e.to_string()))?;
        let mut tags = file.industry_tag;
        for tag in tags.iter_mut() {
            if tag.name_en.is_empty() {
                let en = english_name(&tag.id);
                tag.name_en = if en.is_empty() { tag.id.clone() } else { en.to_owned() };
            }
            for p in &tag.prefixes {
                let shape = p.len() >= 2
                    && p.starts_with(|c: char| c.is_ascii_uppercase())
                    && p.bytes().skip(1).all(|b| b.is_ascii_digit())
                    && p.len() <= 5;
                if !shape {
                    return Err(IndustryMapError::BadPrefix { tag: tag.id.clone(), prefix: p.clone() });
                }
            }
        }
        let mut ids: Vec<&str> = tags.iter().map(|t| t.id.as_str()).collect();
        ids.sort_unstable();
        if let Some(w) = ids.windows(2).find(|w| w.first() == w.get(1)) {
            return Err(IndustryMapError::Duplicate(w.first().copied().unwrap_or_default().to_owned()));
        }
        let parks = file.park;
        for (i, p) in parks.iter().enumerate() {
            let id_ok = (2..=40).contains(&p.id.len())
                && p.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            let named = !p.name_zh.trim().is_empty() && !p.name_en.trim().is_empty();
            if !id_ok || !named || parks.iter().take(i).any(|q| q.id == p.id) {
                return Err(IndustryMapError::BadPark(p.id.clone()));
            }
        }
        Ok(IndustryMap { tags, parks })
    }

    /// The zone's parks, in configuration order.
    pub fn parks(&self) -> &[ZonePark] {
        &self.parks
    }

    /// The park with this id.
    pub fn park(&self, id: &str) -> Option<&ZonePark> {
        self.parks.iter().find(|p| p.id == id)
    }

    /// The park a person named: its id, or its Chinese or English name.
    pub fn find_park(&self, named: &str) -> Option<&ZonePark> {
        let n = named.trim();
        self.parks.iter().find(|p| p.id == n || p.name_zh == n || p.name_en.eq_ignore_ascii_case(n))
    }

    /// All tags, in configuration order.
    pub fn tags(&self) -> &[ZoneIndustry] {
        &self.tags
    }

    /// The tag with this id.
    pub fn tag(&self, id: &str) -> Option<&ZoneIndustry> {
        self.tags.iter().find(|t| t.id == id)
    }

    /// The ids of every tag the code belongs to (by prefix), in configuration order.
    pub fn tags_for(&self, code: &IndustryCode) -> Vec<&str> {
        self.tags
            .iter()
            .filter(|t| t.prefixes.iter().any(|p| code.as_str().starts_with(p.as_str())))
            .map(|t| t.id.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZONE: &str = include_str!("../../../data/catalogue.toml");

    #[test]
    fn shape_is_checked() {
        assert!(IndustryCode::parse("C3976").is_ok());
        assert!(IndustryCode::parse("i65").is_ok());
        for bad in ["C", "C3", "C39761", "Z3976", "33976", "C39A6"] {
            let e = IndustryCode::parse(bad).err().map(|e| e.code);
            assert_eq!(e, Some("industry_code_shape"), "{bad}");
        }
    }

    #[test]
    fn mapping_is_many_to_many_by_prefix() {
        let map = IndustryMap::from_toml(ZONE).map_err(|e| e.to_string());
        let map = map.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(map.tags().len(), 7);
        let tags = |c: &str| IndustryCode::parse(c).map(|c| map.tags_for(&c).join(",")).unwrap_or_default();
        // I6520 integrated-circuit design: IC tag, and modern services through the I65 prefix,
        // and digital economy does not list I652.
        assert_eq!(tags("I6520"), "ic_semiconductor_display,modern_services");
        assert_eq!(tags("C2761"), "bio");
        assert_eq!(tags("A0111"), "");
    }

    #[test]
    fn bad_configuration_is_refused() {
        let dup = "[[industry_tag]]\nid='a'\nname_zh='甲'\ngb4754=['C39']\n[[industry_tag]]\nid='a'\nname_zh='乙'\ngb4754=['C38']\n";
        assert!(matches!(IndustryMap::from_toml(dup), Err(IndustryMapError::Duplicate(_))));
        let bad = "[[industry_tag]]\nid='a'\nname_zh='甲'\ngb4754=['39']\n";
        assert!(matches!(IndustryMap::from_toml(bad), Err(IndustryMapError::BadPrefix { .. })));
        for park in [
            "[[park]]\nid='Bad Id'\nname_zh='甲'\nname_en='A'\n",
            "[[park]]\nid='a1'\nname_zh=''\nname_en='A'\n",
            "[[park]]\nid='a1'\nname_zh='甲'\nname_en='A'\n[[park]]\nid='a1'\nname_zh='乙'\nname_en='B'\n",
        ] {
            assert!(matches!(IndustryMap::from_toml(park), Err(IndustryMapError::BadPark(_))), "{park}");
        }
    }

    #[test]
    fn the_zone_names_its_parks() {
        let map = IndustryMap::from_toml(ZONE).map_err(|e| e.to_string());
        let map = map.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(map.parks().len(), 6);
        assert_eq!(map.park("biolake").map(|p| p.name_zh.as_str()), Some("光谷生物城"));
        assert!(map.park("nowhere").is_none());
    }
}
