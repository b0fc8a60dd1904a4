//! AdamW and the gradient helpers against torch, step by step.

use super::*;

// Produced by `scripts/reference-optimizer.py` (torch 2.15.0 CPU,
// torch.optim.AdamW(foreach=False), betas (0.9, 0.999), eps 1e-8). Groups:
// "encoder" = [a (2×3), b (4)] with lr 0.01, weight_decay 0.1; "head" = [c (3)] with
// lr 0.05, weight_decay 0. Step k uses lr·LR_FACTORS[k]; `b` has no gradient at
// steps 2 and 4 (1-based).
const INIT_A: [f32; 6] = [0.2955, 0.932, 0.8632, 0.1411, -0.6878, -0.9962];
const INIT_B: [f32; 4] = [0.9093, 0.2392, -0.6119, -0.9999];
const INIT_C: [f32; 3] = [-0.5298, -0.9937, -0.7055];
const LR_FACTORS: [f64; 5] = [0.5, 1.0, 0.75, 0.25, 1.0];
const GRAD_A: [f32; 30] = [
    7.648422, -0.000416, -0.98748, -1.121525, 0.000927, 0.608351, 0.00017, -0.904072, -6.536436,
    0.000554, 0.950233, -0.460021, -0.504846, -9.667982, -1.2e-05, 0.96017, 5.260775, -0.000679,
    -9.422223, -0.000575, 0.634693, 9.143831, -0.000146, -0.992225, -0.000936, 0.087499, 9.832684,
    0.000439, -0.748647, -8.390715,
];
const GRAD_B: [f32; 20] = [
    -9.422223, -0.000575, 0.634693, 9.143831, -0.000936, 0.087499, 9.832684, 0.000439, -0.490261,
    7.086698, 0.000869, -0.243544, 1.865124, 0.000997, 0.346635, -8.11093, 0.000776, 0.815725,
    -3.391549, -0.000997,
];
const GRAD_C: [f32; 15] = [
    1.865124, 0.000997, 0.346635, 0.000776, 0.815725, -3.391549, 0.999859, 2.512598, -0.000865,
    7.539023, -0.000431, -0.984688, 0.000153, -0.91113, -6.408264,
];
const EXPECTED_A: [f32; 30] = [
    0.29035226, 0.9365338, 0.8677684, 0.14602944, -0.692456, -1.0007019, 0.28336117, 0.94304174,
    0.87525904, 0.15258032, -0.6992115, -1.0005552, 0.2795882, 0.9475064, 0.8794484, 0.15229627,
    -0.7041691, -1.0002955, 0.28003302, 0.94868183, 0.8804067, 0.15081654, -0.7054899, -0.9989746,
    0.28149363, 0.9524585, 0.87723064, 0.14579135, -0.7090387, -0.9920468,
];
const EXPECTED_B: [f32; 20] = [
    0.91384536,
    0.24408029,
    -0.616594,
    -1.0044,
    0.91384536,
    0.24408029,
    -0.616594,
    -1.0044,
    0.9184688,
    0.23831661,
    -0.6211646,
    -1.0085217,
    0.9184688,
    0.23831661,
    -0.6211646,
    -1.0085217,
    0.92302144,
    0.23163342,
    -0.61521745,
    -1.012537,
];
const EXPECTED_C: [f32; 15] = [
    -0.5548,
    -1.0186998,
    -0.7305,
    -0.58831835,
    -1.0559475,
    -0.69689053,
    -0.6167683,
    -1.0853986,
    -0.6773993,
    -0.6258597,
    -1.0934389,
    -0.6702691,
    -0.6565973,
    -1.1102327,
    -0.63473535,
];
// torch.nn.utils.clip_grad_norm_(max_norm=1.0) on the step-1 gradients of a, b, c.
const CLIP_TOTAL_NORM: f64 = 15.41074275970459;
const CLIP_GRADS: [f32; 13] = [
    0.49630454,
    -2.6994156e-05,
    -0.06407738,
    -0.072775535,
    6.015284e-05,
    0.039475773,
    -0.61140615,
    -3.7311635e-05,
    0.0411851,
    0.59334135,
    0.121027514,
    6.469513e-05,
    0.022493076,
];

const SHAPES: [&[usize]; 3] = [&[2, 3], &[4], &[3]];
const NO_GRAD_B: [usize; 2] = [2, 4];

