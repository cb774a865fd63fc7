//! Consent, credit reports, the authorisation matrix and the verifiable log (issue 9).

use crate::contract;
use crate::harness::*;
use kebao_domain::consent::{Consent, ConsentInput, ConsentKind, DataClass, DataScope, Purpose};
use kebao_domain::user::Role;
use kebao_service::authz::Actor;
use kebao_service::consent::{FileSource, RecordInput};
use kebao_service::ServiceError;

const PDF: &[u8] = b"%PDF-1.7 signed authorisation";
const DAY_US: i64 = 86_400_000_000;

fn input(grantee: &str, scopes: &[&str], purpose: &str, expires: &str) -> ConsentInput {
    ConsentInput {
        grantee_id: grantee.into(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        purpose: purpose.into(),
        valid_from: "2026-11-28".into(),
        expires_on: expires.into(),
        signer_name: "张伟".into(),
        signer_title: "法定代表人".into(),
        ..Default::default()
    }
}

struct Source(&'static str, Vec<RecordInput>);

impl kebao_service::consent::CreditSource for Source {
    fn source(&self) -> &str {
        self.0
    }
    fn records(&self) -> Result<Vec<RecordInput>, String> {
        Ok(self.1.clone())
    }
}

fn rec(uscc: &str, kind: &str, title: &str, person: &str) -> RecordInput {
    RecordInput {
        uscc: uscc.into(),
        kind: kind.into(),
        title: title.into(),
        detail: "详情".into(),
        occurred_on: "2025-06-01".into(),
        person_name: person.into(),
        ended_on: String::new(),
    }
}

fn allowed(r: &kebao_service::consent::CreditReport) -> Vec<(DataScope, DataClass)> {
    r.sections.iter().filter(|s| s.check.allowed).map(|s| (s.scope, s.class)).collect()
}

contract!(a_consent_opens_exactly_its_scopes_for_its_purpose, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    let op = operator();
    let ent_uscc = uscc(1);
    ctx.svc
        .import_external(
            &op,
            &Source(
                "provincial_credit",
                vec![
                    rec(&ent_uscc, "administrative_penalty", "环保处罚", ""),
                    rec(&ent_uscc, "loan", "流动资金贷款", ""),
                ],
            ),
        )
        .await
        .unwrap();
    ctx.svc
        .import_external(
            &op,
            &Source(
                "personal_credit",
                vec![
                    rec(&ent_uscc, "person_credit_record", "信用卡逾期", "张伟"),
                    rec(&ent_uscc, "person_credit_record", "房贷", "李娜"),
                ],
            ),
        )
        .await
        .unwrap();
    // No consent: nothing, and the attempt is logged.
    let before = state(&ctx).await.1;
    let e = ctx.svc.credit_report(&z.banker, &z.enterprise, Purpose::LoanReview).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Forbidden { reason, .. } if reason.contains("no consent")), "{e:?}");
    assert_eq!(state(&ctx).await.1, before + 1);
    // The enterprise consents to profile and loans for a loan review.
    let c = ctx
        .svc
        .grant_consent(
            &z.ent_admin,
            &z.enterprise,
            &input(&z.bank, &["profile", "loans"], "loan_review", "2027-05-28"),
            "授权书.pdf",
            PDF,
        )
        .await
        .unwrap();
    let r = ctx.svc.credit_report(&z.banker, &z.enterprise, Purpose::LoanReview).await.unwrap();
    assert_eq!(
        allowed(&r),
        vec![(DataScope::Profile, DataClass::Public), (DataScope::Loans, DataClass::Enterprise)]
    );
    let text = format!("{:?}", r.sections);
    assert!(text.contains("环保处罚") && text.contains("流动资金贷款"));
    assert!(!text.contains("信用卡逾期") && !text.contains("营业收入"), "only the allowed scopes are loaded");
    let facts = r.sections.iter().find(|s| s.scope == DataScope::FinancialFacts).unwrap();
    assert!(facts.fields.is_empty() && facts.check.reason_en.contains("does not cover"));
    // The read is an event naming the consent; the enterprise sees it in its access log.
    let log = ctx.svc.access_log(&z.ent_admin, &z.enterprise).await.unwrap();
    assert_eq!(log[0].event.seq, r.event_seq);
    assert_eq!(log[0].consent_id.as_deref(), Some(c.consent.id.as_str()));
    assert_eq!((log[0].purpose.as_str(), log[0].outcome.as_str()), ("loan_review", "read"));
    assert_eq!(log[1].outcome, "refused");
    // The bank cannot see another enterprise's access log.
    assert!(ctx.svc.access_log(&z.banker, &z.enterprise).await.is_err());
    // Another purpose gives nothing.
    let e = ctx.svc.credit_report(&z.banker, &z.enterprise, Purpose::Underwriting).await.unwrap_err();
    assert!(
        matches!(&e, ServiceError::Forbidden { reason, .. } if reason.contains("not for this purpose")),
        "{e:?}"
    );
    // The org page shows facts only under a consent covering them.
    assert!(ctx
        .svc
        .get_org_for(&z.banker, &z.enterprise, Some(Purpose::LoanReview))
        .await
        .unwrap()
        .facts
        .is_none());
    // Personal data: the enterprise's consent cannot include it; a person's own consent opens
    // only that person's records.
    let mut bad = input(&z.bank, &["personal"], "loan_review", "2027-05-28");
    let before = state(&ctx).await.1;
    let e = ctx.svc.grant_consent(&z.ent_admin, &z.enterprise, &bad, "a.pdf", PDF).await.unwrap_err();
    assert!(
        matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "personal_needs_separate_consent"),
        "{e:?}"
    );
    bad.kind = "personal".into();
    bad.person_name = "张伟".into();
    bad.person_role = "legal_representative".into();
    // A person's data goes to a new recipient only after the platform's impact assessment.
    match ctx.svc.grant_consent(&z.ent_admin, &z.enterprise, &bad, "张伟同意书.pdf", PDF).await {
        Err(ServiceError::Conflict(f)) => {
            assert_eq!((f.field.as_str(), f.code), ("grantee_id", "no_impact_assessment"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(state(&ctx).await.1, before);
    assess_recipient(&ctx.svc, &z.bank).await;
    ctx.svc.grant_consent(&z.ent_admin, &z.enterprise, &bad, "张伟同意书.pdf", PDF).await.unwrap();
    assert_eq!(state(&ctx).await.1, before + 2);
    let r = ctx.svc.credit_report(&z.banker, &z.enterprise, Purpose::LoanReview).await.unwrap();
    let text = format!("{:?}", r.sections);
    assert!(text.contains("信用卡逾期") && !text.contains("房贷"), "{text}");
    // Health data never appears, even for the enterprise itself or the zone.
    for a in [&z.ent_admin, &z.reviewer, &z.banker] {
        let r = ctx.svc.credit_report(a, &z.enterprise, Purpose::LoanReview).await.unwrap();
        let s = r.sections.iter().find(|s| s.class == DataClass::SensitivePersonal).unwrap();
        assert!(!s.check.allowed && s.fields.is_empty());
        assert_eq!(s.check.policies, vec!["sensitive-never".to_owned()]);
    }
    // Revoking stops reads at once.
    ctx.svc.revoke_consent(&z.ent_admin, &c.consent.id).await.unwrap();
    let r = ctx.svc.credit_report(&z.banker, &z.enterprise, Purpose::LoanReview).await.unwrap();
    assert_eq!(allowed(&r), vec![(DataScope::Personal, DataClass::Personal)]);
    let profile = r.sections.iter().find(|s| s.scope == DataScope::Profile).unwrap();
    assert!(profile.check.reason_en.contains("revoked"), "{:?}", profile.check);
    let e = ctx.svc.revoke_consent(&z.ent_admin, &c.consent.id).await.unwrap_err();
    assert!(matches!(e, ServiceError::Conflict(_)));
    // Expiry.
    let c2 = ctx
        .svc
        .grant_consent(
            &z.ent_admin,
            &z.enterprise,
            &input(&z.bank, &["ip"], "loan_review", "2026-12-01"),
            "b.pdf",
            PDF,
        )
        .await
        .unwrap();
    assert!(
        ctx.svc
            .check_read(
                &z.banker,
                &org_of(&ctx, &z.enterprise).await,
                DataScope::Ip,
                DataClass::Public,
                Some(Purpose::LoanReview)
            )
            .await
            .unwrap()
            .allowed
    );
    ctx.clock.advance_us(10 * DAY_US);
    let d = ctx
        .svc
        .check_read(
            &z.banker,
            &org_of(&ctx, &z.enterprise).await,
            DataScope::Ip,
            DataClass::Public,
            Some(Purpose::LoanReview),
        )
        .await
        .unwrap();
    assert!(
        !d.allowed
            && d.reason_en.contains("expired")
            && d.consent_id.as_deref() == Some(c2.consent.id.as_str())
    );
});

async fn org_of(ctx: &Ctx, id: &str) -> kebao_domain::Organisation {
    ctx.svc.get_org(&operator(), id).await.unwrap().org
}

contract!(bad_consents_and_imports_change_nothing, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    let before = state(&ctx).await.1;
    let good = input(&z.bank, &["profile"], "loan_review", "2027-05-28");
    // Only the enterprise's admin grants.
    for a in [&z.banker, &z.reviewer] {
        let e = ctx.svc.grant_consent(a, &z.enterprise, &good, "a.pdf", PDF).await.unwrap_err();
        assert!(matches!(e, ServiceError::Forbidden { .. }), "{e:?}");
    }
    // A consent to another enterprise, without evidence, for an unknown purpose.
    let to_self = input(&z.enterprise, &["profile"], "loan_review", "2027-05-28");
    let e = ctx.svc.grant_consent(&z.ent_admin, &z.enterprise, &to_self, "a.pdf", PDF).await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "grantee_kind"), "{e:?}");
    let e = ctx.svc.grant_consent(&z.ent_admin, &z.enterprise, &good, "a.pdf", b"").await.unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].field == "evidence"), "{e:?}");
    let e = ctx
        .svc
        .grant_consent(
            &z.ent_admin,
            &z.enterprise,
            &input(&z.bank, &["profile"], "marketing", "2027-05-28"),
            "a.pdf",
            PDF,
        )
        .await
        .unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "unknown_purpose"), "{e:?}");
    // Imports: health data is refused; one bad row refuses the whole file.
    let op = operator();
    let e = ctx
        .svc
        .import_external(
            &op,
            &Source("personal_credit", vec![rec(&uscc(1), "health_record", "体检", "张伟")]),
        )
        .await
        .unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(i) if i.0[0].code == "sensitive_refused"), "{e:?}");
    let e = ctx
        .svc
        .import_external(
            &op,
            &Source(
                "provincial_credit",
                vec![rec(&uscc(1), "honour", "守合同重信用", ""), rec(&uscc(999), "honour", "x", "")],
            ),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ServiceError::Invalid(i) if i.0.len() == 1 && i.0[0].code == "unknown_uscc"),
        "{e:?}"
    );
    let e = ctx.svc.import_external(&z.banker, &Source("tax", vec![])).await.unwrap_err();
    assert!(matches!(e, ServiceError::Forbidden { .. }));
    assert_eq!(state(&ctx).await.1, before);
    // A file source reads a table.
    let t = kebao_service::tabular::Table {
        headers: vec!["uscc".into(), "kind".into(), "title".into(), "occurred_on".into()],
        rows: vec![vec![uscc(1), "tax_rating".into(), "2025 年度纳税信用 A 级".into(), "2026-04-01".into()]],
    };
    let n = ctx.svc.import_external(&op, &FileSource { source: "tax".into(), table: t }).await.unwrap();
    assert_eq!(n, 1);
});

