//! The composite engine against COINr 1.1.14's own output for its default build of the
//! ASEM example (`data/reference/asem/coinr-default`), stage by stage, to 1e-9.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use kebao_composite::{Build, BuildSpec, CompositeError, Dataset, Framework, UnitData};
use std::collections::HashMap;
use std::path::PathBuf;

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/reference/asem").join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(path(name)).unwrap()
}

/// A COINr CSV output: uCode → column → value.
fn coinr(name: &str) -> HashMap<String, HashMap<String, f64>> {
    let mut r = csv::Reader::from_path(path(name)).unwrap();
    let h: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    let mut out = HashMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let u = rec.get(0).unwrap().to_owned();
        let row: HashMap<String, f64> = h
            .iter()
            .zip(rec.iter())
            .skip(1)
            .filter_map(|(k, v)| v.parse::<f64>().ok().map(|v| (k.clone(), v)))
            .collect();
        out.insert(u, row);
    }
    out
}

fn asem() -> (Framework, UnitData) {
    let fw = Framework::from_imeta_csv(&read("asem_iMeta.csv")).unwrap();
    let data = UnitData::from_idata_csv(&read("asem_iData.csv"), &fw).unwrap();
    (fw, data)
}

fn assert_stage(ds: &Dataset, file: &str, tol: f64) {
    let reference = coinr(file);
    assert_eq!(ds.units.len(), reference.len(), "{file}: units");
    let mut worst = 0.0f64;
    for (u, row) in &reference {
        for (code, want) in row {
            let Some(got) = ds.value(u, code) else { continue };
            let err = (got - want).abs() / want.abs().max(1.0);
            assert!(err <= tol, "{file}: {u}/{code}: {got} vs COINr {want}");
            worst = worst.max(err);
        }
    }
    eprintln!("{file}: largest difference {worst:.1e}");
}

#[test]
fn coinr_default_build_stage_by_stage() {
    let (fw, data) = asem();
    assert_eq!(fw.indicators().count(), 49);
    let b = Build::run(&fw, &data, &BuildSpec::coinr_default("EurAsia_group")).unwrap();
    assert_stage(b.stage("Denominated").unwrap(), "coinr-default/dset_Denominated.csv", 1e-12);
    assert_stage(b.stage("Imputed").unwrap(), "coinr-default/dset_Imputed.csv", 1e-12);
    assert_stage(b.stage("Screened").unwrap(), "coinr-default/dset_Screened.csv", 1e-12);
    assert_stage(b.stage("Treated").unwrap(), "coinr-default/dset_Treated.csv", 1e-12);
    assert_stage(b.stage("Normalised").unwrap(), "coinr-default/dset_Normalised.csv", 1e-11);
    assert_stage(b.stage("Aggregated").unwrap(), "coinr-default/dset_Aggregated.csv", 1e-11);
    assert!(b.removed_units.is_empty());
}

#[test]
fn treatment_matches_coinr_details() {
    let (fw, data) = asem();
    let b = Build::run(&fw, &data, &BuildSpec::coinr_default("EurAsia_group")).unwrap();
    let mut r = csv::Reader::from_path(path("coinr-default/treat_details.csv")).unwrap();
    let mut checked = 0;
    for rec in r.records() {
        let rec = rec.unwrap();
        let code = rec.get(0).unwrap();
        let nwin = rec.get(4).unwrap();
        let d = b.treat_details.iter().find(|d| d.code == code).unwrap();
        match (&d.treatment, nwin) {
            (kebao_composite::Treatment::None, "") | (kebao_composite::Treatment::None, "NA") => {}
            (kebao_composite::Treatment::Winsorised(n), w) => assert_eq!(n.to_string(), w, "{code}"),
            (kebao_composite::Treatment::LogCt { .. }, _) => {}
            (t, w) => panic!("{code}: {t:?} vs COINr nwin `{w}`"),
        }
        checked += 1;
    }
    assert_eq!(checked, 49);
}

