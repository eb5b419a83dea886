"""Events (issue 20, parts 1 and 2): one record of every change a partner
may care about, written in the transaction of the change, each tenant's
own in its feed (GET /v1/events) in commit order, cursor-paginated,
filtered by type, readable by an admin or a token with events:read; the
list of types (GET /v1/event-types).  Through nginx, real MariaDB."""
import secrets
import time
import unittest

from harness import (api, assert_problem, bearer, field_errors, new_api_token, new_tenant,
                     new_user, parallel, sql, sql_value)
from world import as_, invite_customer, shared_customer

MAIL = "0193a000-0000-7000-8000-000000000001"


def feed(t, after=None, types=None, limit=None, auth=None):
    q = []
    if after is not None:
        q.append("after=%s" % after)
    if types is not None:
        q.append("types=%s" % types)
    if limit is not None:
        q.append("limit=%d" % limit)
    return api("GET", "/v1/events" + ("?" + "&".join(q) if q else ""), headers=auth or t.auth)


def all_events(t, types=None, limit=200):
    r = feed(t, types=types, limit=limit)
    assert r.status == 200, r
    return r.body["items"]


def wait_events(t, want, types=None, timeout=10.0):
    """Waits until the feed of T holds WANT events (of TYPES); returns
    them."""
    deadline = time.monotonic() + timeout
    while True:
        items = all_events(t, types)
        if len(items) >= want or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(items) >= want, "%d events, expected %d: %r" % (
        len(items), want, [e["type"] for e in items])
    return items


def order(provider, customer, reseller, quantity=5, auth=None):
    h = dict(auth or provider.auth)
    h["Idempotency-Key"] = secrets.token_hex(12)
    return api("POST", "/v1/customers/%s/orders" % customer.id, headers=h,
               body={"resellerTenantId": reseller.id, "offerId": MAIL, "quantity": quantity})


