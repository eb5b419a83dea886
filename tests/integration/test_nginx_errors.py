"""nginx's own error answers are RFC 9457 problems, like the app's: a
request nginx refuses itself (a malformed request line or header, a
duplicate Authorization, %00 in the path, TRACE, a request line or headers
over its buffers, an unknown transfer coding, another HTTP version,
/metrics from another address) gets application/problem+json with a type
under PROBLEM_TYPE_BASE, title, detail, status and requestId equal to the
X-Request-Id header (nginx's $request_id), never nginx's HTML page; the
app's own problems still pass through unchanged.

Most of these requests cannot be sent with http.client (it will not send
two Authorization headers, a malformed request line or header), so they
are written to a socket as they are.  nginx refuses all of them before
the app sees them: no line of the app's log carries their request id."""
import http.client
import json
import socket
import unittest

from harness import (NGINX_REQUEST_ID_RE, Response, api, assert_problem, log_lines, log_offset,
                     port, wait_log)

HOST = b"Host: localhost\r\n"
CLOSE = b"Connection: close\r\n"


def raw_request(data, timeout=15):
    """Writes DATA (bytes: a whole request, or what should pass for one) to
    a new connection to nginx and returns its answer (see send_raw)."""
    s = socket.create_connection(("127.0.0.1", port()), timeout=timeout)
    try:
        return send_raw(s, data)
    finally:
        s.close()


def send_raw(s, data):
    """Writes DATA to socket S, reads until nginx closes the connection and
    returns the answer as a Response (header names in lower case, repeated
    headers joined with ", ", body parsed when it is JSON)."""
    got = b""
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # nginx may answer and stop reading before all is sent
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break  # what was read before the reset is the answer
        if not chunk:
            break
        got += chunk
    head, sep, payload = got.partition(b"\r\n\r\n")
    if not sep:
        raise AssertionError("no HTTP response to %r...: %r" % (data[:80], got[:500]))
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise AssertionError("bad status line %r in answer to %r..." % (lines[0], data[:80]))
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        value = value.strip()
        headers[key] = headers[key] + ", " + value if key in headers else value
    if "content-length" in headers:
        payload = payload[:int(headers["content-length"])]
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        payload = dechunk(payload)
    body = payload.decode("utf-8", errors="replace")
    if "json" in headers.get("content-type", "").lower() and payload:
        try:
            body = json.loads(payload.decode("utf-8"))
        except ValueError:
            pass
    r = Response(int(parts[1]), headers, body)
    r.raw = payload
    return r


def dechunk(data):
    """The body of a chunked message body DATA."""
    out = b""
    while data:
        size, _, rest = data.partition(b"\r\n")
        n = int(size.split(b";")[0].strip() or b"0", 16)
        if n == 0:
            break
        out += rest[:n]
        data = rest[n + 2:]
    return out


def get(path=b"/healthz", headers=b"", method=b"GET", version=b"HTTP/1.1"):
    """A request with Host and Connection: close besides HEADERS (bytes,
    each line ending in CRLF)."""
    return method + b" " + path + b" " + version + b"\r\n" + HOST + CLOSE + headers + b"\r\n"


class NginxProblemCase(unittest.TestCase):

    def assertNginxProblem(self, resp, status, slug, since):
        """RESP is nginx's own problem STATUS/SLUG, with nginx's request id
        both in X-Request-Id and in requestId, for a request the app never
        saw (nothing it logged since offset SINCE carries that id)."""
        body = assert_problem(resp, status, slug, from_app=False)
        rid = resp.headers.get("x-request-id")
        self.assertIn("requestId", body, resp)
        self.assertEqual(body["requestId"], rid, resp)
        self.assertRegex(rid, NGINX_REQUEST_ID_RE, resp)
        self.assertNotIn("<html", str(resp.body).lower(), resp)
        seen = [l for l in log_lines(since) if l.get("requestId") == rid]
        self.assertEqual(seen, [], "the app logged the request nginx refused: %r" % seen)
        return body

    def expect(self, data, status, slug):
        since = log_offset()
        return self.assertNginxProblem(raw_request(data), status, slug, since)


class TestMalformedRequests(NginxProblemCase):
    """400 malformed-request, whether nginx refused the request line (before
    it has a URI or a location), a header, or the body."""

    def test_duplicate_authorization_400(self):
        self.expect(get(b"/v1/me", b"Authorization: Bearer a\r\nAuthorization: Bearer b\r\n"),
                    400, "malformed-request")

    def test_nul_in_path_400(self):
        self.expect(get(b"/v1/%00"), 400, "malformed-request")
        self.expect(get(b"/v1/me%00.json", method=b"POST"), 400, "malformed-request")

    def test_path_above_the_root_400(self):
        self.expect(get(b"/../../etc/passwd"), 400, "malformed-request")

    def test_malformed_request_line_400(self):
        for line in (b"G@T / HTTP/1.1\r\n" + HOST + CLOSE + b"\r\n",
                     b"\x01\x02 junk\r\n\r\n",
                     b"GET  HTTP/1.1\r\n" + HOST + CLOSE + b"\r\n"):
            with self.subTest(line=line[:20]):
                self.expect(line, 400, "malformed-request")

    def test_malformed_headers_400(self):
        cases = {
            "no Host": b"GET /healthz HTTP/1.1\r\n" + CLOSE + b"\r\n",
            "two Hosts": get(headers=b"Host: other.example\r\n"),
            "bad Host": b"GET /healthz HTTP/1.1\r\nHost: a/b\r\n" + CLOSE + b"\r\n",
            "control byte in a header": get(headers=b"X\x01Y: z\r\n"),
            "bad Content-Length": get(b"/v1/tenants", b"Content-Length: abc\r\n", b"POST"),
            "Content-Length with chunked": get(
                b"/v1/tenants", b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                b"POST") + b"0\r\n\r\n",
        }
        for name, data in cases.items():
            with self.subTest(name):
                self.expect(data, 400, "malformed-request")

    def test_malformed_chunked_body_400(self):
        # refused in location / while nginx reads the body
        self.expect(get(b"/v1/tenants", b"Content-Type: application/json\r\n"
                        b"Transfer-Encoding: chunked\r\n", b"POST") + b"zz\r\n{}\r\n0\r\n\r\n",
                    400, "malformed-request")


