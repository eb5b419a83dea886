"""Offers, orders and subscriptions (SPEC §5 last rule, issue 11 parts 4-6):
the catalogue with a price per CSP region in its currency; a provider's
order for a shared customer, allowed only under the three conditions,
checked in the order's own transaction; the subscription it makes and the
changes of its quantity; the history the three tenants share.  Through
nginx, real MariaDB."""

import csv
import io
import secrets
import time
import unittest

import pytest

from harness import (access_token, api, assert_problem, bearer, field_errors, new_api_token,
                     new_tenant, new_user, parallel, shared_file, sql, sql_value)
from world import (TYPE, accept, accept_invitation, approved_tenant, as_, authorize,
                   customer_link, invitation_link, invite, invite_customer, new_provider,
                   partners, publish, set_regions, shared_customer, signed)
from harness import mails_to

MAIL = "0193a000-0000-7000-8000-000000000001"      # Business Mail, 1..300
SECURITY = "0193a000-0000-7000-8000-000000000005"  # Security Add-on, 5..50000


def order(provider, customer, reseller, offer=MAIL, quantity=5, key=None, auth=None, **over):
    body = {"resellerTenantId": reseller.id, "offerId": offer, "quantity": quantity}
    body.update(over)
    h = dict(auth or provider.auth)
    h["Idempotency-Key"] = key or secrets.token_hex(12)
    return api("POST", "/v1/customers/%s/orders" % customer.id, body=body, headers=h)


def set_quantity(provider, customer, sid, quantity, etag="*", auth=None):
    h = dict(auth or provider.auth)
    if etag is not None:
        h["If-Match"] = etag
    return api("PATCH", "/v1/customers/%s/subscriptions/%s" % (customer.id, sid),
               body={"quantity": quantity}, headers=h)


def orders_of(t, customer):
    r = api("GET", "/v1/customers/%s/orders" % customer.id, headers=t.auth)
    assert r.status == 200, r
    return r.body["items"]


def order_count(customer):
    return int(sql_value("SELECT COUNT(*) FROM orders WHERE customer_tenant_id = %s",
                         (customer.id,)))


class TestOffers(unittest.TestCase):
    def test_every_offer_priced_in_every_region_currency(self):
        with open(shared_file("data/csp-regions.csv"), encoding="utf-8") as f:
            rows = list(csv.reader(io.StringIO("".join(l for l in f if not l.startswith("#")))))
        names = {r[0] for r in sql("SELECT name FROM regions")}
        pairs = {(sql_value("SELECT code FROM regions WHERE name = %s", (r[0],)), r[2])
                 for r in rows[1:]}
        self.assertTrue({r[0] for r in rows[1:]} <= names)
        priced = {tuple(r) for r in sql("SELECT DISTINCT region_code, currency FROM offer_prices")}
        self.assertEqual(priced, pairs)
        per_offer = sql("SELECT offer_id, COUNT(*) FROM offer_prices GROUP BY offer_id")
        self.assertEqual({int(n) for _, n in per_offer}, {len(pairs)})

    def test_the_callers_region(self):
        reseller = approved_tenant()  # DE: europe, EUR
        r = api("GET", "/v1/offers", headers=reseller.auth)
        self.assertEqual(r.status, 200, r)
        mail = [o for o in r.body["items"] if o["id"] == MAIL][0]
        self.assertEqual((mail["minQuantity"], mail["maxQuantity"], mail["unit"]),
                         (1, 300, "user/month"))
        self.assertEqual(mail["price"], {"region": "europe", "currency": "EUR",
                                         "unitPrice": "3.68"})
        self.assertEqual(r.body["totalCount"], len(r.body["items"]))
        r = api("GET", "/v1/offers?country=JP", headers=reseller.auth)
        mail = [o for o in r.body["items"] if o["id"] == MAIL][0]
        self.assertEqual(mail["price"], {"region": "japan", "currency": "JPY",
                                         "unitPrice": "600.00"})
        r = api("GET", "/v1/offers?country=GB", headers=reseller.auth)
        self.assertEqual([o for o in r.body["items"] if o["id"] == MAIL][0]["price"]["currency"],
                         "GBP")
        # no CSP country: no price; any token may read
        t = new_tenant()
        r = api("GET", "/v1/offers", headers=t.auth)
        self.assertEqual({o["price"] is None for o in r.body["items"]}, {True})
        tok = new_api_token(t, ["profiles:read"])
        self.assertEqual(api("GET", "/v1/offers", headers=bearer(tok["token"])).status, 200)
        assert_problem(api("GET", "/v1/offers"), 401, "unauthenticated")
        p = assert_problem(api("GET", "/v1/offers?country=CN", headers=t.auth), 422,
                           "rule-refused")
        self.assertEqual(p["code"], "unknown_country")
        assert_problem(api("GET", "/v1/offers?country=germany", headers=t.auth), 400,
                       "validation-failed")