class TestEvents(unittest.TestCase):

    def test_the_guides_workflow_in_each_feed(self):
        provider, reseller, rel, customer = shared_customer()
        r = order(provider, customer, reseller)
        self.assertEqual(r.status, 201, r)
        placed = r.body
        h = dict(provider.auth)
        h["If-Match"] = "*"
        r = api("PATCH", "/v1/customers/%s/subscriptions/%s" % (customer.id,
                                                                 placed["subscriptionId"]),
                body={"quantity": 7}, headers=h)
        self.assertEqual(r.status, 200, r)

        want = ["enrollment.status_changed", "enrollment.status_changed",
                "enrollment.status_changed", "relationship.authorized", "agreement.accepted",
                "customer.invited", "customer.accepted", "order.placed", "subscription.changed"]
        got = wait_events(reseller, len(want))
        self.assertEqual([e["type"] for e in got], want)
        statuses = [e["data"]["status"] for e in got[:3]]
        self.assertEqual(statuses[-1], "approved", statuses)
        prov = [e["type"] for e in wait_events(provider, 6)]
        self.assertEqual(prov, ["relationship.invited", "relationship.authorized",
                                "customer.invited", "customer.accepted", "order.placed",
                                "subscription.changed"])
        cust = [e["type"] for e in wait_events(customer, 3)]
        self.assertEqual(cust, ["customer.accepted", "order.placed", "subscription.changed"])

        # each event: its id, version, time, actor, and the resource as the
        # API renders it
        authorized = got[3]
        self.assertEqual(authorized["version"], 1)
        self.assertEqual(authorized["actor"]["type"], "user")
        self.assertEqual(authorized["actor"]["tenantId"], reseller.id)
        self.assertIsNone(authorized["actor"]["relationshipId"])
        now = api("GET", "/v1/relationships/%s" % rel, headers=reseller.auth).body
        self.assertEqual(authorized["data"], now)
        self.assertEqual(got[7]["data"]["id"], placed["id"])
        self.assertEqual(got[7]["data"], placed)
        # one event, one id, in every feed it is in
        self.assertEqual(got[7]["id"], [e for e in wait_events(customer, 3)
                                        if e["type"] == "order.placed"][0]["id"])

    def test_pages_walk_every_event_once_in_order(self):
        provider, reseller, rel, customer = shared_customer()
        for q in range(3, 8):
            self.assertEqual(order(provider, customer, reseller, quantity=q).status, 201)
        every = wait_events(provider, 2 + 2 + 5)
        seen, url, pages = [], "/v1/events?limit=2", 0
        while True:
            r = api("GET", url, headers=provider.auth)
            self.assertEqual(r.status, 200, r)
            if not r.body["items"]:
                break
            seen += r.body["items"]
            url = r.body["links"]["next"]
            pages += 1
        self.assertEqual([e["id"] for e in seen], [e["id"] for e in every])
        self.assertEqual(pages, 5)
        # the last cursor polls: nothing new, the same cursor again
        r = api("GET", url, headers=provider.auth)
        self.assertEqual((r.body["items"], r.body["links"]["next"]), ([], url))
        # a new event comes after it
        self.assertEqual(order(provider, customer, reseller, quantity=9).status, 201)
        deadline = time.monotonic() + 10
        while not api("GET", url, headers=provider.auth).body["items"]:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        new = api("GET", url, headers=provider.auth).body["items"]
        self.assertEqual([e["type"] for e in new], ["order.placed"])

    def test_types_filter_and_bad_queries(self):
        provider, reseller, rel, customer = shared_customer()
        got = wait_events(provider, 1, types="customer.accepted")
        self.assertEqual([e["type"] for e in got], ["customer.accepted"])
        got = wait_events(provider, 2, types="relationship.invited,customer.accepted")
        self.assertEqual([e["type"] for e in got], ["relationship.invited", "customer.accepted"])
        r = feed(provider, types="customer.accepted", limit=1)
        self.assertIn("types=customer.accepted", r.body["links"]["next"])
        for q, field in (("types=nope", "types"), ("types=", "types"), ("after=-1", "after"),
                         ("after=x", "after"), ("after=01", "after"), ("limit=0", "limit"),
                         ("after=99999999999999999999999", "after")):
            p = assert_problem(api("GET", "/v1/events?" + q, headers=provider.auth), 400,
                               "validation-failed")
            self.assertIn(field, field_errors(p), q)

    def test_who_reads_a_feed(self):
        provider, reseller, rel, customer = shared_customer()
        wait_events(reseller, 1)
        sales = new_user(reseller, ["sales_agent"])
        r = api("POST", "/v1/auth/token", body={"username": sales.email,
                                                "password": sales.password})
        assert_problem(feed(reseller, auth=bearer(r.body["accessToken"])), 403, "forbidden")
        assert_problem(api("GET", "/v1/events"), 401, "unauthenticated")
        token = new_api_token(reseller, ("profiles:read",))["token"]
        assert_problem(feed(reseller, auth=bearer(token)), 403, "forbidden")
        token = new_api_token(reseller, ("events:read",))["token"]
        r = feed(reseller, auth=bearer(token))
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.body["items"])
        # a tenant's feed holds its own events only
        stranger = new_tenant()
        self.assertEqual(all_events(stranger), [])
        ids = {e["id"] for e in all_events(provider)}
        self.assertFalse(ids & {e["id"] for e in all_events(reseller)
                                if e["type"] == "agreement.accepted"})
        # delegated feeds are not a thing: the route does not admit it
        assert_problem(feed(provider, auth=as_(provider, reseller)), 403, "forbidden")

    def test_a_delegated_change_names_its_relationship(self):
        provider, reseller, rel, customer = shared_customer()
        other = new_tenant()
        r = invite_customer(reseller, rel, other.email, auth=as_(provider, reseller))
        self.assertEqual(r.status, 201, r)
        # the shared customer's invitation, then this one
        invited_ = [e for e in wait_events(reseller, 2, types="customer.invited")
                    if e["data"]["id"] == r.body["id"]]
        self.assertEqual(len(invited_), 1)
        actor = invited_[0]["actor"]
        self.assertEqual((actor["tenantId"], actor["relationshipId"]), (provider.id, rel))

    def test_a_refused_change_has_no_event_and_concurrent_ones_each_one(self):
        provider, reseller, rel, customer = shared_customer()
        before = len(wait_events(provider, 4))
        r = order(provider, customer, reseller, quantity=100000)
        self.assertEqual(r.status, 422, r)
        results = parallel(*[lambda q=q: order(provider, customer, reseller, quantity=q)
                             for q in range(2, 10)])
        self.assertEqual([x.status for x in results], [201] * 8, results)
        got = wait_events(provider, before + 8)
        placed = [e for e in got if e["type"] == "order.placed"]
        self.assertEqual(sorted(e["data"]["id"] for e in placed),
                         sorted(x.body["id"] for x in results))
        self.assertEqual(len({e["id"] for e in got}), len(got))
        self.assertEqual(sql_value("SELECT COUNT(*) FROM events WHERE seq IS NULL AND "
                                   "occurred_at < UTC_TIMESTAMP(6) - INTERVAL 5 SECOND"), "0")

    def test_event_types(self):
        t = new_tenant()
        r = api("GET", "/v1/event-types", headers=t.auth)
        self.assertEqual(r.status, 200, r)
        names = [x["type"] for x in r.body["items"]]
        self.assertEqual(len(names), 14)
        self.assertIn("relationship.authorized", names)
        self.assertIn("relationship.access_expiring", names)
        self.assertIn("relationship.declined", names)
        for x in r.body["items"]:
            self.assertEqual(x["version"], 1)
            self.assertTrue(x["description"])
            self.assertTrue(x["schema"].startswith("doc/openapi.yaml#/components/schemas/"))



