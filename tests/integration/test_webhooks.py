"""Webhooks (issue 20, part 3): a tenant's endpoints, each event delivered
to those that want its type, signed the Standard Webhooks way (checked
here with Python's hmac), in order, retried when the receiver fails,
never redirected, never sent to a private address (refused at
registration and again before each delivery, with no connection made).
The receivers are HTTP servers of this test on 127.0.0.64-127, the range
the suite's configuration allows (webhook_allow_private)."""
import base64
import hashlib
import hmac
import http.server
import json
import socket
import threading
import time
import unittest

from harness import (api, assert_problem, bearer, field_errors, mails_to, new_api_token,
                     new_user, sql)
from world import approved_tenant, authorize, invitation_link, invite, new_provider


class Receiver:
    """An HTTP server on ADDRESS that records each request and answers
    with the next of ANSWERS (then 200); a 302 redirects to REDIRECT."""

    def __init__(self, address="127.0.0.65", answers=(), port=0, redirect=None, delay=0):
        self.requests, self.answers = [], list(answers)
        self.arrivals = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.arrivals.append(time.monotonic())
                time.sleep(delay)
                outer.requests.append((dict((k.lower(), v) for k, v in self.headers.items()),
                                       body))
                status = outer.answers.pop(0) if outer.answers else 200
                self.send_response(status)
                if status == 302:
                    self.send_header("Location", redirect)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((address, port), Handler)
        self.url = "http://%s:%d/hook" % (address, self.server.server_address[1])
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def wait(self, n, timeout=15.0):
        deadline = time.monotonic() + timeout
        while len(self.requests) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.requests) >= n, "%d requests, expected %d" % (len(self.requests), n)
        return self.requests


def register(t, url, events=("relationship.invited", "relationship.authorized"), auth=None,
             **extra):
    body = {"url": url, "events": list(events)}
    body.update(extra)
    return api("POST", "/v1/webhooks", body=body, headers=auth or t.auth)


def verify(secret, headers, body):
    """The Standard Webhooks check, by an implementation of our own."""
    key = base64.b64decode(secret[len("whsec_"):])
    signed = ("%s.%s." % (headers["webhook-id"], headers["webhook-timestamp"])).encode() + body
    want = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(s == "v1," + want for s in headers["webhook-signature"].split())


def relate(provider):
    reseller = approved_tenant()
    r = invite(provider, reseller.email)
    assert r.status == 201, r
    inv, token = invitation_link(reseller.email)
    r = authorize(reseller, inv, token)
    assert r.status == 201, r
    return reseller, r.body


def free_port(address):
    s = socket.socket()
    s.bind((address, 0))
    port = s.getsockname()[1]
    s.close()
    return port


