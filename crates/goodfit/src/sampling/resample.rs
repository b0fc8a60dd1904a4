//! The one entry point, [`resample`]: its parameters, its result, and the checks and
//! bookkeeping every method shares.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};

use super::method::{EnnKind, Method};
use super::neighbours::kneighbors_of_rows;
use super::strategy::SamplingStrategy;
use super::{adasyn, borderline, combine, enn, nearmiss, random, smote, tomek};

/// How to resample. The defaults are imbalanced-learn's.
#[derive(Debug, Clone, PartialEq)]
pub struct ResampleParams {
    /// The method.
    pub method: Method,
    /// Which classes to resample, to how many rows.
    pub strategy: SamplingStrategy,
    /// Same-class neighbours that SMOTE and its variants interpolate toward (5).
    pub k_neighbors: usize,
    /// Neighbours for ENN and NearMiss (default 3) and ADASYN (default 5); `None` takes
    /// the method's default. For SMOTE+ENN it is the ENN step's.
    pub n_neighbors: Option<usize>,
    /// Neighbours (over all classes) that decide whether a row is in danger, for
    /// borderline-SMOTE (10).
    pub m_neighbors: usize,
    /// NearMiss-3's first step: the nearest rows of each class kept per minority row (3).
    pub n_neighbors_ver3: usize,
    /// ENN's rule, also for SMOTE+ENN's cleaning step.
    pub enn_kind: EnnKind,
    /// The seed of every random choice: the same seed, data and parameters give the same
    /// rows.
    pub seed: u64,
    /// Class names for messages, by class index; empty: classes are called by index.
    pub class_names: Vec<String>,
}

impl Default for ResampleParams {
    fn default() -> Self {
        ResampleParams {
            method: Method::Smote,
            strategy: SamplingStrategy::Auto,
            k_neighbors: 5,
            n_neighbors: None,
            m_neighbors: 10,
            n_neighbors_ver3: 3,
            enn_kind: EnnKind::All,
            seed: 0,
            class_names: Vec::new(),
        }
    }
}

/// Where an output row came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Origin {
    /// A copy of input row `i` (kept, or drawn again by random over-sampling).
    Original(usize),
    /// A new row `x[from] + gap · (x[neighbour] − x[from])`, of `from`'s class.
    Synthetic {
        /// The input row it grew from.
        from: usize,
        /// The input row it stepped toward.
        neighbour: usize,
        /// How far along: in [0, 1); in [0, 0.5) toward another class (borderline-2).
        gap: f64,
    },
}

/// A resampled table.
///
/// Rows come in imbalanced-learn's order: over-samplers give every input row in order, then
/// the new rows class by class; under-samplers and cleaners give the kept rows class by
/// class, each class in the order the method picks them (input order for Tomek links and
/// ENN; nearest first for NearMiss; the draw order for random under-sampling) — which is
/// imbalanced-learn's `sample_indices_`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resampled {
    /// The rows, row-major, `dim` values each.
    pub x: Vec<f64>,
    /// Each row's class.
    pub y: Vec<usize>,
    /// Each row's origin.
    pub origin: Vec<Origin>,
}

impl Resampled {
    /// The number of rows of each of `n_classes` classes (more entries if a class index is
    /// not below `n_classes`).
    pub fn counts(&self, n_classes: usize) -> Vec<usize> {
        count_classes(&self.y, n_classes)
    }

    /// The input rows that are output rows, in output order (synthetic rows left out).
    pub fn original_indices(&self) -> Vec<usize> {
        self.origin
            .iter()
            .filter_map(|o| match o {
                Origin::Original(i) => Some(*i),
                Origin::Synthetic { .. } => None,
            })
            .collect()
    }

    /// The input rows `indices`, unchanged.
    pub(crate) fn from_rows(input: &Input, indices: &[usize]) -> Resampled {
        let mut out = Resampled::default();
        for &i in indices {
            out.push_original(input, i);
        }
        out
    }

    /// Every input row, in order: how over-samplers start.
    pub(crate) fn all_rows(input: &Input) -> Resampled {
        Resampled::from_rows(input, &(0..input.len()).collect::<Vec<_>>())
    }

    /// Appends a copy of input row `i`.
    pub(crate) fn push_original(&mut self, input: &Input, i: usize) {
        self.x.extend_from_slice(input.row(i));
        self.y.push(input.y[i]);
        self.origin.push(Origin::Original(i));
    }

    /// Appends a new row of `class`.
    pub(crate) fn push_synthetic(&mut self, class: usize, row: &[f64], origin: Origin) {
        self.x.extend_from_slice(row);
        self.y.push(class);
        self.origin.push(origin);
    }

