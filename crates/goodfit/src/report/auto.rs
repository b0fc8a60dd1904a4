//! The "What was tried and why" section of a `goodfit train --auto` run: every trial with
//! its reason, verdicts and validation score, a chart of that score over the trials, and
//! the ensemble, and the test scores of the choice and the first trial from `auto.json`.

use serde_json::Value;

use super::blocks::{figure, grid, note, table};
use super::charts::{self, Axis, Key, Pen, BLUE, GREEN, ORANGE};
use super::format::{duration, esc, metric_name, num, opt_num};
use super::run::{Optional, Run};
use crate::auto::Trial;

/// One trial on the chart.
struct Point {
    index: f64,
    value: Option<f64>,
    head_only: bool,
    chosen: bool,
}

fn number(value: &Value, key: &str) -> Option<f64> {
    value
        .get(key)
        .and_then(Value::as_f64)
        .filter(|x| x.is_finite())
}

fn points(trials: &[Trial]) -> Vec<Point> {
    trials
        .iter()
        .map(|t| Point {
            index: t.index as f64,
            value: t.val_metric.filter(|v| v.is_finite()),
            // The session key as `SessionKey` writes it: no encoder layer trains.
            head_only: t.session.starts_with("train_layers 0,"),
            chosen: t.chosen,
        })
        .collect()
}

/// The validation score over the trials, with the best so far and the chosen trial marked.
fn chart(points: &[Point], metric: &str, higher_is_better: bool) -> String {
    let name = metric_name(metric);
    let series = |head: bool| -> Vec<(f64, Option<f64>)> {
        points
            .iter()
            .filter(|p| p.head_only == head)
            .map(|p| (p.index, p.value))
            .collect()
    };
    let mut best: Option<f64> = None;
    let best_so_far: Vec<(f64, Option<f64>)> = points
        .iter()
        .map(|p| {
            best = match (best, p.value) {
                (Some(b), Some(v)) if (v > b) == higher_is_better && v != b => Some(v),
                (None, v) => v,
                (b, _) => b,
            };
            (p.index, best)
        })
        .collect();
    let x = Axis::whole(
        points.first().map_or(1.0, |p| p.index),
        points.last().map_or(1.0, |p| p.index),
        "trial",
    );
    let values: Vec<f64> = points.iter().filter_map(|p| p.value).collect();
    let y = if metric != "loss" && values.iter().all(|v| (0.0..=1.0).contains(v)) {
        Axis::unit(&format!("validation {name}"))
    } else {
        Axis::values(values.iter().copied(), false, &format!("validation {name}"))
    };
    let title = format!("Validation {name} over the trials");
    charts::svg(520, 330, &title, |root| {
        let keys = [
            ("head only", Key::Line(ORANGE, false)),
            ("fine-tune", Key::Line(BLUE, false)),
            ("best so far", Key::Line(GREEN, true)),
        ];
        let area = charts::key_row(root, &keys)?;
        let mut chart = charts::plane(&area, &x, &y)?;
        let dots = |color| Pen {
            color,
            dashed: false,
            dots: true,
        };
        charts::line(&mut chart, &series(true), dots(ORANGE))?;
        charts::line(&mut chart, &series(false), dots(BLUE))?;
        charts::line(
            &mut chart,
            &best_so_far,
            Pen {
                color: GREEN,
                dashed: true,
                dots: false,
            },
        )?;
        if let Some(chosen) = points.iter().find(|p| p.chosen) {
            let label = format!("chosen · trial {}", num(chosen.index));
            charts::vline(&mut chart, chosen.index, &y, GREEN, &label, false, 0)?;
        }
        Ok(())
    })
}

/// The test line from `auto.json`: both test scores, each computed once after the search.
fn test_line(auto: &Value, metric: &str) -> Option<String> {
    let score = |who: &str| {
        let part = auto.get(who)?;
        let value = if metric == "loss" {
            number(part, "test_loss")
        } else {
            part.get("test").and_then(|t| number(t, metric))
        };
        Some((number(part, "index")?, value))
    };
    let (chosen, first) = (score("chosen")?, score("first")?);
    if chosen.1.is_none() && first.1.is_none() {
        return None;
    }
    let members: Option<Vec<String>> = auto["chosen"]
        .get("members")
        .and_then(Value::as_array)
        .map(|m| m.iter().map(|i| i.to_string()).collect());
    let what = match members {
        Some(members) => format!("the chosen ensemble (trials {})", members.join(", ")),
        None => format!("the chosen trial ({})", num(chosen.0)),
    };
    Some(format!(
        "<p>On the test file, scored once after the search: {} <b>{}</b> for {what} and <b>{}</b> for the first trial ({}). The choice itself used validation data only.</p>\n",
        esc(&metric_name(metric)),
        opt_num(chosen.1),
        opt_num(first.1),
        num(first.0),
    ))
}