/// COINr's published results: index, aggregates and ranks; CHE first at 68.3837….
#[test]
fn coinr_default_results() {
    let (fw, data) = asem();
    let b = Build::run(&fw, &data, &BuildSpec::coinr_default("EurAsia_group")).unwrap();
    let res = &b.results;
    assert_eq!(res.codes[..3], ["Index".to_owned(), "Conn".to_owned(), "Sust".to_owned()]);
    let reference = coinr("coinr-default/asem_results.csv");
    for (i, u) in res.units.iter().enumerate() {
        let want = &reference[u];
        assert_eq!(res.ranks[i].map(|r| r as f64), Some(want["Rank"]), "{u} rank");
        for (k, code) in res.codes.iter().enumerate() {
            // The file has 10 decimals.
            assert!(
                (res.scores[k][i] - want[code]).abs() < 1e-9,
                "{u}/{code}: {} vs {}",
                res.scores[k][i],
                want[code]
            );
        }
    }
    let che = res.units.iter().position(|u| u == "CHE").unwrap();
    assert_eq!(res.ranks[che], Some(1));
    assert!((res.scores[0][che] - 68.3837242383).abs() < 1e-9);
}

#[test]
fn bad_frameworks_and_data_are_named() {
    let head = "iCode,iName,Level,Parent,Direction,Weight,Type\n";
    let fw = |rows: &str| Framework::from_imeta_csv(&format!("{head}{rows}"));
    assert_eq!(
        fw("a,A,1,X,1,1,Indicator\nI,Index,2,,1,1,Aggregate\n").unwrap_err(),
        CompositeError::Orphan { code: "a".into(), parent: "X".into() }
    );
    assert!(matches!(
        fw("a,A,1,B,1,1,Indicator\nB,B,2,C,1,1,Aggregate\nC,C,3,B,1,1,Aggregate\nI,I,4,,1,1,Aggregate\n"),
        Err(CompositeError::Cycle(_)) | Err(CompositeError::Childless(_))
    ));
    assert_eq!(
        fw("a,A,1,I,1,1,Indicator\nI,Index,2,,1,1,Aggregate\nJ,J,2,,1,1,Aggregate\n").unwrap_err(),
        CompositeError::Roots("I, J".into())
    );
    assert_eq!(
        fw("a,A,1,I,1,1,Indicator\na,A,1,I,1,1,Indicator\nI,Index,2,,1,1,Aggregate\n").unwrap_err(),
        CompositeError::Duplicate("a".into())
    );
    assert_eq!(
        fw("a,A,1,I,1,-1,Indicator\nI,Index,2,,1,1,Aggregate\n").unwrap_err(),
        CompositeError::Weight { code: "a".into(), weight: -1.0 }
    );
    let ok = fw("a,A,1,I,1,1,Indicator\nb,B,1,I,1,1,Indicator\nI,Index,2,,1,1,Aggregate\n").unwrap();
    assert_eq!(
        UnitData::from_idata_csv("uCode,a\nX,1\n", &ok).unwrap_err(),
        CompositeError::MissingIndicator("b".into())
    );
    assert_eq!(
        UnitData::from_idata_csv("uCode,a,b\nX,1,oops\n", &ok).unwrap_err(),
        CompositeError::NotNumber { unit: "X".into(), column: "b".into(), value: "oops".into() }
    );
    assert_eq!(
        UnitData::from_idata_csv("uCode,a,b\nX,1,2\nX,3,4\n", &ok).unwrap_err(),
        CompositeError::DuplicateUnit("X".into())
    );
    // A constant indicator cannot be min-max normalised: named, not a NaN result.
    let d = UnitData::from_idata_csv("uCode,a,b\nX,1,2\nY,1,3\nZ,1,5\n", &ok).unwrap();
    let spec = BuildSpec { treatment: None, ..BuildSpec::coinr_default("none") };
    let spec = BuildSpec { imputation: kebao_composite::Imputation::None, ..spec };
    assert_eq!(Build::run(&ok, &d, &spec).unwrap_err(), CompositeError::Degenerate("a".into()));
}

