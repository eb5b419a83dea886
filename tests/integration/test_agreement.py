"""The partner agreement (SPEC §4, §8): versions published by the operator,
the current one of each type, acceptance by an approved reseller's global
admin, and the status everywhere it shows (programInfo, the enrolment
checklist, the CSP overview).  Through nginx, real MariaDB."""

import secrets
import unittest
from datetime import date, timedelta

import pytest

from harness import (UUID_RE, access_token, api, assert_problem, bearer, field_errors,
                     new_api_token, new_tenant, new_user, parallel, port, sql, sql_value)
from world import (SHA, TYPE, accept, approved_tenant, current, enrolled_tenant, operator_auth,
                   publish, signer, verified_tenant)

def info(t):
    return api("GET", "/v1/profiles/organization", headers=t.auth).body["programInfo"]


def step(t, name):
    e = api("GET", "/v1/enrollment", headers=t.auth).body
    return [s for s in e["checklist"] if s["step"] == name][0]


class TestTemplates(unittest.TestCase):
    def test_publish_and_current(self):
        type_ = "t_" + secrets.token_hex(4)
        old = publish("1.0", type_, date.today() - timedelta(days=10))
        self.assertEqual(old.status, 201, old)
        self.assertRegex(old.body["id"], UUID_RE)
        self.assertTrue(old.body["current"])
        new = publish("2.0", type_, date.today())
        self.assertEqual(new.status, 201, new)
        future = publish("3.0", type_, date.today() + timedelta(days=5))
        self.assertEqual(future.status, 201, future)
        self.assertFalse(future.body["current"])
        self.assertEqual(current(type_)["version"], "2.0")
        # a type + version pair once only
        p = assert_problem(publish("2.0", type_), 409, "conflict")
        self.assertEqual(p["code"], "template_version_exists")
        # every type, never one by default
        r = api("GET", "/v1/agreement-templates", headers=operator_auth())
        types = [i["type"] for i in r.body["items"]]
        self.assertIn(type_, types)
        self.assertEqual(len(types), len(set(types)), "one current version a type")
        # the future version takes over on its day, with no job
        sql("UPDATE agreement_templates SET effective_date = UTC_DATE() WHERE id = %s",
            (future.body["id"],))
        self.assertEqual(current(type_)["version"], "3.0")

    def test_bad_versions_refused(self):
        for field, value in (("type", "Partner Agreement"), ("type", ""), ("version", "a b"),
                             ("documentUrl", "http://x.example/a.pdf"),
                             ("documentSha256", "xyz"), ("documentSha256", "a" * 63),
                             ("effectiveDate", "2026-02-30"), ("effectiveDate", "tomorrow"),
                             ("effectiveDate", 20260101)):
            with self.subTest(field=field, value=value):
                p = assert_problem(publish(**{field: value}), 400, "validation-failed")
                self.assertIn(field, field_errors(p))
        r = api("POST", "/v1/operator/agreement-templates", body={"type": TYPE},
                headers=operator_auth())
        assert_problem(r, 400, "validation-failed")

    def test_only_the_operator_publishes(self):
        t = approved_tenant()
        body = {"type": TYPE, "version": "x", "documentUrl": "https://x.example/a.pdf",
                "documentSha256": SHA, "effectiveDate": "2026-01-01"}
        assert_problem(api("POST", "/v1/operator/agreement-templates", body=body,
                           headers=t.auth), 403, "forbidden")
        tok = new_api_token(t, ["agreements:read"])
        assert_problem(api("POST", "/v1/operator/agreement-templates", body=body,
                           headers=bearer(tok["token"])), 403, "forbidden")
        # any principal reads the current versions
        self.assertEqual(api("GET", "/v1/agreement-templates",
                             headers=bearer(tok["token"])).status, 200)
        self.assertEqual(api("GET", "/v1/agreement-templates", headers=t.auth).status, 200)
        assert_problem(api("GET", "/v1/agreement-templates"), 401, "unauthenticated")
        assert_problem(api("GET", "/v1/agreement-templates?type=Bad%20Type",
                           headers=t.auth), 400, None)


