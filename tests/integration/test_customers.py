"""Customers (SPEC §5, issue 11 parts 1-3): a reseller's invitation of a
customer through a provider relationship, mailed with a link; the
customer's acceptance, which makes its relationships with the reseller and
the provider in one transaction; the customer's partners; each side's view
of the customers it shares.  Through nginx, real MariaDB and the .eml
files."""

import secrets
import time
import unittest

import pytest

from harness import (access_token, api, assert_problem, bearer, field_errors, mails_to,
                     new_api_token, new_tenant, new_user, parallel, restart_service, sql,
                     sql_value)
from world import (ACCEPT_PATH, accept_invitation, approved_tenant, as_, authorize, customer_link,
                   invitation_link, invite, invite_customer, invited, new_provider, partners,
                   related, set_regions, shared_customer, signed)

def customer_rows(customer_id):
    return sql("SELECT partner_tenant_id, partner_type, state FROM customer_relationships "
               "WHERE customer_tenant_id = %s ORDER BY partner_type", (customer_id,))


def audit_count(tenant_id, action, target_id):
    return int(sql_value("SELECT COUNT(*) FROM audit_events WHERE tenant_id = %s AND action = %s "
                         "AND target_id = %s", (tenant_id, action, target_id)))


class TestCustomerInvitation(unittest.TestCase):
    def test_the_whole_flow(self):
        provider, reseller, rel = partners()
        customer = new_tenant()
        r = invite_customer(reseller, rel, customer.email.upper(), language="ru")
        self.assertEqual(r.status, 201, r)
        inv = r.body
        self.assertEqual((inv["state"], inv["customerEmail"], inv["country"], inv["language"]),
                         ("pending", customer.email, "FR", "ru"))
        self.assertEqual((inv["reseller"]["tenantId"], inv["provider"]["tenantId"]),
                         (reseller.id, provider.id))
        self.assertIsNone(inv["customerTenantId"])
        inv_id, token = customer_link(customer.email)
        self.assertEqual(inv_id, inv["id"])
        mail = [m for m in mails_to(customer.email) if ACCEPT_PATH in m.body][0]
        self.assertIn("%s?invitation=%s&token=" % (ACCEPT_PATH, inv_id), mail.body)
        self.assertIn("клиентом", mail.subject)  # the Russian template
        self.assertNotIn(token, sql_value("SELECT token_hash FROM customer_invitations "
                                          "WHERE id = %s", (inv_id,)))
        # both sides of the relationship list it
        for t in (reseller, provider):
            got = api("GET", "/v1/relationships/%s/customer-invitations" % rel, headers=t.auth)
            self.assertEqual([i["id"] for i in got.body["items"]], [inv_id])
            self.assertNotIn(token, str(got.body))
        for t in (reseller, provider):
            self.assertEqual(audit_count(t.id, "customer_invitation.create", inv_id), 1)
        # the customer reviews what it received before it accepts
        got = api("GET", "/v1/customer-invitations", headers=customer.auth)
        self.assertEqual(got.status, 200, got)
        self.assertEqual([(i["id"], i["state"], i["reseller"]["tenantId"],
                           i["provider"]["tenantId"]) for i in got.body["items"]],
                         [(inv_id, "pending", reseller.id, provider.id)])
        self.assertNotIn(token, str(got.body))
        self.assertEqual(api("GET", "/v1/customer-invitations",
                             headers=reseller.auth).body["items"], [])

        r = accept_invitation(customer, inv_id, token)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.body["invitation"]["state"], "accepted")
        self.assertEqual(r.body["invitation"]["customerTenantId"], customer.id)
        got = {(x["partner"]["tenantId"], x["partnerType"], x["state"])
               for x in r.body["relationships"]}
        self.assertEqual(got, {(reseller.id, "indirect_reseller", "active"),
                               (provider.id, "indirect_provider", "active")})
        self.assertEqual(customer_rows(customer.id),
                         [[reseller.id, "indirect_reseller", "active"],
                          [provider.id, "indirect_provider", "active"]])
        for t in (customer, reseller, provider):
            self.assertEqual(audit_count(t.id, "customer_invitation.accept", inv_id), 1)
        # the customer's own list of its partners
        r = api("GET", "/v1/customer-relationships", headers=customer.auth)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["totalCount"], 2)
        self.assertEqual({x["partner"]["tenantId"] for x in r.body["items"]},
                         {reseller.id, provider.id})
        # each side sees the customer the two share
        for t in (reseller, provider):
            r = api("GET", "/v1/relationships/%s/customers" % rel, headers=t.auth)
            self.assertEqual(r.status, 200, r)
            self.assertEqual([(c["id"], c["companyName"], c["country"], c["domain"])
                              for c in r.body["items"]],
                             [(customer.id, "Fabrikam SARL", "FR", customer.domain)])
            r = api("GET", "/v1/customers", headers=t.auth)
            self.assertEqual([c["id"] for c in r.body["items"]], [customer.id])
            r = api("GET", "/v1/customers?relationship=" + rel, headers=t.auth)
            self.assertEqual([c["id"] for c in r.body["items"]], [customer.id])
            r = api("GET", "/v1/customers/" + customer.id, headers=t.auth)
            self.assertEqual((r.status, r.body["id"], r.body["relationship"]["state"]),
                             (200, customer.id, "active"))
        # twice: 409
        p = assert_problem(accept_invitation(customer, inv_id, token), 409, "conflict")
        self.assertEqual(p["code"], "invitation_accepted")
        p = assert_problem(api("DELETE", "/v1/customer-invitations/" + inv_id,
                               headers=reseller.auth), 409, "conflict")
        self.assertEqual(p["code"], "invitation_accepted")

    def test_a_second_invitation_of_the_same_pair(self):
        provider, reseller, rel, customer = shared_customer()
        self.assertEqual(invite_customer(reseller, rel, customer.email).status, 201)
        inv, token = customer_link(customer.email, 2)
        p = assert_problem(accept_invitation(customer, inv, token), 409, "conflict")
        self.assertEqual(p["code"], "customer_relationships_exist")
        self.assertEqual(len(customer_rows(customer.id)), 2)

    def test_a_customer_shared_with_a_second_reseller_of_the_provider(self):
        provider, reseller, rel, customer = shared_customer()
        # a second reseller of the same provider invites the same customer
        other = approved_tenant()
        self.assertEqual(invite(provider, other.email).status, 201)
        i, t = invitation_link(other.email)
        rel2 = authorize(other, i, t).body["id"]
        signed(other)
        self.assertEqual(invite_customer(other, rel2, customer.email).status, 201)
        inv, token = customer_link(customer.email, 2)
        r = accept_invitation(customer, inv, token)
        self.assertEqual(r.status, 201, r)
        # the provider's relationship stood already: it is kept, one a pair
        self.assertEqual(len(customer_rows(customer.id)), 3)
        r = api("GET", "/v1/relationships/%s/customers" % rel2, headers=other.auth)
        self.assertEqual([c["id"] for c in r.body["items"]], [customer.id])
        self.assertEqual(api("GET", "/v1/customers", headers=provider.auth).body["totalCount"], 1)

    def test_input_refused(self):
        provider, reseller, rel = partners()
        cases = [({"customerEmail": "not-an-address"}, "customerEmail"),
                 ({"customerEmail": 5}, "customerEmail"),
                 ({"companyName": ""}, "companyName"),
                 ({"companyName": "\u202eevil"}, "companyName"),
                 # issue 21: look-alikes, invisible characters, separators
                 ({"companyName": "\u0421ontoso SARL"}, "companyName"),
                 ({"companyName": "Fabri\u200bkam"}, "companyName"),
                 ({"companyName": "Fabrikam\u2028SARL"}, "companyName"),
                 ({"companyName": "x" * 201}, "companyName"),
                 ({"country": "fra"}, "country"),
                 ({"country": "fr"}, "country"),
                 ({"language": "de"}, "language")]
        for over, field in cases:
            with self.subTest(over=over):
                p = assert_problem(invite_customer(reseller, rel, "a@fabrikam.example", **over),
                                   400, "validation-failed")
                self.assertIn(field, field_errors(p))
        for missing in ("customerEmail", "companyName", "country"):
            body = {"customerEmail": "a@fabrikam.example", "companyName": "F", "country": "FR"}
            del body[missing]
            r = api("POST", "/v1/relationships/%s/customer-invitations" % rel, body=body,
                    headers=reseller.auth)
            self.assertIn(missing, field_errors(assert_problem(r, 400, "validation-failed")))
        r = api("POST", "/v1/relationships/%s/customer-invitations" % rel,
                raw=b'{"customerEmail": "a@b.example", "companyName": "' + b"x" * 70000 + b'"}',
                headers=dict(reseller.auth, **{"Content-Type": "application/json"}))
        self.assertEqual(r.status, 413, r)
        self.assertEqual(int(sql_value("SELECT COUNT(*) FROM customer_invitations WHERE "
                                       "relationship_id = %s", (rel,))), 0)

    def test_rules_refused(self):
        provider, reseller, rel = partners()
        # outside the reseller's region (europe), or outside the programme
        for country in ("US", "JP", "CN"):
            p = assert_problem(invite_customer(reseller, rel, "a@fabrikam.example",
                                               country=country), 422, "rule-refused")
            self.assertEqual(p["code"], "country_not_in_region")
        # the reseller's or the provider's own domain
        for domain in (reseller.domain, provider.domain):
            p = assert_problem(invite_customer(reseller, rel, "x@" + domain), 422,
                               "rule-refused")
            self.assertEqual(p["code"], "own_domain")
        # not signed: a reseller that never signed
        provider2, reseller2, rel2 = related()
        p = assert_problem(invite_customer(reseller2, rel2["id"], "a@fabrikam.example"), 422,
                           "rule-refused")
        self.assertEqual(p["code"], "reseller_agreement_not_signed")
        # an ended relationship
        self.assertEqual(api("DELETE", "/v1/relationships/" + rel, headers=reseller.auth).status,
                         204)
        p = assert_problem(invite_customer(reseller, rel, "a@fabrikam.example"), 422,
                           "rule-refused")
        self.assertEqual(p["code"], "relationship_not_active")
        self.assertEqual(int(sql_value("SELECT COUNT(*) FROM customer_invitations WHERE "
                                       "reseller_tenant_id IN (%s, %s)",
                                       (reseller.id, reseller2.id))), 0)

    def test_who_may_invite(self):
        provider, reseller, rel = partners()
        email = "a@fabrikam%s.example" % secrets.token_hex(3)
        # a sales agent may, a helpdesk agent may not
        sales = new_user(reseller, ["sales_agent"])
        r = invite_customer(reseller, rel, email, auth=bearer(access_token(sales.email,
                                                                           sales.password)))
        self.assertEqual(r.status, 201, r)
        helpdesk = new_user(reseller, ["helpdesk_agent"])
        assert_problem(invite_customer(reseller, rel, email, auth=bearer(
            access_token(helpdesk.email, helpdesk.password))), 403, "forbidden")
        # a token needs customers:write
        tok = new_api_token(reseller, ["customers:read"])
        assert_problem(invite_customer(reseller, rel, email, auth=bearer(tok["token"])), 403,
                       "forbidden")
        tok = new_api_token(reseller, ["customers:write"])
        self.assertEqual(invite_customer(reseller, rel, email, auth=bearer(tok["token"])).status,
                         201)
        # the provider itself: only through its delegated admin access
        p = assert_problem(invite_customer(reseller, rel, email, auth=provider.auth), 403,
                           "forbidden")
        self.assertEqual(p["code"], "delegation_required")
        r = invite_customer(reseller, rel, email, auth=as_(provider, reseller))
        self.assertEqual(r.status, 201, r)
        inv = r.body["id"]
        # a delegated change is in both logs, naming the relationship
        for t in (reseller, provider):
            events = [e for e in api("GET", "/v1/audit-events", headers=t.auth).body["items"]
                      if e["target"]["id"] == inv]
            self.assertEqual(len(events), 1, events)
            self.assertEqual(events[0]["delegation"],
                             {"relationshipId": rel, "actorTenantId": provider.id,
                              "tenantId": reseller.id})
            self.assertEqual(events[0]["actor"]["id"], provider.admin_id)
        # a third tenant's id: 404
        stranger = approved_tenant()
        assert_problem(invite_customer(reseller, rel, email, auth=stranger.auth), 404,
                       "not-found")
        assert_problem(api("GET", "/v1/relationships/%s/customer-invitations" % rel,
                           headers=stranger.auth), 404, "not-found")
        self.assertEqual(int(sql_value("SELECT COUNT(*) FROM customer_invitations WHERE "
                                       "relationship_id = %s", (rel,))), 3)

    def test_delegated_access_is_the_providers_own_relationship(self):
        provider, reseller, rel = partners()
        # the reseller's relationship with a second provider
        other = new_provider()
        self.assertEqual(invite(other, reseller.email).status, 201)
        i, t = invitation_link(reseller.email, 2)
        rel2 = authorize(reseller, i, t).body["id"]
        inv2 = invite_customer(reseller, rel2, "a@fabrikam.example").body["id"]
        as_provider = as_(provider, reseller)
        for r in (invite_customer(reseller, rel2, "b@fabrikam.example", auth=as_provider),
                  api("GET", "/v1/relationships/%s/customer-invitations" % rel2,
                      headers=as_provider),
                  api("GET", "/v1/relationships/%s/customers" % rel2, headers=as_provider),
                  api("GET", "/v1/customers?relationship=" + rel2, headers=as_provider),
                  api("DELETE", "/v1/customer-invitations/" + inv2, headers=as_provider)):
            with self.subTest(r=r):
                p = assert_problem(r, 403, "forbidden")
                self.assertEqual(p["code"], "other_relationship")
        self.assertEqual(sql_value("SELECT state FROM customer_invitations WHERE id = %s",
                                   (inv2,)), "pending")
        # its own relationship's, it may
        inv = invite_customer(reseller, rel, "c@fabrikam.example", auth=as_provider).body["id"]
        got = api("GET", "/v1/relationships/%s/customer-invitations" % rel, headers=as_provider)
        self.assertEqual([x["id"] for x in got.body["items"]], [inv])
        self.assertEqual(api("DELETE", "/v1/customer-invitations/" + inv,
                             headers=as_provider).status, 204)
        for t in (reseller, provider):
            self.assertEqual(audit_count(t.id, "customer_invitation.withdraw", inv), 1)

    def test_delegated_reads_see_the_customers_of_this_pair_only(self):
        """Issue 21, F1: a provider acting for a reseller listed and read the
        customers that reseller shares only with a competing provider."""
        provider, reseller, rel, mine = shared_customer()
        competitor = new_provider()
        self.assertEqual(invite(competitor, reseller.email).status, 201)
        i, t = invitation_link(reseller.email, 2)
        rel2 = authorize(reseller, i, t).body["id"]
        theirs = new_tenant()
        self.assertEqual(invite_customer(reseller, rel2, theirs.email).status, 201)
        inv, token = customer_link(theirs.email)
        self.assertEqual(accept_invitation(theirs, inv, token).status, 201)
        # the reseller itself sees both
        own = api("GET", "/v1/customers", headers=reseller.auth).body["items"]
        self.assertEqual(sorted(c["id"] for c in own), sorted([mine.id, theirs.id]))
        h = as_(provider, reseller)
        r = api("GET", "/v1/customers", headers=h)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(([c["id"] for c in r.body["items"]], r.body["totalCount"]),
                         ([mine.id], 1))
        self.assertEqual(api("GET", "/v1/customers/" + mine.id, headers=h).status, 200)
        assert_problem(api("GET", "/v1/customers/" + theirs.id, headers=h), 404, "not-found")
        # the competitor, acting for the reseller, sees its own alone
        r = api("GET", "/v1/customers", headers=as_(competitor, reseller))
        self.assertEqual([c["id"] for c in r.body["items"]], [theirs.id])

    def test_replayed_invitation(self):
        provider, reseller, rel = partners()
        customer = new_tenant()
        key = secrets.token_hex(8)
        r1 = invite_customer(reseller, rel, customer.email, headers={"Idempotency-Key": key})
        r2 = invite_customer(reseller, rel, customer.email, headers={"Idempotency-Key": key})
        self.assertEqual((r1.status, r2.status), (201, 201))
        self.assertEqual(r1.body["id"], r2.body["id"])
        r3 = invite_customer(reseller, rel, customer.email, headers={"Idempotency-Key": key},
                             companyName="Another")
        assert_problem(r3, 422, None)
        customer_link(customer.email)
        time.sleep(0.5)  # a second mail would have gone by now
        self.assertEqual(len([m for m in mails_to(customer.email) if ACCEPT_PATH in m.body]), 1)
        self.assertEqual(int(sql_value("SELECT COUNT(*) FROM customer_invitations WHERE "
                                       "relationship_id = %s", (rel,))), 1)

    def test_withdraw(self):
        provider, reseller, rel, customer, inv, token = invited()
        stranger = approved_tenant()
        assert_problem(api("DELETE", "/v1/customer-invitations/" + inv, headers=stranger.auth),
                       404, "not-found")
        assert_problem(api("DELETE", "/v1/customer-invitations/" + inv, headers=provider.auth),
                       404, "not-found")
        for _ in range(2):
            r = api("DELETE", "/v1/customer-invitations/" + inv, headers=reseller.auth)
            self.assertEqual(r.status, 204, r)
        for t in (reseller, provider):
            self.assertEqual(audit_count(t.id, "customer_invitation.withdraw", inv), 1)
        p = assert_problem(accept_invitation(customer, inv, token), 409, "conflict")
        self.assertEqual(p["code"], "invitation_withdrawn")
        self.assertEqual(customer_rows(customer.id), [])


