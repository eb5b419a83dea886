"""Enrolment as an indirect reseller (SPEC §3, §8): the enrolment and its
validation, the primary contact's verification by mail, the operator's
review, the profiles and MPN IDs.  Black-box: through nginx, the database,
and the .eml files the service's sender writes into mail_dir."""

import json
import secrets
import time
import unittest

import pytest

from harness import (API_TIME_RE, UUID_RE, access_token, api, assert_problem, bearer, env,
                     field_errors, link_token, mails_to, new_api_token, new_tenant, new_user,
                     parallel, sql, sql_value, wait_mails)
from world import (approved_tenant, decide, enroll, enrolled_tenant, enrollment_body,
                   not_in_programme, operator_auth, verified_tenant, verify_token)

WEBMAIL = ["gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "ymail.com",
           "icloud.com", "me.com", "mac.com", "aol.com", "outlook.com", "outlook.com.br",
           "hotmail.com", "hotmail.fr", "live.com", "live.de", "msn.com", "GMail.COM",
           "mail.yahoo.co.uk", "eu.hotmail.fr"]
CHECKLIST = ["emailVerified", "reviewApproved", "mpnAssociated", "agreementSigned",
             "adminAgentAssigned", "providerAuthorized"]


def status_of(t):
    return sql_value("SELECT status FROM enrollments WHERE id = %s", (t.enrollment_id,))


def enrollment_rows(tenant_id):
    return int(sql_value("SELECT COUNT(*) FROM enrollments WHERE tenant_id = %s", (tenant_id,)))


def outbox_rows(tenant_id):
    return int(sql_value("SELECT COUNT(*) FROM mail_outbox WHERE tenant_id = %s", (tenant_id,)))


def transitions(t):
    return sql("SELECT IFNULL(from_status, ''), to_status, actor_type, IFNULL(actor_id, ''), "
               "IFNULL(reason, '') FROM enrollment_transitions WHERE enrollment_id = %s "
               "ORDER BY id", (t.enrollment_id,))


def steps(enrollment):
    return {s["step"]: s["done"] for s in enrollment["checklist"]}


class TestFlow(unittest.TestCase):
    def test_sign_up_enrol_verify_approve(self):
        t = new_tenant()
        body = enrollment_body(t.domain)
        r = enroll(t, body)
        self.assertEqual(r.status, 201, r)
        e = r.body
        self.assertRegex(e["id"], UUID_RE)
        self.assertEqual(r.headers.get("location"), "/v1/enrollment")
        self.assertEqual(e["status"], "pending_email_verification")
        self.assertEqual((e["cspCountry"], e["cspRegion"]), ("DE", "europe"))
        self.assertEqual(e["primaryContact"]["email"], "pia@" + t.domain)
        self.assertEqual(e["primaryContact"]["phoneNumber"], "+49307654321")
        self.assertEqual(e["primaryContact"]["language"], "en")
        self.assertIsNone(e["emailVerifiedAt"])
        self.assertEqual([s["step"] for s in e["checklist"]], CHECKLIST)
        self.assertEqual(steps(e), {"emailVerified": False, "reviewApproved": False,
                                    "mpnAssociated": False, "agreementSigned": False,
                                    "adminAgentAssigned": True, "providerAuthorized": False})
        for s in e["checklist"]:
            self.assertEqual(s["next"] is None, s["done"], s)
        self.assertEqual(sql_value("SELECT csp_country FROM tenants WHERE id = %s", (t.id,)), "DE")

        # the verification mail, as a real RFC 5322 file
        mail = wait_mails("pia@" + t.domain, 1)[0]
        self.assertIn("Contoso GmbH", mail.subject)
        for h in ("Date", "Message-ID", "From", "To", "Subject", "MIME-Version"):
            self.assertTrue(mail.header(h), h)
        self.assertRegex(mail.header("Message-ID"), r"^<[^<>@\s]+@[^<>@\s]+>$")
        self.assertIn("no-reply@", mail.header("From"))
        self.assertIn(env("TWOTIER_BASE_URL") + "/verify-email?token=", mail.body)
        token = link_token(mail, "/verify-email")
        self.assertGreaterEqual(len(token), 43)  # 256 bits in base64url
        stored = sql_value("SELECT token_hash FROM email_verifications v JOIN enrollments e "
                           "ON e.id = v.enrollment_id WHERE e.tenant_id = %s", (t.id,))
        self.assertNotIn(token, stored)
        self.assertRegex(stored, r"^[0-9a-f]{64}$")

        r = verify_token(token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["status"], "in_review")
        self.assertRegex(r.body["emailVerifiedAt"], API_TIME_RE)
        mails = wait_mails("pia@" + t.domain, 2)
        self.assertIn("review", mails[1].subject)

        r = api("GET", "/v1/enrollment", headers=t.auth)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(steps(r.body)["emailVerified"])
        self.assertEqual(r.body["status"], "in_review")

        # the operator finds it and approves it
        r = api("GET", "/v1/operator/enrollments?status=in_review&limit=200",
                headers=operator_auth())
        self.assertEqual(r.status, 200, r)
        found = [i for i in r.body["items"] if i["id"] == e["id"]]
        while not found and r.body["links"]["next"]:
            r = api("GET", r.body["links"]["next"], headers=operator_auth())
            found = [i for i in r.body["items"] if i["id"] == e["id"]]
        self.assertEqual(len(found), 1)
        self.assertEqual(found[0]["tenantDomain"], t.domain)
        r = decide(e["id"], "approve")
        self.assertEqual(r.status, 201, r)
        self.assertEqual((r.body["fromStatus"], r.body["toStatus"]), ("in_review", "approved"))
        mails = wait_mails("pia@" + t.domain, 3)
        self.assertIn("approved", mails[2].subject)

        r = api("GET", "/v1/me", headers=t.auth)
        self.assertEqual(r.body["partnerTypes"], ["indirect_reseller"])
        r = api("GET", "/v1/profiles/organization", headers=t.auth)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["programInfo"]["enrollmentStatus"], "approved")
        self.assertEqual(r.body["programInfo"]["programStatus"], "qualified")
        self.assertEqual(r.body["programInfo"]["agreement"],
                         {"signed": False, "version": None, "signedBy": None, "signedAt": None})
        self.assertEqual((r.body["cspCountry"], r.body["cspRegion"], r.body["domain"]),
                         ("DE", "europe", t.domain))

        # every transition written: from, to, who
        tr = [tuple(x) for x in sql(
            "SELECT IFNULL(from_status, ''), to_status, actor_type FROM enrollment_transitions "
            "WHERE enrollment_id = %s ORDER BY id", (e["id"],))]
        self.assertEqual(tr, [("", "pending_email_verification", "user"),
                              ("pending_email_verification", "in_review", "anonymous"),
                              ("in_review", "approved", "user")])
        actions = [a for (a,) in sql("SELECT action FROM audit_events WHERE tenant_id = %s",
                                     (t.id,))]
        for a in ("enrollment.pending_email_verification", "enrollment.in_review",
                  "enrollment.approved"):
            self.assertIn(a, actions)

    def test_russian_contact_gets_russian_mail(self):
        t = enrolled_tenant(language="ru")
        mail = wait_mails(t.contact, 1)[0]
        self.assertIn("Подтвердите", mail.subject)
        with open(mail.path, encoding="ascii") as f:
            self.assertIn("Subject: =?UTF-8?B?", f.read())  # RFC 2047, the file is ASCII
        self.assertIn("Здравствуйте", mail.body)

    def test_global_admin_joins_admin_agent_group(self):
        t = new_tenant()
        ga = new_user(t, ["global_admin"])
        auth = bearer(access_token(ga.email, ga.password))
        r = api("POST", "/v1/enrollments", body=enrollment_body(t.domain), headers=auth)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(sql_value("SELECT roles FROM users WHERE id = %s", (ga.id,)),
                         "global_admin,admin_agent")
        self.assertEqual(sql_value(
            "SELECT COUNT(*) FROM audit_events WHERE tenant_id = %s AND target_id = %s "
            "AND action = 'user.roles.grant_admin_agent'", (t.id, ga.id)),
            "1")
        self.assertTrue(steps(r.body)["adminAgentAssigned"])


