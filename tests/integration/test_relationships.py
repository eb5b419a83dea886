"""Provider-reseller relationships (SPEC §5, issue 10): the invitation mail,
consent, the guide's two lists, removal of admin access and the end.
Through nginx, real MariaDB and the .eml files."""

import secrets
import time
import unittest
from datetime import datetime, timedelta, timezone

from harness import (access_token, api, assert_problem, bearer, field_errors, future, mails_to,
                     new_api_token, new_tenant, new_user, parallel, sql, sql_value)
from world import (approved_tenant, as_, authorize, enrolled_tenant, invitation_link, invite,
                   mailed_link, new_provider, related, set_regions, verified_tenant)


def wait_subject(address, text, timeout=15.0):
    """Waits for a mail to ADDRESS whose subject holds TEXT."""
    deadline = time.monotonic() + timeout
    while True:
        subjects = [m.subject for m in mails_to(address)]
        if any(text in s for s in subjects):
            return
        if time.monotonic() > deadline:
            raise AssertionError("no mail '%s' to %s: %r" % (text, address, subjects))
        time.sleep(0.05)


def pair(regions=("europe",)):
    """A provider and an approved reseller (DE, europe) it has invited."""
    provider = new_provider(regions)
    reseller = approved_tenant()
    r = invite(provider, reseller.email, message="Let us work together")
    assert r.status == 201, r
    inv, token = invitation_link(reseller.email)
    assert inv == r.body["id"], (inv, r.body)
    return provider, reseller, inv, token