fn var(values: &[f32], shape: &[usize], dtype: DType) -> Var {
    let t = Tensor::from_slice(values, shape, &Device::Cpu)
        .unwrap()
        .to_dtype(dtype)
        .unwrap();
    Var::from_tensor(&t).unwrap()
}

fn build(vars: &[Var; 3]) -> AdamW {
    let groups = vec![
        ParamGroup {
            name: "encoder".into(),
            params: vec![("a".into(), vars[0].clone()), ("b".into(), vars[1].clone())],
            lr: 0.01,
            weight_decay: 0.1,
        },
        ParamGroup {
            name: "head".into(),
            params: vec![("c".into(), vars[2].clone())],
            lr: 0.05,
            weight_decay: 0.0,
        },
    ];
    AdamW::new(groups, AdamWConfig::default()).unwrap()
}

fn fresh_vars(dtype: DType) -> [Var; 3] {
    [
        var(&INIT_A, SHAPES[0], dtype),
        var(&INIT_B, SHAPES[1], dtype),
        var(&INIT_C, SHAPES[2], dtype),
    ]
}

/// The reference gradients of 1-based `step`.
fn grads_at(vars: &[Var; 3], step: usize) -> GradStore {
    let mut store = GradStore::default();
    for (i, data) in [&GRAD_A[..], &GRAD_B[..], &GRAD_C[..]].iter().enumerate() {
        if i == 1 && NO_GRAD_B.contains(&step) {
            continue;
        }
        let n: usize = SHAPES[i].iter().product();
        let g = &data[(step - 1) * n..step * n];
        let g = Tensor::from_slice(g, SHAPES[i], &Device::Cpu)
            .unwrap()
            .to_dtype(vars[i].dtype())
            .unwrap();
        store.insert(&vars[i], g);
    }
    store
}

fn values(v: &Var) -> Vec<f64> {
    v.flatten_all()
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap()
        .to_vec1()
        .unwrap()
}

fn bits(v: &Var) -> Vec<u64> {
    values(v).iter().map(|x| x.to_bits()).collect()
}

/// Runs the reference steps `from..to` (1-based, inclusive `from`, exclusive `to`).
fn run(opt: &mut AdamW, vars: &[Var; 3], from: usize, to: usize) {
    for step in from..to {
        opt.step(&grads_at(vars, step), LR_FACTORS[step - 1])
            .unwrap();
    }
}

fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol, "{what}[{i}]: {g} vs {w}");
    }
}

fn check_against_torch(host_kernel: bool) {
    let vars = fresh_vars(DType::F32);
    let mut opt = build(&vars);
    opt.host_kernel = host_kernel;
    for step in 1..=5 {
        run(&mut opt, &vars, step, step + 1);
        for (i, expected) in [&EXPECTED_A[..], &EXPECTED_B[..], &EXPECTED_C[..]]
            .iter()
            .enumerate()
        {
            let n = vars[i].elem_count();
            let want: Vec<f64> = expected[(step - 1) * n..step * n]
                .iter()
                .map(|&x| f64::from(x))
                .collect();
            let what = format!("host_kernel={host_kernel} step {step} param {i}");
            assert_close(&values(&vars[i]), &want, 1e-6, &what);
        }
    }
    assert_eq!(opt.step_count(), 5);
    // torch's per-parameter step counts after the run: a=5, b=3, c=5.
    let state = opt.state().unwrap();
    for (name, want) in [("a", 5), ("b", 3), ("c", 5)] {
        let got = state[&format!("{name}.step")].to_scalar::<i64>().unwrap();
        assert_eq!(got, want, "{name}.step");
    }
}

#[test]
fn matches_torch_adamw_in_place_kernel() {
    check_against_torch(true);
}

#[test]
fn matches_torch_adamw_tensor_path() {
    check_against_torch(false);
}

#[test]
fn in_place_f32_equals_tensor_path_f64() {
    let fast = fresh_vars(DType::F32);
    let mut opt_fast = build(&fast);
    let slow = fresh_vars(DType::F64);
    let mut opt_slow = build(&slow);
    assert!(matches!(
        opt_slow.states[0][0].moments,
        Moments::Tensors { .. }
    ));
    run(&mut opt_fast, &fast, 1, 6);
    run(&mut opt_slow, &slow, 1, 6);
    for i in 0..3 {
        assert_close(&values(&fast[i]), &values(&slow[i]), 1e-6, "param");
    }
    let (sf, ss) = (opt_fast.state().unwrap(), opt_slow.state().unwrap());
    for key in ["a.exp_avg", "a.exp_avg_sq", "c.exp_avg", "c.exp_avg_sq"] {
        let f: Vec<f64> = sf[key]
            .to_dtype(DType::F64)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let s: Vec<f64> = ss[key].flatten_all().unwrap().to_vec1().unwrap();
        // Relative: exp_avg_sq reaches ~10 for the large gradients.
        let scale = s.iter().fold(1.0f64, |a, x| a.max(x.abs()));
        assert_close(&f, &s, 1e-6 * scale, key);
    }
}

