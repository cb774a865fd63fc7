#!/usr/bin/env python3
"""Writes authz_matrix.csv: the expected decision for every role x data scope x own/other
organisation x consent state, from the rules as the issue and rules.md state them — written
here independently of the Cedar policies, and reviewed by reading the CSV.

Rules:
1. Sensitive personal data (health) is never readable (tested separately: it is a data
   class, not a scope).
2. An organisation reads its own data (basis: own).
3. The zone's reviewers and approvers and the regulator read other enterprises' data on a
   statutory duty — except personal data of named people, which needs the person's separate
   consent.
4. Everyone else reads another enterprise's data only under a valid consent given to their
   organisation, covering the scope and the stated purpose. An expired, revoked or
   wrong-purpose consent, or none, gives nothing.
"""
import csv, os

ROLES = ["enterprise_admin", "enterprise_staff", "org_admin", "product_filer", "underwriter",
         "claims_handler", "mediator", "bank_officer", "zone_reviewer", "zone_approver",
         "regulator", "platform_admin"]
SCOPES = ["profile", "financial_facts", "ip", "policies_claims", "loans", "subsidies", "scores",
          "personal"]
RELATIONS = ["own", "other"]
CONSENTS = ["valid", "expired", "revoked", "wrong_purpose", "none"]
STATUTORY = {"zone_reviewer", "zone_approver", "regulator"}

def expect(role, scope, relation, consent):
    if relation == "own":
        return "allow", "own data"
    if role in STATUTORY and scope != "personal":
        return "allow", "statutory duty"
    if role in STATUTORY and scope == "personal" and consent != "valid":
        return "deny", "personal data needs the person's separate consent"
    if consent == "valid":
        return "allow", "valid consent covering scope and purpose"
    return "deny", {"expired": "consent expired", "revoked": "consent revoked",
                    "wrong_purpose": "consent for another purpose", "none": "no consent"}[consent]

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "authz_matrix.csv")
with open(out, "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["role", "scope", "relation", "consent", "expected", "why"])
    for r in ROLES:
        for s in SCOPES:
            for rel in RELATIONS:
                for c in CONSENTS:
                    e, why = expect(r, s, rel, c)
                    w.writerow([r, s, rel, c, e, why])
print(out)