class TestEnrolmentInput(unittest.TestCase):
    @pytest.fixture(autouse=True)
    def _world(self, class_tenant):
        self.t = class_tenant

    def refused(self, body, status=400, suffix="validation-failed"):
        r = enroll(self.t, body)
        p = assert_problem(r, status, suffix)
        self.assertEqual(enrollment_rows(self.t.id), 0)
        self.assertEqual(outbox_rows(self.t.id), 0)
        return p

    def test_each_bad_field_is_named(self):
        cases = [
            (("legalBusinessProfile", "companyName"), "", "legalBusinessProfile.companyName"),
            (("legalBusinessProfile", "companyName"), "\u0007bell",
             "legalBusinessProfile.companyName"),
            (("legalBusinessProfile", "phoneNumber"), "030 1234567",
             "legalBusinessProfile.phoneNumber"),
            (("legalBusinessProfile", "phoneNumber"), "+0123456789",
             "legalBusinessProfile.phoneNumber"),
            (("legalBusinessProfile", "phoneNumber"), "+49 30", "legalBusinessProfile.phoneNumber"),
            (("legalBusinessProfile", "address", "country"), "XX",
             "legalBusinessProfile.address.country"),
            (("legalBusinessProfile", "address", "country"), "de",
             "legalBusinessProfile.address.country"),
            (("legalBusinessProfile", "address", "country"), "DEU",
             "legalBusinessProfile.address.country"),
            (("legalBusinessProfile", "address", "postalCode"), "",
             "legalBusinessProfile.address.postalCode"),
            (("legalBusinessProfile", "address", "postalCode"), "   ",
             "legalBusinessProfile.address.postalCode"),
            (("legalBusinessProfile", "address", "city"), "x" * 101,
             "legalBusinessProfile.address.city"),
            (("primaryContact", "email"), "not-an-address", "primaryContact.email"),
            (("primaryContact", "firstName"), "", "primaryContact.firstName"),
            (("primaryContact", "phoneNumber"), "+49 30 123 456 789 012 345",
             "primaryContact.phoneNumber"),
            (("primaryContact", "language"), "fr", "primaryContact.language"),
            (("supportProfile", "email"), "support", "supportProfile.email"),
            (("supportProfile", "telephone"), "call us", "supportProfile.telephone"),
            (("supportProfile", "website"), "http://contoso.example", "supportProfile.website"),
            (("supportProfile", "website"), "https://", "supportProfile.website"),
            (("supportProfile", "website"), "https://contoso.example/a b",
             "supportProfile.website"),
            (("legalBusinessProfile", "companyName"), 42, "legalBusinessProfile.companyName"),
            (("supportProfile", "website"), None, "supportProfile.website"),
        ]
        for path, value, field in cases:
            with self.subTest(field=field, value=value):
                body = enrollment_body(self.t.domain)
                obj = body
                for k in path[:-1]:
                    obj = obj[k]
                obj[path[-1]] = value
                p = self.refused(body)
                self.assertIn(field, field_errors(p), p)

    def test_missing_parts_and_fields(self):
        for drop in (("supportProfile",), ("primaryContact",), ("legalBusinessProfile",),
                     ("legalBusinessProfile", "address"),
                     ("legalBusinessProfile", "address", "postalCode"),
                     ("legalBusinessProfile", "address", "country"),
                     ("primaryContact", "email"), ("supportProfile", "website")):
            with self.subTest(missing=".".join(drop)):
                body = enrollment_body(self.t.domain)
                obj = body
                for k in drop[:-1]:
                    obj = obj[k]
                del obj[drop[-1]]
                p = self.refused(body)
                self.assertEqual(field_errors(p).get(".".join(drop)), "required", p)

    def test_every_error_at_once(self):
        body = enrollment_body(self.t.domain)
        body["legalBusinessProfile"]["phoneNumber"] = "x"
        body["primaryContact"]["email"] = "x"
        body["supportProfile"]["website"] = "x"
        p = self.refused(body)
        self.assertEqual(set(field_errors(p)), {"legalBusinessProfile.phoneNumber",
                                                "primaryContact.email", "supportProfile.website"})

    def test_unknown_field_wrong_type_bad_json_oversize(self):
        body = enrollment_body(self.t.domain)
        body["legalBusinessProfile"]["taxId"] = "DE123"
        p = self.refused(body)
        self.assertEqual(field_errors(p).get("legalBusinessProfile.taxId"), "unknown_field")
        body = enrollment_body(self.t.domain)
        body["primaryContact"] = "pia"
        self.refused(body)
        r = api("POST", "/v1/enrollments", raw='{"legalBusinessProfile": {', headers=dict(
            self.t.auth, **{"Content-Type": "application/json"}))
        assert_problem(r, 400, "malformed-json")
        r = api("POST", "/v1/enrollments", raw=json.dumps(enrollment_body(self.t.domain)),
                headers=dict(self.t.auth, **{"Content-Type": "text/plain"}))
        assert_problem(r, 415, "unsupported-media-type")
        body = enrollment_body(self.t.domain)
        body["legalBusinessProfile"]["companyName"] = "x" * 70000
        r = enroll(self.t, body)
        self.assertEqual(r.status, 413, r)
        self.assertEqual(enrollment_rows(self.t.id), 0)

    def test_country_not_in_the_programme(self):
        country = not_in_programme()
        p = self.refused(enrollment_body(self.t.domain, country=country), 422, "rule-refused")
        self.assertEqual(p["code"], "country_not_in_program")
        self.assertIn(country, p["detail"])

    def test_webmail_primary_contacts_refused(self):
        for host in WEBMAIL:
            with self.subTest(host=host):
                p = self.refused(enrollment_body(self.t.domain, contact_email="pia@" + host),
                                 422, "rule-refused")
                self.assertEqual(p["code"], "webmail_not_allowed")
                self.assertEqual(field_errors(p), {"primaryContact.email": "webmail_not_allowed"})

    def test_webmail_with_other_errors_is_a_validation_failure(self):
        body = enrollment_body(self.t.domain, contact_email="pia@gmail.com")
        body["supportProfile"]["website"] = "ftp://x"
        p = self.refused(body)
        self.assertEqual(field_errors(p), {"primaryContact.email": "webmail_not_allowed",
                                           "supportProfile.website": "invalid"})

    def test_the_contact_is_at_the_work_accounts_domain(self):
        """Issue 21, F7: a mailbox at any other domain, even a company's
        that looks like a web mail service's, proves nothing of this one."""
        for host in ("live.example.com", "gmail.company.example", "notgmail.com"):
            with self.subTest(host=host):
                t = new_tenant()
                p = assert_problem(enroll(t, enrollment_body(t.domain,
                                                             contact_email="pia@" + host)),
                                   422, "rule-refused")
                self.assertEqual(p["code"], "contact_not_at_domain")
                self.assertIn(t.domain, p["detail"])
                self.assertEqual(api("GET", "/v1/enrollment", headers=t.auth).status, 404)
        t = new_tenant()
        r = enroll(t, enrollment_body(t.domain, contact_email="pia@mail." + t.domain))
        self.assertEqual(r.status, 201, r)
        t = new_tenant()
        r = enroll(t, enrollment_body(t.domain, contact_email="pia@x" + t.domain))
        self.assertEqual(assert_problem(r, 422, "rule-refused")["code"], "contact_not_at_domain")


