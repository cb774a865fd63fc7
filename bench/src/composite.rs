//! Composite-index benchmark: the ASEM build, 1,000 uncertainty runs, and a scaling run of
//! 10,000 units × 200 indicators × 20 periods. COINr's figures on these machines (R from
//! Debian, measured by the project: COINr cannot be installed here from a registry) are
//! about 0.15 s for the ASEM build and 0.2 s per uncertainty run.
//!
//! `composite-bench [REPEATS]`

use anyhow::Result;
use kebao_composite::uncertainty::{self, Model, UncertaintySpec};
use kebao_composite::{Aggregation, Build, BuildSpec, Framework, Normalisation, UnitData};
use rand::{Rng, SeedableRng};
use std::fmt::Write;
use std::time::Instant;

const META: &str = include_str!("../../data/reference/asem/asem_iMeta.csv");
const DATA: &str = include_str!("../../data/reference/asem/asem_iData.csv");

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// A framework of 200 indicators in 20 pillars of 10, 4 sub-indices of 5 pillars, one index.
fn synthetic_meta() -> String {
    let mut s = String::from("iCode,iName,Level,Parent,Direction,Weight,Type\n");
    for i in 0..200 {
        let _ =
            writeln!(s, "i{i},Indicator {i},1,p{},{},1,Indicator", i / 10, if i % 7 == 0 { -1 } else { 1 });
    }
    for p in 0..20 {
        let _ = writeln!(s, "p{p},Pillar {p},2,s{},1,1,Aggregate", p / 5);
    }
    for q in 0..4 {
        let _ = writeln!(s, "s{q},Sub-index {q},3,Index,1,1,Aggregate");
    }
    s.push_str("Index,Index,4,,1,1,Aggregate\nregion,Region,,,,,Group\n");
    s
}

fn synthetic_data(units: usize, period: u64) -> String {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1000 + period);
    let mut s = String::from("uCode,region");
    for i in 0..200 {
        let _ = write!(s, ",i{i}");
    }
    s.push('\n');
    for u in 0..units {
        let _ = write!(s, "U{u:05},R{}", u % 12);
        for i in 0..200 {
            if rng.random::<f64>() < 0.02 {
                s.push_str(",NA");
            } else {
                // Log-normal-ish, so that some indicators need treatment.
                let v = (rng.random::<f64>() * 2.0 + (i % 5) as f64 * 0.3).exp();
                let _ = write!(s, ",{v:.4}");
            }
        }
        s.push('\n');
    }
    s
}

fn main() -> Result<()> {
    let repeats: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let fw = Framework::from_imeta_csv(META)?;
    let data = UnitData::from_idata_csv(DATA, &fw)?;
    let spec = BuildSpec::coinr_default("EurAsia_group");
    // The ASEM build, data in memory (parsing timed apart).
    let t = Instant::now();
    let _ = Framework::from_imeta_csv(META)?;
    let _ = UnitData::from_idata_csv(DATA, &fw)?;
    let parse_ms = t.elapsed().as_secs_f64() * 1e3;
    let mut builds = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let t = Instant::now();
        let b = Build::run(&fw, &data, &spec)?;
        builds.push(t.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(b);
    }
    let build_ms = median(builds);
    println!("ASEM build: {build_ms:.3} ms (median of {repeats}); parsing the CSVs {parse_ms:.3} ms; COINr ≈ 150 ms → {:.0}×", 150.0 / build_ms);
    // 1,000 uncertainty runs: weights ±25 %, two normalisations, two aggregations.
    let u = UncertaintySpec {
        seed: 1,
        weight_noise: 0.25,
        noise_levels: Vec::new(),
        normalisations: vec![
            Normalisation::MinMax { lo: 1.0, hi: 100.0 },
            Normalisation::ZScore { mean: 10.0, sd: 1.0 },
        ],
        aggregations: vec![Aggregation::ArithmeticMean, Aggregation::GeometricMean],
        imputations: vec![spec.imputation.clone()],
        treatments: vec![spec.treatment],
        winmax: Vec::new(),
    };
    let t = Instant::now();
    let model = Model::new(&fw, &data, &spec, &u)?;
    let stats = uncertainty::uncertainty(&model, 1000, 2, &mut |_, _| {});
    let unc_s = t.elapsed().as_secs_f64();
    std::hint::black_box(stats);
    println!(
        "1,000 uncertainty runs: {unc_s:.3} s (model preparation included); COINr ≈ 200 s → {:.0}×",
        200.0 / unc_s
    );
    // Scaling: 10,000 units × 200 indicators × 20 periods, each period built in full.
    let sfw = Framework::from_imeta_csv(&synthetic_meta())?;
    let texts: Vec<String> = (0..20).map(|p| synthetic_data(10_000, p)).collect();
    let t = Instant::now();
    let sets: Vec<UnitData> =
        texts.iter().map(|s| UnitData::from_idata_csv(s, &sfw)).collect::<Result<_, _>>()?;
    let parse_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for d in &sets {
        let b = Build::run(&sfw, d, &BuildSpec::coinr_default("region"))?;
        std::hint::black_box(b);
    }
    let scale_s = t.elapsed().as_secs_f64();
    println!(
        "scaling, 10,000 units × 200 indicators × 20 periods: build {scale_s:.2} s, parsing {parse_s:.2} s"
    );
    Ok(())
}
