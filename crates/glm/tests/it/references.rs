use crate::{check, factor, num, table};
use kebao_glm::plan::RatingPlan;
use kebao_glm::{fit, Data, Family, Link, Spec, TestKind};

fn ships() -> (Vec<f64>, Vec<f64>, Vec<String>, Vec<String>, Vec<String>, Vec<f64>) {
    let t = table("mass_ships.csv");
    let service = num(&t["service"]);
    let keep: Vec<usize> = (0..service.len()).filter(|&i| service[i] > 0.0).collect();
    let pick = |c: &str| keep.iter().map(|&i| t[c][i].clone()).collect::<Vec<_>>();
    let incidents = num(&pick("incidents"));
    let service: Vec<f64> = keep.iter().map(|&i| service[i]).collect();
    let offset = service.iter().map(|s| s.ln()).collect();
    (incidents, offset, pick("type"), pick("year"), pick("period"), service)
}

/// McCullagh & Nelder (1989) §6.3.2: ship damage, Poisson with log(service) offset,
/// 34 rows with service > 0. Published deviance 38.695 on 25 df and coefficients
/// −6.406, −0.543, −0.687, −0.076, 0.326, 0.697, 0.818, 0.453, 0.384; the values below
/// are R's `glm(incidents ~ type + year + period, poisson, offset = log(service))` run to
/// convergence (`glm.control(epsilon = 1e-15)`). R's default stopping rule leaves the
/// standard errors 1e-5 short of convergence (typeC 0.329044 instead of 0.329047), so
/// the converged values are the reference.
#[test]
fn ship_damage_matches_mccullagh_nelder_and_r() {
    let (y, off, ty, year, period, _) = ships();
    assert_eq!(y.len(), 34);
    let data = Data::new(&y)
        .offset(&off)
        .factor(factor("type", &ty))
        .factor(factor("year", &year))
        .factor(factor("period", &period));
    let f = fit(&data, &Spec::new(Family::Poisson)).unwrap();
    check(
        &f,
        &[
            ("(Intercept)", -6.4059015610488457, 0.217444106247783),
            ("typeB", -0.5433443011939250, 0.177589907362197),
            ("typeC", -0.6874016474498201, 0.329047216126983),
            ("typeD", -0.0759614218771318, 0.290578658772374),
            ("typeE", 0.3255794562239505, 0.235879402585484),
            ("year65", 0.6971404267005056, 0.149641392519506),
            ("year70", 0.8184265772017471, 0.169773649290263),
            ("year75", 0.4534266388004999, 0.233170477772893),
            ("period75", 0.3844669582120730, 0.118272162623251),
        ],
        38.6950515355548,
    );
    assert_eq!((f.df_residual, f.test), (25, TestKind::Z));
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * b.abs();
    assert!(close(f.null_deviance, 146.328336532458), "{}", f.null_deviance);
    assert!(close(f.aic.unwrap(), 154.56154285918), "{:?}", f.aic);
    let p = f.coefficient("typeB").unwrap().p_value.unwrap();
    assert!(close(p, 2.21673406585185e-03), "{p}");
    // Predictions carry the offset: the fitted total equals the observed total (Poisson, log link).
    let mu = f.predict(&data).unwrap();
    assert!((mu.iter().sum::<f64>() - y.iter().sum::<f64>()).abs() < 1e-6);
}

