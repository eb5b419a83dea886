"""Foundation: operations endpoints, the request pipeline (routing, bodies,
JSON, problems, request ids), sign-up, regions, metrics, the admin tool,
configuration errors, and behaviour under faults (database outage,
SIGTERM).  Black-box: through nginx, the database and the log only."""

import csv
import http.client
import json
import secrets
import os
import signal
import tempfile
import threading
import time
import unittest

from harness import (API_TIME_RE, NGINX_REQUEST_ID_RE, UUID_RE, api, assert_problem, env, fcgi_pid,
                     field_errors, log_lines, log_offset, metric_value, parallel, pid_running,
                     port, run_binary, shared_file, signup, signup_body, signup_link,
                     signup_request, sql, sql_value, stack, stack_dir, table_counts, unique_domain,
                     verify_signup, wait_log, wait_mails, wait_ready)

# (not pending_signups: the purge deletes expired ones while a test runs;
# tests check the sign-ups of their own domains)
IDENTITY_TABLES = ("tenants", "users", "audit_events", "mail_outbox")


def busy_threads(pid):
    """Threads of PID (other than the main one) that are running."""
    busy = 0
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return 0
    for tid in tids:
        if tid == str(pid):
            continue
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        busy += state == "R"
    return busy


def tenant_count(domain):
    return int(sql_value("SELECT COUNT(*) FROM tenants WHERE domain = %s", (domain,)))


def pending_count(domain):
    return int(sql_value("SELECT COUNT(*) FROM pending_signups WHERE domain = %s", (domain,)))


# ====================================================================
class TestOps(unittest.TestCase):
    """GET /healthz, /readyz, /metrics."""

    def test_healthz(self):
        r = api("GET", "/healthz")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers.get("content-type", "").split(";")[0], "application/json")
        self.assertEqual(r.body, {"status": "ok"})
        self.assertEqual(r.headers.get("cache-control"), "no-store")

    def test_readyz(self):
        r = api("GET", "/readyz")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body.get("status"), "ready", r)
        version = int(sql_value("SELECT MAX(version) FROM schema_version"))
        self.assertGreaterEqual(version, 2)
        self.assertEqual(r.body, {"status": "ready", "schemaVersion": version})

    def test_metrics(self):
        self.assertEqual(api("GET", "/healthz").status, 200)
        r = api("GET", "/metrics")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers.get("content-type", "").startswith("text/plain"), r.headers)
        text = r.body
        sample = 'twotier_http_requests_total{route="GET /healthz",status="200"}'
        self.assertIn(sample, text)
        self.assertIn("twotier_http_request_duration_seconds_bucket", text)
        self.assertIn('twotier_http_request_duration_seconds_bucket{le="+Inf"}', text)
        self.assertIn("twotier_db_reconnects_total", text)
        # the counter counts
        before = metric_value(text, sample)
        for _ in range(3):
            self.assertEqual(api("GET", "/healthz").status, 200)
        after = metric_value(api("GET", "/metrics").body, sample)
        self.assertEqual(after, before + 3)


# ====================================================================
class TestRouting(unittest.TestCase):

    def test_unknown_path_404(self):
        for path in ("/nope", "/v1/regions/extra", "/v1", "/healthz/"):
            r = api("GET", path)
            body = assert_problem(r, 404, "not-found")
            self.assertNotIn("errors", body)

    def test_query_string_is_not_part_of_the_path(self):
        r = api("GET", "/healthz?x=1")
        self.assertEqual(r.status, 200, r)

    def test_delete_regions_405(self):
        r = api("DELETE", "/v1/regions")
        assert_problem(r, 405, "method-not-allowed")
        self.assertEqual(r.headers.get("allow"), "GET")

    def test_post_healthz_405(self):
        r = api("POST", "/healthz", body={})
        assert_problem(r, 405, "method-not-allowed")
        self.assertEqual(r.headers.get("allow"), "GET")

    def test_get_tenants_405_allows_post(self):
        r = api("GET", "/v1/tenants")
        assert_problem(r, 405, "method-not-allowed")
        self.assertEqual(r.headers.get("allow"), "POST")

    def test_body_on_get_is_refused(self):
        r = api("GET", "/v1/regions", raw=b'{"a":1}', headers={"Content-Type": "application/json"})
        assert_problem(r, 400, "malformed-request")


