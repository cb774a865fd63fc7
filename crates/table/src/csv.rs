//! The CSV reader: a record splitter over a buffer refilled in chunks, and the typed sinks.
//!
//! The dialect is RFC 4180's, as the `csv` crate reads it by default: fields separated by
//! commas, records by `\n` or `\r\n`, a field that starts with `"` is quoted (`""` inside is
//! one quote; text after the closing quote is kept), blank lines are skipped, a leading UTF-8
//! byte-order mark is dropped, and every record has as many fields as the header. Cells are
//! trimmed of surrounding whitespace.

use crate::number::parse_f64;
use crate::{Column, Kind, Spec, Table, TableError, Values, MISSING};
use std::io::Read;
use std::path::Path;

/// The reader asks the file for this much at a time.
const CHUNK: usize = 1 << 20;
/// The longest record accepted: an unclosed quote would otherwise read the rest of the file
/// into one field.
pub const MAX_RECORD: usize = 64 << 20;
/// Rows after which the reader reserves the columns' memory from the file's size.
const SAMPLE_ROWS: usize = 1024;

/// Reads the columns `spec` asks for from the CSV file at `path`.
pub fn read_csv(path: &Path, spec: &Spec) -> Result<Table, TableError> {
    let file = path.display().to_string();
    let open = || {
        std::fs::File::open(path).map_err(|e| TableError::Io { file: file.clone(), message: e.to_string() })
    };
    let size = std::fs::metadata(path).map(|m| m.len()).ok();
    read(&file, open, size, spec)
}

/// Reads the columns `spec` asks for from CSV text in memory; `name` stands for the file in
/// messages.
pub fn read_csv_bytes(name: &str, bytes: &[u8], spec: &Spec) -> Result<Table, TableError> {
    read(name, || Ok(bytes), Some(bytes.len() as u64), spec)
}

/// Where a field's bytes are: in the read buffer, or unescaped in the scratch buffer.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    quoted: bool,
}

/// One record's fields.
struct Record<'a> {
    buf: &'a [u8],
    scratch: &'a [u8],
    spans: &'a [Span],
    /// The line the record starts on (1-based).
    line: u64,
    /// Its length in bytes, terminator included.
    bytes: usize,
}

impl Record<'_> {
    fn len(&self) -> usize {
        self.spans.len()
    }

    fn field(&self, k: usize) -> &[u8] {
        let Some(s) = self.spans.get(k) else { return &[] };
        let src = if s.quoted { self.scratch } else { self.buf };
        src.get(s.start..s.end).unwrap_or(&[])
    }
}

enum Split {
    /// A whole record, the next one starting at `next`; `lines` newlines were inside quotes.
    Done { next: usize, lines: u64 },
    /// The buffer ends inside the record.
    NeedMore,
    /// The file ends inside a quoted field.
    OpenQuote,
}

