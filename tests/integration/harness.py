"""Helpers shared by the black-box integration tests (Python 3 stdlib only).

The tests talk to a running stack (see scripts/stack) through nginx and read
its database and log directly.  Everything is configured by environment
variables, as set by scripts/test:

    TWOTIER_TEST_DIR    the stack directory (DIR of `scripts/stack up DIR PORT`)
    TWOTIER_TEST_PORT   nginx's port on 127.0.0.1
    TWOTIER_REPO        the repository (for scripts/stack)
    plus the exports of `scripts/stack env DIR` (TWOTIER_DB_SOCKET,
    TWOTIER_DB_USER, TWOTIER_DB_PASSWORD, TWOTIER_DB_NAME, TWOTIER_CONF,
    TWOTIER_FCGI_BIN, TWOTIER_ADMIN_BIN, TWOTIER_OPERATOR_EMAIL, ...).

Conventions for test files (tests/integration/test_*.py):
  * tests run in file-name order, then class and method definition order;
  * a TestCase class with ``RUN_LAST = True`` runs after every other class
    of every file (use it for tests that stop or restart parts of the
    stack, so that a failure there does not cascade into other tests);
  * tests that break the stack must restore it in ``finally``.
"""

import collections
import http.client
import json
import os
import random
import re
import secrets
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.header import decode_header, make_header
from types import SimpleNamespace

PROBLEM_TYPE_BASE = "https://twotier.example/problems/"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
NGINX_REQUEST_ID_RE = re.compile(r"^[0-9a-f]{32}$")
PASSWORD = "correct horse battery staple"
API_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")


# ------------------------------------------------------------ environment

def env(name, default=None):
    """The environment variable NAME; raises if it is unset and there is
    no default."""
    value = os.environ.get(name, default)
    if value is None:
        raise RuntimeError("environment variable %s is not set (run through "
                           "tests/integration/run with the stack env)" % name)
    return value


def test_dir():
    return env("TWOTIER_TEST_DIR")


def port():
    return int(env("TWOTIER_TEST_PORT"))


def repo():
    return env("TWOTIER_REPO")