# ====================================================================
class TestBodies(unittest.TestCase):
    """Body size, media type and JSON checks on POST /v1/tenants."""

    def setUp(self):
        self.counts = table_counts(*IDENTITY_TABLES)

    def assertNothingWritten(self):
        self.assertEqual(table_counts(*IDENTITY_TABLES), self.counts)

    def test_body_over_app_limit_413(self):
        r = api("POST", "/v1/tenants", raw=b"{" + b" " * 69998 + b"}",
                headers={"Content-Type": "application/json"})
        body = assert_problem(r, 413, "payload-too-large")
        self.assertIn("65536", body["detail"])
        self.assertNothingWritten()

    def test_body_limit_boundary(self):
        # exactly body_limit (65536) bytes is read and validated ...
        doc = b'{"extra":1}'
        exact = b"{" + b" " * (65536 - len(doc)) + doc[1:]
        self.assertEqual(len(exact), 65536)
        r = api("POST", "/v1/tenants", raw=exact, headers={"Content-Type": "application/json"})
        body = assert_problem(r, 400, "validation-failed")
        self.assertEqual(field_errors(body).get("extra"), "unknown_field", body)
        # ... one byte more is not
        r = api("POST", "/v1/tenants", raw=b" " + exact,
                headers={"Content-Type": "application/json"})
        assert_problem(r, 413, "payload-too-large")
        self.assertNothingWritten()

    def test_body_over_nginx_limit_413(self):
        r = api("POST", "/v1/tenants", raw=b"{" + b" " * (1100 * 1024) + b"}",
                headers={"Content-Type": "application/json"})
        assert_problem(r, 413, "payload-too-large", from_app=False)
        self.assertNothingWritten()

    def test_text_plain_415(self):
        r = api("POST", "/v1/tenants", raw=b'{"domain":"x"}', headers={"Content-Type": "text/plain"})
        assert_problem(r, 415, "unsupported-media-type")
        self.assertNothingWritten()

    def test_no_content_type_415(self):
        r = api("POST", "/v1/tenants", raw=b'{"domain":"x"}')
        assert_problem(r, 415, "unsupported-media-type")
        self.assertNothingWritten()

    def test_other_charset_415(self):
        for ctype in ("application/json; charset=latin1", "application/jsonx",
                      "application/json-patch+json"):
            r = api("POST", "/v1/tenants", raw=b'{"domain":"x"}', headers={"Content-Type": ctype})
            assert_problem(r, 415, "unsupported-media-type")
        self.assertNothingWritten()

    def test_json_with_charset_accepted(self):
        for ctype in ("application/json; charset=utf-8", "Application/JSON;charset=UTF-8"):
            # an unknown field shows that the media type passed
            body = signup_body()
            body["extra"] = True
            r = api("POST", "/v1/tenants", body=body, headers={"Content-Type": ctype})
            b = assert_problem(r, 400, "validation-failed")
            self.assertEqual(field_errors(b), {"extra": "unknown_field"})
        body = signup_body()
        r = api("POST", "/v1/tenants", body=body,
                headers={"Content-Type": "application/json; charset=utf-8"})
        self.assertEqual(r.status, 202, r)
        self.assertEqual(pending_count(body["domain"]), 1)

    def test_malformed_json_400(self):
        for raw in (b'{"domain": ', b"{'domain': 'x'}", b'{"a":1,}', b"nope", b'{"a":1} {"b":2}'):
            r = api("POST", "/v1/tenants", raw=raw, headers={"Content-Type": "application/json"})
            assert_problem(r, 400, "malformed-json")
        self.assertNothingWritten()

    def test_empty_body_400(self):
        r = api("POST", "/v1/tenants", raw=b"", headers={"Content-Type": "application/json"})
        assert_problem(r, 400, "malformed-json")

    def test_top_level_array_400(self):
        for raw in (b"[]", b'[{"domain":"a.example.com"}]', b'"x"', b"42", b"null"):
            r = api("POST", "/v1/tenants", raw=raw, headers={"Content-Type": "application/json"})
            assert_problem(r, 400, "malformed-json")
        self.assertNothingWritten()

    def test_invalid_utf8_400(self):
        for raw in (b'{"domain":"\xff\xfe.example.com"}',   # not UTF-8 at all
                    b'{"domain":"\xc0\xaf"}',                # overlong
                    b'{"domain":"\xed\xa0\x80"}',            # surrogate
                    b'{"domain":"\xe2\x82"}'):               # truncated sequence
            r = api("POST", "/v1/tenants", raw=raw, headers={"Content-Type": "application/json"})
            assert_problem(r, 400, "malformed-json")
        self.assertNothingWritten()

    def test_nul_escape_in_strings_refused(self):
        # "\u0000" decodes to a NUL byte; the value must not be cut short
        # there and stored as something the client did not send.
        wrong = []
        for where in ("domain", "displayName", "admin.email", "admin.password"):
            body = signup_body()
            domain = body["domain"]
            if where == "domain":
                body["domain"] = domain + "\u0000.evil.example.org"
            elif where == "displayName":
                body["displayName"] = "Nul\u0000Byte"
            elif where == "admin.email":
                body["admin"]["email"] += "\u0000x"
            else:
                body["admin"]["password"] += "\u0000tail"
            r = api("POST", "/v1/tenants", body=body)
            if r.status != 400:
                b = r.body if isinstance(r.body, dict) else {}
                wrong.append("%s: HTTP %d (response domain=%r displayName=%r admin.email=%r)"
                             % (where, r.status, b.get("domain"), b.get("displayName"),
                                (b.get("admin") or {}).get("email")))
                continue
            b = assert_problem(r, 400, None)
            self.assertIn(b["type"].rsplit("/", 1)[1], ("validation-failed", "malformed-json"), b)
            self.assertEqual(tenant_count(domain), 0, where)
        if wrong:
            self.fail("strings with \\u0000 accepted (cut at the NUL):\n" + "\n".join(wrong))
        self.assertNothingWritten()

    def test_deeply_nested_json_400(self):
        r = api("POST", "/v1/tenants", raw=b"[" * 20000 + b"]" * 20000,
                headers={"Content-Type": "application/json"})
        assert_problem(r, 400, "malformed-json")
        r = api("POST", "/v1/tenants", raw=b'{"admin":' * 5000 + b"{}" + b"}" * 5000,
                headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400, r)
        assert_problem(r, 400, None)

    def test_chunked_body(self):
        # nginx buffers a chunked body and hands the app a Content-Length
        def post_chunked(data):
            conn = http.client.HTTPConnection("127.0.0.1", port(), timeout=60)
            try:
                conn.request("POST", "/v1/tenants", body=iter([data[i:i + 4096] for i in
                                                              range(0, len(data), 4096)]),
                             headers={"Content-Type": "application/json"}, encode_chunked=True)
                resp = conn.getresponse()
                return resp.status, resp.read()
            finally:
                conn.close()

        body = signup_body()
        status, raw = post_chunked(json.dumps(body).encode())
        self.assertEqual(status, 202, raw)
        self.assertEqual(pending_count(body["domain"]), 1)
        status, raw = post_chunked(b"{" + b" " * 70000 + b"}")
        self.assertEqual(status, 413, raw)
        self.assertEqual(json.loads(raw)["type"], "https://twotier.example/problems/payload-too-large")

    def test_unknown_field(self):
        body = signup_body()
        body["extra"] = 1
        r = api("POST", "/v1/tenants", body=body)
        b = assert_problem(r, 400, "validation-failed")
        self.assertIn({"field": "extra", "code": "unknown_field"},
                      [{"field": e["field"], "code": e["code"]} for e in b["errors"]])
        for e in b["errors"]:
            self.assertIsInstance(e.get("message"), str)
        self.assertNothingWritten()

    def test_thousands_of_unknown_fields_get_a_bounded_answer(self):
        """Issue 21: 4,000 unknown keys once got a 340 KB problem."""
        body = signup_body()
        body.update({"k%04d" % i: 1 for i in range(4000)})
        r = api("POST", "/v1/tenants", body=body)
        b = assert_problem(r, 400, "validation-failed")
        self.assertEqual(len(b["errors"]), 50)
        self.assertEqual(b["errors"][0], {"field": "k0000", "code": "unknown_field",
                                          "message": b["errors"][0]["message"]})
        self.assertIn("the first 50 are listed, 3950 more are not", b["detail"])
        self.assertLess(len(json.dumps(b)), 10000)
        self.assertNothingWritten()

    def test_a_name_that_looks_like_another_is_refused(self):
        """Issue 21: names other tenants see ("find a provider", mail
        subjects) take no look-alike letters, invisible characters or line
        separators."""
        for name in ("\u0421ontoso Ltd", "Cont\u043eso Ltd", "Con\u200dtoso",
                     "Contoso\u2029Ltd", "Contoso\u00ad Ltd"):
            with self.subTest(name=name):
                b = assert_problem(api("POST", "/v1/tenants",
                                       body=signup_body(display_name=name)),
                                   400, "validation-failed")
                self.assertEqual(field_errors(b), {"displayName": "invalid"})
        self.assertNothingWritten()
        r = api("POST", "/v1/tenants", body=signup_body(display_name="Контора Contoso"))
        self.assertEqual(r.status, 202, r)

    def test_nested_unknown_field(self):
        body = signup_body()
        body["admin"]["nope"] = "x"
        b = assert_problem(api("POST", "/v1/tenants", body=body), 400, "validation-failed")
        self.assertEqual(field_errors(b), {"admin.nope": "unknown_field"})
        self.assertNothingWritten()

    def test_wrong_type(self):
        body = signup_body()
        body["admin"]["email"] = 5
        b = assert_problem(api("POST", "/v1/tenants", body=body), 400, "validation-failed")
        self.assertEqual(field_errors(b), {"admin.email": "wrong_type"})
        body = signup_body()
        body["admin"] = "admin@example.com"
        b = assert_problem(api("POST", "/v1/tenants", body=body), 400, "validation-failed")
        self.assertEqual(field_errors(b), {"admin": "wrong_type"})
        self.assertNothingWritten()

    def test_missing_required(self):
        body = signup_body()
        del body["displayName"]
        b = assert_problem(api("POST", "/v1/tenants", body=body), 400, "validation-failed")
        self.assertEqual(field_errors(b), {"displayName": "required"})
        body = signup_body()
        del body["admin"]["password"]
        b = assert_problem(api("POST", "/v1/tenants", body=body), 400, "validation-failed")
        self.assertEqual(field_errors(b), {"admin.password": "required"})
        b = assert_problem(api("POST", "/v1/tenants", body={}), 400, "validation-failed")
        self.assertEqual(field_errors(b),
                         {"domain": "required", "displayName": "required", "admin": "required"})
        self.assertNothingWritten()

    def test_duplicate_key(self):
        body = signup_body()
        raw = ('{"domain":"%s","domain":"%s","displayName":"x","admin":{"email":"a@%s",'
               '"password":"correct horse battery","firstName":"A","lastName":"B"}}'
               % (body["domain"], unique_domain(), body["domain"])).encode()
        r = api("POST", "/v1/tenants", raw=raw, headers={"Content-Type": "application/json"})
        b = assert_problem(r, 400, "validation-failed")
        self.assertEqual(field_errors(b), {"domain": "duplicate_field"})
        self.assertNothingWritten()