class TestInvitationAndConsent(unittest.TestCase):
    def test_the_whole_flow(self):
        provider = new_provider(["europe"])
        reseller = approved_tenant()
        r = invite(provider, reseller.email.upper(), message="Hello from your distributor")
        self.assertEqual(r.status, 201, r)
        inv = r.body
        self.assertEqual(inv["state"], "pending")
        self.assertEqual(inv["resellerEmail"], reseller.email)
        self.assertEqual(inv["adminAccess"]["roles"], ["admin_agent"])
        ends = datetime.fromisoformat(inv["adminAccess"]["endsAt"].replace("Z", "+00:00"))
        self.assertAlmostEqual((ends - datetime.now(timezone.utc)).days, 729, delta=1)
        self.assertEqual(inv["provider"]["tenantId"], provider.id)
        inv_id, token = invitation_link(reseller.email)
        mail = [m for m in mails_to(reseller.email) if "/authorize-provider" in m.body][0]
        self.assertIn("/authorize-provider?invitation=%s&token=" % inv["id"], mail.body)
        self.assertIn("Hello from your distributor", mail.body)
        self.assertNotIn(token, sql_value("SELECT token_hash FROM relationship_invitations "
                                          "WHERE id = %s", (inv_id,)))
        sent = api("GET", "/v1/relationship-invitations", headers=provider.auth).body["items"]
        self.assertEqual([(i["id"], i["direction"]) for i in sent], [(inv_id, "sent")])
        got = api("GET", "/v1/relationship-invitations", headers=reseller.auth).body["items"]
        self.assertEqual([(i["id"], i["direction"]) for i in got], [(inv_id, "received")])
        self.assertNotIn("token", str(got))

        r = authorize(reseller, inv_id, token)
        self.assertEqual(r.status, 201, r)
        rel = r.body
        self.assertEqual((rel["state"], rel["adminAccess"]["status"]), ("active", "granted"))
        self.assertEqual(rel["adminAccess"]["roles"], ["admin_agent"])
        self.assertEqual(rel["adminAccess"]["by"], reseller.admin_id)
        self.assertEqual((rel["provider"]["tenantId"], rel["reseller"]["tenantId"]),
                         (provider.id, reseller.id))
        # on both lists
        r = api("GET", "/v1/relationships?type=indirectProviders", headers=reseller.auth)
        self.assertEqual([i["id"] for i in r.body["items"]], [rel["id"]])
        r = api("GET", "/v1/relationships?type=indirectResellers", headers=provider.auth)
        self.assertEqual([i["id"] for i in r.body["items"]], [rel["id"]])
        self.assertEqual(api("GET", "/v1/relationships?type=indirectResellers",
                             headers=reseller.auth).body["items"], [])
        for t in (provider, reseller):
            r = api("GET", "/v1/relationships/" + rel["id"], headers=t.auth)
            self.assertEqual((r.status, r.body["id"]), (200, rel["id"]))
        steps = {s["step"]: s["done"] for s in
                 api("GET", "/v1/enrollment", headers=reseller.auth).body["checklist"]}
        self.assertTrue(steps["providerAuthorized"])
        overview = api("GET", "/v1/overview", headers=reseller.auth).body
        self.assertEqual([(p["relationshipId"], p["tenantId"], p["adminAccess"])
                          for p in overview["providers"]], [(rel["id"], provider.id, "granted")])
        # F8 (issue 21): a token reads them here only if it reads them anywhere
        for scopes, want in ((["profiles:read"], None), (["agreements:read"], None),
                             (["profiles:read", "relationships:read"], 1)):
            tok = new_api_token(reseller, scopes)
            body = api("GET", "/v1/overview", headers=bearer(tok["token"])).body
            got = body["providers"] if want is None else len(body["providers"])
            self.assertEqual(got, want, scopes)
        self.assertEqual(api("GET", "/v1/relationship-invitations", headers=reseller.auth)
                         .body["items"][0]["state"], "accepted")
        for tenant in (provider, reseller):
            self.assertEqual(sql_value("SELECT COUNT(*) FROM audit_events WHERE tenant_id = %s "
                                       "AND action = 'relationship.create' AND target_id = %s",
                                       (tenant.id, rel["id"])), "1")
        # used
        p = assert_problem(authorize(reseller, inv_id, token), 409, "conflict")
        self.assertEqual(p["code"], "invitation_accepted")
        # a provider and a reseller have one active relationship at most
        self.assertEqual(invite(provider, reseller.email).status, 201)
        inv2, token2 = invitation_link(reseller.email, 2)
        p = assert_problem(authorize(reseller, inv2, token2), 409, "conflict")
        self.assertEqual(p["code"], "relationship_exists")

    def test_consent_must_be_true(self):
        provider, reseller, inv, token = pair()
        for consent in (False, None):
            with self.subTest(consent=consent):
                p = assert_problem(authorize(reseller, inv, token, consent), 422, "rule-refused")
                self.assertEqual(p["code"], "consent_required")
        p = assert_problem(authorize(reseller, inv, token, "yes"), 400, "validation-failed")
        self.assertEqual(field_errors(p).get("consent"), "wrong_type")
        self.assertEqual(sql_value("SELECT state FROM relationship_invitations WHERE id = %s",
                                   (inv,)), "pending")

    def test_refusals(self):
        provider, reseller, inv, token = pair()
        # a wrong token, another tenant: one 404
        assert_problem(authorize(reseller, inv, secrets.token_urlsafe(32)), 404, "not-found")
        stranger = approved_tenant()
        assert_problem(authorize(stranger, inv, token), 404, "not-found")
        assert_problem(authorize(reseller, "01a2340c-0000-7000-8000-000000000000", token), 404,
                       "not-found")
        # who may consent
        tok = new_api_token(reseller, ["relationships:write", "relationships:read"])
        p = assert_problem(authorize(reseller, inv, token,
                                     headers={"Authorization": "Bearer " + tok["token"]}),
                           403, "forbidden")
        self.assertIn("global admin signed in interactively", p["detail"])
        u = new_user(reseller, ["admin_agent"])
        assert_problem(authorize(reseller, inv, token, headers={
            "Authorization": "Bearer " + access_token(u.email, u.password)}), 403, "forbidden")
        # expired: 410
        sql("UPDATE relationship_invitations SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 "
            "SECOND WHERE id = %s", (inv,))
        p = assert_problem(authorize(reseller, inv, token), 410, "gone")
        self.assertEqual(p["code"], "invitation_expired")
        self.assertEqual(api("GET", "/v1/relationship-invitations", headers=reseller.auth)
                         .body["items"][0]["state"], "expired")
        self.assertEqual(sql_value("SELECT COUNT(*) FROM relationships WHERE reseller_tenant_id = "
                                   "%s", (reseller.id,)), "0")

    def test_the_reseller_must_be_approved_and_in_a_region_of_the_provider(self):
        provider = new_provider(["europe"])
        for t, step in ((enrolled_tenant(), "emailVerified"), (verified_tenant(), "reviewApproved")):
            with self.subTest(step=step):
                self.assertEqual(invite(provider, t.email).status, 201)
                inv, token = invitation_link(t.email)
                p = assert_problem(authorize(t, inv, token), 422, "rule-refused")
                self.assertEqual(p["code"], "enrollment_not_approved")
                self.assertIn(step, p["detail"])
        asia = new_provider(["asia-and-pacific"])
        reseller = approved_tenant()
        # refused at once (issue 21): it could never consent
        p = assert_problem(invite(asia, reseller.email), 422, "rule-refused")
        self.assertEqual(p["code"], "region_not_authorized")
        self.assertIn("europe", p["detail"])
        self.assertEqual(sql_value("SELECT COUNT(*) FROM relationship_invitations WHERE "
                                   "provider_tenant_id = %s", (asia.id,)), "0")
        # a domain of no work account yet is invited, and told at consent
        self.assertEqual(invite(asia, "ada@nobody-%s.example" % secrets.token_hex(4)).status,
                         201)
        # a region taken from the provider after the invitation: told at consent
        both = new_provider(["europe", "asia-and-pacific"])
        self.assertEqual(invite(both, reseller.email).status, 201)
        inv, token = invitation_link(reseller.email)
        sql("DELETE FROM provider_regions WHERE tenant_id = %s AND region_code = "
            "'europe'", (both.id,))
        p = assert_problem(authorize(reseller, inv, token), 422, "rule-refused")
        self.assertEqual(p["code"], "region_not_authorized")
        self.assertIn("europe", p["detail"])

    def test_a_consent_sent_again_with_its_key_answers_the_same(self):
        """Issue 21: a client that lost the answer to its consent got 409."""
        provider, reseller, inv, token = pair()
        key = {"Idempotency-Key": "consent-" + secrets.token_hex(8)}
        first = authorize(reseller, inv, token, headers=key)
        self.assertEqual(first.status, 201, first)
        again = authorize(reseller, inv, token, headers=key)
        self.assertEqual((again.status, again.body), (201, first.body))
        # without the key, or with another, it is the conflict it is
        p = assert_problem(authorize(reseller, inv, token), 409, "conflict")
        self.assertEqual(p["code"], "invitation_accepted")
        # the key with another body is refused
        r = authorize(reseller, inv, token + "x", headers=key)
        self.assertEqual(assert_problem(r, 422, "rule-refused")["code"],
                         "idempotency_key_reused")
        self.assertEqual(sql_value("SELECT COUNT(*) FROM relationships WHERE "
                                   "reseller_tenant_id = %s", (reseller.id,)), "1")
        self.assertEqual(sql_value("SELECT COUNT(*) FROM events e JOIN event_tenants et ON "
                                   "et.event_id = e.id WHERE et.tenant_id = %s AND e.type = "
                                   "'relationship.authorized'", (reseller.id,)), "1")
        # concurrent sends of one key: one consent
        provider2, reseller2, inv2, token2 = pair()
        key2 = {"Idempotency-Key": "consent-" + secrets.token_hex(8)}
        results = parallel(*[lambda: authorize(reseller2, inv2, token2, headers=key2)] * 6)
        statuses = sorted(getattr(r, "status", r) for r in results)
        self.assertEqual(set(statuses) - {201, 409}, set(), statuses)
        self.assertIn(201, statuses)
        self.assertEqual(sql_value("SELECT COUNT(*) FROM relationships WHERE "
                                   "reseller_tenant_id = %s", (reseller2.id,)), "1")

    def test_fifty_at_once_make_one(self):
        provider, reseller, inv, token = pair()
        results = parallel(*[lambda: authorize(reseller, inv, token) for _ in range(50)])
        statuses = [getattr(r, "status", r) for r in results]
        self.assertEqual(statuses.count(201), 1, statuses)
        self.assertEqual(set(statuses) - {201}, {409}, statuses)
        self.assertEqual(sql_value("SELECT COUNT(*) FROM relationships WHERE reseller_tenant_id = "
                                   "%s", (reseller.id,)), "1")

    def test_invitation_input_and_who_invites(self):
        provider = new_provider()
        reseller = approved_tenant()
        for body, field in (({"resellerEmail": "nope"}, "resellerEmail"),
                            ({"resellerEmail": reseller.email, "message": "\u202eevil"},
                             "message"),
                            ({"resellerEmail": reseller.email,
                              "adminAccess": {"roles": ["global_admin"]}},
                             "adminAccess.roles[0]"),
                            ({"resellerEmail": reseller.email,
                              "adminAccess": {"roles": ["wizard"]}}, "adminAccess.roles[0]"),
                            ({"resellerEmail": reseller.email,
                              "adminAccess": {"endsAt": "2099-01-01T00:00:00Z"}},
                             "adminAccess.endsAt"),
                            ({"resellerEmail": reseller.email,
                              "adminAccess": {"endsAt": "yesterday"}}, "adminAccess.endsAt")):
            with self.subTest(field=field):
                r = api("POST", "/v1/relationship-invitations", body=body, headers=provider.auth)
                self.assertIn(field, field_errors(assert_problem(r, 400, "validation-failed")))
        ends = (datetime.now(timezone.utc) + timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%SZ")
        r = invite(provider, reseller.email,
                   adminAccess={"roles": ["sales_agent", "helpdesk_agent"], "endsAt": ends})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(sorted(r.body["adminAccess"]["roles"]), ["helpdesk_agent", "sales_agent"])
        self.assertEqual(r.body["adminAccess"]["endsAt"][:19], ends[:19])
        tok = new_api_token(provider, ["relationships:write"])
        self.assertEqual(invite(provider, reseller.email,
                                headers={"Authorization": "Bearer " + tok["token"]}).status, 201)
        no = new_api_token(provider, ["relationships:read"])
        assert_problem(invite(provider, reseller.email,
                              headers={"Authorization": "Bearer " + no["token"]}), 403,
                       "forbidden")
        # not a provider
        other = new_tenant()
        p = assert_problem(invite(other, reseller.email), 403, "forbidden")
        self.assertEqual(p["code"], "not_provider")
        sales = new_user(provider, ["sales_agent"])
        assert_problem(invite(provider, reseller.email, headers={
            "Authorization": "Bearer " + access_token(sales.email, sales.password)}), 403,
            "forbidden")

    def test_an_end_date_that_does_not_exist_is_refused_not_moved(self):
        """Issue 21: 23:59:60 and 30 February must not become another day."""
        provider = new_provider()
        reseller = approved_tenant()
        year = datetime.now(timezone.utc).year + 1
        for ends in ("%d-02-30T00:00:00Z" % year, "%d-06-30T23:59:60Z" % year,
                     "%d-13-01T00:00:00Z" % year, "%d-04-31T12:00:00Z" % year,
                     "%d-06-30T24:00:00Z" % year):
            with self.subTest(ends=ends):
                r = invite(provider, reseller.email,
                           adminAccess={"roles": ["admin_agent"], "endsAt": ends})
                self.assertEqual(field_errors(assert_problem(r, 400, "validation-failed")),
                                 {"adminAccess.endsAt": "invalid"})
        self.assertEqual(sql_value("SELECT COUNT(*) FROM relationship_invitations WHERE "
                                   "provider_tenant_id = %s", (provider.id,)), "0")

    def test_own_domain_and_ended_access_refused(self):
        provider = new_provider()
        p = assert_problem(invite(provider, "someone@" + provider.domain), 422, "rule-refused")
        self.assertEqual(p["code"], "own_domain")
        reseller = approved_tenant()
        self.assertEqual(invite(provider, reseller.email).status, 201)
        inv, token = invitation_link(reseller.email)
        sql("UPDATE relationship_invitations SET access_ends_at = UTC_TIMESTAMP(6) - INTERVAL 1 "
            "SECOND WHERE id = %s", (inv,))
        p = assert_problem(authorize(reseller, inv, token), 422, "rule-refused")
        self.assertEqual(p["code"], "access_already_ended")

    def test_withdraw(self):
        provider, reseller, inv, token = pair()
        stranger = new_provider()
        assert_problem(api("DELETE", "/v1/relationship-invitations/" + inv,
                           headers=stranger.auth), 404, "not-found")
        assert_problem(api("DELETE", "/v1/relationship-invitations/" + inv,
                           headers=reseller.auth), 404, "not-found")
        for _ in range(2):
            r = api("DELETE", "/v1/relationship-invitations/" + inv, headers=provider.auth)
            self.assertEqual(r.status, 204, r)
        p = assert_problem(authorize(reseller, inv, token), 409, "conflict")
        self.assertEqual(p["code"], "invitation_withdrawn")
        # an accepted one cannot be withdrawn
        provider2, reseller2, inv2, token2 = pair()
        self.assertEqual(authorize(reseller2, inv2, token2).status, 201)
        p = assert_problem(api("DELETE", "/v1/relationship-invitations/" + inv2,
                               headers=provider2.auth), 409, "conflict")
        self.assertEqual(p["code"], "invitation_accepted")


def decline(reseller, inv, token, reason=None, headers=None, body=None):
    b = body if body is not None else {"token": token}
    if reason is not None:
        b["reason"] = reason
    h = dict(reseller.auth)
    h.update(headers or {})
    return api("POST", "/v1/relationship-invitations/%s/rejection" % inv, body=b, headers=h)


class TestDecline(unittest.TestCase):
    """The reseller declines an invitation (issue 21): the provider's
    inviter is told why, the link stops working, both tenants see it."""

    def test_a_declined_invitation_is_told_and_ends(self):
        provider, reseller, inv, token = pair()
        r = decline(reseller, inv, token, reason="We buy through another distributor.")
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.body["id"], r.body["state"], r.body["declineReason"],
                          r.body["relationshipId"]),
                         (inv, "declined", "We buy through another distributor.", None))
        wait_subject(provider.email, "declined your invitation")
        (m,) = [m for m in mails_to(provider.email) if "declined your invitation" in m.subject]
        self.assertIn("We buy through another distributor.", m.body)
        self.assertRegex(m.subject, r"^Contoso \w+ declined your invitation")
        for t in (provider, reseller):
            self.assertEqual(sql_value(
                "SELECT COUNT(*) FROM audit_events WHERE tenant_id = %s AND action = "
                "'relationship_invitation.decline' AND target_id = %s", (t.id, inv)), "1")
            items = api("GET", "/v1/relationship-invitations", headers=t.auth).body["items"]
            self.assertEqual([(i["id"], i["state"]) for i in items], [(inv, "declined")])
        deadline = time.monotonic() + 10
        while True:
            got = api("GET", "/v1/events?types=relationship.declined",
                      headers=provider.auth).body["items"]
            if got or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual([(e["data"]["id"], e["data"]["state"], e["actor"]["tenantId"])
                          for e in got], [(inv, "declined", reseller.id)])
        # a repeat answers the same and tells no one again
        again = decline(reseller, inv, token)
        self.assertEqual((again.status, again.body), (200, r.body))
        # the link is spent: no consent, no withdrawal
        p = assert_problem(authorize(reseller, inv, token), 409, "conflict")
        self.assertEqual(p["code"], "invitation_declined")
        p = assert_problem(api("DELETE", "/v1/relationship-invitations/" + inv,
                               headers=provider.auth), 409, "conflict")
        self.assertEqual(p["code"], "invitation_declined")
        time.sleep(1)
        self.assertEqual(len([m for m in mails_to(provider.email)
                              if "declined your invitation" in m.subject]), 1)
        self.assertEqual(len(api("GET", "/v1/events?types=relationship.declined",
                                 headers=reseller.auth).body["items"]), 1)
        self.assertEqual(sql_value("SELECT COUNT(*) FROM relationships WHERE "
                                   "reseller_tenant_id = %s", (reseller.id,)), "0")

    def test_without_a_reason_and_before_approval(self):
        provider = new_provider()
        reseller = verified_tenant()
        self.assertEqual(invite(provider, reseller.email).status, 201)
        inv, token = invitation_link(reseller.email)
        r = decline(reseller, inv, token)
        self.assertEqual((r.status, r.body["state"], r.body["declineReason"]),
                         (200, "declined", None), r)
        wait_subject(provider.email, "declined your invitation")

    def test_refusals_change_nothing(self):
        provider, reseller, inv, token = pair()
        for body, field, code in (({}, "token", "required"),
                                  ({"token": 5}, "token", "wrong_type"),
                                  ({"token": token, "reason": 5}, "reason", "wrong_type"),
                                  ({"token": token, "reason": ""}, "reason", "invalid"),
                                  ({"token": token, "reason": "x" * 1001}, "reason", None),
                                  ({"token": token, "reason": "a\u0007b"}, "reason", "invalid"),
                                  ({"token": token, "extra": 1}, "extra", None)):
            with self.subTest(body=str(body)[:60]):
                r = decline(reseller, inv, token, body=body)
                self.assertEqual(r.status, 400, r)
                self.assertIn(field, field_errors(r.body), r)
                if code:
                    self.assertEqual(field_errors(r.body)[field], code, r)
        assert_problem(decline(reseller, inv, secrets.token_urlsafe(32)), 404, "not-found")
        assert_problem(decline(approved_tenant(), inv, token), 404, "not-found")
        assert_problem(decline(provider, inv, token), 404, "not-found")
        tok = new_api_token(reseller, ["relationships:write", "relationships:read"])
        assert_problem(decline(reseller, inv, token,
                               headers={"Authorization": "Bearer " + tok["token"]}),
                       403, "forbidden")
        u = new_user(reseller, ["admin_agent"])
        assert_problem(decline(reseller, inv, token, headers={
            "Authorization": "Bearer " + access_token(u.email, u.password)}), 403, "forbidden")
        assert_problem(api("POST", "/v1/relationship-invitations/%s/rejection" % inv,
                           body={"token": token}), 401, "unauthenticated")
        r = api("POST", "/v1/relationship-invitations/%s/rejection" % inv,
                raw=b'{"token": "' + b"x" * 70000 + b'"}', headers=reseller.auth)
        self.assertIn(r.status, (400, 413), r)
        self.assertEqual(sql_value("SELECT state FROM relationship_invitations WHERE id = %s",
                                   (inv,)), "pending")
        # expired: 410; accepted or withdrawn: 409
        sql("UPDATE relationship_invitations SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 "
            "SECOND WHERE id = %s", (inv,))
        self.assertEqual(assert_problem(decline(reseller, inv, token), 410, "gone")["code"],
                         "invitation_expired")
        provider2, reseller2, inv2, token2 = pair()
        self.assertEqual(authorize(reseller2, inv2, token2).status, 201)
        self.assertEqual(assert_problem(decline(reseller2, inv2, token2), 409,
                                        "conflict")["code"], "invitation_accepted")
        provider3, reseller3, inv3, token3 = pair()
        self.assertEqual(api("DELETE", "/v1/relationship-invitations/" + inv3,
                             headers=provider3.auth).status, 204)
        self.assertEqual(assert_problem(decline(reseller3, inv3, token3), 409,
                                        "conflict")["code"], "invitation_withdrawn")

    def test_decline_and_consent_race_one_wins(self):
        for _ in range(3):
            provider, reseller, inv, token = pair()
            results = parallel(*([lambda: authorize(reseller, inv, token)] * 4
                                 + [lambda: decline(reseller, inv, token)] * 4))
            statuses = sorted(getattr(r, "status", r) for r in results)
            state = sql_value("SELECT state FROM relationship_invitations WHERE id = %s", (inv,))
            rels = int(sql_value("SELECT COUNT(*) FROM relationships WHERE reseller_tenant_id "
                                 "= %s", (reseller.id,)))
            if state == "accepted":
                self.assertEqual((statuses.count(201), statuses.count(200), rels), (1, 0, 1),
                                 statuses)
            else:
                self.assertEqual(state, "declined")
                self.assertEqual((statuses.count(201), statuses.count(200), rels), (0, 4, 0),
                                 statuses)
            self.assertEqual(set(statuses) - {200, 201}, {409} if 409 in statuses else set())