/// Splits the record that starts at `pos` into `spans` (and `scratch` for quoted fields).
fn split(buf: &[u8], pos: usize, eof: bool, spans: &mut Vec<Span>, scratch: &mut Vec<u8>) -> Split {
    const DELIM: u8 = b',';
    spans.clear();
    scratch.clear();
    let mut i = pos;
    let mut lines = 0;
    loop {
        if buf.get(i) == Some(&b'"') {
            let start = scratch.len();
            i += 1;
            // Inside the quotes.
            loop {
                match buf.get(i) {
                    None => return if eof { Split::OpenQuote } else { Split::NeedMore },
                    Some(b'"') => match buf.get(i + 1) {
                        Some(b'"') => {
                            scratch.push(b'"');
                            i += 2;
                        }
                        // A quote at the end of the buffer may be the first of `""`.
                        None if !eof => return Split::NeedMore,
                        _ => {
                            i += 1;
                            break;
                        }
                    },
                    Some(&b) => {
                        if b == b'\n' {
                            lines += 1;
                        }
                        scratch.push(b);
                        i += 1;
                    }
                }
            }
            // After the closing quote, up to the delimiter or the end of the record.
            loop {
                match buf.get(i) {
                    None if !eof => return Split::NeedMore,
                    None => {
                        spans.push(Span { start, end: scratch.len(), quoted: true });
                        return Split::Done { next: i, lines };
                    }
                    Some(&DELIM) => {
                        spans.push(Span { start, end: scratch.len(), quoted: true });
                        i += 1;
                        break;
                    }
                    Some(b'\n') => {
                        if scratch.last() == Some(&b'\r') {
                            scratch.pop();
                        }
                        spans.push(Span { start, end: scratch.len(), quoted: true });
                        return Split::Done { next: i + 1, lines };
                    }
                    Some(&b) => {
                        scratch.push(b);
                        i += 1;
                    }
                }
            }
            continue;
        }
        let start = i;
        let rest = buf.get(start..).unwrap_or(&[]);
        match rest.iter().position(|&b| b == DELIM || b == b'\n') {
            Some(k) => {
                let end = start + k;
                if rest.get(k) == Some(&DELIM) {
                    spans.push(Span { start, end, quoted: false });
                    i = end + 1;
                } else {
                    let trimmed = if end > start && buf.get(end - 1) == Some(&b'\r') { end - 1 } else { end };
                    spans.push(Span { start, end: trimmed, quoted: false });
                    return Split::Done { next: end + 1, lines };
                }
            }
            None if !eof => return Split::NeedMore,
            None => {
                let end = buf.len();
                let trimmed = if end > start && buf.get(end - 1) == Some(&b'\r') { end - 1 } else { end };
                spans.push(Span { start, end: trimmed, quoted: false });
                return Split::Done { next: end, lines };
            }
        }
    }
}

/// Reads as much as `buf` holds, unless the source ends first; returns the bytes read.
fn fill<R: Read>(src: &mut R, buf: &mut [u8], file: &str) -> Result<usize, TableError> {
    let mut n = 0;
    while n < buf.len() {
        let Some(dst) = buf.get_mut(n..) else { break };
        match src.read(dst) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(TableError::Io { file: file.to_owned(), message: e.to_string() }),
        }
    }
    Ok(n)
}

/// Calls `f` on every non-blank record (the header first) until it returns `false`.
fn records<R: Read>(
    mut src: R,
    file: &str,
    mut f: impl FnMut(&Record<'_>) -> Result<bool, TableError>,
) -> Result<(), TableError> {
    let mut buf: Vec<u8> = Vec::new();
    let mut spans: Vec<Span> = Vec::new();
    let mut scratch: Vec<u8> = Vec::new();
    let (mut pos, mut line, mut eof, mut first) = (0usize, 1u64, false, true);
    loop {
        // Read more: at least a chunk, and as much again as a long record already holds, so
        // that a record is split a bounded number of times.
        buf.drain(..pos);
        pos = 0;
        if buf.len() > MAX_RECORD {
            return Err(TableError::TooLong { file: file.to_owned(), line, limit: MAX_RECORD });
        }
        let old = buf.len();
        buf.resize(old + CHUNK.max(old), 0);
        let n = fill(&mut src, buf.get_mut(old..).unwrap_or(&mut []), file)?;
        buf.truncate(old + n);
        eof = eof || n == 0;
        if first {
            first = false;
            if buf.starts_with(b"\xEF\xBB\xBF") {
                pos = 3;
            }
        }
        while pos < buf.len() {
            match split(&buf, pos, eof, &mut spans, &mut scratch) {
                Split::NeedMore => break,
                Split::OpenQuote => return Err(TableError::OpenQuote { file: file.to_owned(), line }),
                Split::Done { next, lines } => {
                    let blank = matches!(spans.as_slice(), [s] if !s.quoted && s.start == s.end);
                    if !blank {
                        let rec =
                            Record { buf: &buf, scratch: &scratch, spans: &spans, line, bytes: next - pos };
                        if !f(&rec)? {
                            return Ok(());
                        }
                    }
                    line += 1 + lines;
                    pos = next;
                }
            }
        }
        if eof {
            return Ok(());
        }
    }
}

/// A cell without surrounding whitespace (ASCII, or Unicode as `str::trim` has it when the
/// cell has other bytes at its ends).
fn trim(cell: &[u8]) -> &[u8] {
    let t = cell.trim_ascii();
    match (t.first(), t.last()) {
        (Some(&a), Some(&b)) if a >= 0x80 || b >= 0x80 => match std::str::from_utf8(t) {
            Ok(s) => s.trim().as_bytes(),
            Err(_) => t,
        },
        _ => t,
    }
}

/// A cell's text for a message: lossy UTF-8, cut at 80 characters.
fn shown(cell: &[u8]) -> String {
    let s = String::from_utf8_lossy(cell);
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s.into_owned()
    }
}