# ====================================================================
class TestSignUp(unittest.TestCase):
    """POST /v1/tenants."""

    def test_signup_mails_a_link_that_creates_the_tenant(self):
        domain = unique_domain()
        body = signup_body(domain, display_name="M\u00fcller & S\u00f6hne \u2603")
        password = body["admin"]["password"]
        before = table_counts("tenants", "users")
        r = api("POST", "/v1/tenants", body=body)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(set(r.body), {"status", "email", "expiresAt"})
        self.assertEqual((r.body["status"], r.body["email"]),
                         ("verification_sent", body["admin"]["email"]))
        self.assertRegex(r.body["expiresAt"], API_TIME_RE)
        self.assertNotIn(password, r.raw.decode("utf-8"))
        # nothing exists, nothing is reserved, until the link is followed
        self.assertEqual(table_counts("tenants", "users"), before)
        self.assertEqual(pending_count(domain), 1)
        token = signup_link(body["admin"]["email"])
        self.assertGreaterEqual(len(token), 43)
        self.assertNotIn(token, sql_value("SELECT token_hash FROM pending_signups WHERE domain = %s", (domain,)))
        mail = wait_mails(body["admin"]["email"], 1)[0]
        self.assertIn(domain, mail.subject)
        self.assertNotIn(password, mail.body)

        r = verify_signup(token)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.headers.get("content-type", "").split(";")[0], "application/json")
        t = r.body
        self.assertRegex(t.get("id", ""), UUID_RE)
        self.assertEqual(t["domain"], domain)
        self.assertEqual(t["displayName"], body["displayName"])
        self.assertRegex(t.get("createdAt", ""), API_TIME_RE)
        self.assertRegex(t["admin"].get("id", ""), UUID_RE)
        self.assertEqual(t["admin"]["email"], body["admin"]["email"])
        self.assertEqual(t["admin"]["roles"], ["global_admin", "admin_agent"])
        self.assertNotIn("password", t["admin"])
        rid = r.headers.get("x-request-id")
        tid, uid = t["id"], t["admin"]["id"]
        self.assertEqual(sql("SELECT domain, display_name, is_platform FROM tenants WHERE id = %s",
                             (tid,)), [[domain, body["displayName"], "0"]])
        rows = sql("SELECT tenant_id, email, password_hash, first_name, last_name, disabled "
                   "FROM users WHERE id = %s", (uid,))
        tenant_id, email, pwhash, first, last, disabled = rows[0]
        self.assertEqual((tenant_id, email, first, last, disabled),
                         (tid, body["admin"]["email"], "Ada", "Lovelace", "0"))
        self.assertTrue(pwhash.startswith("$argon2id$"), pwhash)
        roles = sorted(sql_value("SELECT roles FROM users WHERE id = %s", (uid,)).split(","))
        self.assertEqual(roles, ["admin_agent", "global_admin"])
        audit = sql("SELECT tenant_id, actor_type, action, target_type, target_id, request_id, "
                    "client_addr FROM audit_events WHERE tenant_id = %s", (tid,))
        self.assertEqual(audit, [[tid, "anonymous", "tenant.create", "tenant", tid, rid,
                                  "127.0.0.1"]])
        # the admin signs in with the password of the sign-up
        r = api("POST", "/v1/auth/token", body={"username": email, "password": password})
        self.assertEqual(r.status, 200, r)
        # the link works once
        p = assert_problem(verify_signup(token), 404, "not-found")
        self.assertEqual(p["code"], "signup_link_invalid")

    def test_the_answer_is_the_same_whether_or_not_it_is_taken(self):
        r, body = signup()
        self.assertEqual(r.status, 201, r)
        fresh = signup_body()
        taken_domain = signup_body(body["domain"], email="other@" + body["domain"])
        taken_email = signup_body(body["domain"], email=body["admin"]["email"])
        answers = [api("POST", "/v1/tenants", body=b) for b in (fresh, taken_domain, taken_email)]
        self.assertEqual([a.status for a in answers], [202, 202, 202], answers)
        shapes = [{k: v for k, v in a.body.items() if k not in ("email", "expiresAt")}
                  for a in answers]
        self.assertEqual(shapes[0], shapes[1])
        self.assertEqual(shapes[0], shapes[2])
        # whoever holds the mailbox learns it at the link
        r = verify_signup(signup_link(taken_domain["admin"]["email"]))
        assert_problem(r, 409, "conflict")
        r = verify_signup(signup_link(taken_email["admin"]["email"], 2))
        assert_problem(r, 409, "conflict")
        self.assertEqual(tenant_count(body["domain"]), 1)

    def test_the_admin_address_must_be_at_the_domain(self):
        domain = unique_domain()
        for email in ("admin@" + unique_domain(), "admin@sub." + domain, "admin@gmail.com"):
            with self.subTest(email=email):
                b = assert_problem(api("POST", "/v1/tenants", body=signup_body(domain, email=email)),
                                   400, "validation-failed")
                self.assertEqual(field_errors(b), {"admin.email": "not_at_domain"})
        self.assertEqual(pending_count(domain), 0)
        # any spelling of the address is stored in its one form
        r = api("POST", "/v1/tenants", body=signup_body(domain, email="Admin@" + domain.upper()))
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.body["email"], "admin@" + domain)

    def test_pending_sign_ups_race_and_the_first_verified_wins(self):
        domain = unique_domain()
        tokens = []
        for i in range(3):
            email = "a%d@%s" % (i, domain)
            r = api("POST", "/v1/tenants", body=signup_body(domain, email=email))
            self.assertEqual(r.status, 202, r)
            tokens.append(signup_link(email))
        self.assertEqual(pending_count(domain), 3)
        results = parallel(*[lambda t=t: verify_signup(t) for t in tokens[:2]])
        self.assertEqual(sorted(r.status for r in results), [201, 409], results)
        for r in results:
            if r.status == 409:
                assert_problem(r, 409, "conflict")
        assert_problem(verify_signup(tokens[2]), 409, "conflict")
        self.assertEqual(tenant_count(domain), 1)
        tid = sql_value("SELECT id FROM tenants WHERE domain = %s", (domain,))
        self.assertEqual(sql_value("SELECT COUNT(*) FROM users WHERE tenant_id = %s", (tid,)), "1")

    def test_one_link_followed_at_once_creates_one_tenant(self):
        body = signup_body()
        self.assertEqual(api("POST", "/v1/tenants", body=body).status, 202)
        token = signup_link(body["admin"]["email"])
        results = parallel(*[lambda: verify_signup(token) for _ in range(6)])
        self.assertEqual(sorted(r.status for r in results), [201] + [404] * 5, results)
        self.assertEqual(tenant_count(body["domain"]), 1)

    def test_a_pending_sign_up_expires(self):
        body = signup_body()
        self.assertEqual(api("POST", "/v1/tenants", body=body).status, 202)
        token = signup_link(body["admin"]["email"])
        sql("UPDATE pending_signups SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND "
            "WHERE domain = %s", (body["domain"],))
        p = assert_problem(verify_signup(token), 404, "not-found")
        self.assertEqual(p["code"], "signup_link_invalid")
        forged = assert_problem(verify_signup(secrets.token_urlsafe(32)), 404, "not-found")
        self.assertEqual({k: v for k, v in p.items() if k != "requestId"},
                         {k: v for k, v in forged.items() if k != "requestId"})
        self.assertEqual(tenant_count(body["domain"]), 0)
        for bad in ({}, {"token": ""}, {"token": 1}, {"token": "x", "more": 1}):
            assert_problem(api("POST", "/v1/signup-verifications", body=bad), 400, None)

    def test_invalid_fields_400_nothing_written(self):
        cases = [
            ("domain", "Contoso.example.com", None, None),
            ("domain", "localhost", None, None),
            ("domain", "-bad.example.com", None, None),
            ("admin.email", None, "not-an-email", None),
            ("admin.email", None, "a b@example.com", None),
            ("admin.password", None, None, "elevenchars"),
        ]
        before = table_counts(*IDENTITY_TABLES)
        for field, domain, email, password in cases:
            body = signup_body()
            if domain is not None:
                body["domain"] = domain
            if email is not None:
                body["admin"]["email"] = email
            if password is not None:
                body["admin"]["password"] = password
            r = api("POST", "/v1/tenants", body=body)
            b = assert_problem(r, 400, "validation-failed")
            self.assertIn(field, field_errors(b), (field, b))
            self.assertEqual(len(b["errors"]), 1, b)
            self.assertEqual(tenant_count(body["domain"]), 0)
            self.assertEqual(pending_count(body["domain"]), 0)
        self.assertEqual(table_counts(*IDENTITY_TABLES), before)

    def test_several_invalid_fields_all_named(self):
        body = signup_body(domain="NOPE", email="nope", password="short")
        body["displayName"] = "   "
        b = assert_problem(api("POST", "/v1/tenants", body=body), 400, "validation-failed")
        self.assertEqual(set(field_errors(b)),
                         {"domain", "displayName", "admin.email", "admin.password"})
        self.assertEqual(field_errors(b)["admin.password"], "too_short")

    def test_password_of_twelve_characters_accepted(self):
        r, body = signup(password="abcdefghijkl")
        self.assertEqual(r.status, 201, r)


