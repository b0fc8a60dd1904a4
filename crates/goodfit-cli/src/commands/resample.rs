//! `goodfit resample`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use goodfit::data::{read_table, write_table, Cell, Format, Label, LabelMap, Table};
use goodfit::sampling::{
    resample, EnnKind, Method, Origin, ResampleParams, Resampled, SamplingStrategy,
};
use goodfit::{Error, Position};

use crate::args::{print, ReadArgs};

/// Flags of `goodfit resample`.
#[derive(Debug, Args)]
pub struct ResampleArgs {
    /// The table to resample (CSV, TSV, JSONL or Parquet): every numeric column but the
    /// label is a feature.
    #[arg(long)]
    input: PathBuf,
    /// The method: random-over, random-under, smote, borderline1, borderline2, adasyn,
    /// tomek, enn, nearmiss1, nearmiss2, nearmiss3, smote-tomek or smote-enn.
    #[arg(long)]
    method: String,
    /// Where to write the result, as CSV, TSV or JSONL by its extension (Parquet is read,
    /// not written). Same columns, same order; written whole or not at all.
    #[arg(long)]
    output: PathBuf,
    /// The label column.
    #[arg(long, default_value = "label")]
    label_col: String,
    /// The feature columns (comma-separated); default: every numeric column but the label.
    /// Other columns are copied with their rows, so methods that make new rows refuse them.
    #[arg(long, value_delimiter = ',')]
    features: Option<Vec<String>>,
    /// Which classes to resample: auto, minority, majority, not-minority, not-majority,
    /// all, a ratio for two classes (0.5), rows per class (neg=300,pos=300), or, for tomek
    /// and enn, a list of classes (neg,pos). `auto` grows every class but the largest
    /// (over-samplers) or shrinks every class but the smallest (the others).
    #[arg(long, default_value = "auto")]
    sampling_strategy: String,
    /// Same-class neighbours that SMOTE and its variants interpolate toward.
    #[arg(long, default_value_t = 5)]
    k_neighbors: usize,
    /// Neighbours for enn, nearmiss (default 3), adasyn (default 5) and smote-enn's ENN step.
    #[arg(long)]
    n_neighbors: Option<usize>,
    /// Neighbours (of any class) that decide whether a row is in danger, for borderline1/2.
    #[arg(long, default_value_t = 10)]
    m_neighbors: usize,
    /// ENN's rule: `all` neighbours must share a row's class, or only the `mode`.
    #[arg(long, default_value = "all")]
    kind_sel: String,
    /// The seed of every random choice.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[command(flatten)]
    read: ReadArgs,
}

/// Runs `goodfit resample`.
pub fn run(args: &ResampleArgs) -> Result<()> {
    goodfit::io::refuse_overwriting_input(&args.input, &args.output)?;
    let method: Method = args.method.parse()?;
    let enn_kind: EnnKind = args.kind_sel.parse()?;
    let output_format = Format::from_path(&args.output)?;
    if output_format == Format::Parquet {
        return Err(Error::input(
            Position::file(&args.output),
            "goodfit writes CSV, TSV or JSONL; name the output .csv, .tsv or .jsonl",
        )
        .into());
    }
    let table = read_table(&args.input, &args.read.options())?;
    let label_col = table.column(&args.label_col)?;
    let (labels, y) = classes(&table, label_col)?;
    let features = feature_columns(&table, label_col, args.features.as_deref(), method)?;
    let x = feature_values(&table, &features)?;
    let params = ResampleParams {
        method,
        strategy: SamplingStrategy::parse(&args.sampling_strategy, &labels)?,
        k_neighbors: args.k_neighbors,
        n_neighbors: args.n_neighbors,
        m_neighbors: args.m_neighbors,
        enn_kind,
        seed: args.seed,
        class_names: labels.names(),
        ..ResampleParams::default()
    };
    let out = resample(&x, features.len(), &y, labels.len(), &params)?;
    let mut rows = output_rows(&table, &features, &out);
    if output_format == Format::Jsonl {
        as_json_values(&mut rows, &features, label_col);
    }
    write_table(&args.output, &table.columns, &rows)?;
    print(&summary(method, args, &labels, &y, &out))
}

/// The class map and each row's class; an empty label is an error at its cell.
fn classes(table: &Table, label_col: usize) -> Result<(LabelMap, Vec<usize>)> {
    let labels = table.labels(label_col)?;
    let map = LabelMap::from_labels(&labels);
    let y = labels
        .iter()
        .map(|l| {
            map.index_of(l)
                .expect("every label is in the map made from them")
        })
        .collect();
    Ok((map, y))
}

