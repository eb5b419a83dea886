"""Delegated admin access (SPEC §5, issue 10 part 3): what consent grants,
through one central check: a provider's admin agent acts in the reseller's
work account on the routes that admit it, with the roles the consent
granted, until access is removed, the relationship ends or its end date
passes, each time on the very next request."""

import unittest
from datetime import datetime, timedelta, timezone

import secrets
import time

from harness import (access_token, api, assert_problem, bearer, field_errors, new_api_token,
                     new_user, parallel, sql)
from world import (approved_tenant, as_, authorize, invitation_link, invite, invite_customer,
                   new_provider, partners, related)

DELEGABLE = ["/v1/profiles/organization", "/v1/profiles/legalbusiness", "/v1/profiles/support",
             "/v1/users"]


class TestDelegatedAccess(unittest.TestCase):
    def test_before_consent_nothing(self):
        provider = new_provider()
        reseller = approved_tenant()
        for path in DELEGABLE:
            p = assert_problem(api("GET", path, headers=as_(provider, reseller)), 403,
                               "forbidden")
            self.assertEqual(p["code"], "no_relationship")

    def test_while_it_stands(self):
        provider, reseller, rel = related()
        h = as_(provider, reseller)
        r = api("GET", "/v1/profiles/organization", headers=h)
        self.assertEqual((r.status, r.body["id"]), (200, reseller.id))
        self.assertEqual(api("GET", "/v1/profiles/legalbusiness", headers=h).status, 200)
        self.assertEqual(api("GET", "/v1/profiles/support", headers=h).status, 200)
        users = api("GET", "/v1/users", headers=h).body["items"]
        self.assertEqual({u["tenantId"] for u in users}, {reseller.id})
        self.assertIn(reseller.admin_id, [u["id"] for u in users])
        self.assertEqual(api("GET", "/v1/users/" + reseller.admin_id, headers=h).status, 200)
        # the provider's own users are not the reseller's
        assert_problem(api("GET", "/v1/users/" + provider.admin_id, headers=h), 404,
                       "not-found")
        # a route that does not admit it (a global admin's, or the tokens')
        for method, path, body in (("POST", "/v1/api-tokens", {"name": "x",
                                                               "scopes": ["profiles:read"]}),
                                   ("PUT", "/v1/security-policy", {"mfaRequired": False}),
                                   ("DELETE", "/v1/users/%s/sessions" % reseller.admin_id,
                                    None)):
            with self.subTest(path=path):
                p = assert_problem(api(method, path, body=body, headers=h), 403, "forbidden")
                self.assertIn("does not admit delegated access", p["detail"])
        # not for tokens, nor other roles of the provider
        tok = new_api_token(provider, ["profiles:read"])
        p = assert_problem(api("GET", "/v1/profiles/organization",
                               headers=as_(provider, reseller, bearer(tok["token"]))), 403,
                           "forbidden")
        self.assertIn("API tokens", p["detail"])
        sales = new_user(provider, ["sales_agent"])
        assert_problem(api("GET", "/v1/profiles/organization", headers=as_(
            provider, reseller, bearer(access_token(sales.email, sales.password)))), 403,
            "forbidden")
        # and only for the reseller of the relationship
        other = approved_tenant()
        p = assert_problem(api("GET", "/v1/users", headers=as_(provider, other)), 403,
                           "forbidden")
        self.assertEqual(p["code"], "no_relationship")
        r = api("GET", "/v1/users", headers=dict(provider.auth, **{"On-Behalf-Of-Tenant": "x"}))
        self.assertIn("On-Behalf-Of-Tenant",
                      field_errors(assert_problem(r, 400, "validation-failed")))

    def test_the_granted_roles_only(self):
        provider, reseller, rel = related(["sales_agent"])
        h = as_(provider, reseller)
        self.assertEqual(api("GET", "/v1/profiles/organization", headers=h).status, 200)
        p = assert_problem(api("GET", "/v1/users", headers=h), 403, "forbidden")
        self.assertIn("admin_agent", p["detail"])

    def test_removed_ended_or_past_its_end_stops_at_once(self):
        for how in ("removed", "ended", "expired"):
            with self.subTest(how=how):
                provider, reseller, rel = related()
                h = as_(provider, reseller)
                self.assertEqual(api("GET", "/v1/users", headers=h).status, 200)
                if how == "removed":
                    api("DELETE", "/v1/relationships/%s/admin-access" % rel["id"],
                        headers=reseller.auth)
                    code = "admin_access_removed"
                elif how == "ended":
                    api("DELETE", "/v1/relationships/" + rel["id"], headers=reseller.auth)
                    code = "relationship_ended"
                else:
                    sql("UPDATE relationships SET access_ends_at = UTC_TIMESTAMP(6) - INTERVAL 1 "
                        "SECOND WHERE id = %s", (rel["id"],))
                    code = "admin_access_expired"
                for path in DELEGABLE:
                    p = assert_problem(api("GET", path, headers=h), 403, "forbidden")
                    self.assertEqual(p["code"], code)

    def test_writes_within_the_granted_roles(self):
        """Issue 21: the provider's admin agent adds, changes and disables
        the reseller's users as the reseller's own admin agent would, never
        a global admin's; reads its tokens' list and its audit log; each
        write is audited in both tenants naming the relationship."""
        provider, reseller, rel = related(["admin_agent", "sales_agent"])
        h = as_(provider, reseller)
        body = {"email": "d-%s@%s" % (secrets.token_hex(3), reseller.domain),
                "password": "correct horse battery staple", "firstName": "Del",
                "lastName": "Egated", "roles": ["sales_agent"]}
        r = api("POST", "/v1/users", body=body, headers=dict(h, **{"Idempotency-Key": "d1"}))
        self.assertEqual(r.status, 201, r)
        uid = r.body["id"]
        self.assertEqual(r.body["tenantId"], reseller.id)
        for tenant in (reseller.id, provider.id):
            rows = sql("SELECT relationship_id, actor_id FROM audit_events WHERE tenant_id = %s "
                       "AND action = 'user.create' AND target_id = %s", (tenant, uid))
            self.assertEqual([list(x) for x in rows], [[rel["id"], provider.admin_id]], tenant)
        # roles below global admin, and disabling
        etag = api("GET", "/v1/users/" + uid, headers=h).headers["etag"]
        r = api("PATCH", "/v1/users/" + uid, body={"roles": ["helpdesk_agent"]},
                headers=dict(h, **{"If-Match": etag}))
        self.assertEqual((r.status, r.body.get("roles")), (200, ["helpdesk_agent"]), r)
        r = api("PATCH", "/v1/users/" + uid, body={"disabled": True},
                headers=dict(h, **{"If-Match": r.headers["etag"]}))
        self.assertEqual((r.status, r.body.get("disabled")), (200, True), r)
        # never a global admin's
        assert_problem(api("POST", "/v1/users", body=dict(body, email="g@" + reseller.domain,
                                                           roles=["global_admin"]),
                           headers=h), 403, "forbidden")
        assert_problem(api("PATCH", "/v1/users/" + reseller.admin_id,
                           body={"disabled": True}, headers=dict(h, **{"If-Match": "*"})),
                       403, "forbidden")
        assert_problem(api("PATCH", "/v1/users/" + uid, body={"roles": ["global_admin"]},
                           headers=dict(h, **{"If-Match": "*"})), 403, "forbidden")
        # the reseller's tokens (listed, never their secrets) and audit log
        self.assertEqual(api("GET", "/v1/api-tokens", headers=h).status, 200)
        log = api("GET", "/v1/audit-events?limit=200", headers=h)
        self.assertEqual(log.status, 200, log)
        self.assertIn(uid, [e["target"]["id"] for e in log.body["items"]])
        # with sales_agent alone granted, none of it
        p2, r2, _ = related(["sales_agent"])
        for method, path in (("POST", "/v1/users"), ("GET", "/v1/api-tokens"),
                             ("GET", "/v1/audit-events")):
            assert_problem(api(method, path, body=body if method == "POST" else None,
                               headers=as_(p2, r2)), 403, "forbidden")

    def test_nothing_delegated_commits_after_the_access_is_removed(self):
        """Issue 21, F3: a delegated customer invitation in flight while the
        reseller removes the access was written after the removal (1-3 of
        60). Each delegated write now holds its relationship: the removal
        waits for those in flight, and those after it are refused."""
        for _ in range(3):
            provider, reseller, rel_id = partners()
            rel = {"id": rel_id}
            h = as_(provider, reseller)
            tag = secrets.token_hex(4)

            def invite_one(i):
                return lambda: invite_customer(
                    reseller, rel["id"], "c%d-%s@fabrikam-%s.example" % (i, tag, tag),
                    auth=h)

            def remove():
                time.sleep(0.02)
                return api("DELETE", "/v1/relationships/%s/admin-access" % rel["id"],
                           headers=reseller.auth)

            calls = [invite_one(i) for i in range(30)] + [remove] + \
                [invite_one(i) for i in range(30, 60)]
            results = parallel(*calls)
            statuses = [getattr(r, "status", r) for r in results]
            self.assertIn(statuses[30], (200, 204), results[30])
            self.assertEqual(set(statuses[:30] + statuses[31:]) - {201, 403}, set(), statuses)
            (removed_at,), = sql("SELECT access_changed_at FROM relationships WHERE id = %s",
                                 (rel["id"],))
            late = sql("SELECT id, created_at FROM customer_invitations WHERE relationship_id = "
                       "%s AND created_at > %s", (rel["id"], removed_at))
            self.assertEqual(late, [], "written after the removal at %s" % removed_at)
            made = sql("SELECT COUNT(*) FROM customer_invitations WHERE relationship_id = %s",
                       (rel["id"],))[0][0]
            self.assertEqual(int(made), statuses.count(201))

    def test_the_reseller_narrows_never_widens(self):
        provider, reseller, rel = related(["admin_agent", "sales_agent"])
        url = "/v1/relationships/%s/admin-access" % rel["id"]
        etag = api("GET", "/v1/relationships/" + rel["id"], headers=reseller.auth).headers["etag"]
        assert_problem(api("PATCH", url, body={"roles": ["sales_agent"]}, headers=reseller.auth),
                       428, "precondition-required")
        assert_problem(api("PATCH", url, body={"roles": ["sales_agent"]},
                           headers=dict(reseller.auth, **{"If-Match": '"v99"'})), 412,
                       "precondition-failed")
        p = assert_problem(api("PATCH", url, body={"roles": ["helpdesk_agent"]},
                               headers=dict(reseller.auth, **{"If-Match": etag})), 422,
                           "rule-refused")
        self.assertEqual(p["code"], "roles_not_narrower")
        assert_problem(api("PATCH", url, body={"roles": ["global_admin"]},
                           headers=dict(reseller.auth, **{"If-Match": etag})), 400,
                       "validation-failed")
        assert_problem(api("PATCH", url, body={"roles": ["sales_agent"]},
                           headers=dict(provider.auth, **{"If-Match": "*"})), 403, "forbidden")
        other = approved_tenant()
        assert_problem(api("PATCH", url, body={"roles": ["sales_agent"]},
                           headers=dict(other.auth, **{"If-Match": "*"})), 404, "not-found")
        r = api("PATCH", url, body={"roles": ["sales_agent"]},
                headers=dict(reseller.auth, **{"If-Match": etag}))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["adminAccess"]["roles"], ["sales_agent"])
        h = as_(provider, reseller)
        assert_problem(api("GET", "/v1/users", headers=h), 403, "forbidden")
        self.assertEqual(api("GET", "/v1/profiles/organization", headers=h).status, 200)
        # and back is a widening
        p = assert_problem(api("PATCH", url, body={"roles": ["admin_agent", "sales_agent"]},
                               headers=dict(reseller.auth, **{"If-Match": "*"})), 422,
                           "rule-refused")
        self.assertEqual(p["code"], "roles_not_narrower")

    def test_an_end_date_of_the_invitation_is_kept(self):
        ends = (datetime.now(timezone.utc) + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
        provider = new_provider()
        reseller = approved_tenant()
        self.assertEqual(invite(provider, reseller.email,
                                adminAccess={"endsAt": ends}).status, 201)
        inv, token = invitation_link(reseller.email)
        rel = authorize(reseller, inv, token).body
        self.assertEqual(rel["adminAccess"]["endsAt"][:19], ends[:19])
        self.assertEqual(api("GET", "/v1/users", headers=as_(provider, reseller)).status, 200)