    /// The rows `keep` of this table, in that order, with their origins.
    pub(crate) fn select(&self, dim: usize, keep: &[usize]) -> Resampled {
        let mut out = Resampled::default();
        for &r in keep {
            out.x.extend_from_slice(&self.x[r * dim..(r + 1) * dim]);
            out.y.push(self.y[r]);
            out.origin.push(self.origin[r]);
        }
        out
    }
}

/// Resamples the table `x` (row-major, `dim` values per row) with classes `y` (each below
/// `n_classes`) as imbalanced-learn 0.14's sampler `params.method` does.
///
/// Neighbours are by Euclidean distance, ties in row order; every random choice comes from
/// a ChaCha8 generator seeded with `params.seed`, so results repeat exactly, but they are
/// not numpy's draws: random methods agree with imbalanced-learn in distribution, not row
/// for row.
pub fn resample(
    x: &[f64],
    dim: usize,
    y: &[usize],
    n_classes: usize,
    params: &ResampleParams,
) -> Result<Resampled> {
    let names = Names(params.class_names.clone());
    let input = Input::new(x, dim, y, n_classes, &names)?;
    let method = params.method;
    check_positive(method, params)?;
    let targets = params
        .strategy
        .resolve_named(&input.counts, method.sampling_type(), &names)?;
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    let n_neighbors = |default: usize| params.n_neighbors.unwrap_or(default);
    match method {
        Method::RandomOver => Ok(random::over(&input, &targets, &mut rng)),
        Method::RandomUnder => Ok(Resampled::from_rows(
            &input,
            &random::under(&input, &targets, &mut rng),
        )),
        Method::Smote => smote::smote(&input, &targets, params.k_neighbors, method, &mut rng),
        Method::Borderline1 | Method::Borderline2 => borderline::borderline(
            &input,
            &targets,
            params.k_neighbors,
            params.m_neighbors,
            method == Method::Borderline2,
            &mut rng,
        ),
        Method::Adasyn => adasyn::adasyn(&input, &targets, n_neighbors(5), &mut rng),
        Method::Tomek => Ok(Resampled::from_rows(
            &input,
            &tomek::kept(&input, &targets, method)?,
        )),
        Method::Enn => {
            let kept = enn::kept(&input, &targets, n_neighbors(3), params.enn_kind, method)?;
            Ok(Resampled::from_rows(&input, &kept))
        }
        Method::NearMiss1 | Method::NearMiss2 | Method::NearMiss3 => {
            let version = match method {
                Method::NearMiss1 => 1,
                Method::NearMiss2 => 2,
                _ => 3,
            };
            let kept = nearmiss::kept(
                &input,
                &targets,
                version,
                n_neighbors(3),
                params.n_neighbors_ver3,
                method,
            )?;
            Ok(Resampled::from_rows(&input, &kept))
        }
        Method::SmoteTomek => combine::smote_tomek(&input, &targets, params, &mut rng),
        Method::SmoteEnn => combine::smote_enn(&input, &targets, params, &mut rng),
    }
}

/// Neighbour counts must be at least 1 (imbalanced-learn's parameter validation).
fn check_positive(method: Method, params: &ResampleParams) -> Result<()> {
    let uses_k = matches!(
        method,
        Method::Smote
            | Method::Borderline1
            | Method::Borderline2
            | Method::SmoteTomek
            | Method::SmoteEnn
    );
    let mut checks = vec![];
    if uses_k {
        checks.push(("k_neighbors", params.k_neighbors));
    }
    if matches!(method, Method::Borderline1 | Method::Borderline2) {
        checks.push(("m_neighbors", params.m_neighbors));
    }
    if method == Method::NearMiss3 {
        checks.push(("n_neighbors_ver3", params.n_neighbors_ver3));
    }
    if let Some(n) = params.n_neighbors {
        checks.push(("n_neighbors", n));
    }
    match checks.into_iter().find(|&(_, value)| value == 0) {
        Some((name, _)) => Err(Error::Invalid(format!(
            "{method}: {name} must be at least 1"
        ))),
        None => Ok(()),
    }
}

/// Class names for messages.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Names(pub Vec<String>);

impl Names {
    /// "class 'pos'", or "class 2" when there are no names.
    pub fn class(&self, c: usize) -> String {
        match self.0.get(c) {
            Some(name) => format!("class '{name}'"),
            None => format!("class {c}"),
        }
    }
}

/// The validated input of a sampler, with what every method needs to know about it.
pub(crate) struct Input<'a> {
    /// The rows, row-major.
    pub x: &'a [f64],
    /// Values per row.
    pub dim: usize,
    /// Each row's class.
    pub y: &'a [usize],
    /// Rows per class.
    pub counts: Vec<usize>,
    /// Names for messages.
    pub names: &'a Names,
}

