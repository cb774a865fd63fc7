//! The zone's insurance statistics (C11), arranged by the definitions of the NFRA
//! 《科技保险业务统计制度》 (2024): Part 1 counts 科技活动风险保险业务 by product class, Part 2
//! counts 科技活动主体保险业务 by insured entity (`rules.md` §2). The layout is the platform's own
//! arrangement of those definitions, not the regulator's official form.
//!
//! Every report is a table of [`Measures`] per row for one [`Period`]. What each measure counts:
//!
//! * **policies** — policies written in the period (bound on the platform, or registered from
//!   outside and confirmed by their insurer), cancelled ones included;
//! * **enterprises** — distinct policyholders of those policies;
//! * **cover** — their risk cover (sum insured, or the limit where there is none);
//! * **written** — premium written in the period as the ledger records it per insurer: premium
//!   due at binding and on endorsements, less premium returned, each co-insurer its share;
//! * **earned** — premium earned in the period, pro rata to the days of cover that fall in it;
//! * **claims reported** — claims reported in the period, and the amounts claimed;
//! * **paid** — claim payments made in the period, each co-insurer its share.

use crate::error::FieldError;
use crate::org::QualificationKind;
use time::{Date, Month};

/// A reporting period: a calendar year or quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Period {
    Year(i32),
    Quarter(i32, u8),
}

/// The first year a report may ask for, and the last.
pub const MIN_YEAR: i32 = 2000;
pub const MAX_YEAR: i32 = 2100;

impl Period {
    /// Parses `2025`, `2025Q3`, `2025-Q3` or `2025q3`.
    pub fn parse(input: &str) -> Result<Period, FieldError> {
        let s = input.trim().to_ascii_uppercase();
        let bad = || {
            FieldError::new(
                "period",
                "period_format",
                format!("统计期 `{s}` 格式不正确：应为年份（如 2025）或季度（如 2025Q3），年份在 {MIN_YEAR}–{MAX_YEAR}"),
                format!(
                    "period `{s}` is malformed: write a year (2025) or a quarter (2025Q3), the year within {MIN_YEAR}–{MAX_YEAR}"
                ),
            )
        };
        let (year, quarter) = match s.split_once('Q') {
            Some((y, q)) => (y.strip_suffix('-').unwrap_or(y), Some(q)),
            None => (s.as_str(), None),
        };
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(bad());
        }
        match quarter {
            None => Ok(Period::Year(year)),
            Some(q) => match q.as_bytes() {
                [d @ b'1'..=b'4'] => Ok(Period::Quarter(year, d - b'0')),
                _ => Err(bad()),
            },
        }
    }

    /// The year.
    pub fn year(self) -> i32 {
        match self {
            Period::Year(y) | Period::Quarter(y, _) => y,
        }
    }

    /// The code (`2025`, `2025Q3`).
    pub fn code(self) -> String {
        match self {
            Period::Year(y) => y.to_string(),
            Period::Quarter(y, q) => format!("{y}Q{q}"),
        }
    }

    /// The Chinese label (`2025年`, `2025年第3季度`).
    pub fn label_zh(self) -> String {
        match self {
            Period::Year(y) => format!("{y}年"),
            Period::Quarter(y, q) => format!("{y}年第{q}季度"),
        }
    }

    /// The English label (`2025`, `2025 Q3`).
    pub fn label_en(self) -> String {
        match self {
            Period::Year(y) => y.to_string(),
            Period::Quarter(y, q) => format!("{y} Q{q}"),
        }
    }

    /// The first day.
    pub fn first_day(self) -> Date {
        let (y, m) = match self {
            Period::Year(y) => (y, Month::January),
            Period::Quarter(y, q) => (y, quarter_start(q)),
        };
        Date::from_calendar_date(y, m, 1).unwrap_or(Date::MIN)
    }

    /// The last day.
    pub fn last_day(self) -> Date {
        let (y, m) = match self {
            Period::Year(y) => (y, Month::December),
            Period::Quarter(y, q) => (y, quarter_start(q).nth_next(2)),
        };
        Date::from_calendar_date(y, m, time::util::days_in_month(m, y)).unwrap_or(Date::MAX)
    }

    /// The four quarters of the period's year, in order.
    pub fn quarters(year: i32) -> [Period; 4] {
        [
            Period::Quarter(year, 1),
            Period::Quarter(year, 2),
            Period::Quarter(year, 3),
            Period::Quarter(year, 4),
        ]
    }
}

fn quarter_start(q: u8) -> Month {
    match q {
        2 => Month::April,
        3 => Month::July,
        4 => Month::October,
        _ => Month::January,
    }
}