fn check_resume(dtype: DType) {
    let whole = fresh_vars(dtype);
    let mut opt = build(&whole);
    run(&mut opt, &whole, 1, 6);

    let first = fresh_vars(dtype);
    let mut opt1 = build(&first);
    run(&mut opt1, &first, 1, 3);
    // Through a real checkpoint file, as a resumed run would read it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("optimizer.safetensors");
    candle_core::safetensors::save(&opt1.state().unwrap(), &path).unwrap();
    let saved = candle_core::safetensors::load(&path, &Device::Cpu).unwrap();
    // New variables holding the checkpointed parameter values.
    let second: [Var; 3] =
        std::array::from_fn(|i| Var::from_tensor(&first[i].copy().unwrap()).unwrap());
    drop(opt1);
    let mut opt2 = build(&second);
    opt2.load_state(&saved).unwrap();
    assert_eq!(opt2.step_count(), 2);
    run(&mut opt2, &second, 3, 6);
    assert_eq!(opt2.step_count(), 5);
    for i in 0..3 {
        assert_eq!(bits(&second[i]), bits(&whole[i]), "{dtype:?} param {i}");
    }
    let (a, b) = (opt.state().unwrap(), opt2.state().unwrap());
    assert_eq!(a.len(), b.len());
    for (k, t) in &a {
        let x: Vec<f64> = t
            .to_dtype(DType::F64)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let y: Vec<f64> = b[k]
            .to_dtype(DType::F64)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        assert_eq!(x, y, "{k}");
    }
}

#[test]
fn resume_from_state_is_bit_identical() {
    check_resume(DType::F32);
    check_resume(DType::F64);
}

#[test]
fn params_without_gradient_are_untouched() {
    let vars = fresh_vars(DType::F32);
    let extra = var(&[1.5, -2.5], &[2], DType::F32);
    let mut opt = build(&vars);
    opt.groups[0].params.push(("extra".into(), extra.clone()));
    opt.states[0].push(ParamState {
        step: 0,
        moments: Moments::Host {
            m: vec![0.0; 2],
            v: vec![0.0; 2],
        },
    });
    run(&mut opt, &vars, 1, 2);
    let b_after_1 = bits(&vars[1]);
    run(&mut opt, &vars, 2, 3); // `b` has no gradient at step 2
    assert_eq!(bits(&vars[1]), b_after_1);
    assert_eq!(values(&extra), [1.5, -2.5]);
    let state = opt.state().unwrap();
    assert_eq!(state["extra.step"].to_scalar::<i64>().unwrap(), 0);
    assert_eq!(state["b.step"].to_scalar::<i64>().unwrap(), 1);
}

#[test]
fn update_is_visible_through_every_handle() {
    let vars = fresh_vars(DType::F32);
    let clone = vars[0].clone();
    let tensor = vars[0].as_tensor().clone();
    let snapshot = vars[0].copy().unwrap();
    let mut opt = build(&vars);
    run(&mut opt, &vars, 1, 2);
    let now = values(&vars[0]);
    assert_ne!(now, values(&Var::from_tensor(&snapshot).unwrap()));
    assert_eq!(values(&clone), now);
    let t: Vec<f64> = tensor
        .flatten_all()
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap()
        .to_vec1()
        .unwrap();
    assert_eq!(t, now);
}

