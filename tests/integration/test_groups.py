"""Access for chosen staff (issue 21, deliverable 3): a provider gathers
users in groups (POST/GET /v1/groups, PUT /v1/groups/{id}/members) and
assigns a relationship's admin access to some of them (PUT
/v1/relationships/{id}/access-assignments); then only their members act
for the reseller, and the reseller reads who holds it."""

import secrets
import time
import unittest
import uuid

from harness import (access_token, api, assert_problem, bearer, field_errors, new_api_token,
                     new_user, parallel, sql)
from world import (approved_tenant, as_, invite_customer, new_provider, partners, related)


def count(query, params):
    return int(sql(query, params)[0][0])


def group(tenant, name=None, auth=None):
    r = api("POST", "/v1/groups", body={"name": name or "Team " + secrets.token_hex(3)},
            headers=auth or tenant.auth)
    assert r.status == 201, r
    return r.body


def members(tenant, g, user_ids, etag=None):
    return api("PUT", "/v1/groups/%s/members" % g["id"], body={"userIds": user_ids},
               headers=dict(tenant.auth, **{"If-Match": etag or g["etag"]}))


def assign(provider, rel_id, group_ids, etag=None, auth=None):
    if etag is None:
        etag = api("GET", "/v1/relationships/%s/access-assignments" % rel_id,
                   headers=provider.auth).headers["etag"]
    return api("PUT", "/v1/relationships/%s/access-assignments" % rel_id,
               body={"groupIds": group_ids}, headers=dict(auth or provider.auth,
                                                          **{"If-Match": etag}))


def agent(provider, roles=("admin_agent",)):
    u = new_user(provider, list(roles))
    u.auth = bearer(access_token(u.email, u.password))
    return u