/// What a report counts for one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Measures {
    /// Policies written.
    pub policies: u64,
    /// Distinct policyholders of the policies written.
    pub enterprises: u64,
    /// Premium written (fen).
    pub written_fen: i64,
    /// Premium earned (fen).
    pub earned_fen: i64,
    /// Risk cover of the policies written (fen).
    pub cover_fen: i64,
    /// Claims reported.
    pub claims_reported: u64,
    /// Amounts claimed on the claims reported (fen).
    pub claimed_fen: i64,
    /// Claim payments made (fen).
    pub paid_fen: i64,
}

impl Measures {
    /// The figures in [`COLUMNS`] order as plain text (counts, amounts in yuan with two
    /// decimals, no grouping): for workbooks and the command line.
    pub fn plain_cells(&self) -> Vec<String> {
        let y = |f: i64| crate::Money::from_fen(f).to_yuan_string();
        vec![
            self.policies.to_string(),
            self.enterprises.to_string(),
            y(self.written_fen),
            y(self.earned_fen),
            y(self.cover_fen),
            self.claims_reported.to_string(),
            y(self.claimed_fen),
            y(self.paid_fen),
        ]
    }

    /// Adds another row's sums (not its distinct enterprises, which do not add up).
    pub fn add_sums(&mut self, o: &Measures) {
        self.policies += o.policies;
        self.written_fen += o.written_fen;
        self.earned_fen += o.earned_fen;
        self.cover_fen += o.cover_fen;
        self.claims_reported += o.claims_reported;
        self.claimed_fen += o.claimed_fen;
        self.paid_fen += o.paid_fen;
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        *self == Measures::default()
    }
}

/// The measure columns of every report, in order: code, Chinese and English heading.
pub const COLUMNS: &[(&str, &str, &str)] = &[
    ("policies", "承保保单数(件)", "Policies written"),
    ("enterprises", "承保企业数(家)", "Enterprises insured"),
    ("written", "保费收入(元)", "Premium written (yuan)"),
    ("earned", "已赚保费(元)", "Premium earned (yuan)"),
    ("cover", "风险保障金额(元)", "Risk cover (yuan)"),
    ("claims_reported", "报案件数(件)", "Claims reported"),
    ("claimed", "报案金额(元)", "Amount claimed (yuan)"),
    ("paid", "已决赔款(元)", "Claims paid (yuan)"),
];

/// The two parts of the statistical system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// 科技活动风险保险业务: the products of the four classes.
    Products,
    /// 科技活动主体保险业务: every policy of the zone's tech enterprises, by insured entity.
    Entities,
}

impl Part {
    /// Parses `1` / `2` (or `products` / `entities`).
    pub fn parse(input: &str) -> Result<Part, FieldError> {
        match input.trim() {
            "1" | "products" => Ok(Part::Products),
            "2" | "entities" => Ok(Part::Entities),
            v => Err(FieldError::new(
                "part",
                "unknown_value",
                format!("`{v}` 不是统计部分：第一部分填 1，第二部分填 2"),
                format!("`{v}` is not a part: 1 for Part 1, 2 for Part 2"),
            )),
        }
    }

    /// `1` or `2`.
    pub fn number(self) -> u8 {
        match self {
            Part::Products => 1,
            Part::Entities => 2,
        }
    }

    /// The title in Chinese.
    pub fn title_zh(self) -> &'static str {
        match self {
            Part::Products => "第一部分 科技活动风险保险业务（按产品统计）",
            Part::Entities => "第二部分 科技活动主体保险业务（按承保主体统计）",
        }
    }

    /// The title in English.
    pub fn title_en(self) -> &'static str {
        match self {
            Part::Products => "Part 1 — insurance of tech-activity risks (by product)",
            Part::Entities => "Part 2 — insurance of tech entities (by insured entity)",
        }
    }

    /// The rows a report of this part has unless another breakdown is asked for.
    pub fn default_breakdown(self) -> Breakdown {
        match self {
            Part::Products => Breakdown::Class,
            Part::Entities => Breakdown::Entity,
        }
    }
}

/// What a report's rows are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Breakdown {
    /// The four product classes, each with its product types.
    Class,
    /// The kind of insured entity ([`EntityCategory`]).
    Entity,
    /// The zone's 5+2 industries (an enterprise in two counts in both).
    Industry,
    /// The life-cycle stage.
    Stage,
    /// The zone's parks.
    Park,
    /// The insurers, head office with its branches.
    Insurer,
}

impl Breakdown {
    /// Every breakdown.
    pub const ALL: [Breakdown; 6] = [
        Breakdown::Class,
        Breakdown::Entity,
        Breakdown::Industry,
        Breakdown::Stage,
        Breakdown::Park,
        Breakdown::Insurer,
    ];

