//! COINr's options (issue 15, point 6): normalisation parameters, the tie rule, PCA weights
//! at one level, and the uncertain inputs. Expected values by hand or numpy (numbers below).

use super::asem;
use kebao_composite::uncertainty::{uncertainty, Model, UncertaintySpec};
use kebao_composite::{
    Aggregation, Build, BuildSpec, CompositeError, Framework, Imputation, Normalisation, Ties, TreatSpec,
    UnitData, Weighting,
};

/// a, b, c under P1 (weight 2); d, e under P2 (weight 1); P1, P2 under the index I.
/// c moves against a and b; d has ties (3, 5, 3, 1, 5, 2).
fn small() -> (Framework, UnitData) {
    let fw = Framework::from_imeta_csv(
        "iCode,iName,Level,Parent,Direction,Weight,Type\n\
         a,A,1,P1,1,1,Indicator\nb,B,1,P1,1,1,Indicator\nc,C,1,P1,1,1,Indicator\n\
         d,D,1,P2,1,1,Indicator\ne,E,1,P2,1,1,Indicator\n\
         P1,P1,2,I,1,2,Aggregate\nP2,P2,2,I,1,1,Aggregate\nI,Index,3,,1,1,Aggregate\n",
    )
    .unwrap();
    let data = UnitData::from_idata_csv(
        "uCode,a,b,c,d,e\n\
         U1,1,1.2,6,3,2\nU2,2,1.9,4,5,6\nU3,3,3.5,5,3,3\n\
         U4,4,3.9,2,1,1\nU5,5,5.5,3,5,5\nU6,6,5.8,1,2,4\n",
        &fw,
    )
    .unwrap();
    (fw, data)
}

/// No imputation, screening or treatment: only the option under test acts.
fn plain(normalisation: Normalisation, weighting: Weighting, aggregation: Aggregation) -> BuildSpec {
    BuildSpec {
        imputation: Imputation::None,
        screen_threshold: 0.0,
        treatment: None,
        normalisation,
        weighting,
        aggregation,
        ..BuildSpec::coinr_default("")
    }
}

fn normalised(n: Normalisation, code: &str) -> Vec<f64> {
    let (fw, data) = small();
    let b = Build::run(&fw, &data, &plain(n, Weighting::Given, Aggregation::ArithmeticMean)).unwrap();
    b.stage("Normalised").unwrap().column(code).unwrap().to_vec()
}

fn close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= tol, "{got:?} vs {want:?}");
    }
}

/// R: rank(c(3, 5, 3, 1, 5, 2), ties.method = "min") = 3 5 3 1 5 2; "average" gives
/// 3.5 5.5 3.5 1 5.5 2. COINr's n_rank, n_prank ((r − 1)/(n − 1)) and n_borda (r − 1)
/// default to "min". Averaged ties fail every assertion on U1, U2, U3 and U5.
#[test]
fn rank_normalisations_tie_at_the_lowest_rank_by_default() {
    assert_eq!(Ties::default(), Ties::Min);
    let t = Ties::default();
    assert_eq!(normalised(Normalisation::Rank { ties: t }, "d"), [3.0, 5.0, 3.0, 1.0, 5.0, 2.0]);
    close(
        &normalised(Normalisation::PercentileRank { ties: t }, "d"),
        &[0.4, 0.8, 0.4, 0.0, 0.8, 0.2],
        1e-15,
    );
    assert_eq!(normalised(Normalisation::Borda { ties: t }, "d"), [2.0, 4.0, 2.0, 0.0, 4.0, 1.0]);
    // Averaged ties stay available.
    let t = Ties::Average;
    assert_eq!(normalised(Normalisation::Rank { ties: t }, "d"), [3.5, 5.5, 3.5, 1.0, 5.5, 2.0]);
    close(
        &normalised(Normalisation::PercentileRank { ties: t }, "d"),
        &[0.5, 0.9, 0.5, 0.0, 0.9, 0.2],
        1e-15,
    );
    assert_eq!(normalised(Normalisation::Borda { ties: t }, "d"), [2.5, 4.5, 2.5, 0.0, 4.5, 1.0]);
}