/// The entropy-weight method on a worked example (`docs/composite.md`): two indicators
/// over three units, [0, 50, 100] and [40, 50, 60]. By hand (Python): divergences
/// 0.420619835714 and 0.012218756188, weights 0.971770640565 and 0.028229359435.
#[test]
fn entropy_weights_worked_example() {
    let w = kebao_composite::entropy_weights(&[&[0.0, 50.0, 100.0], &[40.0, 50.0, 60.0]]).unwrap();
    assert!(
        (w[0] - 0.9717706405651757).abs() < 1e-12 && (w[1] - 0.028229359434824346).abs() < 1e-12,
        "{w:?}"
    );
    // No spread anywhere: no entropy weights (the caller keeps its own).
    assert!(
        kebao_composite::entropy_weights(&[&[5.0, 5.0], &[0.0, 0.0]]).is_some_and(|w| w[0] == 1.0)
            || kebao_composite::entropy_weights(&[&[0.0, 0.0]]).is_none()
    );
    // A build with entropy weights runs and differs from the given weights.
    let (fw, data) = asem();
    let spec = BuildSpec {
        weighting: kebao_composite::Weighting::Entropy,
        ..BuildSpec::coinr_default("EurAsia_group")
    };
    let e = Build::run(&fw, &data, &spec).unwrap();
    let g = Build::run(&fw, &data, &BuildSpec::coinr_default("EurAsia_group")).unwrap();
    assert_ne!(e.results.scores[0], g.results.scores[0]);
}

#[test]
fn other_normalisations_and_means() {
    use kebao_composite::{Aggregation, Normalisation};
    let (fw, data) = asem();
    let base = BuildSpec::coinr_default("EurAsia_group");
    let b = |n: Normalisation, a: Aggregation| {
        Build::run(&fw, &data, &BuildSpec { normalisation: n, aggregation: a, ..base.clone() })
    };
    let borda = b(Normalisation::Borda { ties: Default::default() }, Aggregation::ArithmeticMean).unwrap();
    let col = borda.stage("Normalised").unwrap().column("LPI").unwrap().to_vec();
    let mut sorted = col.clone();
    sorted.sort_by(f64::total_cmp);
    assert_eq!((sorted[0], *sorted.last().unwrap()), (0.0, 50.0), "Borda runs 0..n−1 for 51 distinct values");
    let prank =
        b(Normalisation::PercentileRank { ties: Default::default() }, Aggregation::ArithmeticMean).unwrap();
    let col = prank.stage("Normalised").unwrap().column("LPI").unwrap();
    // COINr's n_prank: (rank − 1) / (n − 1), in [0, 1].
    assert!(col.iter().all(|v| (0.0..=1.0).contains(v)));
    assert!(col.contains(&0.0) && col.contains(&1.0));
    // A generalised mean of order 1 is the arithmetic mean.
    let g1 = b(Normalisation::MinMax { lo: 0.0, hi: 100.0 }, Aggregation::GeneralisedMean(1)).unwrap();
    let am = b(Normalisation::MinMax { lo: 0.0, hi: 100.0 }, Aggregation::ArithmeticMean).unwrap();
    for (x, y) in g1.results.scores[0].iter().zip(&am.results.scores[0]) {
        assert!((x - y).abs() < 1e-9);
    }
    // Distance to target uses iMeta's Target column.
    assert!(b(Normalisation::DistanceToTarget, Aggregation::ArithmeticMean).is_ok());
    // Geometric means need positive scores: min-max to [1, 100] gives them.
    assert!(b(Normalisation::MinMax { lo: 1.0, hi: 100.0 }, Aggregation::GeometricMean)
        .unwrap()
        .results
        .scores[0]
        .iter()
        .all(|v| v.is_finite()));
}

/// The estimators against the Ishigami function's analytic indices (a = 7, b = 0.1):
/// S = (0.3139, 0.4424, 0), ST = (0.5576, 0.4424, 0.2437).
#[test]
fn sobol_estimators_reproduce_ishigami() {
    use kebao_composite::uncertainty::{saltelli_design, sobol_indices};
    use std::f64::consts::PI;
    let f = |u: &[f64]| {
        let x: Vec<f64> = u.iter().map(|v| -PI + 2.0 * PI * v).collect();
        x[0].sin() + 7.0 * x[1].sin().powi(2) + 0.1 * x[2].powi(4) * x[0].sin()
    };
    let n = 50_000;
    let (a, b) = saltelli_design(n, 3, 42);
    let f_a: Vec<f64> = a.iter().map(|u| f(u)).collect();
    let f_b: Vec<f64> = b.iter().map(|u| f(u)).collect();
    let f_ab: Vec<Vec<f64>> = (0..3)
        .map(|i| {
            a.iter()
                .zip(&b)
                .map(|(ra, rb)| {
                    let mut u = ra.clone();
                    u[i] = rb[i];
                    f(&u)
                })
                .collect()
        })
        .collect();
    let idx = sobol_indices(&f_a, &f_b, &f_ab, 200, 7);
    let (s_true, st_true) = ([0.3139, 0.4424, 0.0], [0.5576, 0.4424, 0.2437]);
    for i in 0..3 {
        let (s, s_ci, st, st_ci) = (idx[i].first, idx[i].first_ci, idx[i].total, idx[i].total_ci);
        assert!((s - s_true[i]).abs() < 0.03, "S{}: {s} vs {}", i + 1, s_true[i]);
        assert!((st - st_true[i]).abs() < 0.03, "ST{}: {st} vs {}", i + 1, st_true[i]);
        assert!(s_ci.0 <= s && s <= s_ci.1 && st_ci.0 <= st && st <= st_ci.1, "intervals hold the estimates");
    }
}