class TestEnrolmentAccess(unittest.TestCase):
    def test_api_token_refused_saying_why(self):
        t = new_tenant()
        tok = new_api_token(t, ["profiles:read"])
        r = api("POST", "/v1/enrollments", body=enrollment_body(t.domain),
                headers=bearer(tok["token"]))
        p = assert_problem(r, 403, "forbidden")
        self.assertIn("global admin signed in interactively", p["detail"])
        self.assertEqual(enrollment_rows(t.id), 0)

    def test_every_global_admin_route_refuses_tokens_and_other_roles(self):
        t = enrolled_tenant()
        tok = new_api_token(t, ["profiles:read", "relationships:write", "customers:write"])
        u = new_user(t, ["admin_agent", "sales_agent"])
        agent = bearer(access_token(u.email, u.password))
        routes = [("POST", "/v1/enrollments", enrollment_body(t.domain)),
                  ("POST", "/v1/enrollment/email-verification/resend", None),
                  ("PUT", "/v1/profiles/legalbusiness",
                   enrollment_body(t.domain)["legalBusinessProfile"]),
                  ("PUT", "/v1/profiles/support", enrollment_body(t.domain)["supportProfile"]),
                  ("POST", "/v1/profiles/mpn/identifiers",
                   {"mpnId": "123456", "country": "DE", "locationName": "Berlin"}),
                  ("PUT", "/v1/profiles/mpn/association", {"mpnId": "123456"})]
        for method, path, body in routes:
            with self.subTest(path=path):
                h = dict(bearer(tok["token"]), **{"If-Match": "*"})
                p = assert_problem(api(method, path, body=body, headers=h), 403, "forbidden")
                self.assertIn("global admin signed in interactively", p["detail"])
                h = dict(agent, **{"If-Match": "*"})
                p = assert_problem(api(method, path, body=body, headers=h), 403, "forbidden")
                self.assertIn("global_admin", p["detail"])
        self.assertEqual(sql_value("SELECT version FROM legal_profiles WHERE tenant_id = %s",
                                   (t.id,)), "1")
        self.assertEqual(sql_value("SELECT COUNT(*) FROM mpn_identifiers WHERE tenant_id = %s",
                                   (t.id,)), "0")
        self.assertEqual(len(wait_mails(t.contact, 1)), 1)

    def test_other_roles_refused(self):
        t = new_tenant()
        for roles in (["admin_agent"], ["sales_agent"], ["billing_admin", "helpdesk_agent"]):
            with self.subTest(roles=roles):
                u = new_user(t, roles)
                r = api("POST", "/v1/enrollments", body=enrollment_body(t.domain),
                        headers=bearer(access_token(u.email, u.password)))
                p = assert_problem(r, 403, "forbidden")
                self.assertIn("global_admin", p["detail"])
        self.assertEqual(enrollment_rows(t.id), 0)
        r = api("POST", "/v1/enrollments", body=enrollment_body(t.domain))
        assert_problem(r, 401, "unauthenticated")

    def test_second_enrolment_409_and_two_at_once(self):
        t = enrolled_tenant()
        r = enroll(t)
        self.assertEqual(assert_problem(r, 409, "conflict")["code"], "already_enrolled")
        t2 = new_tenant()
        results = parallel(*[lambda: enroll(t2) for _ in range(6)])
        self.assertEqual(sorted(r.status for r in results), [201, 409, 409, 409, 409, 409],
                         results)
        self.assertEqual(enrollment_rows(t2.id), 1)
        self.assertEqual(len(wait_mails("pia@" + t2.domain, 1)), 1)
        time.sleep(0.5)
        self.assertEqual(outbox_rows(t2.id), 1)

    def test_idempotent_replay(self):
        t = new_tenant()
        h = {"Idempotency-Key": "enrol-" + secrets.token_hex(6)}
        r1 = enroll(t, headers=h)
        r2 = enroll(t, headers=h)
        self.assertEqual((r1.status, r2.status), (201, 201))
        self.assertEqual(r1.body["id"], r2.body["id"])
        self.assertEqual(r2.headers.get("idempotent-replayed"), "true")
        self.assertEqual(outbox_rows(t.id), 1)
        other = enrollment_body(t.domain)
        other["legalBusinessProfile"]["companyName"] = "Other"
        r3 = enroll(t, other, headers=h)
        assert_problem(r3, 422, None)

    def test_reads_need_a_user_or_profiles_scope(self):
        t = enrolled_tenant()
        u = new_user(t, ["sales_agent"])
        auth = bearer(access_token(u.email, u.password))
        for path in ("/v1/enrollment", "/v1/profiles/legalbusiness", "/v1/profiles/support",
                     "/v1/profiles/organization", "/v1/profiles/mpn"):
            with self.subTest(path=path):
                self.assertEqual(api("GET", path, headers=auth).status, 200)
                ok = new_api_token(t, ["profiles:read"])
                self.assertEqual(api("GET", path, headers=bearer(ok["token"])).status, 200)
                no = new_api_token(t, ["customers:read"])
                assert_problem(api("GET", path, headers=bearer(no["token"])), 403, "forbidden")
                assert_problem(api("GET", path), 401, "unauthenticated")

    def test_another_tenant_sees_only_its_own(self):
        a = enrolled_tenant()
        b = new_tenant()
        r = api("GET", "/v1/enrollment", headers=b.auth)
        self.assertEqual(assert_problem(r, 404, "not-found")["code"], "not_enrolled")
        for path in ("/v1/profiles/legalbusiness", "/v1/profiles/support"):
            self.assertEqual(assert_problem(api("GET", path, headers=b.auth), 404,
                                            "not-found")["code"], "not_enrolled")
        r = api("GET", "/v1/profiles/organization", headers=b.auth)
        self.assertEqual(r.body["programInfo"]["enrollmentStatus"], None)
        self.assertEqual(r.body["programInfo"]["programStatus"], "pending")
        self.assertIsNone(r.body["cspCountry"])
        self.assertNotIn(a.domain, json.dumps(r.body))

    def test_operator_routes_refuse_partners(self):
        t = enrolled_tenant()
        tok = new_api_token(t, ["profiles:read"])
        for auth in (t.auth, bearer(tok["token"])):
            for method, path, body in (
                    ("GET", "/v1/operator/enrollments", None),
                    ("POST", "/v1/operator/enrollments/%s/decisions" % t.enrollment_id,
                     {"decision": "approve"}),
                    ("GET", "/v1/operator/mail", None),
                    ("POST", "/v1/operator/mail/%s/retry" % t.enrollment_id, None)):
                with self.subTest(path=path):
                    assert_problem(api(method, path, body=body, headers=auth), 403, "forbidden")
        self.assertEqual(status_of(t), "pending_email_verification")


