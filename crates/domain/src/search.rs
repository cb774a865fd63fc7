//! Tokens for full-text search in Chinese and English, the same on both stores.
//!
//! Neither SQLite's FTS5 (its trigram tokenizer finds nothing for a two-character query)
//! nor PostgreSQL's parsers segment Chinese. So, as Lucene's `CJKAnalyzer` does, a run of
//! CJK characters is indexed as its overlapping bigrams (`责任险` → `责任 任险`), a lone
//! CJK character as itself, and other letters and digits as lower-case words. The store
//! indexes the token text with a whitespace tokenizer; a query run becomes a phrase of
//! its bigrams, so `责任险` matches `…责任险…` and not `责任…保险`.

use crate::error::FieldError;

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F
        | 0x3040..=0x30FF | 0xAC00..=0xD7AF)
}

#[derive(PartialEq)]
enum Kind {
    Cjk,
    Word,
    Other,
}

fn kind(c: char) -> Kind {
    if is_cjk(c) {
        Kind::Cjk
    } else if c.is_alphanumeric() {
        Kind::Word
    } else {
        Kind::Other
    }
}

/// The text split into runs, each run as its tokens (bigrams for CJK, one word otherwise).
pub fn runs(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut cur: Vec<char> = Vec::new();
    let mut cur_kind = Kind::Other;
    let flush = |cur: &mut Vec<char>, k: &Kind, out: &mut Vec<Vec<String>>| {
        match k {
            Kind::Cjk if cur.len() == 1 => out.push(vec![cur.iter().collect()]),
            Kind::Cjk => out.push(cur.windows(2).map(|w| w.iter().collect()).collect()),
            Kind::Word if !cur.is_empty() => out.push(vec![cur.iter().collect::<String>().to_lowercase()]),
            _ => {}
        }
        cur.clear();
    };
    // Full-width letters and digits are folded to ASCII first.
    for c in text.chars().map(fold_width) {
        let k = kind(c);
        if k != cur_kind {
            flush(&mut cur, &cur_kind, &mut out);
            cur_kind = k;
        }
        if cur_kind != Kind::Other {
            cur.push(c);
        }
    }
    flush(&mut cur, &cur_kind, &mut out);
    out
}

fn fold_width(c: char) -> char {
    match c as u32 {
        0xFF10..=0xFF19 | 0xFF21..=0xFF3A | 0xFF41..=0xFF5A => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// The token text to index: every token, space-separated, in order.
pub fn index_text(text: &str) -> String {
    runs(text).into_iter().flatten().collect::<Vec<_>>().join(" ")
}

/// The most characters in a search query. Searching costs the store a phrase query per
/// run; a 60 KB query held search to a few requests a second.
pub const MAX_QUERY_CHARS: usize = 100;
/// The most tokens in one phrase of a query (a run of 33 CJK characters has 32 bigrams).
pub const MAX_PHRASE_TOKENS: usize = 32;
/// The most phrases of a query that are searched; further runs are ignored.
pub const MAX_PHRASES: usize = 16;

/// A query as phrases (each run of the query), all of which must match, or why the query
/// is refused: longer than [`MAX_QUERY_CHARS`], or a phrase of more than
/// [`MAX_PHRASE_TOKENS`] tokens. Empty when the query has no letters, digits or CJK
/// characters.
pub fn query_phrases(query: &str) -> Result<Vec<Vec<String>>, FieldError> {
    // A char is at least one byte: only a long query needs counting.
    if query.len() > MAX_QUERY_CHARS && query.chars().count() > MAX_QUERY_CHARS {
        return Err(FieldError::new(
            "q",
            "query_too_long",
            format!("搜索词过长：最多 {MAX_QUERY_CHARS} 个字"),
            format!("the search query is too long: at most {MAX_QUERY_CHARS} characters"),
        ));
    }
    let phrases: Vec<Vec<String>> = runs(query).into_iter().take(MAX_PHRASES).collect();
    if phrases.iter().any(|p| p.len() > MAX_PHRASE_TOKENS) {
        return Err(FieldError::new(
            "q",
            "phrase_too_long",
            format!("搜索词中连续的一段过长：最多 {} 个汉字，请用空格分开", MAX_PHRASE_TOKENS + 1),
            format!(
                "a phrase of the search query is too long: at most {} CJK characters in a row; separate words with spaces",
                MAX_PHRASE_TOKENS + 1
            ),
        ));
    }
    Ok(phrases)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cjk_runs_become_bigrams_and_words_lower_case() {
        assert_eq!(index_text("首台(套)重大技术装备"), "首台 套 重大 大技 技术 术装 装备");
        assert_eq!(
            index_text("专利执行保险 IP Insurance-2024"),
            "专利 利执 执行 行保 保险 ip insurance 2024"
        );
        assert_eq!(index_text("ＡＢＣ１２"), "abc12");
        assert_eq!(query_phrases("责任险"), Ok(vec![vec!["责任".to_owned(), "任险".to_owned()]]));
        assert_eq!(query_phrases("专利 保险"), Ok(vec![vec!["专利".to_owned()], vec!["保险".to_owned()]]));
        assert_eq!(query_phrases("  ，。!"), Ok(vec![]));
    }

    #[test]
    fn long_queries_and_phrases_are_refused() {
        let q = "保".repeat(MAX_QUERY_CHARS);
        assert_eq!(query_phrases(&q).unwrap_err().code, "phrase_too_long");
        assert!(query_phrases(&"保险 ".repeat(MAX_QUERY_CHARS / 3)).is_ok());
        assert!(query_phrases(&"保".repeat(MAX_PHRASE_TOKENS + 1)).is_ok());
        assert_eq!(query_phrases(&"保".repeat(MAX_PHRASE_TOKENS + 2)).unwrap_err().code, "phrase_too_long");
        // 60 KB of Chinese, as in the finding: refused by its length, before it is split.
        let big = "专利保险".repeat(5_000);
        assert_eq!(big.len(), 60_000);
        let e = query_phrases(&big).unwrap_err();
        assert_eq!(e.code, "query_too_long");
        assert!(e.message_zh.contains("100") && e.message_en.contains("100"));
        assert!(query_phrases(&"a".repeat(MAX_QUERY_CHARS)).is_ok());
        assert!(query_phrases(&"a".repeat(MAX_QUERY_CHARS + 1)).is_err());
    }
}
