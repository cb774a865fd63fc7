//! Spreadsheets in and out: CSV (UTF-8) and Excel (.xlsx), as a plain table of text.
//!
//! Every spreadsheet the platform reads (registry import in the UI and the CLI, `kebao
//! credit import`) goes through [`read`], which is bounded before it allocates: a workbook
//! is a ZIP archive whose parts are unpacked (and counted, not trusted) before calamine
//! opens it, and its cells are streamed and checked against the limits below one by one,
//! so neither a zip bomb nor one cell at `XFD1048576` can make it build a huge grid.

use calamine::{Data, Reader, Xlsx};
use std::io::{Cursor, Read};

/// The largest upload read (10 MiB).
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;
/// The most data rows read from one file.
pub const MAX_ROWS: usize = 200_000;
/// The most columns read from one file.
pub const MAX_COLUMNS: usize = 256;
/// The most cells in one table: rows × columns, padded as a grid.
pub const MAX_CELLS: usize = 4_000_000;
/// The most characters in one cell (Excel's own limit).
pub const MAX_CELL_CHARS: usize = 32_767;
/// The most bytes of cell text in one table (a shared string may be used by many cells).
pub const MAX_TEXT_BYTES: usize = 64 * 1024 * 1024;
/// The most bytes one part of a workbook (a sheet, the shared strings) may unpack to.
pub const MAX_PART_BYTES: u64 = 64 * 1024 * 1024;
/// The most bytes all parts of a workbook may unpack to together. XML compresses about
/// ten to one, so a workbook within [`MAX_UPLOAD_BYTES`] that is not a bomb fits.
pub const MAX_UNPACKED_BYTES: u64 = 128 * 1024 * 1024;
/// The most parts (files) in a workbook archive.
pub const MAX_PARTS: usize = 1_000;

/// A table: header names and rows of cells, all text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// File formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    /// From a file name's extension.
    pub fn from_name(name: &str) -> Option<Format> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            Some(Format::Csv)
        } else if lower.ends_with(".xlsx") {
            Some(Format::Xlsx)
        } else {
            None
        }
    }

    /// From the first bytes: a ZIP signature is .xlsx, anything else CSV.
    pub fn sniff(bytes: &[u8]) -> Format {
        if bytes.starts_with(b"PK\x03\x04") {
            Format::Xlsx
        } else {
            Format::Csv
        }
    }
}

/// Why a file could not be read as a table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error("the file is {size} bytes; the limit is {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("the file has more than {0} rows; split it")]
    TooManyRows(usize),
    #[error("the CSV file is not UTF-8 text (byte {offset}); save it as CSV UTF-8")]
    NotUtf8 { offset: usize },
    #[error("the file is empty: it has no header row")]
    Empty,
    #[error("the CSV file is malformed at line {line}: {message}")]
    Csv { line: u64, message: String },
    #[error("the Excel file cannot be read: {0}")]
    Xlsx(String),
    #[error("the spreadsheet lacks the required column `{0}`")]
    MissingColumn(String),
    #[error("the file has more than {0} columns")]
    TooManyColumns(usize),
    #[error("the file has more than {0} cells (rows × columns); split it")]
    TooManyCells(usize),
    #[error("a cell in row {row} is longer than {limit} characters")]
    CellTooLong { row: usize, limit: usize },
    #[error("the file holds more than {limit} bytes of text; split it")]
    TooMuchText { limit: usize },
    #[error("the Excel file unpacks to more than {limit} bytes (or {per_part} bytes in one part, or {parts} parts); it is refused as a possible zip bomb")]
    Unpacked { limit: u64, per_part: u64, parts: usize },
    #[error("this is a {0} file, not a spreadsheet: upload an Excel (.xlsx) or CSV (UTF-8) file")]
    NotATable(&'static str),
}