/// The feature columns: those named, or every column but the label whose every cell is a
/// number. Other columns are copied with their rows, which only works when no row is made
/// anew.
fn feature_columns(
    table: &Table,
    label_col: usize,
    named: Option<&[String]>,
    method: Method,
) -> Result<Vec<usize>> {
    let numeric = |col: usize| {
        table
            .rows
            .iter()
            .find(|row| row.cells[col].as_f64().is_err())
    };
    let features: Vec<usize> = match named {
        Some(names) => {
            let mut features = Vec::with_capacity(names.len());
            for name in names {
                let col = table.column(name)?;
                if col == label_col {
                    return Err(Error::Invalid(format!(
                        "'{name}' is the label column; it cannot be a feature too"
                    ))
                    .into());
                }
                if let Some(row) = numeric(col) {
                    let why = row.cells[col].as_f64().unwrap_err();
                    return Err(Error::input(table.cell_position(row, col), why).into());
                }
                features.push(col);
            }
            features
        }
        None => (0..table.columns.len())
            .filter(|&col| col != label_col && numeric(col).is_none())
            .collect(),
    };
    if features.is_empty() {
        return Err(Error::input(
            Position::file(&table.path),
            format!(
                "no numeric feature column besides the label '{}' (the columns are: {}); resample works on numeric feature tables",
                table.columns[label_col],
                table.columns.join(", ")
            ),
        )
        .into());
    }
    let other = (0..table.columns.len()).find(|&col| col != label_col && !features.contains(&col));
    if let (true, Some(col)) = (method.synthesises(), other) {
        let (pos, what) = match numeric(col) {
            Some(row) => (
                table.cell_position(row, col),
                format!(
                    "{}: column '{}' is not numeric",
                    row.cells[col].as_f64().unwrap_err(),
                    table.columns[col]
                ),
            ),
            None => (
                Position::file(&table.path).with_field(&table.columns[col]),
                format!("column '{}' is not among --features", table.columns[col]),
            ),
        };
        return Err(Error::input(
            pos,
            format!(
                "{what}, so {method}'s new rows would have no value for it; drop the column, or use a method \
                 that only keeps or copies rows (random-over, random-under, tomek, enn, nearmiss1, nearmiss2, nearmiss3)"
            ),
        )
        .into());
    }
    Ok(features)
}

/// The feature values, row-major; a value that is not finite is an error at its cell.
fn feature_values(table: &Table, features: &[usize]) -> Result<Vec<f64>> {
    let mut x = Vec::with_capacity(table.rows.len() * features.len());
    for row in &table.rows {
        for &col in features {
            let value = row.cells[col]
                .as_f64()
                .expect("feature columns hold numbers only");
            if !value.is_finite() {
                return Err(Error::input(
                    table.cell_position(row, col),
                    format!(
                        "{value} is not a finite number; resampling needs finite feature values"
                    ),
                )
                .into());
            }
            x.push(value);
        }
    }
    Ok(x)
}

/// The output rows: kept and copied rows exactly as read; a new row is the row it grew from
/// (its label, in its original form) with the new feature values.
fn output_rows(table: &Table, features: &[usize], out: &Resampled) -> Vec<Vec<Cell>> {
    let dim = features.len();
    out.origin
        .iter()
        .enumerate()
        .map(|(r, origin)| match *origin {
            Origin::Original(i) => table.rows[i].cells.clone(),
            Origin::Synthetic { from, .. } => {
                let mut cells = table.rows[from].cells.clone();
                for (j, &col) in features.iter().enumerate() {
                    cells[col] = Cell::Float(out.x[r * dim + j]);
                }
                cells
            }
        })
        .collect()
}

/// For JSON Lines, text read from CSV becomes what it stands for: features numbers, and
/// integer labels integers (labels that are words stay strings), so that a column is not
/// half strings (copied rows) and half numbers (new rows).
fn as_json_values(rows: &mut [Vec<Cell>], features: &[usize], label_col: usize) {
    for row in rows {
        for &col in features {
            if let Cell::Text(text) = &row[col] {
                row[col] = match Label::parse(text.trim()) {
                    Label::Int(value) => Cell::Int(value),
                    Label::Text(_) => text
                        .trim()
                        .parse()
                        .map_or(Cell::Text(text.clone()), Cell::Float),
                };
            }
        }
        if let Cell::Text(text) = &row[label_col] {
            if let Label::Int(value) = Label::parse(text) {
                row[label_col] = Cell::Int(value);
            }
        }
    }
}

/// A line on what was done, and rows per class before and after.
fn summary(
    method: Method,
    args: &ResampleArgs,
    labels: &LabelMap,
    y: &[usize],
    out: &Resampled,
) -> String {
    let before = {
        let mut counts = vec![0usize; labels.len()];
        for &c in y {
            counts[c] += 1;
        }
        counts
    };
    let after = out.counts(labels.len());
    let synthetic = out
        .origin
        .iter()
        .filter(|o| matches!(o, Origin::Synthetic { .. }))
        .count();
    let mut rows: Vec<[String; 3]> = vec![["class".into(), "before".into(), "after".into()]];
    for c in 0..labels.len() {
        rows.push([
            labels.label(c).as_text(),
            before[c].to_string(),
            after[c].to_string(),
        ]);
    }
    rows.push(["total".into(), y.len().to_string(), out.y.len().to_string()]);
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let (w0, w1, w2) = (width(0), width(1), width(2));
    let mut text = format!(
        "{method}: {} rows → {} ({synthetic} new), written to {}\n",
        y.len(),
        out.y.len(),
        args.output.display()
    );
    for [class, b, a] in &rows {
        text += &format!("{class:<w0$}  {b:>w1$}  {a:>w2$}\n");
    }
    text
}
