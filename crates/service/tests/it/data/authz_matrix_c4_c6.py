#!/usr/bin/env python3
"""Writes authz_matrix_c4_c6.csv: the expected decision for every step of an application, a
policy, a claim, a dispute and a subsidy application (or national file) x every state it
rests in x role x own/other organisation — from the rules as CAPABILITIES.md (C4-C6) and
the comments of data/policies/{policies,claims,disputes,subsidies,zone}.cedar state them,
written here independently of the Cedar code and of the service, and reviewed by reading
the CSV. `expected` is allow when the role rule holds for the relation AND the state
allows the step.

Relation: `own` = the actor's organisation is the resource's party for the actor's role
(the policyholder / applicant for enterprise roles, the insurer for insurer roles, the
centre of the mediator who took the dispute for mediators, the zone office for zone roles);
`other` = another organisation of the same kind.

Role rules (who, whatever the state):
1. Only the resource's own parties act on it; a party is never a party of another
   organisation's resource (`other` is denied by every rule below but 2).
2. The zone's statutory roles act for the one zone: their steps do not depend on which
   government organisation holds the role (own and other alike).
3. The regulator only reads; bank officers, platform admins and product filers are not
   parties of C4-C6 resources: they take no step.
4. Applications: the insurer's underwriters decide referred applications (accept, decline)
   and bind accepted ones.
5. Policies: the insurer's underwriters and its admin record premium received, endorse,
   cancel (解除), record refunds paid and set co-insurance ("the insurer's underwriters and
   admin change its policies"); the policyholder's admin cancels (退保); the policyholder
   (admin or staff, as for any application) applies for the renewal; the insured
   enterprise (admin or staff) reports a claim.
6. Claims: the insurer's claims handlers assign, reserve, decide, pay, close and reopen;
   the insured enterprise (admin or staff) complains about the decision.
7. Disputes: any mediator takes a complaint (none is its mediator yet, so own and other
   alike); only the dispute's own mediator records sessions and concludes it (settled, or
   escalated to arbitration or a court).
8. Subsidies (zone programmes and auto-grant offers): zone reviewers do the local review;
   zone approvers do the department review (maker-checker: not the local reviewer — here
   the local review was done by a reviewer who is not an approver), approve, disburse,
   reject and claw back; the applicant's admin confirms an auto-grant offer. National
   files: a zone reviewer recommends; a zone approver forwards and records the ministries'
   decision.

State rules (which steps a state allows):
9.  Application: referred -> accept, decline; accepted -> bind; declined and bound: none.
    (`accepted` is not a resting state — the service binds in the same transaction — so
    it is not in the matrix.)
10. Policy in force: every step. Cancelled: pay_premium (earned premium still due),
    refund (the refund the cancellation made due) and report_claim (a loss that occurred
    during the cover) only.
11. Claim: reported -> assign; investigating -> reserve, decide; decided to pay -> pay,
    complain; decided to deny -> close, complain; closed -> reopen, complain.
12. Dispute: complained -> take; mediating -> session, settle, escalate; settled and
    escalated: none.
13. Subsidy (zone): submitted -> local_review, reject; local_reviewed ->
    department_review, reject; in_notice -> approve, reject (the end of the notice period
    and open objections are checked when approving, not by the state); approved ->
    disburse, reject; disbursed -> claw_back; rejected, clawed_back: none. Auto-grant:
    offered -> confirm; lapsed: none. National: submitted -> recommend; recommended ->
    forward; forwarded -> decision; qualified, not_qualified, granted, refused: none.
"""
import csv, os

ROLES = ["enterprise_admin", "enterprise_staff", "org_admin", "product_filer", "underwriter",
         "claims_handler", "mediator", "bank_officer", "zone_reviewer", "zone_approver",
         "regulator", "platform_admin"]
RELATIONS = ["own", "other"]
ENT = {"enterprise_admin", "enterprise_staff"}
ZONE = {"zone_reviewer", "zone_approver"}

# resource -> steps (the codes the API takes), in order.
STEPS = {
    "application": ["accept", "decline", "bind"],
    "policy": ["pay_premium", "endorse", "cancel", "refund", "renew", "coinsure", "report_claim"],
    "claim": ["assign", "reserve", "decide", "pay", "close", "reopen", "complain"],
    "dispute": ["take", "session", "settle", "escalate"],
    "subsidy": ["local_review", "department_review", "approve", "disburse", "reject", "claw_back",
                "confirm", "recommend", "forward", "decision"],
}

