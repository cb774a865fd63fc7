//! `kebao index build|uncertainty` with COINr's options (issue 15, point 6): normalisation
//! parameters, the tie rule, PCA weights, `--weights-out`, a config file the command line
//! overrides, and the uncertain inputs.

use crate::cli::{kebao, stderr, stdout};
use std::path::Path;

/// a, b, c under P1 (weight 2); d, e under P2; c moves against a and b; d has ties.
const IMETA: &str = "iCode,iName,Level,Parent,Direction,Weight,Type\n\
    a,A,1,P1,1,1,Indicator\nb,B,1,P1,1,1,Indicator\nc,C,1,P1,1,1,Indicator\n\
    d,D,1,P2,1,1,Indicator\ne,E,1,P2,1,1,Indicator\n\
    P1,P1,2,I,1,2,Aggregate\nP2,P2,2,I,1,1,Aggregate\nI,Index,3,,1,1,Aggregate\n";
const IDATA: &str = "uCode,a,b,c,d,e\n\
    U1,1,1.2,6,3,2\nU2,2,1.9,4,5,6\nU3,3,3.5,5,3,3\n\
    U4,4,3.9,2,1,1\nU5,5,5.5,3,5,5\nU6,6,5.8,1,2,4\n";

/// A CSV written by the binary (with its byte-order mark) as rows of cells.
fn rows(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap()
        .trim_start_matches('\u{feff}')
        .lines()
        .map(|l| l.split(',').map(|c| c.trim_matches('"').to_owned()).collect())
        .collect()
}

/// A column of a stage file, by unit order.
fn stage_column(dir: &Path, stage: &str, code: &str) -> Vec<f64> {
    let r = rows(&dir.join(format!("dset_{stage}.csv")));
    let i = r[0].iter().position(|h| h == code).unwrap();
    r[1..].iter().map(|row| row[i].parse().unwrap()).collect()
}

fn close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-12, "{got:?} vs {want:?}");
    }
}

#[test]
fn index_build_takes_coinr_s_options() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    std::fs::write(p("iMeta.csv"), IMETA).unwrap();
    std::fs::write(p("iData.csv"), IDATA).unwrap();
    // The config file asks for averaged ties and z-scores (10, 2); no treatment, no screening.
    std::fs::write(
        p("build.toml"),
        "treat = false\nscreen = 0.0\nnormalisation = \"prank\"\nties = \"average\"\nzscore_mean = 10\nzscore_sd = 2\n",
    )
    .unwrap();
    let (fw, data, config) = (p("iMeta.csv"), p("iData.csv"), p("build.toml"));
    let build = |extra: &[&str]| {
        let mut args = vec![
            "index",
            "build",
            "--framework",
            &fw,
            "--data",
            &data,
            "--config",
            &config,
            "--out",
            dir.path().join("r.csv").to_str().unwrap(),
        ]
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let o = kebao("sqlite://unused", &args.iter().map(String::as_str).collect::<Vec<_>>());
        (o.status.success(), stdout(&o), stderr(&o))
    };
    let stages = p("stages");
    // The config's averaged ties: d = 3, 5, 3, 1, 5, 2 → (3.5, 5.5, …) − 1 over 5.
    let (ok, _, err) = build(&["--stages", &stages]);
    assert!(ok, "{err}");
    close(&stage_column(Path::new(&stages), "Normalised", "d"), &[0.5, 0.9, 0.5, 0.0, 0.9, 0.2]);
    // The command line wins: COINr's min ties.
    let (ok, _, err) = build(&["--stages", &stages, "--ties", "min"]);
    assert!(ok, "{err}");
    close(&stage_column(Path::new(&stages), "Normalised", "d"), &[0.4, 0.8, 0.4, 0.0, 0.8, 0.2]);
    // Z-scores with the config's mean and sd: a = 1..6, mean 3.5, sd √3.5.
    let (ok, _, err) = build(&["--stages", &stages, "--normalisation", "zscore"]);
    assert!(ok, "{err}");
    let s = 3.5f64.sqrt();
    let want: Vec<f64> = (1..=6).map(|i| (f64::from(i) - 3.5) / s * 2.0 + 10.0).collect();
    close(&stage_column(Path::new(&stages), "Normalised", "a"), &want);
    // Min-max to [−1, 1].
    let (ok, _, err) = build(&[
        "--stages",
        &stages,
        "--normalisation",
        "minmax",
        "--minmax-lower",
        "-1",
        "--minmax-upper",
        "1",
    ]);
    assert!(ok, "{err}");
    close(&stage_column(Path::new(&stages), "Normalised", "a"), &[-1.0, -0.6, -0.2, 0.2, 0.6, 1.0]);
    // PCA weights at level 1, written by --weights-out: numpy's first-component loadings of
    // a, b, c are (0.5961037891659048, 0.5791642920657001, −0.556083622612721).
    let weights = p("weights.csv");
    let (ok, out, err) = build(&["--normalisation", "minmax", "--weights", "pca", "--weights-out", &weights]);
    assert!(ok, "{err}");
    assert!(out.contains("weights written to"), "{out}");
    let w = rows(Path::new(&weights));
    assert_eq!(w[0], ["code", "level", "parent", "weight"]);
    let weight = |w: &[Vec<String>], code: &str| -> f64 {
        w.iter().find(|r| r[0] == code).unwrap()[3].parse().unwrap()
    };
    assert_eq!(w.len(), 8, "seven children and the header: {w:?}");
    assert!((weight(&w, "c") - 0.556083622612721).abs() < 1e-12, "{w:?}");
    assert!((weight(&w, "a") - 0.5961037891659048).abs() < 1e-12, "{w:?}");
    assert_eq!((weight(&w, "P1"), weight(&w, "P2")), (2.0, 1.0), "level 2 keeps iMeta's weights");
    assert_eq!(w.iter().find(|r| r[0] == "c").unwrap()[1..3], ["1", "P1"]);
    let (ok, _, err) =
        build(&["--normalisation", "minmax", "--weights", "pca", "--pca-signed", "--weights-out", &weights]);
    assert!(ok, "{err}");
    assert!((weight(&rows(Path::new(&weights)), "c") + 0.556083622612721).abs() < 1e-12);
    let (ok, _, err) = build(&["--weights", "pca", "--pca-level", "2", "--weights-out", &weights]);
    assert!(ok, "{err}");
    let h = std::f64::consts::FRAC_1_SQRT_2;
    let w = rows(Path::new(&weights));
    assert!((weight(&w, "P1") - h).abs() < 1e-12 && weight(&w, "a") == 1.0, "{w:?}");
    // Bad options are refused by name, in Chinese and English.
    for (extra, expect) in [
        (vec!["--normalisation", "zscore", "--zscore-sd", "0"], "--zscore-sd"),
        (vec!["--normalisation", "minmax", "--minmax-lower", "100", "--minmax-upper", "0"], "--minmax-lower"),
        (vec!["--ties", "dense"], "unknown tie rule `dense`"),
        (
            vec![
                "--normalisation",
                "minmax",
                "--weights",
                "pca",
                "--pca-signed",
                "--aggregation",
                "geometric",
            ],
            "the geometric mean cannot take",
        ),
        (vec!["--weights", "pca", "--pca-signed", "--aggregation", "harmonic"], "harmonic"),
        (vec!["--weights", "pca", "--pca-level", "3"], "level 3 has no groups to weight"),
        (
            vec!["--weights", "entropy", "--pca-level", "1"],
            "--pca-level and --pca-signed apply to --weights pca",
        ),
    ] {
        let (ok, _, err) = build(&extra);
        assert!(!ok && err.contains(expect), "{extra:?}: {err}");
    }
    let (ok, _, err) = build(&["--ties", "dense"]);
    assert!(!ok && err.contains("未知的并列规则"), "{err}");
}

