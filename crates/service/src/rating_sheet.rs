//! The rating plan as an `.xlsx` template: one row per item on the first sheet (the basis,
//! the base rate, premiums, bounds, underwriting rules, each band, each factor), a guide on
//! the second. [`write`] fills it from a plan; [`read`] gives the [`PlanFields`] back, which
//! [`PlanFields::parse`] checks as it checks the form, so a plan written and read back is
//! the same plan. Cells are matched by code or by either label, never by position alone.

use crate::tabular::{self, Format, Table};
use kebao_domain::rating::{RateBasis, RatingVariable};
use kebao_domain::rating_fields::{
    known_levels, Level, PlanFields, RowFields, TableFields, BAND_SETS, MAX_ROWS,
};
use kebao_domain::{FieldError, IndustryMap, Invalid};

/// The columns of the first sheet: (Chinese, English).
const COLUMNS: [(&str, &str); 5] = [
    ("类别", "Item"),
    ("变量", "Variable"),
    ("水平或分档", "Level or band"),
    ("数值", "Value"),
    ("说明", "Note"),
];

/// The items of the plan: (code, Chinese, English, note in Chinese, note in English).
const ITEMS: [(&str, &str, &str, &str, &str); 12] = [
    (
        "basis",
        "计费基础",
        "Basis",
        "责任限额、保险金额、营业收入或固定基础保费",
        "limit, sum insured, revenue or a flat base premium",
    ),
    (
        "base",
        "基础费率",
        "Base rate",
        "每元计费基础的费率（0.008 即 0.8%）；固定基础保费时为元",
        "per yuan of the basis (0.008 is 0.8 %); yuan for a flat base premium",
    ),
    (
        "min_premium_yuan",
        "最低保费（元）",
        "Minimum premium (yuan)",
        "整数元；留空为 0",
        "whole yuan; blank is 0",
    ),
    (
        "max_premium_yuan",
        "最高保费（元）",
        "Maximum premium (yuan)",
        "整数元；留空为不设上限",
        "whole yuan; blank is no maximum",
    ),
    ("factor_floor", "系数乘积下限", "Factor floor", "留空为不设下限", "blank is no floor"),
    ("factor_cap", "系数乘积上限", "Factor cap", "留空为不设上限", "blank is no cap"),
    (
        "auto_accept_max_limit_yuan",
        "自动承保限额上限（元）",
        "Auto-accept up to a limit of (yuan)",
        "留空为全部人工核保",
        "blank: an underwriter sees every application",
    ),
    (
        "decline_claims_3y",
        "拒保出险次数（近三年）",
        "Decline at claims in three years",
        "留空为不因出险拒保",
        "blank: claims never decline",
    ),
    ("refer_if_claims", "有出险即转人工核保", "Refer if any claim", "是 或 否", "yes or no"),
    ("quote_valid_days", "报价有效期（天）", "Quote valid for (days)", "留空为 30 天", "blank: 30 days"),
    (
        "band",
        "分档",
        "Band",
        "数值为分档上限（元，含）；最后一档可留空",
        "the value is the band's upper bound (yuan, inclusive); the last may be blank",
    ),
    (
        "factor",
        "系数",
        "Factor",
        "水平填「其他」为未列出水平的系数",
        "level “other” gives the factor of levels not listed",
    ),
];

const OTHER: (&str, &str) = ("其他", "Other");

fn item(code: &str) -> (&'static str, &'static str, &'static str, &'static str, &'static str) {
    ITEMS.iter().copied().find(|i| i.0 == code).unwrap_or(("", "", "", "", ""))
}

fn both(zh: &str, en: &str) -> String {
    format!("{zh} {en}")
}

/// Whether a cell names something by its code, Chinese label, English label or both.
fn names(cell: &str, code: &str, zh: &str, en: &str) -> bool {
    let c = cell.trim();
    c == code || c == zh || c.eq_ignore_ascii_case(en) || c == both(zh, en)
}

fn variable_of(cell: &str) -> Option<RatingVariable> {
    RatingVariable::ALL.iter().copied().find(|v| names(cell, v.code(), v.label_zh(), v.label_en()))
}