/// A fast hash for level text (a multiply-rotate over 8-byte words, keyed per process).
/// Level dictionaries hold the analyst's own data; the key only spreads the values, it is
/// no defence against an adversary who crafts colliding values.
#[derive(Debug, Clone, Copy)]
struct LevelHasher(u64);

impl std::hash::Hasher for LevelHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            if let Some(dst) = w.get_mut(..rest.len()) {
                dst.copy_from_slice(rest);
            }
            h = (h.rotate_left(5) ^ u64::from_le_bytes(w) ^ ((rest.len() as u64) << 56)).wrapping_mul(K);
        }
        self.0 = h;
    }

    fn write_u8(&mut self, b: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn finish(&self) -> u64 {
        // A final mix so that the low bits (the table's index) depend on every byte.
        let h = self.0;
        (h ^ (h >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9) ^ (h >> 32)
    }
}

/// Level text to code: open addressing over the levels, with each level's first 16 bytes
/// and length kept beside it, so that a probe mostly compares two words, not two strings.
#[derive(Debug)]
struct Interner {
    /// Per slot, a code + 1 (0: empty). A power of two long, at most half full.
    slots: Vec<u32>,
    heads: Vec<[u64; 3]>,
    levels: Vec<String>,
    seed: u64,
}

impl Default for Interner {
    fn default() -> Self {
        use std::hash::BuildHasher;
        let seed = std::collections::hash_map::RandomState::new().hash_one(0x006b_6562_616f_u64);
        Interner { slots: vec![0; 64], heads: Vec::new(), levels: Vec::new(), seed }
    }
}

fn head(b: &[u8]) -> [u64; 3] {
    let mut w = [0u8; 16];
    let k = b.len().min(16);
    if let (Some(dst), Some(src)) = (w.get_mut(..k), b.get(..k)) {
        dst.copy_from_slice(src);
    }
    let (lo, hi) = w.split_at(8);
    let word = |s: &[u8]| {
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        u64::from_le_bytes(a)
    };
    [word(lo), word(hi), b.len() as u64]
}

impl Interner {
    fn slot_of(&self, b: &[u8]) -> usize {
        use std::hash::Hasher;
        let mut h = LevelHasher(self.seed);
        h.write(b);
        (h.finish() as usize) & (self.slots.len() - 1)
    }

    /// The code of a level already coded whose text is exactly `b`, or the empty slot where
    /// it would go.
    fn probe(&self, b: &[u8]) -> Result<u32, usize> {
        let key = head(b);
        let mask = self.slots.len() - 1;
        let mut i = self.slot_of(b);
        loop {
            let Some(&c) = self.slots.get(i) else { return Err(i) };
            if c == 0 {
                return Err(i);
            }
            let k = (c - 1) as usize;
            if self.heads.get(k) == Some(&key)
                && (b.len() <= 16 || self.levels.get(k).map(String::as_bytes) == Some(b))
            {
                return Ok(c - 1);
            }
            i = (i + 1) & mask;
        }
    }

    /// The code of a level already coded whose text is exactly `b`.
    fn find(&self, b: &[u8]) -> Option<u32> {
        self.probe(b).ok()
    }

    /// The code of `text`, coding it if new; `None` past the most codes there can be.
    fn code(&mut self, text: &str) -> Option<u32> {
        let b = text.as_bytes();
        let key = head(b);
        let i = match self.probe(b) {
            Ok(c) => return Some(c),
            Err(i) => i,
        };
        let code = u32::try_from(self.levels.len()).ok().filter(|&c| c < MISSING - 1)?;
        *self.slots.get_mut(i)? = code + 1;
        self.levels.push(text.to_owned());
        self.heads.push(key);
        if self.levels.len() * 2 > self.slots.len() {
            self.grow();
        }
        Some(code)
    }

    fn grow(&mut self) {
        self.slots = vec![0; self.slots.len() * 2];
        let mask = self.slots.len() - 1;
        for k in 0..self.levels.len() {
            let mut i = self.slot_of(self.levels.get(k).map_or(&[], |l| l.as_bytes()));
            while self.slots.get(i).is_some_and(|&c| c != 0) {
                i = (i + 1) & mask;
            }
            if let Some(s) = self.slots.get_mut(i) {
                *s = k as u32 + 1;
            }
        }
    }
}

/// Text values to codes, first seen first coded.
#[derive(Debug, Default)]
struct Coder {
    codes: Vec<u32>,
    index: Interner,
    /// Every cell is a level (no missing).
    label: bool,
}

impl Coder {
    fn code(&mut self, text: &str) -> Option<u32> {
        self.index.code(text)
    }

    /// The levels by code.
    fn levels(self) -> (Vec<u32>, Vec<String>) {
        (self.codes, self.index.levels)
    }
}

enum Sink {
    Number {
        values: Vec<f64>,
        infer: bool,
    },
    /// `from` is the first row coded in the first pass (rows before it were read as numbers
    /// until the column turned out to be text, and are coded in a second pass).
    Category {
        coder: Coder,
        from: usize,
    },
}

struct Slot {
    field: usize,
    name: String,
    sink: Sink,
}

/// The reading state shared by both passes.
struct Reader<'s> {
    file: &'s str,
    missing: Vec<Vec<u8>>,
    /// Whether the empty cell is missing, and which first bytes (either case) a missing
    /// token can start with: most cells are told apart by their first byte.
    empty_missing: bool,
    first: [bool; 256],
    required: bool,
}