class TestAcceptance(unittest.TestCase):
    @pytest.fixture(autouse=True)
    def _world(self, invited_customer):
        self.invited = invited_customer

    def test_refusals(self):
        provider, reseller, rel, customer, inv, token = self.invited
        # a wrong token, another work account, an unknown id: one 404
        p = assert_problem(accept_invitation(customer, inv, "A" * 43), 404, "not-found")
        self.assertEqual(p["code"], "invitation_not_found")
        other = new_tenant()
        assert_problem(accept_invitation(other, inv, token), 404, "not-found")
        assert_problem(accept_invitation(customer, "0193a000-0000-7000-8000-0000000000ff", token),
                       404, "not-found")
        # a person, its global admin: not an API token, not another role
        tok = new_api_token(customer, ["relationships:write"])
        assert_problem(accept_invitation(customer, inv, token, bearer(tok["token"])), 403,
                       "forbidden")
        agent = new_user(customer, ["admin_agent"])
        assert_problem(accept_invitation(customer, inv, token,
                                         bearer(access_token(agent.email, agent.password))),
                       403, "forbidden")
        r = api("POST", "/v1/customer-invitations/%s/acceptance" % inv, body={},
                headers=customer.auth)
        self.assertIn("token", field_errors(assert_problem(r, 400, "validation-failed")))
        r = api("POST", "/v1/customer-invitations/%s/acceptance" % inv, body={"token": 7},
                headers=customer.auth)
        assert_problem(r, 400, "validation-failed")
        r = api("POST", "/v1/customer-invitations/%s/acceptance" % inv,
                raw=b'{"token": "' + b"x" * 70000 + b'"}',
                headers=dict(customer.auth, **{"Content-Type": "application/json"}))
        self.assertEqual(r.status, 413, r)
        self.assertEqual(customer_rows(customer.id), [])
        # expired
        sql("UPDATE customer_invitations SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND "
            "WHERE id = %s", (inv,))
        p = assert_problem(accept_invitation(customer, inv, token), 410, "gone")
        self.assertEqual(p["code"], "invitation_expired")
        self.assertEqual(customer_rows(customer.id), [])

    def test_ended_relationship_makes_neither(self):
        provider, reseller, rel, customer, inv, token = self.invited
        self.assertEqual(api("DELETE", "/v1/relationships/" + rel, headers=provider.auth).status,
                         204)
        p = assert_problem(accept_invitation(customer, inv, token), 422, "rule-refused")
        self.assertEqual(p["code"], "relationship_not_active")
        self.assertEqual(customer_rows(customer.id), [])

    def test_a_failure_on_the_second_relationship_leaves_neither(self):
        provider, reseller, rel, customer, inv, token = self.invited
        # the operator takes europe from the provider: the provider's
        # relationship cannot be made, after the reseller's was written
        r = set_regions(provider, ["africa"], provider.etag)
        self.assertEqual(r.status, 200, r)
        p = assert_problem(accept_invitation(customer, inv, token), 422, "rule-refused")
        self.assertEqual(p["code"], "region_not_authorized")
        self.assertEqual(customer_rows(customer.id), [])
        self.assertEqual(sql_value("SELECT state FROM customer_invitations WHERE id = %s",
                                   (inv,)), "pending")
        self.assertEqual(audit_count(customer.id, "customer_invitation.accept", inv), 0)
        # once the region is back, both are made
        r = set_regions(provider, ["europe"], r.headers["etag"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(accept_invitation(customer, inv, token).status, 201)
        self.assertEqual(len(customer_rows(customer.id)), 2)

    def test_a_replayed_acceptance(self):
        provider, reseller, rel, customer, inv, token = self.invited
        key = {"Idempotency-Key": secrets.token_hex(8)}
        r1 = accept_invitation(customer, inv, token, key)
        r2 = accept_invitation(customer, inv, token, key)
        self.assertEqual((r1.status, r2.status), (201, 201))
        self.assertEqual(r1.body, r2.body)
        self.assertEqual(len(customer_rows(customer.id)), 2)

    def test_withdrawal_races_acceptance(self):
        provider, reseller, rel, customer, inv, token = self.invited
        took, withdrew = parallel(lambda: accept_invitation(customer, inv, token),
                                  lambda: api("DELETE", "/v1/customer-invitations/" + inv,
                                              headers=reseller.auth))
        self.assertIn((took.status, withdrew.status), ((201, 409), (409, 204)))
        state = sql_value("SELECT state FROM customer_invitations WHERE id = %s", (inv,))
        if took.status == 201:
            self.assertEqual((state, len(customer_rows(customer.id))), ("accepted", 2))
        else:
            self.assertEqual(took.body["code"], "invitation_withdrawn")
            self.assertEqual((state, customer_rows(customer.id)), ("withdrawn", []))

    def test_fifty_concurrent_acceptances(self):
        provider, reseller, rel, customer, inv, token = self.invited
        results = parallel(*[lambda: accept_invitation(customer, inv, token)] * 50)
        statuses = sorted(r.status for r in results)
        self.assertEqual(statuses.count(201), 1, statuses)
        self.assertEqual(statuses.count(409), 49, statuses)
        self.assertEqual(len(customer_rows(customer.id)), 2)
        self.assertEqual(audit_count(customer.id, "customer_invitation.accept", inv), 1)


class TestCrashBetweenTheTwoRelationships(unittest.TestCase):
    """The process dies after the reseller's relationship is written, before
    the provider's: the transaction never commits, so neither stands."""
    RUN_LAST = True

    def test_neither_stands(self):
        provider, reseller, rel, customer, inv, token = invited()
        restart_service({"TWOTIER_FAULT": "customer.between_relationships"})
        try:
            r = accept_invitation(customer, inv, token)
            self.assertGreaterEqual(r.status, 500, r)
        finally:
            restart_service()
        self.assertEqual(customer_rows(customer.id), [])
        self.assertEqual(sql_value("SELECT state FROM customer_invitations WHERE id = %s",
                                   (inv,)), "pending")
        r = accept_invitation(customer, inv, token)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(len(customer_rows(customer.id)), 2)


class TestCustomerRelationships(unittest.TestCase):
    def test_the_customer_ends_one(self):
        provider, reseller, rel, customer = shared_customer()
        items = api("GET", "/v1/customer-relationships", headers=customer.auth).body["items"]
        to_provider = [x for x in items if x["partner"]["tenantId"] == provider.id][0]["id"]
        # its global admin only; another tenant's id is unknown
        agent = new_user(customer, ["admin_agent"])
        assert_problem(api("DELETE", "/v1/customer-relationships/" + to_provider,
                           headers=bearer(access_token(agent.email, agent.password))),
                       403, "forbidden")
        tok = new_api_token(customer, ["relationships:write"])
        assert_problem(api("DELETE", "/v1/customer-relationships/" + to_provider,
                           headers=bearer(tok["token"])), 403, "forbidden")
        for t in (provider, reseller):
            assert_problem(api("DELETE", "/v1/customer-relationships/" + to_provider,
                               headers=t.auth), 404, "not-found")
        # two at once, then once more: each 204, ended once
        results = parallel(*[lambda: api("DELETE", "/v1/customer-relationships/" + to_provider,
                                         headers=customer.auth)] * 2)
        self.assertEqual([r.status for r in results], [204, 204])
        r = api("DELETE", "/v1/customer-relationships/" + to_provider, headers=customer.auth)
        self.assertEqual(r.status, 204, r)
        for t in (customer, provider):
            self.assertEqual(audit_count(t.id, "customer_relationship.end", to_provider), 1)
        items = api("GET", "/v1/customer-relationships", headers=customer.auth).body["items"]
        self.assertEqual({(x["partner"]["tenantId"], x["state"]) for x in items},
                         {(reseller.id, "active"), (provider.id, "ended")})
        # the pair no longer shares it; the provider still finds it, ended
        r = api("GET", "/v1/relationships/%s/customers" % rel, headers=reseller.auth)
        self.assertEqual(r.body["items"], [])
        self.assertEqual(api("GET", "/v1/customers", headers=provider.auth).body["items"], [])
        r = api("GET", "/v1/customers/" + customer.id, headers=provider.auth)
        self.assertEqual((r.status, r.body["relationship"]["state"]), (200, "ended"))

    def test_a_third_tenant_sees_nothing(self):
        provider, reseller, rel, customer = shared_customer()
        stranger = approved_tenant()
        for path in ("/v1/relationships/%s/customers" % rel, "/v1/customers/" + customer.id,
                     "/v1/customers?relationship=" + rel):
            with self.subTest(path=path):
                assert_problem(api("GET", path, headers=stranger.auth), 404, "not-found")
        self.assertEqual(api("GET", "/v1/customers", headers=stranger.auth).body["items"], [])
        # the customer's partners are its own
        self.assertEqual(api("GET", "/v1/customer-relationships",
                             headers=stranger.auth).body["items"], [])

    def test_pages_of_customers(self):
        provider, reseller, rel, first = shared_customer()
        _, _, _, second, inv, token = invited(provider, reseller, rel)
        self.assertEqual(accept_invitation(second, inv, token).status, 201)
        for path in ("/v1/customers?limit=1", "/v1/customers?limit=1&relationship=" + rel,
                     "/v1/relationships/%s/customers?limit=1" % rel):
            with self.subTest(path=path):
                seen = []
                while path:
                    r = api("GET", path, headers=provider.auth)
                    self.assertEqual((r.status, r.body["totalCount"]), (200, 2), r)
                    seen += [c["id"] for c in r.body["items"]]
                    path = r.body["links"]["next"]
                    if "relationship=" in (path or "") or "relationships/" in (path or ""):
                        self.assertIn(rel, path)
                self.assertEqual(seen, sorted([first.id, second.id]))

    def test_who_may_view_customers(self):
        provider, reseller, rel, customer = shared_customer()
        helpdesk = new_user(reseller, ["helpdesk_agent"])
        assert_problem(api("GET", "/v1/customers", headers=bearer(
            access_token(helpdesk.email, helpdesk.password))), 403, "forbidden")
        tok = new_api_token(reseller, ["profiles:read"])
        assert_problem(api("GET", "/v1/customers", headers=bearer(tok["token"])), 403,
                       "forbidden")
        tok = new_api_token(reseller, ["customers:read"])
        r = api("GET", "/v1/customers", headers=bearer(tok["token"]))
        self.assertEqual([c["id"] for c in r.body["items"]], [customer.id])
        # the provider, acting in the reseller's account, sees the reseller's
        r = api("GET", "/v1/customers", headers=as_(provider, reseller))
        self.assertEqual([c["id"] for c in r.body["items"]], [customer.id])
        assert_problem(api("GET", "/v1/customers?relationship=nope", headers=reseller.auth),
                       400, "validation-failed")

