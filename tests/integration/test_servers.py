"""The service behind each of the three web servers, configured from the
shipped snippets: nginx (the stack's, nginx/twotier.conf), Apache httpd 2.4
(apache/twotier.conf, mod_proxy_fcgi) and lighttpd 1.4
(lighttpd/twotier.conf, mod_fastcgi), Debian's packages, each started here
on loopback ports of its own (TWOTIER_TEST_PORT + 20 to + 27), its
configuration and logs in a folder under TWOTIER_TEST_DIR.  Each server
serves three front ends:

  root   the API at the root, on the stack's twotier-fcgi (nginx: the
         stack's own server)
  mount  the API below /api/, on a second twotier-fcgi of this module with
         base_path = /api (nginx: nginx/twotier-api.conf, which make
         writes from the root snippet)
  down   the API at the root on a socket nobody serves: the app stopped

Through each: a signed-in flow with bodies, idempotency, ETags and
delegation; the app's 401/403/404/405/412/413/415/428 problems passed as
they are; the probes of issue 17 (an 8 KiB token and a 9,000-byte URI reach
the app, a 2 MB body is the server's 413 problem and never reaches it, the
app down is a 503 problem, a Range gets 200) and /metrics kept to 127.0.0.1
and ::1 (127.0.0.5 is local too, and refused); the console's pages (each
path of console/js/routes.js is index.html) and files (/console/..., their
types) with nginx's headers, at / and below /api/, every other path still
the app's.  The snippets name /usr/share/twotier/console: servers.py's
copies the repository's console/.  The worlds are made through
the stack's nginx (world.py); only the requests under test go through the
server under test."""
import http.client
import json
import os
import re
import time

import pytest

import harness
import world
from harness import assert_problem, bearer, env, log_lines, log_offset, new_user, user_body
from servers import Servers

SERVERS = ("nginx", "apache", "lighttpd")
# a second loopback address: local, but not the scrapers' 127.0.0.1
OTHER = "127.0.0.5"
TOKEN_8K = "a" * 8192


def offset(n):
    return harness.port() + 20 + n


# the ports of each server's front ends (nginx's root is the stack's)
PORTS = {
    "apache": {"root": 0, "mount": 1, "down": 2},
    "lighttpd": {"root": 3, "mount": 4, "down": 5},
    "nginx": {"mount": 6, "down": 7},
}


def origin(server, kind="root"):
    """The scheme, address and port of SERVER's front end KIND (root,
    mount, down)."""
    if server == "nginx" and kind == "root":
        return harness.base_url()
    return "http://127.0.0.1:%d" % offset(PORTS[server][kind])


def front(server, kind="root"):
    """The base URL of the API at SERVER's front end KIND."""
    return origin(server, kind) + ("/api" if kind == "mount" else "")


def call(server, method, path, kind="root", **kw):
    return harness.api(method, path, base=front(server, kind), **kw)


def post_chunked(server, path, data, headers):
    """POST DATA to the root front end of SERVER as a chunked body (no
    Content-Length): a Response."""
    conn = http.client.HTTPConnection(origin(server)[len("http://"):], timeout=60)
    try:
        try:
            conn.request("POST", path, body=iter([data]), headers=headers,
                         encode_chunked=True)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered before the whole body was read: the answer is there
        resp = conn.getresponse()
        payload = resp.read()
        out = {k.lower(): v for k, v in resp.getheaders()}
        body = json.loads(payload) if "json" in out.get("content-type", "") else payload
        return harness.Response(resp.status, out, body)
    finally:
        conn.close()


# ------------------------------------------------------------------ processes

@pytest.fixture(scope="module", autouse=True)
def fronts():
    """The servers and the mount's twotier-fcgi (base_path = /api, its
    socket www-data's) in a folder under TWOTIER_TEST_DIR (servers.py)."""
    s = Servers(env("TWOTIER_TEST_DIR"))
    try:
        mount, nobody = s.path("api.sock"), s.path("nobody.sock")
        with open(env("TWOTIER_CONF")) as f:
            lines = [l for l in f.read().splitlines()
                     if not l.startswith(("listen", "mail_sender", "socket_"))]
        s.start("twotier-fcgi", [env("TWOTIER_FCGI_BIN"), "-c", s.write("api.conf", "\n".join(
            lines + ["listen = unix:" + mount, "socket_group = www-data", "mail_sender = false",
                     "base_path = /api"]) + "\n")])
        socks = {"root": (env("TWOTIER_FCGI_SOCKET"), "/"), "mount": (mount, "/api/"),
                 "down": (nobody, "/")}

        def fronts_of(server):
            return [(offset(PORTS[server][kind]), sock, where)
                    for kind, (sock, where) in socks.items() if kind in PORTS[server]]
        s.apache(fronts_of("apache"))
        for port, sock, where in fronts_of("lighttpd"):
            s.lighttpd("lighttpd-%d" % port, port, sock, where)
        s.nginx(fronts_of("nginx"))
        for server in SERVERS:
            for kind in ("root", "mount"):
                s.wait(front(server, kind) + "/healthz")
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def admin():
    return harness.new_tenant()


