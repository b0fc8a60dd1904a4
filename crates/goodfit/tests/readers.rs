//! Reading CSV, JSONL and Parquet into tables and datasets, and the errors bad files get.

use std::io::Write;
use std::path::{Path, PathBuf};

use goodfit::data::{read_table, Cell, ColumnSpec, Dataset, Inputs, Label, ReadOptions};
use goodfit::Error;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(bytes))
        .unwrap();
    path
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn error_text(result: goodfit::Result<impl std::fmt::Debug>) -> String {
    result.expect_err("expected an error").to_string()
}

#[test]
fn csv_follows_rfc4180_quoting() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "d.csv",
        b"text,label\n\"hello, \"\"world\"\"\",pos\n\"two\nlines\",neg\nplain,7\n",
    );
    let table = read_table(&path, &ReadOptions::default()).unwrap();
    assert_eq!(table.columns, ["text", "label"]);
    assert_eq!(table.rows.len(), 3);
    assert_eq!(
        table.rows[0].cells[0],
        Cell::Text("hello, \"world\"".into())
    );
    assert_eq!(table.rows[1].cells[0], Cell::Text("two\nlines".into()));
    // The record after a quoted newline starts on line 5.
    assert_eq!(
        table.rows.iter().map(|r| r.line).collect::<Vec<_>>(),
        [2, 3, 5]
    );
}

#[test]
fn csv_delimiters_and_tsv() {
    let dir = tempfile::tempdir().unwrap();
    let semi = write(dir.path(), "d.csv", b"text;label\na,b;x\n");
    let options = ReadOptions {
        delimiter: Some(b';'),
        lossy: false,
    };
    let table = read_table(&semi, &options).unwrap();
    assert_eq!(table.rows[0].cells[0], Cell::Text("a,b".into()));
    let tsv = write(dir.path(), "d.tsv", b"text\tlabel\na,b\tx\n");
    let table = read_table(&tsv, &ReadOptions::default()).unwrap();
    assert_eq!(table.rows[0].cells[1], Cell::Text("x".into()));
}

#[test]
fn csv_row_with_wrong_field_count_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "bad.csv", b"text,label\na,x\nb,y,extra\n");
    let message = error_text(read_table(&path, &ReadOptions::default()));
    assert!(
        message.ends_with("bad.csv:3: expected 2 fields as in the header, found 3"),
        "{message}"
    );
}

#[test]
fn non_utf8_is_an_error_with_its_place_or_replaced_with_lossy() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(dir.path(), "latin1.csv", b"text,label\ncaf\xe9,x\n");
    let message = error_text(read_table(&csv, &ReadOptions::default()));
    assert!(
        message.contains("latin1.csv:2, field 'text': byte 0xE9 is not valid UTF-8"),
        "{message}"
    );
    assert!(message.contains("--lossy"));
    let lossy = ReadOptions {
        delimiter: None,
        lossy: true,
    };
    let table = read_table(&csv, &lossy).unwrap();
    assert_eq!(table.rows[0].cells[0], Cell::Text("caf\u{fffd}".into()));

    let jsonl = write(
        dir.path(),
        "latin1.jsonl",
        b"{\"text\": \"ok\", \"label\": 1}\n{\"text\": \"caf\xe9\"}\n",
    );
    let message = error_text(read_table(&jsonl, &ReadOptions::default()));
    assert!(
        message.contains("latin1.jsonl:2:14: byte 0xE9"),
        "{message}"
    );
}

#[test]
fn empty_files_and_header_only_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.csv", b"");
    assert!(error_text(read_table(&empty, &ReadOptions::default()))
        .ends_with("empty.csv: the file is empty"));
    let header = write(dir.path(), "header.csv", b"text,label\n");
    assert!(error_text(read_table(&header, &ReadOptions::default())).ends_with("has no data rows"));
    let blank = write(dir.path(), "blank.jsonl", b"\n\n");
    assert!(error_text(read_table(&blank, &ReadOptions::default())).ends_with("the file is empty"));
}

#[test]
fn missing_files_and_unknown_types_are_errors() {
    let message = error_text(read_table(
        Path::new("/no/such/file.csv"),
        &ReadOptions::default(),
    ));
    assert!(message.starts_with("/no/such/file.csv: "), "{message}");
    let message = error_text(read_table(Path::new("data.xlsx"), &ReadOptions::default()));
    assert!(message.contains("unknown file type"), "{message}");
}

#[test]
fn jsonl_keeps_types_and_reports_bad_json_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "d.jsonl",
        b"{\"text\": \"a\", \"label\": 1, \"w\": 0.5}\n\n{\"label\": \"x\", \"text\": null}\r\n",
    );
    let table = read_table(&path, &ReadOptions::default()).unwrap();
    assert_eq!(table.columns, ["text", "label", "w"]);
    assert_eq!(
        table.rows[0].cells,
        [Cell::Text("a".into()), Cell::Int(1), Cell::Float(0.5)]
    );
    assert_eq!(table.rows[1].line, 3);
    assert_eq!(
        table.rows[1].cells,
        [Cell::Null, Cell::Text("x".into()), Cell::Missing]
    );

    let bad = write(
        dir.path(),
        "bad.jsonl",
        b"{\"text\": \"a\"}\n{\"text\": NaN}\n",
    );
    let message = error_text(read_table(&bad, &ReadOptions::default()));
    assert!(
        message.contains("bad.jsonl:2:10: invalid JSON"),
        "{message}"
    );
    let array = write(dir.path(), "array.jsonl", b"[1, 2]\n");
    assert!(error_text(read_table(&array, &ReadOptions::default()))
        .contains("array.jsonl:1: each line must be a JSON object"));
}

