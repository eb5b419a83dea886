"""Indirect providers (SPEC §5, issue 10 part 1): the operator's onboarding
and regions, partnerTypes, and a reseller's "find a provider".  Through
nginx, real MariaDB."""

import secrets
import unittest

import pytest

from harness import (access_token, api, assert_problem, bearer, field_errors, new_api_token,
                     new_tenant, new_user, sql, sql_value, wait_mails)
from world import (approved_tenant, enrollment_body, make_provider, new_provider, not_in_programme,
                   operator_auth, set_regions)


class TestOnboarding(unittest.TestCase):
    def test_operator_makes_a_provider(self):
        t = new_tenant()
        ga = new_user(t, ["global_admin"])
        self.assertEqual(api("GET", "/v1/me", headers=t.auth).body["partnerTypes"], [])
        r = make_provider(t, ["europe", "africa"])
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.body["id"], t.id)
        self.assertEqual(r.body["regions"], ["africa", "europe"])
        self.assertEqual(r.body["domain"], t.domain)
        self.assertEqual(r.headers["etag"], '"v1"')
        self.assertEqual(api("GET", "/v1/me", headers=t.auth).body["partnerTypes"],
                         ["indirect_provider"])
        # the provider's global admins join its admin agent group
        self.assertEqual(sql_value("SELECT roles FROM users WHERE id = %s", (ga.id,)),
                         "global_admin,admin_agent")
        actions = [a for (a,) in sql("SELECT action FROM audit_events WHERE tenant_id = %s",
                                     (t.id,))]
        self.assertIn("provider.create", actions)
        self.assertIn("user.roles.grant_admin_agent", actions)
        tok = new_api_token(t, ["relationships:read"])
        self.assertEqual(api("GET", "/v1/me", headers=bearer(tok["token"])).body["partnerTypes"],
                         ["indirect_provider"])
        p = assert_problem(make_provider(t), 409, "conflict")
        self.assertEqual(p["code"], "already_provider")

    def test_bad_requests_change_nothing(self):
        t = new_tenant()
        p = assert_problem(make_provider(t, ["europe", "atlantis"]), 422, "rule-refused")
        self.assertEqual(p["code"], "unknown_region")
        self.assertIn("atlantis", p["detail"])
        p = assert_problem(make_provider(t, []), 400, "validation-failed")
        self.assertIn("regions", field_errors(p))
        r = api("POST", "/v1/operator/providers", body={"tenantId": "nope", "regions": ["europe"]},
                headers=operator_auth())
        self.assertIn("tenantId", field_errors(assert_problem(r, 400, "validation-failed")))
        r = api("POST", "/v1/operator/providers", body={"tenantId": t.id, "regions": "europe"},
                headers=operator_auth())
        self.assertEqual(field_errors(assert_problem(r, 400, None)).get("regions"), "wrong_type")
        r = api("POST", "/v1/operator/providers",
                body={"tenantId": "01a2340c-0000-7000-8000-000000000000", "regions": ["europe"]},
                headers=operator_auth())
        self.assertEqual(assert_problem(r, 404, "not-found")["code"], "tenant_unknown")
        platform = api("GET", "/v1/me", headers=operator_auth()).body["tenantId"]
        r = api("POST", "/v1/operator/providers", body={"tenantId": platform,
                                                        "regions": ["europe"]},
                headers=operator_auth())
        self.assertEqual(assert_problem(r, 422, "rule-refused")["code"], "platform_tenant")
        self.assertEqual(sql_value("SELECT COUNT(*) FROM providers WHERE tenant_id = %s",
                                   (t.id,)), "0")
        self.assertEqual(api("GET", "/v1/me", headers=t.auth).body["partnerTypes"], [])

    def test_only_the_operator_onboards(self):
        t = new_tenant()
        for auth in (t.auth, bearer(new_api_token(t, ["relationships:write"])["token"])):
            r = api("POST", "/v1/operator/providers", body={"tenantId": t.id,
                                                            "regions": ["europe"]}, headers=auth)
            assert_problem(r, 403, "forbidden")
        self.assertEqual(sql_value("SELECT COUNT(*) FROM providers WHERE tenant_id = %s",
                                   (t.id,)), "0")

    def test_regions_change_with_if_match(self):
        t = new_provider(["europe"])
        assert_problem(set_regions(t, ["africa"], None), 428, "precondition-required")
        assert_problem(set_regions(t, ["africa"], '"v9"'), 412, "precondition-failed")
        p = assert_problem(set_regions(t, ["africa", "mars"], t.etag), 422, "rule-refused")
        self.assertIn("mars", p["detail"])
        self.assertEqual(sql("SELECT region_code FROM provider_regions WHERE tenant_id = %s",
                             (t.id,)), [["europe"]])
        r = set_regions(t, ["africa", "india"], t.etag)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.body["regions"], r.headers["etag"]), (["africa", "india"], '"v2"'))
        assert_problem(set_regions(t, ["europe"], t.etag), 412, "precondition-failed")
        other = new_tenant()
        r = set_regions(other, ["europe"], "*")
        self.assertEqual(assert_problem(r, 404, "not-found")["code"], "not_provider")
        r = api("PUT", "/v1/operator/providers/%s/regions" % t.id, body={"regions": ["europe"]},
                headers=dict(t.auth, **{"If-Match": "*"}))
        assert_problem(r, 403, "forbidden")


    def test_the_operator_lists_every_provider_with_its_etag(self):
        t = new_provider(["europe"])
        op = operator_auth()
        seen, url = {}, "/v1/operator/providers?limit=200"
        while url:
            r = api("GET", url, headers=op)
            self.assertEqual(r.status, 200, r)
            seen.update({p["id"]: p for p in r.body["items"]})
            url = r.body["links"]["next"]
        mine = seen[t.id]
        self.assertEqual((mine["regions"], mine["etag"]), (["europe"], t.etag))
        self.assertEqual(len(seen), int(sql_value("SELECT COUNT(*) FROM providers")))
        # its etag changes the regions
        self.assertEqual(set_regions(t, ["africa"], mine["etag"]).status, 200)
        for auth in (t.auth, bearer(new_api_token(t, ["relationships:read"])["token"])):
            assert_problem(api("GET", "/v1/operator/providers", headers=auth), 403, "forbidden")
        assert_problem(api("GET", "/v1/operator/providers?limit=0", headers=op), 400,
                       "validation-failed")