/// R `MASS::Insurance`: Claims ~ District + Group + Age, Poisson, offset log(Holders).
/// Target deviance 51.4200327 (R); coefficients and standard errors from R run to
/// convergence (`epsilon = 1e-15`), factors read as text (C collation).
#[test]
fn car_insurance_matches_r() {
    let t = table("mass_insurance.csv");
    let y = num(&t["Claims"]);
    let off: Vec<f64> = num(&t["Holders"]).iter().map(|h| h.ln()).collect();
    let data = Data::new(&y)
        .offset(&off)
        .factor(factor("District", &t["District"]))
        .factor(factor("Group", &t["Group"]))
        .factor(factor("Age", &t["Age"]));
    let f = fit(&data, &Spec::new(Family::Poisson)).unwrap();
    check(
        &f,
        &[
            ("(Intercept)", -1.8514130444235943, 0.0569494924014937),
            ("District2", 0.0258681909109898, 0.0430157948059227),
            ("District3", 0.0385239271038817, 0.0505115661360051),
            ("District4", 0.2342053279772671, 0.0616732772290712),
            ("Group1.5-2l", 0.2314735108300130, 0.0430125945908640),
            ("Group<1l", -0.1613369799983991, 0.0505323889813846),
            ("Group>2l", 0.4020753611171118, 0.0635810587237690),
            ("Age30-35", -0.1539405519259777, 0.0684681953948679),
            ("Age<25", 0.1910101063279573, 0.0828564504871496),
            ("Age>35", -0.3456606000661447, 0.0544866725206580),
        ],
        51.4200327490535,
    );
    assert!((f.aic.unwrap() - 388.741553998487).abs() < 1e-6 * 388.7);
    // A chosen reference level changes the coding, not the fit.
    let g = Data::new(&y)
        .offset(&off)
        .factor(factor("District", &t["District"]))
        .factor(factor("Group", &t["Group"]).with_reference("<1l").unwrap())
        .factor(factor("Age", &t["Age"]));
    let f2 = fit(&g, &Spec::new(Family::Poisson)).unwrap();
    assert!((f2.deviance - f.deviance).abs() < 1e-9);
    let plan = RatingPlan::from_fit(&f2, "Claims", Some("log(Holders)"), &[]).unwrap();
    let group = &plan.factors[1];
    assert_eq!((group.reference.as_str(), group.levels[0].relativity), ("<1l", Some(1.0)));
    // exp(0.2314735 + 0.1613370): the 1.5-2l relativity against <1l.
    let r = group.levels.iter().find(|l| l.level == "1.5-2l").unwrap().relativity.unwrap();
    assert!((r - (0.2314735108300133f64 + 0.1613369799983997).exp()).abs() < 1e-6);
    assert!(plan.to_json().contains("\"schema\": \"kebao.rating_plan/1\""));
}

/// Tweedie p = 1.5, log link, rate weighted by exposure: R with `statmod::tweedie(1.5, 0)`
/// and `glm.control(epsilon = 1e-15)`. Dispersion is Pearson χ²/(n−p); tests are t tests.
#[test]
fn tweedie_matches_r_statmod() {
    let (inc, _, ty, year, period, service) = ships();
    let rate: Vec<f64> = inc.iter().zip(&service).map(|(i, s)| i / s * 1000.0).collect();
    let exposure: Vec<f64> = service.iter().map(|s| s / 1000.0).collect();
    let data = Data::new(&rate)
        .weights(&exposure)
        .factor(factor("type", &ty))
        .factor(factor("year", &year))
        .factor(factor("period", &period));
    let f = fit(&data, &Spec::new(Family::Tweedie(1.5))).unwrap();
    check(
        &f,
        &[
            ("(Intercept)", 0.466969862912628, 0.277833283750205),
            ("typeB", -0.526643808504995, 0.247051718231441),
            ("typeC", -0.619547227180259, 0.403910881516083),
            ("typeD", -0.148930646964372, 0.410752435893075),
            ("typeE", 0.349670112756415, 0.354493266407169),
            ("year65", 0.694585908834951, 0.164139736838960),
            ("year70", 0.835807094130471, 0.196931078587303),
            ("year75", 0.488724233125809, 0.281328583913902),
            ("period75", 0.408358544013590, 0.142495174395310),
        ],
        26.8136219747397,
    );
    assert_eq!(f.test, TestKind::T);
    assert!(f.aic.is_none(), "R gives NA");
    assert!((f.dispersion - 0.972043793635735).abs() < 1e-6);
    assert!((f.null_deviance - 99.0789185815039).abs() < 1e-6 * 99.0);
    let p = f.coefficient("typeB").unwrap().p_value.unwrap();
    assert!((p - 0.043040686431676196).abs() < 1e-6 * 0.043, "{p}");
}