@pytest.fixture(scope="module")
def delegation():
    """(provider, reseller): the provider's admin agents act for the
    reseller (world.related)."""
    provider, reseller, _ = world.related()
    return provider, reseller


def by_server(f):
    return pytest.mark.parametrize("server", SERVERS)(f)


def server_problem(resp, status, slug):
    """RESP is the web server's own problem (not the app's): with
    requestId equal to X-Request-Id where it carries one."""
    body = assert_problem(resp, status, slug, from_app=False)
    assert "<html" not in str(resp.body).lower(), resp
    return body


# ----------------------------------------------------------------- the API

@by_server
def test_signed_in_flow_with_bodies_and_etags(server, admin):
    r = call(server, "GET", "/v1/me", headers=admin.auth)
    assert (r.status, r.body["userId"]) == (200, admin.admin_id), r
    body = user_body(admin, ["sales_agent"])
    r = call(server, "POST", "/v1/users", body=body, headers=admin.auth)
    assert r.status == 201, r
    user = r.body
    assert r.headers["location"] == "/v1/users/" + user["id"]
    r = call(server, "GET", r.headers["location"], headers=admin.auth)
    assert (r.status, r.body["email"]) == (200, body["email"]), r
    change = {"roles": ["helpdesk_agent"]}
    path = "/v1/users/" + user["id"]
    assert_problem(call(server, "PATCH", path, body=change, headers=admin.auth), 428,
                   "precondition-required")
    assert_problem(call(server, "PATCH", path, body=change,
                        headers=bearer(admin.token, **{"If-Match": '"v0"'})), 412,
                   "precondition-failed")
    r = call(server, "PATCH", path, body=change,
             headers=bearer(admin.token, **{"If-Match": user["etag"]}))
    assert (r.status, r.body["roles"]) == (200, ["helpdesk_agent"]), r


@by_server
def test_idempotency_key_replays(server, admin):
    body = user_body(admin, ["sales_agent"])
    h = bearer(admin.token, **{"Idempotency-Key": "servers-%s-%s" % (server, body["email"])})
    first = call(server, "POST", "/v1/users", body=body, headers=h)
    assert first.status == 201, first
    again = call(server, "POST", "/v1/users", body=body, headers=h)
    assert (again.status, again.headers.get("idempotent-replayed")) == (201, "true"), again
    assert again.body["id"] == first.body["id"]


@by_server
def test_delegated_access(server, delegation):
    provider, reseller = delegation
    r = call(server, "GET", "/v1/profiles/organization", headers=world.as_(provider, reseller))
    assert (r.status, r.body["id"]) == (200, reseller.id), r


@by_server
def test_the_apps_problems_pass_through(server, admin):
    agent = new_user(admin, ["sales_agent"])
    agent_auth = bearer(harness.access_token(agent.email, agent.password))
    cases = [
        (401, "unauthenticated", ("GET", "/v1/me"), {}),
        (403, "forbidden", ("POST", "/v1/users"), {"body": user_body(admin, ["sales_agent"]),
                                                    "headers": agent_auth}),
        (404, "not-found", ("GET", "/v1/no-such-thing"), {}),
        (405, "method-not-allowed", ("DELETE", "/healthz"), {}),
        # over the app's body_limit (64 KiB), under the servers' 1 MiB
        (413, "payload-too-large", ("POST", "/v1/users"),
         {"raw": b"{" + b" " * 70000 + b"}", "headers": dict(
             admin.auth, **{"Content-Type": "application/json"})}),
        (415, "unsupported-media-type", ("POST", "/v1/users"),
         {"raw": b"{}", "headers": dict(admin.auth, **{"Content-Type": "text/plain"})}),
    ]
    for status, slug, (method, path), kw in cases:
        assert_problem(call(server, method, path, **kw), status, slug)
    assert "www-authenticate" in call(server, "GET", "/v1/me").headers


# -------------------------------------------------------------- the probes

@by_server
def test_8_kib_token_reaches_the_app(server):
    r = call(server, "GET", "/v1/me", headers=bearer(TOKEN_8K))
    assert_problem(r, 401, "unauthenticated")


