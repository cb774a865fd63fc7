//! A deterministic synthetic zone for `kebao demo`, tests and benchmarks.
//!
//! The same seed gives the same zone, byte for byte: every random draw comes from one
//! ChaCha8 stream seeded with it. Distributions are plausible, not calibrated:
//! staff and revenue are log-normal by life-cycle stage, R&D intensity and patents depend
//! on the industry, qualifications are drawn with rates of the order seen in Wuhan's
//! public lists. Organisation names are fictional.

pub mod activity;
pub mod lab;
pub mod products;
pub mod showcase;

use kebao_domain::org::{FactsInput, ImportRow, OrganisationInput};
use kebao_domain::user::Role;
use kebao_domain::{IndustryMap, Uscc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    pub seed: u64,
    pub enterprises: usize,
    /// The last year of facts; three years are generated.
    pub last_year: i32,
}

impl Default for Options {
    fn default() -> Self {
        Options { seed: 2020_0930, enterprises: 2000, last_year: 2025 }
    }
}

/// A demo login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoUser {
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    /// The organisation, by USCC.
    pub org_uscc: String,
}

/// The password of every demo user (printed by `kebao demo`; demo data only).
pub const DEMO_PASSWORD: &str = "kebao-demo-2026";

/// A generated zone.
#[derive(Debug, Clone)]
pub struct Zone {
    /// Parents before their branches.
    pub orgs: Vec<ImportRow>,
    pub users: Vec<DemoUser>,
    /// Enterprises that registered themselves and wait for verification, with their admins.
    pub pending: Vec<(OrganisationInput, DemoUser)>,
}

/// Industry weights (share of enterprises) and traits: (tag, weight, R&D intensity,
/// revenue per head in yuan, patents per 10 staff).
const INDUSTRIES: &[(&str, f64, f64, f64, f64)] = &[
    ("optoelectronics", 0.25, 0.07, 900_000.0, 0.9),
    ("ic_semiconductor_display", 0.10, 0.14, 1_100_000.0, 1.6),
    ("bio", 0.18, 0.16, 700_000.0, 1.1),
    ("env_energy_saving", 0.10, 0.04, 800_000.0, 0.5),
    ("high_end_equipment", 0.12, 0.06, 850_000.0, 0.8),
    ("modern_services", 0.14, 0.09, 500_000.0, 0.3),
    ("digital_economy", 0.11, 0.12, 650_000.0, 0.6),
];

/// Stage weights and the median staff count at that stage.
const STAGES: &[(&str, f64, f64)] = &[
    ("rnd", 0.20, 12.0),
    ("commercialisation", 0.20, 30.0),
    ("production", 0.25, 150.0),
    ("market", 0.20, 110.0),
    ("financing", 0.10, 45.0),
    ("overseas", 0.05, 260.0),
];

const CITY_WORDS: &[&str] = &[
    "光谷",
    "东湖",
    "楚天",
    "江城",
    "汉江",
    "珞珈",
    "武昌",
    "关山",
    "九峰",
    "未来城",
    "花山",
    "豹澥",
    "龙泉",
    "黄家湖",
    "南湖",
];
const BRAND_A: &[&str] = &[
    "华", "中", "新", "天", "鼎", "博", "瑞", "泰", "源", "恒", "锐", "思", "达", "睿", "联", "精", "卓",
    "微", "芯", "光", "智", "科", "迈", "凯", "远", "明", "宏", "安", "信", "海",
];
const BRAND_B: &[&str] = &[
    "创", "维", "拓", "星", "辰", "腾", "盛", "成", "益", "晟", "诺", "航", "驰", "科", "达", "灵", "峰",
    "宇", "帆", "芯", "德", "和", "启", "越", "通", "捷", "锋", "合", "翔", "途",
];

fn industry_word(tag: &str) -> &'static str {
    match tag {
        "optoelectronics" => "光电",
        "ic_semiconductor_display" => "半导体",
        "bio" => "生物医药",
        "env_energy_saving" => "环保科技",
        "high_end_equipment" => "智能装备",
        "modern_services" => "信息技术",
        _ => "数字科技",
    }
}

