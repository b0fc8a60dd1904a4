//! Checks `goodfit::sampling` against imbalanced-learn 0.14.2 (with scikit-learn 1.9.1).
//!
//! `tests/fixtures/resampling_reference.json` holds 202 two-dimensional rows of 3 classes
//! (150, 40 and 12 rows, sorted by class) and what imbalanced-learn made of them; its
//! `generator` field names the versions. The fixture's values came from, in Python:
//!
//! ```python
//! TomekLinks().fit_resample(X, y)                         # .sample_indices_ → tomek_links
//! EditedNearestNeighbours(n_neighbors=3).fit_resample(X, y)               # → enn
//! EditedNearestNeighbours(n_neighbors=3, kind_sel="mode").fit_resample(X, y)  # → enn_mode
//! NearMiss(version=v, n_neighbors=3, n_neighbors_ver3=3).fit_resample(X, y)   # → nearmissv (sorted)
//! SMOTE(k_neighbors=5).fit_resample(X, y)                 # → smote counts
//! ADASYN(n_neighbors=5).fit_resample(X, y)                # → adasyn counts; the ratios are
//! #   sum(y[NearestNeighbors(6).fit(X).kneighbors(X[y == c])[1][:, 1:]] != c, 1) / 5
//! BorderlineSMOTE(k_neighbors=5, m_neighbors=10).fit_resample(X, y)  # .in_danger_indices
//! RandomUnderSampler().fit_resample(X, y)                 # → random_under counts
//! ```
//!
//! Deterministic methods must keep exactly imbalanced-learn's rows. Random ones cannot
//! repeat numpy's draws, so they are checked by the properties the fixture states.

use std::path::PathBuf;

use goodfit::sampling::{
    adasyn_counts, adasyn_ratios, danger_indices, resample, EnnKind, Method, Origin,
    ResampleParams, Resampled, SamplingStrategy,
};
use serde_json::Value;

/// The fixture: its rows, classes and cases.
struct Fixture {
    x: Vec<f64>,
    y: Vec<usize>,
    cases: Value,
}

const DIM: usize = 2;
const CLASSES: usize = 3;

fn fixture() -> Fixture {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "fixtures",
        "resampling_reference.json",
    ]
    .iter()
    .collect();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let cases: Value = serde_json::from_str(&text).unwrap();
    let x = cases["X"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()))
        .collect();
    let y: Vec<usize> = cases["y"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    // The class-by-class order of imbalanced-learn's ENN equals row order only because y
    // is sorted; the exact comparisons below rely on it.
    assert!(y.windows(2).all(|w| w[0] <= w[1]));
    Fixture { x, y, cases }
}

fn indices(value: &Value) -> Vec<usize> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect()
}

fn run(f: &Fixture, params: ResampleParams) -> Resampled {
    resample(&f.x, DIM, &f.y, CLASSES, &params).unwrap()
}

fn with(method: Method) -> ResampleParams {
    ResampleParams {
        method,
        ..ResampleParams::default()
    }
}

fn row(x: &[f64], i: usize) -> &[f64] {
    &x[i * DIM..(i + 1) * DIM]
}

/// The `k` nearest rows of class `class` to row `i` (itself left out), computed here
/// independently of the library: sort by (distance, row).
fn same_class_neighbours(f: &Fixture, i: usize, k: usize) -> Vec<usize> {
    let mut others: Vec<(f64, usize)> = (0..f.y.len())
        .filter(|&j| j != i && f.y[j] == f.y[i])
        .map(|j| {
            let d: f64 = row(&f.x, i)
                .iter()
                .zip(row(&f.x, j))
                .map(|(a, b)| (a - b) * (a - b))
                .sum();
            (d, j)
        })
        .collect();
    others.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    others.into_iter().take(k).map(|(_, j)| j).collect()
}

