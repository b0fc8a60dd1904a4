//! `exp` and `erf` for `f32` written so that LLVM vectorises loops over them.
//!
//! The standard library's `f32::exp` and `libm`'s `erff` are opaque calls, one element at a
//! time; in a profile of a BERT training step the scalar `erf` of the GELU backward alone took
//! about 7% of the time and `expf` (softmax) about 4%. These versions are branch-free
//! polynomial approximations (ifs become vector selects), so the loops in the GELU and
//! attention-softmax kernels run several elements per instruction.

/// Runs `f` compiled for AVX2 and FMA when the CPU has them (detected at run time), else as
/// built (SSE2 on x86-64). `f` should call `#[inline(always)]` loops, which are then
/// compiled into the AVX2 function and vectorised eight lanes wide.
#[inline]
pub fn vectorised<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU was just found to support both features.
            return unsafe { avx2_fma(f) };
        }
    }
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn avx2_fma<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// Eight independent partial results per reduction, so that LLVM keeps a vector register of
/// them (it may not reassociate a single float accumulator).
pub const LANES: usize = 8;

/// The sum of `x`, in [`LANES`] partial sums.
#[inline(always)]
pub fn sum(x: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += v;
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// The largest element of `x` (−∞ for an empty slice), in [`LANES`] partial maxima.
#[inline(always)]
pub fn max(x: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail = chunks
        .remainder()
        .iter()
        .fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a = if v > *a { v } else { *a };
        }
    }
    acc.iter().fold(tail, |m, &v| m.max(v))
}

/// `e^x` with a relative error below 2e-7 (Cephes' `expf` polynomial). Inputs below −87
/// give exactly 0, as `f32::exp` underflows to 0 there; inputs above 88 are clamped (the
/// callers only exponentiate non-positive numbers).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split in two so that n·ln2 is exact in the high part.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5·2²³ rounds to the nearest integer in plain SSE2.
    const ROUND: f32 = 12_582_912.0;
    let clamped = x.clamp(-87.0, 88.0);
    let shifted = clamped * LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = clamped - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 0.166_666_65;
    p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    // 2^n from its exponent bits; n is within [-126, 127] after the clamp. The integer n is
    // read from `shifted`'s low mantissa bits (its unit in the last place is 1), in integer
    // ops that vectorise, where `n as i32` would be a saturating scalar conversion.
    let n_bits = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    let scale = f32::from_bits(n_bits.wrapping_add(127) << 23);
    if x < -87.0 {
        0.0
    } else {
        y * scale
    }
}

/// The error function with an absolute error below 5e-7 in `f32` (Abramowitz and Stegun
/// 7.1.26, whose formula is within 1.5e-7),
/// together with `e^{−x²}`, which the GELU backward needs as well.
#[inline(always)]
pub fn erf_and_gauss(x: f32) -> (f32, f32) {
    const P: f32 = 0.327_591_1;
    const A: [f32; 5] = [
        0.254_829_6,
        -0.284_496_74,
        1.421_413_8,
        -1.453_152,
        1.061_405_4,
    ];
    let a = x.abs();
    let t = 1.0 / (1.0 + P * a);
    let poly = t * (A[0] + t * (A[1] + t * (A[2] + t * (A[3] + t * A[4]))));
    let gauss = exp(-x * x);
    let magnitude = 1.0 - poly * gauss;
    (magnitude.copysign(x), gauss)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_std_across_its_range() {
        let mut worst = 0f32;
        let mut x = -87.0f32;
        while x < 88.0 {
            let (ours, std) = (exp(x), x.exp());
            worst = worst.max(((ours - std) / std).abs());
            x += 0.001;
        }
        assert!(worst < 3e-7, "worst relative error {worst}");
    }

    #[test]
    fn exp_underflows_to_zero_like_std() {
        for x in [-87.5f32, -100.0, -1e9, f32::NEG_INFINITY] {
            assert_eq!(exp(x), 0.0, "exp({x})");
            assert!(x.exp() < 1e-37);
        }
        assert_eq!(exp(0.0), 1.0);
    }

    #[test]
    fn reductions_match_plain_ones() {
        let x: Vec<f32> = (0..37).map(|i| ((i * 7919) % 101) as f32 - 50.0).collect();
        assert_eq!(sum(&x), x.iter().sum::<f32>());
        assert_eq!(max(&x), 50.0);
        assert_eq!(max(&x[..3]), x[..3].iter().fold(f32::MIN, |m, &v| m.max(v)));
        assert_eq!(max(&[]), f32::NEG_INFINITY);
        assert_eq!(vectorised(|| sum(&x)), sum(&x));
    }

    #[test]
    fn erf_matches_libm() {
        let mut worst = 0f64;
        let mut x = -6.0f64;
        while x < 6.0 {
            let (ours, gauss) = erf_and_gauss(x as f32);
            worst = worst.max((f64::from(ours) - libm::erf(x)).abs());
            // Against e^{−x²} of the f32 square, which is what the function exponentiates.
            let xf = x as f32;
            let want = f64::from(-(xf * xf)).exp();
            assert!((f64::from(gauss) - want).abs() <= 3e-7 * want + 1e-38);
            x += 0.0007;
        }
        assert!(worst < 5e-7, "worst absolute error {worst}");
        assert_eq!(erf_and_gauss(0.0).0, 0.0);
        assert_eq!(erf_and_gauss(-9.0).0, -1.0);
    }
}