@by_server
def test_9000_byte_uri_reaches_the_app(server):
    path = "/v1/" + "a" * (9000 - 4)
    assert_problem(call(server, "GET", path), 404, "not-found")


@by_server
def test_2_mb_body_is_refused_before_the_app(server, admin):
    since = log_offset()
    r = call(server, "POST", "/v1/users", raw=b"a" * 2000000,
             headers=dict(admin.auth, **{"Content-Type": "application/json"}))
    server_problem(r, 413, "payload-too-large")
    time.sleep(0.2)
    assert [l for l in log_lines(since) if l.get("route") == "users.create"] == []


@by_server
def test_chunked_body(server, admin):
    """nginx and lighttpd pass a chunked body with its length (they spool
    it); Apache's mod_proxy_fcgi would pass a long one without, so its
    snippet refuses chunked bodies (411)."""
    body = json.dumps(user_body(admin, ["sales_agent"])).encode()
    h = dict(admin.auth, **{"Content-Type": "application/json"})
    r = post_chunked(server, "/v1/users", body, h)
    if server == "apache":
        server_problem(r, 411, "length-required")
        return
    assert r.status == 201, r
    r = post_chunked(server, "/v1/users", b"a" * 2000000, h)
    server_problem(r, 413, "payload-too-large")


# the server's own refusals: what each answers for a header or a request
# line over its limits (lighttpd counts the two together)
OVER_LIMITS = {
    "header": {"nginx": (431, "header-too-large"), "apache": (400, "malformed-request"),
               "lighttpd": (431, "header-too-large")},
    "uri": {"nginx": (414, "uri-too-long"), "apache": (414, "uri-too-long"),
            "lighttpd": (431, "header-too-large")},
}


@by_server
def test_over_the_header_limits(server):
    status, slug = OVER_LIMITS["header"][server]
    server_problem(call(server, "GET", "/healthz", headers={"X-Big": "a" * 70000}), status,
                   slug)
    status, slug = OVER_LIMITS["uri"][server]
    server_problem(call(server, "GET", "/v1/" + "a" * 70000), status, slug)


@by_server
def test_app_down_is_a_503_problem(server, admin):
    r = call(server, "GET", "/v1/me", kind="down", headers=admin.auth)
    server_problem(r, 503, "service-unavailable")


@by_server
def test_range_gets_the_whole_json(server):
    r = call(server, "GET", "/v1/regions", headers={"Range": "bytes=0-5"})
    assert r.status == 200, r
    assert "content-range" not in r.headers
    assert isinstance(r.body, dict) and r.body["items"], r


@by_server
def test_metrics_only_from_127_0_0_1(server):
    r = call(server, "GET", "/metrics")
    assert r.status == 200 and "twotier_http_requests_total" in r.body, r
    server_problem(call(server, "GET", "/metrics", source=OTHER), 403, "forbidden")


# ---------------------------------------------------------------- the mount

@by_server
def test_mounted_below_api(server, admin):
    assert call(server, "GET", "/healthz", kind="mount").status == 200
    r = call(server, "POST", "/v1/auth/token", kind="mount",
             body={"username": admin.email, "password": admin.password})
    assert r.status == 200, r
    auth = bearer(r.body["accessToken"])
    body = user_body(admin, ["sales_agent"])
    h = dict(auth, **{"Idempotency-Key": "mount-%s-%s" % (server, body["email"])})
    r = call(server, "POST", "/v1/users", kind="mount", body=body, headers=h)
    assert r.status == 201, r
    location = r.headers["location"]
    assert location == "/api/v1/users/" + r.body["id"], r
    again = call(server, "POST", "/v1/users", kind="mount", body=body, headers=h)
    assert (again.status, again.headers["location"]) == (201, location), again
    # the Location is the path on the server: it is followed as it is
    r = harness.api("GET", location, base=origin(server, "mount"), headers=auth)
    assert (r.status, r.body["email"]) == (200, body["email"]), r
    r = call(server, "GET", "/v1/users?limit=1", kind="mount", headers=auth)
    assert r.status == 200 and r.body["links"]["next"].startswith("/api/v1/users?limit=1&"), r
    assert call(server, "GET", "/metrics", kind="mount").status == 200
    server_problem(call(server, "GET", "/metrics", kind="mount", source=OTHER), 403,
                   "forbidden")


# -------------------------------------------------------------- the console

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
# every answer of the console's, a page's or a file's
CONSOLE_HEADERS = {"content-security-policy": CSP, "x-content-type-options": "nosniff",
                   "referrer-policy": "no-referrer", "cache-control": "no-cache"}