/// Whether `p` lies on the segment from `a` to `b`.
fn on_segment(p: &[f64], a: &[f64], b: &[f64]) -> bool {
    let ab: Vec<f64> = a.iter().zip(b).map(|(a, b)| b - a).collect();
    let ap: Vec<f64> = a.iter().zip(p).map(|(a, p)| p - a).collect();
    let length2: f64 = ab.iter().map(|v| v * v).sum();
    if length2 == 0.0 {
        return ap.iter().all(|v| v.abs() < 1e-9);
    }
    let t = ap.iter().zip(&ab).map(|(u, v)| u * v).sum::<f64>() / length2;
    let off: f64 = ap
        .iter()
        .zip(&ab)
        .map(|(u, v)| (u - t * v).powi(2))
        .sum::<f64>()
        .sqrt();
    (-1e-12..=1.0 + 1e-12).contains(&t) && off < 1e-9
}

/// The output starts with every input row, unchanged and in order.
fn starts_with_the_input(f: &Fixture, out: &Resampled) {
    assert_eq!(&out.x[..f.x.len()], &f.x[..]);
    assert_eq!(&out.y[..f.y.len()], &f.y[..]);
    for (i, origin) in out.origin[..f.y.len()].iter().enumerate() {
        assert_eq!(*origin, Origin::Original(i));
    }
}

/// Every synthetic row is of its `from` row's class, sits where its origin says, and lies
/// — checked from the coordinates alone — on a segment between a row of its class and one
/// of that row's `k` nearest same-class neighbours.
fn synthetic_rows_lie_on_neighbour_segments(f: &Fixture, out: &Resampled, k: usize) {
    let neighbours: Vec<Vec<usize>> = (0..f.y.len())
        .map(|i| same_class_neighbours(f, i, k))
        .collect();
    let mut synthetic = 0;
    for (r, origin) in out.origin.iter().enumerate() {
        let Origin::Synthetic {
            from,
            neighbour,
            gap,
        } = *origin
        else {
            continue;
        };
        synthetic += 1;
        let p = row(&out.x, r);
        let class = out.y[r];
        assert_eq!(f.y[from], class, "row {r}");
        assert!(
            neighbours[from].contains(&neighbour),
            "row {r}: {neighbour} is not a neighbour of {from}"
        );
        assert!((0.0..1.0).contains(&gap), "row {r}: gap {gap}");
        let (a, b) = (row(&f.x, from), row(&f.x, neighbour));
        for ((value, a), b) in p.iter().zip(a).zip(b) {
            assert!((value - (a + gap * (b - a))).abs() < 1e-12, "row {r}");
        }
        let found = (0..f.y.len()).filter(|&a| f.y[a] == class).any(|a| {
            neighbours[a]
                .iter()
                .any(|&b| on_segment(p, row(&f.x, a), row(&f.x, b)))
        });
        assert!(
            found,
            "synthetic row {r} ({p:?}) is on no segment to a {k}-nearest same-class neighbour"
        );
    }
    assert_eq!(synthetic, out.y.len() - f.y.len());
}

#[test]
fn tomek_links_keep_exactly_imblearns_rows() {
    let f = fixture();
    let out = run(&f, with(Method::Tomek));
    assert_eq!(
        out.original_indices(),
        indices(&f.cases["tomek_links"]["kept_indices"])
    );
    assert_eq!(out.original_indices().len(), out.y.len());
}

#[test]
fn enn_keeps_exactly_imblearns_rows_for_both_rules() {
    let f = fixture();
    let all = run(&f, with(Method::Enn));
    assert_eq!(
        all.original_indices(),
        indices(&f.cases["enn"]["kept_indices"])
    );
    let mode = run(
        &f,
        ResampleParams {
            enn_kind: EnnKind::Mode,
            ..with(Method::Enn)
        },
    );
    assert_eq!(
        mode.original_indices(),
        indices(&f.cases["enn_mode"]["kept_indices"])
    );
}

