"""How the service sits behind a web server. The listening socket: handed over by systemd (socket activation, the
sd_listen_fds protocol) or on fd 0 (a web server's or spawn-fcgi's way),
else bound by the service itself with the configured owner, group and mode
in a directory it makes when missing; systemd's readiness protocol
(READY=1, STOPPING=1).  The mount: base_path puts the API below a path
(/api/v1/...), the links it answers too.  Each test runs a second twotier-fcgi of its own on
sockets in a temporary folder (the stack's database, its mail sender off),
and speaks FastCGI to it as a web server does (fastcgi.py)."""
import grp
import json
import os
import pwd
import signal
import socket
import stat
import subprocess
import tempfile
import time
import unittest

import pytest

from fastcgi import Connection
from harness import env, new_tenant, run_binary, user_body


def fcgi_request(sock, method, uri, body="", headers=None):
    """METHOD URI over FastCGI on the unix socket SOCK, as a web server
    passes it (HEADERS: CGI names such as HTTP_AUTHORIZATION), on a
    connection of its own: (status, headers by lower-case name, body)."""
    params = dict(headers or {})
    if body:
        params["CONTENT_TYPE"] = "application/json"
    c = Connection(sock, timeout=30)
    try:
        status, fields, payload = c.request(method, uri, body.encode(), keep=False,
                                            headers=params)
    finally:
        c.close()
    return status, fields, payload.decode()


def fcgi_get(sock, path):
    """GET PATH: (status, body)."""
    status, _, body = fcgi_request(sock, "GET", path)
    return status, body


def stop(proc):
    """SIGTERM, then the exit code (it must stop within 30 s)."""
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=30)


@pytest.fixture
def folder():
    """A temporary folder with a configuration of the stack's with listen
    and the mail sender changed: (folder, configuration's path, the socket
    path its listen names)."""
    with tempfile.TemporaryDirectory() as tmp:
        own = os.path.join(tmp, "run", "twotier", "s.sock")
        os.mkdir(os.path.join(tmp, "run"))
        with open(env("TWOTIER_CONF")) as f:
            lines = [l for l in f.read().splitlines()
                     if not l.startswith(("listen", "mail_sender", "socket_"))]
        conf = os.path.join(tmp, "c.conf")
        with open(conf, "w") as f:
            f.write("\n".join(lines + ["listen = unix:" + own, "mail_sender = false"]) + "\n")
        yield tmp, conf, own


def started(args, log, **kw):
    return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, **kw)


def log_text(path):
    with open(path, errors="replace") as f:
        return f.read()


class TestInheritedSockets(unittest.TestCase):

    @pytest.fixture(autouse=True)
    def _folder(self, folder):
        self.tmp, self.conf, self.own = folder
        self.log = os.path.join(self.tmp, "fcgi.log")

    def activate(self, *sockets):
        """systemd-socket-activate listening on SOCKETS, starting the
        service at the first connection with the test's environment."""
        args = ["systemd-socket-activate"]
        for s in sockets:
            args += ["-l", s]
        for name in os.environ:
            if name.startswith(("TWOTIER_", "ASAN_", "UBSAN_")):
                args += ["-E", name]
        args += [env("TWOTIER_FCGI_BIN"), "-c", self.conf]
        with open(self.log, "w") as log:
            proc = started(args, log)
        deadline = time.monotonic() + 10
        while not all(os.path.exists(s) for s in sockets):
            self.assertLess(time.monotonic(), deadline, log_text(self.log))
            time.sleep(0.05)
        return proc

    def test_systemd_socket_activation_serves_on_the_socket_it_is_passed(self):
        sock = os.path.join(self.tmp, "activated.sock")
        proc = self.activate(sock)
        try:
            # the first connection starts the service, which answers it
            self.assertEqual(fcgi_get(sock, "/healthz"), (200, '{"status":"ok"}'))
            status, body = fcgi_get(sock, "/v1/regions")
            self.assertEqual(status, 200, body)
            self.assertIn('"europe"', body)
            self.assertIn("listening on unix:%s (passed by systemd)" % sock, log_text(self.log))
            self.assertFalse(os.path.exists(self.own))  # listen is not bound
        finally:
            self.assertEqual(stop(proc), 0, log_text(self.log))
        self.assertTrue(os.path.exists(sock))  # systemd's socket: not removed

    def test_more_than_one_passed_socket_stops_the_start(self):
        a, b = os.path.join(self.tmp, "a.sock"), os.path.join(self.tmp, "b.sock")
        proc = self.activate(a, b)
        with socket.socket(socket.AF_UNIX) as c:
            c.connect(a)
            try:
                self.assertEqual(proc.wait(timeout=30), 1)
            finally:
                if proc.poll() is None:
                    proc.kill()
        self.assertIn("systemd passed 2 sockets (LISTEN_FDS)", log_text(self.log))

    def test_a_listening_socket_on_fd_0_is_served(self):
        sock = os.path.join(self.tmp, "zero.sock")
        with socket.socket(socket.AF_UNIX) as s:
            s.bind(sock)
            s.listen(16)
            with open(self.log, "w") as log:
                proc = started([env("TWOTIER_FCGI_BIN"), "-c", self.conf], log, stdin=s.fileno())
        try:
            self.assertEqual(fcgi_get(sock, "/healthz"), (200, '{"status":"ok"}'))
            self.assertIn("listening on unix:%s (inherited on fd 0)" % sock, log_text(self.log))
        finally:
            self.assertEqual(stop(proc), 0, log_text(self.log))
        self.assertFalse(os.path.exists(self.own))


