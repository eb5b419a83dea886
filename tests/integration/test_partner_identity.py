"""Partner identity (issue 21, F2 and F7).

F2: an MPN ID counts as associated only once the operator verifies the
tenant's claim in the review queue; a claim not verified blocks no one, and
verifying one releases the other tenants' claims of the ID (each mailed).
F7: the primary contact is at the company's domain: its work account's or
one the operator verified for it.  Black-box: through nginx, the database
and the mail folder."""

import secrets
import time
import unittest

from harness import (UUID_RE, access_token, api, assert_problem, bearer, field_errors, mails_to,
                     new_api_token, new_tenant, new_user, parallel, sql, sql_value,
                     unique_domain, wait_mails)
from world import (enroll, enrolled_tenant, enrollment_body, operator_auth, verified_tenant)


def fresh_id():
    return str(1000000 + secrets.randbelow(8999999))


def add(t, mpn_id, country="DE"):
    r = api("POST", "/v1/profiles/mpn/identifiers", headers=t.auth,
            body={"mpnId": mpn_id, "country": country, "locationName": "Berlin"})
    assert r.status == 201, r
    return r


def claim(t, mpn_id):
    return api("PUT", "/v1/profiles/mpn/association", headers=t.auth, body={"mpnId": mpn_id})


def decide(claim_id, decision, reason=None, headers=None):
    body = {"decision": decision}
    if reason is not None:
        body["reason"] = reason
    h = operator_auth()
    h.update(headers or {})
    return api("POST", "/v1/operator/mpn-associations/%s/decisions" % claim_id, body=body,
               headers=h)


def profile(t):
    return api("GET", "/v1/profiles/mpn", headers=t.auth).body


def mpn_associated(t):
    e = api("GET", "/v1/enrollment", headers=t.auth).body
    return {s["step"]: s["done"] for s in e["checklist"]}["mpnAssociated"]


def claim_row(t):
    rows = sql("SELECT id, mpn_id, status, IFNULL(decided_by, ''), IFNULL(reason, '') "
               "FROM mpn_associations WHERE tenant_id = %s", (t.id,))
    return rows[0] if rows else None


def audit_actions(tenant_id):
    return [a for (a,) in sql("SELECT action FROM audit_events WHERE tenant_id = %s "
                              "ORDER BY id", (tenant_id,))]


def operator_tenant():
    return sql_value("SELECT id FROM tenants WHERE is_platform = 1")


def claimed(t, mpn_id=None):
    """T claims MPN_ID (a fresh one by default), added first; returns the
    claim's id."""
    mpn_id = mpn_id or fresh_id()
    add(t, mpn_id)
    r = claim(t, mpn_id)
    assert r.status == 200, r
    return r.body["association"]["id"]