/// A uniformly drawn item (the default of `T` for an empty list).
fn pick<T: Clone + Default>(rng: &mut ChaCha8Rng, items: &[T]) -> T {
    let i = rng.random_range(0..items.len().max(1));
    items.get(i).cloned().unwrap_or_default()
}

/// An item drawn with probability proportional to `weight`.
fn weighted<T: Clone + Default>(rng: &mut ChaCha8Rng, items: &[T], weight: impl Fn(&T) -> f64) -> T {
    let total: f64 = items.iter().map(&weight).sum();
    let mut x = rng.random::<f64>() * total;
    for it in items {
        x -= weight(it);
        if x <= 0.0 {
            return it.clone();
        }
    }
    pick(rng, items)
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box–Muller.
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn lognormal(rng: &mut ChaCha8Rng, median: f64, sigma: f64) -> f64 {
    median * (sigma * normal(rng)).exp()
}

pub(crate) fn poisson(rng: &mut ChaCha8Rng, lambda: f64) -> u32 {
    if lambda <= 0.0 {
        return 0;
    }
    if lambda > 30.0 {
        return (lambda + lambda.sqrt() * normal(rng)).round().max(0.0) as u32;
    }
    let l = (-lambda).exp();
    let (mut k, mut p) = (0u32, 1.0f64);
    loop {
        p *= rng.random::<f64>();
        if p <= l {
            return k;
        }
        k += 1;
    }
}

const USCC_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// A USCC for the `n`-th generated organisation: unique per `n`, valid check character.
pub fn uscc_for(n: u64, category: &str) -> String {
    // Organisation-code part: `n` in base 31 over 8 characters, then a fixed 9th.
    let mut digits = [b'0'; 8];
    let mut v = n;
    for d in digits.iter_mut().rev() {
        let i = usize::try_from(v % 31).unwrap_or(0);
        *d = USCC_ALPHABET.get(i).copied().unwrap_or(b'0');
        v /= 31;
    }
    let body = format!("{category}420100{}M", String::from_utf8_lossy(&digits));
    Uscc::complete(&body).map(|u| u.to_string()).unwrap_or(body)
}

fn money(yuan: f64) -> String {
    format!("{:.2}", yuan.max(0.0))
}

fn enterprise(rng: &mut ChaCha8Rng, n: u64, industries: &IndustryMap, last_year: i32) -> ImportRow {
    let (tag, _, rnd_int, rev_per_head, pat_rate) = weighted(rng, INDUSTRIES, |i| i.1);
    let (stage, _, median_staff) = weighted(rng, STAGES, |s| s.1);
    let codes: Vec<String> = industries
        .tag(tag)
        .map(|t| t.prefixes.iter().filter(|p| p.len() == 5).cloned().collect())
        .unwrap_or_default();
    let industry_code = if codes.is_empty() { "M7340".to_owned() } else { pick(rng, &codes) };
    let name = format!(
        "武汉{}{}{}{}有限公司",
        pick(rng, CITY_WORDS),
        pick(rng, BRAND_A),
        pick(rng, BRAND_B),
        industry_word(tag)
    );
    let founded_year = last_year
        - match stage {
            "rnd" => rng.random_range(0..4),
            "commercialisation" => rng.random_range(2..7),
            "financing" => rng.random_range(2..9),
            _ => rng.random_range(4..20),
        };
    let staff_last = lognormal(rng, median_staff, 0.8).round().clamp(3.0, 20_000.0);
    let growth = 1.0 + (0.25 * normal(rng) + 0.12).clamp(-0.3, 0.9);
    let rev_factor = if stage == "rnd" {
        0.05
    } else if stage == "commercialisation" {
        0.35
    } else {
        1.0
    };
    // Firm-level traits persist across years; each year adds a little noise.
    let productivity = lognormal(rng, 1.0, 0.5);
    let firm_intensity = rnd_int * lognormal(rng, 1.0, 0.4);
    let mut facts = Vec::new();
    for back in (0..3).rev() {
        let year = last_year - back;
        if year < founded_year {
            continue;
        }
        let scale = growth.powi(-back);
        let staff = (staff_last * scale).round().max(2.0);
        let revenue = staff * rev_per_head * rev_factor * productivity * lognormal(rng, 1.0, 0.08);
        let intensity = (firm_intensity * lognormal(rng, 1.0, 0.08)).min(0.9);
        let rnd_expense =
            if stage == "rnd" { staff * 250_000.0 * lognormal(rng, 1.0, 0.3) } else { revenue * intensity };
        let rnd_staff = (staff * (0.15 + 0.5 * rng.random::<f64>())).round().min(staff);
        let patents_granted = poisson(rng, staff / 10.0 * pat_rate);
        let patents_pending = poisson(rng, staff / 20.0 * pat_rate);
        let export = if stage == "overseas" {
            20.0 + 50.0 * rng.random::<f64>()
        } else if rng.random::<f64>() < 0.2 {
            15.0 * rng.random::<f64>()
        } else {
            0.0
        };
        facts.push(FactsInput {
            year: year.to_string(),
            revenue_yuan: money(revenue),
            rnd_expense_yuan: money(rnd_expense),
            staff: format!("{staff}"),
            rnd_staff: format!("{rnd_staff}"),
            patents_granted: patents_granted.to_string(),
            patents_pending: patents_pending.to_string(),
            export_share_percent: format!("{export:.2}"),
        });
    }
    let mut qualifications = Vec::new();
    let mut qual = |kind: &str, p: f64, rng: &mut ChaCha8Rng| {
        if rng.random::<f64>() < p {
            let from = last_year - rng.random_range(0..3);
            let to = from + if kind == "tech_sme" { 0 } else { 2 };
            let to_day = if kind == "tech_sme" { format!("{}-12-31", to + 1) } else { format!("{to}-12-31") };
            qualifications.push([
                kind.to_owned(),
                format!("{from}-01-01"),
                to_day,
                format!("{}{}{:06}", kind.to_ascii_uppercase().get(..2).unwrap_or("QX"), from, n % 1_000_000),
            ]);
        }
    };
    let big = staff_last > 100.0;
    qual("high_tech", if stage == "rnd" { 0.15 } else { 0.45 }, rng);
    qual("tech_sme", if big { 0.2 } else { 0.6 }, rng);
    qual("specialised", if big { 0.2 } else { 0.06 }, rng);
    qual("little_giant", if big { 0.05 } else { 0.005 }, rng);
    qual("gazelle", if matches!(stage, "market" | "financing") { 0.08 } else { 0.01 }, rng);
    qual("unicorn", if big && stage == "financing" { 0.02 } else { 0.0 }, rng);
    ImportRow {
        row: 0,
        org: OrganisationInput {
            name,
            uscc: uscc_for(n, "91"),
            kind: "enterprise".into(),
            industry_code,
            lifecycle_stage: stage.into(),
            founded_on: format!(
                "{founded_year}-{:02}-{:02}",
                rng.random_range(1..=12),
                rng.random_range(1..=28)
            ),
            address: format!(
                "武汉市东湖新技术开发区{}路{}号",
                pick(rng, CITY_WORDS),
                rng.random_range(1..=999)
            ),
            parent_id: String::new(),
            park: park_for(n, tag, industries),
            institution_kind: String::new(),
        },
        parent_uscc: String::new(),
        facts,
        qualifications,
    }
}

/// The park an enterprise sits in: most of an industry in its own park (biotech in Biolake,
/// equipment in the manufacturing park …), the rest spread over the zone's parks. Derived from
/// the enterprise's number, not drawn, so the rest of the generated zone is unchanged.
fn park_for(n: u64, tag: &str, industries: &IndustryMap) -> String {
    let home = match tag {
        "bio" => "biolake",
        "optoelectronics" | "ic_semiconductor_display" => "optoelectronics_park",
        "high_end_equipment" => "smart_manufacturing_park",
        "modern_services" => "modern_services_park",
        "env_energy_saving" => "future_city",
        _ => "central_city",
    };
    let parks = industries.parks();
    let spread = usize::try_from(n.wrapping_mul(2_654_435_761) >> 7).unwrap_or(0);
    let chosen = if n % 10 < 7 { industries.park(home) } else { parks.get(spread % parks.len().max(1)) };
    chosen.or_else(|| parks.first()).map(|p| p.id.clone()).unwrap_or_default()
}

fn institution(n: u64, name: &str, kind: &str, category: &str, parent: Option<&str>) -> ImportRow {
    ImportRow {
        row: 0,
        org: OrganisationInput {
            name: name.to_owned(),
            uscc: uscc_for(n, category),
            kind: kind.to_owned(),
            industry_code: String::new(),
            lifecycle_stage: String::new(),
            founded_on: String::new(),
            address: String::new(),
            parent_id: String::new(),
            park: String::new(),
            institution_kind: String::new(),
        },
        parent_uscc: parent.map(str::to_owned).unwrap_or_default(),
        facts: Vec::new(),
        qualifications: Vec::new(),
    }
}

/// Generates a zone.
pub fn generate(opts: &Options, industries: &IndustryMap) -> Zone {
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let mut orgs = Vec::with_capacity(opts.enterprises + 60);
    // Institutions use numbers from 10,000,000 up, enterprises from 1.
    let mut n = 10_000_000u64;
    let mut next = || {
        n += 1;
        n
    };
    let mut add_tree =
        |orgs: &mut Vec<ImportRow>, kind: &str, head: &str, branches: &[&str], subs: &[&str]| {
            let h = institution(next(), head, kind, "91", None);
            let hu = h.org.uscc.clone();
            orgs.push(h);
            for b in branches {
                let br = institution(next(), &format!("{head}{b}"), kind, "91", Some(&hu));
                let bu = br.org.uscc.clone();
                orgs.push(br);
                for s in subs {
                    orgs.push(institution(next(), &format!("{head}{b}{s}"), kind, "91", Some(&bu)));
                }
            }
        };
    // About 20 insurers: head offices, Hubei branches, East Lake sub-branches.
    for (head, subs) in [
        ("楚天财产保险股份有限公司", &["东湖支公司", "光谷支公司"][..]),
        ("江城科技保险股份有限公司", &["东湖支公司"][..]),
        ("华中财产保险股份有限公司", &["东湖支公司"][..]),
        ("长风财产保险股份有限公司", &[][..]),
        ("金融街财产保险股份有限公司", &["东湖支公司"][..]),
        ("启明信用保险股份有限公司", &[][..]),
        ("安澜财产保险股份有限公司", &[][..]),
    ] {
        add_tree(&mut orgs, "insurer", head, &["湖北分公司"], subs);
    }
    // About 10 banks.
    for (head, subs) in [
        ("汉江银行股份有限公司", &["光谷科技支行", "东湖支行"][..]),
        ("楚商银行股份有限公司", &["光谷支行"][..]),
        ("华夏东方银行股份有限公司", &["光谷科技支行"][..]),
    ] {
        add_tree(&mut orgs, "bank", head, &["武汉分行"], subs);
    }
    for name in ["武汉光谷融资担保有限公司", "湖北科技融资再担保有限公司", "东湖知识产权融资担保有限公司"]
    {
        orgs.push(institution(next(), name, "guarantor", "91", None));
    }
    for name in [
        "光谷产业投资基金管理有限公司",
        "东湖天使投资合伙企业",
        "楚天创业投资有限公司",
        "江城科创私募基金管理有限公司",
    ] {
        orgs.push(institution(next(), name, "investor", "91", None));
    }
    for name in
        ["东湖科技保险纠纷调解中心", "光谷信用评级有限公司", "楚天保险公估有限公司", "东湖知识产权服务中心"]
    {
        orgs.push(institution(next(), name, "service_body", "52", None));
    }
    let gov = [
        ("东湖新技术开发区管理委员会", "11"),
        ("东湖新技术开发区财政局", "11"),
        ("东湖新技术开发区科技创新局", "11"),
        ("国家金融监督管理总局湖北监管局", "11"),
    ];
    for (name, cat) in gov {
        orgs.push(institution(next(), name, "government", cat, None));
    }
    // The institutions the plan's targets count: an insurtech company and a research body set
    // up in the zone, and the kinds of those already listed, each with its establishment date.
    orgs.push(institution(next(), "光谷保险科技有限公司", "service_body", "91", None));
    orgs.push(institution(next(), "东湖科技保险研究院", "service_body", "52", None));
    // A licensed insurance broker the zone names to operate the risk advisor (broker mode).
    orgs.push(institution(next(), "光谷保险经纪有限公司", "service_body", "91", None));
    for (k, row) in orgs.iter_mut().enumerate() {
        let name = row.org.name.as_str();
        let kind = if name.ends_with("东湖支公司") || name.ends_with("光谷支公司") {
            "specialist_branch"
        } else {
            match name {
                "楚天保险公估有限公司" | "光谷保险经纪有限公司" => "intermediary",
                "光谷保险科技有限公司" => "insurtech",
                "东湖科技保险研究院" => "research_body",
                "东湖科技保险纠纷调解中心" | "东湖知识产权服务中心" | "光谷信用评级有限公司" => {
                    "service_body"
                }
                _ => continue,
            }
        };
        row.org.institution_kind = kind.to_owned();
        // Set up after the zone's implementation plan (2021-09-22), a few months apart.
        row.org.founded_on = format!("{}-{:02}-15", 2021 + (k % 4), 1 + (k * 5) % 12);
    }
    let find = |orgs: &[ImportRow], name: &str| {
        orgs.iter().find(|o| o.org.name == name).map(|o| o.org.uscc.clone()).unwrap_or_default()
    };
    let zone_office = find(&orgs, "东湖新技术开发区管理委员会");
    let regulator = find(&orgs, "国家金融监督管理总局湖北监管局");
    let insurer = find(&orgs, "楚天财产保险股份有限公司湖北分公司");
    let bank = find(&orgs, "汉江银行股份有限公司武汉分行");
    let mediation = find(&orgs, "东湖科技保险纠纷调解中心");
    let guarantor = find(&orgs, "武汉光谷融资担保有限公司");
    let first_ent = orgs.len();
    for i in 0..opts.enterprises {
        orgs.push(enterprise(&mut rng, u64::try_from(i + 1).unwrap_or(0), industries, opts.last_year));
    }
    let enterprise_uscc = orgs.get(first_ent).map(|o| o.org.uscc.clone()).unwrap_or_default();
    let u = |username: &str, display: &str, roles: &[Role], org: &str| DemoUser {
        username: username.into(),
        display_name: display.into(),
        roles: roles.to_vec(),
        org_uscc: org.to_owned(),
    };
    // Two more enterprises, of industries other than the first's, apply for subsidies in the
    // showcase (so that the zone's lists show more than one applicant).
    let tag_of = |row: &ImportRow| {
        let code = kebao_domain::IndustryCode::parse(&row.org.industry_code).ok()?;
        industries.tags_for(&code).first().map(|t| (*t).to_owned())
    };
    let mut seen: Vec<String> = orgs.get(first_ent).and_then(tag_of).into_iter().collect();
    let mut applicants = Vec::new();
    for row in orgs.iter().skip(first_ent + 1) {
        if applicants.len() >= 2 {
            break;
        }
        let Some(tag) = tag_of(row) else { continue };
        if !seen.contains(&tag) {
            seen.push(tag);
            applicants.push((row.org.uscc.clone(), format!("{}管理员", row.org.name)));
        }
    }
    // A zone too small for that: any other enterprises, else the first one again.
    let chosen: Vec<String> = applicants.iter().map(|a| a.0.clone()).collect();
    for row in orgs.iter().skip(first_ent + 1).filter(|r| !chosen.contains(&r.org.uscc)) {
        if applicants.len() >= 2 {
            break;
        }
        applicants.push((row.org.uscc.clone(), format!("{}管理员", row.org.name)));
    }
    while applicants.len() < 2 {
        applicants.push((enterprise_uscc.clone(), format!("示范企业管理员{}", applicants.len() + 2)));
    }
    let mut users = vec![
        u("ent.admin", "张总（企业管理员）", &[Role::EnterpriseAdmin], &enterprise_uscc),
        u("ent.staff", "李工（企业员工）", &[Role::EnterpriseStaff], &enterprise_uscc),
        u("ins.admin", "保险机构管理员", &[Role::OrgAdmin], &insurer),
        u("ins.filer", "产品备案员", &[Role::ProductFiler], &insurer),
        u("ins.underwriter", "核保员", &[Role::Underwriter], &insurer),
        u("ins.claims", "理赔员", &[Role::ClaimsHandler], &insurer),
        u("bank.officer", "银行客户经理", &[Role::BankOfficer], &bank),
        u("bank.admin", "银行科技金融部负责人", &[Role::OrgAdmin], &bank),
        u("guarantor.officer", "担保业务经理", &[Role::BankOfficer], &guarantor),
        u("mediator", "调解员", &[Role::Mediator], &mediation),
        u("zone.reviewer", "管委会初审员", &[Role::ZoneReviewer], &zone_office),
        u("zone.approver", "管委会审批员", &[Role::ZoneApprover], &zone_office),
        u("regulator", "监管人员", &[Role::Regulator], &regulator),
        u("platform.admin", "平台管理员", &[Role::PlatformAdmin], &zone_office),
    ];
    for (i, (uscc, display)) in applicants.iter().enumerate() {
        users.push(u(&format!("ent{}.admin", i + 2), display, &[Role::EnterpriseAdmin], uscc));
    }
    let pending = (0..3u64)
        .map(|i| {
            let mut row = enterprise(&mut rng, 9_000_000 + i, industries, opts.last_year);
            row.org.uscc = uscc_for(9_000_000 + i, "91");
            let admin = DemoUser {
                username: format!("applicant{}", i + 1),
                display_name: format!("申请企业管理员{}", i + 1),
                roles: vec![Role::EnterpriseAdmin],
                org_uscc: row.org.uscc.clone(),
            };
            (row.org, admin)
        })
        .collect();
    Zone { orgs, users, pending }
}

/// `n` enterprises not yet in the zone: they register themselves during the demo's years.
pub fn newcomers(opts: &Options, industries: &IndustryMap, n: usize) -> Vec<OrganisationInput> {
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed ^ 0x4E3C_0E7E);
    (0..n as u64).map(|i| enterprise(&mut rng, 8_000_000 + i, industries, opts.last_year).org).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use kebao_domain::org::{NewOrganisation, YearlyFacts};

    fn map() -> IndustryMap {
        IndustryMap::from_toml(include_str!("../../../data/catalogue.toml")).unwrap()
    }

    #[test]
    fn deterministic_and_valid() {
        let opts = Options { enterprises: 500, ..Options::default() };
        let a = generate(&opts, &map());
        let b = generate(&opts, &map());
        assert_eq!(format!("{:?}", a.orgs), format!("{:?}", b.orgs));
        let c = generate(&Options { seed: 7, ..opts.clone() }, &map());
        assert_ne!(format!("{:?}", a.orgs), format!("{:?}", c.orgs));
        let mut usccs = std::collections::HashSet::new();
        let m = map();
        for r in &a.orgs {
            NewOrganisation::parse(&r.org, &m).unwrap();
            for f in &r.facts {
                YearlyFacts::parse(f).unwrap();
            }
            assert!(usccs.insert(r.org.uscc.clone()), "unique USCCs");
        }
        let ents = a.orgs.iter().filter(|o| o.org.kind == "enterprise").count();
        assert_eq!(ents, 500);
        let insurers = a.orgs.iter().filter(|o| o.org.kind == "insurer").count();
        assert!((15..=25).contains(&insurers), "{insurers}");
        // Every industry tag and stage is present.
        for t in m.tags() {
            let hit = a.orgs.iter().filter(|o| o.org.kind == "enterprise").any(|o| {
                kebao_domain::IndustryCode::parse(&o.org.industry_code)
                    .map(|c| m.tags_for(&c).contains(&t.id.as_str()))
                    .unwrap_or(false)
            });
            assert!(hit, "{}", t.id);
        }
        for s in STAGES {
            assert!(a.orgs.iter().any(|o| o.org.lifecycle_stage == s.0), "{}", s.0);
        }
        for usr in &a.users {
            assert!(a.orgs.iter().any(|o| o.org.uscc == usr.org_uscc), "{}", usr.username);
        }
        // Every role has a demo user.
        for r in Role::ALL {
            assert!(a.users.iter().any(|u| u.roles.contains(r)), "{r}");
        }
    }

    #[test]
    fn uscc_codes_are_valid() {
        for n in [0, 1, 30, 31, 10_000_000, 99_999_999] {
            kebao_domain::Uscc::parse(&uscc_for(n, "91")).unwrap();
        }
    }
}