/// Gamma severity, log link, weighted by claim counts (R, epsilon 1e-15), R's Gamma AIC.
#[test]
fn gamma_matches_r() {
    let (inc, _, ty, _, period, service) = ships();
    let keep: Vec<usize> = (0..inc.len()).filter(|&i| inc[i] > 0.0).collect();
    let sev: Vec<f64> = keep.iter().map(|&i| inc[i] / service[i] * 1000.0).collect();
    let w: Vec<f64> = keep.iter().map(|&i| inc[i]).collect();
    let ty: Vec<String> = keep.iter().map(|&i| ty[i].clone()).collect();
    let period: Vec<String> = keep.iter().map(|&i| period[i].clone()).collect();
    let data = Data::new(&sev).weights(&w).factor(factor("type", &ty)).factor(factor("period", &period));
    let f = fit(&data, &Spec::new(Family::Gamma)).unwrap();
    check(
        &f,
        &[
            ("(Intercept)", 1.207348908821881, 0.242209227342275),
            ("typeB", -0.696953589536086, 0.230086966348626),
            ("typeC", 0.272938599223326, 0.450869901191135),
            ("typeD", 0.370431245452235, 0.393168729508180),
            ("typeE", 0.636655888623768, 0.321637069855646),
            ("period75", 0.420693988991316, 0.151591764765622),
        ],
        49.4202736791403,
    );
    assert!((f.aic.unwrap() - 1029.59475817433).abs() < 1e-6 * 1029.6, "{:?}", f.aic);
    assert!((f.dispersion - 1.86810280332728).abs() < 1e-6 * 1.87);
}

/// Binomial, logit: German credit "bad" on checking-account status, duration and age (R).
#[test]
fn binomial_matches_r() {
    let t = table("germancredit.csv");
    let y: Vec<f64> = t["creditability"].iter().map(|c| f64::from(u8::from(c == "bad"))).collect();
    let dur = num(&t["duration_in_month"]);
    let age = num(&t["age_in_years"]);
    let data = Data::new(&y)
        .factor(factor("status", &t["status_of_existing_checking_account"]))
        .numeric("duration_in_month", &dur)
        .numeric("age_in_years", &age);
    let f = fit(&data, &Spec::new(Family::Binomial)).unwrap();
    check(
        &f,
        &[
            ("(Intercept)", -0.2771028931583352, 0.29830857122869847),
            (
                "status... >= 200 DM / salary assignments for at least 1 year",
                -1.0919398564760949,
                0.33207696849364843,
            ),
            ("status0 <= ... < 200 DM", -0.5091724874281942, 0.17997778388959029),
            ("statusno checking account", -2.0122469071866140, 0.20256860861494508),
            ("duration_in_month", 0.0374008060635716, 0.00614461826516777),
            ("age_in_years", -0.0155260297198982, 0.00688354755254576),
        ],
        1046.6686914153,
    );
    assert!((f.aic.unwrap() - 1058.6686914153).abs() < 1e-6 * 1058.7);
    assert!((f.null_deviance - 1221.72860410979).abs() < 1e-6 * 1221.7);
}

/// Gaussian, identity, prior weights, a numeric term (R); R's AIC with weights.
#[test]
fn gaussian_matches_r() {
    let t = table("mass_insurance.csv");
    let lc: Vec<f64> = num(&t["Claims"]).iter().map(|c| (c + 1.0).ln()).collect();
    let holders = num(&t["Holders"]);
    let lh: Vec<f64> = holders.iter().map(|h| h.ln()).collect();
    let w: Vec<f64> = holders.iter().map(|h| h / 100.0).collect();
    let data = Data::new(&lc)
        .weights(&w)
        .factor(factor("District", &t["District"]))
        .factor(factor("Group", &t["Group"]))
        .numeric("lh", &lh);
    let f = fit(&data, &Spec::new(Family::Gaussian)).unwrap();
    check(
        &f,
        &[
            ("(Intercept)", -0.7989120858966445, 0.1362187946112688),
            ("District2", -0.0518027705163037, 0.0383567930010398),
            ("District3", -0.1031555165842864, 0.0459844810914458),
            ("District4", -0.0291620511287939, 0.0646368788060332),
            ("Group1.5-2l", 0.0997398529588600, 0.0422018142266581),
            ("Group<1l", -0.2965048441309096, 0.0436742460536000),
            ("Group>2l", 0.0740815412853381, 0.0733106705491585),
            ("lh", 0.8295682517992783, 0.0174313692536923),
        ],
        3.24393112291617,
    );
    assert!((f.aic.unwrap() - -10.3691985773861).abs() < 1e-6 * 10.37, "{:?}", f.aic);
    assert!((f.dispersion - 0.0579273414806459).abs() < 1e-6 * 0.058);
}

