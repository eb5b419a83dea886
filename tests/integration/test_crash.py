"""Crash safety (kill -9, by a test-only fault point of the test build).
Idempotent requests: the key's claim, the change and the stored response
commit in one transaction, so that after the service dies between the
change and the response a retry with the same Idempotency-Key either
replays the committed result or runs afresh, and the change happens
exactly once.  Webhooks (issue 20): a sender killed mid-delivery loses no
event; its claim runs out (webhook_lease: 6 s under scripts/test) and the
delivery is sent again, at least once."""
import http.server
import json
import os
import re
import secrets
import socket
import threading
import time
import unittest

import pytest

from harness import (api, fcgi_pid, pid_running, sql, sql_value, stack, stack_dir,
                     wait_ready)
from world import approved_tenant, authorize, invitation_link, invite, new_provider

PASSWORD = "correct horse battery staple"


def restart(fault=None):
    """twotier-fcgi again, with the fault point FAULT armed (or none)."""
    pid = fcgi_pid()
    if pid_running(pid):
        stack("fcgi-stop")
    stack("fcgi-start", env_extra={"TWOTIER_FAULT": fault or ""})
    wait_ready(30)


@pytest.fixture(scope="class")
def restarted_afterwards():
    """twotier-fcgi started again, without a fault point, after the class."""
    yield
    restart()


@pytest.mark.usefixtures("restarted_afterwards")
class TestCrashBetweenChangeAndResponse(unittest.TestCase):
    RUN_LAST = True

    @pytest.fixture(autouse=True)
    def _world(self, class_tenant):
        self.domain = class_tenant.domain
        self.auth = class_tenant.auth

    def user_body(self):
        return {"email": "crash-%s@%s" % (secrets.token_hex(4), self.domain),
                "password": PASSWORD, "firstName": "Cr", "lastName": "Ash",
                "roles": ["sales_agent"]}

    def users_with(self, email):
        return int(sql_value("SELECT COUNT(*) FROM users WHERE email = %s", (email,)))

    def key_rows(self, key):
        return int(sql_value("SELECT COUNT(*) FROM idempotency_keys WHERE idem_key = %s", (key,)))

    def post(self, body, key):
        return api("POST", "/v1/users", body=body,
                   headers=dict(self.auth, **{"Idempotency-Key": key}))

    def crash(self, fault, body, key):
        """The request with FAULT armed: the service dies inside it."""
        restart(fault)
        pid = fcgi_pid()
        r = self.post(body, key)
        # nginx answers for the dead service
        self.assertEqual(r.status, 503, r)
        deadline = time.monotonic() + 10
        while pid_running(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(pid_running(pid), "the fault point %s did not kill the service" % fault)
        restart()

    def test_killed_before_the_commit_runs_afresh(self):
        body, key = self.user_body(), "crash-" + secrets.token_hex(8)
        self.crash("idem.before_commit", body, key)
        # nothing of it committed: neither the user nor the key
        self.assertEqual(self.users_with(body["email"]), 0)
        self.assertEqual(self.key_rows(key), 0)
        r = self.post(body, key)
        self.assertEqual(r.status, 201, r)
        self.assertNotIn("idempotent-replayed", r.headers)
        self.assertEqual(self.users_with(body["email"]), 1)
        again = self.post(body, key)
        self.assertEqual(again.status, 201, again)
        self.assertEqual(again.headers.get("idempotent-replayed"), "true")
        self.assertEqual(again.body["id"], r.body["id"])
        self.assertEqual(self.users_with(body["email"]), 1)

    def test_killed_after_the_commit_replays_the_result(self):
        body, key = self.user_body(), "crash-" + secrets.token_hex(8)
        self.crash("idem.after_commit", body, key)
        # the change and its response committed together
        self.assertEqual(self.users_with(body["email"]), 1)
        self.assertEqual(self.key_rows(key), 1)
        uid = sql_value("SELECT id FROM users WHERE email = %s", (body["email"],))
        r = self.post(body, key)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.headers.get("idempotent-replayed"), "true")
        self.assertEqual(r.body["id"], uid)
        self.assertEqual(r.headers.get("location"), "/v1/users/" + uid)
        self.assertEqual(self.users_with(body["email"]), 1)


