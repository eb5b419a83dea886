"""A flood of one kind of request cannot starve the others: password hashing
runs in a bounded number of slots (a request that finds none is refused at
once), nginx limits sign-ins and sign-ups per client address and the
requests one address may have in flight, and slow clients cost it a
connection, not the service. Requests are sent from addresses of their own
(127.0.0.x) to be other clients for nginx's per-address limits."""
import hashlib
import resource
import socket
import threading
import time
import unittest

from harness import (api, assert_problem, metric_value, parallel, port, signup_body, sql_value,
                     unique_domain)


def busy_total():
    return metric_value(api("GET", "/metrics").body, "twotier_password_busy_total") or 0


class TestPasswordSlots(unittest.TestCase):

    def sign_in(self, username, password, i):
        return api("POST", "/v1/auth/token", {"username": username, "password": password},
                   retry_busy=False, source="127.0.2.%d" % (i + 1))

    def test_sign_ins_beyond_the_slots_are_refused_at_once(self):
        before = busy_total()
        n = 16
        results = parallel(*[lambda i=i: self.sign_in("nobody-%d@%s" % (i, unique_domain()),
                                                     "not the password", i)
                           for i in range(n)])
        statuses = []
        for r in results:
            self.assertNotIsInstance(r, Exception, results)
            statuses.append(r.status)
            if r.status == 503:
                p = assert_problem(r, 503, "service-unavailable")
                self.assertEqual(p.get("code"), "password_slots_busy", p)
                self.assertEqual(r.headers.get("retry-after"), "1")
            else:
                assert_problem(r, 401, "unauthenticated")
        self.assertIn(503, statuses, "16 sign-ins at once all found a slot: %r" % statuses)
        self.assertIn(401, statuses, statuses)
        self.assertEqual(busy_total() - before, statuses.count(503))

    def test_other_routes_are_answered_during_a_sign_in_flood(self):
        stop = threading.Event()
        seen = []

        def flood(i):
            while not stop.is_set():
                seen.append(self.sign_in("nobody-%d@flood.example.com" % i, "wrong password",
                                         i).status)

        ts = [threading.Thread(target=flood, args=(i,)) for i in range(12)]
        for t in ts:
            t.start()
        try:
            time.sleep(0.3)
            for _ in range(20):
                t0 = time.monotonic()
                r = api("GET", "/healthz", source="127.0.0.2", timeout=5)
                self.assertEqual(r.status, 200, r)
                self.assertLess(time.monotonic() - t0, 2.0)
        finally:
            stop.set()
            for t in ts:
                t.join(60)
        self.assertIn(503, seen)

    def test_a_refused_sign_in_is_not_counted_as_a_failure(self):
        # the slot is taken before the attempt is counted: only the attempts
        # that were checked (401) count towards the lock-out
        name = "counted-%s@%s" % (time.time_ns(), unique_domain())
        results = parallel(*[lambda i=i: self.sign_in(name, "wrong password", i)
                           for i in range(9)])
        statuses = [r.status for r in results]
        self.assertTrue(set(statuses) <= {401, 503}, statuses)
        self.assertEqual(failures_of(name), statuses.count(401), statuses)


def failures_of(name):
    """The failed sign-ins counted for a (lower-case ASCII) user name that
    names no account, from every address (lib/domain/signin.c's account
    counter)."""
    h = hashlib.sha256(b"name:\0" + name.encode()).hexdigest()
    return int(sql_value("SELECT COALESCE(MAX(failures), 0) FROM signin_account_failures WHERE "
                         "account_hash = %s", (h,)))


class TestNginxLimits(unittest.TestCase):

    def test_sign_ups_past_the_burst_get_429(self):
        # more at once from one address than the sign-up burst of the snippet
        domain = unique_domain()
        before = sql_value("SELECT COUNT(*) FROM tenants")
        results = parallel(*[lambda: api("POST", "/v1/tenants", {"domain": domain},
                                       source="127.0.3.1", timeout=30)] * 100)
        statuses = [getattr(r, "status", r) for r in results]
        self.assertIn(429, statuses, statuses)
        for r in results:
            if r.status == 429:
                # nginx's own answer, with the request id like every other
                assert_problem(r, 429, "too-many-requests")
                self.assertEqual(r.headers.get("retry-after"), "1")
            else:
                self.assertEqual(r.status, 400, r)  # the app's: the body is incomplete
        self.assertEqual(sql_value("SELECT COUNT(*) FROM tenants"), before)

    def test_sign_ins_past_the_burst_get_429(self):
        results = parallel(*[lambda: api("POST", "/v1/auth/token", {"username": "x"},
                                       source="127.0.3.2", timeout=30)] * 160)
        statuses = [getattr(r, "status", r) for r in results]
        self.assertIn(429, statuses, statuses)
        self.assertTrue(set(statuses) <= {400, 429}, statuses)

    def test_another_address_is_not_limited(self):
        results = parallel(*[lambda: api("POST", "/v1/tenants", {"domain": "x"},
                                       source="127.0.3.3", timeout=30)] * 100)
        self.assertIn(429, [r.status for r in results])
        r = api("POST", "/v1/tenants", signup_body(), source="127.0.3.4")
        self.assertEqual(r.status, 202, r)


class TestSlowClients(unittest.TestCase):

    def test_slow_connections_from_one_address_do_not_stop_others(self):
        n = 1100
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < n + 512:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 2048), hard))
        socks = []
        try:
            for _ in range(n):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.bind(("127.0.0.5", 0))
                s.settimeout(5)
                s.connect(("127.0.0.1", port()))
                # headers that never end
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: 1\r\n")
                socks.append(s)
            for _ in range(20):
                t0 = time.monotonic()
                r = api("GET", "/healthz", source="127.0.0.6", timeout=5)
                self.assertEqual(r.status, 200, r)
                self.assertLess(time.monotonic() - t0, 2.0)
        finally:
            for s in socks:
                s.close()