/// COINr's n_zscore(x, m_sd) and n_minmax(x, l_u). x = a of the small set (1..6):
/// mean 3.5, sample sd √3.5; numpy: (x − 3.5)/√3.5·2 + 10.
#[test]
fn zscore_and_minmax_take_their_parameters() {
    assert_eq!(Normalisation::COINR_ZSCORE, Normalisation::ZScore { mean: 0.0, sd: 1.0 });
    assert_eq!(Normalisation::COINR_MINMAX, Normalisation::MinMax { lo: 0.0, hi: 100.0 });
    let s = 3.5f64.sqrt();
    let z: Vec<f64> = (1..=6).map(|i| (f64::from(i) - 3.5) / s).collect();
    close(&normalised(Normalisation::COINR_ZSCORE, "a"), &z, 1e-14);
    let z2: Vec<f64> = z.iter().map(|v| v * 2.0 + 10.0).collect();
    close(&normalised(Normalisation::ZScore { mean: 10.0, sd: 2.0 }, "a"), &z2, 1e-14);
    close(&normalised(Normalisation::COINR_MINMAX, "a"), &[0.0, 20.0, 40.0, 60.0, 80.0, 100.0], 1e-12);
    close(
        &normalised(Normalisation::MinMax { lo: -1.0, hi: 1.0 }, "a"),
        &[-1.0, -0.6, -0.2, 0.2, 0.6, 1.0],
        1e-15,
    );
}

#[test]
fn bad_normalisation_parameters_are_refused_by_name() {
    let (fw, data) = small();
    for (n, option) in [
        (Normalisation::ZScore { mean: 0.0, sd: 0.0 }, "zscore"),
        (Normalisation::ZScore { mean: 0.0, sd: -1.0 }, "zscore"),
        (Normalisation::ZScore { mean: f64::NAN, sd: 1.0 }, "zscore"),
        (Normalisation::MinMax { lo: 100.0, hi: 0.0 }, "minmax"),
        (Normalisation::MinMax { lo: 5.0, hi: 5.0 }, "minmax"),
        (Normalisation::MinMax { lo: 0.0, hi: f64::INFINITY }, "minmax"),
    ] {
        let err =
            Build::run(&fw, &data, &plain(n, Weighting::Given, Aggregation::ArithmeticMean)).unwrap_err();
        assert!(matches!(err, CompositeError::BadOption { option: o, .. } if o == option), "{n:?}: {err}");
    }
}

/// numpy: the correlation matrix of a, b, c has the first eigenvector
/// (0.5961037891659048, 0.5791642920657001, −0.556083622612721) (eigenvalue 2.784);
/// P2's two children correlate positively, so theirs is (1, 1)/√2.
const P1_LOADINGS: [f64; 3] = [0.5961037891659048, 0.5791642920657001, -0.556083622612721];

fn weights_of(b: &Build) -> Vec<(String, u32, String, f64)> {
    b.weights.iter().map(|w| (w.code.clone(), w.level, w.parent.clone(), w.weight)).collect()
}