def shared_file(relpath):
    """The path of RELPATH in the programme's shared folder (SPEC, data),
    which sits beside the repository: TWOTIER_SHARED_DIR if set, else
    REPO/../shared, else, for a clone of a local repository, the shared
    folder beside the repository it was cloned from. A fixture that is in
    none of them fails the test that needs it: it is never skipped."""
    places = []
    if os.environ.get("TWOTIER_SHARED_DIR"):
        places.append(os.environ["TWOTIER_SHARED_DIR"])
    places.append(os.path.join(repo(), "..", "shared"))
    p = subprocess.run(["git", "-C", repo(), "config", "--get", "remote.origin.url"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       universal_newlines=True)
    origin = p.stdout.strip()
    if origin.startswith("file://"):
        origin = origin[len("file://"):]
    if origin and os.path.isabs(origin):
        places.append(os.path.join(origin, "..", "shared"))
    for place in places:
        path = os.path.normpath(os.path.join(place, relpath))
        if os.path.exists(path):
            return path
    raise AssertionError("fixture %s not found in any of: %s" % (relpath, ", ".join(
        os.path.normpath(p) for p in places)))


def base_url():
    return "http://127.0.0.1:%d" % port()


def fcgi_pid_file():
    return os.path.join(test_dir(), "run", "twotier-fcgi.pid")


def fcgi_log_file():
    return os.path.join(test_dir(), "log", "twotier-fcgi.log")


def fcgi_pid():
    """The pid in DIR/run/twotier-fcgi.pid, or None if there is none."""
    try:
        with open(fcgi_pid_file()) as f:
            text = f.read().strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


def pid_running(pid):
    """True while PID names a live, non-zombie process."""
    if pid is None:
        return False
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("State:"):
                    return line.split()[1] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False
    return True


# ------------------------------------------------------------------ HTTP

class Response(collections.namedtuple("Response", "status headers body")):
    """(status, headers with lower-case names, parsed JSON or text).

    Unpacks as a 3-tuple; .raw holds the body bytes."""
    raw = b""

    def __repr__(self):
        body = self.body if isinstance(self.body, (dict, list)) else str(self.body)[:500]
        return "Response(status=%r, headers=%r, body=%r)" % (self.status, self.headers, body)


def api(method, path, body=None, headers=None, raw=None, timeout=60, retry_busy=True,
        source=None):
    """Sends one request through nginx on a new connection.

    retry_busy: a 503 that says every password-hashing slot is in use
          (code password_slots_busy, Retry-After 1) is sent again after a
          short pause, as a client that honours Retry-After would, so that
          tests running many sign-ins at once see their real outcome; give
          False to see the 503 itself.
    source: the local address to connect from ("127.0.0.2"), to be
          another client for nginx's per-address limits.

    body: a JSON-serialisable value, sent with Content-Type application/json
          (unless headers names another Content-Type, or None to omit it).
    raw:  bytes (or str) sent as they are; no Content-Type is added.
    headers: extra request headers; a value of None removes that header.
    Returns Response(status, headers, body): header names in lower case
    (repeated headers joined with ", "), body parsed as JSON when the
    response is JSON (application/json, application/problem+json), else
    text."""
    hdrs = {}
    data = None
    if body is not None and raw is not None:
        raise ValueError("give body or raw, not both")
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        hdrs["Content-Type"] = "application/json"
    elif raw is not None:
        data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
    for name, value in (headers or {}).items():
        for existing in [k for k in hdrs if k.lower() == name.lower()]:
            del hdrs[existing]
        if value is not None:
            hdrs[name] = value
    for _ in range(500):
        r = _api_once(method, path, data, hdrs, timeout, source)
        if not (retry_busy and r.status == 503 and isinstance(r.body, dict)
                and r.body.get("code") == "password_slots_busy"):
            return r
        time.sleep(0.01 + random.random() * 0.04)
    return r


def _api_once(method, path, data, hdrs, timeout, source):
    conn = http.client.HTTPConnection("127.0.0.1", port(), timeout=timeout,
                                      source_address=(source, 0) if source else None)
    try:
        try:
            conn.request(method, path, body=data, headers=hdrs)
        except (BrokenPipeError, ConnectionResetError):
            # The server may answer (e.g. 413) and stop reading before the
            # whole body is sent; its answer is still there to read.
            pass
        resp = conn.getresponse()
        payload = resp.read()
        out = {}
        for name, value in resp.getheaders():
            key = name.lower()
            out[key] = out[key] + ", " + value if key in out else value
        ctype = out.get("content-type", "")
        parsed = payload.decode("utf-8", errors="replace")
        if "json" in ctype.lower() and payload:
            try:
                parsed = json.loads(payload.decode("utf-8"))
            except ValueError:
                pass
        r = Response(resp.status, out, parsed)
        r.raw = payload
        return r
    finally:
        conn.close()


def parallel(*calls):
    """Runs the callables at the same moment, a thread each; returns their
    results (an exception is returned as the result)."""
    results = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(i):
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as e:  # the caller checks
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    return results


def wait_ready(timeout=30.0):
    """Polls GET /readyz until it answers 200; returns the last response
    (raises AssertionError after TIMEOUT seconds)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = api("GET", "/readyz", timeout=5)
            if last.status == 200:
                return last
        except OSError as e:
            last = e
        if time.monotonic() >= deadline:
            raise AssertionError("GET /readyz not 200 within %.0f s; last: %r" % (timeout, last))
        time.sleep(0.2)


def assert_problem(resp, status, type_suffix, from_app=True):
    """Checks that RESP is an RFC 9457 problem: HTTP STATUS, content type
    application/problem+json, body fields type (PROBLEM_TYPE_BASE +
    TYPE_SUFFIX), title, status (== HTTP status), detail, and, for answers
    of the app (FROM_APP), requestId equal to the X-Request-Id header.
    Returns the body."""
    status_got, headers, body = resp
    where = "problem %r" % (resp,)
    if status_got != status:
        raise AssertionError("HTTP status %r, expected %r: %s" % (status_got, status, where))
    ctype = headers.get("content-type", "")
    if ctype.split(";")[0].strip().lower() != "application/problem+json":
        raise AssertionError("content-type %r, expected application/problem+json: %s"
                             % (ctype, where))
    if not isinstance(body, dict):
        raise AssertionError("body is not a JSON object: %s" % where)
    t = body.get("type")
    if not isinstance(t, str) or not t.startswith(PROBLEM_TYPE_BASE):
        raise AssertionError("type %r does not start with %s: %s" % (t, PROBLEM_TYPE_BASE, where))
    if type_suffix is not None and t != PROBLEM_TYPE_BASE + type_suffix:
        raise AssertionError("type %r, expected %s%s: %s" % (t, PROBLEM_TYPE_BASE, type_suffix,
                                                             where))
    for field in ("title", "detail"):
        if not isinstance(body.get(field), str) or not body[field]:
            raise AssertionError("%s missing or empty: %s" % (field, where))
    if body.get("status") != status or isinstance(body.get("status"), bool):
        raise AssertionError("body status %r != HTTP status %r: %s"
                             % (body.get("status"), status, where))
    rid = headers.get("x-request-id")
    if from_app or "requestId" in body:
        if not rid:
            raise AssertionError("no X-Request-Id header: %s" % where)
        if body.get("requestId") != rid:
            raise AssertionError("requestId %r != X-Request-Id %r: %s"
                                 % (body.get("requestId"), rid, where))
    return body


def field_errors(body):
    """{field: code} of a validation problem's errors list."""
    return {e.get("field"): e.get("code") for e in (body or {}).get("errors", [])}


# ------------------------------------------------------------- test data

def unique_domain(prefix="t"):
    """A fresh, valid lower-case domain such as t3f9a0c1d2e4b.example.com."""
    return "%s%s.example.com" % (prefix, secrets.token_hex(6))


def signup_body(domain=None, email=None, password="correct horse battery staple",
                display_name="Contoso Ltd", first_name="Ada", last_name="Lovelace"):
    """A valid POST /v1/tenants body (unique domain and admin e-mail unless
    given)."""
    domain = domain or unique_domain()
    return {
        "domain": domain,
        "displayName": display_name,
        "admin": {
            "email": email or "admin@" + domain,
            "password": password,
            "firstName": first_name,
            "lastName": last_name,
        },
    }


def signup_request(domain=None, **kw):
    """POST /v1/tenants with a valid body (202: a link is mailed); returns
    (Response, request body)."""
    body = signup_body(domain, **kw)
    return api("POST", "/v1/tenants", body=body), body


def signup_link(email, count=1):
    """The token of the COUNT-th sign-up link mailed to EMAIL."""
    mails = [m for m in wait_mails(email, count) if "/verify-signup" in m.body]
    return link_token(mails[count - 1], "/verify-signup")


def verify_signup(token):
    return api("POST", "/v1/signup-verifications", body={"token": token})


def signup(domain=None, **kw):
    """A whole sign-up: POST /v1/tenants, the mailed link, then POST
    /v1/signup-verifications; returns (the verification's Response, 201
    with the tenant, and the sign-up's request body)."""
    body = signup_body(domain, **kw)
    email = body["admin"]["email"].lower()
    # counted before the request: its mail may be there before it answers
    before = len([m for m in mails_to(email) if "/verify-signup" in m.body])
    r = api("POST", "/v1/tenants", body=body)
    if r.status != 202:
        return r, body
    return verify_signup(signup_link(email, before + 1)), body


# ------------------------------------------- tenants, users and tokens

def bearer(token, **extra):
    h = {"Authorization": "Bearer " + token}
    h.update(extra)
    return h


def sign_in(username, password):
    return api("POST", "/v1/auth/token", body={"username": username, "password": password})


def access_token(username, password):
    r = sign_in(username, password)
    if r.status != 200:
        raise AssertionError("sign-in of %s failed: %r" % (username, r))
    return r.body["accessToken"]


def new_tenant():
    """Signs up a tenant and signs its admin in."""
    r, body = signup()
    if r.status != 201:
        raise AssertionError("sign-up failed: %r" % (r,))
    t = SimpleNamespace(id=r.body["id"], admin_id=r.body["admin"]["id"], domain=body["domain"],
                        email=body["admin"]["email"], password=body["admin"]["password"],
                        signup_rid=r.headers.get("x-request-id"))
    t.token = access_token(t.email, t.password)
    t.auth = bearer(t.token)
    return t


def user_body(tenant, roles, email=None, password=PASSWORD, **extra):
    b = {"email": email or "u%s@%s" % (secrets.token_hex(5), tenant.domain),
         "password": password, "firstName": "Grace", "lastName": "Hopper", "roles": roles}
    b.update(extra)
    return b


def create_user(tenant, roles, headers=None, **kw):
    """POST /v1/users as the tenant's admin; returns (Response, body)."""
    body = user_body(tenant, roles, **kw)
    h = dict(tenant.auth)
    h.update(headers or {})
    return api("POST", "/v1/users", body=body, headers=h), body


def new_user(tenant, roles, **kw):
    """A user of the tenant (201 checked): SimpleNamespace(id, email, password)."""
    r, body = create_user(tenant, roles, **kw)
    if r.status != 201:
        raise AssertionError("user creation failed: %r" % (r,))
    return SimpleNamespace(id=r.body["id"], email=body["email"], password=body["password"],
                           etag=r.body["etag"])


def api_time(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def future(days=30):
    return api_time(datetime.now(timezone.utc) + timedelta(days=days))


def create_api_token(tenant, scopes=("profiles:read",), name="billing system", expires=None,
                     headers=None):
    h = dict(tenant.auth)
    h.update(headers or {})
    return api("POST", "/v1/api-tokens", headers=h,
               body={"name": name, "scopes": list(scopes), "expiresAt": expires or future()})


def new_api_token(tenant, scopes=("profiles:read",)):
    r = create_api_token(tenant, scopes)
    if r.status != 201:
        raise AssertionError("API token creation failed: %r" % (r,))
    return r.body


# ---------------------------------------------------------------- database

def sql_quote(value):
    """A string literal for SQL text."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def sql(query, timeout=60):
    """Runs QUERY with the mariadb client as the app's database user; returns
    the rows as lists of strings (NULL comes back as the string "NULL")."""
    cmd = ["mariadb", "--no-defaults", "--socket=" + env("TWOTIER_DB_SOCKET"),
           "-u" + env("TWOTIER_DB_USER"), "-p" + env("TWOTIER_DB_PASSWORD"),
           "--default-character-set=utf8mb4", env("TWOTIER_DB_NAME"), "-N", "-B", "-e", query]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError("mariadb failed (%d) on %r: %s"
                           % (p.returncode, query, p.stderr.decode(errors="replace")))
    text = p.stdout.decode("utf-8", errors="replace")
    return [line.split("\t") for line in text.split("\n") if line != ""]


def root_sql_value(query):
    """The single value of a one-row, one-column query run as MariaDB's root
    (unix_socket authentication: the tests run as root), for what the app's
    user may not read (information_schema.INNODB_TRX)."""
    cmd = ["mariadb", "--no-defaults", "--socket=" + env("TWOTIER_DB_SOCKET"), "-uroot",
           env("TWOTIER_DB_NAME"), "-N", "-B", "-e", query]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
                       universal_newlines=True)
    if p.returncode != 0:
        raise RuntimeError("mariadb (root) failed on %r: %s" % (query, p.stderr))
    return p.stdout.strip()


def sql_value(query):
    """The single value of a one-row, one-column query."""
    rows = sql(query)
    if len(rows) != 1 or len(rows[0]) != 1:
        raise AssertionError("expected one value from %r, got %r" % (query, rows))
    return rows[0][0]


def table_counts(*tables):
    """{table: row count} for the given tables."""
    return {t: int(sql_value("SELECT COUNT(*) FROM `%s`" % t)) for t in tables}


# ------------------------------------------------------------------ stack

def stack(cmd, check=True, timeout=180, env_extra=None):
    """Runs `scripts/stack CMD DIR` (with --sanitize for fcgi-start), with
    ENV_EXTRA added to the environment (for fcgi-start: the service's);
    returns the CompletedProcess (raises on failure when CHECK)."""
    args = [os.path.join(repo(), "scripts", "stack"), cmd, test_dir()]
    if cmd == "fcgi-start":
        args.append("--sanitize")
    e = dict(os.environ)
    e.update(env_extra or {})
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                       env=e)
    if check and p.returncode != 0:
        raise RuntimeError("scripts/stack %s failed (%d): %s%s"
                           % (cmd, p.returncode, p.stdout.decode(errors="replace"),
                              p.stderr.decode(errors="replace")))
    return p


def run_binary(args, input=None, timeout=60, env_extra=None):
    """Runs a program with the test environment; returns CompletedProcess
    with text stdout/stderr."""
    e = dict(os.environ)
    e.update(env_extra or {})
    return subprocess.run(args, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout, env=e, universal_newlines=True)


# -------------------------------------------------------------------- log

def log_offset():
    """The current size of the fcgi log: pass it to log_lines(since=...) to
    see only what was logged afterwards."""
    try:
        return os.path.getsize(fcgi_log_file())
    except FileNotFoundError:
        return 0


def log_lines(since=0):
    """The JSON objects of DIR/log/twotier-fcgi.log from byte offset SINCE
    on.  Lines that are not JSON objects (e.g. from a sanitizer) are
    skipped."""
    out = []
    try:
        with open(fcgi_log_file(), "rb") as f:
            f.seek(since)
            data = f.read()
    except FileNotFoundError:
        return out
    for line in data.split(b"\n"):
        line = line.strip()
        if not line.startswith(b"{"):
            continue
        try:
            obj = json.loads(line.decode("utf-8", errors="replace"))
        except ValueError:
            continue
        if isinstance(obj, dict):
            out.append(obj)
    return out


def wait_log(pred, since=0, timeout=5.0):
    """Polls the log until a line satisfies PRED; returns it or None."""
    deadline = time.monotonic() + timeout
    while True:
        for line in log_lines(since):
            if pred(line):
                return line
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.05)


# ------------------------------------------------------------------- mail

def mail_dir():
    return env("TWOTIER_MAIL_DIR")


class Mail(collections.namedtuple("Mail", "path message subject body")):
    """A delivered .eml: its parsed message, decoded subject and body text."""

    def header(self, name):
        return self.message.get(name)


def read_mail(path):
    with open(path, "rb") as f:
        raw = f.read()
    msg = message_from_bytes(raw)
    subject = str(make_header(decode_header(msg.get("Subject", ""))))
    body = msg.get_payload(decode=True).decode("utf-8")
    return Mail(path, msg, subject, body)


def mails_to(address):
    """Every delivered mail (mail_dir/*.eml) to ADDRESS, oldest first."""
    out = []
    for name in sorted(os.listdir(mail_dir())):
        if not name.endswith(".eml"):
            continue
        m = read_mail(os.path.join(mail_dir(), name))
        if m.message.get("To") == address:
            out.append(m)
    return out


def wait_mails(address, count=1, timeout=15.0):
    """Waits until COUNT mails to ADDRESS are delivered; returns them all
    (raises AssertionError after TIMEOUT seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        got = mails_to(address)
        if len(got) >= count:
            return got
        if time.monotonic() >= deadline:
            raise AssertionError("%d mail(s) to %s within %.0f s, expected %d: %r"
                                 % (len(got), address, timeout, count,
                                    [m.subject for m in got]))
        time.sleep(0.05)


def link_token(mail, path):
    """The token of the link to PATH (e.g. "/verify-email") in MAIL."""
    m = re.search(re.escape(path) + r"\?(?:[^\s]*&)?token=([A-Za-z0-9_-]+)", mail.body)
    if m is None:
        raise AssertionError("no %s link in mail %r" % (path, mail.body))
    return m.group(1)


def metric_value(text, name):
    """The value of the sample NAME (with its labels, exactly as printed) in
    Prometheus text TEXT, or None."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line[len(name) + 1:].split()[0])
    return None
