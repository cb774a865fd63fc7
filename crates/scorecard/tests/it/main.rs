//! The scorecard engine on UCI German credit with the fixed 700/300 split, beside
//! optbinning's default pipeline (test AUC 0.8014; IV of the checking-account status 0.6388).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use kebao_scorecard::{auc, confusion, ks, psi, Column, Frame, Scorecard, ScorecardError, ScorecardOptions};

pub struct Split {
    pub train: Frame,
    pub test: Frame,
    pub y_train: Vec<f64>,
    pub y_test: Vec<f64>,
}

/// Numeric where every value parses, categorical otherwise.
pub fn german() -> Split {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/reference/germancredit_split.csv");
    let mut r = csv::Reader::from_path(path).unwrap();
    let headers: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows: Vec<Vec<String>> =
        r.records().map(|x| x.unwrap().iter().map(str::to_owned).collect()).collect();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (it, is) = (col("creditability"), col("split"));
    let pick = |train: bool| -> (Frame, Vec<f64>) {
        let sel: Vec<&Vec<String>> = rows.iter().filter(|r| (r[is] == "train") == train).collect();
        let mut frame = Frame::default();
        for (i, h) in headers.iter().enumerate() {
            if i == it || i == is {
                continue;
            }
            let vals: Vec<&str> = sel.iter().map(|r| r[i].as_str()).collect();
            let nums: Option<Vec<f64>> = rows.iter().map(|r| r[i].parse::<f64>().ok()).collect();
            frame.columns.push(if nums.is_some() {
                Column::Numeric { name: h.clone(), values: vals.iter().map(|v| v.parse().unwrap()).collect() }
            } else {
                Column::Categorical {
                    name: h.clone(),
                    values: vals.iter().map(|v| (!v.is_empty()).then(|| (*v).to_owned())).collect(),
                }
            });
        }
        (frame, sel.iter().map(|r| f64::from(u8::from(r[it] == "bad"))).collect())
    };
    let (train, y_train) = pick(true);
    let (test, y_test) = pick(false);
    Split { train, test, y_train, y_test }
}

#[test]
fn german_credit_beside_optbinning() {
    let s = german();
    assert_eq!((s.y_train.len(), s.y_test.len()), (700, 300));
    let card = Scorecard::fit(&s.train, &s.y_train, &ScorecardOptions::default()).unwrap();
    let status = card.all_binnings.iter().find(|b| b.name == "status_of_existing_checking_account").unwrap();
    // optbinning: IV 0.6388 (4 categories, none merged).
    assert_eq!(status.bins.len(), 4);
    assert!((status.iv - 0.6388).abs() < 1e-4, "IV {}", status.iv);
    let scored = card.score(&s.test).unwrap();
    let p: Vec<f64> = scored.iter().map(|x| x.probability).collect();
    let y: Vec<u8> = s.y_test.iter().map(|v| *v as u8).collect();
    let a = auc(&p, &y);
    eprintln!("test AUC {a:.4}, KS {:.4}", ks(&p, &y));
    assert!(a >= 0.79, "test AUC {a}");
    // Scores and probabilities agree: higher score, lower probability of default.
    let sc: Vec<f64> = scored.iter().map(|x| -x.score).collect();
    assert!((auc(&sc, &y) - a).abs() < 1e-12);
    let c = confusion(&p, &y, 0.5);
    assert_eq!(c.true_positive + c.false_positive + c.true_negative + c.false_negative, 300);
    // Reason codes name the costliest bins.
    assert!(scored.iter().any(|x| !x.reasons.is_empty()));
    // Scores without reasons are the same scores and probabilities.
    let plain = card.score_values(&s.test).unwrap();
    assert!(plain.iter().all(|x| x.reasons.is_empty()));
    let stripped: Vec<(f64, f64)> = scored.iter().map(|x| (x.score, x.probability)).collect();
    assert_eq!(plain.iter().map(|x| (x.score, x.probability)).collect::<Vec<_>>(), stripped);
    // The model round-trips through JSON.
    let back = Scorecard::from_json(&card.to_json()).unwrap();
    assert_eq!(back.score(&s.test).unwrap(), scored);
    // PSI of train against test scores is small (same population).
    let train_scores: Vec<f64> = card.score(&s.train).unwrap().iter().map(|x| x.score).collect();
    let test_scores: Vec<f64> = scored.iter().map(|x| x.score).collect();
    assert!(psi(&train_scores, &test_scores, 10) < 0.1);
}

