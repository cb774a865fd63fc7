//! Demo product filings and publicity articles: insurers' products of most catalogue
//! types, in every state of the registration process. Names and contents are fictional;
//! limits are plausible, not anyone's offer.

use crate::{pick, ChaCha8Rng};
use kebao_domain::catalogue::{Catalogue, ProductLine};
use kebao_domain::product::{CoverageInput, ProductInput};
use rand::{Rng, SeedableRng};

/// Where a demo filing ends up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Draft,
    InReview,
    ChangesRequested,
    Rejected,
    Published,
    Withdrawn,
    /// Published, with a second version in review.
    PublishedWithNewVersion,
}

/// A filing to replay through the service.
#[derive(Debug, Clone)]
pub struct DemoFiling {
    pub insurer_uscc: String,
    pub input: ProductInput,
    pub outcome: Outcome,
    /// The reviewer's reason, for changes requested and rejections.
    pub reason: String,
    /// A document to attach: (file name, body).
    pub document: (String, Vec<u8>),
}

/// A publicity article.
#[derive(Debug, Clone)]
pub struct DemoArticle {
    pub kind: &'static str,
    pub title: &'static str,
    pub body_md: &'static str,
}

fn short_name(insurer: &str) -> String {
    let head: String = insurer.chars().take_while(|c| *c != '财' && *c != '科' && *c != '信').collect();
    let tail = if insurer.contains("信用") {
        "信保"
    } else if insurer.contains("科技保险") {
        "科保"
    } else {
        "财险"
    };
    format!("{head}{tail}")
}

const EDITIONS: &[&str] = &["东湖版", "光谷科创版", "科技企业专属版", "2026版", "初创企业版"];

/// Limits (in yuan) by line: (low, high).
fn limit_range(line: ProductLine) -> (i64, i64) {
    match line {
        ProductLine::Property | ProductLine::Composite => (1_000_000, 50_000_000),
        ProductLine::Liability => (500_000, 20_000_000),
        ProductLine::Surety | ProductLine::Credit => (1_000_000, 30_000_000),
        ProductLine::Health => (100_000, 1_000_000),
        ProductLine::Accident => (200_000, 2_000_000),
        ProductLine::Ip => (100_000, 3_000_000),
    }
}

fn round_limit(x: i64) -> i64 {
    let step = if x >= 10_000_000 {
        1_000_000
    } else if x >= 1_000_000 {
        100_000
    } else {
        10_000
    };
    (x / step).max(1) * step
}