class TestGroups(unittest.TestCase):
    def test_make_list_read_and_set_members(self):
        provider = new_provider()
        a, b = agent(provider), agent(provider)
        g = group(provider, "Contoso desk")
        self.assertEqual((g["name"], g["memberCount"], g["members"]), ("Contoso desk", 0, []))
        rows = sql("SELECT tenant_id, name FROM access_groups WHERE id = %s", (g["id"],))
        self.assertEqual([list(x) for x in rows], [[provider.id, "Contoso desk"]])
        r = members(provider, g, [a.id, b.id])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(sorted(m["id"] for m in r.body["members"]), sorted([a.id, b.id]))
        self.assertEqual(r.body["memberCount"], 2)
        self.assertNotEqual(r.headers["etag"], g["etag"])
        self.assertEqual({m["email"] for m in r.body["members"]}, {a.email, b.email})
        # the old ETag is stale now; none at all is refused
        assert_problem(members(provider, g, [a.id]), 412, "precondition-failed")
        assert_problem(api("PUT", "/v1/groups/%s/members" % g["id"], body={"userIds": []},
                           headers=provider.auth), 428, "precondition-required")
        r = members(provider, g, [b.id], r.headers["etag"])
        self.assertEqual([m["id"] for m in r.body["members"]], [b.id])
        listed = api("GET", "/v1/groups", headers=provider.auth).body
        self.assertEqual([(x["id"], x["memberCount"]) for x in listed["items"]], [(g["id"], 1)])
        got = api("GET", "/v1/groups/" + g["id"], headers=a.auth)
        self.assertEqual((got.status, got.headers["etag"]), (200, r.headers["etag"]))
        actions = [x[0] for x in sql("SELECT action FROM audit_events WHERE tenant_id = %s AND "
                                     "target_id = %s ORDER BY id", (provider.id, g["id"]))]
        self.assertEqual(actions, ["group.create", "group.members.set", "group.members.set"])

    def test_bad_input_changes_nothing(self):
        provider = new_provider()
        other = new_provider()
        stranger = agent(other)
        g = group(provider)
        for body, field in (({}, "name"), ({"name": 5}, "name"), ({"name": ""}, "name"),
                            ({"name": "x" * 101}, "name"), ({"name": "Desk\u200b"}, "name"),
                            ({"name": "Desk\u2028two"}, "name")):
            with self.subTest(body=body):
                p = assert_problem(api("POST", "/v1/groups", body=body, headers=provider.auth),
                                   400, "validation-failed")
                self.assertIn(field, field_errors(p))
        p = assert_problem(api("POST", "/v1/groups", body={"name": g["name"].upper()},
                               headers=provider.auth), 409, "conflict")
        self.assertEqual(p["code"], "group_name_taken")
        for ids, field, code in (([g["id"], "nope"], "userIds[1]", "invalid"),
                                 ([provider.admin_id, provider.admin_id], "userIds[1]",
                                  "duplicate"),
                                 ([stranger.id], "userIds[0]", "unknown_user"),
                                 ([str(uuid.uuid4())], "userIds[0]", "unknown_user")):
            with self.subTest(ids=ids):
                p = assert_problem(members(provider, g, ids), 400, "validation-failed")
                self.assertEqual(field_errors(p).get(field), code, p)
        p = assert_problem(api("PUT", "/v1/groups/%s/members" % g["id"],
                               body={"userIds": "x"},
                               headers=dict(provider.auth, **{"If-Match": g["etag"]})),
                           400, "validation-failed")
        self.assertIn("userIds", field_errors(p))
        p = assert_problem(api("PUT", "/v1/groups/%s/members" % g["id"],
                               body={"userIds": [str(uuid.uuid4()) for _ in range(201)]},
                               headers=dict(provider.auth, **{"If-Match": g["etag"]})),
                           400, "validation-failed")
        self.assertIn("userIds", field_errors(p))
        self.assertEqual(count("SELECT COUNT(*) FROM access_group_members WHERE group_id = %s",
                             (g["id"],)), 0)
        self.assertEqual(api("GET", "/v1/groups/" + g["id"], headers=provider.auth)
                         .headers["etag"], g["etag"])
        # another tenant's group is not there
        assert_problem(api("GET", "/v1/groups/" + g["id"], headers=other.auth), 404,
                       "not-found")
        assert_problem(members(other, g, []), 404, "not-found")
        assert_problem(api("DELETE", "/v1/groups/" + g["id"], headers=other.auth), 404,
                       "not-found")
        # who may: a global admin makes and changes; an admin agent reads; no token
        aa = agent(provider)
        assert_problem(api("POST", "/v1/groups", body={"name": "x"}, headers=aa.auth), 403,
                       "forbidden")
        assert_problem(api("PUT", "/v1/groups/%s/members" % g["id"], body={"userIds": []},
                           headers=dict(aa.auth, **{"If-Match": g["etag"]})), 403, "forbidden")
        sales = agent(provider, ["sales_agent"])
        assert_problem(api("GET", "/v1/groups", headers=sales.auth), 403, "forbidden")
        tok = new_api_token(provider, ["relationships:read"])
        assert_problem(api("GET", "/v1/groups", headers=bearer(tok["token"])), 403,
                       "forbidden")
        # a reseller has no staff to assign: groups are a provider's
        reseller = approved_tenant()
        p = assert_problem(api("POST", "/v1/groups", body={"name": "x"},
                               headers=reseller.auth), 403, "forbidden")
        self.assertEqual(p["code"], "not_provider")

    def test_replay_and_parallel_names(self):
        provider = new_provider()
        h = dict(provider.auth, **{"Idempotency-Key": "g-" + secrets.token_hex(4)})
        first = api("POST", "/v1/groups", body={"name": "Billing"}, headers=h)
        again = api("POST", "/v1/groups", body={"name": "Billing"}, headers=h)
        self.assertEqual((first.status, again.status), (201, 201))
        self.assertEqual(first.body["id"], again.body["id"])
        results = parallel(*[lambda: api("POST", "/v1/groups", body={"name": "Helpdesk"},
                                         headers=provider.auth) for _ in range(6)])
        self.assertEqual(sorted(r.status for r in results), [201] + [409] * 5)
        self.assertEqual(count("SELECT COUNT(*) FROM access_groups WHERE tenant_id = %s",
                             (provider.id,)), 2)

    def test_a_group_assigned_is_not_deleted(self):
        provider, reseller, rel = related()
        g = group(provider)
        self.assertEqual(assign(provider, rel["id"], [g["id"]]).status, 200)
        p = assert_problem(api("DELETE", "/v1/groups/" + g["id"], headers=provider.auth), 409,
                           "conflict")
        self.assertEqual(p["code"], "group_assigned")
        self.assertEqual(assign(provider, rel["id"], []).status, 200)
        self.assertEqual(api("DELETE", "/v1/groups/" + g["id"], headers=provider.auth).status,
                         204)
        assert_problem(api("GET", "/v1/groups/" + g["id"], headers=provider.auth), 404,
                       "not-found")
        assert_problem(api("DELETE", "/v1/groups/" + g["id"], headers=provider.auth), 404,
                       "not-found")