class TestRelationships(unittest.TestCase):
    def related(self):
        provider, reseller, inv, token = pair()
        r = authorize(reseller, inv, token)
        assert r.status == 201, r
        return provider, reseller, r.body["id"]

    def test_another_pair_sees_nothing(self):
        provider, reseller, rid = self.related()
        third = new_provider()
        assert_problem(api("GET", "/v1/relationships/" + rid, headers=third.auth), 404,
                       "not-found")
        other = approved_tenant()
        assert_problem(api("GET", "/v1/relationships/" + rid, headers=other.auth), 404,
                       "not-found")
        self.assertEqual(api("GET", "/v1/relationship-invitations",
                             headers=other.auth).body["items"], [])
        assert_problem(api("DELETE", "/v1/relationships/" + rid, headers=other.auth), 404,
                       "not-found")
        assert_problem(api("GET", "/v1/relationships", headers=reseller.auth), 400,
                       "validation-failed")
        tok = new_api_token(reseller, ["relationships:read"])
        self.assertEqual(api("GET", "/v1/relationships/" + rid,
                             headers=bearer(tok["token"])).status, 200)

    def test_remove_admin_access_keeps_the_relationship(self):
        provider, reseller, rid = self.related()
        assert_problem(api("DELETE", "/v1/relationships/%s/admin-access" % rid,
                           headers=provider.auth), 403, "forbidden")
        u = new_user(reseller, ["admin_agent"])
        assert_problem(api("DELETE", "/v1/relationships/%s/admin-access" % rid, headers=bearer(
            access_token(u.email, u.password))), 403, "forbidden")
        for _ in range(2):
            r = api("DELETE", "/v1/relationships/%s/admin-access" % rid, headers=reseller.auth)
            self.assertEqual(r.status, 204, r)
        r = api("GET", "/v1/relationships/" + rid, headers=provider.auth).body
        self.assertEqual((r["state"], r["adminAccess"]["status"]), ("active", "removed"))
        self.assertEqual(r["adminAccess"]["by"], reseller.admin_id)
        wait_subject(provider.email, "Admin access")
        self.assertEqual(sql_value("SELECT COUNT(*) FROM audit_events WHERE target_id = %s AND "
                                   "action = 'relationship.admin_access.remove'", (rid,)), "2")

    def test_an_invitation_by_token_still_mails_its_creator(self):
        provider = new_provider()
        reseller = approved_tenant()
        tok = new_api_token(provider, ["relationships:write"])
        r = invite(provider, reseller.email, headers={"Authorization": "Bearer " + tok["token"]})
        self.assertEqual(r.status, 201, r)
        inv, token = invitation_link(reseller.email)
        rid = authorize(reseller, inv, token).body["id"]
        self.assertEqual(api("DELETE", "/v1/relationships/" + rid, headers=reseller.auth).status,
                         204)
        wait_subject(provider.email, "ended")
        # removing access after the end changes nothing
        self.assertEqual(api("DELETE", "/v1/relationships/%s/admin-access" % rid,
                             headers=reseller.auth).status, 204)
        r = api("GET", "/v1/relationships/" + rid, headers=reseller.auth).body
        self.assertEqual((r["state"], r["adminAccess"]["status"]), ("ended", "granted"))

    def test_either_side_ends_it(self):
        provider, reseller, rid = self.related()
        sales = new_user(provider, ["sales_agent"])
        assert_problem(api("DELETE", "/v1/relationships/" + rid, headers=bearer(
            access_token(sales.email, sales.password))), 403, "forbidden")
        agent = new_user(provider, ["admin_agent"])
        auth = bearer(access_token(agent.email, agent.password))
        for _ in range(2):
            r = api("DELETE", "/v1/relationships/" + rid, headers=auth)
            self.assertEqual(r.status, 204, r)
        r = api("GET", "/v1/relationships/" + rid, headers=reseller.auth).body
        self.assertEqual(r["state"], "ended")
        self.assertEqual(r["endedBy"], agent.id)
        contact = sql_value("SELECT contact_email FROM enrollments WHERE tenant_id = %s",
                            (reseller.id,))
        wait_subject(contact, "ended")
        steps = {s["step"]: s["done"] for s in
                 api("GET", "/v1/enrollment", headers=reseller.auth).body["checklist"]}
        self.assertFalse(steps["providerAuthorized"])
        # a new consent makes a new relationship
        self.assertEqual(invite(provider, reseller.email).status, 201)
        inv, token = invitation_link(reseller.email, 2)
        r = authorize(reseller, inv, token)
        self.assertEqual(r.status, 201, r)
        self.assertNotEqual(r.body["id"], rid)
        rows = sql("SELECT state FROM relationships WHERE reseller_tenant_id = %s ORDER BY id",
                   (reseller.id,))
        self.assertEqual(rows, [["ended"], ["active"]])



