//! Spreadsheets in and out: CSV (UTF-8) and Excel (.xlsx), as a plain table of text.

use calamine::{Data, Reader, Xlsx};
use std::io::Cursor;

/// The largest upload read (10 MiB).
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;
/// The most data rows read from one file.
pub const MAX_ROWS: usize = 200_000;

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
        }
    }
}

/// Reads a CSV or .xlsx file into a table (the first sheet of a workbook).
pub fn read(bytes: &[u8], format: Format) -> Result<Table, TableError> {
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(TableError::TooLarge { size: bytes.len(), limit: MAX_UPLOAD_BYTES });
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
    for rec in reader.records() {
        let rec = rec.map_err(|e| TableError::Csv {
            line: e.position().map_or(0, |p| p.line()),
            message: e.to_string(),
        })?;
        rows.push(rec.iter().map(|c| c.trim().to_owned()).collect::<Vec<_>>());
        if rows.len() > MAX_ROWS + 1 {
            return Err(TableError::TooManyRows(MAX_ROWS));
        }
    }
    split_header(rows)
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
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| TableError::Xlsx(e.to_string()))?;
    let sheet = book.sheet_names().first().cloned().ok_or(TableError::Empty)?;
    let range = book.worksheet_range(&sheet).map_err(|e| TableError::Xlsx(e.to_string()))?;
    if range.height() > MAX_ROWS + 1 {
        return Err(TableError::TooManyRows(MAX_ROWS));
    }
    let rows = range.rows().map(|r| r.iter().map(cell_text).collect()).collect();
    split_header(rows)
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
pub fn write_csv(t: &Table) -> Result<Vec<u8>, String> {
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(&t.headers).map_err(|e| e.to_string())?;
        for r in &t.rows {
            w.write_record(r).map_err(|e| e.to_string())?;
        }
        w.flush().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Writes a table as an .xlsx workbook with a bold, frozen header row.
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
}