#[test]
fn zero_noise_gives_the_nominal_ranks() {
    use kebao_composite::uncertainty::{uncertainty, Model, UncertaintySpec};
    let (fw, data) = asem();
    let base = BuildSpec::coinr_default("EurAsia_group");
    let model = Model::new(&fw, &data, &base, &UncertaintySpec::nominal(&base)).unwrap();
    assert!(model.inputs().is_empty());
    let stats = uncertainty(&model, 50, 3, &mut |_, _| {});
    for s in &stats {
        assert_eq!(
            (s.median, s.q05, s.q95),
            (s.nominal as f64, s.nominal as f64, s.nominal as f64),
            "{}",
            s.unit
        );
    }
    assert_eq!(stats.iter().find(|s| s.unit == "CHE").unwrap().nominal, 1);
}

#[test]
fn uncertainty_and_sensitivity_on_asem() {
    use kebao_composite::uncertainty::{sensitivity, uncertainty, Model, UncertaintySpec};
    use kebao_composite::{Aggregation, Normalisation};
    let (fw, data) = asem();
    let base = BuildSpec::coinr_default("EurAsia_group");
    let spec = UncertaintySpec {
        seed: 11,
        weight_noise: 0.25,
        normalisations: vec![
            Normalisation::MinMax { lo: 0.0, hi: 100.0 },
            Normalisation::ZScore { mean: 10.0, sd: 2.0 },
        ],
        aggregations: vec![Aggregation::ArithmeticMean, Aggregation::GeometricMean],
        imputations: vec![base.imputation.clone()],
        ..UncertaintySpec::nominal(&base)
    };
    // Geometric means need positive scores; z-scores around 10 with sd 2 are, min-max 0 is not,
    // so the geometric alternative is taken with min-max to [1, 100] instead.
    let spec = UncertaintySpec {
        normalisations: vec![
            Normalisation::MinMax { lo: 1.0, hi: 100.0 },
            Normalisation::ZScore { mean: 10.0, sd: 2.0 },
        ],
        ..spec
    };
    let model = Model::new(&fw, &data, &base, &spec).unwrap();
    assert_eq!(model.inputs(), ["weights", "normalisation", "aggregation"]);
    let mut calls = 0;
    let stats = uncertainty(&model, 200, 5, &mut |_, _| calls += 1);
    assert!(calls > 0);
    assert!(stats.iter().all(|s| s.q05 <= s.median && s.median <= s.q95));
    assert!(stats.iter().any(|s| s.q95 > s.q05), "noise moves some ranks");
    let idx = sensitivity(&model, 200, 9, &mut |_, _| {});
    assert_eq!(idx.len(), 3);
    for i in &idx {
        assert!(i.total >= -0.05 && i.total <= 1.5, "{i:?}");
        assert!(i.first_ci.0 <= i.first_ci.1 && i.total_ci.0 <= i.total_ci.1);
    }
}

