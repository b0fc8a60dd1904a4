//! Neighbours in embedding space: near-duplicates (cosine similarity above a threshold),
//! within one set and across sets, and each row's distance to its nearest neighbours.
//!
//! The embeddings are the frozen encoder's pooled features, L2-normalised, so a dot
//! product is the cosine similarity. The similarity matrix is computed a block of rows at
//! a time (one matrix product each), so memory stays at `BLOCK × n` whatever the size.

use candle_core::{DType, Tensor};

use crate::error::Result;

/// Rows of the similarity matrix computed at once.
const BLOCK: usize = 512;

/// Rows scaled to unit length (rows of zeros stay zero).
pub fn normalised(features: &Tensor) -> Result<Tensor> {
    let features = features.to_dtype(DType::F32)?;
    let norms = features
        .sqr()?
        .sum_keepdim(1)?
        .sqrt()?
        .clamp(1e-12, f64::MAX)?;
    Ok(features.broadcast_div(&norms)?)
}

/// What the neighbours of one set's rows say.
#[derive(Debug, Clone, PartialEq)]
pub struct Within {
    /// Per row, the mean cosine distance (1 − similarity) to its `k` most similar other rows.
    pub knn_distance: Vec<f64>,
    /// Per row, its most similar other row and their similarity.
    pub nearest: Vec<Option<(usize, f32)>>,
    /// Pairs `(i, j)`, `i < j`, at least as similar as the threshold.
    pub pairs: Vec<(usize, usize, f32)>,
}

/// The neighbours of each row of `embeddings` (`[n, d]`, normalised) among the others:
/// the mean distance to the `k` nearest, the nearest, and the pairs at least `threshold`
/// similar.
pub fn within(embeddings: &Tensor, k: usize, threshold: f32) -> Result<Within> {
    let n = embeddings.dim(0)?;
    let mut out = Within {
        knn_distance: Vec::with_capacity(n),
        nearest: Vec::with_capacity(n),
        pairs: Vec::new(),
    };
    for_each_row(embeddings, embeddings, |i, sims| {
        let mut others: Vec<(usize, f32)> = sims
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .map(|(j, &s)| (j, s))
            .collect();
        out.pairs.extend(
            others
                .iter()
                .filter(|&&(j, s)| j > i && s >= threshold)
                .map(|&(j, s)| (i, j, s)),
        );
        // The k most similar (then the nearest among them), without sorting all n.
        let by_similarity =
            |a: &(usize, f32), b: &(usize, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        let k = k.min(others.len());
        if k > 0 && k < others.len() {
            others.select_nth_unstable_by(k - 1, by_similarity);
        }
        let kept = &mut others[..k];
        kept.sort_by(by_similarity);
        let distance = if kept.is_empty() {
            0.0
        } else {
            kept.iter().map(|&(_, s)| 1.0 - s as f64).sum::<f64>() / kept.len() as f64
        };
        out.knn_distance.push(distance.max(0.0));
        out.nearest.push(kept.first().copied());
    })?;
    Ok(out)
}

/// For each row of `queries`, its most similar row of `base` when at least `threshold`
/// similar: `(query, base row, similarity)`.
pub fn across(queries: &Tensor, base: &Tensor, threshold: f32) -> Result<Vec<(usize, usize, f32)>> {
    let mut found = Vec::new();
    for_each_row(queries, base, |q, sims| {
        let best = sims
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)));
        if let Some((b, &s)) = best {
            if s >= threshold {
                found.push((q, b, s));
            }
        }
    })?;
    Ok(found)
}

/// Calls `row(i, similarities of query i to every base row)` for each query row, in order.
fn for_each_row(queries: &Tensor, base: &Tensor, mut row: impl FnMut(usize, &[f32])) -> Result<()> {
    let n = queries.dim(0)?;
    let base_t = base.t()?.contiguous()?;
    let mut start = 0;
    while start < n {
        let len = BLOCK.min(n - start);
        let sims = queries.narrow(0, start, len)?.matmul(&base_t)?;
        for (offset, sims) in sims.to_vec2::<f32>()?.iter().enumerate() {
            row(start + offset, sims);
        }
        start += len;
    }
    Ok(())
}

/// Groups of rows joined by `pairs` (connected components), each sorted, groups in order
/// of their first row; rows in no pair are in no group.
pub fn groups(n: usize, pairs: &[(usize, usize, f32)]) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for &(a, b, _) in pairs {
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        if ra != rb {
            parent[ra.max(rb)] = ra.min(rb);
        }
    }
    let mut members: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for &(a, b, _) in pairs {
        for i in [a, b] {
            let r = root(&mut parent, i);
            members.entry(r).or_default().push(i);
        }
    }
    members
        .into_values()
        .map(|mut g| {
            g.sort_unstable();
            g.dedup();
            g
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn tensor(rows: &[[f32; 3]]) -> Tensor {
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        normalised(&Tensor::from_vec(flat, (rows.len(), 3), &Device::Cpu).unwrap()).unwrap()
    }

    #[test]
    fn near_copies_pair_up_and_a_stray_row_is_far_from_its_neighbours() {
        let e = tensor(&[
            [1.0, 0.0, 0.0],
            [0.99, 0.05, 0.0],
            [0.0, 1.0, 0.0],
            [0.0, 0.98, 0.1],
            [0.0, 0.0, 1.0],
        ]);
        let w = within(&e, 1, 0.99).unwrap();
        assert_eq!(
            w.pairs.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>(),
            [(0, 1), (2, 3)]
        );
        assert_eq!(w.nearest[0].unwrap().0, 1);
        let far = w.knn_distance[4];
        assert!(w.knn_distance[..4].iter().all(|&d| d < 0.01 && d < far));
        // Its nearest is row 3: cosine 0.1 / √(0.98² + 0.1²).
        let expected = 1.0 - 0.1 / (0.98f64.powi(2) + 0.01).sqrt();
        assert!((far - expected).abs() < 1e-6, "{far}");
        assert_eq!(groups(5, &w.pairs), [vec![0, 1], vec![2, 3]]);
    }

    #[test]
    fn a_query_finds_its_closest_base_row_above_the_threshold_only() {
        let base = tensor(&[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]);
        let queries = tensor(&[[0.0, 0.999, 0.01], [0.0, 0.0, 1.0]]);
        let found = across(&queries, &base, 0.95).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].0, found[0].1), (0, 1));
    }

    #[test]
    fn chains_of_pairs_form_one_group() {
        let pairs = [(3, 4, 1.0), (0, 3, 1.0), (6, 7, 1.0)];
        assert_eq!(groups(8, &pairs), [vec![0, 3, 4], vec![6, 7]]);
    }
}