class TestOrders(unittest.TestCase):
    def test_the_whole_flow(self):
        provider, reseller, rel, customer = shared_customer()
        key = secrets.token_hex(12)
        r = order(provider, customer, reseller, quantity=10, key=key)
        self.assertEqual(r.status, 201, r)
        o = r.body
        self.assertEqual((o["kind"], o["quantity"], o["previousQuantity"], o["relationshipId"]),
                         ("new", 10, None, rel))
        self.assertEqual(o["price"], {"currency": "EUR", "unitPrice": "3.68"})
        sid = o["subscriptionId"]
        # the replay by its key: the same order, not a second one
        r2 = order(provider, customer, reseller, quantity=10, key=key)
        self.assertEqual((r2.status, r2.body["id"]), (201, o["id"]))
        self.assertEqual(order_count(customer), 1)
        # another body under the same key is refused
        assert_problem(order(provider, customer, reseller, quantity=11, key=key), 422, None)
        # the subscription, seen by the three
        for t in (provider, reseller, customer):
            r = api("GET", "/v1/customers/%s/subscriptions" % customer.id, headers=t.auth)
            self.assertEqual(r.status, 200, r)
            self.assertEqual([(s["id"], s["quantity"], s["status"], s["offer"]["id"])
                              for s in r.body["items"]], [(sid, 10, "active", MAIL)])
        etag = r.body["items"][0]["etag"]
        # a quantity change with If-Match
        r = set_quantity(provider, customer, sid, 25, etag)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["quantity"], 25)
        self.assertEqual(r.headers["etag"], r.body["etag"])
        self.assertNotEqual(r.body["etag"], etag)
        p = assert_problem(set_quantity(provider, customer, sid, 30, etag), 412,
                           "precondition-failed")
        assert_problem(set_quantity(provider, customer, sid, 30, None), 428,
                       "precondition-required")
        # one history, the same for the provider, the reseller and the customer
        histories = [[(x["id"], x["kind"], x["quantity"], x["previousQuantity"])
                      for x in orders_of(t, customer)] for t in (provider, reseller, customer)]
        self.assertEqual(histories[0], histories[1])
        self.assertEqual(histories[0], histories[2])
        self.assertEqual([h[1:] for h in histories[0]],
                         [("new", 10, None), ("quantity_change", 25, 10)])
        # audited in each tenant it touches
        for t in (provider, reseller, customer):
            for oid, kind, _, _ in histories[0]:
                action = "order.create" if kind == "new" else "subscription.quantity"
                self.assertEqual(int(sql_value(
                    "SELECT COUNT(*) FROM audit_events WHERE tenant_id = %s AND action = %s AND "
                    "target_id = %s", (t.id, action, oid))),
                    1)

    def test_priced_in_the_customers_currency(self):
        # a German reseller's Swiss customer is billed in francs
        provider, reseller, rel = partners()
        customer = new_tenant()
        self.assertEqual(invite_customer(reseller, rel, customer.email, country="CH").status, 201)
        inv, token = customer_link(customer.email)
        self.assertEqual(accept_invitation(customer, inv, token).status, 201)
        r = order(provider, customer, reseller, quantity=2)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.body["price"], {"currency": "CHF", "unitPrice": "3.52"})
        sub = api("GET", "/v1/customers/%s/subscriptions" % customer.id,
                  headers=customer.auth).body["items"][0]
        self.assertEqual(sub["price"], {"currency": "CHF", "unitPrice": "3.52"})

    def test_each_refusal_names_its_condition(self):
        provider, reseller, rel, customer = shared_customer()
        # unknown offer, quantity outside the offer's bounds
        p = assert_problem(order(provider, customer, reseller,
                                 offer="0193a000-0000-7000-8000-0000000000ff"), 422,
                           "rule-refused")
        self.assertEqual(p["code"], "unknown_offer")
        for offer, quantity in ((MAIL, 0), (MAIL, 301), (SECURITY, 4), (MAIL, -1)):
            with self.subTest(offer=offer, quantity=quantity):
                p = assert_problem(order(provider, customer, reseller, offer, quantity), 422,
                                   "rule-refused")
                self.assertEqual(p["code"], "quantity_out_of_range")
        # no relationship of this provider with the customer
        other_provider, other_reseller, _, other_customer = shared_customer()
        p = assert_problem(order(provider, other_customer, reseller), 422, "rule-refused")
        self.assertEqual(p["code"], "no_customer_relationship")
        p = assert_problem(order(provider, new_tenant(), reseller), 422, "rule-refused")
        self.assertEqual(p["code"], "no_customer_relationship")
        # no active relationship with that reseller
        p = assert_problem(order(provider, customer, other_reseller), 422, "rule-refused")
        self.assertEqual(p["code"], "relationship_not_active")
        # the reseller signed only an older version
        self.assertEqual(publish().status, 201)
        p = assert_problem(order(provider, customer, reseller), 422, "rule-refused")
        self.assertEqual(p["code"], "reseller_agreement_not_signed")
        self.assertEqual(accept(reseller, type=TYPE).status, 201)
        self.assertEqual(order(provider, customer, reseller).status, 201)
        # the customer ended its relationship with the provider
        items = api("GET", "/v1/customer-relationships", headers=customer.auth).body["items"]
        to_provider = [x for x in items if x["partner"]["tenantId"] == provider.id][0]["id"]
        self.assertEqual(api("DELETE", "/v1/customer-relationships/" + to_provider,
                             headers=customer.auth).status, 204)
        p = assert_problem(order(provider, customer, reseller), 422, "rule-refused")
        self.assertEqual(p["code"], "no_customer_relationship")
        self.assertEqual(order_count(customer), 1)

    def test_a_customer_of_the_provider_alone(self):
        # the provider serves the customer through reseller A; reseller B, a
        # partner of the provider too, is not the customer's reseller
        provider, reseller, rel, customer = shared_customer()
        other = approved_tenant()
        self.assertEqual(invite(provider, other.email).status, 201)
        i, t = invitation_link(other.email)
        self.assertEqual(authorize(other, i, t).status, 201)
        signed(other)
        p = assert_problem(order(provider, customer, other), 422, "rule-refused")
        self.assertEqual(p["code"], "not_reseller_customer")

    def test_a_reseller_the_customer_took_with_another_provider(self):
        """Issue 21, F4: the customer accepted reseller A with this provider
        and reseller B with another; this provider, a partner of B too, may
        not order for it naming B."""
        provider, reseller_a, rel_a, customer = shared_customer()
        reseller_b = approved_tenant()
        other = new_provider()
        rels = {}
        for p in (provider, other):
            self.assertEqual(invite(p, reseller_b.email).status, 201)
            n = len(rels) + 1
            i, t = invitation_link(reseller_b.email, n)
            r = authorize(reseller_b, i, t)
            self.assertEqual(r.status, 201, r)
            rels[p.id] = r.body["id"]
        signed(reseller_b)
        r = invite_customer(reseller_b, rels[other.id], customer.email)
        self.assertEqual(r.status, 201, r)
        inv, token = customer_link(customer.email, 2)
        self.assertEqual(accept_invitation(customer, inv, token).status, 201)
        p = assert_problem(order(provider, customer, reseller_b), 422, "rule-refused")
        self.assertEqual(p["code"], "not_shared_customer")
        self.assertEqual(order_count(customer), 0)
        # each pair the customer accepted together orders
        self.assertEqual(order(other, customer, reseller_b).status, 201)
        self.assertEqual(order(provider, customer, reseller_a).status, 201)

    def test_a_region_taken_from_the_provider_suspends_orders_and_access(self):
        """Issue 21, F5: the operator removes the provider's region; its
        orders and delegated access there stop, both sides are told, and
        both resume when the region is given back. The relationship
        stays."""
        provider, reseller, rel, customer = shared_customer()
        self.assertEqual(order(provider, customer, reseller).status, 201)
        r = set_regions(provider, ["africa"], "*")
        self.assertEqual(r.status, 200, r)
        p = assert_problem(order(provider, customer, reseller), 422, "rule-refused")
        self.assertEqual(p["code"], "region_not_authorized")
        p = assert_problem(api("GET", "/v1/users", headers=as_(provider, reseller)), 403,
                           "forbidden")
        self.assertEqual(p["code"], "region_not_authorized")
        self.assertEqual(sql_value("SELECT state FROM relationships WHERE id = %s", (rel,)),
                         "active")
        for address in (provider.email, reseller.contact):
            deadline = time.monotonic() + 15
            while not [m for m in mails_to(address) if "is suspended" in m.subject]:
                self.assertLess(time.monotonic(), deadline, address)
                time.sleep(0.1)
        # another change that keeps it out of the region tells no one again
        self.assertEqual(set_regions(provider, ["africa", "asia-and-pacific"], "*").status, 200)
        self.assertEqual(set_regions(provider, ["europe"], "*").status, 200)
        self.assertEqual(order(provider, customer, reseller).status, 201)
        self.assertEqual(api("GET", "/v1/users", headers=as_(provider, reseller)).status, 200)
        time.sleep(1)
        self.assertEqual(len([m for m in mails_to(provider.email) if "is suspended" in m.subject]),
                         1)

    def test_input_refused(self):
        provider, reseller, rel, customer = shared_customer()
        for over, field in (({"quantity": "3"}, "quantity"), ({"quantity": 1.5}, "quantity"),
                            ({"quantity": None}, "quantity"), ({"offerId": "nope"}, "offerId"),
                            ({"resellerTenantId": 7}, "resellerTenantId"),
                            ({"resellerTenantId": "x"}, "resellerTenantId")):
            with self.subTest(over=over):
                p = assert_problem(order(provider, customer, reseller, **over), 400,
                                   "validation-failed")
                self.assertIn(field, field_errors(p))
        for missing in ("resellerTenantId", "offerId", "quantity"):
            body = {"resellerTenantId": reseller.id, "offerId": MAIL, "quantity": 1}
            del body[missing]
            r = api("POST", "/v1/customers/%s/orders" % customer.id, body=body,
                    headers=provider.auth)
            self.assertIn(missing, field_errors(assert_problem(r, 400, "validation-failed")))
        r = api("POST", "/v1/customers/%s/orders" % customer.id,
                raw=b'{"offerId": "' + b"x" * 70000 + b'"}',
                headers=dict(provider.auth, **{"Content-Type": "application/json"}))
        self.assertEqual(r.status, 413, r)
        assert_problem(api("POST", "/v1/customers/not-a-uuid/orders",
                           body={"resellerTenantId": reseller.id, "offerId": MAIL,
                                 "quantity": 1}, headers=provider.auth), 404, "not-found")
        self.assertEqual(order_count(customer), 0)

    def test_who_may_order(self):
        provider, reseller, rel, customer = shared_customer()
        # an API token needs orders:write; a provider's billing system has it
        tok = new_api_token(provider, ["orders:read", "customers:write"])
        assert_problem(order(provider, customer, reseller, auth=bearer(tok["token"])), 403,
                       "forbidden")
        tok = new_api_token(provider, ["orders:write"])
        r = order(provider, customer, reseller, auth=bearer(tok["token"]))
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.body["createdBy"], tok["id"])
        # the provider's admin agents only
        sales = new_user(provider, ["sales_agent"])
        assert_problem(order(provider, customer, reseller,
                             auth=bearer(access_token(sales.email, sales.password))), 403,
                       "forbidden")
        # the reseller and the customer never order
        for t in (reseller, customer):
            assert_problem(order(provider, customer, reseller, auth=t.auth), 403, "forbidden")
        # not through delegated access either
        h = dict(provider.auth, **{"On-Behalf-Of-Tenant": reseller.id})
        assert_problem(order(provider, customer, reseller, auth=h), 403, "forbidden")
        self.assertEqual(order_count(customer), 1)
        # reading needs orders:read
        tok = new_api_token(reseller, ["customers:read"])
        assert_problem(api("GET", "/v1/customers/%s/orders" % customer.id,
                           headers=bearer(tok["token"])), 403, "forbidden")
        tok = new_api_token(reseller, ["orders:read"])
        r = api("GET", "/v1/customers/%s/orders" % customer.id, headers=bearer(tok["token"]))
        self.assertEqual(r.body["totalCount"], 1)

    def test_ending_the_relationship_stops_the_next_order_and_change(self):
        provider, reseller, rel, customer = shared_customer()
        r = order(provider, customer, reseller)
        self.assertEqual(r.status, 201, r)
        sid = r.body["subscriptionId"]
        self.assertEqual(api("DELETE", "/v1/relationships/" + rel, headers=reseller.auth).status,
                         204)
        p = assert_problem(order(provider, customer, reseller), 422, "rule-refused")
        self.assertEqual(p["code"], "relationship_not_active")
        p = assert_problem(set_quantity(provider, customer, sid, 7), 422, "rule-refused")
        self.assertEqual(p["code"], "relationship_not_active")
        self.assertEqual(order_count(customer), 1)
        self.assertEqual(sql_value("SELECT quantity FROM subscriptions WHERE id = %s",
                                   (sid,)), "5")
        # the history stays readable to both
        self.assertEqual(len(orders_of(reseller, customer)), 1)
        self.assertEqual(len(orders_of(provider, customer)), 1)

    def test_quantity_changes_refused(self):
        provider, reseller, rel, customer = shared_customer()
        sid = order(provider, customer, reseller).body["subscriptionId"]
        for q in (0, 301):
            p = assert_problem(set_quantity(provider, customer, sid, q), 422, "rule-refused")
            self.assertEqual(p["code"], "quantity_out_of_range")
        assert_problem(set_quantity(provider, customer, sid, "9"), 400, "validation-failed")
        r = api("PATCH", "/v1/customers/%s/subscriptions/%s" % (customer.id, sid), body={},
                headers=dict(provider.auth, **{"If-Match": "*"}))
        self.assertIn("quantity", field_errors(assert_problem(r, 400, "validation-failed")))
        r = api("PATCH", "/v1/customers/%s/subscriptions/%s" % (customer.id, sid),
                raw=b'{"quantity": 1, "x": "' + b"x" * 70000 + b'"}',
                headers=dict(provider.auth, **{"If-Match": "*",
                                               "Content-Type": "application/json"}))
        self.assertEqual(r.status, 413, r)
        # the reseller and the customer read, never change
        for t in (reseller, customer):
            assert_problem(set_quantity(provider, customer, sid, 9, auth=t.auth), 403,
                           "forbidden")
        tok = new_api_token(provider, ["orders:read"])
        assert_problem(set_quantity(provider, customer, sid, 9, auth=bearer(tok["token"])), 403,
                       "forbidden")
        # another subscription id, another customer's path
        assert_problem(set_quantity(provider, customer, "0193a000-0000-7000-8000-0000000000ff",
                                    9), 404, "not-found")
        other = new_tenant()
        assert_problem(set_quantity(provider, other, sid, 9), 404, "not-found")
        self.assertEqual(order_count(customer), 1)
        # the same quantity changes nothing
        r = set_quantity(provider, customer, sid, 5)
        self.assertEqual((r.status, r.body["quantity"]), (200, 5))
        self.assertEqual(order_count(customer), 1)

    def test_a_third_tenant_sees_nothing(self):
        provider, reseller, rel, customer = shared_customer()
        sid = order(provider, customer, reseller).body["subscriptionId"]
        stranger = approved_tenant()
        for path in ("/v1/customers/%s/orders" % customer.id,
                     "/v1/customers/%s/subscriptions" % customer.id):
            with self.subTest(path=path):
                assert_problem(api("GET", path, headers=stranger.auth), 404, "not-found")
        assert_problem(set_quantity(provider, customer, sid, 9, auth=new_provider().auth), 404,
                       "not-found")
        # another reseller of the same provider sees none of this pair's
        # orders, though the provider is its partner too
        other = approved_tenant()
        self.assertEqual(invite(provider, other.email).status, 201)
        i, t = invitation_link(other.email)
        self.assertEqual(authorize(other, i, t).status, 201)
        assert_problem(api("GET", "/v1/customers/%s/orders" % customer.id, headers=other.auth),
                       404, "not-found")

    def test_concurrent_orders(self):
        provider, reseller, rel, customer = shared_customer()
        # ten distinct keys: ten orders; ten of one key: one
        results = parallel(*[lambda: order(provider, customer, reseller)] * 10)
        self.assertEqual(sorted(r.status for r in results), [201] * 10)
        key = secrets.token_hex(12)
        results = parallel(*[lambda: order(provider, customer, reseller, key=key)] * 10)
        ids = {r.body.get("id") for r in results if r.status == 201}
        self.assertEqual(len(ids), 1, [r.status for r in results])
        self.assertTrue(all(r.status in (201, 409) for r in results), results)
        self.assertEqual(order_count(customer), 11)

    def test_two_changes_with_one_etag(self):
        provider, reseller, rel, customer = shared_customer()
        r = order(provider, customer, reseller)
        sid = r.body["subscriptionId"]
        etag = api("GET", "/v1/customers/%s/subscriptions" % customer.id,
                   headers=provider.auth).body["items"][0]["etag"]
        results = parallel(lambda: set_quantity(provider, customer, sid, 7, etag),
                           lambda: set_quantity(provider, customer, sid, 9, etag))
        self.assertEqual(sorted(r.status for r in results), [200, 412], results)
        won = [r for r in results if r.status == 200][0].body["quantity"]
        self.assertEqual(sql_value("SELECT quantity FROM subscriptions WHERE id = %s",
                                   (sid,)), str(won))
        self.assertEqual(order_count(customer), 2)

    def test_an_order_races_the_end_of_the_relationship(self):
        provider, reseller, rel, customer = shared_customer()
        results = parallel(*([lambda: order(provider, customer, reseller)] * 8 +
                             [lambda: api("DELETE", "/v1/relationships/" + rel,
                                          headers=reseller.auth)]))
        ended = results[-1]
        self.assertEqual(ended.status, 204, ended)
        statuses = [r.status for r in results[:-1]]
        self.assertTrue(set(statuses) <= {201, 422}, statuses)
        # every order that committed did so before the end did
        ended_at = sql_value("SELECT ended_at FROM relationships WHERE id = %s", (rel,))
        late = sql_value("SELECT COUNT(*) FROM orders WHERE relationship_id = %s AND "
                         "created_at > %s", (rel, ended_at))
        self.assertEqual(late, "0")
        self.assertEqual(order_count(customer), statuses.count(201))
        p = assert_problem(order(provider, customer, reseller), 422, "rule-refused")
        self.assertEqual(p["code"], "relationship_not_active")

    def test_forty_orders_race_each_end(self):
        """Issue 21's finding "an end stamps ended_at before the orders it
        waited for": each end takes its time once its row is locked, so
        after every order that held the row (shared) before it; the orders
        that come after the lock find it ended. No order is after the end,
        for the provider-reseller relationship and for either of the
        customer's."""
        for end in ("relationship", "with the reseller", "with the provider"):
            with self.subTest(end=end):
                provider, reseller, rel, customer = shared_customer()
                first = order(provider, customer, reseller)
                self.assertEqual(first.status, 201, first)
                sid = first.body["subscriptionId"]
                if end == "relationship":
                    table, row, who = "relationships", rel, provider
                    path = "/v1/relationships/" + rel
                else:
                    partner = reseller if end == "with the reseller" else provider
                    table, who = "customer_relationships", customer
                    row = sql_value("SELECT id FROM customer_relationships WHERE "
                                    "customer_tenant_id = %s AND partner_tenant_id = %s",
                                    (customer.id, partner.id))
                    path = "/v1/customer-relationships/" + row
                # the orders come one every 10 ms and the end half way, so
                # that it meets some held by the workers and some queued
                def ending():
                    time.sleep(0.2)
                    return api("DELETE", path, headers=who.auth)

                def placing(i):
                    time.sleep(0.01 * i)
                    if i % 10 == 9:
                        return set_quantity(provider, customer, sid, 6 + i // 10)
                    return order(provider, customer, reseller)

                orders = [lambda i=i: placing(i) for i in range(40)]
                results = parallel(*(orders[:20] + [ending] + orders[20:]))
                ended = results[20]
                self.assertEqual(ended.status, 204, ended)
                placed = results[:20] + results[21:]
                statuses = [getattr(r, "status", r) for r in placed]
                self.assertTrue(set(statuses) <= {200, 201, 422}, statuses)
                codes = {r.body["code"] for r in placed if r.status == 422}
                self.assertTrue(codes <= {"relationship_not_active", "no_customer_relationship",
                                          "not_reseller_customer"}, codes)
                ended_at = sql_value("SELECT ended_at FROM " + table + " WHERE id = %s",
                                     (row,))
                self.assertIsNotNone(ended_at)
                self.assertEqual(sql_value(
                    "SELECT COUNT(*) FROM orders WHERE customer_tenant_id = %s AND "
                    "created_at >= %s", (customer.id, ended_at)), "0")
                self.assertEqual(order_count(customer),
                                 1 + statuses.count(201) + statuses.count(200))
                r = order(provider, customer, reseller)
                self.assertEqual(r.status, 422, r)


@pytest.fixture(scope="class")
def ordered_customer():
    """(provider, reseller, rel, customer, subscription id, invitation id,
    stranger): a shared customer with one order, and an approved reseller
    that has nothing to do with it."""
    provider, reseller, rel, customer = shared_customer()
    r = order(provider, customer, reseller)
    assert r.status == 201, r
    sid = r.body["subscriptionId"]
    inv = api("GET", "/v1/relationships/%s/customer-invitations" % rel,
              headers=reseller.auth).body["items"][0]["id"]
    return provider, reseller, rel, customer, sid, inv, approved_tenant()


class TestEveryCustomerRoute(unittest.TestCase):
    """The refusals every new list and one-resource route shares, route by
    route: a bad page, a malformed id, a token without the scope, a role
    that may not, and another tenant."""

    @pytest.fixture(autouse=True)
    def _world(self, ordered_customer):
        (self.provider, self.reseller, self.rel, self.customer, self.sid, self.inv,
         self.stranger) = ordered_customer

    def lists(self):
        """(path, caller, the scope it needs, roles it needs or None)"""
        c, rel = self.customer.id, self.rel
        return [("/v1/relationships/%s/customers" % rel, self.reseller, "customers:read", True),
                ("/v1/relationships/%s/customer-invitations" % rel, self.reseller,
                 "customers:read", True),
                ("/v1/customer-invitations", self.customer, "relationships:read", False),
                ("/v1/customer-relationships", self.customer, "relationships:read", False),
                ("/v1/customers", self.provider, "customers:read", True),
                ("/v1/customers/%s/orders" % c, self.provider, "orders:read", False),
                ("/v1/customers/%s/subscriptions" % c, self.reseller, "orders:read", False)]

    def test_bad_pages(self):
        for path, caller, _, _ in self.lists():
            for query in ("limit=0", "limit=201", "limit=abc", "cursor=abc"):
                with self.subTest(path=path, query=query):
                    sep = "&" if "?" in path else "?"
                    p = assert_problem(api("GET", path + sep + query, headers=caller.auth), 400,
                                       None)
                    self.assertIn(query.split("=")[0], field_errors(p))

    def test_tokens_need_the_scope_and_roles_are_checked(self):
        for path, caller, scope, roles in self.lists():
            with self.subTest(path=path):
                other = "profiles:read" if scope != "profiles:read" else "orders:read"
                tok = new_api_token(caller, [other])
                assert_problem(api("GET", path, headers=bearer(tok["token"])), 403, "forbidden")
                tok = new_api_token(caller, [scope])
                self.assertEqual(api("GET", path, headers=bearer(tok["token"])).status, 200)
                helpdesk = new_user(caller, ["helpdesk_agent"])
                r = api("GET", path, headers=bearer(access_token(helpdesk.email,
                                                                 helpdesk.password)))
                if roles:
                    assert_problem(r, 403, "forbidden")
                else:
                    self.assertEqual(r.status, 200, r)

    def test_malformed_and_another_tenants_ids(self):
        c, rel, bad = self.customer.id, self.rel, "not-a-uuid"
        paths = [("GET", "/v1/relationships/%s/customers"), ("GET", "/v1/customers/%s"),
                 ("GET", "/v1/relationships/%s/customer-invitations"),
                 ("DELETE", "/v1/customer-invitations/%s"),
                 ("DELETE", "/v1/customer-relationships/%s"),
                 ("GET", "/v1/customers/%s/orders"), ("GET", "/v1/customers/%s/subscriptions")]
        for method, path in paths:
            with self.subTest(path=path):
                assert_problem(api(method, path % bad, headers=self.reseller.auth), 404,
                               "not-found")
        # another tenant's ids: the stranger is an approved reseller with
        # the roles, as a global admin
        owned = [("GET", "/v1/relationships/%s/customers" % rel),
                 ("GET", "/v1/relationships/%s/customer-invitations" % rel),
                 ("GET", "/v1/customers/" + c), ("DELETE", "/v1/customer-invitations/" + self.inv),
                 ("GET", "/v1/customers/%s/orders" % c),
                 ("GET", "/v1/customers/%s/subscriptions" % c)]
        for method, path in owned:
            with self.subTest(path=path):
                assert_problem(api(method, path, headers=self.stranger.auth), 404, "not-found")
        items = api("GET", "/v1/customer-relationships", headers=self.customer.auth).body["items"]
        assert_problem(api("DELETE", "/v1/customer-relationships/" + items[0]["id"],
                           headers=self.stranger.auth), 404, "not-found")
        self.assertEqual(len(sql("SELECT id FROM customer_relationships WHERE "
                                 "customer_tenant_id = %s AND state = 'active'", (c,))), 2)

    def test_withdrawal_needs_the_scope_and_the_role(self):
        tok = new_api_token(self.reseller, ["customers:read"])
        assert_problem(api("DELETE", "/v1/customer-invitations/" + self.inv,
                           headers=bearer(tok["token"])), 403, "forbidden")
        helpdesk = new_user(self.reseller, ["helpdesk_agent"])
        assert_problem(api("DELETE", "/v1/customer-invitations/" + self.inv,
                           headers=bearer(access_token(helpdesk.email, helpdesk.password))),
                       403, "forbidden")

