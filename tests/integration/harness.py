"""Helpers shared by the black-box integration tests, scripts/bench and
scripts/flood: the stack's environment, HTTP (requests), the database
(PyMySQL), the service's log, its mail and the plain sign-up of a work
account.  The partner-programme world built on them (enrolments, providers,
relationships, customers) is in world.py; the pytest fixtures and the order
of the tests are in conftest.py.

The tests talk to a running stack (see scripts/stack) through nginx and read
its database and log directly.  Everything is configured by environment
variables, as set by scripts/test:

    TWOTIER_TEST_DIR    the stack directory (DIR of `scripts/stack up DIR PORT`)
    TWOTIER_TEST_PORT   nginx's port on 127.0.0.1
    TWOTIER_REPO        the repository (for scripts/stack)
    plus the exports of `scripts/stack env DIR` (TWOTIER_DB_SOCKET,
    TWOTIER_DB_USER, TWOTIER_DB_PASSWORD, TWOTIER_DB_NAME, TWOTIER_CONF,
    TWOTIER_FCGI_BIN, TWOTIER_ADMIN_BIN, TWOTIER_OPERATOR_EMAIL, ...).

Conventions for test files (tests/integration/test_*.py, run by pytest):
  * tests run in file-name order, then class and method definition order;
  * a class with ``RUN_LAST = True`` runs after every other class of every
    file (use it for tests that stop or restart parts of the stack, so that
    a failure there does not cascade into other tests); conftest.py's
    pytest_collection_modifyitems does the ordering;
  * tests that break the stack must restore it in ``finally``;
  * a test file imports helpers from harness.py and world.py, never from
    another test file.
"""

import base64
import collections
import hashlib
import hmac
import json
import os
import random
import re
import secrets
import shlex
import subprocess
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.header import decode_header, make_header
from types import SimpleNamespace

import pymysql
import requests
import urllib3
from requests.adapters import HTTPAdapter

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
                           "scripts/test, or pytest with the stack env)" % name)
    return value


def use_stack(directory, port, repo_dir):
    """Points these helpers at the stack in DIRECTORY on PORT, for scripts
    that are not run by scripts/test (scripts/bench, scripts/flood): puts
    the exports of `scripts/stack env DIRECTORY` and TWOTIER_TEST_DIR,
    TWOTIER_TEST_PORT and TWOTIER_REPO into os.environ (and so into the
    environment of what the script starts)."""
    p = subprocess.run([os.path.join(repo_dir, "scripts", "stack"), "env", directory],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                       timeout=60)
    if p.returncode != 0:
        raise RuntimeError("scripts/stack env %s failed: %s" % (directory, p.stderr))
    for line in p.stdout.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, value = words[1].split("=", 1)
            os.environ[name] = value
    os.environ.update(TWOTIER_TEST_DIR=directory, TWOTIER_TEST_PORT=str(port),
                      TWOTIER_REPO=repo_dir)


def stack_dir():
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
    return os.path.join(stack_dir(), "run", "twotier-fcgi.pid")


def fcgi_log_file():
    return os.path.join(stack_dir(), "log", "twotier-fcgi.log")


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


class _Connection(urllib3.connection.HTTPConnection):
    """The server may answer (e.g. 413) and stop reading before the whole
    body is sent; its answer is still there to read, so a reset while
    sending is not an error (urllib3 itself lets only a broken pipe pass)."""

    def request(self, *args, **kw):
        try:
            super().request(*args, **kw)
        except (BrokenPipeError, ConnectionResetError):
            pass


class _Pool(urllib3.HTTPConnectionPool):
    ConnectionCls = _Connection


class _Adapter(HTTPAdapter):
    """requests' adapter with connections of _Connection, made from the
    local address SOURCE when given."""

    def __init__(self, source=None):
        self.source = source
        super().__init__(max_retries=0)

    def init_poolmanager(self, connections, maxsize, block=False, **kw):
        if self.source:
            kw["source_address"] = (self.source, 0)
        super().init_poolmanager(connections, maxsize, block, **kw)
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool}


def session(source=None):
    """A requests session for the stack: no proxies or .netrc from the
    environment, no redirects followed, no default headers but
    Accept-Encoding: identity (the bodies arrive as the server wrote them),
    connections from SOURCE when given."""
    s = requests.Session()
    s.trust_env = False
    s.max_redirects = 0
    s.headers.clear()
    s.headers["Accept-Encoding"] = "identity"
    s.mount("http://", _Adapter(source))
    return s