/// A perfectly collinear column is reported as aliased, as R reports NA, and the rest of
/// the fit is R's.
#[test]
fn collinear_columns_are_aliased_like_r() {
    let t = table("mass_insurance.csv");
    let y = num(&t["Claims"]);
    let lh: Vec<f64> = num(&t["Holders"]).iter().map(|h| h.ln()).collect();
    let lh2: Vec<f64> = lh.iter().map(|x| 2.0 * x).collect();
    let zeros = vec![0.0; y.len()];
    let data = Data::new(&y)
        .factor(factor("District", &t["District"]))
        .numeric("lh", &lh)
        .numeric("lh2", &lh2)
        .numeric("zero", &zeros);
    let f = fit(&data, &Spec::new(Family::Poisson)).unwrap();
    assert_eq!(f.coefficient("lh2").unwrap().estimate, None);
    assert_eq!(f.coefficient("zero").unwrap().estimate, None, "an all-zero column is aliased");
    assert!((f.coefficient("lh").unwrap().estimate.unwrap() - 0.8391183421166998).abs() < 1e-6 * 0.84);
    assert!((f.deviance - 121.802678117369).abs() < 1e-6 * 121.8);
    assert_eq!(f.df_residual, 59);
    assert!((f.aic.unwrap() - 449.124199366802).abs() < 1e-6 * 449.1);
}

/// An L2 penalty shrinks towards 0 and leaves the intercept alone.
#[test]
fn l2_penalty_shrinks() {
    let (y, off, ty, year, period, _) = ships();
    let data = Data::new(&y)
        .offset(&off)
        .factor(factor("type", &ty))
        .factor(factor("year", &year))
        .factor(factor("period", &period));
    let free = fit(&data, &Spec::new(Family::Poisson)).unwrap();
    let shrunk = fit(&data, &Spec::new(Family::Poisson).l2(10.0)).unwrap();
    let norm = |f: &kebao_glm::Fit| f.beta()[1..].iter().map(|b| b * b).sum::<f64>();
    assert!(norm(&shrunk) < norm(&free));
    assert!(shrunk.deviance > free.deviance);
    assert!(fit(&data, &Spec::new(Family::Poisson).l2(-1.0)).is_err());
}

#[test]
fn identity_link_and_plan_refusal() {
    let (y, off, ty, _, _, _) = ships();
    let data = Data::new(&y).offset(&off).factor(factor("type", &ty));
    let f = fit(&data, &Spec::new(Family::Poisson)).unwrap();
    assert!(RatingPlan::from_fit(&f, "incidents", None, &[]).is_ok());
    let g = Data::new(&y).factor(factor("type", &ty));
    let id = fit(&g, &Spec::new(Family::Gaussian).link(Link::Identity)).unwrap();
    assert!(RatingPlan::from_fit(&id, "incidents", None, &[]).is_err());
}

/// R's `start`: from the fitted coefficients the fit is done at once, with the same result;
/// a start of the wrong length is refused.
#[test]
fn starting_coefficients() {
    let (y, off, ty, year, period, _) = ships();
    let data = Data::new(&y)
        .offset(&off)
        .factor(factor("type", &ty))
        .factor(factor("year", &year))
        .factor(factor("period", &period));
    let f = fit(&data, &Spec::new(Family::Poisson)).unwrap();
    let warm = fit(&data, &Spec { start: Some(f.beta().to_vec()), ..Spec::new(Family::Poisson) }).unwrap();
    assert!(warm.iterations < f.iterations, "{} vs {}", warm.iterations, f.iterations);
    assert!((warm.deviance - f.deviance).abs() < 1e-9);
    assert!(matches!(
        fit(&data, &Spec { start: Some(vec![0.0; 2]), ..Spec::new(Family::Poisson) }),
        Err(kebao_glm::GlmError::Option(_))
    ));
}