class TestOwnSocket(unittest.TestCase):

    @pytest.fixture(autouse=True)
    def _folder(self, folder):
        self.tmp, self.conf, self.own = folder
        self.log = os.path.join(self.tmp, "fcgi.log")

    def configure(self, *lines):
        with open(self.conf, "a") as f:
            f.write("".join(l + "\n" for l in lines))

    @pytest.mark.skipif(os.geteuid() != 0, reason="giving a socket away needs root")
    def test_owner_group_mode_directory_and_readiness(self):
        self.configure("socket_user = nobody", "socket_group = nogroup", "socket_mode = 0640")
        notify = os.path.join(self.tmp, "notify")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as n:
            n.bind(notify)
            n.settimeout(60)
            with open(self.log, "w") as log:
                proc = started([env("TWOTIER_FCGI_BIN"), "-c", self.conf], log,
                               env=dict(os.environ, NOTIFY_SOCKET=notify),
                               stdin=subprocess.DEVNULL)
            try:
                self.assertEqual(n.recv(256), b"READY=1", log_text(self.log))
                # ready means serving: the socket is there, given away
                st = os.stat(self.own)
                self.assertTrue(stat.S_ISSOCK(st.st_mode))
                self.assertEqual(st.st_uid, pwd.getpwnam("nobody").pw_uid)
                self.assertEqual(st.st_gid, grp.getgrnam("nogroup").gr_gid)
                self.assertEqual(stat.S_IMODE(st.st_mode), 0o640)
                self.assertTrue(os.path.isdir(os.path.dirname(self.own)))  # made
                self.assertEqual(fcgi_get(self.own, "/healthz")[0], 200)
            finally:
                code = stop(proc)
            self.assertEqual(n.recv(256), b"STOPPING=1")
        self.assertEqual(code, 0, log_text(self.log))
        self.assertFalse(os.path.exists(self.own))  # its own socket: removed

    def test_unknown_socket_user_stops_the_start(self):
        self.configure("socket_user = no-such-user-here")
        r = run_binary([env("TWOTIER_FCGI_BIN"), "-c", self.conf], timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("socket_user: no user 'no-such-user-here'", r.stderr)
        self.assertFalse(os.path.exists(self.own))

    def test_unknown_socket_group_stops_the_start(self):
        self.configure("socket_group = no-such-group-here")
        r = run_binary([env("TWOTIER_FCGI_BIN"), "-c", self.conf], timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("socket_group: no group 'no-such-group-here'", r.stderr)


class TestMount(unittest.TestCase):
    """base_path = /api: the API answers below /api and nowhere else, and
    the paths it answers (Location, links.next) are below /api too."""

    @pytest.fixture(autouse=True)
    def _folder(self, folder):
        self.tmp, self.conf, self.own = folder
        with open(self.conf, "a") as f:
            f.write("base_path = /api\n")
        self.log = os.path.join(self.tmp, "fcgi.log")
        with open(self.log, "w") as log:
            self.proc = started([env("TWOTIER_FCGI_BIN"), "-c", self.conf], log,
                                stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not os.path.exists(self.own):
            self.assertIsNone(self.proc.poll(), log_text(self.log))
            self.assertLess(time.monotonic(), deadline, log_text(self.log))
            time.sleep(0.05)
        yield
        self.assertEqual(stop(self.proc), 0, log_text(self.log))

    def test_below_the_mount_only(self):
        self.assertEqual(fcgi_get(self.own, "/api/healthz"), (200, '{"status":"ok"}'))
        status, _, body = fcgi_request(self.own, "GET", "/api/v1/regions")
        self.assertEqual(status, 200, body)
        for outside in ("/v1/regions", "/healthz", "/apiv1/regions", "/ap/v1/regions"):
            status, headers, body = fcgi_request(self.own, "GET", outside)
            self.assertEqual(status, 404, (outside, body))
            self.assertEqual(headers["content-type"], "application/problem+json")

    def test_locations_and_links_carry_the_mount(self):
        t = new_tenant()  # through the stack's nginx: the same database
        auth = {"HTTP_AUTHORIZATION": "Bearer " + t.token}
        create = json.dumps(user_body(t, ["sales_agent"]))
        once = dict(auth, HTTP_IDEMPOTENCY_KEY="mount-" + t.domain)
        status, headers, body = fcgi_request(self.own, "POST", "/api/v1/users", create, once)
        self.assertEqual(status, 201, body)
        location = "/api/v1/users/" + json.loads(body)["id"]
        self.assertEqual(headers["location"], location)
        # the replay answers the same Location
        status, headers, _ = fcgi_request(self.own, "POST", "/api/v1/users", create, once)
        self.assertEqual((status, headers.get("idempotent-replayed")), (201, "true"))
        self.assertEqual(headers["location"], location)
        status, _, body = fcgi_request(self.own, "GET", location, headers=auth)
        self.assertEqual(status, 200, body)
        status, _, body = fcgi_request(self.own, "GET", "/api/v1/users?limit=1", headers=auth)
        self.assertEqual(status, 200, body)
        self.assertRegex(json.loads(body)["links"]["next"],
                         r"^/api/v1/users\?limit=1&cursor=[A-Za-z0-9_-]+$")