#[test]
fn more_bad_input_is_named() {
    use kebao_composite::{Aggregation, Normalisation};
    let head = "iCode,iName,Level,Parent,Direction,Weight,Type\n";
    let fw = Framework::from_imeta_csv(&format!(
        "{head}a,A,1,I,1,1,Indicator\nb,B,1,I,1,1,Indicator\nI,Index,2,,1,1,Aggregate\n"
    ))
    .unwrap();
    assert_eq!(
        UnitData::from_idata_csv("uCode,a,b\nX,NA,1\nY,,2\n", &fw).unwrap_err(),
        CompositeError::AllMissing("a".into())
    );
    assert_eq!(
        Framework::from_imeta_csv(&format!(
            "{head}a,A,1,I,1,0,Indicator\nb,B,1,I,1,0,Indicator\nI,Index,2,,1,1,Aggregate\n"
        ))
        .unwrap_err(),
        CompositeError::ZeroWeights("I".into())
    );
    let d = UnitData::from_idata_csv("uCode,a,b\nX,1,1\nY,2,2\nZ,3,5\n", &fw).unwrap();
    let spec = BuildSpec {
        treatment: None,
        imputation: kebao_composite::Imputation::None,
        ..BuildSpec::coinr_default("")
    };
    // Min-max to [0, 100] puts a 0 in every column: a geometric mean is refused, by name.
    let geo = BuildSpec { aggregation: Aggregation::GeometricMean, ..spec.clone() };
    assert!(
        matches!(Build::run(&fw, &d, &geo).unwrap_err(), CompositeError::NonPositive { ref aggregate, ref unit, .. } if aggregate == "I" && unit == "X")
    );
    let z = BuildSpec { normalisation: Normalisation::ZScore { mean: 0.0, sd: 1.0 }, ..spec.clone() };
    let flat = UnitData::from_idata_csv("uCode,a,b\nX,1,1\nY,1,2\nZ,1,5\n", &fw).unwrap();
    assert_eq!(Build::run(&fw, &flat, &z).unwrap_err(), CompositeError::Degenerate("a".into()));
}

/// TOML input gives the same build as CSV.
#[test]
fn toml_inputs_match_csv() {
    let (fw, data) = asem();
    // Convert the ASEM CSVs to TOML arrays of tables.
    let to_toml = |csv_text: &str, name: &str| {
        let mut r = csv::Reader::from_reader(csv_text.as_bytes());
        let h: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
        let mut out = String::new();
        for rec in r.records() {
            out.push_str(&format!("[[{name}]]\n"));
            for (k, v) in h.iter().zip(rec.unwrap().iter()) {
                if v.is_empty() {
                    continue;
                }
                match v.parse::<f64>() {
                    Ok(x) => out.push_str(&format!("{k} = {x:?}\n")),
                    Err(_) => out.push_str(&format!("{k} = {v:?}\n")),
                }
            }
        }
        out
    };
    let fw_t = Framework::from_imeta_toml(&to_toml(&read("asem_iMeta.csv"), "iMeta")).unwrap();
    assert_eq!(fw_t.nodes.len(), fw.nodes.len());
    let data_t = UnitData::from_idata_toml(&to_toml(&read("asem_iData.csv"), "iData"), &fw_t).unwrap();
    let spec = BuildSpec::coinr_default("EurAsia_group");
    let a = Build::run(&fw, &data, &spec).unwrap();
    let b = Build::run(&fw_t, &data_t, &spec).unwrap();
    assert_eq!(a.results, b.results);
    assert!(matches!(Framework::from_imeta_toml("x = 1"), Err(CompositeError::Parse { .. })));
}

