"""Crash safety of idempotent requests: the key's claim, the change and the
stored response commit in one transaction, so that after the service dies
between the change and the response (kill -9, by a test-only fault point of
the test build) a retry with the same Idempotency-Key either replays the
committed result or runs afresh, and the change happens exactly once."""
import secrets
import time
import unittest

import pytest

from harness import api, fcgi_pid, pid_running, sql_value, stack, wait_ready

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
