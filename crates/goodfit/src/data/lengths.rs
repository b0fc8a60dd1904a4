//! The distribution of text lengths, in characters or in a model's tokens.

use serde::Serialize;
use tokenizers::Tokenizer;

use crate::error::{Error, Result};

/// Token limits whose exceedance is worth knowing: common `--max-len` values.
pub const TOKEN_LIMITS: [usize; 3] = [128, 256, 512];

/// Summary statistics of text lengths.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LengthStats {
    /// `tokens` (special tokens included) or `characters`.
    pub unit: &'static str,
    /// Shortest.
    pub min: f64,
    /// 25th percentile.
    pub p25: f64,
    /// Median.
    pub median: f64,
    /// 75th percentile.
    pub p75: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Longest.
    pub max: f64,
    /// Mean.
    pub mean: f64,
    /// For token lengths: the share of texts longer than each of [`TOKEN_LIMITS`].
    pub over: Vec<LimitShare>,
}

/// The share of texts longer than a limit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LimitShare {
    /// The limit, in tokens.
    pub limit: usize,
    /// The share of texts with more tokens than that.
    pub share: f64,
}

/// Lengths in Unicode characters.
pub fn char_lengths(texts: &[String]) -> Vec<usize> {
    texts.iter().map(|text| text.chars().count()).collect()
}

/// Lengths in the tokenizer's tokens, special tokens included (what the model sees).
pub fn token_lengths(tokenizer: &Tokenizer, texts: &[String]) -> Result<Vec<usize>> {
    let inputs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let encodings = tokenizer
        .encode_batch(inputs, true)
        .map_err(|error| Error::Invalid(format!("tokenisation failed: {error}")))?;
    Ok(encodings.iter().map(|e| e.get_ids().len()).collect())
}

/// Statistics of `lengths` (which must not be empty); `unit` is `tokens` or `characters`.
pub fn length_stats(lengths: &[usize], unit: &'static str) -> LengthStats {
    let mut sorted: Vec<f64> = lengths.iter().map(|&l| l as f64).collect();
    sorted.sort_by(f64::total_cmp);
    let over = if unit == "tokens" {
        TOKEN_LIMITS
            .iter()
            .map(|&limit| LimitShare {
                limit,
                share: lengths.iter().filter(|&&l| l > limit).count() as f64 / lengths.len() as f64,
            })
            .collect()
    } else {
        Vec::new()
    };
    LengthStats {
        unit,
        min: percentile(&sorted, 0.0),
        p25: percentile(&sorted, 25.0),
        median: percentile(&sorted, 50.0),
        p75: percentile(&sorted, 75.0),
        p90: percentile(&sorted, 90.0),
        p95: percentile(&sorted, 95.0),
        p99: percentile(&sorted, 99.0),
        max: percentile(&sorted, 100.0),
        mean: sorted.iter().sum::<f64>() / sorted.len().max(1) as f64,
        over,
    }
}

/// The `q`th percentile of sorted values, interpolated linearly as `numpy.percentile` does.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = q / 100.0 * (sorted.len() - 1) as f64;
    let below = rank.floor() as usize;
    let above = rank.ceil() as usize;
    sorted[below] + (sorted[above] - sorted[below]) * (rank - below as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_match_numpy() {
        // numpy.percentile([1, 2, 3, 4, 10], [25, 50, 90]) == [2., 3., 7.6]
        let sorted = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert_eq!(percentile(&sorted, 25.0), 2.0);
        assert_eq!(percentile(&sorted, 50.0), 3.0);
        assert!((percentile(&sorted, 90.0) - 7.6).abs() < 1e-12);
    }

    #[test]
    fn token_stats_report_shares_over_limits() {
        let stats = length_stats(&[10, 130, 300, 600], "tokens");
        let shares: Vec<f64> = stats.over.iter().map(|o| o.share).collect();
        assert_eq!(shares, [0.75, 0.5, 0.25]);
        assert_eq!(stats.max, 600.0);
        assert!(length_stats(&[3, 4], "characters").over.is_empty());
    }

    #[test]
    fn characters_are_counted_not_bytes() {
        assert_eq!(char_lengths(&["héllo".to_string(), String::new()]), [5, 0]);
    }
}