class TestVerification(unittest.TestCase):
    def test_replayed_expired_forged_and_replaced_tokens(self):
        t = enrolled_tenant()
        token = link_token(wait_mails(t.contact, 1)[0], "/verify-email")
        forged = verify_token(secrets.token_urlsafe(32))
        p_forged = assert_problem(forged, 404, "not-found")
        self.assertEqual(p_forged["code"], "verification_link_invalid")

        # expired: the same answer
        t2 = enrolled_tenant()
        token2 = link_token(wait_mails(t2.contact, 1)[0], "/verify-email")
        sql("UPDATE email_verifications SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND "
            "WHERE enrollment_id = %s", (t2.enrollment_id,))
        p_expired = assert_problem(verify_token(token2), 404, "not-found")
        self.assertEqual(status_of(t2), "pending_email_verification")

        self.assertEqual(verify_token(token).status, 200)
        p_replayed = assert_problem(verify_token(token), 404, "not-found")
        for p in (p_expired, p_replayed):
            self.assertEqual({k: v for k, v in p.items() if k != "requestId"},
                             {k: v for k, v in p_forged.items() if k != "requestId"})
        self.assertEqual(len(transitions(t)), 2)

        # a resend replaces the token
        t3 = enrolled_tenant()
        old = link_token(wait_mails(t3.contact, 1)[0], "/verify-email")
        r = api("POST", "/v1/enrollment/email-verification/resend", headers=t3.auth)
        self.assertEqual(r.status, 202, r)
        self.assertRegex(r.body["expiresAt"], API_TIME_RE)
        new = link_token(wait_mails(t3.contact, 2)[1], "/verify-email")
        self.assertNotEqual(old, new)
        assert_problem(verify_token(old), 404, "not-found")
        self.assertEqual(verify_token(new).status, 200)

    def test_bad_bodies(self):
        for body in ({}, {"token": ""}, {"token": 5}, {"token": "x", "extra": 1},
                     {"token": "x" * 129}):
            with self.subTest(body=body):
                assert_problem(verify_token_raw(body), 400, None)

    def test_concurrent_verifications_one_wins(self):
        t = enrolled_tenant()
        token = link_token(wait_mails(t.contact, 1)[0], "/verify-email")
        results = parallel(*[lambda: verify_token(token) for _ in range(8)])
        self.assertEqual(sorted(r.status for r in results), [200] + [404] * 7, results)
        self.assertEqual(len(transitions(t)), 2)
        self.assertEqual(len(wait_mails(t.contact, 2)), 2)

    def test_resend_limit(self):
        t = enrolled_tenant()
        for i in range(5):
            r = api("POST", "/v1/enrollment/email-verification/resend", headers=t.auth)
            self.assertEqual(r.status, 202, (i, r))
        r = api("POST", "/v1/enrollment/email-verification/resend", headers=t.auth)
        p = assert_problem(r, 429, "too-many-requests")
        self.assertEqual(p["code"], "resend_limit")
        self.assertTrue(0 < int(r.headers["retry-after"]) <= 86400, r.headers)
        mails = wait_mails(t.contact, 6)
        time.sleep(0.3)
        self.assertEqual(len(mails_to(t.contact)), 6)
        # only the newest link works
        tokens = [link_token(m, "/verify-email") for m in mails]
        for old in tokens[:-1]:
            assert_problem(verify_token(old), 404, "not-found")
        self.assertEqual(verify_token(tokens[-1]).status, 200)
        r = api("POST", "/v1/enrollment/email-verification/resend", headers=t.auth)
        self.assertEqual(assert_problem(r, 409, "conflict")["code"], "already_verified")

    def test_resend_access(self):
        t = new_tenant()
        r = api("POST", "/v1/enrollment/email-verification/resend", headers=t.auth)
        self.assertEqual(assert_problem(r, 404, "not-found")["code"], "not_enrolled")
        t = enrolled_tenant()
        tok = new_api_token(t, ["profiles:read"])
        r = api("POST", "/v1/enrollment/email-verification/resend", headers=bearer(tok["token"]))
        assert_problem(r, 403, "forbidden")
        u = new_user(t, ["admin_agent"])
        r = api("POST", "/v1/enrollment/email-verification/resend",
                headers=bearer(access_token(u.email, u.password)))
        assert_problem(r, 403, "forbidden")
        r = api("POST", "/v1/enrollment/email-verification/resend", headers=t.auth,
                body={"x": 1})
        assert_problem(r, 400, None)
        time.sleep(0.3)
        self.assertEqual(len(mails_to(t.contact)), 1)