    /// The code in URLs and the API.
    pub fn code(self) -> &'static str {
        match self {
            Breakdown::Class => "class",
            Breakdown::Entity => "entity",
            Breakdown::Industry => "industry",
            Breakdown::Stage => "stage",
            Breakdown::Park => "park",
            Breakdown::Insurer => "insurer",
        }
    }

    /// Parses a code.
    pub fn parse(input: &str) -> Result<Breakdown, FieldError> {
        let v = input.trim();
        Breakdown::ALL.into_iter().find(|b| b.code() == v).ok_or_else(|| {
            let all: Vec<&str> = Breakdown::ALL.iter().map(|b| b.code()).collect();
            FieldError::new(
                "by",
                "unknown_value",
                format!("`{v}` 不是可用的分组，可选：{}", all.join("、")),
                format!("`{v}` is not a breakdown; choose one of {}", all.join(", ")),
            )
        })
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Breakdown::Class => "产品类别",
            Breakdown::Entity => "承保主体类型",
            Breakdown::Industry => "5+2 产业",
            Breakdown::Stage => "生命周期阶段",
            Breakdown::Park => "园区",
            Breakdown::Insurer => "保险机构",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            Breakdown::Class => "Product class",
            Breakdown::Entity => "Kind of insured entity",
            Breakdown::Industry => "5+2 industry",
            Breakdown::Stage => "Life-cycle stage",
            Breakdown::Park => "Park",
            Breakdown::Insurer => "Insurer",
        }
    }

    /// Whether an enterprise may count in more than one row, so the rows' sums exceed the total.
    pub fn overlaps(self) -> bool {
        self == Breakdown::Industry
    }
}

crate::org::string_enum! {
    /// The kind of insured tech entity Part 2 counts an enterprise under: the first it
    /// qualifies as, in this order, on the period's last day; each enterprise counts once.
    EntityCategory {
        Unicorn = "unicorn", "独角兽企业", "Unicorn";
        Gazelle = "gazelle", "瞪羚企业", "Gazelle";
        LittleGiant = "little_giant", "专精特新“小巨人”企业", "Little giant";
        Specialised = "specialised", "专精特新中小企业", "Specialised and innovative SME";
        HighTech = "high_tech", "高新技术企业", "High-tech enterprise";
        TechSme = "tech_sme", "科技型中小企业", "Tech SME";
        Other = "other", "其他科技企业", "Other tech enterprise";
    }
}

impl EntityCategory {
    /// The category of an enterprise holding these qualifications.
    pub fn of(held: &[QualificationKind]) -> EntityCategory {
        use QualificationKind as Q;
        let order = [
            (Q::Unicorn, EntityCategory::Unicorn),
            (Q::Gazelle, EntityCategory::Gazelle),
            (Q::LittleGiant, EntityCategory::LittleGiant),
            (Q::Specialised, EntityCategory::Specialised),
            (Q::HighTech, EntityCategory::HighTech),
            (Q::TechSme, EntityCategory::TechSme),
        ];
        order.into_iter().find(|(q, _)| held.contains(q)).map_or(EntityCategory::Other, |(_, c)| c)
    }
}

/// The note every report carries: whose layout it is.
pub const LAYOUT_NOTE_ZH: &str = "按《科技保险业务统计制度》口径整理，非官方表样";
/// The note in English.
pub const LAYOUT_NOTE_EN: &str =
    "Arranged by the definitions of the NFRA tech-insurance statistical system; not the official form";

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn periods_parse_and_bound() {
        let q = Period::parse(" 2025q3 ").unwrap_or(Period::Year(0));
        assert_eq!(q, Period::Quarter(2025, 3));
        assert_eq!((q.first_day(), q.last_day()), (date!(2025 - 07 - 01), date!(2025 - 09 - 30)));
        assert_eq!(Period::parse("2025-Q1").map(Period::last_day), Ok(date!(2025 - 03 - 31)));
        let y = Period::parse("2024").unwrap_or(Period::Year(0));
        assert_eq!((y.first_day(), y.last_day()), (date!(2024 - 01 - 01), date!(2024 - 12 - 31)));
        assert_eq!(Period::Quarter(2024, 1).label_zh(), "2024年第1季度");
        assert_eq!(Period::Quarter(2024, 4).code(), "2024Q4");
        for bad in ["", "25", "2025Q5", "2025Q0", "2025Q", "2025Q11", "1999", "2101", "二〇二五", "2025Q+1"]
        {
            assert_eq!(Period::parse(bad).map_err(|e| e.code), Err("period_format"), "{bad}");
        }
    }

    #[test]
    fn an_enterprise_counts_once_under_its_first_category() {
        use QualificationKind as Q;
        assert_eq!(EntityCategory::of(&[Q::TechSme, Q::HighTech]), EntityCategory::HighTech);
        assert_eq!(
            EntityCategory::of(&[Q::HighTech, Q::LittleGiant, Q::Specialised]),
            EntityCategory::LittleGiant
        );
        assert_eq!(EntityCategory::of(&[]), EntityCategory::Other);
        assert_eq!(Breakdown::parse("park"), Ok(Breakdown::Park));
        assert!(Breakdown::parse("colour").is_err());
        assert_eq!(Part::parse("2"), Ok(Part::Entities));
        assert!(Part::parse("3").is_err());
    }
}