#[test]
fn parquet_files_from_pyarrow_read_with_snappy_and_zstd() {
    for name in ["tiny.parquet", "tiny_zstd.parquet"] {
        let table = read_table(&fixture(name), &ReadOptions::default()).unwrap();
        assert_eq!(table.columns, ["text", "label", "x1", "x2"]);
        assert_eq!(table.rows.len(), 4);
        assert_eq!(
            table.rows[0].cells,
            [
                Cell::Text("good tea".into()),
                Cell::Int(1),
                Cell::Float(0.5),
                Cell::Int(1)
            ]
        );
        assert_eq!(table.rows[2].cells[0], Cell::Null);
        assert!(table.rows_are_numbered);
    }
    let data = Dataset::read(
        &fixture("tiny.parquet"),
        &ColumnSpec::default(),
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(
        data.labels,
        [Label::Int(1), Label::Int(0), Label::Int(0), Label::Int(1)]
    );
    assert_eq!(
        data.inputs,
        Inputs::Text(vec![
            "good tea".into(),
            "bad coffee".into(),
            String::new(),
            "Good  TEA".into()
        ])
    );
    let message = error_text(Dataset::read(
        &fixture("tiny.parquet"),
        &ColumnSpec {
            label: "y".into(),
            ..ColumnSpec::default()
        },
        &ReadOptions::default(),
    ));
    assert!(
        message.ends_with("tiny.parquet: no column 'y' (the columns are: text, label, x1, x2)"),
        "{message}"
    );
}

#[test]
fn not_a_parquet_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "fake.parquet", b"text,label\na,b\n");
    assert!(error_text(read_table(&path, &ReadOptions::default()))
        .contains("fake.parquet: cannot read Parquet"));
}

#[test]
fn tabular_data_uses_named_or_all_numeric_columns() {
    let all = Dataset::read(
        &fixture("tiny.parquet"),
        &ColumnSpec {
            text: "none".into(),
            ..ColumnSpec::default()
        },
        &ReadOptions::default(),
    )
    .unwrap();
    match &all.inputs {
        Inputs::Features { names, rows } => {
            assert_eq!(names, &["x1", "x2"]);
            assert_eq!(rows[1], [-1.25, 2.0]);
        }
        other => panic!("expected features, got {other:?}"),
    }
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "t.csv", b"a,b,label\n1,2,x\n3,oops,y\n");
    let spec = ColumnSpec {
        features: Some(vec!["a".into(), "b".into()]),
        ..ColumnSpec::default()
    };
    let message = error_text(Dataset::read(&path, &spec, &ReadOptions::default()));
    assert!(
        message.ends_with("t.csv:3, field 'b': 'oops' is not a number"),
        "{message}"
    );
    let inf = write(dir.path(), "inf.csv", b"a,label\ninf,x\n");
    let spec = ColumnSpec {
        features: Some(vec!["a".into()]),
        ..ColumnSpec::default()
    };
    assert!(
        error_text(Dataset::read(&inf, &spec, &ReadOptions::default()))
            .contains("inf.csv:2, field 'a': inf is not a finite number")
    );
}

#[test]
fn missing_label_and_unknown_labels_are_errors_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "d.csv", b"text,label\na,x\nb,\n");
    let message = error_text(Dataset::read(
        &path,
        &ColumnSpec::default(),
        &ReadOptions::default(),
    ));
    assert!(
        message.ends_with("d.csv:3, field 'label': the label is empty; every row needs a label"),
        "{message}"
    );

    let train = write(dir.path(), "train.csv", b"text,label\na,x\nb,y\n");
    let test = write(dir.path(), "test.csv", b"text,label\na,x\nb,z\n");
    let train = Dataset::read(&train, &ColumnSpec::default(), &ReadOptions::default()).unwrap();
    let test = Dataset::read(&test, &ColumnSpec::default(), &ReadOptions::default()).unwrap();
    let message = error_text(test.class_indices(&train.label_map()));
    assert!(
        message.ends_with("test.csv:3: label 'z' is not among the known labels (x, y)"),
        "{message}"
    );
    assert!(matches!(test.class_indices(&test.label_map()), Ok(ref v) if v == &[0, 1]));
}

#[test]
fn missing_text_column_lists_the_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "d.csv", b"review,label\nnice,x\n");
    let error = Dataset::read(&path, &ColumnSpec::default(), &ReadOptions::default()).unwrap_err();
    assert!(matches!(error, Error::MissingColumn { ref column, .. } if column == "text"));
    assert!(error
        .to_string()
        .ends_with("no column 'text' (the columns are: review, label)"));
}
