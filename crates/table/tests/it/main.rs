//! The CSV reader: types, selection, errors that name line and column, and no panic on any input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use kebao_table::{read_csv, read_csv_bytes, Kind, Spec, TableError, Values, MISSING};

fn nums(t: &kebao_table::Table, name: &str) -> Vec<f64> {
    t.column(name).unwrap().numbers().unwrap().to_vec()
}

fn texts(t: &kebao_table::Table, name: &str) -> Vec<Option<String>> {
    let c = t.column(name).unwrap();
    match &c.values {
        Values::Category { codes, .. } => (0..codes.len()).map(|r| c.level(r).map(str::to_owned)).collect(),
        Values::Number(_) => panic!("{name} is a number column"),
    }
}

fn err(bytes: &[u8], spec: &Spec) -> String {
    read_csv_bytes("data.csv", bytes, spec).unwrap_err().to_string()
}

#[test]
fn reads_numbers_and_coded_categories() {
    let csv = b"id,x,g,y\n1, 2.5 ,b,0\n2,-3,a,1\n3,NA,b,\n4,1e3,,1\n";
    let spec =
        Spec::columns(&[("x", Kind::Number), ("g", Kind::Category)]).missing(&["", "NA"]).required(false);
    let t = read_csv_bytes("data.csv", csv, &spec).unwrap();
    assert_eq!(t.rows, 4);
    assert_eq!(t.headers, ["id", "x", "g", "y"]);
    assert_eq!(t.columns.len(), 2, "only the columns asked for");
    let x = nums(&t, "x");
    assert_eq!((x[0], x[1], x[3]), (2.5, -3.0, 1000.0));
    assert!(x[2].is_nan());
    match &t.column("g").unwrap().values {
        Values::Category { codes, levels } => {
            assert_eq!(levels, &["b", "a"], "levels in order of first appearance");
            assert_eq!(codes, &[0, 1, 0, MISSING]);
        }
        Values::Number(_) => panic!("g is a category"),
    }
}

#[test]
fn a_label_keeps_every_cell_and_rest_reads_the_other_columns() {
    let csv = b"t,a,b\nNA,1,x\n,2,y\n1,3,\n";
    let spec = Spec::columns(&[("t", Kind::Label)]).rest(Kind::Infer).missing(&["", "NA"]).required(false);
    let t = read_csv_bytes("d", csv, &spec).unwrap();
    let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["t", "a", "b"]);
    assert_eq!(texts(&t, "t"), [Some("NA".into()), Some(String::new()), Some("1".into())]);
    assert_eq!(nums(&t, "a"), [1.0, 2.0, 3.0]);
    assert_eq!(texts(&t, "b"), [Some("x".into()), Some("y".into()), None]);
}

#[test]
fn a_skipped_column_must_exist_and_is_not_read() {
    let csv = b"a,b,c\n1,x,2\n";
    let spec = Spec::columns(&[("b", Kind::Skip)]).rest(Kind::Infer);
    let t = read_csv_bytes("d", csv, &spec).unwrap();
    let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["a", "c"]);
    let spec = Spec::columns(&[("z", Kind::Skip)]).rest(Kind::Infer);
    assert_eq!(err(csv, &spec), "data.csv: no column `z` (columns: a, b, c)");
}

#[test]
fn cells_in_columns_not_asked_for_are_not_parsed() {
    let csv = b"a,b\n1,not a number\n2,\xff\xfe\n";
    let t = read_csv_bytes("d", csv, &Spec::columns(&[("a", Kind::Number)])).unwrap();
    assert_eq!(nums(&t, "a"), [1.0, 2.0]);
}

#[test]
fn errors_name_the_file_the_line_and_the_column() {
    let spec = Spec::columns(&[("x", Kind::Number)]);
    assert_eq!(err(b"x,y\n1,2\nabc,3\n", &spec), "data.csv: line 3, column `x`: `abc` is not a number");
    assert_eq!(err(b"x\n1\n\n\ninf\n", &spec), "data.csv: line 5, column `x`: `inf` is not a finite number");
    assert_eq!(
        err(b"x\n1\n\n", &Spec::columns(&[("z", Kind::Number)])),
        "data.csv: no column `z` (columns: x)"
    );
    assert_eq!(err(b"x,y\n1,2\n3\n", &spec), "data.csv: line 3: 1 fields where the header has 2");
    assert_eq!(err(b"x,y\n1,2\n3,4,5\n", &spec), "data.csv: line 3: 3 fields where the header has 2");
    // Required cells: a missing number is not a number, a missing category is empty.
    let req = Spec::columns(&[("x", Kind::Number), ("g", Kind::Category)]).missing(&["", "NA"]);
    assert_eq!(err(b"x,g\n1,a\n,b\n", &req), "data.csv: line 3, column `x`: `` is not a number");
    assert_eq!(err(b"x,g\n1,a\n2,na\n", &req), "data.csv: line 3, column `g` is empty");
    // A quoted field over two lines: the next record's line is the physical line.
    let multi = b"x,note\n1,\"two\nlines, and \"\"quotes\"\"\"\nq,z\n";
    assert_eq!(err(multi, &spec), "data.csv: line 4, column `x`: `q` is not a number");
    // A long cell is cut in the message.
    let long = format!("x\n{}\n", "a".repeat(10_000));
    assert!(err(long.as_bytes(), &spec).len() < 200);
}

