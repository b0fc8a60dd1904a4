//! A fine-tuned run's own predictions of the audited rows (`goodfit audit --run RUN_DIR`):
//! its validation predictions, out of sample for those rows, or a cross-validated run's
//! out-of-fold predictions of every pooled row. The run folder holds probabilities in row
//! order only, so the rows are found again the way the run found them: the same file read
//! the same way, split with the same seed and fraction.

use std::collections::HashMap;
use std::path::Path;

use crate::data::stratified_split;
use crate::error::{Error, Result};
use crate::run_folder::metrics::RunMetrics;
use crate::run_folder::records::Predictions;
use crate::run_folder::{CONFIG_FILE, METRICS_FILE, VAL_PREDICTIONS_FILE};
use crate::train::data::read_texts;
use crate::train::{Silent, TrainConfig};

/// The probabilities `run` holds for lines of the training file `data`, by line, over the
/// classes `names` (in the audit's order).
pub fn run_probabilities(
    run: &Path,
    data: &Path,
    names: &[String],
) -> Result<HashMap<u64, Vec<f64>>> {
    let config_path = run.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&config_path).map_err(|e| Error::io(&config_path, e))?;
    let config = TrainConfig::from_toml(&text, &config_path)?;
    let refuse = |why: String| Err(Error::Invalid(format!("--run {}: {why}", run.display())));
    let real = |p: &Path| p.canonicalize().ok();
    if real(&config.train).is_none() || real(&config.train) != real(data) {
        return refuse(format!(
            "it was trained on {}, not on {}",
            config.train.display(),
            data.display()
        ));
    }
    if config.val.is_some() {
        return refuse("its validation rows come from another file (--val)".into());
    }
    let predictions = Predictions::read(&run.join(VAL_PREDICTIONS_FILE))?;
    let labels: Vec<String> = predictions.labels.iter().map(|l| l.as_text()).collect();
    if labels != names {
        return refuse(format!(
            "its classes ({}) are not the audited file's ({})",
            labels.join(", "),
            names.join(", ")
        ));
    }
    let (_, dataset) = read_texts(&config.train, &config, &Silent)?;
    let label_map = dataset.label_map();
    let targets = dataset.class_indices(&label_map)?;
    let split = stratified_split(
        &targets,
        names,
        config.val_fraction,
        config.split_seed.unwrap_or(config.seed),
    )?;
    let metrics = RunMetrics::read(&run.join(METRICS_FILE))?;
    let rows: Vec<usize> = if metrics.cross_validation.is_some() {
        // The pool: the training split, then the validation split.
        if !config.drop_lines.is_empty() || config.drop_flagged {
            return refuse(
                "a cross-validated run that left rows out cannot be matched to rows".into(),
            );
        }
        split
            .train
            .iter()
            .chain(&split.validation)
            .copied()
            .collect()
    } else {
        split.validation.clone()
    };
    if rows.len() != predictions.proba.len() {
        return refuse(format!(
            "its {} predictions are not the {} rows its split gives (a cross-validated run whose folds did not all run?)",
            predictions.proba.len(),
            rows.len()
        ));
    }
    let mut by_line = HashMap::new();
    for (k, &row) in rows.iter().enumerate() {
        if predictions.y_true[k] != targets[row] {
            return refuse(format!(
                "its prediction {} is for another row than line {} (the file changed since?)",
                k + 1,
                dataset.lines[row]
            ));
        }
        by_line.insert(dataset.lines[row], predictions.proba[k].clone());
    }
    Ok(by_line)
}