#[test]
fn clip_grad_norm_by_hand_and_against_torch() {
    let a = var(&[0.0, 0.0], &[2], DType::F32);
    let b = var(&[0.0], &[1], DType::F32);
    let unused = var(&[0.0], &[1], DType::F32);
    let make = || {
        let mut g = GradStore::default();
        g.insert(&a, Tensor::new(&[3f32, 4.0], &Device::Cpu).unwrap());
        g.insert(&b, Tensor::new(&[12f32], &Device::Cpu).unwrap());
        g
    };
    // Norm 13 ≤ 20: returned, nothing scaled. `a` listed twice counts once.
    let mut g = make();
    let n = clip_grad_norm(&mut g, [&a, &b, &a, &unused], 20.0).unwrap();
    assert_eq!(n, 13.0);
    assert_eq!(g.get(&a).unwrap().to_vec1::<f32>().unwrap(), [3.0, 4.0]);
    // Norm 13 > 6.5: scaled by 6.5 / (13 + 1e-6), torch's formula.
    let mut g = make();
    let n = clip_grad_norm(&mut g, [&a, &b], 6.5).unwrap();
    assert_eq!(n, 13.0);
    let coef = 6.5 / (13.0 + 1e-6);
    let got_a = g.get(&a).unwrap().to_vec1::<f32>().unwrap();
    let got_b = g.get(&b).unwrap().to_vec1::<f32>().unwrap();
    assert_eq!(got_a, [(3.0 * coef) as f32, (4.0 * coef) as f32]);
    assert_eq!(got_b, [(12.0 * coef) as f32]);
    // The same in f64 on the tensor path.
    let c = var(&[0.0, 0.0], &[2], DType::F64);
    let mut g = GradStore::default();
    g.insert(&c, Tensor::new(&[3f64, 4.0], &Device::Cpu).unwrap());
    assert_eq!(clip_grad_norm(&mut g, [&c], 1.0).unwrap(), 5.0);
    let got = g.get(&c).unwrap().to_vec1::<f64>().unwrap();
    assert_eq!(
        got,
        [3.0 * (1.0 / (5.0 + 1e-6)), 4.0 * (1.0 / (5.0 + 1e-6))]
    );

    // Against torch on the reference step-1 gradients.
    let vars = fresh_vars(DType::F32);
    let mut g = grads_at(&vars, 1);
    let n = clip_grad_norm(&mut g, &vars, 1.0).unwrap();
    assert!((n - CLIP_TOTAL_NORM).abs() <= 1e-5, "{n}");
    let got: Vec<f64> = vars
        .iter()
        .flat_map(|v| {
            g.get(v)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_dtype(DType::F64)
                .unwrap()
                .to_vec1::<f64>()
                .unwrap()
        })
        .collect();
    let want: Vec<f64> = CLIP_GRADS.iter().map(|&x| f64::from(x)).collect();
    assert_close(&got, &want, 1e-6, "clipped");

    assert!(clip_grad_norm(&mut g, &vars, -1.0).is_err());
    assert!(clip_grad_norm(&mut g, &vars, f64::NAN).is_err());
}

/// Clipping fused into the step gives bit for bit what clipping the stored
/// gradients and then stepping gives, on both paths.
fn check_fused_clipping(dtype: DType, host_kernel: bool) {
    let (split, fused) = (fresh_vars(dtype), fresh_vars(dtype));
    let (mut opt_split, mut opt_fused) = (build(&split), build(&fused));
    opt_split.host_kernel = host_kernel;
    opt_fused.host_kernel = host_kernel;
    let mut clipped_steps = 0;
    for step in 1..=5 {
        let mut g = grads_at(&split, step);
        let norm = clip_grad_norm(&mut g, &split, 9.0).unwrap();
        opt_split.step(&g, LR_FACTORS[step - 1]).unwrap();
        let g = grads_at(&fused, step);
        let norm2 = grad_norm(&g, &fused).unwrap();
        assert_eq!(norm, norm2);
        let coef = clip_coefficient(norm2, 9.0).unwrap();
        clipped_steps += usize::from(coef < 1.0);
        opt_fused
            .step_with_grad_scale(&g, LR_FACTORS[step - 1], coef)
            .unwrap();
    }
    assert!((2..5).contains(&clipped_steps), "{clipped_steps}");
    for i in 0..3 {
        assert_eq!(
            bits(&split[i]),
            bits(&fused[i]),
            "{dtype:?} {host_kernel} {i}"
        );
    }
}

#[test]
fn fused_clipping_equals_clip_then_step() {
    check_fused_clipping(DType::F32, true);
    check_fused_clipping(DType::F32, false);
    check_fused_clipping(DType::F64, false);
    assert_eq!(clip_coefficient(f64::NAN, 1.0).unwrap(), 1.0);
    assert_eq!(clip_coefficient(f64::INFINITY, 1.0).unwrap(), 1.0);
    assert_eq!(clip_coefficient(0.5, 1.0).unwrap(), 1.0);
    assert!(clip_coefficient(2.0, f64::INFINITY).is_err());
}