contract!(the_authorisation_matrix_matches_the_reviewed_oracle, |ctx: Ctx| async move {
    let svc = &ctx.svc;
    let op = operator();
    let subject =
        svc.create_org(&op, &org_input("被查询科技有限公司", &uscc(500), "enterprise")).await.unwrap();
    let today = svc.today();
    let csv = include_str!("data/authz_matrix.csv");
    let kind_of = |role: Role| match role {
        Role::EnterpriseAdmin | Role::EnterpriseStaff => "enterprise",
        Role::OrgAdmin | Role::BankOfficer => "bank",
        Role::ProductFiler | Role::Underwriter | Role::ClaimsHandler => "insurer",
        Role::Mediator => "service_body",
        _ => "government",
    };
    let mut n = 600;
    let mut actors: std::collections::HashMap<(String, String), (Actor, String)> = Default::default();
    let mut unexpected_allows = Vec::new();
    let mut unexpected_denies = Vec::new();
    let mut rows = 0;
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (role, scope, relation, consent, expected) = (f[0], f[1], f[2], f[3], f[4]);
        let r = Role::from_code(role).unwrap();
        let sc = DataScope::from_code(scope).unwrap();
        let class = kebao_domain::consent::REPORT_FIELDS.iter().find(|x| x.scope == sc).unwrap().class;
        let key = (role.to_owned(), format!("{relation}/{consent}"));
        if !actors.contains_key(&key) {
            n += 1;
            let org =
                svc.create_org(&op, &org_input(&format!("机构{n}"), &uscc(n), kind_of(r))).await.unwrap();
            let actor = user(svc, &org.id, &format!("u{n}"), &[r]).await;
            if relation == "other" && consent != "none" {
                for kind in [ConsentKind::Enterprise, ConsentKind::Personal] {
                    let scopes = if kind == ConsentKind::Personal {
                        vec![DataScope::Personal]
                    } else {
                        DataScope::ALL.iter().copied().filter(|s| *s != DataScope::Personal).collect()
                    };
                    let c = Consent {
                        id: format!("c{n}{}", kind.code()),
                        enterprise_id: subject.id.clone(),
                        grantee_id: org.id.clone(),
                        kind,
                        scopes,
                        purpose: if consent == "wrong_purpose" {
                            Purpose::Underwriting
                        } else {
                            Purpose::LoanReview
                        },
                        valid_from: today - time::Duration::days(30),
                        expires_on: if consent == "expired" {
                            today - time::Duration::days(1)
                        } else {
                            today + time::Duration::days(30)
                        },
                        signer_name: "张伟".into(),
                        signer_title: String::new(),
                        person_name: (kind == ConsentKind::Personal).then(|| "张伟".to_owned()),
                        person_role: (kind == ConsentKind::Personal)
                            .then_some(kebao_domain::consent::PersonRole::LegalRepresentative),
                        evidence_sha256: "e".repeat(64),
                        evidence_document_id: "d".into(),
                        revoked_at_us: (consent == "revoked").then_some(1),
                        created_at_us: 0,
                        created_by: "test".into(),
                    };
                    let mut tx = ctx.store.begin_write().await.unwrap();
                    let ev = kebao_store::consents::Evidence {
                        file_name: "a.pdf".into(),
                        media_type: "application/pdf".into(),
                    };
                    kebao_store::attachments::insert_blob(
                        tx.conn(),
                        &c.evidence_sha256,
                        PDF,
                        ctx.store.backend(),
                    )
                    .await
                    .unwrap();
                    kebao_store::consents::insert(tx.conn(), &c, &ev).await.unwrap();
                    tx.commit_unlogged(kebao_store::Unlogged::Tampering).await.unwrap();
                }
            }
            actors.insert(key.clone(), (actor, org.id));
        }
        let (actor, org_id) = &actors[&key];
        let target =
            if relation == "own" { org_of(&ctx, org_id).await } else { org_of(&ctx, &subject.id).await };
        let d = svc.check_read(actor, &target, sc, class, Some(Purpose::LoanReview)).await.unwrap();
        rows += 1;
        match (d.allowed, expected) {
            (true, "deny") => unexpected_allows.push(line.to_owned()),
            (false, "allow") => unexpected_denies.push(format!("{line} ({})", d.reason_en)),
            _ => {}
        }
        // Sensitive personal data is never allowed, whatever the basis.
        if sc == DataScope::PoliciesClaims {
            let s = svc
                .check_read(actor, &target, sc, DataClass::SensitivePersonal, Some(Purpose::LoanReview))
                .await
                .unwrap();
            if s.allowed {
                unexpected_allows.push(format!("{line} (sensitive)"));
            }
        }
    }
    assert_eq!(rows, 960);
    assert!(unexpected_allows.is_empty(), "unexpected allows:\n{}", unexpected_allows.join("\n"));
    assert!(unexpected_denies.is_empty(), "unexpected denies:\n{}", unexpected_denies.join("\n"));
});