# ------------------------------------------------------------ access requests (issue 21)

def ask(provider, rel, headers=None, body=None, **over):
    """The provider asks for admin access on relationship REL."""
    b = body if body is not None else {"roles": ["admin_agent"], "endsAt": future(90)}
    b.update(over)
    h = dict(provider.auth)
    h.update(headers or {})
    return api("POST", "/v1/relationships/%s/access-requests" % rel, body=b, headers=h)


def request_link(email, n=1):
    """(request id, token) of the n-th access request mailed to EMAIL."""
    return mailed_link(email, "/authorize-access", "request", n)


def answer(reseller, rel, rid, token, what="authorization", headers=None, body=None, **over):
    b = body if body is not None else {"token": token}
    if body is None and what == "authorization":
        b["consent"] = True
    b.update(over)
    h = dict(reseller.auth)
    h.update(headers or {})
    return api("POST", "/v1/relationships/%s/access-requests/%s/%s" % (rel, rid, what), body=b,
               headers=h)


def asked(provider, reseller, rel, n=1, **over):
    r = ask(provider, rel, **over)
    assert r.status == 201, r
    rid, token = request_link(reseller.contact, n)
    assert rid == r.body["id"], (rid, r.body)
    return rid, token


class TestAccessRequests(unittest.TestCase):
    """Admin access has a lifecycle (issue 21): the provider asks again on
    its relationship, the reseller's global admin consents or declines."""

    def test_after_removal_a_request_and_consent_give_access_back(self):
        provider, reseller, rel = related()
        rid_ = rel["id"]
        self.assertEqual(api("DELETE", "/v1/relationships/%s/admin-access" % rid_,
                             headers=reseller.auth).status, 204)
        self.assertEqual(assert_problem(api("GET", "/v1/users", headers=as_(provider, reseller)),
                                        403, "forbidden")["code"], "admin_access_removed")
        ends = future(400)
        r = ask(provider, rid_, body={"roles": ["admin_agent", "helpdesk_agent"], "endsAt": ends,
                                      "autoExtend": True, "message": "Let us help again"})
        self.assertEqual(r.status, 201, r)
        req = r.body
        self.assertEqual((req["state"], req["adminAccess"]["roles"],
                          req["adminAccess"]["autoExtend"], req["message"],
                          req["relationshipId"], req["declineReason"], req["answeredAt"]),
                         ("pending", ["admin_agent", "helpdesk_agent"], True, "Let us help again",
                          rid_, None, None))
        self.assertEqual(req["adminAccess"]["endsAt"][:19], ends[:19])
        rid, token = request_link(reseller.contact)
        self.assertEqual(rid, req["id"])
        (m,) = [m for m in mails_to(reseller.contact) if "/authorize-access" in m.body]
        self.assertIn("/authorize-access?relationship=%s&request=%s&token=" % (rid_, rid), m.body)
        self.assertIn("Let us help again", m.body)
        self.assertIn("asks for admin access", m.subject)
        self.assertNotIn(token, sql_value("SELECT token_hash FROM relationship_access_requests "
                                          "WHERE id = %s", (rid,)))
        # both sides list it
        for t in (provider, reseller):
            got = api("GET", "/v1/relationships/%s/access-requests" % rid_, headers=t.auth)
            self.assertEqual(got.status, 200, got)
            self.assertEqual([(i["id"], i["state"]) for i in got.body["items"]],
                             [(rid, "pending")])
            self.assertEqual(got.body["totalCount"], 1)
        before = api("GET", "/v1/relationships/" + rid_, headers=reseller.auth)
        r = answer(reseller, rid_, rid, token)
        self.assertEqual(r.status, 200, r)
        a = r.body["adminAccess"]
        self.assertEqual((a["status"], a["roles"], a["autoExtend"], a["endsAt"][:19]),
                         ("granted", ["admin_agent", "helpdesk_agent"], True, ends[:19]))
        self.assertNotEqual(r.headers["etag"], before.headers["etag"])
        # delegated access works again, with the new roles
        got = api("GET", "/v1/users", headers=as_(provider, reseller))
        self.assertEqual(got.status, 200, got)
        self.assertEqual(sql_value("SELECT state FROM relationship_access_requests WHERE id = %s",
                                   (rid,)), "accepted")
        for t in (provider, reseller):
            self.assertEqual(sql_value(
                "SELECT COUNT(*) FROM audit_events WHERE tenant_id = %s AND action = "
                "'relationship_access_request.accept' AND target_id = %s", (t.id, rid)), "1")
        wait_subject(provider.email, "granted the admin access")
        deadline = time.monotonic() + 10
        while True:
            evs = api("GET", "/v1/events?types=relationship.access_changed",
                      headers=provider.auth).body["items"]
            if evs or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual([(e["data"]["id"], e["data"]["adminAccess"]["autoExtend"])
                          for e in evs], [(rid_, True)])
        # a repeat consent: 409 accepted, nothing changes
        p = assert_problem(answer(reseller, rid_, rid, token), 409, "conflict")
        self.assertEqual(p["code"], "access_request_accepted")
        p = assert_problem(answer(reseller, rid_, rid, token, "rejection"), 409, "conflict")
        self.assertEqual(p["code"], "access_request_accepted")

    def test_a_later_end_and_more_roles_on_granted_access(self):
        provider, reseller, rel = related()
        sql("UPDATE relationships SET access_ends_at = UTC_TIMESTAMP(6) + INTERVAL 20 DAY "
            "WHERE id = %s", (rel["id"],))
        soon = api("GET", "/v1/relationships/" + rel["id"], headers=provider.auth).body
        self.assertFalse(soon["adminAccess"]["autoExtend"])
        rid, token = asked(provider, reseller, rel["id"],
                           body={"roles": ["admin_agent", "sales_agent"], "endsAt": future(729)})
        r = answer(reseller, rel["id"], rid, token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["adminAccess"]["roles"], ["admin_agent", "sales_agent"])
        self.assertFalse(r.body["adminAccess"]["autoExtend"])
        self.assertGreater(r.body["adminAccess"]["endsAt"], soon["adminAccess"]["endsAt"])
        got = api("GET", "/v1/relationships/" + rel["id"], headers=provider.auth).body
        self.assertEqual(got["adminAccess"], r.body["adminAccess"])
        # a second request once the first is answered
        rid2, token2 = asked(provider, reseller, rel["id"], n=2)
        self.assertNotEqual(rid2, rid)

    def test_decline_with_a_reason_is_mailed_and_repeats_answer_the_same(self):
        provider, reseller, rel = related()
        rid, token = asked(provider, reseller, rel["id"])
        r = answer(reseller, rel["id"], rid, token, "rejection", reason="Not this quarter.")
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.body["id"], r.body["state"], r.body["declineReason"]),
                         (rid, "declined", "Not this quarter."))
        wait_subject(provider.email, "declined your request for admin access")
        (m,) = [m for m in mails_to(provider.email) if "declined your request" in m.subject]
        self.assertIn("Not this quarter.", m.body)
        again = answer(reseller, rel["id"], rid, token, "rejection")
        self.assertEqual((again.status, again.body), (200, r.body))
        p = assert_problem(answer(reseller, rel["id"], rid, token), 409, "conflict")
        self.assertEqual(p["code"], "access_request_declined")
        for t in (provider, reseller):
            self.assertEqual(sql_value(
                "SELECT COUNT(*) FROM audit_events WHERE tenant_id = %s AND action = "
                "'relationship_access_request.decline' AND target_id = %s", (t.id, rid)), "1")
        time.sleep(1)
        self.assertEqual(len([m for m in mails_to(provider.email)
                              if "declined your request" in m.subject]), 1)
        # the access is as it was
        got = api("GET", "/v1/relationships/" + rel["id"], headers=provider.auth).body
        self.assertEqual(got["adminAccess"]["roles"], rel["adminAccess"]["roles"])

    def test_bad_input(self):
        provider, reseller, rel = related()
        for body, field, code in (
                ({"endsAt": future(30)}, "roles", "required"),
                ({"roles": ["admin_agent"]}, "endsAt", "required"),
                ({"roles": "admin_agent", "endsAt": future(30)}, "roles", "wrong_type"),
                ({"roles": [], "endsAt": future(30)}, "roles", "required"),
                ({"roles": ["admin_agent"] * 5, "endsAt": future(30)}, "roles", "too_many"),
                ({"roles": ["root"], "endsAt": future(30)}, "roles[0]", "unknown_role"),
                ({"roles": ["global_admin"], "endsAt": future(30)}, "roles[0]",
                 "role_not_delegable"),
                ({"roles": ["admin_agent"], "endsAt": "tomorrow"}, "endsAt", "invalid"),
                ({"roles": ["admin_agent"], "endsAt": future(-1)}, "endsAt", "out_of_range"),
                ({"roles": ["admin_agent"], "endsAt": future(731)}, "endsAt", "out_of_range"),
                ({"roles": ["admin_agent"], "endsAt": future(30), "autoExtend": "yes"},
                 "autoExtend", "wrong_type"),
                ({"roles": ["admin_agent"], "endsAt": future(30), "message": "x" * 1001},
                 "message", None),
                ({"roles": ["admin_agent"], "endsAt": future(30), "message": "a\u0007b"},
                 "message", "invalid"),
                ({"roles": ["admin_agent"], "endsAt": future(30), "extra": 1}, "extra", None)):
            with self.subTest(body=str(body)[:70]):
                r = ask(provider, rel["id"], body=body)
                self.assertEqual(r.status, 400, r)
                self.assertIn(field, field_errors(r.body), r)
                if code:
                    self.assertEqual(field_errors(r.body)[field], code, r)
        self.assertEqual(sql_value("SELECT COUNT(*) FROM relationship_access_requests WHERE "
                                   "relationship_id = %s", (rel["id"],)), "0")
        rid, token = asked(provider, reseller, rel["id"])
        for body, field in (({}, "token"), ({"token": 5}, "token"),
                            ({"token": token, "consent": "yes"}, "consent")):
            r = answer(reseller, rel["id"], rid, token, body=body)
            self.assertEqual(r.status, 400, r)
            self.assertIn(field, field_errors(r.body), r)
        for consent in (False, None):
            b = {"token": token} if consent is None else {"token": token, "consent": consent}
            p = assert_problem(answer(reseller, rel["id"], rid, token, body=b), 422,
                               "rule-refused")
            self.assertEqual(p["code"], "consent_required")
        for reason in ("", "a\u0007b", 5):
            r = answer(reseller, rel["id"], rid, token, "rejection", reason=reason)
            self.assertEqual(r.status, 400, r)
            self.assertIn("reason", field_errors(r.body), r)
        self.assertEqual(sql_value("SELECT state FROM relationship_access_requests WHERE id = %s",
                                   (rid,)), "pending")

    def test_who_may_ask_and_answer(self):
        provider, reseller, rel = related()
        # the provider's sales agent may not ask; an admin agent and a token may
        sales = new_user(provider, ["sales_agent"])
        assert_problem(ask(provider, rel["id"], headers=bearer(
            access_token(sales.email, sales.password))), 403, "forbidden")
        weak = new_api_token(provider, ["relationships:read"])
        assert_problem(ask(provider, rel["id"], headers=bearer(weak["token"])), 403, "forbidden")
        # the reseller does not ask; another tenant's relationship is not there
        assert_problem(ask(reseller, rel["id"]), 403, "forbidden")  # not a provider
        other, _, rel2 = related()
        assert_problem(ask(other, rel["id"]), 404, "not-found")
        assert_problem(api("GET", "/v1/relationships/%s/access-requests" % rel["id"],
                           headers=other.auth), 404, "not-found")
        tok = new_api_token(provider, ["relationships:write"])
        r = ask(provider, rel["id"], headers=bearer(tok["token"]))
        self.assertEqual(r.status, 201, r)
        rid, token = request_link(reseller.contact)
        # a pending request: a second is 409
        p = assert_problem(ask(provider, rel["id"]), 409, "conflict")
        self.assertEqual(p["code"], "access_request_pending")
        # a person of the reseller's: its global admin only, signed in
        aa = new_user(reseller, ["admin_agent"])
        for what in ("authorization", "rejection"):
            assert_problem(answer(reseller, rel["id"], rid, token, what, headers=bearer(
                access_token(aa.email, aa.password))), 403, "forbidden")
            rt = new_api_token(reseller, ["relationships:write", "relationships:read"])
            assert_problem(answer(reseller, rel["id"], rid, token, what,
                                  headers=bearer(rt["token"])), 403, "forbidden")
            # the provider, another reseller, a wrong token, another relationship's id
            for who, rel_id, tk in ((provider, rel["id"], token),
                                    (approved_tenant(), rel["id"], token),
                                    (reseller, rel["id"], secrets.token_urlsafe(32)),
                                    (reseller, rel2["id"], token)):
                p = assert_problem(answer(who, rel_id, rid, tk, what), 404, "not-found")
                self.assertEqual(p["code"], "access_request_not_found")
        self.assertEqual(sql_value("SELECT state FROM relationship_access_requests WHERE id = %s",
                                   (rid,)), "pending")
        # the request made by the token mails its maker when answered
        self.assertEqual(answer(reseller, rel["id"], rid, token).status, 200)
        wait_subject(provider.email, "granted the admin access")

    def test_replays_and_races(self):
        provider, reseller, rel = related()
        key = {"Idempotency-Key": "ar-" + secrets.token_hex(8)}
        body = {"roles": ["admin_agent"], "endsAt": future(100)}
        first = ask(provider, rel["id"], headers=key, body=dict(body))
        again = ask(provider, rel["id"], headers=key, body=dict(body))
        self.assertEqual((first.status, again.status), (201, 201), (first, again))
        self.assertEqual(first.body, again.body)
        rid, token = request_link(reseller.contact)
        key2 = {"Idempotency-Key": "ac-" + secrets.token_hex(8)}
        results = parallel(*([lambda: answer(reseller, rel["id"], rid, token, headers=key2)] * 2
                             + [lambda: answer(reseller, rel["id"], rid, token)] * 4))
        statuses = sorted(getattr(r, "status", r) for r in results)
        self.assertEqual(statuses.count(200) >= 1 and set(statuses) <= {200, 409}, True,
                         statuses)
        keyed = [r for r in results[:2] if getattr(r, "status", 0) == 200]
        unkeyed = [r for r in results[2:] if getattr(r, "status", 0) == 200]
        self.assertEqual(len(unkeyed) + (1 if keyed else 0), 1, statuses)
        self.assertEqual(int(sql_value("SELECT COUNT(*) FROM audit_events WHERE tenant_id = %s "
                                       "AND action = 'relationship_access_request.accept'",
                                       (reseller.id,))), 1)
        # consent against decline: one wins
        for _ in range(2):
            rid, token = asked(provider, reseller, rel["id"],
                               n=len([m for m in mails_to(reseller.contact)
                                      if "/authorize-access" in m.body]) + 1)
            results = parallel(*([lambda: answer(reseller, rel["id"], rid, token)] * 3
                                 + [lambda: answer(reseller, rel["id"], rid, token,
                                                   "rejection")] * 3))
            statuses = [getattr(r, "status", r) for r in results]
            state = sql_value("SELECT state FROM relationship_access_requests WHERE id = %s",
                              (rid,))
            if state == "accepted":
                self.assertEqual(sorted(statuses), [200] + [409] * 5, statuses)
            else:
                self.assertEqual(state, "declined")
                self.assertEqual((statuses[:3], statuses[3:]), ([409] * 3, [200] * 3))

    def test_expired_and_ended(self):
        provider, reseller, rel = related()
        rid, token = asked(provider, reseller, rel["id"])
        sql("UPDATE relationship_access_requests SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 "
            "SECOND WHERE id = %s", (rid,))
        for what in ("authorization", "rejection"):
            p = assert_problem(answer(reseller, rel["id"], rid, token, what), 410, "gone")
            self.assertEqual(p["code"], "access_request_expired")
        listed = api("GET", "/v1/relationships/%s/access-requests" % rel["id"],
                     headers=provider.auth).body["items"]
        self.assertEqual([i["state"] for i in listed], ["expired"])
        # an expired request is no longer pending: a new one may be made
        rid2, token2 = asked(provider, reseller, rel["id"], n=2)
        self.assertEqual(api("DELETE", "/v1/relationships/" + rel["id"],
                             headers=reseller.auth).status, 204)
        p = assert_problem(answer(reseller, rel["id"], rid2, token2), 409, "conflict")
        self.assertEqual(p["code"], "relationship_not_active")
        p = assert_problem(ask(provider, rel["id"]), 409, "conflict")
        self.assertEqual(p["code"], "relationship_not_active")

    def test_auto_extension_extends_once(self):
        provider, reseller, rel = related()
        rid, token = asked(provider, reseller, rel["id"], autoExtend=True)
        self.assertEqual(answer(reseller, rel["id"], rid, token).status, 200)
        sql("UPDATE relationships SET access_ends_at = UTC_TIMESTAMP(6) + INTERVAL 2 HOUR "
            "WHERE id = %s", (rel["id"],))
        ends = sql_value("SELECT access_ends_at FROM relationships WHERE id = %s", (rel["id"],))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            now = sql_value("SELECT access_ends_at FROM relationships WHERE id = %s",
                            (rel["id"],))
            if now != ends:
                break
            time.sleep(0.2)
        time.sleep(5)  # a few more runs of the periodic job: still once
        self.assertEqual(sql_value("SELECT DATEDIFF(access_ends_at, %s) FROM relationships "
                                   "WHERE id = %s", (ends, rel["id"])), "180")
        for t in (provider, reseller):
            self.assertEqual(sql_value(
                "SELECT COUNT(*) FROM audit_events WHERE tenant_id = %s AND action = "
                "'relationship.admin_access.extend' AND target_id = %s AND actor_type = "
                "'system'", (t.id, rel["id"])), "1")
        evs = api("GET", "/v1/events?types=relationship.access_changed",
                  headers=reseller.auth).body["items"]
        self.assertEqual(len(evs), 2, evs)  # the consent, then the extension
        # without autoExtend nothing moves
        p2, r2, rel2 = related()
        sql("UPDATE relationships SET access_ends_at = UTC_TIMESTAMP(6) + INTERVAL 2 HOUR "
            "WHERE id = %s", (rel2["id"],))
        time.sleep(3)
        self.assertEqual(sql_value("SELECT access_ends_at > UTC_TIMESTAMP(6) + INTERVAL 1 DAY "
                                   "FROM relationships WHERE id = %s", (rel2["id"],)), "0")

    def test_access_that_extends_itself_is_not_told_it_ends(self):
        provider, reseller, rel = related()
        rid, token = asked(provider, reseller, rel["id"], autoExtend=True)
        self.assertEqual(answer(reseller, rel["id"], rid, token).status, 200)
        p2, r2, rel2 = related()
        for r in (rel, rel2):
            sql("UPDATE relationships SET access_ends_at = UTC_TIMESTAMP(6) + INTERVAL 20 DAY "
                "WHERE id = %s", (r["id"],))
        wait_subject(p2.email, "Admin access in the relationship with")
        time.sleep(3)  # the same runs of the periodic job passed the first
        self.assertFalse([m for m in mails_to(provider.email)
                          if "Admin access in the relationship with" in m.subject])
        self.assertEqual(sql_value("SELECT COUNT(*) FROM relationship_access_notices WHERE "
                                   "relationship_id = %s", (rel["id"],)), "0")