@pytest.fixture(scope="class")
def tagged_providers():
    """(tag, europe, europe and africa, asia, an approved reseller in DE):
    three providers whose names hold a fresh tag."""
    tag = secrets.token_hex(4)
    return (tag, new_provider(["europe"], "Alpha %s Distribution" % tag),
            new_provider(["europe", "africa"], "Beta %s 100%% Cloud" % tag),
            new_provider(["asia-and-pacific"], "Gamma %s Asia" % tag),
            approved_tenant())  # DE: europe


class TestFindAProvider(unittest.TestCase):
    @pytest.fixture(autouse=True)
    def _world(self, tagged_providers):
        self.tag, self.eu, self.eu2, self.asia, self.reseller = tagged_providers

    def find(self, query, auth=None):
        return api("GET", "/v1/providers" + query, headers=auth or self.reseller.auth)

    def test_lists_the_providers_of_the_reseller_region(self):
        r = self.find("?q=" + self.tag)
        self.assertEqual(r.status, 200, r)
        ids = [i["id"] for i in r.body["items"]]
        self.assertEqual(sorted(ids), sorted([self.eu.id, self.eu2.id]))
        self.assertNotIn(self.asia.id, ids)
        self.assertEqual(r.body["totalCount"], 2)
        item = [i for i in r.body["items"] if i["id"] == self.eu2.id][0]
        self.assertEqual(item["name"], "Beta %s 100%% Cloud" % self.tag)
        self.assertEqual(item["domain"], self.eu2.domain)
        self.assertEqual(item["regions"], ["africa", "europe"])
        self.assertIsNone(item["supportContact"])
        self.assertNotIn("etag", item)

    def test_q_filters_by_name_literally(self):
        r = self.find("?q=alpha%20" + self.tag)
        self.assertEqual([i["id"] for i in r.body["items"]], [self.eu.id])
        r = self.find("?q=" + self.tag + "%20100%25")
        self.assertEqual([i["id"] for i in r.body["items"]], [self.eu2.id])
        r = self.find("?q=" + self.tag + "%25%25")   # '%%' is text, not a wildcard
        self.assertEqual(r.body["items"], [])
        r = self.find("?q=" + self.tag + "_")
        self.assertEqual(r.body["items"], [])
        assert_problem(self.find("?q=" + "x" * 101), 400, "validation-failed")

    def test_pages_keep_the_filter(self):
        r = self.find("?limit=1&q=" + self.tag)
        self.assertEqual(len(r.body["items"]), 1)
        nxt = r.body["links"]["next"]
        self.assertIn("q=" + self.tag, nxt)
        r2 = api("GET", nxt, headers=self.reseller.auth)
        self.assertEqual(len(r2.body["items"]), 1)
        self.assertNotEqual(r.body["items"][0]["id"], r2.body["items"][0]["id"])

    def test_the_next_link_keeps_q_not_a_parameter_ending_in_q(self):
        """Issue 21: ?xq=zzz&q=Cont once built a next link of q=zzz."""
        r = self.find("?xq=zzz&limit=1&q=" + self.tag)
        self.assertEqual(len(r.body["items"]), 1, r)
        nxt = r.body["links"]["next"]
        self.assertIn("q=" + self.tag, nxt)
        self.assertNotIn("zzz", nxt)
        r2 = api("GET", nxt, headers=self.reseller.auth)
        self.assertEqual(len(r2.body["items"]), 1, r2)

    def test_who_may_look(self):
        tok = new_api_token(self.reseller, ["relationships:read"])
        self.assertEqual(self.find("?q=" + self.tag, bearer(tok["token"])).status, 200)
        no = new_api_token(self.reseller, ["profiles:read"])
        assert_problem(self.find("", bearer(no["token"])), 403, "forbidden")
        u = new_user(self.reseller, ["sales_agent"])
        self.assertEqual(self.find("", bearer(access_token(u.email, u.password))).status, 200)
        t = new_tenant()
        p = assert_problem(self.find("", t.auth), 422, "rule-refused")
        self.assertEqual(p["code"], "enrollment_required")
        assert_problem(api("GET", "/v1/providers"), 401, "unauthenticated")