#[test]
fn pca_weights_at_one_level_coinr_s_way() {
    let (fw, data) = small();
    let n = Normalisation::COINR_MINMAX;
    let h = std::f64::consts::FRAC_1_SQRT_2;
    // Level 1, absolute loadings (the default): only level-1 weights change; P1 and P2 keep 2 and 1.
    let b = Build::run(&fw, &data, &plain(n, Weighting::COINR_PCA, Aggregation::ArithmeticMean)).unwrap();
    let w = weights_of(&b);
    let want = [
        ("a", 1, "P1", P1_LOADINGS[0]),
        ("b", 1, "P1", P1_LOADINGS[1]),
        ("c", 1, "P1", -P1_LOADINGS[2]),
        ("d", 1, "P2", h),
        ("e", 1, "P2", h),
        ("P1", 2, "I", 2.0),
        ("P2", 2, "I", 1.0),
    ];
    assert_eq!(w.len(), want.len());
    for ((code, level, parent, weight), (c, l, p, x)) in w.iter().zip(want) {
        assert_eq!((code.as_str(), *level, parent.as_str()), (c, l, p));
        assert!((weight - x).abs() < 1e-12, "{code}: {weight} vs {x}");
    }
    // Signed loadings (opt-in): c's weight is negative, and P1 is Σwx/Σw with it.
    let signed = Weighting::Pca { level: 1, signed: true };
    let b = Build::run(&fw, &data, &plain(n, signed.clone(), Aggregation::ArithmeticMean)).unwrap();
    assert!((b.weights[2].weight - P1_LOADINGS[2]).abs() < 1e-12);
    let norm = b.stage("Normalised").unwrap();
    let sw: f64 = P1_LOADINGS.iter().sum();
    for u in 0..6 {
        let p1: f64 = ["a", "b", "c"]
            .iter()
            .zip(P1_LOADINGS)
            .map(|(code, w)| w * norm.column(code).unwrap()[u])
            .sum::<f64>()
            / sw;
        assert!((b.stage("Aggregated").unwrap().column("P1").unwrap()[u] - p1).abs() < 1e-9);
    }
    // … and refused with the geometric or harmonic mean, before any work.
    let pos = Normalisation::MinMax { lo: 1.0, hi: 100.0 };
    for (a, mean) in [(Aggregation::GeometricMean, "geometric"), (Aggregation::HarmonicMean, "harmonic")] {
        assert_eq!(
            Build::run(&fw, &data, &plain(pos, signed.clone(), a)).unwrap_err(),
            CompositeError::SignedWeights(mean)
        );
        assert!(Build::run(&fw, &data, &plain(pos, Weighting::COINR_PCA, a)).is_ok());
    }
    // Level 2: P1 and P2 get loadings (1, 1)/√2 (two children), the indicators keep 1.
    let b = Build::run(
        &fw,
        &data,
        &plain(n, Weighting::Pca { level: 2, signed: false }, Aggregation::ArithmeticMean),
    )
    .unwrap();
    let w: Vec<f64> = b.weights.iter().map(|w| w.weight).collect();
    close(&w, &[1.0, 1.0, 1.0, 1.0, 1.0, h, h], 1e-12);
    // A level without weights to derive is named.
    assert_eq!(
        Build::run(
            &fw,
            &data,
            &plain(n, Weighting::Pca { level: 3, signed: false }, Aggregation::ArithmeticMean)
        )
        .unwrap_err(),
        CompositeError::PcaLevel { level: 3, levels: "1, 2".into() }
    );
}

/// What `--weights-out` prints: the weights used, for entropy too.
#[test]
fn effective_weights_are_the_ones_used() {
    let (fw, data) = small();
    let b = Build::run(
        &fw,
        &data,
        &plain(Normalisation::COINR_MINMAX, Weighting::Given, Aggregation::ArithmeticMean),
    )
    .unwrap();
    assert!(b.weights.iter().all(|w| w.weight == if w.code == "P1" { 2.0 } else { 1.0 }));
    let e = Build::run(
        &fw,
        &data,
        &plain(Normalisation::COINR_MINMAX, Weighting::Entropy, Aggregation::ArithmeticMean),
    )
    .unwrap();
    let p1: f64 = e.weights.iter().filter(|w| w.parent == "P1").map(|w| w.weight).sum();
    assert!((p1 - 1.0).abs() < 1e-12, "entropy weights of a group sum to 1");
    // Recomputing the index from the printed weights gives the index.
    let agg = e.stage("Aggregated").unwrap();
    let w = |c: &str| e.weights.iter().find(|w| w.code == c).unwrap().weight;
    for u in 0..6 {
        let i = (w("P1") * agg.column("P1").unwrap()[u] + w("P2") * agg.column("P2").unwrap()[u])
            / (w("P1") + w("P2"));
        assert!((agg.column("I").unwrap()[u] - i).abs() < 1e-9);
    }
}

/// COINr's `f2 = NULL`: an indicator winsorising does not fix keeps its winsorised values.
#[test]
fn treatment_without_log_fallback_keeps_winsorised_values() {
    let (fw, data) = asem();
    // With at most one point winsorised, some ASEM indicators still fail and get log_CT.
    let one = TreatSpec { winmax: 1, ..TreatSpec::default() };
    let base = BuildSpec { treatment: Some(one), ..BuildSpec::coinr_default("EurAsia_group") };
    let with = Build::run(&fw, &data, &base).unwrap();
    let logged: Vec<&str> = with
        .treat_details
        .iter()
        .filter(|d| matches!(d.treatment, kebao_composite::Treatment::LogCt { .. }))
        .map(|d| d.code.as_str())
        .collect();
    assert!(!logged.is_empty(), "ASEM has indicators COINr log-transforms at winmax 1");
    let spec = BuildSpec { treatment: Some(TreatSpec { log_fallback: false, ..one }), ..base };
    let without = Build::run(&fw, &data, &spec).unwrap();
    for code in logged {
        let d = without.treat_details.iter().find(|d| d.code == code).unwrap();
        assert_eq!(d.treatment, kebao_composite::Treatment::Winsorised(1), "{code}");
        // Winsorised values stay within the raw range (log_CT would not).
        let raw = without.stage("Screened").unwrap().column(code).unwrap();
        let max = raw.iter().copied().filter(|v| !v.is_nan()).fold(f64::MIN, f64::max);
        assert!(without
            .stage("Treated")
            .unwrap()
            .column(code)
            .unwrap()
            .iter()
            .all(|v| v.is_nan() || *v <= max));
    }
}