#[test]
fn a_penalised_scorecard_round_trips_through_json() {
    // Under an L2 penalty the coefficients' standard errors are not defined (NaN, written as
    // null): the file still reads back, and scores the same.
    let s = german();
    let opts = ScorecardOptions { l2: 1.0, ..ScorecardOptions::default() };
    let card = Scorecard::fit(&s.train, &s.y_train, &opts).unwrap();
    let back = Scorecard::from_json(&card.to_json()).unwrap();
    assert_eq!(back.score(&s.test).unwrap(), card.score(&s.test).unwrap());
}

#[test]
fn bad_input_is_named() {
    let s = german();
    let bad: Vec<f64> = s.y_train.iter().map(|v| v * 2.0).collect();
    assert!(matches!(
        Scorecard::fit(&s.train, &bad, &ScorecardOptions::default()),
        Err(ScorecardError::Target { .. })
    ));
    let ones = vec![1.0; s.y_train.len()];
    assert_eq!(
        Scorecard::fit(&s.train, &ones, &ScorecardOptions::default()).unwrap_err(),
        ScorecardError::OneClass(1)
    );
    // Constant and all-missing columns are left out with a reason; NaN is a missing bin;
    // infinities are refused.
    let n = s.y_train.len();
    let mut f = s.train.clone();
    f.columns.push(Column::Numeric { name: "constant".into(), values: vec![3.0; n] });
    f.columns.push(Column::Numeric { name: "empty".into(), values: vec![f64::NAN; n] });
    let card = Scorecard::fit(&f, &s.y_train, &ScorecardOptions::default()).unwrap();
    assert!(
        card.excluded.iter().any(|(c, _)| c == "constant") && card.excluded.iter().any(|(c, _)| c == "empty")
    );
    let mut g = s.train.clone();
    g.columns.push(Column::Numeric {
        name: "inf".into(),
        values: (0..n).map(|i| if i == 5 { f64::INFINITY } else { 1.0 }).collect(),
    });
    assert_eq!(
        Scorecard::fit(&g, &s.y_train, &ScorecardOptions::default()).unwrap_err(),
        ScorecardError::NotFinite { column: "inf".into(), row: 6, value: f64::INFINITY }
    );
    // An unseen category at scoring time gets the rare bin or neutral points, never a panic.
    let mut t = s.test.clone();
    if let Column::Categorical { values, .. } = &mut t.columns[0] {
        values[0] = Some("never seen".into());
        values[1] = None;
    }
    let card = Scorecard::fit(&s.train, &s.y_train, &ScorecardOptions::default()).unwrap();
    let out = card.score(&t).unwrap();
    assert!(out[0].score.is_finite() && out[1].score.is_finite());
}

/// Information values on the training rows beside optbinning 1.0.0's
/// (`bench/scorecard/german_optbinning.py`), for the variables whose categories optbinning
/// does not merge and the numeric ones where it finds the same bins.
#[test]
fn information_values_match_optbinning() {
    let s = german();
    let card = Scorecard::fit(&s.train, &s.y_train, &ScorecardOptions::default()).unwrap();
    let optbinning = [
        ("status_of_existing_checking_account", 0.638775, 4),
        ("savings_account_and_bonds", 0.233467, 5),
        ("present_employment_since", 0.140286, 5),
        ("installment_rate_in_percentage_of_disposable_income", 0.033767, 4),
        ("personal_status_and_sex", 0.011931, 4),
        ("property", 0.140196, 4),
        ("other_installment_plans", 0.116911, 3),
        ("housing", 0.102040, 3),
        ("telephone", 0.002936, 2),
        ("duration_in_month", 0.278819, 6),
        ("credit_amount", 0.265101, 7),
    ];
    for (name, iv, bins) in optbinning {
        let b = card.all_binnings.iter().find(|b| b.name == name).unwrap();
        assert!((b.iv - iv).abs() < 1e-4, "{name}: IV {} vs optbinning {iv}", b.iv);
        assert_eq!(b.bins.len(), bins, "{name}");
    }
}