#[test]
fn accumulate_sums_only_parameter_gradients() {
    let vars = fresh_vars(DType::F32);
    let other = Tensor::new(&[1f32], &Device::Cpu).unwrap();
    let mut g1 = grads_at(&vars, 1);
    g1.insert(&other, Tensor::new(&[5f32], &Device::Cpu).unwrap());
    let g2 = grads_at(&vars, 2); // no gradient for `b`
    let mut total = None;
    accumulate(&mut total, &g1, &vars).unwrap();
    accumulate(&mut total, &g2, vars.iter().chain(&vars)).unwrap();
    let total = total.unwrap();
    assert!(total.get(&other).is_none());
    let a: Vec<f32> = total
        .get(&vars[0])
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    let want: Vec<f32> = (0..6).map(|i| GRAD_A[i] + GRAD_A[6 + i]).collect();
    assert_eq!(a, want);
    let b: Vec<f32> = total.get(&vars[1]).unwrap().to_vec1().unwrap();
    assert_eq!(b, GRAD_B[..4]);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let vars = fresh_vars(DType::F32);
    let group = |params: Vec<(String, Var)>, lr: f64| ParamGroup {
        name: "g".into(),
        params,
        lr,
        weight_decay: 0.0,
    };
    let a = || vec![("a".to_string(), vars[0].clone())];
    for config in [
        AdamWConfig {
            beta1: 1.0,
            ..Default::default()
        },
        AdamWConfig {
            beta2: -0.1,
            ..Default::default()
        },
        AdamWConfig {
            eps: f64::NAN,
            ..Default::default()
        },
    ] {
        assert!(AdamW::new(vec![group(a(), 0.1)], config).is_err());
    }
    assert!(AdamW::new(vec![group(a(), -0.1)], AdamWConfig::default()).is_err());
    let dup_var = vec![
        ("a".to_string(), vars[0].clone()),
        ("x".to_string(), vars[0].clone()),
    ];
    assert!(AdamW::new(vec![group(dup_var, 0.1)], AdamWConfig::default()).is_err());
    let dup_name = vec![
        group(a(), 0.1),
        group(vec![("a".to_string(), vars[1].clone())], 0.1),
    ];
    assert!(AdamW::new(dup_name, AdamWConfig::default()).is_err());

    let mut opt = build(&vars);
    let before: Vec<Vec<u64>> = vars.iter().map(bits).collect();
    // A wrong-shaped gradient for `c` must fail before `a` is touched.
    let mut g = grads_at(&vars, 1);
    g.insert(
        &vars[2],
        Tensor::zeros(4, DType::F32, &Device::Cpu).unwrap(),
    );
    assert!(opt.step(&g, 1.0).is_err());
    let mut g = grads_at(&vars, 1);
    g.insert(
        &vars[2],
        Tensor::zeros(3, DType::F64, &Device::Cpu).unwrap(),
    );
    assert!(opt.step(&g, 1.0).is_err());
    assert!(opt.step(&grads_at(&vars, 1), f64::NAN).is_err());
    assert!(opt.step(&grads_at(&vars, 1), -1.0).is_err());
    let after: Vec<Vec<u64>> = vars.iter().map(bits).collect();
    assert_eq!(before, after);
    assert_eq!(opt.step_count(), 0);

    run(&mut opt, &vars, 1, 2);
    let good = opt.state().unwrap();
    let mut missing = good.clone();
    missing.remove("b.exp_avg_sq");
    assert!(opt
        .load_state(&missing)
        .unwrap_err()
        .to_string()
        .contains("b.exp_avg_sq"));
    let mut extra = good.clone();
    extra.insert(
        "zzz.exp_avg".into(),
        Tensor::new(0f32, &Device::Cpu).unwrap(),
    );
    assert!(opt
        .load_state(&extra)
        .unwrap_err()
        .to_string()
        .contains("zzz.exp_avg"));
    let mut shape = good.clone();
    shape.insert(
        "a.exp_avg".into(),
        Tensor::zeros(6, DType::F32, &Device::Cpu).unwrap(),
    );
    assert!(opt.load_state(&shape).is_err());
    let mut step = good.clone();
    step.insert("step".into(), Tensor::new(-1i64, &Device::Cpu).unwrap());
    assert!(opt.load_state(&step).is_err());
    // Failed loads changed nothing.
    assert_eq!(opt.step_count(), 1);
    assert_eq!(
        opt.state().unwrap()["a.step"].to_scalar::<i64>().unwrap(),
        1
    );
}