impl<'a> Input<'a> {
    /// Checks shapes, classes and values.
    pub fn new(
        x: &'a [f64],
        dim: usize,
        y: &'a [usize],
        n_classes: usize,
        names: &'a Names,
    ) -> Result<Input<'a>> {
        if dim == 0 {
            return Err(Error::Invalid(
                "resampling needs at least one feature column".into(),
            ));
        }
        if x.len() != y.len() * dim {
            return Err(Error::Invalid(format!(
                "resampling: {} values are not {} rows of {dim} features",
                x.len(),
                y.len()
            )));
        }
        if let Some((row, &c)) = y.iter().enumerate().find(|(_, &c)| c >= n_classes) {
            return Err(Error::Invalid(format!(
                "resampling: row {row} has class {c}, but there are only {n_classes} classes"
            )));
        }
        if let Some(at) = x.iter().position(|v| !v.is_finite()) {
            return Err(Error::Invalid(format!(
                "resampling: row {}, feature {} is {}; every value must be a finite number",
                at / dim,
                at % dim,
                x[at]
            )));
        }
        Ok(Input {
            x,
            dim,
            y,
            counts: count_classes(y, n_classes),
            names,
        })
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &'a [f64] {
        &self.x[i * self.dim..(i + 1) * self.dim]
    }

    /// The rows of class `c`, in order (numpy's `flatnonzero(y == c)`).
    pub fn class_rows(&self, c: usize) -> Vec<usize> {
        (0..self.len()).filter(|&i| self.y[i] == c).collect()
    }

    /// The classes that have rows, in order (numpy's `unique(y)`).
    pub fn present_classes(&self) -> Vec<usize> {
        (0..self.counts.len())
            .filter(|&c| self.counts[c] > 0)
            .collect()
    }

    /// The rows `indices`, packed row-major.
    pub fn gather(&self, indices: &[usize]) -> Vec<f64> {
        let mut out = Vec::with_capacity(indices.len() * self.dim);
        for &i in indices {
            out.extend_from_slice(self.row(i));
        }
        out
    }

    /// An error unless `have` rows are enough for a neighbour search that needs `needed`
    /// (what scikit-learn reports as "Expected n_neighbors <= n_samples_fit").
    ///
    /// `among` says which rows are searched ("class 'pos'", "the data"), `setting` the
    /// parameter behind the need ("k_neighbors = 5"), `why` what the rows are for.
    /// Checks that the data has more than `k` rows, so each row has `k` neighbours besides
    /// itself; `setting` names the parameter (`k_neighbors`).
    pub fn check_neighbours(&self, method: Method, k: usize, setting: &str) -> Result<()> {
        let letter = setting.chars().next().unwrap_or('k');
        self.need_rows(
            method,
            "the data",
            self.len(),
            k + 1,
            &format!("{setting} = {k}"),
            &format!("each row and its {letter} nearest neighbours"),
        )
    }

    /// The `k` nearest rows of `class` to each row of `of` (rows of that class, each left
    /// out of its own list), as input row indices, after checking that the class has more
    /// than `k` rows; `setting` names the parameter.
    pub fn neighbours_within_class(
        &self,
        method: Method,
        class: usize,
        of: &[usize],
        k: usize,
        setting: &str,
    ) -> Result<Vec<Vec<usize>>> {
        let rows = self.class_rows(class);
        let letter = setting.chars().next().unwrap_or('k');
        self.need_rows(
            method,
            &self.names.class(class),
            rows.len(),
            k + 1,
            &format!("{setting} = {k}"),
            &format!("each row and its {letter} nearest neighbours of the same class"),
        )?;
        let positions: Vec<usize> = of
            .iter()
            .map(|r| rows.binary_search(r).expect("a row of the class"))
            .collect();
        Ok(
            kneighbors_of_rows(&self.gather(&rows), self.dim, &positions, k)
                .into_iter()
                .map(|near| near.into_iter().map(|p| rows[p]).collect())
                .collect(),
        )
    }

    pub fn need_rows(
        &self,
        method: Method,
        among: &str,
        have: usize,
        needed: usize,
        setting: &str,
        why: &str,
    ) -> Result<()> {
        if have >= needed {
            return Ok(());
        }
        Err(Error::Invalid(format!(
            "{method}: {among} has {have} rows, but {setting} needs at least {needed} ({why}); \
             lower the setting or collect more rows \
             (imbalanced-learn stops here too: Expected n_neighbors <= n_samples_fit, \
             but n_neighbors = {needed}, n_samples_fit = {have})"
        )))
    }
}