class TestWebhooks(unittest.TestCase):

    def test_a_consent_is_delivered_signed_in_order(self):
        rx = Receiver()
        provider = new_provider()
        r = register(provider, rx.url)
        self.assertEqual(r.status, 201, r)
        secret = r.body["secret"]
        self.assertRegex(secret, r"^whsec_[A-Za-z0-9+/=]{32}$")
        self.assertEqual(r.body["events"], ["relationship.invited", "relationship.authorized"])
        self.assertNotIn("secret", api("GET", "/v1/webhooks/%s" % r.body["id"],
                                       headers=provider.auth).body)
        started = time.monotonic()
        reseller, rel = relate(provider)
        (inv_h, inv_b), (auth_h, auth_b) = rx.wait(2)
        self.assertLess(time.monotonic() - started, 10)
        for h, b in ((inv_h, inv_b), (auth_h, auth_b)):
            self.assertTrue(verify(secret, h, b), h)
            self.assertEqual(h["content-type"], "application/json")
            self.assertLess(abs(int(h["webhook-timestamp"]) - time.time()), 60)
        # a body changed on the way does not verify
        self.assertFalse(verify(secret, auth_h, auth_b.replace(b"active", b"ended")))
        self.assertFalse(verify("whsec_" + base64.b64encode(b"x" * 24).decode(), auth_h, auth_b))
        first, second = json.loads(inv_b), json.loads(auth_b)
        self.assertEqual((first["type"], second["type"]),
                         ("relationship.invited", "relationship.authorized"))
        self.assertEqual(second["data"]["id"], rel["id"])
        self.assertEqual(auth_h["webhook-id"], second["id"])
        # the log of the endpoint
        r = api("GET", "/v1/webhooks/%s/deliveries" % r.body["id"], headers=provider.auth)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([(d["eventType"], d["status"], d["attempts"], d["responseStatus"])
                          for d in r.body["items"]],
                         [("relationship.authorized", "succeeded", 1, 200),
                          ("relationship.invited", "succeeded", 1, 200)])
        time.sleep(1)
        self.assertEqual(len(rx.requests), 2)
        rx.stop()

    def test_a_failing_receiver_gets_it_again_and_no_more(self):
        rx = Receiver(answers=[500])
        provider = new_provider()
        self.assertEqual(register(provider, rx.url, events=["relationship.invited"]).status, 201)
        reseller = approved_tenant()
        self.assertEqual(invite(provider, reseller.email).status, 201)
        reqs = rx.wait(2)
        self.assertEqual(reqs[0][0]["webhook-id"], reqs[1][0]["webhook-id"])
        time.sleep(3)
        self.assertEqual(len(rx.requests), 2)
        rx.stop()

    def test_a_receiver_that_was_down_gets_it_when_it_is_back(self):
        port = free_port("127.0.0.66")
        provider = new_provider()
        url = "http://127.0.0.66:%d/hook" % port
        self.assertEqual(register(provider, url, events=["relationship.invited"]).status, 201)
        self.assertEqual(invite(provider, approved_tenant().email).status, 201)
        deadline = time.monotonic() + 15
        while not sql("SELECT 1 FROM webhook_deliveries d JOIN webhooks w ON w.id = "
                      "d.webhook_id WHERE w.url = %s AND d.attempts >= 1", (url,)):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.1)
        rx = Receiver("127.0.0.66", port=port)
        self.assertEqual(len(rx.wait(1)), 1)
        rx.stop()

    def test_a_slow_endpoint_does_not_delay_another_tenants(self):
        """A receiver that takes 2.5 s an answer holds one sending thread;
        another tenant's delivery leaves meanwhile on the other."""
        slow, fast = Receiver("127.0.0.82", delay=2.5), Receiver("127.0.0.83")
        p1, p2 = new_provider(), new_provider()
        self.assertEqual(register(p1, slow.url, events=["relationship.invited"]).status, 201)
        self.assertEqual(register(p2, fast.url, events=["relationship.invited"]).status, 201)
        for _ in range(3):
            self.assertEqual(invite(p1, approved_tenant().email).status, 201)
        deadline = time.monotonic() + 10
        while not slow.arrivals:
            self.assertLess(time.monotonic(), deadline, "the slow receiver got nothing")
            time.sleep(0.02)
        self.assertEqual(invite(p2, approved_tenant().email).status, 201)
        fast.wait(1)
        # the fast one was served while the slow one still held its first
        self.assertLess(fast.arrivals[0], slow.arrivals[0] + 2.5)
        self.assertLess(len(slow.requests), 3)
        slow.wait(3, timeout=20)
        slow.stop()
        fast.stop()

    def test_a_redirect_is_not_followed(self):
        elsewhere = Receiver("127.0.0.67")
        rx = Receiver(answers=[302] * 20, redirect=elsewhere.url)
        provider = new_provider()
        r = register(provider, rx.url, events=["relationship.invited"])
        self.assertEqual(invite(provider, approved_tenant().email).status, 201)
        rx.wait(1)
        time.sleep(1)
        self.assertEqual(elsewhere.requests, [])
        log = api("GET", "/v1/webhooks/%s/deliveries" % r.body["id"], headers=provider.auth).body
        self.assertEqual(log["items"][0]["responseStatus"], 302)
        self.assertIn("redirect is not followed", log["items"][0]["lastError"])
        rx.stop()
        elsewhere.stop()

    def test_private_addresses_are_refused_before_any_connection(self):
        provider = new_provider()
        for url in ("http://127.0.0.1:9/x", "http://10.0.0.1/x", "http://169.254.169.254/x",
                    "http://internal.test/x", "http://[::1]:9/x", "https://user@hooks.test/",
                    "ftp://hooks.test/"):
            p = assert_problem(register(provider, url), 400, "validation-failed")
            self.assertEqual(field_errors(p), {"url": "not_allowed"}, url)
        self.assertEqual(sql("SELECT id FROM webhooks WHERE tenant_id = %s", (provider.id,)),
                         [])
        # a name that pointed at a receiver and now names a private
        # address is refused at delivery, before connecting
        rx = Receiver("127.0.0.70")
        r = register(provider, "http://hooks.test:%d/hook" % rx.port,
                     events=["relationship.invited"])
        self.assertEqual(r.status, 201, r)
        sql("UPDATE webhooks SET url = 'http://internal.test:%d/hook' WHERE id = %%s" % rx.port,
            (r.body["id"],))
        self.assertEqual(invite(provider, approved_tenant().email).status, 201)
        deadline = time.monotonic() + 15
        while True:
            items = api("GET", "/v1/webhooks/%s/deliveries" % r.body["id"],
                        headers=provider.auth).body["items"]
            if items and items[0]["attempts"] >= 1:
                break
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.1)
        self.assertIn("refused before connecting", items[0]["lastError"])
        self.assertIsNone(items[0]["responseStatus"])
        self.assertEqual(rx.requests, [])
        rx.stop()

    def test_who_registers_and_bad_bodies(self):
        provider = new_provider()
        url = "http://127.0.0.65:9/hook"
        sales = new_user(provider, ["sales_agent"])
        r = api("POST", "/v1/auth/token", body={"username": sales.email,
                                                "password": sales.password})
        assert_problem(register(provider, url, auth=bearer(r.body["accessToken"])), 403,
                       "forbidden")
        token = new_api_token(provider, ("events:read",))["token"]
        assert_problem(register(provider, url, auth=bearer(token)), 403, "forbidden")
        token = new_api_token(provider, ("webhooks:write",))["token"]
        r = register(provider, url, auth=bearer(token))
        self.assertEqual(r.status, 201, r)
        other = new_provider()
        for method, path in (("GET", "/v1/webhooks/%s"), ("DELETE", "/v1/webhooks/%s"),
                             ("GET", "/v1/webhooks/%s/deliveries")):
            assert_problem(api(method, path % r.body["id"], headers=other.auth), 404,
                           "not-found")
        for body, field in (({"events": ["relationship.invited"]}, "url"),
                            ({"url": url}, "events"),
                            ({"url": url, "events": []}, "events"),
                            ({"url": url, "events": ["nope"]}, "events[0]"),
                            ({"url": 5, "events": ["relationship.invited"]}, "url"),
                            ({"url": url, "events": ["relationship.invited"], "x": 1}, "x")):
            p = assert_problem(api("POST", "/v1/webhooks", body=body, headers=provider.auth),
                               400, "validation-failed")
            self.assertIn(field, field_errors(p), body)
        listed = api("GET", "/v1/webhooks", headers=provider.auth).body["items"]
        self.assertEqual([w["id"] for w in listed], [r.body["id"]])
        self.assertEqual(api("DELETE", "/v1/webhooks/%s" % r.body["id"],
                             headers=provider.auth).status, 204)
        self.assertEqual(api("GET", "/v1/webhooks", headers=provider.auth).body["items"], [])