class TestClaims(unittest.TestCase):
    def test_a_squatter_does_not_block_the_real_holder(self):
        # F2: before, the first claim took the ID and the holder got 409
        squatter, holder = enrolled_tenant(), verified_tenant()
        shared = fresh_id()
        add(squatter, shared)
        add(holder, shared)
        r = claim(squatter, shared)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["association"]["status"], "pending_verification")
        self.assertIsNone(r.body["associatedMpnId"])
        r = claim(holder, shared)
        self.assertEqual(r.status, 200, r)
        a = r.body["association"]
        self.assertEqual((a["mpnId"], a["status"], a["decidedAt"], a["reason"]),
                         (shared, "pending_verification", None, None))
        self.assertRegex(a["id"], UUID_RE)
        # a claim is not an association
        self.assertIsNone(profile(holder)["associatedMpnId"])
        self.assertEqual(profile(holder)["association"]["status"], "pending_verification")
        self.assertFalse(mpn_associated(holder))
        self.assertIn("mpn.associate", audit_actions(holder.id))
        # the operator verifies the holder's: the squatter's claim is released
        squat_id = claim_row(squatter)[0]
        r = decide(a["id"], "verify")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.body["decision"], "verify")
        self.assertEqual(r.body["released"], 1)
        self.assertEqual(r.body["association"]["status"], "verified")
        self.assertEqual(r.body["association"]["tenantId"], holder.id)
        self.assertRegex(r.body["association"]["decidedBy"], UUID_RE)
        self.assertEqual(profile(holder)["associatedMpnId"], shared)
        self.assertTrue(mpn_associated(holder))
        self.assertEqual(claim_row(squatter)[:3], [squat_id, shared, "rejected"])
        self.assertIn("verified as another work account", claim_row(squatter)[4])
        self.assertIsNone(profile(squatter)["associatedMpnId"])
        self.assertEqual(profile(squatter)["association"]["status"], "rejected")
        self.assertFalse(mpn_associated(squatter))
        mail = wait_mails(squatter.contact, 2)[-1]
        self.assertIn(shared, mail.subject)
        self.assertIn("Contoso GmbH", mail.subject)
        self.assertIn("verified as another work account", mail.body)
        self.assertIn("mpn.association.verify", audit_actions(holder.id))
        self.assertIn("mpn.association.reject", audit_actions(squatter.id))
        self.assertIn("mpn.association.decide", audit_actions(operator_tenant()))
        # now the ID is verified, a new claim of it is refused
        p = assert_problem(claim(squatter, shared), 409, "conflict")
        self.assertEqual(p["code"], "mpn_id_taken")
        # the holder claiming it again changes nothing
        r = claim(holder, shared)
        self.assertEqual((r.status, r.body["association"]["status"]), (200, "verified"))
        self.assertEqual(r.body["associatedMpnId"], shared)

    def test_a_rejection_is_mailed_and_the_tenant_may_claim_again(self):
        t = verified_tenant(language="ru")
        cid = claimed(t)
        r = decide(cid, "reject", "the ID belongs to another company")
        self.assertEqual(r.status, 201, r)
        self.assertEqual((r.body["association"]["status"], r.body["released"]), ("rejected", 0))
        self.assertEqual(r.body["association"]["reason"], "the ID belongs to another company")
        mail = wait_mails(t.contact, 3)[-1]
        self.assertIn("не подтверждён", mail.subject)
        self.assertIn("the ID belongs to another company", mail.body)
        a = profile(t)["association"]
        self.assertEqual((a["status"], a["reason"]), ("rejected", "the ID belongs to another company"))
        self.assertIsNotNone(a["decidedAt"])
        # a new claim of the same ID is a new claim, waiting again
        r = claim(t, a["mpnId"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["association"]["status"], "pending_verification")
        self.assertNotEqual(r.body["association"]["id"], cid)
        # the old claim is gone: deciding on it is 404
        assert_problem(decide(cid, "verify"), 404, "not-found")

    def test_a_contact_not_yet_confirmed_is_not_verified(self):
        t = enrolled_tenant()
        cid = claimed(t)
        p = assert_problem(decide(cid, "verify"), 422, "rule-refused")
        self.assertEqual(p["code"], "contact_unverified")
        self.assertEqual(claim_row(t)[2], "pending_verification")
        # a rejection needs no confirmed contact
        self.assertEqual(decide(cid, "reject", "unknown company").status, 201)

    def test_a_new_claim_replaces_a_verified_one(self):
        t = verified_tenant()
        first = claimed(t)
        self.assertEqual(decide(first, "verify").status, 201)
        self.assertTrue(mpn_associated(t))
        second = claimed(t)
        self.assertNotEqual(second, first)
        self.assertIsNone(profile(t)["associatedMpnId"])
        self.assertFalse(mpn_associated(t))
        self.assertEqual(int(sql_value("SELECT COUNT(*) FROM mpn_associations WHERE "
                                       "tenant_id = %s", (t.id,))), 1)


class TestOperatorQueue(unittest.TestCase):
    def test_list_filters_and_shows_the_claim(self):
        t = verified_tenant()
        cid = claimed(t)
        r = api("GET", "/v1/operator/mpn-associations?status=pending_verification&limit=200",
                headers=operator_auth())
        self.assertEqual(r.status, 200, r)
        ids = []
        while True:
            ids += [i["id"] for i in r.body["items"]]
            mine = [i for i in r.body["items"] if i["id"] == cid]
            if mine:
                m = mine[0]
                self.assertEqual((m["tenantId"], m["tenantDomain"], m["companyName"],
                                  m["status"], m["contactVerified"], m["decidedBy"]),
                                 (t.id, t.domain, "Contoso GmbH", "pending_verification",
                                  True, None))
                self.assertEqual(m["country"], "DE")
            if not r.body["links"]["next"] or mine:
                break
            r = api("GET", r.body["links"]["next"], headers=operator_auth())
        self.assertIn(cid, ids)
        self.assertEqual(decide(cid, "verify").status, 201)
        r = api("GET", "/v1/operator/mpn-associations?status=verified&limit=1",
                headers=operator_auth())
        self.assertEqual(r.status, 200, r)
        self.assertTrue(all(i["status"] == "verified" for i in r.body["items"]))
        self.assertEqual(len(r.body["items"]), 1)
        r = api("GET", "/v1/operator/mpn-associations", headers=operator_auth())
        self.assertEqual(r.status, 200, r)
        for q in ("status=bogus", "status=", "limit=0", "cursor=%%%"):
            with self.subTest(q=q):
                r = api("GET", "/v1/operator/mpn-associations?" + q, headers=operator_auth())
                assert_problem(r, 400, None)

    def test_bad_decisions(self):
        t = verified_tenant()
        cid = claimed(t)
        url = "/v1/operator/mpn-associations/%s/decisions" % cid
        for body, field in (({}, "decision"), ({"decision": "approve"}, "decision"),
                            ({"decision": 1}, "decision"),
                            ({"decision": "reject"}, "reason"),
                            ({"decision": "reject", "reason": ""}, "reason"),
                            ({"decision": "verify", "reason": 5}, "reason"),
                            ({"decision": "verify", "reason": "x" * 2001}, "reason")):
            with self.subTest(body=body):
                p = assert_problem(api("POST", url, body=body, headers=operator_auth()), 400,
                                   None)
                self.assertIn(field, field_errors(p))
        p = assert_problem(api("POST", url, body={"decision": "verify", "extra": 1},
                               headers=operator_auth()), 400, None)
        self.assertIn("extra", field_errors(p))
        assert_problem(decide("00000000-0000-7000-8000-000000000000", "verify"), 404,
                       "not-found")
        r = api("POST", "/v1/operator/mpn-associations/not-a-uuid/decisions",
                body={"decision": "verify"}, headers=operator_auth())
        self.assertEqual(r.status, 404, r)
        self.assertEqual(claim_row(t)[2], "pending_verification")

    def test_partners_and_tokens_refused(self):
        t = verified_tenant()
        cid = claimed(t)
        agent = new_user(t, ["admin_agent"])
        tok = new_api_token(t, ["profiles:read"])
        for auth in (t.auth, bearer(access_token(agent.email, agent.password)),
                     bearer(tok["token"])):
            for method, path, body in (
                    ("GET", "/v1/operator/mpn-associations", None),
                    ("POST", "/v1/operator/mpn-associations/%s/decisions" % cid,
                     {"decision": "verify"}),
                    ("GET", "/v1/operator/tenants/%s/domains" % t.id, None),
                    ("POST", "/v1/operator/tenants/%s/domains" % t.id,
                     {"domain": unique_domain("own")}),
                    ("DELETE", "/v1/operator/tenants/%s/domains/x.example" % t.id, None)):
                with self.subTest(path=path, method=method):
                    assert_problem(api(method, path, body=body, headers=auth), 403,
                                   "forbidden")
        self.assertEqual(claim_row(t)[2], "pending_verification")
        self.assertEqual(int(sql_value("SELECT COUNT(*) FROM tenant_verified_domains WHERE "
                                       "tenant_id = %s", (t.id,))), 0)

    def test_replays(self):
        t = verified_tenant()
        cid = claimed(t)
        key = {"Idempotency-Key": "mpn-" + secrets.token_hex(8)}
        first = decide(cid, "verify", headers=key)
        self.assertEqual(first.status, 201, first)
        again = decide(cid, "verify", headers=key)
        self.assertEqual((again.status, again.body), (201, first.body))
        # without the key, a second decision is a conflict naming the status
        p = assert_problem(decide(cid, "verify"), 409, "conflict")
        self.assertEqual(p["code"], "invalid_transition")
        self.assertIn("verified", p["detail"])
        p = assert_problem(decide(cid, "reject", "no"), 409, "conflict")
        self.assertEqual(p["code"], "invalid_transition")
        self.assertEqual(audit_actions(t.id).count("mpn.association.verify"), 1)

    def test_two_operators_verifying_two_claims_of_one_id(self):
        a, b = verified_tenant(), verified_tenant()
        shared = fresh_id()
        ca, cb = claimed(a, shared), claimed(b, shared)
        results = parallel(lambda: decide(ca, "verify"), lambda: decide(cb, "verify"))
        self.assertEqual(sorted(r.status for r in results), [201, 409], results)
        loser = [r for r in results if r.status == 409][0]
        self.assertIn(loser.body["code"], ("invalid_transition", "mpn_id_taken"))
        statuses = sorted(r[0] for r in sql(
            "SELECT status FROM mpn_associations WHERE mpn_id = %s", (shared,)))
        self.assertEqual(statuses, ["rejected", "verified"])
        self.assertEqual(int(sql_value("SELECT COUNT(*) FROM mpn_associations WHERE "
                                       "verified_mpn_id = %s", (shared,))), 1)

    def test_a_claim_and_a_verification_at_once(self):
        holder, late = verified_tenant(), verified_tenant()
        shared = fresh_id()
        cid = claimed(holder, shared)
        add(late, shared)
        results = parallel(lambda: decide(cid, "verify"), lambda: claim(late, shared))
        self.assertEqual(results[0].status, 201, results)
        # the late claim either came first (and was released) or was refused
        if results[1].status == 200:
            self.assertEqual(claim_row(late)[2], "rejected")
        else:
            self.assertEqual(assert_problem(results[1], 409, "conflict")["code"],
                             "mpn_id_taken")
        self.assertEqual(int(sql_value("SELECT COUNT(*) FROM mpn_associations WHERE "
                                       "mpn_id = %s AND status = 'pending_verification'",
                                       (shared,))), 0)


class TestVerifiedDomains(unittest.TestCase):
    def domains(self, tenant_id):
        return api("GET", "/v1/operator/tenants/%s/domains" % tenant_id,
                   headers=operator_auth())

    def verify(self, tenant_id, domain, headers=None):
        h = operator_auth()
        h.update(headers or {})
        return api("POST", "/v1/operator/tenants/%s/domains" % tenant_id,
                   body={"domain": domain}, headers=h)

    def remove(self, tenant_id, domain):
        return api("DELETE", "/v1/operator/tenants/%s/domains/%s" % (tenant_id, domain),
                   headers=operator_auth())

    def test_a_contact_at_a_verified_domain(self):
        t = new_tenant()
        other = unique_domain("sister")
        body = enrollment_body(t.domain, contact_email="pia@" + other)
        # F7: a domain nobody verified is refused
        p = assert_problem(enroll(t, body), 422, "rule-refused")
        self.assertEqual(p["code"], "contact_not_at_domain")
        r = self.verify(t.id, other)
        self.assertEqual(r.status, 201, r)
        self.assertEqual((r.body["domain"], r.body["tenantId"]), (other, t.id))
        self.assertRegex(r.body["verifiedBy"], UUID_RE)
        self.assertIn("tenant.domain.verify", audit_actions(t.id))
        # again: the same record, 200
        again = self.verify(t.id, other)
        self.assertEqual((again.status, again.body), (200, r.body))
        r = self.domains(t.id)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([d["domain"] for d in r.body["items"]], [other])
        # at the verified domain, and below it
        body["primaryContact"]["email"] = "pia@mail." + other
        r = enroll(t, body)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.body["primaryContact"]["email"], "pia@mail." + other)
        wait_mails("pia@mail." + other, 1)

    def test_removed_domain_is_refused_again(self):
        t = new_tenant()
        other = unique_domain("gone")
        self.assertEqual(self.verify(t.id, other).status, 201)
        r = self.remove(t.id, other)
        self.assertEqual(r.status, 204, r)
        self.assertIn("tenant.domain.remove", audit_actions(t.id))
        self.assertEqual(self.domains(t.id).body["items"], [])
        p = assert_problem(self.remove(t.id, other), 404, "not-found")
        self.assertEqual(p["code"], "domain_not_verified")
        p = assert_problem(enroll(t, enrollment_body(t.domain, contact_email="pia@" + other)),
                           422, "rule-refused")
        self.assertEqual(p["code"], "contact_not_at_domain")
        self.assertEqual(int(sql_value("SELECT COUNT(*) FROM enrollments WHERE tenant_id = %s",
                                       (t.id,))), 0)

    def test_bad_domains_and_other_tenants(self):
        a, b = new_tenant(), new_tenant()
        for bad in ("", "Upper.Example", "no_dots", "nodot", "a..b", 7, None):
            with self.subTest(domain=bad):
                r = api("POST", "/v1/operator/tenants/%s/domains" % a.id,
                        body={"domain": bad}, headers=operator_auth())
                self.assertIn("domain", field_errors(assert_problem(r, 400, None)))
        p = assert_problem(api("POST", "/v1/operator/tenants/%s/domains" % a.id, body={},
                               headers=operator_auth()), 400, None)
        self.assertIn("domain", field_errors(p))
        p = assert_problem(self.verify(a.id, "gmail.com"), 422, "rule-refused")
        self.assertEqual(p["code"], "webmail_not_allowed")
        p = assert_problem(self.verify(a.id, a.domain), 422, "rule-refused")
        self.assertEqual(p["code"], "work_account_domain")
        # another tenant's work domain, above or below it, or its verified one
        for taken in (b.domain, "mail." + b.domain):
            with self.subTest(taken=taken):
                p = assert_problem(self.verify(a.id, taken), 409, "conflict")
                self.assertEqual(p["code"], "domain_taken")
        mine = unique_domain("mine")
        self.assertEqual(self.verify(a.id, mine).status, 201)
        for taken in (mine, "eu." + mine):
            with self.subTest(taken=taken):
                p = assert_problem(self.verify(b.id, taken), 409, "conflict")
                self.assertEqual(p["code"], "domain_taken")
        # B cannot remove A's domain as its own
        p = assert_problem(self.remove(b.id, mine), 404, "not-found")
        self.assertEqual(p["code"], "domain_not_verified")
        unknown = "00000000-0000-7000-8000-000000000000"
        assert_problem(self.verify(unknown, unique_domain("x")), 404, "not-found")
        assert_problem(self.domains(unknown), 404, "not-found")
        assert_problem(self.remove(unknown, mine), 404, "not-found")
        self.assertEqual([d["domain"] for d in self.domains(a.id).body["items"]], [mine])

    def test_two_tenants_verifying_one_domain_at_once(self):
        a, b = new_tenant(), new_tenant()
        d = unique_domain("race")
        results = parallel(lambda: self.verify(a.id, d), lambda: self.verify(b.id, d))
        self.assertEqual(sorted(r.status for r in results), [201, 409], results)
        self.assertEqual(int(sql_value("SELECT COUNT(*) FROM tenant_verified_domains WHERE "
                                       "domain = %s", (d,))), 1)