#[test]
fn index_uncertainty_takes_coinr_s_options() {
    let asem = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/reference/asem");
    let (fw, data) = (asem.join("asem_iMeta.csv"), asem.join("asem_iData.csv"));
    let dir = tempfile::tempdir().unwrap();
    let weights = dir.path().join("sets.csv");
    let config = dir.path().join("u.toml");
    std::fs::write(&config, "group = \"EurAsia_group\"\n[uncertainty]\nruns = 40\nnoise_levels = [\"2=0.25\", \"3\"]\nweight_noise = 0.1\n").unwrap();
    let base = [
        "index",
        "uncertainty",
        "--framework",
        fw.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ];
    let run = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend(extra);
        kebao("sqlite://unused", &args)
    };
    let o = run(&[
        "--winmax",
        "5,1,2",
        "--treatments",
        "default,none",
        "--weights-out",
        weights.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("40 runs over weights, winmax, treatment"), "{}", stdout(&o));
    // Noise on levels 2 (±25 %) and 3 (±10 %) only: the indicators keep weight 1.
    let w = rows(&weights);
    assert_eq!(w[0], ["set", "code", "level", "parent", "weight"]);
    assert_eq!(w.iter().filter(|r| r[0] == "1").count(), 59, "one row per weighted node");
    let mut moved = [false; 3];
    for r in &w[1..] {
        let (level, x): (usize, f64) = (r[2].parse().unwrap(), r[4].parse().unwrap());
        let limit = [0.0, 0.0, 0.25, 0.1][level];
        assert!((x - 1.0).abs() <= limit + 1e-12, "{r:?}");
        moved[level - 1] |= x != 1.0;
    }
    assert_eq!(moved, [false, true, true]);
    for (extra, expect) in [
        (vec!["--noise-levels", "7"], "level 7 has no weights to vary"),
        (vec!["--noise-levels", "two"], "`two` is not a level"),
        (vec!["--treatments", "trim"], "unknown treatment `trim`"),
        (vec!["--normalisations", "zscore", "--zscore-sd", "-1"], "--zscore-sd"),
        (vec!["--runs", "2000000"], "at most 1000000"),
    ] {
        let o = run(&extra);
        assert!(!o.status.success() && stderr(&o).contains(expect), "{extra:?}: {}", stderr(&o));
    }
}