/// A known level shown by its label; a level the zone does not know, as filed.
fn level_label(levels: &[Level], code: &str) -> String {
    levels.iter().find(|l| l.code == code).map_or_else(|| code.to_owned(), |l| both(&l.label_zh, &l.label_en))
}

fn level_code(levels: &[Level], cell: &str) -> String {
    let c = cell.trim();
    levels
        .iter()
        .find(|l| names(c, &l.code, &l.label_zh, &l.label_en))
        .map_or_else(|| c.to_owned(), |l| l.code.clone())
}

/// Writes the template with a plan's fields (blank fields give a blank template).
pub fn write(f: &PlanFields, industries: &IndustryMap) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format as XFormat, Workbook};
    let mut rows: Vec<[String; 5]> = Vec::new();
    let mut push = |code: &str, variable: String, level: String, value: String, note: Option<String>| {
        let (_, zh, en, nzh, nen) = item(code);
        rows.push([both(zh, en), variable, level, value, note.unwrap_or_else(|| format!("{nzh}；{nen}"))]);
    };
    let basis =
        RateBasis::from_code(&f.basis).map_or_else(|| f.basis.clone(), |b| both(b.label_zh(), b.label_en()));
    push("basis", String::new(), String::new(), basis, None);
    for (code, v) in [
        ("base", &f.base),
        ("min_premium_yuan", &f.min_premium_yuan),
        ("max_premium_yuan", &f.max_premium_yuan),
        ("factor_floor", &f.factor_floor),
        ("factor_cap", &f.factor_cap),
        ("auto_accept_max_limit_yuan", &f.auto_accept_max_limit_yuan),
        ("decline_claims_3y", &f.decline_claims_3y),
        ("quote_valid_days", &f.quote_valid_days),
    ] {
        push(code, String::new(), String::new(), v.clone(), None);
    }
    let yes_no = if f.refer_if_claims { both("是", "Yes") } else { both("否", "No") };
    push("refer_if_claims", String::new(), String::new(), yes_no, None);
    for (set, var) in BAND_SETS {
        for b in f.bands(set) {
            push("band", both(var.label_zh(), var.label_en()), b.key.clone(), b.value.clone(), None);
        }
    }
    for t in &f.tables {
        let levels = known_levels(t.variable, industries);
        let var = both(t.variable.label_zh(), t.variable.label_en());
        for r in &t.rows {
            push("factor", var.clone(), level_label(&levels, &r.key), r.value.clone(), Some(String::new()));
        }
        if !t.default.trim().is_empty() {
            let (zh, en) = OTHER;
            let note = Some("未列出水平的系数；factor of levels not listed".to_owned());
            push("factor", var.clone(), both(zh, en), t.default.clone(), note);
        }
    }
    let mut book = Workbook::new();
    let bold = XFormat::new().set_bold();
    let e = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let sheet = book.add_worksheet();
    sheet.set_name("费率表 Rating plan").map_err(e)?;
    for (c, (zh, en)) in (0u16..).zip(COLUMNS) {
        sheet.write_string_with_format(0, c, both(zh, en), &bold).map_err(e)?;
        sheet.set_column_width(c, if c == 4 { 60 } else { 24 }).map_err(e)?;
    }
    for (r, row) in (1u32..).zip(&rows) {
        for (c, v) in (0u16..).zip(row) {
            sheet.write_string(r, c, v).map_err(e)?;
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(e)?;
    let guide = book.add_worksheet();
    guide.set_name("说明 Guide").map_err(e)?;
    guide.set_column_width(0, 40).map_err(e)?;
    guide.set_column_width(1, 60).map_err(e)?;
    let mut lines: Vec<(String, String)> = vec![
        ("填写说明".into(), "How to fill in the template".into()),
        (
            "每行一项：类别、变量、水平或分档、数值。可增删「分档」「系数」行；其余各项各一行。".into(),
            "One item a row: item, variable, level or band, value. Add or remove band and factor rows; the other items have one row each.".into(),
        ),
        (
            "在产品备案页面上传填好的模板，即按所选生效日备案新的费率表版本。".into(),
            "Upload the filled template on the filing's page to file it as a new plan version in force from the date chosen.".into(),
        ),
        (String::new(), String::new()),
        ("类别".into(), "Items".into()),
    ];
    lines.extend(ITEMS.iter().map(|(_, zh, en, nzh, nen)| (format!("{zh}：{nzh}"), format!("{en}: {nen}"))));
    lines.push((String::new(), String::new()));
    lines.push(("计费基础".into(), "Bases".into()));
    lines.extend(RateBasis::ALL.iter().map(|b| (b.label_zh().to_owned(), b.label_en().to_owned())));
    lines.push((String::new(), String::new()));
    lines.push(("变量及其水平".into(), "Variables and their levels".into()));
    for v in RatingVariable::ALL {
        let levels = known_levels(*v, industries);
        let (zh, en) = if levels.is_empty() {
            ("水平为本费率表的分档名称".to_owned(), "levels are the plan's own band names".to_owned())
        } else {
            (
                levels.iter().map(|l| l.label_zh.as_str()).collect::<Vec<_>>().join("、"),
                levels.iter().map(|l| l.label_en.as_str()).collect::<Vec<_>>().join(", "),
            )
        };
        lines.push((format!("{}：{zh}", v.label_zh()), format!("{}: {en}", v.label_en())));
    }
    for (r, (zh, en)) in (0u32..).zip(&lines) {
        guide.write_string(r, 0, zh).map_err(e)?;
        guide.write_string(r, 1, en).map_err(e)?;
    }
    book.save_to_buffer().map_err(e)
}

/// An error about the upload as a whole.
fn upload_error(code: &'static str, zh: String, en: String) -> Invalid {
    Invalid(vec![FieldError::new("template", code, zh, en)])
}

/// Reads a filled template: the plan's fields, and for each field the sheet's row it came
/// from (1-based, as Excel numbers them), to name the row of a problem. Only an `.xlsx`
/// file is read, within [`tabular`]'s limits; unknown items and variables are named by row.
pub fn read(bytes: &[u8], industries: &IndustryMap) -> Result<(PlanFields, Vec<(String, usize)>), Invalid> {
    if Format::sniff(bytes) != Format::Xlsx {
        return Err(upload_error(
            "not_xlsx",
            "文件不是 Excel（.xlsx）费率表模板，请先下载模板再填写上传".into(),
            "the file is not an Excel (.xlsx) rating template: download the template, fill it in and upload it".into(),
        ));
    }
    let t: Table = tabular::read(bytes, Format::Xlsx)
        .map_err(|e| upload_error(e.code(), e.message_zh(), e.to_string()))?;
    let col = |i: usize| {
        let (zh, en) = COLUMNS.get(i).copied().unwrap_or(("", ""));
        t.column(&[zh, en, &both(zh, en)])
    };
    let (c_item, c_var, c_level, c_value) = (col(0), col(1), col(2), col(3));
    if c_item.is_none() || c_value.is_none() {
        return Err(upload_error(
            "not_a_rating_template",
            "表头不是费率表模板的表头（应有「类别」「数值」列）".into(),
            "the header row is not the rating template's (it needs the Item and Value columns)".into(),
        ));
    }
    let mut f = PlanFields::default();
    let mut at: Vec<(String, usize)> = Vec::new();
    let mut errs = Vec::new();
    for i in 0..t.rows.len() {
        let row = i + 2;
        let (item_cell, var_cell) = (t.cell(i, c_item), t.cell(i, c_var));
        let (level_cell, value) = (t.cell(i, c_level), t.cell(i, c_value).trim().to_owned());
        if item_cell.trim().is_empty() {
            continue;
        }
        let Some(code) = ITEMS.iter().find(|(c, zh, en, _, _)| names(item_cell, c, zh, en)).map(|x| x.0)
        else {
            errs.push(FieldError::new(
                "template",
                "unknown_item",
                format!("第 {row} 行：类别 `{}` 不存在", item_cell.trim()),
                format!("row {row}: item `{}` does not exist", item_cell.trim()),
            ));
            continue;
        };
        let scalar = |f: &mut PlanFields, at: &mut Vec<(String, usize)>, field: &str, v: String| {
            at.push((field.to_owned(), row));
            match field {
                "basis" => f.basis = v,
                "base" => f.base = v,
                "min_premium_yuan" => f.min_premium_yuan = v,
                "max_premium_yuan" => f.max_premium_yuan = v,
                "factor_floor" => f.factor_floor = v,
                "factor_cap" => f.factor_cap = v,
                "underwriting.auto_accept_max_limit_yuan" => f.auto_accept_max_limit_yuan = v,
                "underwriting.decline_claims_3y" => f.decline_claims_3y = v,
                "quote_valid_days" => f.quote_valid_days = v,
                _ => {}
            }
        };
        match code {
            "basis" => {
                let v = RateBasis::ALL
                    .iter()
                    .find(|b| names(&value, b.code(), b.label_zh(), b.label_en()))
                    .map_or(value.clone(), |b| b.code().to_owned());
                scalar(&mut f, &mut at, "basis", v);
            }
            "auto_accept_max_limit_yuan" | "decline_claims_3y" => {
                scalar(&mut f, &mut at, &format!("underwriting.{code}"), value)
            }
            "quote_valid_days" => scalar(&mut f, &mut at, "quote_valid_days", value),
            "refer_if_claims" => {
                let v = value.to_lowercase();
                f.refer_if_claims = matches!(v.as_str(), "是" | "yes" | "是 yes" | "true" | "1" | "y");
                if !f.refer_if_claims
                    && !matches!(v.as_str(), "否" | "no" | "否 no" | "false" | "0" | "n" | "")
                {
                    errs.push(FieldError::new(
                        "template",
                        "yes_or_no",
                        format!("第 {row} 行：请填「是」或「否」，而不是 `{value}`"),
                        format!("row {row}: write yes or no, not `{value}`"),
                    ));
                }
            }
            "band" | "factor" => {
                let Some(var) = variable_of(var_cell) else {
                    errs.push(FieldError::new(
                        "template",
                        "unknown_variable",
                        format!("第 {row} 行：变量 `{}` 不存在", var_cell.trim()),
                        format!("row {row}: variable `{}` does not exist", var_cell.trim()),
                    ));
                    continue;
                };
                if code == "band" {
                    let Some((set, _)) = BAND_SETS.iter().find(|(_, v)| *v == var) else {
                        errs.push(FieldError::new(
                            "template",
                            "not_banded",
                            format!("第 {row} 行：「{}」没有分档", var.label_zh()),
                            format!("row {row}: {} has no bands", var.label_en()),
                        ));
                        continue;
                    };
                    if let Some(rows) = f.bands_mut(set) {
                        at.push((format!("{set}.{}", rows.len()), row));
                        rows.push(RowFields::new(level_cell.trim(), value));
                    }
                    continue;
                }
                let levels = known_levels(var, industries);
                let n = f.tables.len();
                let ti = f.tables.iter().position(|t| t.variable == var).unwrap_or(n);
                if ti == n {
                    f.tables.push(TableFields { variable: var, default: String::new(), rows: Vec::new() });
                }
                let Some(table) = f.tables.get_mut(ti) else { continue };
                let field = format!("factors.{}", var.code());
                if names(level_cell, "*", OTHER.0, OTHER.1) {
                    at.push((format!("{field}.default"), row));
                    table.default = value;
                } else {
                    at.push((format!("{field}.{}", table.rows.len()), row));
                    table.rows.push(RowFields::new(level_code(&levels, level_cell), value));
                }
            }
            other => scalar(&mut f, &mut at, other, value),
        }
        if f.tables.iter().any(|t| t.rows.len() > MAX_ROWS)
            || BAND_SETS.iter().any(|(s, _)| f.bands(s).len() > MAX_ROWS)
        {
            errs.push(FieldError::new(
                "template",
                "too_many_rows",
                format!("一张系数表或一组分档最多 {MAX_ROWS} 行"),
                format!("a factor table or a band set has at most {MAX_ROWS} rows"),
            ));
            break;
        }
    }
    if errs.is_empty() {
        Ok((f, at))
    } else {
        Err(Invalid(errs))
    }
}

/// A problem with the fields read from a template, named by the sheet's row it came from
/// (a table's or a band set's problem, by the row of its first entry).
pub fn locate(e: FieldError, at: &[(String, usize)]) -> FieldError {
    let row = at
        .iter()
        .find(|(f, _)| *f == e.field)
        .or_else(|| at.iter().find(|(f, _)| f.starts_with(&format!("{}.", e.field))))
        .map(|(_, r)| *r);
    let (zh, en) = match row {
        Some(r) => (format!("第 {r} 行：{}", e.message_zh), format!("row {r}: {}", e.message_en)),
        None => (e.message_zh.clone(), e.message_en.clone()),
    };
    FieldError::new("template", e.code, zh, en)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kebao_domain::policy::UnderwritingRules;
    use kebao_domain::rating::{Band, FactorTable, PlanDoc};

    fn industries() -> IndustryMap {
        IndustryMap::from_toml(crate::CATALOGUE).unwrap()
    }

    fn plan() -> PlanDoc {
        PlanDoc {
            basis: RateBasis::Limit,
            base: "0.008".into(),
            size_bands: vec![],
            limit_bands: vec![
                Band { key: "low".into(), up_to_yuan: Some(1_000_000) },
                Band { key: "high".into(), up_to_yuan: None },
            ],
            deductible_bands: vec![],
            factors: vec![
                FactorTable {
                    variable: RatingVariable::ClaimsHistory,
                    levels: vec![("0".into(), "0.95".into()), ("2+".into(), "1.5".into())],
                    default: Some("1.2".into()),
                },
                FactorTable {
                    variable: RatingVariable::LimitBand,
                    levels: vec![("low".into(), "1".into()), ("high".into(), "0.8".into())],
                    default: None,
                },
                FactorTable {
                    variable: RatingVariable::Stage,
                    levels: vec![("rnd".into(), "1.1".into())],
                    default: Some("1".into()),
                },
            ],
            min_premium_yuan: 2_000,
            max_premium_yuan: Some(500_000),
            factor_floor: Some("0.5".into()),
            factor_cap: None,
            underwriting: UnderwritingRules {
                auto_accept_max_limit_yuan: Some(3_000_000),
                decline_claims_3y: None,
                refer_if_claims: true,
            },
            quote_valid_days: None,
        }
    }

    #[test]
    fn a_plan_written_and_read_back_is_the_same_plan() {
        let ind = industries();
        let bytes = write(&PlanFields::from_doc(&plan()), &ind).unwrap();
        let (fields, _) = read(&bytes, &ind).unwrap();
        assert_eq!(fields.parse(), Ok(plan()));
    }

    #[test]
    fn other_files_and_unknown_rows_are_named() {
        let ind = industries();
        let e = read(b"basis,limit\n", &ind).unwrap_err();
        assert_eq!(e.0[0].code, "not_xlsx");
        let e = read(b"PK\x03\x04not really a zip", &ind).unwrap_err();
        assert_eq!(e.0[0].code, "xlsx_unreadable");
        let t = Table {
            headers: vec![
                "类别 Item".into(),
                "变量 Variable".into(),
                "水平或分档 Level or band".into(),
                "数值 Value".into(),
            ],
            rows: vec![
                vec!["费用".into(), String::new(), String::new(), "1".into()],
                vec!["系数".into(), "月相".into(), "满月".into(), "1".into()],
                vec!["基础费率".into(), String::new(), String::new(), "abc".into()],
            ],
        };
        let bytes = tabular::write_xlsx(&t, "x").unwrap();
        let e = read(&bytes, &ind).unwrap_err();
        let got: Vec<(&str, &str)> = e.0.iter().map(|e| (e.code, e.message_en.as_str())).collect();
        assert_eq!(
            got,
            vec![
                ("unknown_item", "row 2: item `费用` does not exist"),
                ("unknown_variable", "row 3: variable `月相` does not exist"),
            ]
        );
    }
}
