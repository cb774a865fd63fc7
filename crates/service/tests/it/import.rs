use crate::contract;
use crate::harness::*;
use kebao_service::import::{rows_from_table, ImportOptions};
use kebao_service::tabular::{self, Format, TableError};

fn csv(rows: &[String]) -> Vec<u8> {
    let mut s = String::from(
        "name,uscc,kind,industry_code,lifecycle_stage,parent_uscc,year,revenue_yuan,staff,rnd_staff\n",
    );
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s.into_bytes()
}

fn rows_of(bytes: &[u8]) -> Vec<kebao_service::import::ImportRow> {
    rows_from_table(&tabular::read(bytes, Format::Csv).unwrap()).unwrap()
}

contract!(import_is_all_or_nothing, |ctx: Ctx| async move {
    let before = state(&ctx).await;
    let file = csv(&[
        format!("甲,{},enterprise,C3976,rnd,,2025,1000000,20,5", uscc(401)),
        format!("乙,{},enterprise,C39X6,rnd,,2025,1000000,20,5", uscc(402)),
        format!("丙,{},enterprise,C3976,rnd,,2025,-5,20,5", uscc(403)),
        format!("丁,{},enterprise,C3976,rnd,,,,,", uscc(401)),
        format!("戊,{}X,enterprise,C3976,rnd,,,,,", uscc(404)),
    ]);
    let report = ctx
        .svc
        .import_orgs(&operator(), rows_of(&file), ImportOptions::default(), &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!(report.imported, 0);
    let got: Vec<(usize, &str, &str)> =
        report.problems.iter().map(|p| (p.row, p.column.as_str(), p.code)).collect();
    assert_eq!(
        got,
        [
            (3, "industry_code", "industry_code_shape"),
            (4, "revenue_yuan", "negative"),
            (5, "uscc", "duplicate_in_file"),
            (6, "uscc", "uscc_length")
        ]
    );
    assert_eq!(state(&ctx).await, before, "nothing imported");
    // Skipping bad rows imports the good one and reports the same problems.
    let skip = ImportOptions { skip_invalid: true };
    let report = ctx.svc.import_orgs(&operator(), rows_of(&file), skip, &mut |_, _| {}).await.unwrap();
    assert_eq!((report.imported, report.skipped, report.problems.len()), (1, 4, 4));
    assert_eq!(state(&ctx).await, (before.0 + 1, before.1 + 1));
    // Importing the same file again: the good row is now a duplicate of the registry.
    let report = ctx
        .svc
        .import_orgs(&operator(), rows_of(&file), ImportOptions::default(), &mut |_, _| {})
        .await
        .unwrap();
    assert!(report.problems.iter().any(|p| p.row == 2 && p.code == "duplicate"));
});

contract!(import_resolves_branches_in_file_order, |ctx: Ctx| async move {
    let file = csv(&[
        format!("总行,{},bank,,,,,,,", uscc(501)),
        format!("分行,{},bank,,,{},,,,", uscc(502), uscc(501)),
        format!("支行,{},bank,,,{},,,,", uscc(503), uscc(502)),
    ]);
    let mut calls = Vec::new();
    let report = ctx
        .svc
        .import_orgs(&operator(), rows_of(&file), ImportOptions::default(), &mut |d, t| calls.push((d, t)))
        .await
        .unwrap();
    assert_eq!(report.imported, 3, "{:?}", report.problems);
    assert_eq!(calls.last(), Some(&(3, 3)));
    // One event per organisation, chained, and the head row follows the log.
    let v = ctx.svc.audit_verify(&operator(), None, &mut |_, _| {}).await.unwrap();
    assert!(matches!(v, kebao_service::audit::Verification::Sound(h) if h.count == 3), "{v:?}");
    // Export → import into a fresh zone round-trips (xlsx).
    let (table, _) = ctx.svc.export_orgs(&operator(), &Default::default(), true).await.unwrap();
    let bytes = tabular::write_xlsx(&table, "orgs").unwrap();
    let back = rows_from_table(&tabular::read(&bytes, Format::Xlsx).unwrap()).unwrap();
    assert_eq!(back.len(), 3);
    assert_eq!(back[2].parent_uscc, uscc(502));
    // A single command after the bulk one links on.
    ctx.svc.create_org(&operator(), &org_input("之后", &uscc(504), "enterprise")).await.unwrap();
    let v = ctx.svc.audit_verify(&operator(), None, &mut |_, _| {}).await.unwrap();
    assert!(matches!(v, kebao_service::audit::Verification::Sound(h) if h.count == 4), "{v:?}");
});

#[test]
fn missing_column_fails_the_file() {
    let t = tabular::read("name,kind\n甲,enterprise\n".as_bytes(), Format::Csv).unwrap();
    assert_eq!(rows_from_table(&t).err(), Some(TableError::MissingColumn("uscc".into())));
    // Chinese headers are accepted.
    let t = tabular::read("名称,统一社会信用代码,类型\n甲,x,enterprise\n".as_bytes(), Format::Csv).unwrap();
    assert_eq!(rows_from_table(&t).unwrap().len(), 1);
}