/// What a file that is not a table is, from its first bytes (`None`: it may be one).
fn not_a_table(bytes: &[u8]) -> Option<&'static str> {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"%PDF", "PDF"),
        (b"\x89PNG", "PNG"),
        (b"\xFF\xD8\xFF", "JPEG"),
        (b"GIF8", "GIF"),
        (b"\xD0\xCF\x11\xE0", "Excel 97–2003 (.xls) / Word (.doc)"),
        (b"Rar!", "RAR"),
        (b"7z\xBC\xAF", "7z"),
    ];
    SIGNATURES.iter().find(|(sig, _)| bytes.starts_with(sig)).map(|(_, kind)| *kind)
}

impl TableError {
    /// The message in Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            TableError::TooLarge { size, limit } => format!("文件过大（{size} 字节），上限为 {limit} 字节"),
            TableError::TooManyRows(n) => format!("文件超过 {n} 行，请拆分后上传"),
            TableError::NotUtf8 { offset } => {
                format!("CSV 文件不是 UTF-8 编码（第 {offset} 字节），请另存为“CSV UTF-8”")
            }
            TableError::Empty => "文件为空，缺少表头行".to_owned(),
            TableError::Csv { line, message } => format!("CSV 第 {line} 行格式错误：{message}"),
            TableError::Xlsx(m) => format!("无法读取 Excel 文件：{m}"),
            TableError::MissingColumn(c) => format!("表格缺少必需的列 `{c}`"),
            TableError::TooManyColumns(n) => format!("文件超过 {n} 列"),
            TableError::TooManyCells(n) => format!("文件超过 {n} 个单元格（行数 × 列数），请拆分后上传"),
            TableError::CellTooLong { row, limit } => format!("第 {row} 行有单元格超过 {limit} 个字符"),
            TableError::TooMuchText { limit } => format!("文件中的文字超过 {limit} 字节，请拆分后上传"),
            TableError::Unpacked { limit, per_part, parts } => format!(
                "Excel 文件解压后超过 {limit} 字节（或单个部件超过 {per_part} 字节，或超过 {parts} 个部件），疑为压缩炸弹，已拒绝"
            ),
            TableError::NotATable(kind) => {
                format!("这是 {kind} 文件，不是表格：请上传 Excel（.xlsx）或 CSV（UTF-8）文件")
            }
        }
    }

    /// A stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            TableError::TooLarge { .. } => "upload_too_large",
            TableError::TooManyRows(_) => "too_many_rows",
            TableError::NotUtf8 { .. } => "not_utf8",
            TableError::Empty => "empty_file",
            TableError::Csv { .. } => "csv_malformed",
            TableError::Xlsx(_) => "xlsx_unreadable",
            TableError::MissingColumn(_) => "missing_column",
            TableError::TooManyColumns(_) => "too_many_columns",
            TableError::TooManyCells(_) => "too_many_cells",
            TableError::CellTooLong { .. } => "cell_too_long",
            TableError::TooMuchText { .. } => "too_much_text",
            TableError::Unpacked { .. } => "xlsx_unpacks_too_large",
            TableError::NotATable(_) => "not_a_table",
        }
    }
}

/// Reads a CSV or .xlsx file into a table (the first sheet of a workbook).
pub fn read(bytes: &[u8], format: Format) -> Result<Table, TableError> {
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(TableError::TooLarge { size: bytes.len(), limit: MAX_UPLOAD_BYTES });
    }
    if let Some(kind) = not_a_table(bytes) {
        return Err(TableError::NotATable(kind));
    }
    match format {
        Format::Csv => read_csv(bytes),
        Format::Xlsx => read_xlsx(bytes),
    }
}

fn read_csv(bytes: &[u8]) -> Result<Table, TableError> {
    let text = std::str::from_utf8(bytes).map_err(|e| TableError::NotUtf8 { offset: e.valid_up_to() })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut budget = Budget::default();
    for rec in reader.records() {
        let rec = rec.map_err(|e| TableError::Csv {
            line: e.position().map_or(0, |p| p.line()),
            message: e.to_string(),
        })?;
        if rows.len() > MAX_ROWS {
            return Err(TableError::TooManyRows(MAX_ROWS));
        }
        if rec.len() > MAX_COLUMNS {
            return Err(TableError::TooManyColumns(MAX_COLUMNS));
        }
        budget.cells(rec.len())?;
        let row_number = rows.len() + 1;
        let row = rec
            .iter()
            .map(|c| budget.text(row_number, c.trim()).map(str::to_owned))
            .collect::<Result<Vec<_>, _>>()?;
        rows.push(row);
    }
    split_header(rows)
}