impl Reader<'_> {
    fn new<'s>(file: &'s str, spec: &Spec) -> Reader<'s> {
        let missing: Vec<Vec<u8>> = spec.missing.iter().map(|m| m.trim().as_bytes().to_vec()).collect();
        let mut first = [false; 256];
        for t in &missing {
            if let Some(&b) = t.first() {
                for c in [b.to_ascii_lowercase(), b.to_ascii_uppercase()] {
                    if let Some(f) = first.get_mut(usize::from(c)) {
                        *f = true;
                    }
                }
            }
        }
        let empty_missing = missing.iter().any(|t| t.is_empty());
        Reader { file, missing, empty_missing, first, required: spec.required }
    }

    fn is_missing(&self, cell: &[u8]) -> bool {
        match cell.first() {
            None => self.empty_missing,
            Some(&b) => {
                self.first.get(usize::from(b)).copied().unwrap_or(false)
                    && self.missing.iter().any(|t| t.eq_ignore_ascii_case(cell))
            }
        }
    }

    /// Codes one category cell.
    fn code(&self, coder: &mut Coder, raw: &[u8], line: u64, name: &str) -> Result<u32, TableError> {
        // Most cells repeat a level already coded: its bytes are valid UTF-8 (they were checked
        // when it was first coded), and what `trim` strips is whitespace, so the cell reads as
        // that level without checking it again. Missing tokens are told apart first, as below.
        let t = trim(raw);
        if coder.label || !self.is_missing(t) {
            if let Some(c) = coder.index.find(t) {
                return Ok(c);
            }
        }
        let text = std::str::from_utf8(raw).map_err(|_| TableError::Utf8 {
            file: self.file.to_owned(),
            line,
            column: Some(name.to_owned()),
        })?;
        let text = text.trim();
        if !coder.label && self.is_missing(text.as_bytes()) {
            if self.required {
                return Err(TableError::Missing {
                    file: self.file.to_owned(),
                    line,
                    column: name.to_owned(),
                });
            }
            return Ok(MISSING);
        }
        coder.code(text).ok_or_else(|| TableError::TooManyLevels {
            file: self.file.to_owned(),
            column: name.to_owned(),
            limit: MISSING as usize,
        })
    }

    /// Reads one cell into its slot; `row` is the 0-based data row.
    fn cell(&self, slot: &mut Slot, raw: &[u8], line: u64, row: usize) -> Result<(), TableError> {
        match &mut slot.sink {
            Sink::Number { values, infer } => {
                let cell = trim(raw);
                let err = |finite: bool| {
                    let (file, column, cell) = (self.file.to_owned(), slot.name.clone(), shown(cell));
                    if finite {
                        TableError::NotANumber { file, line, column, cell }
                    } else {
                        TableError::NotFinite { file, line, column, cell }
                    }
                };
                if self.is_missing(cell) {
                    if self.required {
                        return Err(err(true));
                    }
                    values.push(f64::NAN);
                    return Ok(());
                }
                match parse_f64(cell) {
                    Some(x) if x.is_finite() => values.push(x),
                    Some(_) => return Err(err(false)),
                    None if *infer => {
                        // Text after all: the column is a category from here on; the rows
                        // read so far are coded in a second pass.
                        let mut coder = Coder { codes: Vec::new(), index: Interner::default(), label: false };
                        coder.codes.reserve(values.capacity());
                        coder.codes.resize(row, MISSING);
                        let c = self.code(&mut coder, raw, line, &slot.name)?;
                        coder.codes.push(c);
                        slot.sink = Sink::Category { coder, from: row };
                    }
                    None => return Err(err(true)),
                }
            }
            Sink::Category { coder, .. } => {
                let c = self.code(coder, raw, line, &slot.name)?;
                coder.codes.push(c);
            }
        }
        Ok(())
    }
}