PAGE_HEADERS = dict(CONSOLE_HEADERS, **{"x-frame-options": "DENY",
                                        "cross-origin-opener-policy": "same-origin"})
FILE_HEADERS = dict(CONSOLE_HEADERS, **{"cross-origin-resource-policy": "same-origin"})


def raw_get(server, path, kind="root"):
    """GET PATH at SERVER's front end KIND, its body as bytes: a Response."""
    host = origin(server, kind)[len("http://"):]
    conn = http.client.HTTPConnection(host, timeout=30)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        payload = resp.read()
        return harness.Response(resp.status, {k.lower(): v for k, v in resp.getheaders()},
                                payload)
    finally:
        conn.close()


def has_headers(resp, expected):
    for name, value in expected.items():
        assert resp.headers.get(name) == value, (name, resp.status, resp.headers)


def routes():
    """The console's pages, from console/js/routes.js."""
    with open(os.path.join(harness.repo(), "console", "js", "routes.js")) as f:
        return sorted(re.findall(r"^  '(/[^']*)': \{", f.read(), re.M))


def test_the_snippets_serve_the_pages_of_routes_js():
    """Each snippet's list of pages is routes.js's (nginx's is checked in
    tests/browser too)."""
    def listed(path, pattern):
        with open(os.path.join(harness.repo(), path)) as f:
            return sorted("/" + p for p in re.search(pattern, f.read()).group(1).split("|"))
    assert listed("nginx/twotier.conf", r"location ~ \^/\(([^)]*)\)\$") == routes()
    assert listed("apache/twotier.conf", r'RewriteRule "\^\$\{TWOTIER_MOUNT\}\(([^)]*)\)\$"') \
        == routes()
    assert listed("lighttpd/twotier.conf",
                  r'var\.twotier_pages = "\^" \+ var\.twotier_mount \+ "\(([^)]*)\)\$"') \
        == routes()
    # and lighttpd's alias.url names each page but the welcome page (the mount)
    with open(os.path.join(harness.repo(), "lighttpd", "twotier.conf")) as f:
        aliased = re.findall(r'var\.twotier_mount \+ "([^"]+)" => var\.twotier_console \+ '
                             r'"/index\.html"', f.read())
    assert sorted("/" + p for p in aliased) == [p for p in routes() if p != "/"]


@by_server
@pytest.mark.parametrize("kind", ["root", "mount"])
def test_console_pages(server, kind):
    prefix = "/api" if kind == "mount" else ""
    with open(os.path.join(harness.repo(), "console", "index.html"), "rb") as f:
        index = f.read()
    for path in routes() + ["/verify-signup?token=x", "/sign-in?next=%2Fusers"]:
        r = raw_get(server, prefix + path, kind)
        assert r.status == 200, (path, r)
        assert r.headers["content-type"].startswith("text/html"), (path, r.headers)
        assert r.body == index, path
        has_headers(r, PAGE_HEADERS)
        assert "cross-origin-resource-policy" not in r.headers, r.headers


@by_server
@pytest.mark.parametrize("kind", ["root", "mount"])
def test_console_files(server, kind):
    prefix = "/api" if kind == "mount" else ""
    types = {"/console/js/main.js": "text/javascript", "/console/js/pages/sign-in.js":
             "text/javascript", "/console/i18n/en.js": "text/javascript",
             "/console/style.css": "text/css", "/console/favicon.svg": "image/svg+xml"}
    for path, ctype in types.items():
        r = raw_get(server, prefix + path, kind)
        assert r.status == 200, (path, r)
        assert r.headers["content-type"].split(";")[0] == ctype, (path, r.headers)
        with open(os.path.join(harness.repo(), path[1:])) as f:
            assert r.body == f.read().encode(), path
        has_headers(r, FILE_HEADERS)
        assert "x-frame-options" not in r.headers, r.headers
        # revalidated, not kept unasked
        assert "etag" in r.headers or "last-modified" in r.headers, r.headers
    r = call(server, "GET", "/console/nope.js", kind=kind)
    assert r.status == 404, r
    assert r.headers["content-type"] == "application/problem+json", r
    assert r.body["status"] == 404, r


@by_server
def test_the_api_beside_the_console(server, admin):
    """The app still has every other path: the API, the app's 404 problem
    for an unknown one (not index.html), a page's path with more after it."""
    r = call(server, "GET", "/v1/me", headers=admin.auth)
    assert (r.status, r.body["userId"]) == (200, admin.admin_id), r
    for path in ("/nope", "/v1/nope", "/sign-in/x", "/sign-inx", "/consolex/js/main.js"):
        assert_problem(call(server, "GET", path), 404, "not-found")
    assert call(server, "GET", "/healthz").status == 200
