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

from harness import api, assert_problem, bearer, field_errors, new_api_token, new_user, sql
from world import approved_tenant, authorize, invitation_link, invite, new_provider


class Receiver:
    """An HTTP server on ADDRESS that records each request and answers
    with the next of ANSWERS (then 200); a 302 redirects to REDIRECT."""

    def __init__(self, address="127.0.0.65", answers=(), port=0, redirect=None):
        self.requests, self.answers = [], list(answers)
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
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


if __name__ == "__main__":
    unittest.main()