# ====================================================================
class TestRegions(unittest.TestCase):

    def test_regions(self):
        r = api("GET", "/v1/regions")
        self.assertEqual(r.status, 200, r)
        items = r.body["items"]
        self.assertEqual(r.body["totalCount"], len(items))
        self.assertGreater(len(items), 0)
        seen = {}
        for region in items:
            self.assertEqual(set(region), {"code", "name", "countries"}, region)
            self.assertTrue(region["countries"], region)
            for c in region["countries"]:
                self.assertEqual(set(c), {"code", "currency"}, c)
                self.assertRegex(c["code"], r"^[A-Z]{2}$")
                self.assertRegex(c["currency"], r"^[A-Z]{3}$")
                self.assertNotIn(c["code"], seen, "country in two regions")
                seen[c["code"]] = (region["code"], c["currency"])
        self.assertEqual(len({reg["code"] for reg in items}), len(items), "duplicate region")
        self.assertEqual(seen["DE"], ("europe", "EUR"))
        self.assertEqual(seen["US"], ("united-states", "USD"))
        self.assertEqual(seen["GB"], ("europe", "GBP"))
        europe = [reg for reg in items if reg["code"] == "europe"][0]
        self.assertEqual(europe["name"], "Europe")
        # everything in the database, nothing else
        db = {row[0]: (row[1], row[2]) for row in sql(
            "SELECT code, region_code, currency FROM countries")}
        self.assertEqual(seen, db)
        self.assertEqual(len(items), int(sql_value("SELECT COUNT(*) FROM regions")))

    def test_regions_match_the_source_table(self):
        with open(shared_file("data/csp-regions.csv"), newline="") as f:
            rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
        want = {(row["region"], row["country"], row["currency"]) for row in rows}
        r = api("GET", "/v1/regions")
        self.assertEqual(r.status, 200, r)
        got = {(reg["name"], c["code"], c["currency"])
               for reg in r.body["items"] for c in reg["countries"]}
        self.assertEqual(got, want)


