"""FastCGI connections kept open between requests (fastcgi_keep_conn on)
cost twotier-fcgi a descriptor, not a thread: however many nginx keeps
idle, a new connection and every kept one are served, and SIGTERM still
ends the service at once. Talks to the app's socket directly, as nginx
does, with a FastCGI client of the tests' own (fastcgi.py)."""
import asyncio
import collections
import os
import re
import signal
import threading
import time
import unittest

from fastcgi import Connection
from harness import api, env, fcgi_pid, metric_value, pid_running, port, stack, wait_ready


def threads_configured():
    with open(env("TWOTIER_CONF")) as f:
        m = re.search(r"^threads\s*=\s*(\d+)", f.read(), re.M)
    return int(m.group(1)) if m else 4


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class TestKeptConnections(unittest.TestCase):

    def test_more_kept_connections_than_threads_never_stall(self):
        n = threads_configured() * 4
        kept = [Connection(env("TWOTIER_FCGI_SOCKET")) for _ in range(n)]
        try:
            for c in kept:
                status, _, body = c.request(uri="/healthz")
                self.assertEqual((status, body), (200, b'{"status":"ok"}'))
            # every thread has served a kept connection that is now idle: a
            # fresh connection, and nginx, are still answered at once
            fresh = Connection(env("TWOTIER_FCGI_SOCKET"), timeout=5)
            try:
                self.assertEqual(fresh.request(uri="/healthz")[0], 200)
            finally:
                fresh.close()
            t0 = time.monotonic()
            self.assertEqual(api("GET", "/healthz", timeout=5).status, 200)
            self.assertLess(time.monotonic() - t0, 5)
            # and each kept connection takes its next request, in any order
            for c in reversed(kept):
                self.assertEqual(c.request(uri="/healthz")[0], 200)
        finally:
            for c in kept:
                c.close()

    def test_kept_connections_served_concurrently(self):
        # more clients than threads, each on its own kept connection,
        # many requests each: all of them answered
        n, rounds = threads_configured() * 3, 20
        errors = []

        def client():
            c = Connection(env("TWOTIER_FCGI_SOCKET"), timeout=10)
            try:
                for _ in range(rounds):
                    status, _, _ = c.request(uri="/healthz")
                    if status != 200:
                        errors.append(status)
            except Exception as e:  # reported below
                errors.append(e)
            finally:
                c.close()

        ts = [threading.Thread(target=client) for _ in range(n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        self.assertEqual(errors, [])

    def test_a_connection_without_keep_is_closed_after_its_request(self):
        c = Connection(env("TWOTIER_FCGI_SOCKET"))
        try:
            self.assertEqual(c.request(uri="/healthz", keep=False)[0], 200)
            self.assertEqual(c.sock.recv(1), b"", "the app kept a connection nginx let go")
        finally:
            c.close()

    def test_closed_connections_are_forgotten(self):
        pid = fcgi_pid()
        before = open_fds(pid)
        for _ in range(3):
            conns = [Connection(env("TWOTIER_FCGI_SOCKET")) for _ in range(40)]
            for c in conns:
                self.assertEqual(c.request(uri="/healthz")[0], 200)
            for c in conns:
                c.close()
        # the app sees each close when it next looks at the connection
        deadline = time.monotonic() + 5
        while open_fds(pid) > before + 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertLessEqual(open_fds(pid), before + 2)

    def test_connections_counted_right_under_churn(self):
        # libfcgi closes a connection itself, and the descriptor may go to
        # a new one before the worker gives the old back: the count of open
        # connections must come back to where it was all the same
        def gauge():
            return metric_value(api("GET", "/metrics").body, "twotier_fcgi_connections")

        before = gauge()
        errors = []

        def churn():
            try:
                for _ in range(60):
                    c = Connection(env("TWOTIER_FCGI_SOCKET"))
                    try:
                        if c.request(uri="/healthz", keep=False)[0] != 200:
                            errors.append("status")
                    finally:
                        c.close()
            except Exception as e:  # reported below
                errors.append(e)

        ts = [threading.Thread(target=churn) for _ in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        self.assertEqual(errors, [])
        deadline = time.monotonic() + 5
        while gauge() > before + 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertLessEqual(gauge(), before + 2)

    def test_request_with_a_body_on_a_kept_connection(self):
        # the input of one request is read to its end, so the next request
        # on the same connection starts cleanly
        c = Connection(env("TWOTIER_FCGI_SOCKET"))
        try:
            for _ in range(3):
                status, _, _ = c.request(
                    method="POST", uri="/v1/auth/token",
                    body=b'{"username":"nobody@example.com","password":"not the password"}',
                    headers={"CONTENT_TYPE": "application/json"})
                self.assertIn(status, (401, 429, 503))
                self.assertEqual(c.request(uri="/healthz")[0], 200)
        finally:
            c.close()


class TestBurst(unittest.TestCase):
    """A burst of BURST clients at once, each with one request through
    nginx: nginx opens about as many connections to the app as there are
    clients, and the app accepts them as they arrive (epoll, not its busy
    threads) from a listen backlog sized for them (backlog = 1024), so
    every client is answered and none gets nginx's 502/503. The clients
    come from 25 loopback addresses, 40 each: nginx allows an address 64
    connections at once (limit_conn)."""
    BURST = 1000
    ADDRESSES = 25

    def test_a_burst_of_clients_at_once_is_all_served(self):
        request = ("GET /v1/regions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Connection: close\r\n\r\n").encode()

        async def client(gate, i):
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port(), local_addr=("127.0.50.%d" % (1 + i % self.ADDRESSES), 0))
            await gate.wait()  # every client connected: all ask at once
            writer.write(request)
            await writer.drain()
            status = (await reader.readline()).split()[1].decode()
            await reader.read()
            writer.close()
            return status

        async def burst():
            gate = asyncio.Event()
            clients = [asyncio.ensure_future(client(gate, i)) for i in range(self.BURST)]
            while sum(1 for c in clients if c.done()) == 0 and not all_waiting(gate):
                await asyncio.sleep(0.01)
            gate.set()
            return await asyncio.wait_for(asyncio.gather(*clients, return_exceptions=True), 120)

        def all_waiting(gate):
            return len(getattr(gate, "_waiters", ())) >= self.BURST

        results = asyncio.run(burst())
        statuses = collections.Counter(r if isinstance(r, str) else repr(r) for r in results)
        self.assertEqual(statuses, {"200": self.BURST})


class TestStopWithKeptConnections(unittest.TestCase):
    RUN_LAST = True

    def test_sigterm_with_idle_kept_connections_exits_at_once(self):
        pid = fcgi_pid()
        kept = [Connection(env("TWOTIER_FCGI_SOCKET")) for _ in range(threads_configured() * 4)]
        try:
            for c in kept:
                self.assertEqual(c.request(uri="/healthz")[0], 200)
            t0 = time.monotonic()
            os.kill(pid, signal.SIGTERM)
            while pid_running(pid) and time.monotonic() - t0 < 10:
                time.sleep(0.02)
            self.assertFalse(pid_running(pid), "twotier-fcgi still running 10 s after SIGTERM")
            self.assertLess(time.monotonic() - t0, 2.0)
            # the kept connections were closed
            for c in kept:
                c.sock.settimeout(2)
                self.assertEqual(c.sock.recv(1), b"")
        finally:
            for c in kept:
                c.close()
            if not pid_running(fcgi_pid()):
                stack("fcgi-start")
            wait_ready(30)