def verify_token_raw(body):
    return api("POST", "/v1/email-verifications", body=body)


class TestReview(unittest.TestCase):
    def test_every_decision_in_every_wrong_state(self):
        pending = enrolled_tenant()
        approved = approved_tenant()
        rejected = verified_tenant()
        self.assertEqual(decide(rejected.enrollment_id, "reject", "not a reseller").status, 201)
        info = verified_tenant()
        self.assertEqual(decide(info.enrollment_id, "request_info", "which address?").status,
                         201)
        for t, state in ((pending, "pending_email_verification"), (approved, "approved"),
                         (rejected, "rejected"), (info, "more_info_requested")):
            for d in ("approve", "reject", "request_info"):
                with self.subTest(state=state, decision=d):
                    r = decide(t.enrollment_id, d, "because")
                    p = assert_problem(r, 409, "conflict")
                    self.assertEqual(p["code"], "invalid_transition")
                    self.assertIn(state, p["detail"])
                    self.assertEqual(status_of(t), state)

    def test_reasons_and_decisions_checked(self):
        t = verified_tenant()
        for body_reason, decision, field in ((None, "reject", "reason"),
                                             (None, "request_info", "reason"),
                                             ("", "reject", "reason"),
                                             ("x", "maybe", "decision")):
            with self.subTest(decision=decision, reason=body_reason):
                p = assert_problem(decide(t.enrollment_id, decision, body_reason), 400, None)
                self.assertIn(field, field_errors(p))
        assert_problem(decide("01a2340c-0000-7000-8000-000000000000", "approve"), 404,
                       "not-found")
        assert_problem(decide("not-a-uuid", "approve"), 404, "not-found")
        self.assertEqual(status_of(t), "in_review")
        self.assertEqual(len(transitions(t)), 2)

    def test_rejection_is_written_and_mailed(self):
        t = verified_tenant()
        r = decide(t.enrollment_id, "reject", "the company is not registered")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.body["reason"], "the company is not registered")
        last = transitions(t)[-1]
        self.assertEqual(last[:3], ["in_review", "rejected", "user"])
        self.assertRegex(last[3], UUID_RE)
        self.assertEqual(last[4], "the company is not registered")
        mail = wait_mails(t.contact, 3)[2]
        self.assertIn("not approved", mail.subject)
        self.assertIn("the company is not registered", mail.body)
        r = api("GET", "/v1/profiles/organization", headers=t.auth)
        self.assertEqual(r.body["programInfo"]["programStatus"], "rejected")
        r = api("GET", "/v1/me", headers=t.auth)
        self.assertEqual(r.body["partnerTypes"], [])

    def test_concurrent_decisions_exactly_one_wins(self):
        t = verified_tenant()
        calls = [lambda d=d: decide(t.enrollment_id, d, "reason")
                 for d in ("approve", "reject", "request_info") * 2]
        results = parallel(*calls)
        self.assertEqual(sorted(r.status for r in results), [201, 409, 409, 409, 409, 409],
                         results)
        self.assertEqual(len(transitions(t)), 3)
        self.assertEqual(len(wait_mails(t.contact, 3)), 3)
        time.sleep(0.3)
        self.assertEqual(len(mails_to(t.contact)), 3)

    def test_more_info_then_profile_update_returns_to_review(self):
        t = verified_tenant()
        self.assertEqual(decide(t.enrollment_id, "request_info", "give a street").status, 201)
        mail = wait_mails(t.contact, 3)[2]
        self.assertIn("More information", mail.subject)
        self.assertIn("give a street", mail.body)
        r = api("GET", "/v1/profiles/support", headers=t.auth)
        body = {k: r.body[k] for k in ("email", "telephone", "website")}
        body["telephone"] = "+49 30 2222222"
        r = api("PUT", "/v1/profiles/support", body=body,
                headers=dict(t.auth, **{"If-Match": r.headers["etag"]}))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(status_of(t), "in_review")
        self.assertEqual(transitions(t)[-1][:3], ["more_info_requested", "in_review", "user"])
        self.assertIn("review", wait_mails(t.contact, 4)[3].subject)
        self.assertEqual(decide(t.enrollment_id, "approve").status, 201)

    def test_list_filters_and_pages(self):
        for _ in range(3):
            verified_tenant()
        r = api("GET", "/v1/operator/enrollments?status=in_review&limit=2",
                headers=operator_auth())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(r.body["items"]), 2)
        self.assertGreaterEqual(r.body["totalCount"], 3)
        self.assertTrue(all(i["status"] == "in_review" for i in r.body["items"]))
        nxt = r.body["links"]["next"]
        self.assertIn("status=in_review", nxt)
        r2 = api("GET", nxt, headers=operator_auth())
        self.assertEqual(r2.status, 200, r2)
        self.assertTrue(all(i["status"] == "in_review" for i in r2.body["items"]))
        self.assertFalse({i["id"] for i in r.body["items"]} & {i["id"] for i in r2.body["items"]})
        r = api("GET", "/v1/operator/enrollments", headers=operator_auth())
        self.assertEqual(r.status, 200)
        self.assertGreaterEqual(r.body["totalCount"], 3)
        for bad in ("?status=approvedx", "?status=", "?limit=0", "?cursor=zz"):
            with self.subTest(query=bad):
                assert_problem(api("GET", "/v1/operator/enrollments" + bad,
                                   headers=operator_auth()), 400, None)