contract!(the_query_log_is_a_verifiable_merkle_tree, |ctx: Ctx| async move {
    let svc = ctx.svc.clone().with_signing_key(ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]));
    let z = zone(&svc).await;
    svc.grant_consent(
        &z.ent_admin,
        &z.enterprise,
        &input(&z.bank, &["profile"], "loan_review", "2027-05-28"),
        "a.pdf",
        PDF,
    )
    .await
    .unwrap();
    let first = svc.sign_tree_head().await.unwrap();
    let r = svc.credit_report(&z.banker, &z.enterprise, Purpose::LoanReview).await.unwrap();
    // The enterprise gets an inclusion proof of the read; it verifies offline.
    let p = svc.inclusion_proof(&z.ent_admin, r.event_seq).await.unwrap();
    let key = svc.public_key().unwrap();
    let head = p.verify(None, Some(&key)).unwrap();
    assert!(head.tree_size >= r.event_seq);
    assert_eq!(p.event.action, "credit_report.read");
    // Through JSON, as the CLI reads it.
    let json = serde_json::to_string(&p).unwrap();
    let back: kebao_domain::merkle::InclusionProof = serde_json::from_str(&json).unwrap();
    assert!(back.verify(Some(&p.tree_head), Some(&key)).is_ok());
    // Another enterprise's user gets nothing; an altered proof fails.
    assert!(matches!(svc.inclusion_proof(&z.banker, 1).await, Err(ServiceError::NotFound)));
    let mut bad = p.clone();
    bad.event.payload = bad.event.payload.replace("loan_review", "underwriting");
    assert!(bad.verify(None, Some(&key)).unwrap_err().contains("altered"));
    // Consistency between the two signed heads.
    let second = p.tree_head.clone();
    let c = svc.consistency_proof(first.tree_size, second.tree_size).await.unwrap();
    c.verify(&first, &second, Some(&key)).unwrap();
    assert!(c.verify(&second, &first, Some(&key)).is_err());
    assert_eq!(svc.verify_tree_heads().await.unwrap(), Ok(2));
    // Tampering with a logged event breaks verification: the chain and the signed heads.
    let mut tx = ctx.store.begin_write().await.unwrap();
    let conn = tx.conn();
    match ctx.store.backend() {
        kebao_store::Backend::Sqlite => {
            sqlx::query("DROP TRIGGER events_append_only_update").execute(&mut *conn).await.unwrap();
        }
        kebao_store::Backend::Postgres => {
            sqlx::query("ALTER TABLE events DISABLE TRIGGER events_append_only_update")
                .execute(&mut *conn)
                .await
                .unwrap();
        }
    }
    sqlx::query("UPDATE events SET payload = REPLACE(payload, 'loan_review', 'underwriting') WHERE seq = $1")
        .bind(r.event_seq as i64)
        .execute(&mut *conn)
        .await
        .unwrap();
    tx.commit_unlogged(kebao_store::Unlogged::Tampering).await.unwrap();
    let v = svc.audit_verify(&operator(), None, &mut |_, _| {}).await.unwrap();
    assert!(matches!(v, kebao_service::audit::Verification::Broken(_)));
    let t = svc.verify_tree_heads().await.unwrap();
    assert!(t.as_ref().is_err_and(|e| e.contains("no longer matches")), "{t:?}");
});