/// Generates filings by `insurers` (USCC, name) for the catalogue's types; the first insurer
/// (the demo filer's) gets one filing in every state.
pub fn filings(seed: u64, catalogue: &Catalogue, insurers: &[(String, String)]) -> Vec<DemoFiling> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0006_0006);
    let mut out = Vec::new();
    let types = catalogue.types();
    if insurers.is_empty() {
        return out;
    }
    // Most types get one or two insurers' products; a few stay gaps.
    for (ti, t) in types.iter().enumerate() {
        if ti % 6 == 4 {
            continue;
        }
        // Risks as the catalogue writes them; cross-references to other types are not cover.
        let risks: Vec<String> = t.risks.iter().filter(|r| !r.contains('_')).cloned().collect();
        let n = if rng.random::<f64>() < 0.4 { 2 } else { 1 };
        for k in 0..n {
            let (uscc, name) = insurers.get((ti * 3 + k * 5) % insurers.len()).cloned().unwrap_or_default();
            let (lo, hi) = limit_range(t.product_line());
            let confirmed_limit = t.limits.get("per_event").and_then(toml::Value::as_integer).filter(|_| {
                t.limits.get("confidence").and_then(toml::Value::as_str).is_some_and(|c| c != "U")
            });
            let coverages: Vec<CoverageInput> = risks
                .iter()
                .take(4)
                .map(|r| {
                    let limit = confirmed_limit.unwrap_or_else(|| round_limit(rng.random_range(lo..=hi)));
                    let deductible = if t.product_line() == ProductLine::Health {
                        0
                    } else {
                        round_limit(limit / rng.random_range(50..=400)).min(100_000)
                    };
                    let head = r.split([':', '：', '(', '（']).next().unwrap_or(r).trim();
                    let cname: String =
                        if head.is_empty() { r.as_str() } else { head }.chars().take(40).collect();
                    CoverageInput {
                        name: cname,
                        limit_yuan: limit.to_string(),
                        deductible_yuan: if deductible >= limit {
                            "0".into()
                        } else {
                            deductible.to_string()
                        },
                        note: String::new(),
                    }
                })
                .collect();
            let mut dedup: Vec<CoverageInput> = Vec::new();
            for c in coverages {
                if !dedup.iter().any(|d| d.name == c.name) {
                    dedup.push(c);
                }
            }
            if dedup.is_empty() {
                dedup.push(CoverageInput {
                    name: "保险责任".into(),
                    limit_yuan: round_limit(rng.random_range(lo..=hi)).to_string(),
                    deductible_yuan: "0".into(),
                    note: String::new(),
                });
            }
            let industries: Vec<String> = if rng.random::<f64>() < 0.2 {
                Vec::new()
            } else {
                let all = [
                    "optoelectronics",
                    "ic_semiconductor_display",
                    "bio",
                    "env_energy_saving",
                    "high_end_equipment",
                    "modern_services",
                    "digital_economy",
                ];
                let a = pick(&mut rng, &all[..]);
                let b = pick(&mut rng, &all[..]);
                let mut v = vec![a.to_owned()];
                if b != a {
                    v.push(b.to_owned());
                }
                v
            };
            let qualifications = if rng.random::<f64>() < 0.3 {
                vec!["high_tech".to_owned(), "tech_sme".to_owned()]
            } else {
                Vec::new()
            };
            let edition = pick(&mut rng, EDITIONS);
            let pname = format!("{}{}（{}）", short_name(&name), t.name_zh, edition);
            let summary = format!(
                "{}面向东湖示范区科技企业，保障{}。条款和费率以本公司向监管部门报备的版本为准。",
                t.name_zh,
                if risks.is_empty() {
                    t.name_zh.clone()
                } else {
                    risks.iter().take(3).cloned().collect::<Vec<_>>().join("；")
                }
            );
            let basis = match t.product_line() {
                ProductLine::Health | ProductLine::Accident => "per_head",
                ProductLine::Liability => "limit",
                ProductLine::Surety if t.lifecycle.iter().any(|s| s == "融资") => "loan_principal",
                ProductLine::Ip => "limit",
                _ => "sum_insured",
            };
            let refund_method = if t.term_months.unwrap_or(12) == 12 && pname.len() % 2 == 0 {
                "short_rate"
            } else {
                "pro_rata"
            };
            let input = ProductInput {
                type_id: t.id.clone(),
                name: pname,
                summary,
                coverages: dedup,
                industries,
                stages: Vec::new(),
                qualifications,
                term_months: t.term_months.unwrap_or(12).to_string(),
                premium_basis: basis.into(),
                rate_text: "按本公司备案费率表，依风险状况浮动".into(),
                contact_name: pick(&mut rng, &["王经理", "李经理", "陈经理", "刘经理", "张经理"][..]).into(),
                contact_phone: format!("027-8{:07}", rng.random_range(0..10_000_000u32)),
                contact_email: String::new(),
                // Some insurers file the common short-rate table for cancellations by the
                // policyholder; the others refund pro rata.
                refund_method: refund_method.into(),
                short_rate_table: kebao_domain::cover::typical_short_rate_table().table_text(),
            };
            let x: f64 = rng.random();
            let outcome = if x < 0.62 {
                Outcome::Published
            } else if x < 0.70 {
                Outcome::InReview
            } else if x < 0.77 {
                Outcome::ChangesRequested
            } else if x < 0.84 {
                Outcome::Rejected
            } else if x < 0.89 {
                Outcome::Draft
            } else if x < 0.94 {
                Outcome::Withdrawn
            } else {
                Outcome::PublishedWithNewVersion
            };
            out.push(DemoFiling {
                insurer_uscc: uscc,
                input,
                outcome,
                reason: String::new(),
                document: (format!("{}条款.txt", t.name_zh), wording(&t.name_zh, &risks).into_bytes()),
            });
        }
    }
    // The demo filer's insurer sees every state.
    let states = [
        Outcome::Draft,
        Outcome::InReview,
        Outcome::ChangesRequested,
        Outcome::Rejected,
        Outcome::Published,
        Outcome::Withdrawn,
        Outcome::PublishedWithNewVersion,
    ];
    let first = insurers.first().map(|(u, _)| u.clone()).unwrap_or_default();
    let mine: Vec<usize> =
        out.iter().enumerate().filter(|(_, f)| f.insurer_uscc == first).map(|(i, _)| i).collect();
    for (slot, state) in mine.iter().zip(states.iter()) {
        if let Some(f) = out.get_mut(*slot) {
            f.outcome = *state;
        }
    }
    for f in &mut out {
        f.reason = match f.outcome {
            Outcome::ChangesRequested => "请在条款中显著提示责任免除内容，并补充费率表的报备材料。".into(),
            Outcome::Rejected => "保险责任与所选产品类型不一致，且未提供监管报备材料，不予注册。".into(),
            _ => String::new(),
        };
    }
    out
}

fn wording(name: &str, risks: &[String]) -> String {
    let mut s = format!("{name}条款（演示文本，非真实条款）\n\n第一条 保险责任\n");
    for (i, r) in risks.iter().enumerate() {
        s.push_str(&format!("  {}. {r}\n", i + 1));
    }
    s.push_str("\n第二条 责任免除\n  （演示）投保人、被保险人的故意行为；战争、核辐射。\n");
    s
}