def with_if_match(auth, etag):
    h = dict(auth)
    h["If-Match"] = etag
    return h


def deliveries(t, hook_id):
    return api("GET", "/v1/webhooks/%s/deliveries" % hook_id, headers=t.auth).body["items"]


def wait_delivery(t, hook_id, event_id, until, timeout=15.0):
    """The delivery of event_id once until(delivery) holds."""
    deadline = time.monotonic() + timeout
    while True:
        found = [d for d in deliveries(t, hook_id) if d["eventId"] == event_id]
        if found and until(found[0]):
            return found[0]
        assert time.monotonic() < deadline, found
        time.sleep(0.1)


def audited(t, action, hook_id):
    return sql("SELECT 1 FROM audit_events WHERE tenant_id = %s AND action = %s AND "
               "target_id = %s", (t.id, action, hook_id))


class TestWebhookChanges(unittest.TestCase):
    """PATCH under If-Match, the ping, the retry of one delivery and the
    rotation of the secret (issue 20, part 3)."""

    def test_an_endpoint_is_changed_under_if_match_and_disabled(self):
        rx, rx2 = Receiver("127.0.0.72"), Receiver("127.0.0.73")
        provider = new_provider()
        r = register(provider, rx.url, events=["relationship.invited"])
        self.assertEqual(r.status, 201, r)
        hook = r.body["id"]
        self.assertEqual((r.body["etag"], r.headers["etag"]), ('"v1"', '"v1"'))
        path = "/v1/webhooks/%s" % hook
        got = api("GET", path, headers=provider.auth)
        self.assertEqual((got.body["etag"], got.headers["etag"]), ('"v1"', '"v1"'))
        change = {"enabled": False}
        assert_problem(api("PATCH", path, body=change, headers=provider.auth), 428,
                       "precondition-required")
        assert_problem(api("PATCH", path, body=change, headers=with_if_match(provider.auth,
                                                                              '"v9"')),
                       412, "precondition-failed")
        r = api("PATCH", path, body=change, headers=with_if_match(provider.auth, '"v1"'))
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.body["enabled"], r.body["etag"], r.headers["etag"]),
                         (False, '"v2"', '"v2"'))
        self.assertEqual(r.body["url"], rx.url)
        self.assertEqual(r.body["events"], ["relationship.invited"])
        self.assertTrue(audited(provider, "webhook.update", hook))
        # the old version is stale now
        assert_problem(api("PATCH", path, body={"enabled": True},
                           headers=with_if_match(provider.auth, '"v1"')),
                       412, "precondition-failed")
        # disabled: an event is not delivered
        self.assertEqual(invite(provider, approved_tenant().email).status, 201)
        time.sleep(1.5)
        self.assertEqual(rx.requests, [])
        # enabled again, elsewhere, for more types: deliveries resume there
        r = api("PATCH", path, body={"enabled": True, "url": rx2.url,
                                     "events": ["relationship.invited", "order.placed"]},
                headers=with_if_match(provider.auth, '"v2"'))
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.body["enabled"], r.body["url"], r.body["events"], r.body["etag"]),
                         (True, rx2.url, ["relationship.invited", "order.placed"], '"v3"'))
        self.assertEqual(invite(provider, approved_tenant().email).status, 201)
        (h, b), = rx2.wait(1)
        self.assertEqual(json.loads(b)["type"], "relationship.invited")
        time.sleep(0.5)
        self.assertEqual((len(rx.requests), len(rx2.requests)), (0, 1))
        # "*" matches any version
        r = api("PATCH", path, body={"enabled": False}, headers=with_if_match(provider.auth,
                                                                               "*"))
        self.assertEqual((r.status, r.body["etag"]), (200, '"v4"'))
        rx.stop()
        rx2.stop()

    def test_a_held_delivery_waits_while_disabled_and_leaves_when_enabled(self):
        port = free_port("127.0.0.74")
        provider = new_provider()
        url = "http://127.0.0.74:%d/hook" % port
        r = register(provider, url, events=["relationship.invited"])
        hook = r.body["id"]
        self.assertEqual(invite(provider, approved_tenant().email).status, 201)
        deadline = time.monotonic() + 15
        while not [d for d in deliveries(provider, hook) if d["attempts"] >= 1]:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.1)
        r = api("PATCH", "/v1/webhooks/%s" % hook, body={"enabled": False},
                headers=with_if_match(provider.auth, '"v1"'))
        self.assertEqual(r.status, 200, r)
        rx = Receiver("127.0.0.74", port=port)
        time.sleep(3)  # past the back-off (1-2 s here)
        self.assertEqual(rx.requests, [])
        r = api("PATCH", "/v1/webhooks/%s" % hook, body={"enabled": True},
                headers=with_if_match(provider.auth, '"v2"'))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(rx.wait(1)), 1)
        rx.stop()

    def test_if_match_names_a_version_exactly(self):
        """Issue 21: "v+1", "v01" and "v-1" (a huge number) once passed."""
        provider = new_provider()
        hook = register(provider, "http://127.0.0.84:9/hook").body["id"]
        path = "/v1/webhooks/%s" % hook
        for etag in ('"v+1"', '"v01"', '"v-1"', '"v 1"', '"v1 "', '"v"', '"v0"', 'v1',
                     '"v18446744073709551617"', '"v4294967297"', '"v1"x', '"V1"'):
            with self.subTest(etag=etag):
                assert_problem(api("PATCH", path, body={"enabled": False},
                                   headers=with_if_match(provider.auth, etag)),
                               412, "precondition-failed")
        self.assertEqual(hook_state(provider, hook)["etag"], '"v1"')
        for etag in ('"v1"', 'W/"v2"'):
            r = api("PATCH", path, body={"enabled": False},
                    headers=with_if_match(provider.auth, etag))
            self.assertEqual(r.status, 200, (etag, r))

    def test_bad_changes(self):
        provider = new_provider()
        url = "http://127.0.0.72:9/hook"
        hook = register(provider, url).body["id"]
        path = "/v1/webhooks/%s" % hook
        v1 = with_if_match(provider.auth, '"v1"')
        for body, field, code in (({}, "url", "required"),
                                  # null is as left out: nothing to change
                                  ({"url": None, "events": None, "enabled": None}, "url",
                                   "required"),
                                  ({"events": []}, "events", "required"),
                                  ({"events": ["relationship.invited", "nope"]}, "events[1]",
                                   "unknown_type"),
                                  ({"events": "order.placed"}, "events", None),
                                  ({"enabled": "no"}, "enabled", None),
                                  ({"url": 5}, "url", None),
                                  ({"url": "http://127.0.0.72/" + "x" * 3000}, "url", None),
                                  ({"url": "http://10.0.0.1/x"}, "url", "not_allowed"),
                                  ({"url": "http://internal.test/x"}, "url", "not_allowed"),
                                  ({"url": "ftp://hooks.test/"}, "url", "not_allowed"),
                                  ({"enabled": True, "x": 1}, "x", None)):
            p = assert_problem(api("PATCH", path, body=body, headers=v1), 400,
                               "validation-failed")
            self.assertIn(field, field_errors(p), body)
            if code:
                self.assertEqual(field_errors(p)[field], code, body)
        # nothing changed
        got = api("GET", path, headers=provider.auth).body
        self.assertEqual((got["url"], got["etag"]), (url, '"v1"'))
        self.assertFalse(audited(provider, "webhook.update", hook))

    def test_who_may_change_ping_retry_and_rotate(self):
        provider = new_provider()
        hook = register(provider, "http://127.0.0.72:9/hook").body["id"]
        did = "01890000-0000-7000-8000-000000000000"
        calls = (("PATCH", "/v1/webhooks/%s" % hook, {"enabled": False}),
                 ("POST", "/v1/webhooks/%s/ping" % hook, None),
                 ("POST", "/v1/webhooks/%s/deliveries/%s/retry" % (hook, did), None),
                 ("POST", "/v1/webhooks/%s/secret" % hook, None))
        other = new_provider()
        reader = bearer(new_api_token(provider, ("events:read",))["token"])
        sales = new_user(provider, ["sales_agent"])
        r = api("POST", "/v1/auth/token", body={"username": sales.email,
                                                "password": sales.password})
        agent = bearer(r.body["accessToken"])
        for method, path, body in calls:
            assert_problem(api(method, path, body=body,
                               headers=with_if_match(other.auth, '"v1"')), 404, "not-found")
            assert_problem(api(method, path, body=body, headers=with_if_match(reader, '"v1"')),
                           403, "forbidden")
            assert_problem(api(method, path, body=body, headers=with_if_match(agent, '"v1"')),
                           403, "forbidden")
            assert_problem(api(method, path, body=body, headers={}), 401, "unauthenticated")
        # no such delivery of one's own endpoint
        assert_problem(api("POST", calls[2][1], headers=provider.auth), 404, "not-found")
        # a token with the scope may
        writer = bearer(new_api_token(provider, ("webhooks:write",))["token"])
        r = api("PATCH", calls[0][1], body={"enabled": False},
                headers=with_if_match(writer, '"v1"'))
        self.assertEqual(r.status, 200, r)
        r = api("POST", calls[3][1], headers=writer)
        self.assertEqual(r.status, 200, r)
        # a disabled endpoint is not pinged
        p = assert_problem(api("POST", calls[1][1], headers=writer), 409, "conflict")
        self.assertEqual(p["code"], "webhook_disabled")

    def test_a_ping_is_delivered_signed_to_this_endpoint_alone(self):
        rx, rx2 = Receiver("127.0.0.75"), Receiver("127.0.0.76")
        provider = new_provider()
        r = register(provider, rx.url)
        hook, secret = r.body["id"], r.body["secret"]
        register(provider, rx2.url)
        r = api("POST", "/v1/webhooks/%s/ping" % hook, headers=provider.auth)
        self.assertEqual(r.status, 202, r)
        self.assertEqual((r.body["eventType"], r.body["status"], r.body["attempts"]),
                         ("webhook.ping", "pending", 0))
        (h, b), = rx.wait(1)
        self.assertTrue(verify(secret, h, b), h)
        ev = json.loads(b)
        self.assertEqual((ev["id"], h["webhook-id"]), (r.body["eventId"], r.body["eventId"]))
        self.assertEqual(ev["type"], "webhook.ping")
        self.assertEqual(ev["data"]["id"], hook)
        self.assertEqual(ev["actor"]["tenantId"], provider.id)
        d = wait_delivery(provider, hook, ev["id"], lambda d: d["status"] == "succeeded")
        self.assertEqual((d["attempts"], d["responseStatus"]), (1, 200))
        self.assertTrue(audited(provider, "webhook.ping", hook))
        # numbered as the sequencer numbers (below its next number), in no feed
        (seq, nxt), = sql("SELECT e.seq, s.next_seq FROM events e, event_sequence s "
                          "WHERE e.id = %s", (ev["id"],))
        self.assertLess(int(seq), int(nxt))
        self.assertEqual(sql("SELECT 1 FROM event_tenants WHERE event_id = %s", (ev["id"],)),
                         [])
        feed = api("GET", "/v1/events", headers=provider.auth).body["items"]
        self.assertNotIn(ev["id"], [e["id"] for e in feed])
        # the endpoint's later events follow it in order
        reseller, rel = relate(provider)
        reqs = rx.wait(3)
        self.assertEqual([json.loads(b)["type"] for _, b in reqs],
                         ["webhook.ping", "relationship.invited", "relationship.authorized"])
        time.sleep(0.5)
        self.assertEqual([json.loads(b)["type"] for _, b in rx2.requests],
                         ["relationship.invited", "relationship.authorized"])
        rx.stop()
        rx2.stop()

    def test_a_failed_delivery_is_retried_and_a_succeeded_one_is_not(self):
        rx = Receiver("127.0.0.77")
        provider = new_provider()
        r = register(provider, rx.url, events=["relationship.invited"])
        hook, secret = r.body["id"], r.body["secret"]
        # a secret that cannot sign fails the delivery for good at once
        sql("UPDATE webhooks SET secret = 'whsec_!!' WHERE id = %s", (hook,))
        self.assertEqual(invite(provider, approved_tenant().email).status, 201)
        deadline = time.monotonic() + 15
        while not deliveries(provider, hook) or deliveries(provider, hook)[0]["status"] != \
                "failed":
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.1)
        d = deliveries(provider, hook)[0]
        self.assertEqual(d["attempts"], 1)
        sql("UPDATE webhooks SET secret = %s WHERE id = %s", (secret, hook))
        path = "/v1/webhooks/%s/deliveries/%s/retry" % (hook, d["eventId"])
        r = api("POST", path, headers=provider.auth)
        self.assertEqual(r.status, 202, r)
        self.assertEqual((r.body["status"], r.body["attempts"], r.body["eventId"]),
                         ("pending", 1, d["eventId"]))
        (h, b), = rx.wait(1)
        self.assertTrue(verify(secret, h, b))
        self.assertEqual(h["webhook-id"], d["eventId"])
        d = wait_delivery(provider, hook, d["eventId"], lambda d: d["status"] == "succeeded")
        self.assertEqual(d["attempts"], 2)
        self.assertTrue(audited(provider, "webhook.delivery_retry", hook))
        p = assert_problem(api("POST", path, headers=provider.auth), 409, "conflict")
        self.assertEqual(p["code"], "delivery_not_failed")
        assert_problem(api("POST", path, headers=new_provider().auth), 404, "not-found")
        time.sleep(0.5)
        self.assertEqual(len(rx.requests), 1)
        rx.stop()

    def test_a_rotated_secret_signs_beside_the_new_one_for_its_grace(self):
        rx = Receiver("127.0.0.78")
        provider = new_provider()
        r = register(provider, rx.url)
        hook, old = r.body["id"], r.body["secret"]
        r = api("POST", "/v1/webhooks/%s/secret" % hook, headers=provider.auth)
        self.assertEqual(r.status, 200, r)
        new = r.body["secret"]
        self.assertRegex(new, r"^whsec_[A-Za-z0-9+/=]{32}$")
        self.assertNotEqual(new, old)
        self.assertEqual(list(r.body), ["secret"])
        self.assertTrue(audited(provider, "webhook.secret_rotate", hook))
        (until,), = sql("SELECT TIMESTAMPDIFF(MINUTE, UTC_TIMESTAMP(6), previous_secret_until)"
                        " FROM webhooks WHERE id = %s", (hook,))
        self.assertTrue(24 * 60 - 2 <= int(until) <= 24 * 60, until)
        self.assertEqual(api("POST", "/v1/webhooks/%s/ping" % hook,
                             headers=provider.auth).status, 202)
        (h, b), = rx.wait(1)
        sigs = h["webhook-signature"].split(" ")
        self.assertEqual(len(sigs), 2, h)
        self.assertTrue(verify(new, dict(h, **{"webhook-signature": sigs[0]}), b))
        self.assertTrue(verify(old, dict(h, **{"webhook-signature": sigs[1]}), b))
        # the grace over: the new secret alone
        sql("UPDATE webhooks SET previous_secret_until = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND "
            "WHERE id = %s", (hook,))
        self.assertEqual(api("POST", "/v1/webhooks/%s/ping" % hook,
                             headers=provider.auth).status, 202)
        (h, b) = rx.wait(2)[1]
        self.assertEqual(len(h["webhook-signature"].split(" ")), 1, h)
        self.assertTrue(verify(new, h, b))
        self.assertFalse(verify(old, h, b))
        # and the purge (every 2 s here) forgets it
        deadline = time.monotonic() + 15
        while sql("SELECT 1 FROM webhooks WHERE id = %s AND previous_secret IS NOT NULL",
                  (hook,)):
            self.assertLess(time.monotonic(), deadline, "the expired secret was kept")
            time.sleep(0.2)
        rx.stop()