def api(method, path, body=None, headers=None, raw=None, timeout=60, retry_busy=True,
        source=None, base=None):
    """Sends one request through nginx on a new connection (a requests
    session of its own, closed afterwards).

    retry_busy: a 503 that says every password-hashing slot is in use
          (code password_slots_busy, Retry-After 1) is sent again after a
          short pause, as a client that honours Retry-After would, so that
          tests running many sign-ins at once see their real outcome; give
          False to see the 503 itself.
    source: the local address to connect from ("127.0.0.2"), to be
          another client for nginx's per-address limits.
    base: where to send it instead of the stack's nginx: another web
          server in front of the service, with its mount if any
          ("http://127.0.0.1:18120/api").

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
        r = _api_once(method, (base or base_url()) + path, data, hdrs, timeout, source)
        if not (retry_busy and r.status == 503 and isinstance(r.body, dict)
                and r.body.get("code") == "password_slots_busy"):
            return r
        time.sleep(0.01 + random.random() * 0.04)
    return r


def _api_once(method, url, data, hdrs, timeout, source):
    with session(source) as s:
        prepared = s.prepare_request(requests.Request(method, url, data=data, headers=hdrs))
        prepared.url = url  # the path as given, not re-quoted
        resp = s.send(prepared, timeout=timeout, allow_redirects=False)
        payload = resp.content
        out = {name.lower(): value for name, value in resp.headers.items()}
        ctype = out.get("content-type", "")
        parsed = payload.decode("utf-8", errors="replace")
        if "json" in ctype.lower() and payload:
            try:
                parsed = json.loads(payload.decode("utf-8"))
            except ValueError:
                pass
        r = Response(resp.status_code, out, parsed)
        r.raw = payload
        return r


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


def verify_signup(token, source=None):
    return api("POST", "/v1/signup-verifications", body={"token": token}, source=source)


def signup(domain=None, source=None, **kw):
    """A whole sign-up: POST /v1/tenants, the mailed link, then POST
    /v1/signup-verifications; returns (the verification's Response, 201
    with the tenant, and the sign-up's request body)."""
    body = signup_body(domain, **kw)
    email = body["admin"]["email"].lower()
    # counted before the request: its mail may be there before it answers
    before = len([m for m in mails_to(email) if "/verify-signup" in m.body])
    r = api("POST", "/v1/tenants", body=body, source=source)
    if r.status != 202:
        return r, body
    return verify_signup(signup_link(email, before + 1), source), body


# ------------------------------------------- tenants, users and tokens

def bearer(token, **extra):
    h = {"Authorization": "Bearer " + token}
    h.update(extra)
    return h


def sign_in(username, password, source=None):
    return api("POST", "/v1/auth/token", body={"username": username, "password": password},
               source=source)


def access_token(username, password, source=None):
    r = sign_in(username, password, source)
    if r.status != 200:
        raise AssertionError("sign-in of %s failed: %r" % (username, r))
    return r.body["accessToken"]


def new_tenant(domain=None, source=None, **kw):
    """Signs up a tenant (signup_body's KW: password, display_name, ...)
    and signs its admin in (from SOURCE when given)."""
    r, body = signup(domain, source, **kw)
    if r.status != 201:
        raise AssertionError("sign-up failed: %r" % (r,))
    t = SimpleNamespace(id=r.body["id"], admin_id=r.body["admin"]["id"], domain=body["domain"],
                        email=body["admin"]["email"], password=body["admin"]["password"],
                        signup_rid=r.headers.get("x-request-id"))
    t.token = access_token(t.email, t.password, source)
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

def connect(user=None, timeout=60, database=None):
    """A PyMySQL connection over the stack's socket to its database (or
    DATABASE), autocommit: as the app's user (TWOTIER_DB_USER), or as USER
    ("root": unix socket authentication, the tests run as root).  Values
    come back as MariaDB's text ("1", "2026-01-02 03:04:05.000000"), None
    for NULL, bytes for binary columns."""
    kw = {}
    if user is None:
        user = env("TWOTIER_DB_USER")
        kw["password"] = env("TWOTIER_DB_PASSWORD")
    # conv: PyMySQL's encoders for the parameters, no decoders for the results
    return pymysql.connect(unix_socket=env("TWOTIER_DB_SOCKET"), user=user,
                           database=database or env("TWOTIER_DB_NAME"), charset="utf8mb4",
                           conv=dict(pymysql.converters.encoders), autocommit=True,
                           connect_timeout=timeout, read_timeout=timeout, write_timeout=timeout,
                           **kw)


def _text(value):
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


def sql(query, params=None, timeout=60, user=None, database=None):
    """Runs QUERY with PARAMS (a tuple for its %s placeholders; a literal %
    is then written %%) on a new connection as the app's database user (or
    USER, in DATABASE); returns the rows as lists of strings, None for
    NULL."""
    conn = connect(user, timeout, database)
    try:
        with conn.cursor() as cur:
            cur.execute(query, params)
            return [[_text(v) for v in row] for row in cur.fetchall()]
    finally:
        conn.close()


def root_sql(query, params=None, database=None):
    """Runs QUERY as MariaDB's root (unix_socket authentication: the tests
    run as root), for what the app's user may not do; returns the rows."""
    return sql(query, params, user="root", database=database)


def root_sql_value(query, params=None):
    """The single value of a one-row, one-column query run as MariaDB's root,
    for what the app's user may not read (information_schema.INNODB_TRX)."""
    return sql_value(query, params, user="root")


def sql_value(query, params=None, user=None):
    """The single value of a one-row, one-column query."""
    rows = sql(query, params, user=user)
    if len(rows) != 1 or len(rows[0]) != 1:
        raise AssertionError("expected one value from %r %r, got %r" % (query, params, rows))
    return rows[0][0]


def table_counts(*tables):
    """{table: row count} for the given tables (names, not values: checked
    to be plain identifiers)."""
    for t in tables:
        if not re.fullmatch(r"[a-z_]+", t):
            raise ValueError("not a table name: %r" % (t,))
    return {t: int(sql_value("SELECT COUNT(*) FROM `%s`" % t)) for t in tables}


# ------------------------------------------------------------------ stack

def stack(cmd, check=True, timeout=180, env_extra=None):
    """Runs `scripts/stack CMD DIR` (with --sanitize for fcgi-start), with
    ENV_EXTRA added to the environment (for fcgi-start: the service's);
    returns the CompletedProcess (raises on failure when CHECK)."""
    args = [os.path.join(repo(), "scripts", "stack"), cmd, stack_dir()]
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


def restart_service(env_extra=None):
    """Stops twotier-fcgi and starts it again, with ENV_EXTRA added to its
    environment (none: as scripts/stack starts it); waits until it is
    ready."""
    stack("fcgi-stop")
    stack("fcgi-start", env_extra=env_extra or {})
    wait_ready()


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


_mails = {}  # path -> Mail: a delivered .eml never changes (written, then renamed)


def mails_to(address):
    """Every delivered mail (mail_dir/*.eml) to ADDRESS, oldest first."""
    out = []
    for name in sorted(os.listdir(mail_dir())):
        if not name.endswith(".eml"):
            continue
        path = os.path.join(mail_dir(), name)
        m = _mails.get(path)
        if m is None:
            m = _mails[path] = read_mail(path)
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


# ------------------------------------------------------------- JWT forging
# Tokens forged with the stack's own keys (scripts/stack env):
# TWOTIER_JWT_PRIVATE_KEY_FILE (ES256, our issuer "twotier-local") and
# TWOTIER_IDP_PRIVATE_KEY_FILE (RS256, the stand-in external provider
# TWOTIER_IDP_ISSUER); signing uses the openssl command line.

OUR_ISSUER = "twotier-local"


AUDIENCE = "twotier-api"


DROP = object()   # claims_for(...): leave this claim out


def b64u(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_json(obj):
    return b64u(json.dumps(obj, separators=(",", ":")))


def b64u_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def openssl_sign(keyfile, data):
    """`openssl dgst -sha256 -sign`: DER for EC keys, raw PKCS#1 v1.5 for RSA."""
    p = subprocess.run(["openssl", "dgst", "-sha256", "-sign", keyfile], input=data,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    if p.returncode != 0:
        raise RuntimeError("openssl dgst -sign failed: %s" % p.stderr.decode(errors="replace"))
    return p.stdout


def der_len(der, i):
    """(length, index after the length octets) of the DER length at i."""
    first = der[i]
    if first < 0x80:
        return first, i + 1
    n = first & 0x7F
    return int.from_bytes(der[i + 1:i + 1 + n], "big"), i + 1 + n


def ecdsa_der_to_raw(der):
    """DER SEQUENCE {INTEGER r, INTEGER s} -> r || s, 32 bytes each."""
    if der[0] != 0x30:
        raise ValueError("not a DER SEQUENCE")
    _, i = der_len(der, 1)
    out = b""
    for _ in range(2):
        if der[i] != 0x02:
            raise ValueError("not a DER INTEGER")
        n, i = der_len(der, i + 1)
        value = der[i:i + n].lstrip(b"\0")
        i += n
        if len(value) > 32:
            raise ValueError("integer too long for P-256")
        out += value.rjust(32, b"\0")
    return out


def ecdsa_raw_to_der(raw):
    def integer(b):
        b = b.lstrip(b"\0") or b"\0"
        if b[0] & 0x80:
            b = b"\0" + b
        return b"\x02" + bytes([len(b)]) + b
    body = integer(raw[:32]) + integer(raw[32:])
    return b"\x30" + bytes([len(body)]) + body


P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def high_s_twin(raw):
    """The other valid ECDSA signature (r, n - s) of the same input."""
    s = int.from_bytes(raw[32:], "big")
    return raw[:32] + (P256_N - s).to_bytes(32, "big")


def sign(alg, signing_input, key=None):
    """The JWS signature bytes of SIGNING_INPUT (bytes); ES256 in its low-S
    form, the only one the service takes."""
    if alg == "ES256":
        raw = ecdsa_der_to_raw(openssl_sign(key or env("TWOTIER_JWT_PRIVATE_KEY_FILE"),
                                            signing_input))
        if int.from_bytes(raw[32:], "big") > P256_N // 2:
            raw = high_s_twin(raw)
        return raw
    if alg == "RS256":
        return openssl_sign(key or env("TWOTIER_IDP_PRIVATE_KEY_FILE"), signing_input)
    if alg == "HS256":
        return hmac.new(key, signing_input, hashlib.sha256).digest()
    raise ValueError(alg)


def make_jwt(claims, alg="ES256", key=None, header=None):
    """A compact JWS of CLAIMS signed with ALG (ES256: our key, RS256: the
    IdP's key, HS256: KEY as the secret); HEADER overrides the header."""
    hdr = {"alg": alg, "typ": "JWT"} if header is None else header
    signing_input = (b64u_json(hdr) + "." + b64u_json(claims)).encode("ascii")
    return signing_input.decode("ascii") + "." + b64u(sign(alg, signing_input, key))


def jwt_parts(token):
    h, p, s = token.split(".")
    return json.loads(b64u_decode(h)), json.loads(b64u_decode(p)), b64u_decode(s)


def claims_for(user_id, tenant_id, **over):
    """Valid claims of our issuer for a user; OVER replaces claims (DROP
    removes one)."""
    now = int(time.time())
    c = {"iss": OUR_ISSUER, "aud": AUDIENCE, "sub": user_id, "tid": tenant_id,
         "roles": ["global_admin", "admin_agent"], "iat": now, "nbf": now, "exp": now + 300,
         "jti": str(uuid.uuid4())}
    c.update(over)
    return {k: v for k, v in c.items() if v is not DROP}


def public_key_point():
    """(x, y) of our ES256 public key, 32 bytes each."""
    p = subprocess.run(["openssl", "pkey", "-pubin", "-in", env("TWOTIER_JWT_PUBLIC_KEY_FILE"),
                        "-outform", "DER"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30, check=True)
    point = p.stdout[-65:]
    assert point[0] == 4, "not an uncompressed P-256 point"
    return point[1:33], point[33:]


def es256_verifies(token):
    """True when openssl verifies TOKEN's ES256 signature with our public key."""
    h, p, s = token.split(".")
    with tempfile.NamedTemporaryFile(suffix=".sig") as f:
        f.write(ecdsa_raw_to_der(b64u_decode(s)))
        f.flush()
        r = subprocess.run(["openssl", "dgst", "-sha256", "-verify",
                            env("TWOTIER_JWT_PUBLIC_KEY_FILE"), "-signature", f.name],
                           input=(h + "." + p).encode(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
    return r.returncode == 0 and b"Verified OK" in r.stdout