fn read<R: Read>(
    file: &str,
    open: impl Fn() -> Result<R, TableError>,
    size: Option<u64>,
    spec: &Spec,
) -> Result<Table, TableError> {
    let reader = Reader::new(file, spec);
    let mut headers: Option<Vec<String>> = None;
    let mut slots: Vec<Slot> = Vec::new();
    let (mut rows, mut bytes) = (0usize, 0usize);
    records(open()?, file, |rec| {
        let Some(h) = &headers else {
            let names = (0..rec.len())
                .map(|k| {
                    std::str::from_utf8(rec.field(k))
                        .map(|s| s.trim().to_owned())
                        .map_err(|_| TableError::Utf8 { file: file.to_owned(), line: rec.line, column: None })
                })
                .collect::<Result<Vec<String>, _>>()?;
            slots = plan(file, &names, spec)?;
            headers = Some(names);
            return Ok(true);
        };
        if rec.len() != h.len() {
            return Err(TableError::Ragged {
                file: file.to_owned(),
                line: rec.line,
                found: rec.len(),
                expected: h.len(),
            });
        }
        for slot in &mut slots {
            reader.cell(slot, rec.field(slot.field), rec.line, rows)?;
        }
        rows += 1;
        bytes += rec.bytes;
        if rows == SAMPLE_ROWS {
            reserve(&mut slots, size, bytes, rows, h.len());
        }
        Ok(true)
    })?;
    let headers = headers.ok_or_else(|| TableError::Empty { file: file.to_owned() })?;
    // Columns that turned out to be text: code the rows read before as numbers.
    let until = slots
        .iter()
        .map(|s| match &s.sink {
            Sink::Category { from, .. } => *from,
            Sink::Number { .. } => 0,
        })
        .max()
        .unwrap_or(0);
    if until > 0 {
        let mut row = 0usize;
        let mut header = true;
        records(open()?, file, |rec| {
            if header {
                header = false;
                return Ok(true);
            }
            for slot in &mut slots {
                if let Sink::Category { coder, from } = &mut slot.sink {
                    if row < *from {
                        let c = reader.code(coder, rec.field(slot.field), rec.line, &slot.name)?;
                        if let Some(x) = coder.codes.get_mut(row) {
                            *x = c;
                        }
                    }
                }
            }
            row += 1;
            Ok(row < until)
        })?;
    }
    let columns = slots
        .into_iter()
        .map(|s| Column {
            name: s.name,
            values: match s.sink {
                Sink::Number { mut values, .. } => {
                    values.shrink_to_fit();
                    Values::Number(values)
                }
                Sink::Category { coder, from } => {
                    let (mut codes, mut levels) = coder.levels();
                    if from > 0 {
                        first_seen_order(&mut codes, &mut levels);
                    }
                    codes.shrink_to_fit();
                    Values::Category { codes, levels }
                }
            },
        })
        .collect();
    Ok(Table { source: file.to_owned(), headers, columns, rows })
}