# ====================================================================
class TestRequestId(unittest.TestCase):

    def test_every_response_has_a_request_id(self):
        cases = [
            (api("GET", "/healthz"), 200),
            (api("GET", "/nope"), 404),
            (api("DELETE", "/v1/regions"), 405),
            (api("POST", "/v1/tenants", raw=b"{" + b" " * 70000 + b"}",
                 headers={"Content-Type": "application/json"}), 413),
            (api("POST", "/v1/tenants", raw=b"x", headers={"Content-Type": "text/plain"}), 415),
        ]
        ids = set()
        for r, status in cases:
            self.assertEqual(r.status, status, r)
            rid = r.headers.get("x-request-id")
            self.assertRegex(rid or "", NGINX_REQUEST_ID_RE, r)
            ids.add(rid)
        self.assertEqual(len(ids), len(cases), "request ids repeat")

    def test_client_request_id_is_echoed(self):
        since = log_offset()
        r = api("GET", "/nope", headers={"X-Request-Id": "test-abc-123"})
        body = assert_problem(r, 404, "not-found")
        self.assertEqual(r.headers.get("x-request-id"), "test-abc-123")
        self.assertEqual(body["requestId"], "test-abc-123")
        line = wait_log(lambda l: l.get("requestId") == "test-abc-123", since)
        self.assertIsNotNone(line, "no log line with requestId test-abc-123")
        self.assertEqual(line.get("status"), 404, line)
        self.assertEqual(line.get("method"), "GET", line)
        # and on a success
        r = api("GET", "/healthz", headers={"X-Request-Id": "test-abc-123.OK_2"})
        self.assertEqual(r.headers.get("x-request-id"), "test-abc-123.OK_2")

    def test_request_id_of_64_characters_is_kept(self):
        rid = "a" * 32 + "-" + "B" * 31
        self.assertEqual(len(rid), 64)
        r = api("GET", "/healthz", headers={"X-Request-Id": rid})
        self.assertEqual(r.headers.get("x-request-id"), rid)

    def test_invalid_request_id_is_replaced(self):
        for bad in ("bad id with spaces", "a" * 100, "a" * 65, "semi;colon", "slash/x",
                    "quote\"d", "\u00e9t\u00e9".encode("utf-8").decode("latin-1")):
            r = api("GET", "/nope", headers={"X-Request-Id": bad})
            body = assert_problem(r, 404, "not-found")
            rid = r.headers.get("x-request-id")
            self.assertRegex(rid, NGINX_REQUEST_ID_RE, "sent %r" % bad)
            self.assertNotEqual(rid, bad)
            self.assertEqual(body["requestId"], rid)

    def test_generated_id_is_nginx_request_id(self):
        r = api("GET", "/nope/%s" % unique_domain())
        rid = r.headers.get("x-request-id")
        self.assertRegex(rid, NGINX_REQUEST_ID_RE)
        access = os.path.join(stack_dir(), "log", "nginx-access.log")
        deadline = time.monotonic() + 5
        found = False
        while not found and time.monotonic() < deadline:
            with open(access, errors="replace") as f:
                found = ("rid=" + rid) in f.read()
            if not found:
                time.sleep(0.05)
        self.assertTrue(found, "rid=%s not in %s" % (rid, access))

    def test_log_line_fields(self):
        since = log_offset()
        rid = "log-fields-" + unique_domain().split(".")[0]
        self.assertEqual(api("GET", "/healthz", headers={"X-Request-Id": rid}).status, 200)
        self.assertEqual(api("GET", "/v1/nothing", headers={"X-Request-Id": rid + "-404"}).status,
                         404)
        self.assertEqual(api("DELETE", "/healthz", headers={"X-Request-Id": rid + "-405"}).status,
                         405)
        for want_rid, method, route, status in ((rid, "GET", "healthz", 200),
                                                (rid + "-404", "GET", None, 404),
                                                (rid + "-405", "DELETE", None, 405)):
            line = wait_log(lambda l: l.get("requestId") == want_rid, since)
            self.assertIsNotNone(line, "no log line for " + want_rid)
            for key in ("time", "level", "requestId", "method", "route", "status", "durationMs"):
                self.assertIn(key, line)
            self.assertRegex(line["time"], r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
            self.assertEqual(line["level"], "info", line)
            self.assertEqual(line["method"], method, line)
            if route is not None:
                self.assertEqual(line["route"], route, line)
            self.assertIsInstance(line["route"], str)
            self.assertEqual(line["status"], status, line)
            self.assertIsInstance(line["durationMs"], (int, float))
            self.assertGreaterEqual(line["durationMs"], 0)

    def test_log_has_no_password(self):
        since = log_offset()
        r, body = signup_request()
        self.assertEqual(r.status, 202, r)
        rid = r.headers["x-request-id"]
        line = wait_log(lambda l: l.get("requestId") == rid, since)
        self.assertIsNotNone(line)
        self.assertEqual((line["route"], line["status"], line["method"]),
                         ("tenants.create", 202, "POST"))
        with open(os.path.join(stack_dir(), "log", "twotier-fcgi.log"), "rb") as f:
            f.seek(since)
            self.assertNotIn(body["admin"]["password"].encode(), f.read())


# ====================================================================
class TestAdmin(unittest.TestCase):
    """twotier-admin and configuration errors of both binaries."""

    def schema_dump(self):
        db = env("TWOTIER_DB_NAME")
        return {
            "columns": sql("SELECT table_name, column_name, column_type, is_nullable, "
                           "column_default FROM information_schema.columns "
                           "WHERE table_schema = %s ORDER BY 1, 2", (db,)),
            "indexes": sql("SELECT table_name, index_name, seq_in_index, column_name, non_unique "
                           "FROM information_schema.statistics WHERE table_schema = %s "
                           "ORDER BY 1, 2, 3", (db,)),
            "versions": sql("SELECT version, name FROM schema_version ORDER BY version"),
            "countries": sql("SELECT COUNT(*) FROM countries"),
            "regions": sql("SELECT COUNT(*) FROM regions"),
        }

    def migrate(self):
        return run_binary([env("TWOTIER_ADMIN_BIN"), "-c", env("TWOTIER_CONF"), "migrate"],
                          timeout=120)

    def test_migrate_twice_changes_nothing(self):
        before = self.schema_dump()
        self.assertTrue(before["columns"])
        first = self.migrate()
        self.assertEqual(first.returncode, 0, first.stdout + first.stderr)
        second = self.migrate()
        self.assertEqual(second.returncode, 0, second.stdout + second.stderr)
        self.assertIn("0 migrations applied", second.stdout)
        self.assertEqual(self.schema_dump(), before)
        self.assertEqual(api("GET", "/readyz").status, 200)

    def check_config_errors(self, binary, extra_args):
        with tempfile.TemporaryDirectory() as tmp:
            cases = [
                ("threads = 2\n# a comment\nbogus_key = 1\nthreads = 3\n", 3, "bogus_key"),
                ("listen = unix:%s/x.sock\n\n# threads next\nthreads = abc\n" % tmp, 4, "threads"),
                ("threads = 300\n", 1, "threads"),
                ("\n\njust some words\n", 3, None),
            ]
            for i, (text, line, word) in enumerate(cases):
                path = os.path.join(tmp, "bad%d.conf" % i)
                with open(path, "w") as f:
                    f.write(text)
                t0 = time.monotonic()
                p = run_binary([binary, "-c", path] + extra_args, timeout=30)
                elapsed = time.monotonic() - t0
                self.assertEqual(p.returncode, 2, (text, p.stdout, p.stderr))
                self.assertLess(elapsed, 10)
                self.assertIn("%s:%d:" % (path, line), p.stderr, text)
                if word:
                    self.assertIn(word, p.stderr)
            missing = os.path.join(tmp, "does-not-exist.conf")
            p = run_binary([binary, "-c", missing] + extra_args, timeout=30)
            self.assertEqual(p.returncode, 2, (p.stdout, p.stderr))
            self.assertIn(missing, p.stderr)

    def test_fcgi_config_error_names_its_line(self):
        self.check_config_errors(env("TWOTIER_FCGI_BIN"), [])

    def test_admin_config_error_names_its_line(self):
        self.check_config_errors(env("TWOTIER_ADMIN_BIN"), ["migrate"])

    def check_bad_log_level(self, binary, extra_args):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "loud.conf")
            with open(path, "w") as f:
                # (sql_dir: should the admin tool accept the file, it finds
                # no migrations to apply)
                f.write("threads = 2\nsql_dir = %s/none\nlog_level = loud\n" % tmp)
            p = run_binary([binary, "-c", path] + extra_args, timeout=30)
            self.assertEqual(p.returncode, 2, (p.stdout, p.stderr))
            self.assertIn("%s:3:" % path, p.stderr)
            self.assertIn("log_level", p.stderr)

    def test_fcgi_bad_log_level_names_its_line(self):
        self.check_bad_log_level(env("TWOTIER_FCGI_BIN"), [])

    def test_admin_bad_log_level_names_its_line(self):
        self.check_bad_log_level(env("TWOTIER_ADMIN_BIN"), ["migrate"])

    def test_usage_errors_exit_2(self):
        conf = env("TWOTIER_CONF")
        for args in ([env("TWOTIER_FCGI_BIN")],
                     [env("TWOTIER_FCGI_BIN"), "-c", conf, "extra"],
                     [env("TWOTIER_ADMIN_BIN"), "-c", conf],
                     [env("TWOTIER_ADMIN_BIN"), "-c", conf, "frobnicate"]):
            p = run_binary(args, timeout=30)
            self.assertEqual(p.returncode, 2, (args, p.stdout, p.stderr))
            self.assertIn("usage", p.stderr)

    def operator_rows(self, email):
        return sql("SELECT u.id, u.tenant_id, u.password_hash, u.roles, t.is_platform "
                   "FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.email = %s",
                   (email,))

    def create_operator(self, email, password):
        return run_binary([env("TWOTIER_ADMIN_BIN"), "-c", env("TWOTIER_CONF"),
                           "create-operator", "--email", email], input=password + "\n",
                          timeout=120)

    def test_create_operator_again(self):
        email = env("TWOTIER_OPERATOR_EMAIL")
        before = self.operator_rows(email)
        self.assertEqual(len(before), 1, before)
        self.assertEqual(before[0][3:], ["operator", "1"])
        self.assertTrue(before[0][2].startswith("$argon2id$"))
        p = self.create_operator(email, "another-password-entirely")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("already exists", p.stdout)
        self.assertEqual(self.operator_rows(email), before)
        self.assertEqual(sql_value("SELECT COUNT(*) FROM tenants WHERE is_platform = 1"), "1")

    def test_create_second_operator_joins_platform_tenant(self):
        email = "op@" + unique_domain()
        first = self.operator_rows(env("TWOTIER_OPERATOR_EMAIL"))
        p = self.create_operator(email, "second-operator-pw")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        rows = self.operator_rows(email)
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual(rows[0][1], first[0][1], "not the same platform tenant")
        self.assertEqual(rows[0][3:], ["operator", "1"])
        self.assertEqual(sql_value("SELECT COUNT(*) FROM tenants WHERE is_platform = 1"), "1")
        self.assertEqual(sql("SELECT action FROM audit_events WHERE target_id = %s",
                             (rows[0][0],)), [["operator.create"]])

    def test_create_operator_short_password_refused(self):
        email = "op@" + unique_domain()
        p = self.create_operator(email, "short")
        self.assertNotEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(sql_value("SELECT COUNT(*) FROM users WHERE email = %s", (email,)), "0")