#[test]
fn stability_and_options() {
    let s = german();
    let card = Scorecard::fit(&s.train, &s.y_train, &ScorecardOptions::default()).unwrap();
    let same = card.csi(&s.train, &s.train).unwrap();
    assert!(same.iter().all(|(_, v)| v.abs() < 1e-12));
    let csi = card.csi(&s.train, &s.test).unwrap();
    assert_eq!(csi.len(), card.variables.len());
    assert!(csi.iter().all(|(_, v)| *v >= 0.0 && *v < 0.25), "{csi:?}");
    // Correlation filtering and rare-category grouping.
    let mut opts = ScorecardOptions { max_correlation: Some(0.2), ..ScorecardOptions::default() };
    opts.binning.cat_cutoff = Some(0.05);
    let filtered = Scorecard::fit(&s.train, &s.y_train, &opts).unwrap();
    assert!(filtered.variables.len() < card.variables.len());
    assert!(filtered.excluded.iter().any(|(_, why)| why.starts_with("correlation")));
}

/// Text categories as codes into one dictionary shared by both frames (so some levels are
/// absent from one of them), missing as a code outside it.
fn coded(frame: &Frame, levels: &[String]) -> Frame {
    let columns = frame
        .columns
        .iter()
        .map(|c| match c {
            Column::Categorical { name, values } => Column::Coded {
                name: name.clone(),
                codes: values
                    .iter()
                    .map(|v| match v {
                        Some(v) => levels.iter().position(|l| l == v).unwrap() as u32,
                        None => u32::MAX,
                    })
                    .collect(),
                levels: levels.to_vec(),
            },
            other => other.clone(),
        })
        .collect();
    Frame { columns }
}

/// Coded categories bin, fit, score and drift exactly as the same values as text — with
/// missing values, levels absent from the training rows, a bin of rare categories and an
/// unseen category.
#[test]
fn coded_categories_are_the_same_model_as_text() {
    let mut s = german();
    if let (Column::Categorical { values: tr, .. }, Column::Categorical { values: te, .. }) =
        (&mut s.train.columns[0], &mut s.test.columns[0])
    {
        tr[3] = None;
        tr[4] = None;
        te[0] = Some("only in the test rows".into());
        te[1] = None;
    }
    let mut levels: Vec<String> = Vec::new();
    for f in [&s.train, &s.test] {
        for c in &f.columns {
            if let Column::Categorical { values, .. } = c {
                for v in values.iter().flatten() {
                    if !levels.contains(v) {
                        levels.push(v.clone());
                    }
                }
            }
        }
    }
    let (train, test) = (coded(&s.train, &levels), coded(&s.test, &levels));
    assert!(train.columns.iter().any(|c| matches!(c, Column::Coded { .. })));
    for cutoff in [None, Some(0.05)] {
        let mut opts = ScorecardOptions::default();
        opts.binning.cat_cutoff = cutoff;
        let text = Scorecard::fit(&s.train, &s.y_train, &opts).unwrap();
        let codes = Scorecard::fit(&train, &s.y_train, &opts).unwrap();
        assert_eq!(codes, text, "cutoff {cutoff:?}");
        assert_eq!(codes.score(&test).unwrap(), text.score(&s.test).unwrap());
        assert_eq!(codes.csi(&train, &test).unwrap(), text.csi(&s.train, &s.test).unwrap());
    }
}
