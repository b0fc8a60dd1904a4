//! Misclassification costs for `--tune-threshold cost:FILE`.

use std::path::Path;

use crate::data::{Label, LabelMap};
use crate::error::{Error, Position, Result};

/// Reads a cost matrix: a CSV whose header row names the predicted classes and whose first
/// column names the true class, each cell the cost of that (true, predicted) pair:
///
/// ```text
/// true\predicted,negative,positive
/// negative,0,1
/// positive,5,0
/// ```
///
/// Returns `costs[true][predicted]` in the order of `labels`; every class must appear in both
/// the header and the first column.
pub fn read_cost_matrix(path: &Path, labels: &LabelMap) -> Result<Vec<Vec<f64>>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .map_err(|e| Error::input(Position::file(path), format!("cannot read: {e}")))?;
    let k = labels.len();
    let mut header: Option<Vec<usize>> = None;
    let mut costs: Vec<Option<Vec<f64>>> = vec![None; k];
    for (index, record) in reader.records().enumerate() {
        let line = index as u64 + 1;
        let record = record.map_err(|e| Error::input(Position::line(path, line), e.to_string()))?;
        let class_of = |text: &str, field: &str| -> Result<usize> {
            labels.index_of(&Label::parse(text.trim())).ok_or_else(|| {
                Error::input(
                    Position::line(path, line).with_field(field),
                    format!(
                        "'{}' is not a class of the model; classes: {}",
                        text.trim(),
                        crate::data::dataset::join_labels(labels.labels())
                    ),
                )
            })
        };
        let Some(columns) = &header else {
            let classes = record
                .iter()
                .enumerate()
                .skip(1)
                .map(|(c, text)| class_of(text, &format!("column {}", c + 1)))
                .collect::<Result<Vec<usize>>>()?;
            let mut sorted = classes.clone();
            sorted.sort_unstable();
            if sorted != (0..k).collect::<Vec<_>>() {
                return Err(Error::input(
                    Position::line(path, line),
                    format!(
                        "the header must name each class once after the first cell; classes: {}",
                        crate::data::dataset::join_labels(labels.labels())
                    ),
                ));
            }
            header = Some(classes);
            continue;
        };
        if record.len() != k + 1 {
            return Err(Error::input(
                Position::line(path, line),
                format!("expected {} cells, found {}", k + 1, record.len()),
            ));
        }
        let true_class = class_of(&record[0], "true class")?;
        let mut row = vec![0.0; k];
        for (c, &predicted) in columns.iter().enumerate() {
            let text = record[c + 1].trim();
            row[predicted] = text
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    Error::input(
                        Position::line(path, line).with_field(&labels.label(predicted).as_text()),
                        format!("'{text}' is not a finite number"),
                    )
                })?;
        }
        if costs[true_class].replace(row).is_some() {
            return Err(Error::input(
                Position::line(path, line),
                format!("the class '{}' has two rows", labels.label(true_class)),
            ));
        }
    }
    costs
        .into_iter()
        .enumerate()
        .map(|(c, row)| {
            row.ok_or_else(|| {
                Error::input(
                    Position::file(path),
                    format!("no row for the true class '{}'", labels.label(c)),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_and_columns_in_any_order_and_names_bad_cells() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cost.csv");
        let labels = LabelMap::from_ordered(vec![Label::parse("neg"), Label::parse("pos")]);
        std::fs::write(&path, "true,pos,neg\npos,0,5\nneg,1,0\n").unwrap();
        let costs = read_cost_matrix(&path, &labels).unwrap();
        assert_eq!(costs, vec![vec![0.0, 1.0], vec![5.0, 0.0]]);

        std::fs::write(&path, "true,neg,pos\nneg,0,x\npos,5,0\n").unwrap();
        let error = read_cost_matrix(&path, &labels).unwrap_err().to_string();
        assert!(error.contains("cost.csv:2, field 'pos'"), "{error}");
        std::fs::write(&path, "true,neg,maybe\n").unwrap();
        let error = read_cost_matrix(&path, &labels).unwrap_err().to_string();
        assert!(error.contains("'maybe' is not a class"), "{error}");
        std::fs::write(&path, "true,neg,pos\nneg,0,1\n").unwrap();
        let error = read_cost_matrix(&path, &labels).unwrap_err().to_string();
        assert!(error.contains("no row for the true class 'pos'"), "{error}");
    }
}