class TestAccessAssignments(unittest.TestCase):
    def test_only_assigned_staff_act_for_the_reseller(self):
        provider, reseller, rel = related()
        chosen, other = agent(provider), agent(provider)
        # nothing assigned: every admin agent, as before
        r = api("GET", "/v1/relationships/%s/access-assignments" % rel["id"],
                headers=reseller.auth)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.body["allAdminAgents"], r.body["groupIds"]), (True, []))
        self.assertEqual(api("GET", "/v1/users", headers=as_(provider, reseller, other.auth))
                         .status, 200)
        g = group(provider, "Fabrikam team")
        g = members(provider, g, [chosen.id]).body
        r = assign(provider, rel["id"], [g["id"]])
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.body["allAdminAgents"], r.body["groupIds"]), (False, [g["id"]]))
        self.assertEqual(api("GET", "/v1/users", headers=as_(provider, reseller, chosen.auth))
                         .status, 200)
        for who in (other, provider):  # the provider's global admin too: it is in no group
            p = assert_problem(api("GET", "/v1/users",
                                   headers=as_(provider, reseller, who.auth)), 403, "forbidden")
            self.assertEqual(p["code"], "not_assigned")
        # the reseller sees who holds the access
        r = api("GET", "/v1/relationships/%s/access-assignments" % rel["id"],
                headers=reseller.auth)
        self.assertEqual([(x["name"], [m["email"] for m in x["members"]])
                          for x in r.body["groups"]], [("Fabrikam team", [chosen.email])])
        # both feeds hear of it, as of any change of the access
        for tenant in (provider, reseller):
            deadline = time.monotonic() + 10
            while True:
                got = [e for e in api("GET", "/v1/events?types=relationship.access_changed",
                                      headers=tenant.auth).body["items"]
                       if e["data"]["id"] == rel["id"]]
                if got or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            self.assertEqual([(e["actor"]["tenantId"], e["actor"]["id"]) for e in got],
                             [(provider.id, provider.admin_id)], tenant.id)
        # both tenants audit the assignment
        for tenant in (provider.id, reseller.id):
            self.assertEqual(count("SELECT COUNT(*) FROM audit_events WHERE tenant_id = %s AND "
                                 "action = 'relationship.access_assignments.set' AND "
                                 "target_id = %s", (tenant, rel["id"])), 1, tenant)
        # taken out of the group: refused on the very next request
        members(provider, g, [other.id])
        assert_problem(api("GET", "/v1/users", headers=as_(provider, reseller, chosen.auth)),
                       403, "forbidden")
        self.assertEqual(api("GET", "/v1/users", headers=as_(provider, reseller, other.auth))
                         .status, 200)
        # the relationship's ETag moved with the assignment
        got = api("GET", "/v1/relationships/" + rel["id"], headers=reseller.auth)
        self.assertEqual(got.headers["etag"], r.headers["etag"])
        # back to everyone
        self.assertEqual(assign(provider, rel["id"], []).status, 200)
        self.assertEqual(api("GET", "/v1/users", headers=as_(provider, reseller, chosen.auth))
                         .status, 200)

    def test_who_may_assign_and_bad_input(self):
        provider, reseller, rel = related()
        g = group(provider)
        other = new_provider()
        foreign = group(other)
        path = "/v1/relationships/%s/access-assignments" % rel["id"]
        etag = api("GET", path, headers=provider.auth).headers["etag"]
        for ids, field, code in ((["x"], "groupIds[0]", "invalid"),
                                 ([g["id"], g["id"]], "groupIds[1]", "duplicate"),
                                 ([foreign["id"]], "groupIds[0]", "unknown_group"),
                                 ([str(uuid.uuid4())], "groupIds[0]", "unknown_group")):
            with self.subTest(ids=ids):
                p = assert_problem(assign(provider, rel["id"], ids, etag), 400,
                                   "validation-failed")
                self.assertEqual(field_errors(p).get(field), code, p)
        for body in ({}, {"groupIds": "x"}, {"groupIds": [str(uuid.uuid4())] * 21}):
            p = assert_problem(api("PUT", path, body=body,
                                   headers=dict(provider.auth, **{"If-Match": etag})), 400,
                               "validation-failed")
            self.assertIn("groupIds", field_errors(p))
        self.assertEqual(count("SELECT COUNT(*) FROM relationship_access_assignments WHERE "
                             "relationship_id = %s", (rel["id"],)), 0)
        self.assertEqual(api("GET", path, headers=provider.auth).headers["etag"], etag)
        assert_problem(api("PUT", path, body={"groupIds": []}, headers=provider.auth), 428,
                       "precondition-required")
        assert_problem(assign(provider, rel["id"], [], '"v999"'), 412, "precondition-failed")
        # the reseller reads it, never sets it
        assert_problem(assign(reseller, rel["id"], [], etag), 403, "forbidden")
        # an admin agent of the provider, a token, another provider
        aa = agent(provider)
        assert_problem(assign(provider, rel["id"], [], etag, auth=aa.auth), 403, "forbidden")
        tok = new_api_token(provider, ["relationships:read"])
        assert_problem(assign(provider, rel["id"], [], etag, auth=bearer(tok["token"])), 403,
                       "forbidden")
        self.assertEqual(api("GET", path, headers=bearer(tok["token"])).status, 200)
        assert_problem(assign(other, rel["id"], [], etag), 404, "not-found")
        assert_problem(api("GET", path, headers=other.auth), 404, "not-found")
        # nor under delegation: it is the relationship itself
        assert_problem(api("GET", path, headers=as_(provider, reseller)), 403, "forbidden")
        # an ended relationship has no access to assign
        api("DELETE", "/v1/relationships/" + rel["id"], headers=reseller.auth)
        etag = api("GET", path, headers=provider.auth).headers["etag"]
        p = assert_problem(assign(provider, rel["id"], [g["id"]], etag), 409, "conflict")
        self.assertEqual(p["code"], "relationship_ended")

    def test_nothing_delegated_commits_after_a_member_is_taken_out(self):
        """Membership is held like the access (F3): a delegated write in
        flight when its author leaves the assigned group commits before the
        change, or is refused."""
        provider, reseller, rel_id = partners()
        rel = {"id": rel_id}
        chosen = agent(provider)
        g = members(provider, group(provider), [chosen.id]).body
        assign(provider, rel["id"], [g["id"]])
        h = as_(provider, reseller, chosen.auth)
        tag = secrets.token_hex(4)

        def invite_one(i):
            return lambda: invite_customer(
                reseller, rel["id"], "m%d-%s@fabrikam-%s.example" % (i, tag, tag), auth=h)

        def take_out():
            time.sleep(0.02)
            return members(provider, g, [])

        results = parallel(*([invite_one(i) for i in range(20)] + [take_out] +
                             [invite_one(i) for i in range(20, 40)]))
        statuses = [getattr(r, "status", r) for r in results]
        self.assertEqual(statuses[20], 200, results[20])
        self.assertEqual(set(statuses[:20] + statuses[21:]) - {201, 403}, set(), statuses)
        (changed_at,), = sql("SELECT changed_at FROM access_groups WHERE id = %s", (g["id"],))
        late = sql("SELECT id FROM customer_invitations WHERE relationship_id = %s AND "
                   "created_at > %s", (rel["id"], changed_at))
        self.assertEqual(late, [])
        assert_problem(invite_one(99)(), 403, "forbidden")

    def test_parallel_assignments_one_wins(self):
        provider, reseller, rel = related()
        groups = [group(provider) for _ in range(4)]
        etag = api("GET", "/v1/relationships/%s/access-assignments" % rel["id"],
                   headers=provider.auth).headers["etag"]
        results = parallel(*[(lambda g=g: assign(provider, rel["id"], [g["id"]], etag))
                             for g in groups])
        self.assertEqual(sorted(r.status for r in results), [200, 412, 412, 412])
        self.assertEqual(count("SELECT COUNT(*) FROM relationship_access_assignments WHERE "
                             "relationship_id = %s", (rel["id"],)), 1)


if __name__ == "__main__":
    unittest.main()