#[test]
fn nearmiss_keeps_exactly_imblearns_rows_in_imblearns_order() {
    // The fixture lists the kept rows sorted; imbalanced-learn's own order
    // (`NearMiss(version=v).fit_resample(X, y)` then `.sample_indices_`, same versions) ranks
    // each class's rows nearest first (version 3: farthest first):
    let imblearn_order: [&[usize]; 3] = [
        &[
            123, 54, 89, 95, 111, 94, 10, 140, 31, 4, 14, 48, 171, 188, 186, 151, 167, 178, 163,
            182, 153, 172, 154, 164, 190, 191, 192, 193, 194, 195, 196, 197, 198, 199, 200, 201,
        ],
        &[
            89, 123, 94, 10, 95, 140, 111, 4, 48, 14, 54, 104, 171, 151, 186, 163, 178, 182, 172,
            188, 167, 153, 154, 181, 190, 191, 192, 193, 194, 195, 196, 197, 198, 199, 200, 201,
        ],
        &[
            58, 4, 31, 94, 111, 95, 89, 54, 123, 182, 151, 186, 188, 171, 190, 191, 192, 193, 194,
            195, 196, 197, 198, 199, 200, 201,
        ],
    ];
    let f = fixture();
    for (version, method) in [Method::NearMiss1, Method::NearMiss2, Method::NearMiss3]
        .into_iter()
        .enumerate()
    {
        let out = run(&f, with(method));
        let kept = out.original_indices();
        assert_eq!(kept, imblearn_order[version], "{method}");
        let mut sorted = kept.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            indices(&f.cases[format!("nearmiss{}", version + 1)]["kept_indices"]),
            "{method}"
        );
    }
}