/// Panel imputation on COINr's ASEM panel (5 years): a missing value takes the unit's
/// previous observed value (or its most recent one), and every year then builds.
#[test]
fn panel_imputation_and_builds_per_period() {
    use kebao_composite::{Panel, PanelImputation};
    let (fw, _) = asem();
    let panel = Panel::from_idata_csv(&read("asem_iData_panel.csv"), &fw, "Time").unwrap();
    assert_eq!(
        panel.periods.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
        ["2018", "2019", "2020", "2021", "2022"]
    );
    let prev = panel.impute(PanelImputation::Previous);
    let latest = panel.impute(PanelImputation::Latest);
    let mut checked = 0;
    for (p, (_, d)) in panel.periods.iter().enumerate() {
        for (code, col) in &d.indicators {
            for (u, x) in col.iter().enumerate() {
                if !x.is_nan() {
                    continue;
                }
                let unit = &d.units[u];
                let at = |q: usize| -> Option<f64> {
                    let dq = &panel.periods[q].1;
                    let i = dq.units.iter().position(|v| v == unit)?;
                    dq.indicators[code].get(i).copied().filter(|v| !v.is_nan())
                };
                let want_prev = (0..p).rev().find_map(at);
                let got_prev = prev.periods[p].1.indicators[code][u];
                match want_prev {
                    Some(w) => {
                        assert_eq!(got_prev, w, "{unit}/{code} in period {p}");
                        checked += 1;
                    }
                    None => assert!(got_prev.is_nan(), "nothing earlier to carry forward"),
                }
                let want_latest = (0..panel.periods.len()).rev().find_map(at);
                assert_eq!(
                    latest.periods[p].1.indicators[code][u].to_bits(),
                    want_latest.unwrap_or(f64::NAN).to_bits()
                );
                if want_latest.is_some() {
                    checked += 1;
                }
            }
        }
    }
    // In COINr's ASEM panel every gap is the same unit missing in every year, so nothing
    // can be carried over (the loop above checked that nothing was invented).
    assert_eq!(checked, 0);
    // A small panel with real gaps.
    let head = "iCode,iName,Level,Parent,Direction,Weight,Type\n";
    let sfw = Framework::from_imeta_csv(&format!(
        "{head}a,A,1,I,1,1,Indicator\nb,B,1,I,1,1,Indicator\nI,Index,2,,1,1,Aggregate\n"
    ))
    .unwrap();
    let p = Panel::from_idata_csv(
        "uCode,Time,a,b\nX,2021,1,10\nY,2021,2,\nX,2022,,11\nY,2022,3,\nX,2023,,12\nY,2023,4,30\n",
        &sfw,
        "Time",
    )
    .unwrap();
    let (sprev, slatest) = (p.impute(PanelImputation::Previous), p.impute(PanelImputation::Latest));
    let a = |pn: &Panel, t: usize, u: usize| pn.periods[t].1.indicators["a"][u];
    let b = |pn: &Panel, t: usize, u: usize| pn.periods[t].1.indicators["b"][u];
    assert_eq!((a(&sprev, 1, 0), a(&sprev, 2, 0)), (1.0, 1.0), "X's a carried forward from 2021");
    assert!(b(&sprev, 0, 1).is_nan() && b(&sprev, 1, 1).is_nan(), "Y's b has nothing earlier");
    assert_eq!((b(&slatest, 0, 1), b(&slatest, 1, 1)), (30.0, 30.0), "latest takes Y's 2023 value");
    for (t, d) in &latest.periods {
        let b = Build::run(&fw, d, &BuildSpec::coinr_default("EurAsia_group"))
            .unwrap_or_else(|e| panic!("{t}: {e}"));
        assert_eq!(b.results.units.len(), 51, "{t}");
    }
}

/// PCA loadings: for two children the correlation matrix [[1, r], [r, 1]] has first
/// eigenvector (1, 1)/√2 whatever r > 0; a third child that is noise gets a smaller
/// loading than two that move together.
#[test]
fn pca_loadings_follow_the_first_component() {
    let w = kebao_composite::pca_loadings(&[&[1.0, 2.0, 3.0, 5.0], &[2.0, 2.5, 4.0, 9.0]]).unwrap();
    let h = std::f64::consts::FRAC_1_SQRT_2;
    assert!((w[0] - h).abs() < 1e-12 && (w[1] - h).abs() < 1e-12, "{w:?}");
    let w = kebao_composite::pca_loadings(&[
        &[1.0, 2.0, 3.0, 4.0, 5.0],
        &[1.1, 2.1, 2.9, 4.2, 5.0],
        &[3.0, 1.0, 4.0, 1.0, 5.0],
    ])
    .unwrap();
    assert!(w[2].abs() < w[0] && w[2].abs() < w[1], "{w:?}");
    assert!((w.iter().map(|x| x * x).sum::<f64>() - 1.0).abs() < 1e-12, "unit length: {w:?}");
    assert!(kebao_composite::pca_loadings(&[&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]]).is_none(), "no spread");
    let (fw, data) = asem();
    let spec = BuildSpec {
        weighting: kebao_composite::Weighting::COINR_PCA,
        ..BuildSpec::coinr_default("EurAsia_group")
    };
    assert!(Build::run(&fw, &data, &spec).unwrap().results.scores[0].iter().all(|v| v.is_finite()));
}

mod options;