#[test]
fn quotes_crlf_bom_and_blank_lines() {
    let csv =
        "\u{feff}name,x\r\n\"Smith, J.\",1\r\n\r\n\"say \"\"hi\"\"\",2\r\n\"multi\nline\",3\r\n  padded  ,4";
    let t = read_csv_bytes("d", csv.as_bytes(), &Spec::all(Kind::Infer)).unwrap();
    assert_eq!(t.headers, ["name", "x"], "the byte-order mark is dropped");
    assert_eq!(
        texts(&t, "name"),
        [
            Some("Smith, J.".into()),
            Some("say \"hi\"".into()),
            Some("multi\nline".into()),
            Some("padded".into())
        ]
    );
    assert_eq!(nums(&t, "x"), [1.0, 2.0, 3.0, 4.0]);
}

#[test]
fn empty_files_headers_only_and_bad_bytes() {
    let spec = Spec::all(Kind::Infer);
    assert_eq!(err(b"", &spec), "data.csv: the file is empty (no header row)");
    assert_eq!(err(b"\n\r\n\n", &spec), "data.csv: the file is empty (no header row)");
    let t = read_csv_bytes("d", b"a,b\n", &spec).unwrap();
    assert_eq!((t.rows, t.columns.len()), (0, 2));
    // A file without a header: its first row is taken for one, so the names asked for are
    // missing, and the message lists what was found.
    assert_eq!(
        err(b"1,2\n3,4\n", &Spec::columns(&[("x", Kind::Number)])),
        "data.csv: no column `x` (columns: 1, 2)"
    );
    assert_eq!(err(b"a,\xff\n1,2\n", &spec), "data.csv: line 1: not valid UTF-8");
    assert_eq!(err(b"a,b\n1,x\n2,\xff\n", &spec), "data.csv: line 3, column `b`: not valid UTF-8");
    assert_eq!(
        err(b"a,b\n1,\"open\n2,3\n", &spec),
        "data.csv: line 2: a quoted field is not closed before the end of the file"
    );
}

#[test]
fn a_record_beyond_the_limit_is_refused_not_read_whole() {
    let mut csv = b"a\n\"".to_vec();
    csv.resize(csv.len() + kebao_table::MAX_RECORD + 2 * 1024 * 1024, b'x');
    assert_eq!(
        err(&csv, &Spec::all(Kind::Infer)),
        format!("data.csv: line 2: a record longer than {} bytes", kebao_table::MAX_RECORD)
    );
}

/// Text a few rows in (in a later chunk) makes an inferred column a category; every row
/// before it is coded too, with levels in order of first appearance.
#[test]
fn a_column_that_turns_out_to_be_text_is_a_category_from_its_first_row() {
    let n = 300_000;
    let mut csv = String::from("k,v\n");
    for i in 0..n {
        let v = if i == n - 10 {
            "late".to_owned()
        } else if i % 7 == 0 {
            String::new()
        } else {
            format!("{}", i % 5)
        };
        csv.push_str(&format!("{i},{v}\n"));
    }
    assert!(csv.len() > 2 << 20, "spans several chunks");
    let t = read_csv_bytes("d", csv.as_bytes(), &Spec::all(Kind::Infer).missing(&[""])).unwrap();
    assert_eq!(t.rows, n);
    assert_eq!(nums(&t, "k")[n - 1], (n - 1) as f64);
    let v = texts(&t, "v");
    for (i, got) in v.iter().enumerate() {
        let want = if i == n - 10 {
            Some("late".to_owned())
        } else if i % 7 == 0 {
            None
        } else {
            Some(format!("{}", i % 5))
        };
        assert_eq!(got, &want, "row {i}");
    }
    match &t.column("v").unwrap().values {
        Values::Category { levels, .. } => assert_eq!(levels, &["1", "2", "3", "4", "0", "late"]),
        Values::Number(_) => panic!(),
    }
}