/// A trial's validation score; cross-validated, with its standard error, the folds run and
/// each fold's score.
fn score_cell(t: &Trial) -> String {
    let Some(cv) = &t.cv else {
        return opt_num(t.val_metric);
    };
    let se = cv
        .standard_error
        .map_or(String::new(), |e| format!(" ± {}", num(e)));
    let folds: Vec<String> = cv.fold_scores.iter().map(|v| opt_num(*v)).collect();
    let adjusted = cv.adjusted_by.map_or(String::new(), |r| {
        format!(
            "; {} on these folds' rows, adjusted by trial {r}",
            opt_num(cv.score_on_folds_run)
        )
    });
    format!(
        "{}{se}<br><small>{} of {} folds: {}{adjusted}</small>",
        opt_num(t.val_metric),
        cv.folds.len(),
        cv.k,
        folds.join(", ")
    )
}

/// `text` with its first letter in upper case (it opens a sentence).
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map_or(String::new(), |c| c.to_uppercase().chain(chars).collect())
}

/// The paragraphs on how trials were scored (cross-validation) and which larger trials were
/// not tried, from `auto.json`.
fn search_notes(auto: &Value) -> String {
    let mut out = String::new();
    if let Some(why) = auto
        .get("cross_validation")
        .and_then(|c| c.get("why"))
        .and_then(Value::as_str)
    {
        out.push_str(&format!(
            "<p><b>Cross-validation.</b> {}. Each trial's score is that of its out-of-fold predictions; ± is the standard error of its fold scores.</p>\n",
            esc(&capitalised(why))
        ));
    }
    let not_tried: Vec<String> = auto
        .get("capacity_not_tried")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(esc).collect())
        .unwrap_or_default();
    if !not_tried.is_empty() {
        out.push_str(&format!(
            "<p><b>Larger trials not tried.</b> {}.</p>\n",
            not_tried.join("; ")
        ));
    }
    out
}

