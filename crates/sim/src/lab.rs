//! The demo zone's risk lab: the zone's own assessment scorecard, fitted by the engine on
//! synthetic records (the living zone has too few ended loans to learn from), over four of the
//! registry's variables. Its name says so on every page.

/// The model's name in the registry.
pub const DEMO_SCORECARD_NAME: &str = "示范区风险评估评分卡（登记数据与合成结果拟合，演示）";

/// The scorecard file (`kebao.scorecard/1`), fitted on 20,000 synthetic records: low R&D
/// intensity and young firms default more often.
pub fn demo_scorecard() -> Result<String, String> {
    use kebao_scorecard::{Column, Frame, Scorecard, ScorecardOptions};
    let n = 20_000u32;
    let rnd: Vec<f64> = (0..n).map(|i| f64::from(i % 200) / 1000.0).collect();
    let age: Vec<f64> = (0..n).map(|i| f64::from(i % 23) / 2.0).collect();
    let staff: Vec<f64> = (0..n).map(|i| f64::from((i * 7) % 400)).collect();
    let tags = ["optoelectronics", "bio", "high_end_equipment", "digital_economy", "modern_services"];
    let industry: Vec<Option<String>> =
        (0..n).map(|i| tags.get((i % 5) as usize).map(|t| (*t).to_owned())).collect();
    let y: Vec<f64> = (0..n)
        .map(|i| {
            let risky = (i % 200) < 40 || (i % 23) < 3;
            if (risky && i % 3 != 0) || i % 19 == 0 {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    let frame = Frame {
        columns: vec![
            Column::Numeric { name: "rnd_ratio".into(), values: rnd },
            Column::Numeric { name: "age_years".into(), values: age },
            Column::Numeric { name: "staff".into(), values: staff },
            Column::Categorical { name: "industry".into(), values: industry },
        ],
    };
    // A small ridge keeps the fit defined on a small zone (a few dozen enterprises).
    let opts = ScorecardOptions { l2: 1.0, ..ScorecardOptions::default() };
    Scorecard::fit(&frame, &y, &opts).map(|s| s.to_json()).map_err(|e| e.to_string())
}

/// The zone lab's scorecard fitted on the zone's own registered facts — `rows` are
/// (R&D share, years since founding, staff, industry) as the platform scores them, blank when
/// unknown — with synthetic outcomes (seeded): the living zone has no default history to learn
/// from, so the outcomes are drawn from a stated rule (low R&D intensity and young firms
/// default more often), never presented as observed.
pub fn zone_scorecard(rows: &[[String; 4]], seed: u64) -> Result<String, String> {
    use kebao_scorecard::{Column, Frame, Scorecard, ScorecardOptions};
    use rand::{Rng, SeedableRng};
    let num = |s: &str| s.trim().parse::<f64>().unwrap_or(f64::NAN);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut y = Vec::with_capacity(rows.len());
    for r in rows {
        let (rnd, age) = (num(&r[0]), num(&r[1]));
        let rnd = if rnd.is_finite() { rnd } else { 0.0 };
        let age = if age.is_finite() { age } else { 0.0 };
        let z = -2.2 - 12.0 * (rnd - 0.05) - 0.12 * (age - 6.0);
        let p = 1.0 / (1.0 + (-z).exp());
        y.push(if rng.random::<f64>() < p { 1.0 } else { 0.0 });
    }
    let frame = Frame {
        columns: vec![
            Column::Numeric { name: "rnd_ratio".into(), values: rows.iter().map(|r| num(&r[0])).collect() },
            Column::Numeric { name: "age_years".into(), values: rows.iter().map(|r| num(&r[1])).collect() },
            Column::Numeric { name: "staff".into(), values: rows.iter().map(|r| num(&r[2])).collect() },
            Column::Categorical {
                name: "industry".into(),
                values: rows
                    .iter()
                    .map(|r| Some(r[3].clone()).filter(|v| !v.is_empty() && v != "unknown"))
                    .collect(),
            },
        ],
    };
    // A small ridge keeps the fit defined on a small zone (a few dozen enterprises).
    let opts = ScorecardOptions { l2: 1.0, ..ScorecardOptions::default() };
    Scorecard::fit(&frame, &y, &opts).map(|s| s.to_json()).map_err(|e| e.to_string())
}