class TestProfiles(unittest.TestCase):
    def put(self, t, which, body, etag):
        h = dict(t.auth)
        if etag is not None:
            h["If-Match"] = etag
        return api("PUT", "/v1/profiles/" + which, body=body, headers=h)

    def test_legal_profile_versions_and_country(self):
        t = verified_tenant()
        r = api("GET", "/v1/profiles/legalbusiness", headers=t.auth)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers["etag"], '"v1"')
        self.assertEqual(r.body["etag"], '"v1"')
        body = {k: r.body[k] for k in ("companyName", "address", "phoneNumber")}
        self.assertEqual(body["address"]["country"], "DE")
        body["address"] = {k: v for k, v in body["address"].items() if v is not None}
        assert_problem(self.put(t, "legalbusiness", body, None), 428, "precondition-required")
        assert_problem(self.put(t, "legalbusiness", body, '"v7"'), 412, "precondition-failed")
        body["address"]["country"] = "FR"
        r = self.put(t, "legalbusiness", body, '"v1"')
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers["etag"], '"v2"')
        self.assertEqual(r.body["address"]["country"], "FR")
        e = api("GET", "/v1/enrollment", headers=t.auth).body
        self.assertEqual((e["cspCountry"], e["cspRegion"]), ("FR", "europe"))
        assert_problem(self.put(t, "legalbusiness", body, '"v1"'), 412, "precondition-failed")
        body["address"]["country"] = not_in_programme()
        p = assert_problem(self.put(t, "legalbusiness", body, '"v2"'), 422, "rule-refused")
        self.assertEqual(p["code"], "country_not_in_program")
        body["address"]["country"] = "DE"
        self.assertEqual(decide(t.enrollment_id, "approve").status, 201)
        p = assert_problem(self.put(t, "legalbusiness", body, '"v2"'), 422, "rule-refused")
        self.assertEqual(p["code"], "csp_country_locked")
        self.assertEqual(sql_value("SELECT csp_country FROM tenants WHERE id = %s", (t.id,)), "FR")
        # other fields may still change
        body["address"]["country"] = "FR"
        body["companyName"] = "Contoso SARL"
        r = self.put(t, "legalbusiness", body, "*")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["companyName"], "Contoso SARL")

    def test_profile_puts_are_for_a_global_admin_with_valid_fields(self):
        t = enrolled_tenant()
        r = api("GET", "/v1/profiles/support", headers=t.auth)
        body = {k: r.body[k] for k in ("email", "telephone", "website")}
        tok = new_api_token(t, ["profiles:read"])
        assert_problem(api("PUT", "/v1/profiles/support", body=body,
                           headers={"Authorization": "Bearer " + tok["token"], "If-Match": "*"}),
                       403, "forbidden")
        u = new_user(t, ["admin_agent"])
        assert_problem(api("PUT", "/v1/profiles/support", body=body,
                           headers={"Authorization": "Bearer " + access_token(u.email, u.password),
                                    "If-Match": "*"}), 403, "forbidden")
        bad = dict(body, website="http://insecure.example")
        p = assert_problem(self.put(t, "support", bad, "*"), 400, "validation-failed")
        self.assertEqual(field_errors(p), {"website": "invalid"})
        p = assert_problem(self.put(t, "support", {"email": "a@b.example"}, "*"), 400, None)
        self.assertEqual(field_errors(p).get("telephone"), "required")
        self.assertEqual(sql_value("SELECT version FROM support_profiles WHERE tenant_id = %s",
                                   (t.id,)), "1")
        other = new_tenant()
        p = assert_problem(self.put(other, "support", body, "*"), 404, "not-found")
        self.assertEqual(p["code"], "not_enrolled")

    def test_concurrent_puts_one_wins(self):
        t = enrolled_tenant()
        r = api("GET", "/v1/profiles/support", headers=t.auth)
        body = {k: r.body[k] for k in ("email", "telephone", "website")}
        results = parallel(*[lambda i=i: self.put(t, "support", dict(
            body, telephone="+49 30 99999%02d" % i), '"v1"') for i in range(6)])
        self.assertEqual(sorted(r.status for r in results), [200, 412, 412, 412, 412, 412],
                         results)