/// What a table may still take: cells and bytes of text, counted as they are read.
#[derive(Default)]
struct Budget {
    cells: usize,
    text_bytes: usize,
}

impl Budget {
    fn cells(&mut self, n: usize) -> Result<(), TableError> {
        self.cells = self.cells.saturating_add(n);
        if self.cells > MAX_CELLS {
            return Err(TableError::TooManyCells(MAX_CELLS));
        }
        Ok(())
    }

    /// Checks one cell's text (`row` 1-based, for the message) and counts it.
    fn text<'t>(&mut self, row: usize, text: &'t str) -> Result<&'t str, TableError> {
        // A char is at most 4 bytes: only a long text needs counting.
        if text.len() > MAX_CELL_CHARS && text.chars().count() > MAX_CELL_CHARS {
            return Err(TableError::CellTooLong { row, limit: MAX_CELL_CHARS });
        }
        self.text_bytes = self.text_bytes.saturating_add(text.len());
        if self.text_bytes > MAX_TEXT_BYTES {
            return Err(TableError::TooMuchText { limit: MAX_TEXT_BYTES });
        }
        Ok(text)
    }
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_owned(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => excel_date(dt.as_f64()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.get(..10).unwrap_or(s).to_owned(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// An Excel serial date (days since 1899-12-30) as an ISO date.
fn excel_date(serial: f64) -> String {
    const JULIAN_1899_12_30: i64 = 2_415_019;
    let day = serial.floor();
    if !(0.0..3_000_000.0).contains(&day) {
        return serial.to_string();
    }
    i32::try_from(JULIAN_1899_12_30 + day as i64)
        .ok()
        .and_then(|j| time::Date::from_julian_day(j).ok())
        .map_or_else(|| serial.to_string(), |d| d.to_string())
}

fn read_xlsx(bytes: &[u8]) -> Result<Table, TableError> {
    check_archive(bytes)?;
    // calamine does unchecked arithmetic on cell references (`A99999999999` overflows a
    // u32; a dimension `B2:A1` underflows), which panics with overflow checks on, as they
    // are in every profile here. Such a file is refused like any other unreadable one.
    std::panic::catch_unwind(|| read_first_sheet(bytes)).unwrap_or_else(|_| {
        Err(TableError::Xlsx("a cell reference or the sheet's dimension is malformed".to_owned()))
    })
}

/// Unpacks every part of the archive, counting the bytes it really yields (the sizes the
/// archive declares are not trusted), and refuses it past the limits. calamine reads the
/// shared strings whole when it opens a workbook, so this must come first.
fn check_archive(bytes: &[u8]) -> Result<(), TableError> {
    let bomb =
        || TableError::Unpacked { limit: MAX_UNPACKED_BYTES, per_part: MAX_PART_BYTES, parts: MAX_PARTS };
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| TableError::Xlsx(e.to_string()))?;
    if zip.len() > MAX_PARTS {
        return Err(bomb());
    }
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let part = zip.by_index(i).map_err(|e| TableError::Xlsx(e.to_string()))?;
        let n = std::io::copy(&mut part.take(MAX_PART_BYTES + 1), &mut std::io::sink())
            .map_err(|e| TableError::Xlsx(e.to_string()))?;
        total = total.saturating_add(n);
        if n > MAX_PART_BYTES || total > MAX_UNPACKED_BYTES {
            return Err(bomb());
        }
    }
    Ok(())
}

/// Streams the first sheet's cells (never calamine's dense grid), checking the declared
/// dimension first and then every cell's position and text before keeping it.
fn read_first_sheet(bytes: &[u8]) -> Result<Table, TableError> {
    let xlsx = |e: calamine::XlsxError| TableError::Xlsx(e.to_string());
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(xlsx)?;
    let sheet = book.sheet_names().first().cloned().ok_or(TableError::Empty)?;
    let mut cells = book.worksheet_cells_reader(&sheet).map_err(xlsx)?;
    let declared = cells.dimensions();
    check_position(declared.end)?;
    let mut budget = Budget::default();
    let mut kept: Vec<((u32, u32), String)> = Vec::new();
    while let Some(cell) = cells.next_cell().map_err(xlsx)? {
        let pos = cell.get_position();
        check_position(pos)?;
        let text = cell_text(&Data::from(cell.get_value().clone()));
        if text.is_empty() {
            continue;
        }
        let row = usize::try_from(pos.0).unwrap_or(usize::MAX).saturating_add(1);
        budget.text(row, &text)?;
        budget.cells(1)?;
        kept.push((pos, text));
    }
    grid(kept).map_or(Err(TableError::Empty), |rows| rows.and_then(split_header))
}

/// Refuses a (0-based) cell position past the header row and [`MAX_ROWS`], or past
/// [`MAX_COLUMNS`].
fn check_position((row, col): (u32, u32)) -> Result<(), TableError> {
    if usize::try_from(row).map_or(true, |r| r > MAX_ROWS) {
        return Err(TableError::TooManyRows(MAX_ROWS));
    }
    if usize::try_from(col).map_or(true, |c| c >= MAX_COLUMNS) {
        return Err(TableError::TooManyColumns(MAX_COLUMNS));
    }
    Ok(())
}

/// The cells as rows from the first used row and column on, every row as wide as the
/// widest (as calamine's range was), or `None` when there are no cells. The grid is
/// sized, and refused past [`MAX_CELLS`], before it is allocated.
fn grid(mut cells: Vec<((u32, u32), String)>) -> Option<Result<Vec<Vec<String>>, TableError>> {
    let top = cells.iter().map(|((r, _), _)| *r).min()?;
    let left = cells.iter().map(|((_, c), _)| *c).min()?;
    let bottom = cells.iter().map(|((r, _), _)| *r).max()?;
    let right = cells.iter().map(|((_, c), _)| *c).max()?;
    // Positions are within MAX_ROWS and MAX_COLUMNS (check_position), so these fit.
    let height = (bottom - top) as usize + 1;
    let width = (right - left) as usize + 1;
    if height.saturating_mul(width) > MAX_CELLS {
        return Some(Err(TableError::TooManyCells(MAX_CELLS)));
    }
    let mut rows = vec![vec![String::new(); width]; height];
    cells.sort_by_key(|(pos, _)| *pos);
    for ((r, c), text) in cells {
        if let Some(slot) = rows.get_mut((r - top) as usize).and_then(|row| row.get_mut((c - left) as usize))
        {
            *slot = text;
        }
    }
    Some(Ok(rows))
}

fn split_header(mut rows: Vec<Vec<String>>) -> Result<Table, TableError> {
    // Drop wholly empty trailing rows (spreadsheets often have them).
    while rows.last().is_some_and(|r| r.iter().all(String::is_empty)) {
        rows.pop();
    }
    if rows.is_empty() {
        return Err(TableError::Empty);
    }
    let headers = rows.remove(0);
    Ok(Table { headers, rows })
}

impl Table {
    /// The index of a column by any of its names (code or Chinese label), case-insensitive.
    pub fn column(&self, names: &[&str]) -> Option<usize> {
        self.headers.iter().position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
    }

    /// A cell, or "" past the end of a short row.
    pub fn cell(&self, row: usize, col: Option<usize>) -> &str {
        match (self.rows.get(row), col) {
            (Some(r), Some(c)) => r.get(c).map_or("", String::as_str),
            _ => "",
        }
    }
}

/// Writes a table as CSV (UTF-8 with a byte-order mark, which Excel needs to read Chinese).
/// Every CSV export goes through here, so every text cell is made inert ([`inert_cell`]).
pub fn write_csv(t: &Table) -> Result<Vec<u8>, String> {
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(t.headers.iter().map(|c| inert_cell(c).into_owned().into_bytes()))
            .map_err(|e| e.to_string())?;
        for r in &t.rows {
            w.write_record(r.iter().map(|c| inert_cell(c).into_owned().into_bytes()))
                .map_err(|e| e.to_string())?;
        }
        w.flush().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// A CSV cell that a spreadsheet will not run as a formula (OWASP's rule against CSV
/// injection): text starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a
/// leading `'`. A plain number (`-12.50`, `+3`) is left as it is, so it stays a number.
pub fn inert_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && !is_plain_number(cell) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// An optional sign, digits, and at most one decimal point among them.
fn is_plain_number(s: &str) -> bool {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    !(int.is_empty() && frac.is_empty())
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

/// Writes a table as an .xlsx workbook with a bold, frozen header row. Needs no
/// [`inert_cell`]: `write_string` stores every cell as a string, never as a formula, so a
/// name such as `=HYPERLINK(…)` shows as text in Excel.
pub fn write_xlsx(t: &Table, sheet_name: &str) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format as XFormat, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(sheet_name).map_err(|e| e.to_string())?;
    let bold = XFormat::new().set_bold();
    for (c, h) in t.headers.iter().enumerate() {
        let c = u16::try_from(c).map_err(|_| "too many columns".to_owned())?;
        sheet.write_string_with_format(0, c, h, &bold).map_err(|e| e.to_string())?;
        sheet.set_column_width(c, 18).map_err(|e| e.to_string())?;
    }
    for (r, row) in t.rows.iter().enumerate() {
        let r = u32::try_from(r + 1).map_err(|_| "too many rows".to_owned())?;
        for (c, v) in row.iter().enumerate() {
            let c = u16::try_from(c).map_err(|_| "too many columns".to_owned())?;
            sheet.write_string(r, c, v).map_err(|e| e.to_string())?;
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(|e| e.to_string())?;
    book.save_to_buffer().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_both_formats() {
        let t = Table {
            headers: vec!["name".into(), "uscc".into()],
            rows: vec![vec!["光谷科技".into(), "91440300708461136T".into()]],
        };
        let csv = write_csv(&t).unwrap_or_default();
        assert_eq!(read(&csv, Format::sniff(&csv)), Ok(t.clone()));
        let xlsx = write_xlsx(&t, "orgs").unwrap_or_default();
        assert_eq!(Format::sniff(&xlsx), Format::Xlsx);
        // A PDF or an image is named for what it is, whatever its name says.
        for (bytes, kind) in [(&b"%PDF-1.4 name,uscc"[..], "PDF"), (&b"\x89PNG\r\n"[..], "PNG")] {
            assert_eq!(read(bytes, Format::Csv), Err(TableError::NotATable(kind)));
            assert_eq!(read(bytes, Format::Xlsx), Err(TableError::NotATable(kind)));
        }
        assert_eq!(read(&xlsx, Format::Xlsx), Ok(t));
    }

    #[test]
    fn excel_serial_dates() {
        assert_eq!(excel_date(45_000.0), "2023-03-15");
        assert_eq!(excel_date(1.0), "1899-12-31");
    }

    #[test]
    fn bad_files_are_named() {
        assert!(matches!(read(b"name\n\xff\xfe", Format::Csv), Err(TableError::NotUtf8 { offset: 5 })));
        assert_eq!(read(b"", Format::Csv), Err(TableError::Empty));
        let big = vec![b'a'; MAX_UPLOAD_BYTES + 1];
        assert!(matches!(read(&big, Format::Csv), Err(TableError::TooLarge { .. })));
        assert!(matches!(read(b"PK\x03\x04garbage", Format::Xlsx), Err(TableError::Xlsx(_))));
    }

    /// A real workbook (rust_xlsxwriter's) with its first sheet replaced by `sheet` and
    /// the parts in `extra` added or replaced.
    fn workbook(sheet: &[u8], extra: &[(&str, &[u8])]) -> Vec<u8> {
        use std::io::Write;
        let t = Table { headers: vec!["name".into()], rows: vec![vec!["甲".into()]] };
        let base = write_xlsx(&t, "orgs").unwrap();
        let mut src = zip::ZipArchive::new(Cursor::new(base)).unwrap();
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(1));
        let mut replaced: Vec<(String, Vec<u8>)> =
            extra.iter().map(|(n, b)| ((*n).to_owned(), b.to_vec())).collect();
        replaced.push(("xl/worksheets/sheet1.xml".into(), sheet.to_vec()));
        for i in 0..src.len() {
            let mut f = src.by_index(i).unwrap();
            let name = f.name().to_owned();
            if replaced.iter().any(|(n, _)| *n == name) {
                continue;
            }
            let mut body = Vec::new();
            f.read_to_end(&mut body).unwrap();
            out.start_file(name, opts).unwrap();
            out.write_all(&body).unwrap();
        }
        for (name, body) in replaced {
            out.start_file(name, opts).unwrap();
            out.write_all(&body).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    fn sheet(dimension: &str, rows: &str) -> Vec<u8> {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{dimension}<sheetData>{rows}</sheetData></worksheet>"#
        )
        .into_bytes()
    }

    const HEADER: &str = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row>"#;

    /// Reads, and asserts that it was quick: seconds at most in an unoptimised build on a
    /// busy machine (the slowest case, 200,100 streamed rows, takes about 4 s there and a
    /// fraction of a second in release).
    fn timed_read(bytes: &[u8]) -> Result<Table, TableError> {
        let start = std::time::Instant::now();
        let r = read(bytes, Format::Xlsx);
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "took {:?}", start.elapsed());
        r
    }

    #[test]
    fn a_hand_made_workbook_reads() {
        let rows = format!(
            r#"{HEADER}<row r="2"><c r="A2" t="inlineStr"><is><t> 乙 </t></is></c><c r="C2"><v>42</v></c></row>"#
        );
        let t = timed_read(&workbook(&sheet(r#"<dimension ref="A1:C2"/>"#, &rows), &[])).unwrap();
        assert_eq!(t.headers, vec!["name", "", ""]);
        assert_eq!(t.rows, vec![vec!["乙".to_owned(), String::new(), "42".to_owned()]]);
    }

    #[test]
    fn one_far_cell_is_refused_before_any_grid_is_built() {
        let far = |cell: &str| format!(r#"{HEADER}<row r="1000000"><c r="{cell}"><v>1</v></c></row>"#);
        // By the declared dimension, before any cell is read.
        let xfd = workbook(&sheet(r#"<dimension ref="A1:XFD1048576"/>"#, &far("XFD1048576")), &[]);
        assert!(xfd.len() < 8 * 1024, "{} bytes", xfd.len());
        assert_eq!(timed_read(&xfd), Err(TableError::TooManyRows(MAX_ROWS)));
        // By the cell's own reference when the dimension lies or is absent.
        let all = workbook(&sheet(r#"<dimension ref="A1"/>"#, &far("ALL1000000")), &[]);
        assert_eq!(timed_read(&all), Err(TableError::TooManyRows(MAX_ROWS)));
        let wide = format!(r#"{HEADER}<row r="2"><c r="ALL2"><v>1</v></c></row>"#);
        assert_eq!(
            timed_read(&workbook(&sheet("", &wide), &[])),
            Err(TableError::TooManyColumns(MAX_COLUMNS))
        );
        // Within both limits but too large a grid: the last row and column (rows × columns).
        let corner = format!(r#"{HEADER}<row r="200001"><c r="IV200001"><v>1</v></c></row>"#);
        assert_eq!(timed_read(&workbook(&sheet("", &corner), &[])), Err(TableError::TooManyCells(MAX_CELLS)));
        // References that overflow calamine's arithmetic are refused, not a panic.
        let huge = format!(r#"{HEADER}<row r="2"><c r="A99999999999"><v>1</v></c></row>"#);
        assert!(matches!(timed_read(&workbook(&sheet("", &huge), &[])), Err(TableError::Xlsx(_))));
        let upside_down = workbook(&sheet(r#"<dimension ref="B2:A1"/>"#, HEADER), &[]);
        assert!(matches!(timed_read(&upside_down), Err(TableError::Xlsx(_))));
    }

    #[test]
    fn three_million_rows_are_refused_quickly() {
        // Rows without references (calamine counts them) compress as well as the finding's
        // 429 KB file did.
        let rows = format!("{HEADER}{}", "<row><c><v>1</v></c></row>".repeat(3_000_000));
        let bytes = workbook(&sheet("", &rows), &[]);
        assert!(bytes.len() < 2 * 1024 * 1024, "{} bytes", bytes.len());
        assert_eq!(timed_read(&bytes).unwrap_err().code(), "xlsx_unpacks_too_large");
        // Fewer rows that unpack within the limits are stopped by the row limit as they stream.
        let rows = format!("{HEADER}{}", "<row><c><v>1</v></c></row>".repeat(MAX_ROWS + 100));
        assert_eq!(timed_read(&workbook(&sheet("", &rows), &[])), Err(TableError::TooManyRows(MAX_ROWS)));
    }

    #[test]
    fn a_zip_bomb_of_shared_strings_is_refused_before_calamine_opens_it() {
        let mut strings = Vec::from(
            &br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>"#[..],
        );
        strings.resize(strings.len() + MAX_PART_BYTES as usize + 1, b'a');
        strings.extend_from_slice(b"</t></si></sst>");
        let bytes = workbook(&sheet("", HEADER), &[("xl/sharedStrings.xml", &strings)]);
        assert!(bytes.len() < MAX_UPLOAD_BYTES, "{} bytes", bytes.len());
        assert_eq!(timed_read(&bytes).unwrap_err().code(), "xlsx_unpacks_too_large");
    }

    #[test]
    fn long_cells_and_wide_csv_are_refused() {
        let long = format!(
            r#"{HEADER}<row r="2"><c r="A2" t="inlineStr"><is><t>{}</t></is></c></row>"#,
            "科".repeat(MAX_CELL_CHARS + 1)
        );
        assert_eq!(
            timed_read(&workbook(&sheet("", &long), &[])),
            Err(TableError::CellTooLong { row: 2, limit: MAX_CELL_CHARS })
        );
        let ok = format!("name\n{}\n", "科".repeat(MAX_CELL_CHARS));
        assert!(read(ok.as_bytes(), Format::Csv).is_ok());
        let long = format!("name\n{}\n", "科".repeat(MAX_CELL_CHARS + 1));
        assert_eq!(
            read(long.as_bytes(), Format::Csv),
            Err(TableError::CellTooLong { row: 2, limit: MAX_CELL_CHARS })
        );
        let wide = format!("name{}\n", ",".repeat(MAX_COLUMNS));
        assert_eq!(read(wide.as_bytes(), Format::Csv), Err(TableError::TooManyColumns(MAX_COLUMNS)));
        let cells = format!(
            "name\n{}",
            format!("{}\n", ",".repeat(MAX_COLUMNS - 1)).repeat(MAX_CELLS / MAX_COLUMNS + 1)
        );
        assert_eq!(read(cells.as_bytes(), Format::Csv), Err(TableError::TooManyCells(MAX_CELLS)));
    }

    #[test]
    fn csv_cells_that_would_run_as_formulas_are_made_inert() {
        let t = Table {
            headers: vec!["name".into(), "amount".into()],
            rows: vec![
                vec!["=HYPERLINK(\"http://evil.example\",\"点此\")".into(), "-12.50".into()],
                vec!["+1+1".into(), "+3".into()],
                vec!["-2+3".into(), "-7".into()],
                vec!["@SUM(A1)".into(), "0.5".into()],
                vec!["\tcmd".into(), "-".into()],
                vec!["\rx".into(), "12".into()],
                vec!["光谷科技 = 好".into(), "1e5".into()],
            ],
        };
        let csv = String::from_utf8(write_csv(&t).unwrap()).unwrap();
        let back = read(csv.as_bytes(), Format::Csv).unwrap();
        let col = |c: usize| back.rows.iter().map(|r| r[c].clone()).collect::<Vec<_>>();
        assert_eq!(
            col(0),
            vec![
                "'=HYPERLINK(\"http://evil.example\",\"点此\")",
                "'+1+1",
                "'-2+3",
                "'@SUM(A1)",
                "'\tcmd",
                "'\rx",
                "光谷科技 = 好"
            ]
        );
        assert_eq!(col(1), vec!["-12.50", "+3", "-7", "0.5", "'-", "12", "1e5"]);
    }
}