def hook_state(t, hook):
    r = api("GET", "/v1/webhooks/%s" % hook, headers=t.auth)
    assert r.status == 200, r
    return r.body


def wait_hook(t, hook, pred, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        w = hook_state(t, hook)
        if pred(w):
            return w
        assert time.monotonic() < deadline, w
        time.sleep(0.1)


class TestFailingEndpoints(unittest.TestCase):
    """An endpoint whose deliveries fail for WEBHOOK_FAILING_DAYS (5) with
    no success between is disabled and its owner mailed; its deliveries
    wait for it (the days are made to pass by moving failing_since back)."""

    def test_an_endpoint_failing_for_days_is_disabled_and_its_owner_mailed(self):
        rx = Receiver("127.0.0.79", answers=[500] * 100)
        provider = new_provider()
        r = register(provider, rx.url, events=["relationship.invited"])
        hook = r.body["id"]
        self.assertEqual((r.body["failingSince"], r.body["disabledReason"]), (None, None))
        self.assertEqual(invite(provider, approved_tenant().email).status, 201)
        w = wait_hook(provider, hook, lambda w: w["failingSince"] is not None)
        self.assertTrue(w["enabled"])
        # a failure later does not move the start of the period
        first = w["failingSince"]
        rx.wait(2)
        self.assertEqual(hook_state(provider, hook)["failingSince"], first)
        sql("UPDATE webhooks SET failing_since = UTC_TIMESTAMP(6) - INTERVAL 5 DAY - INTERVAL 1 "
            "MINUTE WHERE id = %s", (hook,))
        w = wait_hook(provider, hook, lambda w: not w["enabled"])
        self.assertEqual((w["disabledReason"], w["etag"]), ("failing", '"v2"'))
        (by,), = sql("SELECT actor_type FROM audit_events WHERE tenant_id = %s AND action = "
                     "'webhook.disable' AND target_id = %s", (provider.id, hook))
        self.assertEqual(by, "system")
        deadline = time.monotonic() + 15
        while not stopped_mails(provider.email):
            self.assertLess(time.monotonic(), deadline, "the owner was not mailed")
            time.sleep(0.1)
        mail, = stopped_mails(provider.email)
        self.assertIn(provider.domain, mail.subject)
        self.assertIn(rx.url, mail.body)
        self.assertIn("5 days", mail.body)
        # nothing more leaves while it is disabled; what waits is kept
        time.sleep(0.5)
        sent = len(rx.requests)
        time.sleep(3)  # past the back-off (1-2 s here)
        self.assertEqual(len(rx.requests), sent)
        self.assertEqual([d["status"] for d in deliveries(provider, hook)], ["pending"])
        # the receiver mended and the endpoint enabled: it is delivered, the
        # reason and the period gone
        rx.answers.clear()
        r = api("PATCH", "/v1/webhooks/%s" % hook, body={"enabled": True},
                headers=with_if_match(provider.auth, '"v2"'))
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.body["enabled"], r.body["disabledReason"], r.body["failingSince"]),
                         (True, None, None))
        wait_delivery(provider, hook, deliveries(provider, hook)[0]["eventId"],
                      lambda d: d["status"] == "succeeded")
        self.assertEqual(len(stopped_mails(provider.email)), 1, "one mail, once")
        rx.stop()

    def test_a_success_ends_the_failing_period(self):
        rx = Receiver("127.0.0.80", answers=[500])
        provider = new_provider()
        hook = register(provider, rx.url, events=["relationship.invited"]).body["id"]
        self.assertEqual(invite(provider, approved_tenant().email).status, 201)
        rx.wait(2)
        w = wait_hook(provider, hook, lambda w: w["failingSince"] is None)
        self.assertEqual((w["enabled"], w["disabledReason"]), (True, None))
        # an agent's disabling has no reason of the service's
        r = api("PATCH", "/v1/webhooks/%s" % hook, body={"enabled": False},
                headers=with_if_match(provider.auth, "*"))
        self.assertEqual((r.body["enabled"], r.body["disabledReason"]), (False, None))
        rx.stop()


def stopped_mails(address):
    return [m for m in mails_to(address) if "were stopped" in m.subject]


if __name__ == "__main__":
    unittest.main()