/// The section's body, or `None` without trials.jsonl.
pub fn section(run: &Run) -> Option<String> {
    let trials = match &run.trials {
        Optional::Absent => return None,
        Optional::Unreadable(why) => return Some(note(why)),
        Optional::Present(trials) if trials.is_empty() => {
            return Some(note("trials.jsonl: no trials"))
        }
        Optional::Present(trials) => trials,
    };
    let metric = trials
        .iter()
        .map(|t| t.select_metric.as_str())
        .find(|m| !m.is_empty())
        .unwrap_or("f1_macro");
    let higher_is_better =
        crate::auto::SelectMetric::parse(metric).map_or(true, |s| s.higher_is_better);
    let name = metric_name(metric);
    let points = points(trials);
    let rows: Vec<Vec<String>> = trials
        .iter()
        .map(|t| {
            let outcome = match &t.error {
                Some(error) => format!("failed: {error}"),
                None => t.verdicts.join(", "),
            };
            vec![
                t.index.to_string(),
                format!("<code>{}</code>", esc(&t.name)),
                esc(&t.why),
                esc(&outcome),
                score_cell(t),
                opt_num(t.val_loss),
                duration(Some(t.seconds)),
                match (t.chosen, t.in_ensemble) {
                    (true, true) => "✓ chosen (best), in the ensemble",
                    (true, false) => "✓ chosen",
                    (false, true) => "in the ensemble",
                    (false, false) => "",
                }
                .to_string(),
            ]
        })
        .collect();
    let head = [
        "trial",
        "name",
        "why",
        "verdicts",
        &format!("val {}", esc(&name)),
        "val loss",
        "time",
        "",
    ];
    let mut body = String::new();
    let ended = run
        .auto
        .get()
        .and_then(|a| a.get("ended"))
        .and_then(Value::as_str)
        .unwrap_or("");
    body.push_str(&format!(
        "<p>{} trials, ranked by validation {}{}. Each says why it was tried: the stage of cheap head-only trials, or the verdict on an earlier trial that called for it.</p>\n",
        trials.len(),
        esc(&name),
        if ended.is_empty() {
            String::new()
        } else {
            format!("; the search ended: {}", esc(ended))
        }
    ));
    if let Some(why) = run
        .auto
        .get()
        .and_then(|a| a.get("ensemble"))
        .and_then(|e| e.get("why"))
        .and_then(Value::as_str)
    {
        body.push_str(&format!("<p><b>Ensemble.</b> {}.</p>\n", esc(why)));
    }
    if let Some(line) = run.auto.get().and_then(|a| test_line(a, metric)) {
        body.push_str(&line);
    }
    if let Some(auto) = run.auto.get() {
        body.push_str(&search_notes(auto));
    }
    let caption = format!(
        "<b>Validation {} per trial.</b> Head-only trials (orange) run on the frozen encoder's cached features; fine-tunes (blue) train encoder layers. The dashed line is the best so far.",
        esc(&name)
    );
    body.push_str(&grid(&[figure(
        &chart(&points, metric, higher_is_better),
        &caption,
        false,
    )]));
    body.push_str(&table(&head, &rows, 4));
    if let Optional::Unreadable(why) = &run.auto {
        body.push_str(&note(why));
    }
    Some(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_best_so_far_follows_the_metric_direction_and_the_chosen_trial_is_marked() {
        let trial = |index: usize, layers: usize, value: f64, chosen: bool| Trial {
            session: format!("train_layers {layers}, pooling mean, max_len 128"),
            select_metric: "loss".into(),
            val_metric: Some(value),
            val_loss: Some(value),
            chosen,
            ..Trial::example(index)
        };
        let trials = vec![trial(1, 0, 0.4, false), trial(2, 2, 0.3, true)];
        let points = points(&trials);
        assert!(points[0].head_only && !points[1].head_only && points[1].chosen);
        let svg = chart(&points, "loss", false);
        assert!(svg.contains("chosen · trial 2"), "{svg}");
        let auto = json!({
            "chosen": {"index": 2, "test_loss": 0.5, "test": {"f1_macro": 0.8}},
            "first": {"index": 1, "test_loss": 0.7, "test": {"f1_macro": 0.6}}
        });
        let line = test_line(&auto, "f1_macro").unwrap();
        assert!(
            line.contains("<b>0.8</b> for the chosen trial (2)"),
            "{line}"
        );
        assert!(
            line.contains("<b>0.6</b> for the first trial (1)"),
            "{line}"
        );
        assert!(test_line(&json!({}), "f1_macro").is_none());
        let notes = search_notes(&json!({
            "cross_validation": {"why": "the validation split holds 1 rows of 'x'"},
            "capacity_not_tried": ["every layer: 350 training rows <"]
        }));
        assert!(
            notes.contains("</b> The validation split holds 1 rows of &#39;x&#39;"),
            "{notes}"
        );
        assert!(notes.contains("350 training rows &lt;"), "{notes}");
        let cv = Trial {
            cv: Some(crate::auto::TrialCv {
                k: 5,
                folds: vec![1, 2],
                fold_scores: vec![Some(0.8), Some(0.9)],
                standard_error: Some(0.05),
                score_on_folds_run: Some(0.85),
                adjusted_by: Some(1),
                model: String::new(),
            }),
            val_metric: Some(0.83),
            ..Trial::example(3)
        };
        let cell = score_cell(&cv);
        assert!(cell.starts_with("0.83 ± 0.05"), "{cell}");
        assert!(
            cell.contains("2 of 5 folds: 0.8, 0.9; 0.85 on these folds"),
            "{cell}"
        );
        let ensemble = json!({
            "chosen": {"index": 2, "members": [2, 3], "test": {"f1_macro": 0.85}},
            "first": {"index": 1, "test": {"f1_macro": 0.6}}
        });
        let line = test_line(&ensemble, "f1_macro").unwrap();
        assert!(
            line.contains("<b>0.85</b> for the chosen ensemble (trials 2, 3)"),
            "{line}"
        );
    }
}
