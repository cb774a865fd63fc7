//! One authorisation path: the C4–C6 policies, and which actions an actor may take on a
//! resource now (`allowed_actions`), asked of Cedar action by action.

use kebao_domain::org::OrgKind;
use kebao_domain::user::{Role, User};
use kebao_service::authz::{Action, Actor, Authz, Case, Resource};

fn actor(id: &str, org: &str, kind: OrgKind, roles: &[Role]) -> Actor {
    Actor::User {
        user: User {
            id: id.into(),
            org_id: org.into(),
            username: id.into(),
            display_name: id.into(),
            roles: roles.to_vec(),
            active: true,
            must_change_password: false,
        },
        org_kind: kind,
    }
}

fn case(status: &str, assignee: Option<&str>) -> Case {
    Case {
        id: "c1".into(),
        enterprise_id: "ent".into(),
        insurer_id: "ins".into(),
        status: status.into(),
        assignee: assignee.map(str::to_owned),
    }
}

fn sorted(mut v: Vec<Action>) -> Vec<&'static str> {
    v.sort_by_key(|a| format!("{a:?}"));
    v.into_iter().map(|a| a.label()).collect()
}

fn same(got: Vec<Action>, want: &[Action]) {
    assert_eq!(sorted(got), sorted(want.to_vec()));
}

#[test]
fn the_embedded_policies_validate_strictly() {
    let authz = Authz::embedded().expect("policies validate against the schema");
    assert!(authz.policy_count() > 40, "{}", authz.policy_count());
}

#[test]
fn allowed_actions_on_a_policy() {
    let authz = Authz::embedded().unwrap();
    let policy = Resource::Policy(case("in_force", None));
    let ent_admin = actor("u1", "ent", OrgKind::Enterprise, &[Role::EnterpriseAdmin]);
    same(
        authz.allowed_actions(&ent_admin, &policy),
        &[
            Action::ReadPolicy,
            Action::CancelPolicy,
            Action::RenewPolicy,
            Action::ReportClaim,
            Action::ApplySubsidy,
            Action::CheckSubsidy,
            Action::SubmitPaymentEvidence,
        ],
    );
    let ent_staff = actor("u2", "ent", OrgKind::Enterprise, &[Role::EnterpriseStaff]);
    same(
        authz.allowed_actions(&ent_staff, &policy),
        &[
            Action::ReadPolicy,
            Action::RenewPolicy,
            Action::ReportClaim,
            Action::CheckSubsidy,
            Action::SubmitPaymentEvidence,
        ],
    );
    let uw = actor("u3", "ins", OrgKind::Insurer, &[Role::Underwriter]);
    same(
        authz.allowed_actions(&uw, &policy),
        &[
            Action::ReadPolicy,
            Action::RecordPremium,
            Action::EndorsePolicy,
            Action::CancelPolicy,
            Action::RecordRefund,
            Action::SetCoinsurance,
            // Only a registered policy awaiting it takes the answer (its state decides).
            Action::AnswerPolicyRegistration,
        ],
    );
    // The insurer's admin is not bound by an underwriting authority; its underwriters are.
    let admin = actor("u4", "ins", OrgKind::Insurer, &[Role::OrgAdmin]);
    assert!(authz.allowed_actions(&admin, &policy).contains(&Action::WaiveAuthority));
    assert!(!authz.allowed_actions(&uw, &policy).contains(&Action::WaiveAuthority));
    // Another insurer's underwriter may do nothing with it, not even see it.
    let other = actor("u5", "other", OrgKind::Insurer, &[Role::Underwriter, Role::OrgAdmin]);
    same(authz.allowed_actions(&other, &policy), &[]);
    // The regulator sees it and does nothing else.
    let regulator = actor("u6", "reg", OrgKind::Government, &[Role::Regulator]);
    same(authz.allowed_actions(&regulator, &policy), &[Action::ReadPolicy, Action::CheckSubsidy]);
    // A visitor who has not signed in: nothing.
    same(authz.allowed_actions(&Actor::Anonymous, &policy), &[]);
}