class TestProviderEnrols(unittest.TestCase):
    """A tenant that is already an indirect provider enrols with its
    support profile alone ("already enrolled in CSP")."""

    def support(self, t):
        return {"email": "help@" + t.domain, "telephone": "+49 30 4444444",
                "website": "https://" + t.domain}

    def legal(self, country="DE"):
        return enrollment_body("x.example", country=country)["legalBusinessProfile"]

    def test_support_profile_alone(self):
        t = new_tenant()
        r = api("POST", "/v1/operator/providers",
                body={"tenantId": t.id, "regions": ["europe"], "legalBusinessProfile": self.legal()},
                headers=operator_auth())
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.body["name"], "Contoso GmbH")
        r = api("POST", "/v1/enrollments", body={"supportProfile": self.support(t)},
                headers=t.auth)
        self.assertEqual(r.status, 201, r)
        e = r.body
        self.assertEqual((e["status"], e["cspCountry"], e["companyName"]),
                         ("in_review", "DE", "Contoso GmbH"))
        self.assertEqual(e["primaryContact"]["email"], t.email)
        self.assertIsNotNone(e["emailVerifiedAt"])
        self.assertEqual(sql("SELECT IFNULL(from_status, ''), to_status, reason FROM "
                             "enrollment_transitions WHERE enrollment_id = %s",
                             (e["id"],)), [["", "in_review", "already enrolled in CSP"]])
        self.assertTrue(any("review" in m.subject for m in wait_mails(t.email, 2)))
        r = api("GET", "/v1/profiles/support", headers=t.auth)
        self.assertEqual(r.body["email"], "help@" + t.domain)
        r = api("POST", "/v1/operator/enrollments/%s/decisions" % e["id"],
                body={"decision": "approve"}, headers=operator_auth())
        self.assertEqual(r.status, 201, r)
        self.assertEqual(sorted(api("GET", "/v1/me", headers=t.auth).body["partnerTypes"]),
                         ["indirect_provider", "indirect_reseller"])

    def test_others_give_everything(self):
        for with_provider in (False, True):
            with self.subTest(provider=with_provider):
                t = new_provider() if with_provider else new_tenant()
                r = api("POST", "/v1/enrollments", body={"supportProfile": self.support(t)},
                        headers=t.auth)
                p = assert_problem(r, 400, "validation-failed")
                self.assertEqual(field_errors(p), {"legalBusinessProfile": "required",
                                                   "primaryContact": "required"})
                self.assertEqual(sql_value("SELECT COUNT(*) FROM enrollments WHERE tenant_id = %s",
                                           (t.id,)), "0")

    def test_a_provider_gives_the_support_profile_alone_or_everything(self):
        t = new_tenant()
        self.assertEqual(api("POST", "/v1/operator/providers",
                             body={"tenantId": t.id, "regions": ["europe"],
                                   "legalBusinessProfile": self.legal()},
                             headers=operator_auth()).status, 201)
        body = enrollment_body(t.domain)
        for keep in ("legalBusinessProfile", "primaryContact"):
            with self.subTest(keep=keep):
                half = {"supportProfile": self.support(t), keep: body[keep]}
                p = assert_problem(api("POST", "/v1/enrollments", body=half, headers=t.auth),
                                   400, "validation-failed")
                self.assertEqual(set(field_errors(p)),
                                 {"legalBusinessProfile", "primaryContact"} - {keep})

    def test_legal_profile_at_onboarding_checked(self):
        t = approved_tenant()
        r = api("POST", "/v1/operator/providers",
                body={"tenantId": t.id, "regions": ["europe"], "legalBusinessProfile": self.legal()},
                headers=operator_auth())
        self.assertEqual(assert_problem(r, 409, "conflict")["code"], "legal_profile_exists")
        t2 = new_tenant()
        bad = self.legal()
        bad["phoneNumber"] = "x"
        r = api("POST", "/v1/operator/providers",
                body={"tenantId": t2.id, "regions": ["europe"], "legalBusinessProfile": bad},
                headers=operator_auth())
        self.assertIn("legalBusinessProfile.phoneNumber",
                      field_errors(assert_problem(r, 400, "validation-failed")))
        r = api("POST", "/v1/operator/providers",
                body={"tenantId": t2.id, "regions": ["europe"],
                      "legalBusinessProfile": self.legal(not_in_programme())},
                headers=operator_auth())
        self.assertEqual(assert_problem(r, 422, "rule-refused")["code"], "country_not_in_program")
        self.assertEqual(sql_value("SELECT COUNT(*) FROM providers WHERE tenant_id = %s",
                                   (t2.id,)), "0")