#[test]
fn smote_reaches_the_counts_on_neighbour_segments() {
    let f = fixture();
    let out = run(&f, with(Method::Smote));
    assert_eq!(
        out.counts(CLASSES),
        indices(&f.cases["smote"]["expected_counts"])
    );
    starts_with_the_input(&f, &out);
    synthetic_rows_lie_on_neighbour_segments(&f, &out, 5);
    // New rows come class by class.
    assert!(out.y[f.y.len()..].windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn adasyn_weights_rows_by_their_other_class_neighbours() {
    let f = fixture();
    let ratios = &f.cases["adasyn"]["majority_neighbour_ratio_per_minority_sample"];
    let out = run(&f, with(Method::Adasyn));
    let counts = out.counts(CLASSES);
    let expected = indices(&f.cases["adasyn"]["imblearn_counts"]);
    for c in 0..CLASSES {
        assert!(
            counts[c].abs_diff(expected[c]) <= CLASSES,
            "{counts:?} vs {expected:?}"
        );
    }
    // How many rows each row grows is not random, so the counts are in fact exact.
    assert_eq!(counts, expected);
    starts_with_the_input(&f, &out);
    synthetic_rows_lie_on_neighbour_segments(&f, &out, 5);
    for class in [1usize, 2] {
        let theirs: Vec<f64> = ratios[class.to_string()]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let ours = adasyn_ratios(&f.x, DIM, &f.y, class, 5).unwrap();
        assert_eq!(ours.len(), theirs.len());
        for (a, b) in ours.iter().zip(&theirs) {
            assert!(
                (a - b).abs() < 1e-12,
                "class {class}: {ours:?} vs {theirs:?}"
            );
        }
        // Per row: rint(ratio / Σ ratios × rows asked), the asked rows being 150 − count.
        let rows: Vec<usize> = (0..f.y.len()).filter(|&i| f.y[i] == class).collect();
        let asked = 150 - rows.len();
        let total: f64 = theirs.iter().sum();
        let grown: Vec<usize> = rows
            .iter()
            .map(|&r| {
                out.origin
                    .iter()
                    .filter(|o| matches!(o, Origin::Synthetic { from, .. } if *from == r))
                    .count()
            })
            .collect();
        let proportional: Vec<usize> = theirs
            .iter()
            .map(|r| (r / total * asked as f64).round_ties_even() as usize)
            .collect();
        assert_eq!(grown, proportional, "class {class}");
        assert_eq!(adasyn_counts(&ours, asked).unwrap(), proportional);
    }
}

#[test]
fn borderline_smote_grows_only_from_imblearns_danger_rows() {
    let f = fixture();
    let danger = &f.cases["borderline_smote1"]["danger_indices"];
    for class in [1usize, 2] {
        assert_eq!(
            danger_indices(&f.x, DIM, &f.y, class, 10).unwrap(),
            indices(&danger[class.to_string()]),
            "class {class}"
        );
    }
    let out = run(&f, with(Method::Borderline1));
    assert_eq!(
        out.counts(CLASSES),
        indices(&f.cases["borderline_smote1"]["imblearn_counts"])
    );
    starts_with_the_input(&f, &out);
    synthetic_rows_lie_on_neighbour_segments(&f, &out, 5);
    for (r, origin) in out.origin.iter().enumerate() {
        if let Origin::Synthetic { from, .. } = origin {
            assert!(
                indices(&danger[out.y[r].to_string()]).contains(from),
                "row {r} grew from {from}"
            );
        }
    }
}

#[test]
fn borderline_2_steps_less_than_half_way_toward_other_classes() {
    let f = fixture();
    let out = run(&f, with(Method::Borderline2));
    assert_eq!(out.counts(CLASSES), vec![150, 150, 150]);
    let mut toward_other = 0;
    for (r, origin) in out.origin.iter().enumerate() {
        let Origin::Synthetic {
            from,
            neighbour,
            gap,
        } = *origin
        else {
            continue;
        };
        let danger = indices(&f.cases["borderline_smote1"]["danger_indices"][out.y[r].to_string()]);
        assert!(danger.contains(&from));
        if f.y[neighbour] != f.y[from] {
            toward_other += 1;
            assert!((0.0..0.5).contains(&gap), "row {r}: gap {gap}");
        }
        assert!(on_segment(
            row(&out.x, r),
            row(&f.x, from),
            row(&f.x, neighbour)
        ));
    }
    assert!(toward_other > 0);
}

#[test]
fn random_samplers_reach_the_counts_with_input_rows_only() {
    let f = fixture();
    let under = run(&f, with(Method::RandomUnder));
    assert_eq!(
        under.counts(CLASSES),
        indices(&f.cases["random_under"]["expected_counts"])
    );
    let mut kept = under.original_indices();
    assert_eq!(kept.len(), under.y.len());
    kept.sort_unstable();
    kept.dedup();
    assert_eq!(kept.len(), 36, "rows are drawn without replacement");
    for (r, &i) in under.original_indices().iter().enumerate() {
        assert_eq!(row(&under.x, r), row(&f.x, i));
        assert_eq!(under.y[r], f.y[i]);
    }
    let over = run(&f, with(Method::RandomOver));
    assert_eq!(over.counts(CLASSES), vec![150, 150, 150]);
    starts_with_the_input(&f, &over);
    for (r, &i) in over.original_indices().iter().enumerate() {
        assert_eq!(row(&over.x, r), row(&f.x, i));
        assert_eq!(over.y[r], f.y[i]);
    }
}

#[test]
fn combined_methods_clean_smotes_output_on_every_class() {
    let f = fixture();
    let grown = run(&f, with(Method::Smote));
    let all = SamplingStrategy::All;
    for (method, cleaner) in [
        (Method::SmoteTomek, Method::Tomek),
        (Method::SmoteEnn, Method::Enn),
    ] {
        let combined = run(&f, with(method));
        let cleaned = resample(
            &grown.x,
            DIM,
            &grown.y,
            CLASSES,
            &ResampleParams {
                strategy: all.clone(),
                ..with(cleaner)
            },
        )
        .unwrap();
        let expected: Vec<Origin> = cleaned
            .original_indices()
            .iter()
            .map(|&r| grown.origin[r])
            .collect();
        assert_eq!(combined.origin, expected, "{method}");
        assert!(combined.y.len() < grown.y.len(), "{method} removed nothing");
    }
}

#[test]
fn the_same_seed_gives_the_same_rows() {
    let f = fixture();
    for method in Method::ALL {
        let a = run(&f, with(method));
        let b = run(&f, with(method));
        assert_eq!(a, b, "{method}");
    }
    let other = run(
        &f,
        ResampleParams {
            seed: 1,
            ..with(Method::Smote)
        },
    );
    assert_ne!(other, run(&f, with(Method::Smote)));
}