class Receiver:
    """A webhook receiver on 127.0.0.120 (in the stack's
    webhook_allow_private; test_webhooks.py's are below it) that answers
    200 and keeps (webhook-id, body) of each request."""

    def __init__(self):
        self.got = []
        got = self.got

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                got.append((self.headers.get("webhook-id"), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.120", 0), Handler)
        self.url = "http://127.0.0.120:%d/hook" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


TYPES = ["relationship.invited", "relationship.authorized"]


def in_flight():
    """Deliveries still to go to enabled endpoints (of any test)."""
    return int(sql_value("SELECT COUNT(*) FROM webhook_deliveries d JOIN webhooks w ON "
                         "w.id = d.webhook_id WHERE w.enabled = 1 AND d.status IN "
                         "('pending', 'sending')"))


def webhook_lease():
    """The seconds of a webhook delivery's claim in the stack's
    configuration (webhook_lease; 0: webhook_timeout + 30)."""
    keys = {"webhook_timeout": "10", "webhook_lease": "0"}
    with open(os.path.join(stack_dir(), "twotier.conf")) as f:
        for line in f:
            key, _, value = line.partition("=")
            if key.strip() in keys:
                keys[key.strip()] = value.strip()
    lease = int(keys["webhook_lease"])
    return lease or int(keys["webhook_timeout"]) + 30


def wait_until(what, timeout, message):
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, message()
        time.sleep(0.1)


@pytest.mark.usefixtures("restarted_afterwards")
class TestWebhookSenderKilled(unittest.TestCase):
    """kill -9 of the service mid-delivery loses no event: the delivery
    the dead sender held is sent once its lease runs out, the endpoint's
    later events after it, in order; each event of the provider's feed of
    the endpoint's types arrives, and its delivery ends succeeded."""
    RUN_LAST = True

    def setUp(self):
        self.rx = Receiver()
        self.addCleanup(self.rx.stop)

    def deliveries(self, hook):
        return sql("SELECT e.type, d.status, d.attempts, d.claimed_by FROM webhook_deliveries d "
                   "JOIN events e ON e.id = d.event_id WHERE d.webhook_id = %s ORDER BY d.seq",
                   (hook,))

    def crash_mid_delivery(self, fault, sent):
        """A provider's endpoint at the receiver; the provider's invitation
        (relationship.invited) with FAULT armed: the sender dies holding
        its delivery, the receiver having had SENT requests. Then, started
        again without it, the reseller's consent (relationship.authorized).
        Returns (provider, endpoint id, the invitation's event id) once
        both deliveries are done."""
        # any delivery due would trip the fault first: earlier tests' done
        wait_until(lambda: in_flight() == 0, 60,
                   lambda: "%d deliveries of other tests still to go" % in_flight())
        provider, reseller = new_provider(), approved_tenant()
        r = api("POST", "/v1/webhooks", body={"url": self.rx.url, "events": TYPES},
                headers=provider.auth)
        self.assertEqual(r.status, 201, r)
        hook = r.body["id"]
        restart(fault)
        pid = fcgi_pid()
        try:
            r = invite(provider, reseller.email)
            self.assertEqual(r.status, 201, r)
            wait_until(lambda: not pid_running(pid), 15,
                       lambda: "the fault point %s did not kill the service" % fault)
            held, received = self.deliveries(hook), len(self.rx.got)
        finally:
            restart()
        # the dead sender's claim stands (until its lease runs out)
        claimer = "%s:%d/" % (socket.gethostname()[:40], pid)
        self.assertEqual([h[:3] for h in held], [["relationship.invited", "sending", "1"]])
        self.assertRegex(held[0][3], "^" + re.escape(claimer) + "[0-9a-f]{16}$")
        self.assertEqual(received, sent)
        invited = sql_value("SELECT event_id FROM webhook_deliveries WHERE webhook_id = %s",
                            (hook,))
        inv, token = invitation_link(reseller.email)
        r = authorize(reseller, inv, token)
        self.assertEqual(r.status, 201, r)
        wait_until(lambda: [d[1] for d in self.deliveries(hook)] == ["succeeded"] * 2,
                   webhook_lease() + 20,
                   lambda: "deliveries %r" % self.deliveries(hook))
        return provider, hook, invited

    def assert_feed_delivered(self, provider, hook):
        """Each event of the provider's feed of the endpoint's types
        reached the receiver and its delivery succeeded; returns their ids
        in the feed's order."""
        r = api("GET", "/v1/events", headers=provider.auth)
        self.assertEqual(r.status, 200, r)
        feed = [e["id"] for e in r.body["items"] if e["type"] in TYPES]
        self.assertEqual(len(feed), 2, r.body)
        got = [i for i, _ in self.rx.got]
        self.assertEqual(sorted(set(got)), sorted(feed))
        for i, body in self.rx.got:
            self.assertEqual(json.loads(body)["id"], i)
        done = sql("SELECT event_id FROM webhook_deliveries WHERE webhook_id = %s AND "
                   "status = 'succeeded'", (hook,))
        self.assertEqual(sorted(e for e, in done), sorted(feed))
        return feed

    def test_killed_before_the_post_sends_it_once(self):
        provider, hook, invited = self.crash_mid_delivery("webhook.before_send", 0)
        feed = self.assert_feed_delivered(provider, hook)
        # nothing was sent before the kill: each event once, in order
        self.assertEqual([i for i, _ in self.rx.got], feed)
        self.assertEqual(feed[0], invited)
        self.assertEqual([d[:3] for d in self.deliveries(hook)],
                         [["relationship.invited", "succeeded", "2"],
                          ["relationship.authorized", "succeeded", "1"]])

    def test_killed_after_the_post_sends_it_again(self):
        provider, hook, invited = self.crash_mid_delivery("webhook.after_send", 1)
        feed = self.assert_feed_delivered(provider, hook)
        # the receiver had it when the sender died: at least once, so twice,
        # the same webhook-id and body, which a receiver drops as a repeat
        self.assertEqual([i for i, _ in self.rx.got], [invited, invited, feed[1]])
        self.assertEqual(self.rx.got[0], self.rx.got[1])
        self.assertEqual(feed[0], invited)
        self.assertEqual([d[:3] for d in self.deliveries(hook)],
                         [["relationship.invited", "succeeded", "2"],
                          ["relationship.authorized", "succeeded", "1"]])