/// COINr's get_noisy_weights(w, noise_specs): noise only on the levels named, each with
/// its own factor; the winsorisation limit and the treatment as uncertain inputs.
#[test]
fn uncertainty_noise_on_chosen_levels_winmax_and_treatments() {
    let (fw, data) = asem();
    let base = BuildSpec::coinr_default("EurAsia_group");
    let spec = UncertaintySpec {
        seed: 4,
        weight_noise: 0.0,
        noise_levels: vec![(2, 0.25), (3, 0.1)],
        ..UncertaintySpec::nominal(&base)
    };
    let model = Model::new(&fw, &data, &base, &spec).unwrap();
    assert_eq!(model.inputs(), ["weights"]);
    let mut moved = [false; 2];
    for set in model.weight_sets() {
        for n in &fw.nodes {
            let w = set[&n.code];
            let f = match n.level {
                2 => 0.25,
                3 => 0.1,
                _ => 0.0,
            };
            assert!((w - n.weight).abs() <= f * n.weight + 1e-15, "{}: {w}", n.code);
            if n.level == 2 || n.level == 3 {
                moved[n.level as usize - 2] |= w != n.weight;
            } else {
                assert_eq!(w, n.weight, "level {} has no noise", n.level);
            }
        }
    }
    assert_eq!(moved, [true, true]);
    // A level the framework lacks, or a factor out of range, is refused by name.
    for noise_levels in [vec![(9, 0.2)], vec![(2, 1.5)], vec![(2, 0.1), (2, 0.2)]] {
        let bad = UncertaintySpec { noise_levels, ..spec.clone() };
        let err = Model::new(&fw, &data, &base, &bad).err().unwrap();
        assert!(matches!(err, CompositeError::BadOption { option: "noise levels", .. }), "{err}");
    }
    // Every combination is prepared in memory: the alternatives are bounded.
    let many = UncertaintySpec {
        winmax: (0..=kebao_composite::uncertainty::MAX_ALTERNATIVES).collect(),
        ..spec.clone()
    };
    let err = Model::new(&fw, &data, &base, &many).err().unwrap();
    assert!(matches!(err, CompositeError::BadOption { option: "uncertainty", .. }), "{err}");
    // winmax 5 (nominal) against 0 (straight to log_CT), and treatment against none.
    let spec = UncertaintySpec {
        winmax: vec![5, 0],
        treatments: vec![Some(TreatSpec::default()), None],
        ..UncertaintySpec::nominal(&base)
    };
    let model = Model::new(&fw, &data, &base, &spec).unwrap();
    assert_eq!(model.inputs(), ["winmax", "treatment"]);
    assert_eq!(model.run(&[0.0, 0.0]), Build::run(&fw, &data, &base).unwrap().results.ranks, "nominal");
    let untreated = Build::run(&fw, &data, &BuildSpec { treatment: None, ..base.clone() }).unwrap();
    assert_eq!(model.run(&[0.0, 0.9]), untreated.results.ranks);
    assert_eq!(model.run(&[0.9, 0.9]), untreated.results.ranks, "winmax means nothing untreated");
    let log_only =
        BuildSpec { treatment: Some(TreatSpec { winmax: 0, ..TreatSpec::default() }), ..base.clone() };
    let log_only = Build::run(&fw, &data, &log_only).unwrap().results.ranks;
    assert_eq!(model.run(&[0.9, 0.0]), log_only);
    assert_ne!(log_only, untreated.results.ranks);
    let stats = uncertainty(&model, 100, 2, &mut |_, _| {});
    assert!(stats.iter().any(|s| s.q95 > s.q05), "the alternatives move some ranks");
}