def old_id(days):
    """A version 7 id of DAYS ago."""
    ms = int((time.time() - days * 86400) * 1000)
    return "%08x-%04x-7%03x-8%03x-%012x" % (ms >> 16, ms & 0xFFFF, secrets.randbits(12),
                                           secrets.randbits(12), secrets.randbits(48))


class TestRetention(unittest.TestCase):
    """event_retention_days (30): older events go with their deliveries and
    feed rows; one whose delivery is being sent stays until it ends."""

    def test_events_past_the_retention_are_purged(self):
        t = new_tenant()
        hook = api("POST", "/v1/webhooks", body={"url": "http://127.0.0.81:9/hook",
                                                 "events": ["order.placed"], "enabled": False},
                   headers=t.auth).body["id"]
        old, sending, recent = old_id(31), old_id(40), old_id(29)
        base = int(sql_value("SELECT next_seq FROM event_sequence")) + 10 ** 12 + \
            secrets.randbelow(10 ** 9) * 10
        for i, (eid, status) in enumerate(((old, "succeeded"), (sending, "sending"),
                                           (recent, "failed"))):
            sql("INSERT INTO events (id, type, version, actor_type, occurred_at, data, seq) "
                "VALUES (%s, 'order.placed', 1, 'system', UTC_TIMESTAMP(6), '{}', %s)",
                (eid, base + i))
            sql("INSERT INTO event_tenants (tenant_id, event_id, type_bit, seq) VALUES "
                "(%s, %s, 1024, %s)", (t.id, eid, base + i))
            sql("INSERT INTO webhook_deliveries (webhook_id, event_id, seq, status, "
                "next_attempt_at, created_at) VALUES (%s, %s, %s, %s, UTC_TIMESTAMP(6) + "
                "INTERVAL 1 HOUR, UTC_TIMESTAMP(6))", (hook, eid, base + i, status))

        def left():
            return {eid: (int(sql_value("SELECT COUNT(*) FROM events WHERE id = %s", (eid,))),
                          int(sql_value("SELECT COUNT(*) FROM event_tenants WHERE event_id = "
                                        "%s", (eid,))),
                          int(sql_value("SELECT COUNT(*) FROM webhook_deliveries WHERE "
                                        "event_id = %s", (eid,))))
                    for eid in (old, sending, recent)}

        deadline = time.monotonic() + 15
        while left()[old] != (0, 0, 0):
            self.assertLess(time.monotonic(), deadline, left())
            time.sleep(0.2)
        time.sleep(2.5)  # another pass of the purge (every 2 s here)
        self.assertEqual(left(), {old: (0, 0, 0), sending: (1, 1, 1), recent: (1, 1, 1)})
        # its send ended: it goes too
        sql("UPDATE webhook_deliveries SET status = 'failed' WHERE event_id = %s", (sending,))
        deadline = time.monotonic() + 15
        while left()[sending] != (0, 0, 0):
            self.assertLess(time.monotonic(), deadline, left())
            time.sleep(0.2)
        self.assertEqual(left()[recent], (1, 1, 1))
        self.assertEqual(api("DELETE", "/v1/webhooks/%s" % hook, headers=t.auth).status, 204)
        sql("DELETE FROM events WHERE id = %s", (recent,))


if __name__ == "__main__":
    unittest.main()