# resource -> state -> steps the state allows (rules 9-13).
STATES = {
    "application": {
        "referred": {"accept", "decline"},
        "declined": set(),
        "bound": set(),
    },
    "policy": {
        "in_force": set(STEPS["policy"]),
        "cancelled": {"pay_premium", "refund", "report_claim"},
    },
    "claim": {
        "reported": {"assign"},
        "investigating": {"reserve", "decide"},
        "decided_pay": {"pay", "complain"},
        "decided_deny": {"close", "complain"},
        "closed": {"reopen", "complain"},
    },
    "dispute": {
        "complained": {"take"},
        "mediating": {"session", "settle", "escalate"},
        "settled": set(),
        "escalated": set(),
    },
    "subsidy": {
        "zone:submitted": {"local_review", "reject"},
        "zone:local_reviewed": {"department_review", "reject"},
        "zone:in_notice": {"approve", "reject"},
        "zone:approved": {"disburse", "reject"},
        "zone:disbursed": {"claw_back"},
        "zone:rejected": set(),
        "zone:clawed_back": set(),
        "auto:offered": {"confirm"},
        "auto:lapsed": set(),
        "national:submitted": {"recommend"},
        "national:recommended": {"forward"},
        "national:forwarded": {"decision"},
        "national:qualified": set(),
        "national:not_qualified": set(),
        "national:granted": set(),
        "national:refused": set(),
    },
}

# (resource, step) -> (roles that may, whether any organisation's holder may (rule 2, 7), why)
WHO = {
    ("application", "accept"): ({"underwriter"}, False, "the insurer's underwriters decide referred applications"),
    ("application", "decline"): ({"underwriter"}, False, "the insurer's underwriters decide referred applications"),
    ("application", "bind"): ({"underwriter"}, False, "the insurer's underwriters bind accepted applications"),
    ("policy", "pay_premium"): ({"underwriter", "org_admin"}, False, "the insurer's underwriters and admin record premium"),
    ("policy", "endorse"): ({"underwriter", "org_admin"}, False, "the insurer's underwriters and admin change its policies"),
    ("policy", "cancel"): ({"underwriter", "org_admin", "enterprise_admin"}, False,
                           "the insurer's underwriters and admin, or the policyholder's admin, cancel"),
    ("policy", "refund"): ({"underwriter", "org_admin"}, False, "the insurer's underwriters and admin record refunds"),
    ("policy", "renew"): (ENT, False, "the policyholder applies for the renewal"),
    ("policy", "coinsure"): ({"underwriter", "org_admin"}, False, "the insurer's underwriters and admin set co-insurance"),
    ("policy", "report_claim"): (ENT, False, "the insured enterprise reports a loss"),
    ("claim", "complain"): (ENT, False, "the insured enterprise complains about the decision"),
    ("dispute", "take"): ({"mediator"}, True, "any mediator takes a complaint"),
    ("dispute", "session"): ({"mediator"}, False, "only the dispute's own mediator mediates it"),
    ("dispute", "settle"): ({"mediator"}, False, "only the dispute's own mediator concludes it"),
    ("dispute", "escalate"): ({"mediator"}, False, "only the dispute's own mediator concludes it"),
    ("subsidy", "local_review"): ({"zone_reviewer"}, True, "zone reviewers review locally"),
    ("subsidy", "department_review"): ({"zone_approver"}, True, "a zone approver (not the local reviewer) reviews for the department"),
    ("subsidy", "approve"): ({"zone_approver"}, True, "zone approvers decide"),
    ("subsidy", "disburse"): ({"zone_approver"}, True, "zone approvers decide"),
    ("subsidy", "reject"): ({"zone_approver"}, True, "zone approvers decide"),
    ("subsidy", "claw_back"): ({"zone_approver"}, True, "zone approvers decide"),
    ("subsidy", "confirm"): ({"enterprise_admin"}, False, "the applicant's admin confirms an offer"),
    ("subsidy", "recommend"): ({"zone_reviewer"}, True, "a zone reviewer recommends a national file"),
    ("subsidy", "forward"): ({"zone_approver"}, True, "a zone approver forwards a national file"),
    ("subsidy", "decision"): ({"zone_approver"}, True, "a zone approver records the ministries' decision"),
}
for s in ["assign", "reserve", "decide", "pay", "close", "reopen"]:
    WHO[("claim", s)] = ({"claims_handler"}, False, "the insurer's claims handlers handle claims")


def expect(resource, state, step, role, relation):
    roles, any_org, why = WHO[(resource, step)]
    if role not in roles:
        if role == "regulator":
            return "deny", "the regulator only reads"
        return "deny", f"not this role's step ({why})"
    if relation == "other" and not (any_org or role in ZONE):
        return "deny", "another organisation's " + resource
    if step not in STATES[resource][state]:
        return "deny", f"state {state} does not allow {step}"
    return "allow", why


out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "authz_matrix_c4_c6.csv")
with open(out, "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["resource", "state", "step", "role", "relation", "expected", "why"])
    for res, states in STATES.items():
        for state in states:
            for step in STEPS[res]:
                for r in ROLES:
                    for rel in RELATIONS:
                        e, why = expect(res, state, step, r, rel)
                        w.writerow([res, state, step, r, rel, e, why])
print(out)