/// The demo publicity section.
pub fn articles() -> Vec<DemoArticle> {
    vec![
        DemoArticle {
            kind: "regulation",
            title: "东湖科技保险创新示范区总体方案（银保监发〔2020〕46号）要点",
            body_md: "2020 年，原中国银保监会与湖北省人民政府在武汉东湖新技术开发区设立**科技保险创新示范区**。\n\n\
方案提出：\n\n\
- 建立覆盖科技企业**全生命周期**的科技保险产品体系；\n\
- 探索**区域性科技保险产品注册制**；\n\
- 建设科技保险信息平台，汇集企业、保险机构、银行和政府部门；\n\
- 落实首台（套）重大技术装备、新材料首批次保险补偿等政策。\n\n\
全文见 `plan-zh.txt`（平台资料库）。",
        },
        DemoArticle {
            kind: "regulation",
            title: "互联网保险业务监管办法：报价为什么是保险机构的、平台为什么不比价",
            body_md: "《互联网保险业务监管办法》（银保监会令2020年第13号，2021年2月1日施行）规定，只有持牌保险机构可以开展互联网保险业务。\n\n\
非持牌平台**不得**：提供产品咨询、比较产品、开展保费试算或比价、设计保险方案、代办投保、代收保费。\n\n\
因此本平台的产品超市只展示保险机构自行备案、经区域注册的条款信息，按名称或相关度排列，**从不按价格排序**。产品页上的报价由保险机构按其在平台备案的费率表作出，承保与否由保险机构按其规则决定，平台仅作为技术服务方运行保险机构的费率表并记录每一步。",
        },
        DemoArticle {
            kind: "notice",
            title: "关于开展 2026 年度科技保险产品区域注册工作的通知（演示）",
            body_md: "各保险机构：\n\n\
请通过本平台「产品备案」提交拟在示范区推广的科技保险产品，上传条款、费率表及监管报备材料。管委会将按核查清单审核，\
通过后核发区域注册登记号（DHKB-年份-序号），由保险机构自行发布。\n\n\
> 本通知为演示数据。",
        },
        DemoArticle {
            kind: "case",
            title: "典型案例：首台（套）装备质量风险获赔（演示案例）",
            body_md: "某光谷智能装备企业为其首台（套）激光加工装备投保**首台（套）重大技术装备综合保险**。装备交付用户后出现质量缺陷，\
用户要求修理。保险机构按保单约定承担了修理费用。\n\n\
| 项目 | 说明 |\n|---|---|\n| 险种 | 首台（套）重大技术装备综合保险 |\n| 风险 | 质量风险（修理、更换、退货） |\n| 结果 | 保险机构赔付修理费用 |\n\n\
*本案例为演示数据，金额从略。*",
        },
        DemoArticle {
            kind: "case",
            title: "典型案例：专利执行保险支持企业维权（演示案例）",
            body_md: "某生物医药企业的发明专利遭仿冒。企业投保的**专利执行保险**承担了调查取证费和诉讼费用，企业顺利维权。\n\n*本案例为演示数据。*",
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filings_are_deterministic_and_cover_most_types_in_every_state() {
        let c = Catalogue::from_toml(include_str!("../../../data/catalogue.toml"))
            .unwrap_or_else(|e| panic!("{e}"));
        let ins: Vec<(String, String)> =
            (0..7).map(|i| (format!("U{i}"), format!("楚天{i}财产保险股份有限公司湖北分公司"))).collect();
        let a = filings(7, &c, &ins);
        let b = filings(7, &c, &ins);
        assert_eq!(a.len(), b.len());
        assert!(a.iter().zip(b.iter()).all(|(x, y)| x.input == y.input && x.outcome == y.outcome));
        let mut types: Vec<&str> = a.iter().map(|f| f.input.type_id.as_str()).collect();
        types.sort_unstable();
        types.dedup();
        assert!(types.len() * 10 >= c.types().len() * 7, "{} of {}", types.len(), c.types().len());
        let mine: Vec<Outcome> = a.iter().filter(|f| f.insurer_uscc == "U0").map(|f| f.outcome).collect();
        for o in [
            Outcome::Draft,
            Outcome::InReview,
            Outcome::ChangesRequested,
            Outcome::Rejected,
            Outcome::Published,
        ] {
            assert!(mine.contains(&o), "{o:?} missing from {mine:?}");
        }
        for f in &a {
            let p = kebao_domain::product::ProductContent::parse(
                &f.input,
                &c,
                &kebao_domain::IndustryMap::from_toml(include_str!("../../../data/catalogue.toml"))
                    .unwrap_or_else(|e| panic!("{e}")),
            );
            assert!(p.is_ok(), "{:?}: {:?}", f.input.name, p.err());
        }
    }
}