contract!(retention_deletes_negative_records_and_erases_ended_consents, |ctx: Ctx| async move {
    use kebao_domain::job::{JobKind, JobResult, JobState};
    use kebao_service::jobs::JobRunner;
    let z = zone(&ctx.svc).await;
    let uscc1 = uscc(1);
    let dated = |kind: &str, title: &str, on: &str, ended: &str| RecordInput {
        occurred_on: on.into(),
        ended_on: ended.into(),
        ..rec(&uscc1, kind, title, "")
    };
    // Bad end dates are refused with the row named, and nothing is imported.
    for (on, ended, code) in
        [("2020-01-01", "2019-12-31", "ends_before"), ("2020-01-01", "2021/01/01", "date_format")]
    {
        let src = Source("provincial_credit", vec![dated("court_judgment", "判决", on, ended)]);
        match ctx.svc.import_external(&operator(), &src).await {
            Err(ServiceError::Invalid(i)) => assert_eq!(i.0[0].code, code),
            other => panic!("{other:?}"),
        }
    }
    let src = Source(
        "provincial_credit",
        vec![
            dated("dishonest_debtor", "失信被执行（已履行）", "2019-01-01", "2021-06-01"),
            dated("court_judgment", "合同纠纷判决", "2021-01-01", "2022-06-01"),
            dated("dishonest_debtor", "失信被执行（未履行）", "2020-01-01", ""),
            dated("honour", "守信激励", "2010-01-01", "2015-01-01"),
        ],
    );
    assert_eq!(ctx.svc.import_external(&operator(), &src).await.unwrap(), 4);
    // A person's separate consent, revoked today; another still valid until 2027.
    assess_recipient(&ctx.svc, &z.bank).await;
    let mut p = input(&z.bank, &["personal"], "loan_review", "2027-05-28");
    p.kind = "personal".into();
    p.person_name = "张伟".into();
    p.person_role = "legal_representative".into();
    let revoked =
        ctx.svc.grant_consent(&z.ent_admin, &z.enterprise, &p, "张伟同意书.pdf", PDF).await.unwrap();
    ctx.svc.revoke_consent(&z.ent_admin, &revoked.consent.id).await.unwrap();
    p.person_name = "李娜".into();
    p.person_role = "guarantor".into();
    let other = b"%PDF-1.7 another signed authorisation";
    let valid =
        ctx.svc.grant_consent(&z.ent_admin, &z.enterprise, &p, "李娜同意书.pdf", other).await.unwrap();
    let run = |ctx: &Ctx| {
        let svc = ctx.svc.clone();
        let admin = z.admin.clone();
        async move {
            let j = svc.start_job(&admin, JobKind::Retention).await.unwrap();
            let ended = JobRunner::new(svc.clone()).run_once().await.unwrap().unwrap();
            assert_eq!((ended.id.as_str(), ended.state), (j.id.as_str(), JobState::Succeeded));
            match ended.result {
                Some(JobResult::RetentionApplied { erased }) => erased,
                other => panic!("{other:?}"),
            }
        }
    };
    // Today (2026-11-28): the record whose event ended 2021-06-01 has been kept five years.
    let erased = run(&ctx).await;
    let rules = |a: u64, b: u64, c: u64, d: u64| {
        vec![
            ("negative_records".to_owned(), a),
            ("ended_personal_consents".to_owned(), b),
            ("deactivated_user_credentials".to_owned(), c),
            ("sign_in_attempts".to_owned(), d),
        ]
    };
    assert_eq!(erased, rules(1, 0, 0, 0));
    let r = ctx.svc.credit_report(&z.ent_admin, &z.enterprise, Purpose::LoanReview).await.unwrap();
    let text = format!("{:?}", r.sections);
    assert!(!text.contains("已履行") && text.contains("未履行") && text.contains("守信激励"), "{text}");
    // Five years and two days on: the judgment ended 2022 goes, the revoked consent's names and
    // document are erased; the consent valid until 2027 is not due before 2032.
    ctx.clock.advance_us((5 * 365 + 3) * DAY_US);
    let erased = run(&ctx).await;
    assert_eq!(erased, rules(1, 1, 0, 0));
    let gone = ctx.svc.consent(&z.ent_admin, &revoked.consent.id).await.unwrap();
    assert_eq!((gone.consent.signer_name.as_str(), gone.consent.person_name.clone()), ("", None));
    match ctx.svc.consent_evidence(&z.ent_admin, &revoked.consent.id).await {
        Err(ServiceError::Conflict(f)) => assert_eq!(f.code, "erased"),
        other => panic!("{other:?}"),
    }
    let kept = ctx.svc.consent(&z.ent_admin, &valid.consent.id).await.unwrap();
    assert_eq!(kept.consent.person_name.as_deref(), Some("李娜"));
    assert!(ctx.svc.consent_evidence(&z.ent_admin, &valid.consent.id).await.is_ok());
    // Nothing more is due: a third run erases nothing.
    assert_eq!(run(&ctx).await.iter().map(|(_, n)| n).sum::<u64>(), 0);
    // The audit page's list: what, under which rule, when; readers of the audit log only.
    let list = ctx.svc.erasures(&z.regulator, 50).await.unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(
        list.iter()
            .filter(|e| e.erasure.subject_kind == "external_record" && e.erasure.fields == "*")
            .count(),
        2
    );
    assert!(list.iter().any(|e| e.erasure.rule == "ended_personal_consents"
        && e.erasure.fields == "signer_name,person_name,document"
        && e.org_name.as_deref() == Some("光谷激光科技有限公司")));
    assert!(list.iter().all(|e| e.rule.as_ref().is_some_and(|r| !r.source.is_empty())));
    assert!(matches!(ctx.svc.erasures(&z.banker, 50).await, Err(ServiceError::Forbidden { .. })));
    // The chain and the ledger still verify.
    match ctx.svc.audit_verify(&operator(), None, &mut |_, _| {}).await.unwrap() {
        kebao_service::audit::Verification::Sound(_) => {}
        other => panic!("{other:?}"),
    }
    assert!(ctx.svc.ledger_verify().await.unwrap().problems.is_empty());
});