#[test]
fn allowed_actions_on_an_application_and_a_claim() {
    let authz = Authz::embedded().unwrap();
    let app = Resource::Application(case("referred", None));
    let uw = actor("u3", "ins", OrgKind::Insurer, &[Role::Underwriter]);
    same(authz.allowed_actions(&uw, &app), &[Action::Underwrite]);
    let other_uw = actor("u5", "other", OrgKind::Insurer, &[Role::Underwriter]);
    same(authz.allowed_actions(&other_uw, &app), &[]);

    let claim = Resource::Claim(case("reported", None));
    let handler = actor("u7", "ins", OrgKind::Insurer, &[Role::ClaimsHandler]);
    same(
        authz.allowed_actions(&handler, &claim),
        &[Action::ReadClaim, Action::HandleClaim, Action::AttachClaimDocument],
    );
    let staff = actor("u2", "ent", OrgKind::Enterprise, &[Role::EnterpriseStaff]);
    same(
        authz.allowed_actions(&staff, &claim),
        &[Action::ReadClaim, Action::AttachClaimDocument, Action::Complain],
    );
    // The insurer's underwriter sees the claim but does not handle it.
    same(authz.allowed_actions(&uw, &claim), &[Action::ReadClaim]);
}

#[test]
fn only_the_disputes_own_mediator_mediates_it_while_mediating() {
    let authz = Authz::embedded().unwrap();
    let mediator = actor("m1", "centre", OrgKind::ServiceBody, &[Role::Mediator]);
    let another = actor("m2", "centre", OrgKind::ServiceBody, &[Role::Mediator]);
    let mediating = Resource::Dispute(case("mediating", Some("m1")));
    same(authz.allowed_actions(&mediator, &mediating), &[Action::ReadDispute, Action::MediateDispute]);
    same(authz.allowed_actions(&another, &mediating), &[Action::ReadDispute]);
    let settled = Resource::Dispute(case("settled", Some("m1")));
    same(authz.allowed_actions(&mediator, &settled), &[Action::ReadDispute]);
    let outsider = actor("u5", "other", OrgKind::Insurer, &[Role::ClaimsHandler]);
    same(authz.allowed_actions(&outsider, &mediating), &[]);
    assert!(authz.allowed_actions(&mediator, &Resource::Zone).contains(&Action::Mediate));
}

#[test]
fn subsidy_maker_checker_and_public_notice() {
    let authz = Authz::embedded().unwrap();
    let approver = actor("a1", "zone", OrgKind::Government, &[Role::ZoneApprover, Role::ZoneReviewer]);
    let other_approver = actor("a2", "zone", OrgKind::Government, &[Role::ZoneApprover]);
    let reviewed =
        Resource::Subsidy(Case { insurer_id: String::new(), ..case("local_reviewed", Some("a1")) });
    assert!(!authz.allowed_actions(&approver, &reviewed).contains(&Action::ReviewSubsidyForDepartment));
    assert!(authz.allowed_actions(&other_approver, &reviewed).contains(&Action::ReviewSubsidyForDepartment));
    // In public notice any signed-in user sees the application, but not its documents.
    let notice = Resource::Subsidy(Case { insurer_id: String::new(), ..case("in_notice", None) });
    let stranger = actor("u5", "other", OrgKind::Insurer, &[Role::Underwriter]);
    same(authz.allowed_actions(&stranger, &notice), &[Action::ReadSubsidy]);
    let applicant = actor("u1", "ent", OrgKind::Enterprise, &[Role::EnterpriseAdmin]);
    same(
        authz.allowed_actions(&applicant, &notice),
        &[
            Action::ReadSubsidy,
            Action::ReadSubsidyDetails,
            Action::AttachSubsidyDocument,
            Action::ConfirmSubsidyOffer,
        ],
    );
}

#[test]
fn zone_wide_actions() {
    let authz = Authz::embedded().unwrap();
    let reviewer = actor("r1", "zone", OrgKind::Government, &[Role::ZoneReviewer]);
    let zone = authz.allowed_actions(&reviewer, &Resource::Zone);
    for a in [
        Action::ReviewSubsidyLocally,
        Action::ReadSubsidyStatistics,
        Action::ReadInsuranceOverview,
        Action::ReviewProductQueue,
        Action::ReadAllSubsidies,
        Action::ReadAllDisputes,
        Action::ReadAnyAccounts,
    ] {
        assert!(zone.contains(&a), "{a:?} in {zone:?}");
    }
    assert!(!zone.contains(&Action::DecideSubsidies));
    let ent = actor("u1", "ent", OrgKind::Enterprise, &[Role::EnterpriseAdmin]);
    let zone = authz.allowed_actions(&ent, &Resource::Zone);
    assert!(zone.contains(&Action::ApplyForPolicy));
    assert!(!zone.contains(&Action::ReadInsuranceOverview));
    // The regulator only reads: it may not hand its access on to an API key.
    let regulator = actor("g1", "reg", OrgKind::Government, &[Role::Regulator]);
    assert!(!authz.allowed_actions(&regulator, &Resource::Zone).contains(&Action::IssueApiKey));
    assert!(zone.contains(&Action::IssueApiKey));
}