/// The slots of the columns asked for, from the header.
fn plan(file: &str, headers: &[String], spec: &Spec) -> Result<Vec<Slot>, TableError> {
    let mut slots: Vec<Slot> = Vec::new();
    let mut named: Vec<(&str, usize)> = Vec::new();
    let sink = |kind: Kind| match kind {
        Kind::Number => Some(Sink::Number { values: Vec::new(), infer: false }),
        Kind::Infer => Some(Sink::Number { values: Vec::new(), infer: true }),
        Kind::Category | Kind::Label => Some(Sink::Category {
            coder: Coder { codes: Vec::new(), index: Interner::default(), label: kind == Kind::Label },
            from: 0,
        }),
        Kind::Skip => None,
    };
    for (name, kind) in &spec.columns {
        if named.iter().any(|(n, _)| n == name) {
            continue;
        }
        let field = headers.iter().position(|h| h == name).ok_or_else(|| TableError::NoColumn {
            file: file.to_owned(),
            column: name.clone(),
            columns: headers.join(", "),
        })?;
        named.push((name, field));
        if let Some(sink) = sink(*kind) {
            slots.push(Slot { field, name: name.clone(), sink });
        }
    }
    if let Some(kind) = spec.rest {
        for (field, name) in headers.iter().enumerate() {
            if named.iter().any(|(_, f)| *f == field) {
                continue;
            }
            if let Some(s) = sink(kind) {
                slots.push(Slot { field, name: name.clone(), sink: s });
            }
        }
    }
    Ok(slots)
}

/// Reserves each column's memory for the rows the file is likely to hold: its size over the
/// mean record length so far, capped by the most records a file of that size can hold (each
/// has `fields` bytes at least: the delimiters and the line end).
fn reserve(slots: &mut [Slot], size: Option<u64>, bytes: usize, rows: usize, fields: usize) {
    let Some(size) = size.and_then(|s| usize::try_from(s).ok()) else { return };
    let mean = (bytes / rows.max(1)).max(1);
    let estimate = (size / mean).saturating_add(size / mean / 20).min(size / fields.max(1) + 1);
    let more = estimate.saturating_sub(rows);
    for s in slots {
        match &mut s.sink {
            Sink::Number { values, .. } => values.reserve(more),
            Sink::Category { coder, .. } => coder.codes.reserve(more),
        }
    }
}

/// Renumbers codes so that levels are in order of first appearance.
fn first_seen_order(codes: &mut [u32], levels: &mut Vec<String>) {
    let mut remap = vec![MISSING; levels.len()];
    let mut next = 0u32;
    for c in codes.iter_mut() {
        if let Some(r) = remap.get_mut(*c as usize) {
            if *r == MISSING {
                *r = next;
                next += 1;
            }
            *c = *r;
        }
    }
    let mut ordered = vec![String::new(); levels.len()];
    for (old, l) in levels.drain(..).enumerate() {
        if let Some(slot) = remap.get(old).and_then(|&r| ordered.get_mut(r as usize)) {
            *slot = l;
        }
    }
    ordered.truncate(next as usize);
    *levels = ordered;
}