contract!(the_unified_view_opens_each_section_by_the_lawful_basis_and_says_why_not, |ctx: Ctx| async move {
    let z = zone(&ctx.svc).await;
    let open = |v: &kebao_service::unified::UnifiedView| -> Vec<&str> {
        v.sections.iter().filter(|s| s.allowed).map(|s| s.key).collect()
    };
    // The enterprise sees every section, its own reads are not logged.
    let before = state(&ctx).await.1;
    let own = ctx.svc.unified_view(&z.ent_admin, &z.enterprise, None).await.unwrap();
    assert!(own.own);
    assert!(own.sections.iter().all(|s| s.allowed), "{:?}", own.sections);
    assert_eq!(state(&ctx).await.1, before, "the enterprise reading its own view is not an access");
    let profile = own.sections.iter().find(|s| s.key == "profile").unwrap();
    assert!(profile.rows.iter().any(|r| r.cells.iter().any(|c| c.zh == "光谷激光科技有限公司")));

    // A bank without a consent: every enterprise section hidden, each saying why; the attempt is
    // logged and shows in the enterprise's access log.
    let none = ctx.svc.unified_view(&z.banker, &z.enterprise, Some(Purpose::LoanReview)).await.unwrap();
    for s in none.sections.iter().filter(|s| s.key != "consents") {
        assert!(!s.allowed && s.rows.is_empty(), "{}", s.key);
        assert!(!s.reason_en.is_empty(), "{} says why", s.key);
    }
    assert!(none.sections.iter().any(|s| s.reason_en.contains("no consent")));
    assert!(none.timeline.is_empty());

    // A consent for profile and loans for a loan review opens exactly those.
    ctx.svc
        .grant_consent(
            &z.ent_admin,
            &z.enterprise,
            &input(&z.bank, &["profile", "loans"], "loan_review", "2027-05-28"),
            "授权书.pdf",
            PDF,
        )
        .await
        .unwrap();
    let v = ctx.svc.unified_view(&z.banker, &z.enterprise, Some(Purpose::LoanReview)).await.unwrap();
    assert_eq!(open(&v), ["profile", "qualifications", "loans", "consents"]);
    let facts = v.sections.iter().find(|s| s.key == "facts").unwrap();
    assert!(facts.reason_en.contains("does not cover"), "{}", facts.reason_en);
    let consents = v.sections.iter().find(|s| s.key == "consents").unwrap();
    assert_eq!(consents.rows.len(), 1, "the consent given to the bank itself");
    // Another purpose than the consent's opens nothing.
    let other = ctx.svc.unified_view(&z.banker, &z.enterprise, Some(Purpose::Underwriting)).await.unwrap();
    assert_eq!(open(&other), ["consents"]);
    // No purpose and no duty: nothing.
    let bare = ctx.svc.unified_view(&z.banker, &z.enterprise, None).await.unwrap();
    assert!(bare.sections.iter().any(|s| s.reason_en.contains("no purpose stated")));

    // The zone's officers read it under their statutory duty (not personal data), the access log included.
    let zone = ctx.svc.unified_view(&z.regulator, &z.enterprise, None).await.unwrap();
    assert!(open(&zone).contains(&"policies") && open(&zone).contains(&"access_log"));

    // Every read by others is in the enterprise's access log, refused ones as refused.
    let log = ctx.svc.access_log(&z.ent_admin, &z.enterprise).await.unwrap();
    let views: Vec<&str> = log
        .iter()
        .filter(|e| e.event.action.starts_with("unified_view."))
        .map(|e| e.outcome.as_str())
        .collect();
    assert_eq!(views.len(), 5, "{views:?}");
    assert!(views.contains(&"refused") && views.contains(&"read"));
    let own = ctx.svc.unified_view(&z.ent_admin, &z.enterprise, None).await.unwrap();
    let log = own.sections.iter().find(|s| s.key == "access_log").unwrap();
    assert_eq!(log.rows.len(), 5, "the enterprise sees who looked");

    // Only enterprises have a unified view.
    assert!(matches!(ctx.svc.unified_view(&z.ent_admin, &z.bank, None).await, Err(ServiceError::NotFound)));
    assert!(matches!(ctx.svc.unified_view(&z.ent_admin, "nope", None).await, Err(ServiceError::NotFound)));
});