class TestMpn(unittest.TestCase):
    def add(self, t, mpn_id, country="DE", location="Berlin"):
        return api("POST", "/v1/profiles/mpn/identifiers", headers=t.auth,
                   body={"mpnId": mpn_id, "country": country, "locationName": location})

    def associate(self, t, mpn_id):
        return api("PUT", "/v1/profiles/mpn/association", headers=t.auth, body={"mpnId": mpn_id})

    def fresh_id(self):
        return str(1000000 + secrets.randbelow(8999999))

    def verify(self, t):
        cid = api("GET", "/v1/profiles/mpn", headers=t.auth).body["association"]["id"]
        r = api("POST", "/v1/operator/mpn-associations/%s/decisions" % cid,
                body={"decision": "verify"}, headers=operator_auth())
        self.assertEqual(r.status, 201, r)

    def test_identifiers_and_association(self):
        t = verified_tenant()
        de, fr = self.fresh_id(), self.fresh_id()[:6]
        r = self.add(t, de)
        self.assertEqual(r.status, 201, r)
        self.assertEqual((r.body["mpnId"], r.body["country"]), (de, "DE"))
        self.assertEqual(self.add(t, fr, "FR", "Paris").status, 201)
        self.assertEqual(assert_problem(self.add(t, de), 409, "conflict")["code"],
                         "mpn_id_exists")
        p = assert_problem(self.associate(t, fr), 422, "rule-refused")
        self.assertEqual(p["code"], "mpn_country_mismatch")
        self.assertIn("FR", p["detail"])
        self.assertIn("DE", p["detail"])
        p = assert_problem(self.associate(t, "7654321"), 422, "rule-refused")
        self.assertEqual(p["code"], "mpn_id_unknown")
        r = self.associate(t, de)
        self.assertEqual(r.status, 200, r)
        # F2: a claim, associated once the operator verifies it
        self.assertEqual(r.body["association"]["status"], "pending_verification")
        self.assertIsNone(r.body["associatedMpnId"])
        self.assertFalse(steps(api("GET", "/v1/enrollment", headers=t.auth).body)["mpnAssociated"])
        self.verify(t)
        r = api("GET", "/v1/profiles/mpn", headers=t.auth)
        self.assertEqual(r.body["associatedMpnId"], de)
        self.assertEqual(r.body["association"]["status"], "verified")
        self.assertEqual(sorted(i["mpnId"] for i in r.body["identifiers"]), sorted([de, fr]))
        self.assertTrue(steps(api("GET", "/v1/enrollment", headers=t.auth).body)["mpnAssociated"])
        # a second association replaces the first: one a tenant
        de2 = self.fresh_id()
        self.assertEqual(self.add(t, de2).status, 201)
        self.assertEqual(self.associate(t, de2).status, 200)
        self.assertEqual(sql("SELECT mpn_id FROM mpn_associations WHERE tenant_id = %s",
                             (t.id,)), [[de2]])
        self.assertEqual(self.associate(t, de2).status, 200)

    def test_a_new_csp_country_ends_the_association(self):
        t = enrolled_tenant()
        mpn = self.fresh_id()
        self.assertEqual(self.add(t, mpn).status, 201)
        self.assertEqual(self.associate(t, mpn).status, 200)
        r = api("GET", "/v1/profiles/legalbusiness", headers=t.auth)
        body = {k: r.body[k] for k in ("companyName", "address", "phoneNumber")}
        body["address"] = {k: v for k, v in body["address"].items() if v is not None}
        body["address"]["country"] = "FR"
        r = api("PUT", "/v1/profiles/legalbusiness", body=body,
                headers=dict(t.auth, **{"If-Match": r.headers["etag"]}))
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(api("GET", "/v1/profiles/mpn", headers=t.auth).body["associatedMpnId"])
        self.assertFalse(steps(api("GET", "/v1/enrollment", headers=t.auth).body)["mpnAssociated"])
        p = assert_problem(self.associate(t, mpn), 422, "rule-refused")
        self.assertEqual(p["code"], "mpn_country_mismatch")

    def test_an_id_is_associated_with_one_tenant(self):
        a, b = verified_tenant(), enrolled_tenant()
        shared = self.fresh_id()
        self.assertEqual(self.add(a, shared).status, 201)
        self.assertEqual(self.add(b, shared).status, 201)
        self.assertEqual(self.associate(a, shared).status, 200)
        self.verify(a)
        p = assert_problem(self.associate(b, shared), 409, "conflict")
        self.assertEqual(p["code"], "mpn_id_taken")
        self.assertEqual(api("GET", "/v1/profiles/mpn", headers=b.auth).body["associatedMpnId"],
                         None)
        # two tenants claiming one free ID at once: both wait for the
        # operator (test_partner_identity.py races the verifications)
        c, d = enrolled_tenant(), enrolled_tenant()
        race = self.fresh_id()
        self.assertEqual(self.add(c, race).status, 201)
        self.assertEqual(self.add(d, race).status, 201)
        results = parallel(lambda: self.associate(c, race), lambda: self.associate(d, race))
        self.assertEqual(sorted(r.status for r in results), [200, 200], results)

    def test_bad_input_and_access(self):
        t = enrolled_tenant()
        for mpn_id in ("12345", "12345678", "12a456", "", " 123456"):
            with self.subTest(mpn_id=mpn_id):
                p = assert_problem(self.add(t, mpn_id), 400, "validation-failed")
                self.assertIn("mpnId", field_errors(p))
        p = assert_problem(self.add(t, self.fresh_id(), "XX"), 400, "validation-failed")
        self.assertIn("country", field_errors(p))
        p = assert_problem(self.add(t, self.fresh_id(), not_in_programme()), 422, "rule-refused")
        self.assertEqual(p["code"], "country_not_in_program")
        p = assert_problem(api("POST", "/v1/profiles/mpn/identifiers", headers=t.auth,
                               body={"mpnId": 1234567, "country": "DE", "locationName": "B"}),
                           400, None)
        self.assertEqual(field_errors(p).get("mpnId"), "wrong_type")
        tok = new_api_token(t, ["profiles:read"])
        r = api("POST", "/v1/profiles/mpn/identifiers", headers=bearer(tok["token"]),
                body={"mpnId": self.fresh_id(), "country": "DE", "locationName": "B"})
        assert_problem(r, 403, "forbidden")
        self.assertEqual(int(sql_value("SELECT COUNT(*) FROM mpn_identifiers WHERE tenant_id = "
                                       "%s", (t.id,))), 0)
        fresh = new_tenant()
        mpn = self.fresh_id()
        self.assertEqual(self.add(fresh, mpn).status, 201)
        p = assert_problem(self.associate(fresh, mpn), 422, "rule-refused")
        self.assertEqual(p["code"], "not_enrolled")