# ====================================================================
class TestFaults(unittest.TestCase):
    """Tests that stop parts of the stack; they run after everything else
    and restore the stack however they end."""

    RUN_LAST = True

    def setUp(self):
        wait_ready(30)

    def metrics(self):
        r = api("GET", "/metrics")
        self.assertEqual(r.status, 200, r)
        return r.body

    def test_database_outage_and_recovery(self):
        pid = fcgi_pid()
        self.assertTrue(pid_running(pid), "twotier-fcgi not running (pid %r)" % pid)
        errors_before = metric_value(self.metrics(), "twotier_db_errors_total")
        try:
            stack("db-stop")
            r = api("GET", "/readyz")
            assert_problem(r, 503, "service-unavailable")
            self.assertTrue(r.headers.get("retry-after", "").isdigit(), r.headers)
            self.assertGreater(int(r.headers["retry-after"]), 0)
            r = api("GET", "/v1/regions")
            assert_problem(r, 503, "service-unavailable")
            self.assertIn("retry-after", r.headers)
            refused = signup_body()
            r = api("POST", "/v1/tenants", body=refused)
            assert_problem(r, 503, "service-unavailable")
            # processes that do not need the database still answer
            self.assertEqual(api("GET", "/healthz").status, 200)
            errors_down = metric_value(self.metrics(), "twotier_db_errors_total")
            self.assertGreaterEqual(errors_down - errors_before, 3)
        finally:
            stack("db-start")
        deadline = time.monotonic() + 10
        while True:
            r = api("GET", "/readyz")
            if r.status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(r.status, 200, "readyz not 200 within 10 s of db-start: %r" % (r,))
        # every worker reconnects on its own, without a restart
        for _ in range(8):
            r = api("GET", "/v1/regions")
            self.assertEqual(r.status, 200, r)
        self.assertEqual(tenant_count(refused["domain"]), 0)
        r, _ = signup()
        self.assertEqual(r.status, 201, r)
        self.assertEqual(fcgi_pid(), pid, "twotier-fcgi was restarted")
        self.assertTrue(pid_running(pid))

    def test_start_without_database(self):
        try:
            stack("fcgi-stop")
            stack("db-stop")
            since = log_offset()
            stack("fcgi-start")        # must start even so
            pid = fcgi_pid()
            self.assertTrue(pid_running(pid))
            r = api("GET", "/readyz")
            assert_problem(r, 503, "service-unavailable")
            self.assertIn("retry-after", r.headers)
            self.assertEqual(api("GET", "/healthz").status, 200)
            self.assertTrue(any(l.get("level") == "warn" and "database" in str(l.get("msg"))
                                for l in log_lines(since)), log_lines(since))
            stack("db-start")
            deadline = time.monotonic() + 10
            while api("GET", "/readyz").status != 200 and time.monotonic() < deadline:
                time.sleep(0.2)
            self.assertEqual(api("GET", "/readyz").status, 200)
            for _ in range(8):
                r = api("GET", "/v1/regions")
                self.assertEqual(r.status, 200, r)
            self.assertEqual(fcgi_pid(), pid)
        finally:
            stack("db-start")
            if not pid_running(fcgi_pid()):
                stack("fcgi-start")
            wait_ready(30)

    def test_readyz_refuses_an_older_schema(self):
        row = sql("SELECT version, name, applied_at FROM schema_version "
                  "ORDER BY version DESC LIMIT 1")[0]
        try:
            sql("DELETE FROM schema_version WHERE version = %s", (row[0],))
            r = api("GET", "/readyz")
            body = assert_problem(r, 503, "service-unavailable")
            self.assertIn("retry-after", r.headers)
            self.assertIn(str(int(row[0]) - 1), body["detail"])
        finally:
            sql("INSERT IGNORE INTO schema_version (version, name, applied_at) VALUES (%s, %s, %s)",
                tuple(row))
        self.assertEqual(api("GET", "/readyz").status, 200)

    def test_sighup_does_not_stop(self):
        pid = fcgi_pid()
        self.assertTrue(pid_running(pid))
        try:
            os.kill(pid, signal.SIGHUP)
            time.sleep(0.3)
            self.assertTrue(pid_running(pid), "SIGHUP stopped twotier-fcgi")
            self.assertEqual(api("GET", "/healthz").status, 200)
            self.assertEqual(fcgi_pid(), pid)
        finally:
            if not pid_running(fcgi_pid()):
                stack("fcgi-start")
            wait_ready(30)

    def test_sigterm_finishes_requests_in_flight(self):
        pid = fcgi_pid()
        self.assertTrue(pid_running(pid), "twotier-fcgi not running (pid %r)" % pid)
        since = log_offset()
        n = 6
        bodies = [signup_body() for _ in range(n)]
        results = [None] * n
        barrier = threading.Barrier(n + 1)

        def worker(i):
            barrier.wait()
            try:
                results[i] = api("POST", "/v1/tenants", body=bodies[i], timeout=60)
            except Exception as e:  # reported below
                results[i] = e

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        try:
            for t in threads:
                t.start()
            barrier.wait()
            time.sleep(0.03)
            # SIGTERM as soon as a worker is busy (hashing a password)
            deadline = time.monotonic() + 3
            while not busy_threads(pid) and time.monotonic() < deadline:
                time.sleep(0.002)
            os.kill(pid, signal.SIGTERM)
            t_term = time.monotonic()
            for t in threads:
                t.join(90)
            while pid_running(pid) and time.monotonic() - t_term < 10:
                time.sleep(0.05)
            exit_after = time.monotonic() - t_term
            self.assertFalse(pid_running(pid), "twotier-fcgi still running 10 s after SIGTERM")
            self.assertLess(exit_after, 5.0, "twotier-fcgi took %.1f s to exit" % exit_after)

            statuses = []
            for i, r in enumerate(results):
                self.assertNotIsInstance(r, Exception, "request %d: %r" % (i, r))
                statuses.append(r.status)
                self.assertIn(r.status, (202, 503), "request %d: %r" % (i, r))
                if r.status == 202:
                    # answered, so committed
                    self.assertEqual(pending_count(bodies[i]["domain"]), 1)
                else:
                    assert_problem(r, 503, "service-unavailable", from_app=False)
            self.assertIn(202, statuses, "no request in flight completed: %r" % statuses)
            self.assertNotIn(502, statuses)

            lines = log_lines(since)
            msgs = [l.get("msg") for l in lines]
            self.assertIn("stopped", msgs, msgs)
            stop_at = msgs.index("stopped")
            done = [l for l in lines[:stop_at] if l.get("route") == "tenants.create"
                    and l.get("status") == 202]
            self.assertEqual(len(done), statuses.count(202), lines)
            # at least one request was still running when the signal came
            term_at = [i for i, m in enumerate(msgs) if str(m).startswith("signal ")]
            self.assertTrue(term_at, msgs)
            drained = [l for l in lines[term_at[0]:stop_at] if l.get("route") == "tenants.create"
                       and l.get("status") == 202]
            self.assertTrue(drained, "no request finished between the signal and 'stopped': %r"
                            % msgs)

            # while it is down, nginx answers 503 problems itself
            r = api("GET", "/healthz")
            assert_problem(r, 503, "service-unavailable", from_app=False)
            self.assertEqual(r.headers.get("retry-after"), "5")
        finally:
            for t in threads:
                t.join(90)
            if not pid_running(fcgi_pid()):
                stack("fcgi-start")
            wait_ready(30)
        self.assertNotEqual(fcgi_pid(), pid)
