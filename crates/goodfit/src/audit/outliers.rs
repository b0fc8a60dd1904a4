//! How far out of place a row is: Tukey's fence over the neighbour distances, and each
//! row's percentile among them.

/// Tukey's upper fence over `values` (Q3 + `iqrs` × IQR) and each value's percentile (the
/// share of the other values below it).
pub fn fence(values: &[f64], iqrs: f64) -> (f64, Vec<f64>) {
    let q1 = quantile(values, 0.25);
    let q3 = quantile(values, 0.75);
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = values.len();
    let percentiles = values
        .iter()
        .map(|v| {
            let below = sorted.partition_point(|s| s < v);
            if n > 1 {
                below as f64 / (n - 1) as f64
            } else {
                0.0
            }
        })
        .collect();
    (q3 + iqrs * (q3 - q1), percentiles)
}

/// The `q` quantile of `values`, linearly interpolated (numpy's default).
pub fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fence_and_percentiles_follow_tukey_and_numpy() {
        let values = [1.0, 2.0, 3.0, 4.0, 100.0];
        assert_eq!(quantile(&values, 0.25), 2.0);
        assert_eq!(quantile(&values, 0.5), 3.0);
        let (fence, pct) = fence(&values, 3.0);
        assert_eq!(fence, 4.0 + 3.0 * 2.0);
        assert_eq!(pct, [0.0, 0.25, 0.5, 0.75, 1.0]);
    }
}