#[test]
fn a_file_on_disk_reads_as_the_same_bytes_in_memory() {
    let mut csv = String::from("a,b,c\n");
    for i in 0..100_000 {
        csv.push_str(&format!("{},\"q{}, \"\"x\"\"\",{}\n", i as f64 * 0.25, i % 13, i % 3));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.csv");
    std::fs::write(&path, &csv).unwrap();
    let spec = Spec::all(Kind::Infer);
    let a = read_csv(&path, &spec).unwrap();
    let mut b = read_csv_bytes(&path.display().to_string(), csv.as_bytes(), &spec).unwrap();
    b.source = a.source.clone();
    assert_eq!(a, b);
    assert_eq!(texts(&a, "b")[99_999], Some("q3, \"x\"".into()));
    let missing = dir.path().join("none.csv");
    assert!(matches!(read_csv(&missing, &spec), Err(TableError::Io { .. })));
}

/// The cells as the `csv` crate reads them (trimmed), or `None` where it refuses the input.
fn reference(bytes: &[u8]) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    let mut r = csv::ReaderBuilder::new().from_reader(bytes);
    let headers: Vec<String> = r.headers().ok()?.iter().map(|h| h.trim().to_owned()).collect();
    let mut rows = Vec::new();
    for rec in r.records() {
        rows.push(rec.ok()?.iter().map(|c| c.trim().to_owned()).collect());
    }
    Some((headers, rows))
}

/// Random inputs over an alphabet of delimiters, quotes, line ends, digits, letters and bad
/// bytes: the reader never panics, and where the `csv` crate reads the text it reads the
/// same cells.
#[test]
fn no_input_makes_it_panic_and_text_reads_as_the_csv_crate_reads_it() {
    let alphabet: &[u8] = b"ab1.,,,\"\"\n\n \r\xff-";
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut compared, mut refused) = (0, 0);
    for _ in 0..20_000 {
        let len = (next() % 40) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect();
        // Never a panic, whatever is asked for.
        let _ = read_csv_bytes("d", &bytes, &Spec::all(Kind::Infer).missing(&["", "NA"]));
        let _ = read_csv_bytes("d", &bytes, &Spec::columns(&[("a", Kind::Number), ("b", Kind::Category)]));
        // A lone carriage return ends a record for the csv crate, not here: leave those out.
        let lone_cr =
            bytes.windows(2).any(|w| w[0] == b'\r' && w[1] != b'\n') || bytes.last() == Some(&b'\r');
        if lone_cr {
            continue;
        }
        let ours = read_csv_bytes("d", &bytes, &Spec::all(Kind::Label));
        match (reference(&bytes), ours) {
            (Some((headers, rows)), Ok(t)) => {
                compared += 1;
                assert_eq!(t.headers, headers, "{bytes:?}");
                assert_eq!(t.rows, rows.len(), "{bytes:?}");
                for (k, h) in headers.iter().enumerate() {
                    // Duplicate names: `column` finds the first.
                    if headers.iter().position(|x| x == h) != Some(k) {
                        continue;
                    }
                    let got = texts(&t, h);
                    for (r, row) in rows.iter().enumerate() {
                        assert_eq!(got[r].as_deref(), Some(row[k].as_str()), "{bytes:?}");
                    }
                }
            }
            (None, Err(_)) => refused += 1,
            (Some(_), Err(e)) => {
                // An empty file: the csv crate reads no header and no rows. A quote still
                // open at the end: the csv crate ends the field there, this reader refuses
                // what is likely a cut-off file.
                assert!(
                    matches!(e, TableError::Empty { .. } | TableError::OpenQuote { .. }),
                    "{bytes:?}: {e}"
                );
            }
            (None, Ok(t)) => panic!("{bytes:?}: the csv crate refuses it, we read {t:?}"),
        }
    }
    assert!(compared > 1000 && refused > 100, "compared {compared}, refused {refused}");
}

/// Many levels (the dictionary grows), long ones sharing their first 16 bytes: each row
/// reads back its own text.
#[test]
fn many_and_long_levels_read_back() {
    let mut csv = String::from("g\n");
    let value = |i: usize| match i % 3 {
        0 => format!("{}", i % 5000),
        1 => format!("a common prefix of more than 16 bytes {}", i % 777),
        _ => format!("é{}", i % 31),
    };
    for i in 0..40_000 {
        csv.push_str(&value(i));
        csv.push('\n');
    }
    let t = read_csv_bytes("d", csv.as_bytes(), &Spec::all(Kind::Category)).unwrap();
    let got = texts(&t, "g");
    for (i, g) in got.iter().enumerate() {
        assert_eq!(g.as_deref(), Some(value(i).as_str()), "row {i}");
    }
    match &t.column("g").unwrap().values {
        Values::Category { levels, .. } => {
            let mut distinct = levels.clone();
            distinct.sort();
            distinct.dedup();
            assert_eq!(distinct.len(), levels.len(), "each level once");
        }
        Values::Number(_) => panic!(),
    }
}