/// Rows per class: `n_classes` counts, more if a class index is larger.
fn count_classes(y: &[usize], n_classes: usize) -> Vec<usize> {
    let mut counts = vec![0; n_classes];
    for &c in y {
        if c >= counts.len() {
            counts.resize(c + 1, 0);
        }
        counts[c] += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 12 rows of class 0 on a circle, 3 of class 1 near its centre.
    fn small() -> (Vec<f64>, Vec<usize>) {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..12 {
            let angle = i as f64 * std::f64::consts::TAU / 12.0;
            x.extend([angle.cos() * 3.0, angle.sin() * 3.0]);
            y.push(0);
        }
        for i in 0..3 {
            x.extend([0.1 * i as f64, -0.2 * i as f64]);
            y.push(1);
        }
        (x, y)
    }

    fn params(method: Method) -> ResampleParams {
        ResampleParams {
            method,
            class_names: vec!["big".into(), "small".into()],
            ..ResampleParams::default()
        }
    }

    #[test]
    fn too_few_rows_for_the_neighbours_names_the_class_and_the_counts() {
        let (x, y) = small();
        let err = resample(&x, 2, &y, 2, &params(Method::Smote))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("smote: class 'small' has 3 rows, but k_neighbors = 5 needs at least 6"),
            "{err}"
        );
        assert!(err.contains("n_neighbors = 6, n_samples_fit = 3"), "{err}");
        let fewer = ResampleParams {
            k_neighbors: 2,
            ..params(Method::Smote)
        };
        let out = resample(&x, 2, &y, 2, &fewer).unwrap();
        assert_eq!(out.counts(2), vec![12, 12]);
        let err = resample(&x, 2, &y, 2, &params(Method::Adasyn))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("class 'small' has 3 rows, but n_neighbors = 5 needs at least 6"),
            "{err}"
        );
        let err = resample(
            &x,
            2,
            &y,
            2,
            &ResampleParams {
                n_neighbors: Some(4),
                ..params(Method::NearMiss1)
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("the minority class 'small' has 3 rows, but n_neighbors = 4"),
            "{err}"
        );
        let err = resample(
            &x,
            2,
            &y,
            2,
            &ResampleParams {
                n_neighbors: Some(15),
                ..params(Method::Enn)
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("the data has 15 rows, but n_neighbors = 15 needs at least 16"),
            "{err}"
        );
    }

    #[test]
    fn bad_parameters_and_inputs_are_invalid() {
        let (x, y) = small();
        let zero = ResampleParams {
            k_neighbors: 0,
            ..params(Method::Smote)
        };
        assert!(resample(&x, 2, &y, 2, &zero)
            .unwrap_err()
            .to_string()
            .contains("k_neighbors must be at least 1"));
        let mut nan = x.clone();
        nan[3] = f64::NAN;
        let err = resample(&nan, 2, &y, 2, &params(Method::Tomek))
            .unwrap_err()
            .to_string();
        assert!(err.contains("row 1, feature 1 is NaN"), "{err}");
        assert!(resample(&x, 3, &y, 2, &params(Method::Tomek)).is_err());
        assert!(resample(&x, 2, &y, 1, &params(Method::Tomek)).is_err());
        let one_class = vec![0; y.len()];
        let err = resample(&x, 2, &one_class, 2, &params(Method::Smote))
            .unwrap_err()
            .to_string();
        assert!(err.contains("only class 'big'"), "{err}");
        // ADASYN where no row of the class to grow has a neighbour of another class.
        let far: Vec<f64> = (0..20)
            .flat_map(|i| [i as f64, if i < 14 { 0.0 } else { 1000.0 }])
            .collect();
        let labels: Vec<usize> = (0..20).map(|i| usize::from(i >= 14)).collect();
        let err = resample(&far, 2, &labels, 2, &params(Method::Adasyn))
            .unwrap_err()
            .to_string();
        assert!(err.contains("use smote instead"), "{err}");
    }

    #[test]
    fn seeds_repeat_and_differ() {
        let (x, y) = small();
        for method in [Method::RandomOver, Method::RandomUnder, Method::Borderline2] {
            let p = ResampleParams {
                k_neighbors: 2,
                m_neighbors: 4,
                ..params(method)
            };
            let a = resample(&x, 2, &y, 2, &p).unwrap();
            assert_eq!(a, resample(&x, 2, &y, 2, &p).unwrap(), "{method}");
            let other = ResampleParams { seed: 7, ..p };
            assert_ne!(a, resample(&x, 2, &y, 2, &other).unwrap(), "{method}");
        }
    }
}