class TestRefusedRequests(NginxProblemCase):

    def test_trace_405(self):
        body = self.expect(get(b"/v1/me", method=b"TRACE"), 405, "method-not-allowed")
        self.assertIn("TRACE", body["detail"])

    def test_request_line_over_16_kib_414(self):
        self.expect(get(b"/v1/" + b"a" * 17000), 414, "uri-too-long")

    def test_request_line_under_16_kib_reaches_the_app(self):
        r = raw_request(get(b"/v1/" + b"a" * 15000))
        assert_problem(r, 404, "not-found")

    def test_header_line_over_16_kib_431(self):
        self.expect(get(headers=b"X-Big: " + b"a" * 17000 + b"\r\n"), 431, "header-too-large")

    def test_headers_beyond_the_buffers_431(self):
        # each fits in a 16 KiB buffer, but the four buffers hold four of them
        many = b"".join(b"X-Big-%d: %s\r\n" % (i, b"a" * 10000) for i in range(6))
        self.expect(get(headers=many), 431, "header-too-large")

    def test_head_with_headers_too_large_431_without_body(self):
        since = log_offset()
        r = raw_request(get(method=b"HEAD", headers=b"X-Big: " + b"a" * 17000 + b"\r\n"))
        self.assertEqual(r.status, 431, r)
        self.assertEqual(r.headers.get("content-type"), "application/problem+json", r)
        self.assertRegex(r.headers.get("x-request-id", ""), NGINX_REQUEST_ID_RE, r)
        self.assertEqual(r.raw, b"", r)
        self.assertEqual([l for l in log_lines(since)
                          if l.get("requestId") == r.headers.get("x-request-id")], [])

    def test_unknown_transfer_coding_501(self):
        self.expect(get(b"/v1/tenants", b"Transfer-Encoding: gzip\r\n", b"POST"),
                    501, "not-implemented")

    def test_other_http_version_505(self):
        self.expect(get(version=b"HTTP/2.0"), 505, "http-version-not-supported")

    def test_metrics_from_another_address_403(self):
        since = log_offset()
        r = api("GET", "/metrics", source="127.0.0.2")
        self.assertNginxProblem(r, 403, "forbidden", since)
        # the local scraper still gets them
        self.assertEqual(api("GET", "/metrics").status, 200)

    def test_nginx_problem_uris_are_not_reachable_404(self):
        for path in ("/_twotier/problem/malformed-request", "/_twotier/problem/uri-too-long",
                     "/_twotier/problem/http-version-not-supported"):
            for method in ("GET", "POST"):
                with self.subTest(path=path, method=method):
                    since = log_offset()
                    r = api(method, path)
                    self.assertNginxProblem(r, 404, "not-found", since)

    def test_keep_alive_connection_then_refused_request(self):
        # a good request on a kept connection, then one nginx refuses: the
        # first is the app's, the second nginx's problem, then it closes
        conn = http.client.HTTPConnection("127.0.0.1", port(), timeout=15)
        try:
            conn.request("GET", "/healthz")
            r = conn.getresponse()
            r.read()
            self.assertEqual(r.status, 200)
            since = log_offset()
            r = send_raw(conn.sock, b"GET /v1/%00 HTTP/1.1\r\n" + HOST + b"\r\n")
            self.assertNginxProblem(r, 400, "malformed-request", since)
        finally:
            conn.close()


class TestAppProblemsPassThrough(unittest.TestCase):
    """error_page applies to nginx's own answers only: the app's problems
    of the same statuses reach the client as the app wrote them."""

    def test_app_405_keeps_its_allow_header(self):
        r = api("DELETE", "/healthz")
        body = assert_problem(r, 405, "method-not-allowed")
        self.assertIn("GET", r.headers.get("allow", ""), r)
        self.assertIn("allowed:", body["detail"], r)

    def test_app_400_keeps_its_detail(self):
        r = api("GET", "/healthz", raw=b"{}", headers={"Content-Type": "application/json"})
        body = assert_problem(r, 400, "malformed-request")
        self.assertIn("takes no body", body["detail"], r)

    def test_app_404_is_the_apps(self):
        since = log_offset()
        r = api("GET", "/no/such/path")
        assert_problem(r, 404, "not-found")
        rid = r.headers.get("x-request-id")
        # the check the nginx problems above rely on: the app logs what it sees
        self.assertIsNotNone(wait_log(lambda l: l.get("requestId") == rid, since),
                             "the app did not log %s" % rid)