@pytest.mark.usefixtures("current_agreement")
class TestAcceptance(unittest.TestCase):

    def test_accept_as_global_admin(self):
        t = approved_tenant()
        self.assertEqual(info(t)["programStatus"], "qualified")
        self.assertFalse(step(t, "agreementSigned")["done"])
        cur = current()
        r = accept(t, templateId=cur["id"], headers={"X-Forwarded-For": "198.51.100.7"})
        self.assertEqual(r.status, 201, r)
        a = r.body
        self.assertEqual((a["templateId"], a["type"], a["version"]),
                         (cur["id"], TYPE, cur["version"]))
        self.assertEqual(a["signedBy"], t.admin_id)
        self.assertEqual(a["signer"]["email"], "sam@partner.example")
        self.assertEqual(a["signer"]["phoneNumber"], "+49305555555")
        # nginx's REMOTE_ADDR: this client is no trusted proxy
        self.assertEqual(a["clientAddress"], "127.0.0.1")
        row = sql("SELECT user_id, template_id, client_addr, signer_first_name FROM "
                  "agreement_acceptances WHERE id = %s", (a["id"],))
        self.assertEqual(row, [[t.admin_id, cur["id"], "127.0.0.1", "Sam"]])
        pi = info(t)
        self.assertEqual(pi["programStatus"], "active")
        self.assertEqual(pi["agreement"], {"signed": True, "version": cur["version"],
                                           "signedBy": t.admin_id, "signedAt": a["signedAt"]})
        self.assertTrue(step(t, "agreementSigned")["done"])
        r = api("GET", "/v1/overview", headers=t.auth)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["banner"], {"kind": "agreement_accepted",
                                            "version": cur["version"],
                                            "signedAt": a["signedAt"]})
        self.assertEqual(r.body["programStatus"], "active")
        self.assertEqual(r.body["nextStep"]["step"], "mpnAssociated")
        listed = api("GET", "/v1/agreements", headers=t.auth).body
        self.assertEqual([i["id"] for i in listed["items"]], [a["id"]])
        self.assertEqual(listed["totalCount"], 1)
        self.assertEqual(sql_value("SELECT COUNT(*) FROM audit_events WHERE tenant_id = %s AND "
                                   "action = 'agreement.accept' AND target_id = %s",
                                   (t.id, a["id"])), "1")
        # the current version signed twice
        p = assert_problem(accept(t, type=TYPE), 409, "conflict")
        self.assertEqual(p["code"], "already_signed")

    def test_type_alone_resolves_the_current_version(self):
        t = approved_tenant()
        r = accept(t, type=TYPE)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.body["templateId"], current()["id"])

    def test_six_at_once_one_wins(self):
        t = approved_tenant()
        results = parallel(*[lambda: accept(t, type=TYPE) for _ in range(6)])
        self.assertEqual(sorted(r.status for r in results), [201, 409, 409, 409, 409, 409],
                         results)
        self.assertEqual(sql_value("SELECT COUNT(*) FROM agreement_acceptances WHERE tenant_id = "
                                   "%s", (t.id,)), "1")

    def test_refused_for_tokens_other_roles_and_unapproved(self):
        t = approved_tenant()
        tok = new_api_token(t, ["agreements:read", "profiles:read"])
        p = assert_problem(accept(t, headers={"Authorization": "Bearer " + tok["token"]},
                                  type=TYPE), 403, "forbidden")
        self.assertIn("global admin signed in interactively", p["detail"])
        u = new_user(t, ["admin_agent", "sales_agent"])
        p = assert_problem(accept(t, headers={"Authorization": "Bearer " +
                                              access_token(u.email, u.password)}, type=TYPE),
                           403, "forbidden")
        self.assertIn("global_admin", p["detail"])
        for who, step_name in ((enrolled_tenant(), "emailVerified"),
                               (verified_tenant(), "reviewApproved")):
            with self.subTest(step=step_name):
                p = assert_problem(accept(who, type=TYPE), 422, "rule-refused")
                self.assertEqual(p["code"], "enrollment_not_approved")
                self.assertIn(step_name, p["detail"])
        self.assertEqual(sql_value("SELECT COUNT(*) FROM agreement_acceptances WHERE tenant_id = "
                                   "%s", (t.id,)), "0")

    def test_bad_signers_and_templates(self):
        t = approved_tenant()
        for field, value in (("firstName", ""), ("lastName", "\u202e"), ("email", "nope"),
                             ("phoneNumber", "12")):
            with self.subTest(field=field):
                p = assert_problem(accept(t, type=TYPE, signer=signer(**{field: value})), 400,
                                   "validation-failed")
                self.assertIn("signer." + field, field_errors(p))
        p = assert_problem(accept(t, signer={"firstName": "A"}, type=TYPE), 400, None)
        self.assertIn("signer.email", field_errors(p))
        p = assert_problem(accept(t), 400, "validation-failed")
        self.assertIn("templateId", field_errors(p))
        p = assert_problem(accept(t, templateId="01a2340c-0000-7000-8000-000000000000"), 422,
                           "rule-refused")
        self.assertEqual(p["code"], "template_unknown")
        other_type = "t_" + secrets.token_hex(4)
        other = publish("1", other_type, date.today())
        self.assertEqual(other.status, 201, other)
        p = assert_problem(accept(t, templateId=other.body["id"], type=TYPE), 422, "rule-refused")
        self.assertEqual(p["code"], "template_type_mismatch")
        fut = publish("9", other_type, date.today() + timedelta(days=30))
        p = assert_problem(accept(t, templateId=fut.body["id"]), 422, "rule-refused")
        self.assertEqual(p["code"], "template_not_current")
        p = assert_problem(accept(t, type="t_" + secrets.token_hex(4)), 422, "rule-refused")
        self.assertEqual(p["code"], "no_current_template")
        # another type's current version may be signed too, and both are listed
        self.assertEqual(accept(t, templateId=other.body["id"]).status, 201)
        self.assertEqual(accept(t, type=TYPE).status, 201)
        items = api("GET", "/v1/agreements", headers=t.auth).body["items"]
        self.assertEqual(sorted(i["type"] for i in items), sorted([TYPE, other_type]))

    def test_a_new_version_unsigns_at_once(self):
        t = approved_tenant()
        self.assertEqual(accept(t, type=TYPE).status, 201)
        self.assertEqual(info(t)["programStatus"], "active")
        newer = publish("z" + secrets.token_hex(3), TYPE, date.today())
        self.assertEqual(newer.status, 201, newer)
        try:
            pi = info(t)
            self.assertEqual(pi["programStatus"], "qualified")
            self.assertFalse(pi["agreement"]["signed"])
            self.assertFalse(step(t, "agreementSigned")["done"])
            self.assertIsNone(api("GET", "/v1/overview", headers=t.auth).body["banner"])
            signed = sql_value("SELECT template_id FROM agreement_acceptances WHERE tenant_id = "
                               "%s", (t.id,))
            p = assert_problem(accept(t, templateId=signed), 422, "rule-refused")
            self.assertEqual(p["code"], "template_not_current")
            self.assertEqual(accept(t, templateId=newer.body["id"]).status, 201)
            self.assertEqual(info(t)["programStatus"], "active")
            self.assertEqual(len(api("GET", "/v1/agreements", headers=t.auth).body["items"]), 2)
        finally:
            # the other tests sign the version that was current before
            sql("UPDATE agreement_templates SET effective_date = UTC_DATE() + INTERVAL 1 YEAR "
                "WHERE id = %s", (newer.body["id"],))

    def test_another_tenant_cannot_read_the_acceptances(self):
        a, b = approved_tenant(), approved_tenant()
        self.assertEqual(accept(a, type=TYPE).status, 201)
        self.assertEqual(api("GET", "/v1/agreements", headers=b.auth).body["items"], [])
        self.assertFalse(info(b)["agreement"]["signed"])
        tok = new_api_token(b, ["agreements:read"])
        r = api("GET", "/v1/agreements", headers=bearer(tok["token"]))
        self.assertEqual((r.status, r.body["items"]), (200, []))
        no = new_api_token(b, ["customers:read"])
        assert_problem(api("GET", "/v1/agreements", headers=bearer(no["token"])), 403,
                       "forbidden")

    def test_every_forwarded_line_and_address_forms(self):
        import http.client
        cases = ((("198.51.100.1", "203.0.113.9"), "203.0.113.9"),
                 (("203.0.113.10:4711",), "203.0.113.10"),
                 (("[2001:DB8::1]:443",), "2001:db8::1"))
        for lines, want in cases:
            with self.subTest(lines=lines):
                t = approved_tenant()
                conn = http.client.HTTPConnection("127.0.0.1", port(), timeout=30,
                                                  source_address=("127.0.0.9", 0))
                body = ('{"type": "%s", "signer": {"firstName": "S", "lastName": "T", '
                        '"email": "s@t.example", "phoneNumber": "+49 30 1234567"}}' % TYPE)
                conn.putrequest("POST", "/v1/agreements")
                conn.putheader("Authorization", t.auth["Authorization"])
                conn.putheader("Content-Type", "application/json")
                conn.putheader("Content-Length", str(len(body)))
                for line in lines:
                    conn.putheader("X-Forwarded-For", line)
                conn.endheaders(body.encode())
                r = conn.getresponse()
                import json
                doc = json.loads(r.read())
                conn.close()
                self.assertEqual(r.status, 201, doc)
                self.assertEqual(doc["clientAddress"], want)

    def test_client_address_from_a_trusted_proxy(self):
        t = approved_tenant()
        h = {"X-Forwarded-For": "203.0.113.9, 127.0.0.9"}
        b = {"signer": signer(), "type": TYPE}
        r = api("POST", "/v1/agreements", body=b, headers=dict(t.auth, **h), source="127.0.0.9")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.body["clientAddress"], "203.0.113.9")
        # a forged header from an untrusted client changes nothing
        t2 = approved_tenant()
        r = api("POST", "/v1/agreements", body=b,
                headers=dict(t2.auth, **{"X-Forwarded-For": "203.0.113.10"}), source="127.0.0.10")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.body["clientAddress"], "127.0.0.10")
        # garbage from a trusted proxy: its own address
        t3 = approved_tenant()
        r = api("POST", "/v1/agreements", body=b,
                headers=dict(t3.auth, **{"X-Forwarded-For": "not-an-address"}),
                source="127.0.0.9")
        self.assertEqual(r.body["clientAddress"], "127.0.0.9")


class TestOverview(unittest.TestCase):
    def test_overview_before_and_during_enrolment(self):
        t = new_tenant()
        r = api("GET", "/v1/overview", headers=t.auth)
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.body["enrollmentStatus"])
        self.assertEqual(r.body["nextStep"]["step"], "enrollment")
        self.assertIsNone(r.body["banner"])
        e = enrolled_tenant()
        r = api("GET", "/v1/overview", headers=e.auth).body
        self.assertEqual(r["enrollmentStatus"], "pending_email_verification")
        self.assertEqual(r["programStatus"], "pending")
        self.assertEqual(r["nextStep"]["step"], "emailVerified")
        self.assertEqual(len(r["checklist"]), 6)
        assert_problem(api("GET", "/v1/overview"), 401, "unauthenticated")