def withdraw(provider, rel, rid, headers=None):
    h = dict(provider.auth)
    h.update(headers or {})
    return api("DELETE", "/v1/relationships/%s/access-requests/%s" % (rel, rid), headers=h)


def request_state(rid):
    return sql_value("SELECT state FROM relationship_access_requests WHERE id = %s", (rid,))


def audits(tenant, action, target):
    return sql_value("SELECT COUNT(*) FROM audit_events WHERE tenant_id = %s AND action = %s "
                     "AND target_id = %s", (tenant.id, action, target))


class TestAccessRequestWithdrawal(unittest.TestCase):
    """Issue 21: the provider withdraws its pending request; an end
    withdraws it too; a removal of admin access or a suspension does not."""

    def test_withdraw(self):
        provider, reseller, rel = related()
        rid, token = asked(provider, reseller, rel["id"])
        # another provider: neither its relationship nor its request
        other, _, rel2 = related()
        assert_problem(withdraw(other, rel["id"], rid), 404, "not-found")
        p = assert_problem(withdraw(other, rel2["id"], rid), 404, "not-found")
        self.assertEqual(p["code"], "access_request_not_found")
        # the reseller declines, never withdraws; a sales agent and a
        # reading token may not
        p = assert_problem(withdraw(reseller, rel["id"], rid), 403, "forbidden")
        self.assertIn("declines", p["detail"])
        sales = new_user(provider, ["sales_agent"])
        assert_problem(withdraw(provider, rel["id"], rid, headers=bearer(
            access_token(sales.email, sales.password))), 403, "forbidden")
        weak = new_api_token(provider, ["relationships:read"])
        assert_problem(withdraw(provider, rel["id"], rid, headers=bearer(weak["token"])), 403,
                       "forbidden")
        self.assertEqual(request_state(rid), "pending")
        # withdrawn, and again: 204 both, one audit a tenant
        for _ in range(2):
            r = withdraw(provider, rel["id"], rid)
            self.assertEqual((r.status, r.body), (204, ""), r)
        self.assertEqual(request_state(rid), "withdrawn")
        for t in (provider, reseller):
            self.assertEqual(audits(t, "relationship_access_request.withdraw", rid), "1")
        listed = api("GET", "/v1/relationships/%s/access-requests" % rel["id"],
                     headers=reseller.auth).body["items"]
        self.assertEqual([(i["id"], i["state"]) for i in listed], [(rid, "withdrawn")])
        self.assertIsNotNone(listed[0]["answeredAt"])
        # the mailed link answers as a withdrawn invitation's does
        for what in ("authorization", "rejection"):
            p = assert_problem(answer(reseller, rel["id"], rid, token, what), 409, "conflict")
            self.assertEqual(p["code"], "access_request_withdrawn")
        got = api("GET", "/v1/relationships/" + rel["id"], headers=reseller.auth).body
        self.assertEqual(got["adminAccess"], rel["adminAccess"])
        # nothing pending: the provider may ask again, with a token that writes
        tok = new_api_token(provider, ["relationships:write"])
        rid2, token2 = asked(provider, reseller, rel["id"], n=2)
        self.assertEqual(withdraw(provider, rel["id"], rid2,
                                  headers=bearer(tok["token"])).status, 204)
        self.assertEqual(request_state(rid2), "withdrawn")
        # an answered request is not withdrawn
        rid3, token3 = asked(provider, reseller, rel["id"], n=3)
        self.assertEqual(answer(reseller, rel["id"], rid3, token3, "rejection").status, 200)
        p = assert_problem(withdraw(provider, rel["id"], rid3), 409, "conflict")
        self.assertEqual(p["code"], "access_request_declined")
        rid4, token4 = asked(provider, reseller, rel["id"], n=4)
        self.assertEqual(answer(reseller, rel["id"], rid4, token4).status, 200)
        p = assert_problem(withdraw(provider, rel["id"], rid4), 409, "conflict")
        self.assertEqual(p["code"], "access_request_accepted")
        self.assertEqual([request_state(i) for i in (rid3, rid4)], ["declined", "accepted"])
        # an unknown request of the provider's own relationship
        p = assert_problem(withdraw(provider, rel["id"], rel2["id"]), 404, "not-found")
        self.assertEqual(p["code"], "access_request_not_found")

    def test_withdrawal_against_consent_one_wins(self):
        provider, reseller, rel = related()
        self.assertEqual(api("DELETE", "/v1/relationships/%s/admin-access" % rel["id"],
                             headers=reseller.auth).status, 204)
        for n in range(1, 5):
            rid, token = asked(provider, reseller, rel["id"], n=n)
            before = api("GET", "/v1/relationships/" + rel["id"], headers=provider.auth)
            results = parallel(*([lambda: withdraw(provider, rel["id"], rid)] * 3
                                 + [lambda: answer(reseller, rel["id"], rid, token)] * 3))
            statuses = [getattr(r, "status", r) for r in results]
            state = request_state(rid)
            after = api("GET", "/v1/relationships/" + rel["id"], headers=provider.auth)
            if state == "accepted":
                self.assertEqual((statuses[:3], sorted(statuses[3:])),
                                 ([409] * 3, [200, 409, 409]), statuses)
                self.assertEqual({r.body["code"] for r in results if r.status == 409},
                                 {"access_request_accepted"})
                self.assertEqual(after.body["adminAccess"]["status"], "granted")
                self.assertEqual(audits(provider, "relationship_access_request.withdraw", rid),
                                 "0")
                # remove it again for the next round
                self.assertEqual(api("DELETE", "/v1/relationships/%s/admin-access" % rel["id"],
                                     headers=reseller.auth).status, 204)
            else:
                self.assertEqual(state, "withdrawn")
                self.assertEqual((statuses[:3], statuses[3:]), ([204] * 3, [409] * 3),
                                 statuses)
                self.assertEqual({r.body["code"] for r in results[3:]},
                                 {"access_request_withdrawn"})
                self.assertEqual(after.headers["etag"], before.headers["etag"])
                self.assertEqual(after.body["adminAccess"]["status"], "removed")
                self.assertEqual(audits(provider, "relationship_access_request.withdraw", rid),
                                 "1")

    def test_an_end_withdraws_the_pending_request(self):
        for side in ("provider", "reseller"):
            with self.subTest(side=side):
                provider, reseller, rel = related()
                # an expired request stays expired; the pending one is withdrawn
                old, _ = asked(provider, reseller, rel["id"])
                sql("UPDATE relationship_access_requests SET expires_at = UTC_TIMESTAMP(6) - "
                    "INTERVAL 1 SECOND WHERE id = %s", (old,))
                rid, token = asked(provider, reseller, rel["id"], n=2)
                ender = provider if side == "provider" else reseller
                self.assertEqual(api("DELETE", "/v1/relationships/" + rel["id"],
                                     headers=ender.auth).status, 204)
                self.assertEqual(request_state(rid), "withdrawn")
                self.assertEqual(sql_value(
                    "SELECT q.changed_at = r.ended_at FROM relationship_access_requests q JOIN "
                    "relationships r ON r.id = q.relationship_id WHERE q.id = %s", (rid,)), "1")
                self.assertEqual((request_state(old), sql_value(
                    "SELECT changed_at FROM relationship_access_requests WHERE id = %s",
                    (old,))), ("pending", None))
                for t in (provider, reseller):
                    self.assertEqual(audits(t, "relationship_access_request.withdraw", rid), "1")
                    self.assertEqual(sql_value(
                        "SELECT actor_id FROM audit_events WHERE tenant_id = %s AND action = "
                        "'relationship_access_request.withdraw' AND target_id = %s",
                        (t.id, rid)), ender.admin_id)
                # the link says the relationship ended, to consent and decline
                for what in ("authorization", "rejection"):
                    p = assert_problem(answer(reseller, rel["id"], rid, token, what), 409,
                                       "conflict")
                    self.assertEqual(p["code"], "relationship_not_active")
                self.assertEqual(withdraw(provider, rel["id"], rid).status, 204)
                listed = api("GET", "/v1/relationships/%s/access-requests" % rel["id"],
                             headers=provider.auth).body["items"]
                self.assertEqual([i["state"] for i in listed], ["expired", "withdrawn"])

    def test_a_removal_leaves_the_request_to_be_consented(self):
        provider, reseller, rel = related()
        rid, token = asked(provider, reseller, rel["id"],
                           body={"roles": ["helpdesk_agent"], "endsAt": future(60)})
        self.assertEqual(api("DELETE", "/v1/relationships/%s/admin-access" % rel["id"],
                             headers=reseller.auth).status, 204)
        self.assertEqual(request_state(rid), "pending")
        r = answer(reseller, rel["id"], rid, token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.body["adminAccess"]["status"], r.body["adminAccess"]["roles"]),
                         ("granted", ["helpdesk_agent"]))

    def test_a_suspension_holds_consent_until_the_region_is_back(self):
        provider, reseller, rel = related()
        rid, token = asked(provider, reseller, rel["id"])
        self.assertEqual(set_regions(provider, ["africa"], "*").status, 200)
        p = assert_problem(answer(reseller, rel["id"], rid, token), 422, "rule-refused")
        self.assertEqual(p["code"], "region_not_authorized")
        self.assertIn("europe", p["detail"])
        self.assertEqual(request_state(rid), "pending")
        self.assertEqual(set_regions(provider, ["europe"], "*").status, 200)
        r = answer(reseller, rel["id"], rid, token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(request_state(rid), "accepted")
