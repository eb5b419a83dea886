"""Identity: sign-up idempotency, sign-in and its lock-out, the JWK Set,
/v1/me, strict JWT verification (forged and tampered tokens), the external
identity provider, users, API tokens, the audit log and CORS.  Black-box:
through nginx, the database and the log only.

Tokens are forged with the stack's own keys (scripts/stack env):
TWOTIER_JWT_PRIVATE_KEY_FILE (ES256, our issuer "twotier-local") and
TWOTIER_IDP_PRIVATE_KEY_FILE (RS256, the stand-in external provider
TWOTIER_IDP_ISSUER); signing uses the openssl command line."""

import hashlib
import json
import os
import secrets
import threading
import time
import unittest
import uuid
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from harness import (API_TIME_RE, AUDIENCE, DROP, OUR_ISSUER, PASSWORD, UUID_RE, access_token, api,
                     api_time, assert_problem, b64u, b64u_decode, b64u_json, bearer, claims_for,
                     connect, create_api_token, create_user, ecdsa_raw_to_der, env, es256_verifies,
                     fcgi_log_file, field_errors, future, jwt_parts, log_offset, mails_to,
                     make_jwt, new_api_token, new_tenant, new_user, parallel, public_key_point,
                     root_sql_value, sign, sign_in, signup_body, sql, sql_value, unique_domain,
                     user_body, wait_log, wait_mails)

ALLOWED_ORIGIN = "http://localhost:3000"
SCOPES = ["profiles:read", "relationships:read", "relationships:write", "customers:read",
          "customers:write", "agreements:read", "orders:read", "orders:write"]
# ------------------------------------------------------------- JWT forging

# ------------------------------------------------------------ test data

def failures_key(username, addr="127.0.0.1"):
    """The signin_failures key of (the account USERNAME names, ADDR), as
    lib/domain/signin.c makes it."""
    name = username.lower()
    rows = sql("SELECT id FROM users WHERE email = %s", (name,)) if name else []
    if rows:
        account = hashlib.sha256(("user:%s\0" % rows[0][0]).encode()).hexdigest()
    else:
        account = hashlib.sha256(b"name:\0" + name.encode("utf-8")).hexdigest()
    return hashlib.sha256(account.encode() + b"\0" + addr.encode()).hexdigest()

def rid(prefix):
    """A fresh client request id."""
    return "%s-%s" % (prefix, secrets.token_hex(8))


def user_row(user_id):
    rows = sql("SELECT tenant_id, disabled, version FROM users WHERE id = %s", (user_id,))
    return rows[0] if rows else None


def user_roles(user_id):
    """The roles on the user's row (a SET column), sorted."""
    text = sql_value("SELECT roles FROM users WHERE id = %s", (user_id,))
    return sorted(r for r in text.split(",") if r)


def audit_rows(tenant_id, action=None, target_id=None):
    q = ("SELECT actor_type, actor_id, action, target_type, target_id, request_id, client_addr "
         "FROM audit_events WHERE tenant_id = %s")
    params = [tenant_id]
    if action:
        q += " AND action = %s"
        params.append(action)
    if target_id:
        q += " AND target_id = %s"
        params.append(target_id)
    return sql(q + " ORDER BY id", tuple(params))


def follow_pages(test, first_path, headers, max_pages=100):
    """GETs FIRST_PATH and every links.next; returns the list of bodies."""
    pages = []
    path = first_path
    while path is not None:
        test.assertLess(len(pages), max_pages, "pagination does not end")
        r = api("GET", path, headers=headers)
        test.assertEqual(r.status, 200, r)
        test.assertEqual(set(r.body), {"items", "totalCount", "totalCountCapped", "links"}, r.body)
        test.assertIs(r.body["totalCountCapped"], False, r.body)
        pages.append(r.body)
        path = r.body["links"]["next"]
        if path is not None:
            test.assertTrue(path.startswith("/"), path)
    return pages


class AuthRefusals:
    """assertRefused: a 401 problem with WWW-Authenticate and the
    'authentication refused' log line with its reason."""

    def assertRefused(self, authorization, reasons=None, path="/v1/me"):
        request_id = rid("refused")
        since = log_offset()
        r = api("GET", path, headers={"Authorization": authorization, "X-Request-Id": request_id})
        body = assert_problem(r, 401, "unauthenticated")
        self.assertEqual(r.headers.get("www-authenticate"), "Bearer", r)
        line = wait_log(lambda l: l.get("msg") == "authentication refused"
                        and l.get("requestId") == request_id, since)
        self.assertIsNotNone(line, "no 'authentication refused' log line for %s" % request_id)
        self.assertEqual(line.get("level"), "warn", line)
        self.assertTrue(isinstance(line.get("reason"), str) and line["reason"], line)
        self.assertEqual(body["detail"], line["reason"])
        if reasons is not None:
            if isinstance(reasons, str):
                reasons = (reasons,)
            self.assertIn(line["reason"], reasons, "token %.80r" % authorization)
        return body


# ====================================================================
class TestSignUpExtras(unittest.TestCase):
    """POST /v1/tenants: what test_foundation does not cover, and
    Idempotency-Key."""

    def tenant_rows(self, domain):
        """Sign-ups of the domain: pending ones (the API's part) and made ones."""
        return int(sql_value("SELECT COUNT(*) FROM pending_signups WHERE domain = %s", (domain,)))

    def test_more_invalid_fields(self):
        cases = []
        b = signup_body()
        b["admin"]["firstName"] = "   "
        cases.append((b, "admin.firstName", "invalid"))
        b = signup_body()
        b["admin"]["lastName"] = "tab\there"
        cases.append((b, "admin.lastName", "invalid"))
        b = signup_body()
        b["displayName"] = "x" * 201
        cases.append((b, "displayName", "too_long"))
        b = signup_body()
        b["domain"] = ("a" * 60 + ".") * 4 + "example.com"     # 255 bytes
        cases.append((b, "domain", "too_long"))
        b = signup_body()
        b["admin"]["email"] = "x" * 65 + "@" + b["domain"]       # local part over 64
        cases.append((b, "admin.email", "invalid"))
        b = signup_body()
        b["admin"]["password"] = 123456789012
        cases.append((b, "admin.password", "wrong_type"))
        for body, field, code in cases:
            r = api("POST", "/v1/tenants", body=body)
            p = assert_problem(r, 400, "validation-failed")
            self.assertEqual(field_errors(p).get(field), code, (field, p))
            self.assertEqual(self.tenant_rows(body["domain"]), 0)

    def test_same_key_same_body_replays(self):
        key = "signup-" + secrets.token_hex(12)
        body = signup_body()
        r1 = api("POST", "/v1/tenants", body=body, headers={"Idempotency-Key": key})
        self.assertEqual(r1.status, 202, r1)
        self.assertNotIn("idempotent-replayed", r1.headers)
        r2 = api("POST", "/v1/tenants", body=body, headers={"Idempotency-Key": key})
        self.assertEqual(r2.status, 202, r2)
        self.assertEqual(r2.headers.get("idempotent-replayed"), "true", r2.headers)
        self.assertEqual(r2.raw, r1.raw)
        self.assertEqual(r2.headers.get("content-type", "").split(";")[0], "application/json")
        self.assertNotEqual(r2.headers.get("x-request-id"), r1.headers.get("x-request-id"))
        self.assertEqual(self.tenant_rows(body["domain"]), 1)
        # one request, one mail
        self.assertEqual(len(wait_mails(body["admin"]["email"], 1)), 1)
        time.sleep(0.3)
        self.assertEqual(len(mails_to(body["admin"]["email"])), 1)

    def test_same_key_other_body_422(self):
        key = "signup-" + secrets.token_hex(12)
        first = signup_body()
        r1 = api("POST", "/v1/tenants", body=first, headers={"Idempotency-Key": key})
        self.assertEqual(r1.status, 202, r1)
        other = signup_body()
        r2 = api("POST", "/v1/tenants", body=other, headers={"Idempotency-Key": key})
        p = assert_problem(r2, 422, "rule-refused")
        self.assertEqual(p.get("code"), "idempotency_key_reused", p)
        self.assertNotIn("idempotent-replayed", r2.headers)
        self.assertEqual(self.tenant_rows(other["domain"]), 0)
        self.assertEqual(self.tenant_rows(first["domain"]), 1)

    def test_concurrent_requests_with_one_key(self):
        key = "signup-" + secrets.token_hex(12)
        body = signup_body()
        results = parallel(*[lambda: api("POST", "/v1/tenants", body=body,
                                         headers={"Idempotency-Key": key})] * 4)
        for r in results:
            self.assertNotIsInstance(r, Exception, results)
        fresh = [r for r in results if r.status == 202 and "idempotent-replayed" not in r.headers]
        self.assertEqual(len(fresh), 1, results)
        for r in results:
            if r is fresh[0]:
                continue
            if r.status == 409:
                assert_problem(r, 409, "conflict")
            else:
                self.assertEqual(r.status, 202, r)
                self.assertEqual(r.headers.get("idempotent-replayed"), "true", r)
                self.assertEqual(r.raw, fresh[0].raw)
        self.assertEqual(self.tenant_rows(body["domain"]), 1)

    def test_first_request_still_running_409(self):
        # A claimed key whose response is not stored yet: what a twin of a
        # request still in flight finds.
        key = "signup-" + secrets.token_hex(12)
        raw = json.dumps(signup_body()).encode()
        digest = hashlib.sha256(b"POST\0/v1/tenants\0" + raw).hexdigest()
        sql("INSERT INTO idempotency_keys (principal, idem_key, request_hash, created_at) "
            "VALUES ('a:127.0.0.1', %s, %s, UTC_TIMESTAMP(6))", (key, digest))
        r = api("POST", "/v1/tenants", raw=raw,
                headers={"Idempotency-Key": key, "Content-Type": "application/json"})
        p = assert_problem(r, 409, "conflict")
        self.assertIn("still running", p["detail"])
        self.assertEqual(self.tenant_rows(json.loads(raw)["domain"]), 0)

    @unittest.skipUnless(os.geteuid() == 0, "needs MariaDB's root over unix_socket")
    def test_claim_held_by_a_running_transaction_409_at_once(self):
        # The claim of a request still running is an uncommitted row: a twin
        # is answered 409 at once, without waiting for its lock, and once the
        # first gives up (rolls back) the key is free again.
        key = "signup-" + secrets.token_hex(12)
        body = signup_body()
        raw = json.dumps(body).encode()
        digest = hashlib.sha256(b"POST\0/v1/tenants\0" + raw).hexdigest()
        # the holder: a transaction of root's that claims the key and stays
        # open until the twin has been answered
        holder = connect("root")
        try:
            holder.begin()
            with holder.cursor() as cur:
                cur.execute("INSERT INTO idempotency_keys (principal, idem_key, request_hash, "
                            "created_at) VALUES ('a:127.0.0.1', %s, %s, UTC_TIMESTAMP(6))",
                            (key, digest))
            deadline = time.monotonic() + 10
            while root_sql_value("SELECT COUNT(*) FROM information_schema.INNODB_TRX") == "0":
                if time.monotonic() > deadline:
                    self.fail("the holder's transaction never showed in INNODB_TRX")
                # InnoDB refreshes this table only when it was not read for
                # 0.1 s: a faster poll would read a stale copy for ever
                time.sleep(0.15)
            t0 = time.monotonic()
            r = api("POST", "/v1/tenants", raw=raw,
                    headers={"Idempotency-Key": key, "Content-Type": "application/json"})
            self.assertLess(time.monotonic() - t0, 1.5, "the twin waited for the lock")
            p = assert_problem(r, 409, "conflict")
            self.assertIn("still running", p["detail"])
        finally:
            holder.rollback()
            holder.close()
        self.assertEqual(self.tenant_rows(body["domain"]), 0)
        r = api("POST", "/v1/tenants", raw=raw,
                headers={"Idempotency-Key": key, "Content-Type": "application/json"})
        self.assertEqual(r.status, 202, r)
        self.assertNotIn("idempotent-replayed", r.headers)
        self.assertEqual(self.tenant_rows(body["domain"]), 1)

    def test_refusal_is_replayed(self):
        key = "signup-" + secrets.token_hex(12)
        body = signup_body(email="admin@" + unique_domain())  # not at the domain
        r1 = api("POST", "/v1/tenants", body=body, headers={"Idempotency-Key": key})
        assert_problem(r1, 400, "validation-failed")
        r2 = api("POST", "/v1/tenants", body=body, headers={"Idempotency-Key": key})
        self.assertEqual(r2.status, 400, r2)
        self.assertEqual(r2.headers.get("idempotent-replayed"), "true", r2.headers)
        self.assertEqual(r2.headers.get("content-type", "").split(";")[0],
                         "application/problem+json")
        self.assertEqual(r2.body["type"], r1.body["type"])
        self.assertEqual(self.tenant_rows(body["domain"]), 0)

    def test_key_is_forgotten_after_24_hours(self):
        key = "signup-" + secrets.token_hex(12)
        r1 = api("POST", "/v1/tenants", body=signup_body(), headers={"Idempotency-Key": key})
        self.assertEqual(r1.status, 202, r1)
        sql("UPDATE idempotency_keys SET created_at = created_at - INTERVAL 25 HOUR "
            "WHERE idem_key = %s", (key,))
        other = signup_body()
        r2 = api("POST", "/v1/tenants", body=other, headers={"Idempotency-Key": key})
        self.assertEqual(r2.status, 202, r2)
        self.assertNotIn("idempotent-replayed", r2.headers)
        self.assertEqual(self.tenant_rows(other["domain"]), 1)

    def test_invalid_key_400(self):
        for key in ("k" * 256, "x" * 300, "with space", "caf\u00e9".encode().decode("latin-1")):
            body = signup_body()
            r = api("POST", "/v1/tenants", body=body, headers={"Idempotency-Key": key})
            p = assert_problem(r, 400, "validation-failed")
            self.assertIn("Idempotency-Key", field_errors(p), p)
            self.assertEqual(self.tenant_rows(body["domain"]), 0, key)

    def test_key_of_255_characters_accepted(self):
        body = signup_body()
        r = api("POST", "/v1/tenants", body=body,
                headers={"Idempotency-Key": "~" + secrets.token_hex(127)})
        self.assertEqual(r.status, 202, r)
        self.assertEqual(self.tenant_rows(body["domain"]), 1)


# ====================================================================
class TestSignIn(unittest.TestCase):
    """POST /v1/auth/token and the lock-out."""

    @pytest.fixture(autouse=True)
    def _world(self, class_tenant):
        self.t = class_tenant

    def failures_row(self, username, addr="127.0.0.1"):
        h = failures_key(username, addr)
        return sql("SELECT failures, locked_until IS NOT NULL, locked_until > UTC_TIMESTAMP(6) "
                   "FROM signin_failures WHERE username_hash = %s", (h,))

    def test_success_and_token_claims(self):
        r = sign_in(self.t.email, self.t.password)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers.get("content-type", "").split(";")[0], "application/json")
        self.assertEqual(set(r.body), {"accessToken", "tokenType", "expiresIn", "sessionId",
                                       "refreshToken"}, r.body)
        self.assertEqual(r.body["tokenType"], "Bearer")
        self.assertEqual(r.body["expiresIn"], 900)
        self.assertNotIn(self.t.password, r.raw.decode())
        token = r.body["accessToken"]
        header, claims, sig = jwt_parts(token)
        self.assertEqual(header.get("alg"), "ES256", header)
        self.assertIn(header.get("typ", "JWT"), ("JWT",), header)
        jwks = api("GET", "/.well-known/jwks.json")
        self.assertEqual(jwks.status, 200, jwks)
        self.assertEqual(header.get("kid"), jwks.body["keys"][0]["kid"])
        for claim in ("iss", "aud", "sub", "tid", "sid", "roles", "iat", "nbf", "exp", "jti"):
            self.assertIn(claim, claims, claims)
        self.assertEqual(claims["iss"], OUR_ISSUER)
        aud = claims["aud"]
        self.assertTrue(aud == AUDIENCE or (isinstance(aud, list) and AUDIENCE in aud), aud)
        self.assertEqual(claims["sub"], self.t.admin_id)
        self.assertEqual(claims["tid"], self.t.id)
        self.assertEqual(claims["roles"], ["global_admin", "admin_agent"])
        now = time.time()
        self.assertLessEqual(abs(claims["iat"] - now), 30)
        self.assertLessEqual(claims["nbf"], claims["iat"] + 1)
        self.assertEqual(claims["exp"] - claims["iat"], 900)
        self.assertRegex(claims["jti"], UUID_RE)
        self.assertEqual(claims["sid"], r.body["sessionId"])
        self.assertEqual(len(sig), 64)
        self.assertTrue(es256_verifies(token), "the token does not verify with our public key")
        # a second sign-in gets another token id
        self.assertNotEqual(jwt_parts(access_token(self.t.email, self.t.password))[1]["jti"],
                            claims["jti"])
        # and the token works
        me = api("GET", "/v1/me", headers=bearer(token))
        self.assertEqual(me.status, 200, me)

    def test_wrong_password_and_unknown_user_same_answer(self):
        u = new_user(self.t, ["sales_agent"])
        wrong = sign_in(u.email, "not the password at all")
        p1 = assert_problem(wrong, 401, "unauthenticated")
        unknown = sign_in("nobody-%s@%s" % (secrets.token_hex(4), unique_domain()),
                          "not the password at all")
        p2 = assert_problem(unknown, 401, "unauthenticated")
        self.assertEqual(p1["detail"], p2["detail"])
        self.assertEqual(p1["title"], p2["title"])
        self.assertEqual(set(p1), set(p2))
        self.assertEqual(wrong.headers.get("www-authenticate"),
                         unknown.headers.get("www-authenticate"))
        self.assertEqual(wrong.headers.get("www-authenticate"), "Bearer")  # as every 401
        self.assertNotIn("retry-after", wrong.headers)

    def test_bad_bodies_400(self):
        cases = [
            ({}, {"username": "required", "password": "required"}),
            ({"username": self.t.email}, {"password": "required"}),
            ({"username": 5, "password": "x" * 12}, {"username": "wrong_type"}),
            ({"username": self.t.email, "password": ["x"]}, {"password": "wrong_type"}),
            # both steps of a sign-in share the body: its fields are each
            # optional, and a null is a field not given
            ({"username": self.t.email, "password": None}, {"password": "required"}),
            ({"username": self.t.email, "password": "x" * 12, "tenant": "a"},
             {"tenant": "unknown_field"}),
            ({"username": "a" * 255, "password": "x" * 12}, {"username": "too_long"}),
        ]
        for body, errors in cases:
            r = api("POST", "/v1/auth/token", body=body)
            p = assert_problem(r, 400, "validation-failed")
            self.assertEqual(field_errors(p), errors, body)
        r = api("POST", "/v1/auth/token", raw=b'{"username":', headers={"Content-Type":
                                                                          "application/json"})
        assert_problem(r, 400, "malformed-json")
        r = api("POST", "/v1/auth/token", raw=b"username=a&password=b",
                headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert_problem(r, 415, "unsupported-media-type")

    def test_stale_authorization_header_is_ignored_on_open_routes(self):
        for auth in ("Bearer garbage", "Basic eHl6", "Bearer tt_" + "A" * 43):
            r = api("POST", "/v1/auth/token", body={"username": self.t.email,
                                                     "password": self.t.password},
                    headers={"Authorization": auth})
            self.assertEqual(r.status, 200, (auth, r))
            self.assertEqual(api("GET", "/healthz", headers={"Authorization": auth}).status, 200)
            self.assertEqual(api("GET", "/.well-known/jwks.json",
                                 headers={"Authorization": auth}).status, 200)

    def assertLockedOut(self, username, right_password):
        for i in range(10):
            r = sign_in(username, "wrong password number %d" % i)
            assert_problem(r, 401, "unauthenticated")
            self.assertNotIn("retry-after", r.headers)
        rows = self.failures_row(username)
        self.assertEqual(rows, [["10", "1", "1"]], "signin_failures row of %s" % username)
        r = sign_in(username, right_password)
        p = assert_problem(r, 429, "too-many-requests")
        ra = r.headers.get("retry-after", "")
        self.assertRegex(ra, r"^[0-9]+$", r.headers)
        self.assertGreater(int(ra), 0)
        self.assertLessEqual(int(ra), 900)
        self.assertNotIn("accessToken", p)
        # still locked, whatever the password
        r = sign_in(username, "yet another wrong one")
        assert_problem(r, 429, "too-many-requests")
        self.assertIn("retry-after", r.headers)
        self.assertEqual(self.failures_row(username)[0][0], "10")
        return p

    def test_lockout_of_a_user(self):
        u = new_user(self.t, ["sales_agent"])
        self.assertLockedOut(u.email, u.password)
        # the user name is what is locked, in any letter case
        r = sign_in(u.email.upper(), u.password)
        assert_problem(r, 429, "too-many-requests")
        # once the lock has run out (moved to the past here), the right
        # password works again and the failures are forgotten
        h = failures_key(u.email)
        sql("UPDATE signin_failures SET locked_until = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND, "
            "window_start = UTC_TIMESTAMP(6) - INTERVAL 30 MINUTE WHERE username_hash = %s", (h,))
        r = sign_in(u.email, u.password)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.failures_row(u.email), [])

    def test_lockout_of_an_unknown_name(self):
        name = "ghost-%s@%s" % (secrets.token_hex(4), unique_domain())
        self.assertEqual(sql_value("SELECT COUNT(*) FROM users WHERE email = %s", (name,)), "0")
        self.assertLockedOut(name, PASSWORD)

    def test_lockout_holds_under_concurrent_attempts(self):
        # 30 wrong passwords at once: no more than 10 may be checked (401);
        # every other attempt must meet the lock (429)
        u = new_user(self.t, ["sales_agent"])
        n = 30
        results = [None] * n
        barrier = threading.Barrier(n)

        def attempt(i):
            barrier.wait()
            try:
                results[i] = sign_in(u.email, "wrong password %d" % i)
            except Exception as e:  # reported below
                results[i] = e

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(120)
        statuses = []
        for r in results:
            self.assertNotIsInstance(r, Exception, results)
            statuses.append(r.status)
            if r.status == 401:
                assert_problem(r, 401, "unauthenticated")
            else:
                assert_problem(r, 429, "too-many-requests")
        checked = statuses.count(401)
        self.assertLessEqual(checked, 10, "%d of %d concurrent wrong passwords were checked "
                             "(signin_failures: %r)" % (checked, n, self.failures_row(u.email)))
        assert_problem(sign_in(u.email, u.password), 429, "too-many-requests")

    def test_success_clears_failures(self):
        u = new_user(self.t, ["sales_agent"])
        for _ in range(3):
            assert_problem(sign_in(u.email, "wrong wrong wrong"), 401, "unauthenticated")
        self.assertEqual(self.failures_row(u.email)[0][0], "3")
        self.assertEqual(sign_in(u.email, u.password).status, 200)
        self.assertEqual(self.failures_row(u.email), [])


# ====================================================================
class TestJwks(unittest.TestCase):

    def test_jwks(self):
        r = api("GET", "/.well-known/jwks.json")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers.get("content-type", "").split(";")[0],
                         "application/jwk-set+json")
        body = json.loads(r.raw)
        self.assertEqual(set(body), {"keys"})
        self.assertEqual(len(body["keys"]), 1, body)
        k = body["keys"][0]
        self.assertEqual((k.get("kty"), k.get("crv"), k.get("alg"), k.get("use")),
                         ("EC", "P-256", "ES256", "sig"), k)
        for private in ("d", "p", "q", "dp", "dq", "qi", "k"):
            self.assertNotIn(private, k)
        x, y = public_key_point()
        self.assertEqual(b64u_decode(k["x"]), x)
        self.assertEqual(b64u_decode(k["y"]), y)
        # kid is the RFC 7638 thumbprint
        canon = '{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}' % (b64u(x), b64u(y))
        self.assertEqual(k["kid"], b64u(hashlib.sha256(canon.encode()).digest()))


# ====================================================================
class TestMe(unittest.TestCase, AuthRefusals):

    @pytest.fixture(autouse=True)
    def _world(self, class_tenant):
        self.t = class_tenant

    def test_me_with_jwt(self):
        r = api("GET", "/v1/me", headers=self.t.auth)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, {"userId": self.t.admin_id, "tenantId": self.t.id,
                                  "roles": ["global_admin", "admin_agent"], "partnerTypes": []})

    def test_me_with_api_token(self):
        tok = new_api_token(self.t, ["customers:read", "profiles:read"])
        r = api("GET", "/v1/me", headers=bearer(tok["token"]))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, {"userId": self.t.admin_id, "tenantId": self.t.id, "roles": [],
                                  "partnerTypes": [], "tokenId": tok["id"],
                                  "tokenScopes": ["profiles:read", "customers:read"]})

    def test_no_authorization_401(self):
        r = api("GET", "/v1/me")
        assert_problem(r, 401, "unauthenticated")
        self.assertEqual(r.headers.get("www-authenticate"), "Bearer")

    def test_other_schemes_401(self):
        self.assertRefused("Basic eHl6OnBhc3N3b3Jk")
        self.assertRefused("Basic xyz")
        self.assertRefused("Token " + self.t.token)
        self.assertRefused(self.t.token)          # no scheme at all
        self.assertRefused("Bearer ")
        self.assertRefused("Bearer tt_short", "the API token is malformed")
        self.assertRefused("Bearer tt_" + secrets.token_urlsafe(32)[:43],
                           "the API token is not known")


# ====================================================================
class TestJwtAttacks(unittest.TestCase, AuthRefusals):
    """Forged and tampered tokens on GET /v1/me: each is 401 with the
    reason in the detail and in the log."""

    MALFORMED = "the token is malformed"
    BAD_ALG = "the token's algorithm is not accepted"
    BAD_SIG = "the token's signature is invalid"

    @pytest.fixture(autouse=True)
    def _world(self, class_tenant):
        self.t = class_tenant

    def claims(self, **over):
        return claims_for(self.t.admin_id, self.t.id, **over)

    def test_forged_token_with_our_key_is_accepted(self):
        # the control: the forging itself is right, so the refusals below
        # are about what each test changes
        r = api("GET", "/v1/me", headers=bearer(make_jwt(self.claims())))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["userId"], self.t.admin_id)

    def test_alg_none(self):
        payload = b64u_json(self.claims())
        for alg in ("none", "NONE", "None", "nOnE"):
            head = b64u_json({"alg": alg, "typ": "JWT"})
            self.assertRefused("Bearer %s.%s." % (head, payload), (self.MALFORMED, self.BAD_ALG))
            self.assertRefused("Bearer %s.%s.%s" % (head, payload, b64u(b"signature")),
                               self.BAD_ALG)
            # with a genuine ES256 signature over the same input
            sig = b64u(sign("ES256", ("%s.%s" % (head, payload)).encode()))
            self.assertRefused("Bearer %s.%s.%s" % (head, payload, sig), self.BAD_ALG)
        # no alg at all, and alg of another type
        for header in ({"typ": "JWT"}, {"alg": None}, {"alg": ["ES256"]}, {"alg": "es256"}):
            head = b64u_json(header)
            sig = b64u(sign("ES256", ("%s.%s" % (head, payload)).encode()))
            self.assertRefused("Bearer %s.%s.%s" % (head, payload, sig), self.BAD_ALG)

    def test_hs256_with_the_public_key_as_secret(self):
        with open(env("TWOTIER_JWT_PUBLIC_KEY_FILE"), "rb") as f:
            pem = f.read()
        for secret in (pem, pem.strip()):
            self.assertRefused("Bearer " + make_jwt(self.claims(), "HS256", secret), self.BAD_ALG)
        # and RS256 signed by the IdP's key, claiming our issuer
        self.assertRefused("Bearer " + make_jwt(self.claims(), "RS256"), self.BAD_ALG)

    def test_missing_or_bad_exp(self):
        self.assertRefused("Bearer " + make_jwt(self.claims(exp=DROP)), "the token has no expiry")
        for bad in ("9999999999", None, -1, 1e300, [1]):
            self.assertRefused("Bearer " + make_jwt(self.claims(exp=bad)))

    def test_expired(self):
        now = int(time.time())
        self.assertRefused("Bearer " + make_jwt(self.claims(exp=now - 120, iat=now - 1000,
                                                            nbf=now - 1000)),
                           "the token has expired")
        # inside the 60 s leeway it still counts
        r = api("GET", "/v1/me", headers=bearer(make_jwt(self.claims(exp=now - 10))))
        self.assertEqual(r.status, 200, r)

    def test_not_yet_valid(self):
        now = int(time.time())
        self.assertRefused("Bearer " + make_jwt(self.claims(nbf=now + 300)),
                           "the token is not valid yet")

    def test_wrong_issuer(self):
        for iss in ("evil", "twotier-local ", "TWOTIER-LOCAL", None, DROP):
            self.assertRefused("Bearer " + make_jwt(self.claims(iss=iss)),
                               "the token's issuer is not accepted")

    def test_wrong_audience(self):
        for aud in ("other-api", ["other-api"], [], "twotier-api-x", None, DROP):
            self.assertRefused("Bearer " + make_jwt(self.claims(aud=aud)),
                               "the token's audience is not accepted")

    def test_audience_array_containing_ours_accepted(self):
        token = make_jwt(self.claims(aud=["other-api", AUDIENCE]))
        r = api("GET", "/v1/me", headers=bearer(token))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["userId"], self.t.admin_id)

    def test_payload_changed_after_signing(self):
        token = make_jwt(self.claims())
        h, p, s = token.split(".")
        other = new_tenant()
        changed = [
            self.claims(sub=other.admin_id, tid=other.id),
            dict(json.loads(b64u_decode(p)), exp=int(time.time()) + 86400),
            dict(json.loads(b64u_decode(p)), roles=["operator"]),
        ]
        for claims in changed:
            self.assertRefused("Bearer %s.%s.%s" % (h, b64u_json(claims), s), self.BAD_SIG)
        # the header changed (kid added) with the old signature
        h2 = b64u_json({"alg": "ES256", "typ": "JWT", "kid": "x"})
        self.assertRefused("Bearer %s.%s.%s" % (h2, p, s), self.BAD_SIG)
        # one bit of the signature flipped
        raw = bytearray(b64u_decode(s))
        raw[10] ^= 1
        self.assertRefused("Bearer %s.%s.%s" % (h, p, b64u(bytes(raw))), self.BAD_SIG)
        # the signature in DER (as openssl makes it) instead of r || s
        der = ecdsa_raw_to_der(b64u_decode(s))
        self.assertRefused("Bearer %s.%s.%s" % (h, p, b64u(der)), self.BAD_SIG)
        # the untouched token is fine
        self.assertEqual(api("GET", "/v1/me", headers=bearer(token)).status, 200)

    def test_structure(self):
        token = make_jwt(self.claims())
        h, p, s = token.split(".")
        cases = [
            "%s.%s." % (h, p),              # signature removed
            "%s.%s" % (h, p),               # two segments
            "%s.%s.%s.%s" % (h, p, s, s),   # four segments
            "%s.%s.%s." % (h, p, s),
            "%s.%s.%s*" % (h, p, s),        # not base64url
            "%s.%s.%s==" % (h, p, s),       # padding
            "%s.%s.%s" % (h.replace("e", "+", 1) if "e" in h else h + "+", p, s),
            "..",
            ".%s.%s" % (p, s),
            "%s..%s" % (h, s),
            "%s.%s.%s" % (b64u("not json"), p, s),
            "%s.%s.%s" % (b64u("[1,2]"), p, s),
            "%s.%s.%s" % (h, b64u('"a string"'), s),
        ]
        for bad in cases:
            self.assertRefused("Bearer " + bad, self.MALFORMED)

    def test_oversized_token(self):
        # 9 KiB, validly signed: refused for its size alone
        token = make_jwt(self.claims(pad="p" * 9 * 1024))
        self.assertGreater(len(token), 9 * 1024)
        self.assertRefused("Bearer " + token, "the token is larger than 8 KiB")
        # just under 8 KiB is fine
        base = len(make_jwt(self.claims(pad="")))
        fill = (8192 - base) * 3 // 4 - 4
        token = make_jwt(self.claims(pad="p" * fill))
        self.assertLessEqual(len(token), 8192)
        self.assertGreater(len(token), 8000)
        r = api("GET", "/v1/me", headers=bearer(token))
        self.assertEqual(r.status, 200, r)

    def token_of_length(self, n):
        """A valid token of exactly N bytes (padded with claims)."""
        base = self.claims(pad="")
        for kid in ("", "k", "kk", "kkk"):
            hdr = {"alg": "ES256", "typ": "JWT"}
            if kid:
                hdr["kid"] = kid
            header = b64u_json(hdr)
            estimate = (n - len(header) - 88 - len(b64u_json(base))) * 3 // 4
            for fill in range(max(0, estimate - 8), estimate + 8):
                claims = dict(base, pad="p" * fill)
                if len(header) + 1 + len(b64u_json(claims)) + 1 + 86 == n:
                    token = make_jwt(claims, header=hdr)
                    self.assertEqual(len(token), n)
                    return token
        raise AssertionError("no token of %d bytes" % n)

    def test_size_limit_is_8_kib(self):
        r = api("GET", "/v1/me", headers=bearer(self.token_of_length(8192)))
        self.assertEqual(r.status, 200, r)
        self.assertRefused("Bearer " + self.token_of_length(8193),
                           "the token is larger than 8 KiB")

    def test_typ_other_than_jwt(self):
        for typ in ("JOSE", "jwt+at", "", 1):
            token = make_jwt(self.claims(), header={"alg": "ES256", "typ": typ})
            self.assertRefused("Bearer " + token, "the token type is not JWT")
        # no typ at all is fine
        token = make_jwt(self.claims(), header={"alg": "ES256"})
        self.assertEqual(api("GET", "/v1/me", headers=bearer(token)).status, 200)

    def test_crit_header_refused(self):
        token = make_jwt(self.claims(), header={"alg": "ES256", "typ": "JWT", "crit": ["exp"]})
        self.assertRefused("Bearer " + token)

    def test_subject_and_tenant_must_match_a_user(self):
        other = new_tenant()
        for claims in (self.claims(sub=str(uuid.uuid4())),
                       self.claims(tid=other.id),
                       self.claims(tid=DROP),
                       self.claims(sub=other.admin_id)):
            self.assertRefused("Bearer " + make_jwt(claims))
        self.assertRefused("Bearer " + make_jwt(self.claims(sub=DROP)), "the token has no subject")
        self.assertRefused("Bearer " + make_jwt(self.claims(sub="")), "the token has no subject")


# ====================================================================
class TestRevocationTakesEffect(unittest.TestCase, AuthRefusals):
    """Roles and the disabled flag are read on every request."""

    @pytest.fixture(autouse=True)
    def _world(self, class_tenant):
        self.t = class_tenant

    def patch_user(self, user_id, etag, body):
        return api("PATCH", "/v1/users/" + user_id, body=body,
                   headers=dict(self.t.auth, **{"If-Match": etag}))

    def test_disabled_user_token_refused_at_once(self):
        u = new_user(self.t, ["global_admin", "admin_agent"])
        token = access_token(u.email, u.password)
        self.assertEqual(api("GET", "/v1/me", headers=bearer(token)).status, 200)
        r = self.patch_user(u.id, u.etag, {"disabled": True})
        self.assertEqual(r.status, 200, r)
        self.assertIs(r.body["disabled"], True)
        self.assertEqual(user_row(u.id)[1], "1")
        self.assertRefused("Bearer " + token, "the user is disabled")
        self.assertRefused("Bearer " + token, "the user is disabled", path="/v1/users")
        # signing in again: the same answer as a wrong password
        wrong = assert_problem(sign_in(u.email, "a wrong password!"), 401, "unauthenticated")
        disabled = assert_problem(sign_in(u.email, u.password), 401, "unauthenticated")
        self.assertEqual(disabled["detail"], wrong["detail"])

    def test_removed_role_forbidden_at_once(self):
        u = new_user(self.t, ["admin_agent"])
        token = access_token(u.email, u.password)
        self.assertEqual(api("GET", "/v1/users", headers=bearer(token)).status, 200)
        r = self.patch_user(u.id, u.etag, {"roles": ["sales_agent"]})
        self.assertEqual(r.status, 200, r)
        r = api("GET", "/v1/users", headers=bearer(token))
        p = assert_problem(r, 403, "forbidden")
        self.assertIn("admin_agent", p["detail"])
        me = api("GET", "/v1/me", headers=bearer(token))
        self.assertEqual(me.status, 200, me)
        self.assertEqual(me.body["roles"], ["sales_agent"])
        # the token still says admin_agent; the database decides
        self.assertIn("admin_agent", jwt_parts(token)[1]["roles"])

    def test_forged_role_claims_grant_nothing(self):
        u = new_user(self.t, ["sales_agent"])
        token = make_jwt(claims_for(u.id, self.t.id, roles=["global_admin", "admin_agent",
                                                             "operator"]))
        self.assertEqual(api("GET", "/v1/me", headers=bearer(token)).body["roles"],
                         ["sales_agent"])
        assert_problem(api("GET", "/v1/users", headers=bearer(token)), 403, "forbidden")


# ====================================================================
@pytest.fixture(scope="class")
def external_user(class_tenant):
    """A user of the class's tenant with a subject at the external issuer."""
    subject = "kc-" + secrets.token_hex(8)
    r, body = create_user(class_tenant, ["sales_agent"], externalSubject=subject)
    if r.status != 201:
        raise AssertionError("user with an external subject: %r" % (r,))
    return SimpleNamespace(issuer=env("TWOTIER_IDP_ISSUER"), subject=subject, id=r.body["id"],
                           status=r.status)


class TestExternalIssuer(unittest.TestCase, AuthRefusals):
    """Tokens of the stand-in external identity provider (RS256)."""

    @pytest.fixture(autouse=True)
    def _world(self, class_tenant, external_user):
        self.t = class_tenant
        self.issuer = external_user.issuer
        self.subject = external_user.subject
        self.user_id = external_user.id
        self.user_status = external_user.status

    def idp_claims(self, **over):
        now = int(time.time())
        c = {"iss": self.issuer, "aud": AUDIENCE, "sub": self.subject, "iat": now, "nbf": now,
             "exp": now + 300, "jti": str(uuid.uuid4())}
        c.update(over)
        return {k: v for k, v in c.items() if v is not DROP}

    def test_user_row_carries_the_subject(self):
        self.assertEqual(sql("SELECT tenant_id, external_issuer, external_subject FROM users "
                             "WHERE id = %s", (self.user_id,)),
                         [[self.t.id, self.issuer, self.subject]])

    def test_idp_token_maps_to_the_user(self):
        token = make_jwt(self.idp_claims(), "RS256")
        r = api("GET", "/v1/me", headers=bearer(token))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, {"userId": self.user_id, "tenantId": self.t.id,
                                  "roles": ["sales_agent"], "partnerTypes": []})
        # its roles are the user's: no admin routes
        assert_problem(api("GET", "/v1/users", headers=bearer(token)), 403, "forbidden")
        # aud as an array works as well
        token = make_jwt(self.idp_claims(aud=["account", AUDIENCE]), "RS256")
        self.assertEqual(api("GET", "/v1/me", headers=bearer(token)).status, 200)

    def test_unknown_subject_401(self):
        self.assertRefused("Bearer " + make_jwt(self.idp_claims(sub="kc-unknown-"
                                                                + secrets.token_hex(6)),
                                                "RS256"),
                           "the token's user does not exist")
        # the user's own id is not its subject
        self.assertRefused("Bearer " + make_jwt(self.idp_claims(sub=self.user_id), "RS256"),
                           "the token's user does not exist")

    def test_idp_issuer_with_our_key_401(self):
        token = make_jwt(self.idp_claims(), "ES256")
        self.assertRefused("Bearer " + token, "the token's algorithm is not accepted")
        with open(env("TWOTIER_JWT_PUBLIC_KEY_FILE"), "rb") as f:
            secret = f.read()
        self.assertRefused("Bearer " + make_jwt(self.idp_claims(), "HS256", secret),
                           "the token's algorithm is not accepted")

    def test_idp_token_checks(self):
        now = int(time.time())
        self.assertRefused("Bearer " + make_jwt(self.idp_claims(aud="account"), "RS256"),
                           "the token's audience is not accepted")
        self.assertRefused("Bearer " + make_jwt(self.idp_claims(exp=now - 120), "RS256"),
                           "the token has expired")
        self.assertRefused("Bearer " + make_jwt(self.idp_claims(exp=DROP), "RS256"),
                           "the token has no expiry")
        token = make_jwt(self.idp_claims(), "RS256")
        h, p, s = token.split(".")
        tampered = b64u_json(self.idp_claims(sub="kc-other"))
        self.assertRefused("Bearer %s.%s.%s" % (h, tampered, s),
                           "the token's signature is invalid")

    def test_external_subject_taken_409(self):
        r, body = create_user(self.t, ["sales_agent"], externalSubject=self.subject)
        assert_problem(r, 409, "conflict")
        self.assertEqual(sql_value("SELECT COUNT(*) FROM users WHERE email = %s",
                                   (body["email"],)), "0")

    def test_external_subject_invalid_400(self):
        for bad, code in (("", "invalid"), ("x" * 256, "too_long"), (5, "wrong_type")):
            r, body = create_user(self.t, ["sales_agent"], externalSubject=bad)
            p = assert_problem(r, 400, "validation-failed")
            self.assertEqual(field_errors(p), {"externalSubject": code}, p)

    def test_disabled_external_user_401(self):
        subject = "kc-" + secrets.token_hex(8)
        r, _ = create_user(self.t, ["sales_agent"], externalSubject=subject)
        self.assertEqual(r.status, 201, r)
        token = make_jwt(self.idp_claims(sub=subject), "RS256")
        self.assertEqual(api("GET", "/v1/me", headers=bearer(token)).status, 200)
        p = api("PATCH", "/v1/users/" + r.body["id"], body={"disabled": True},
                headers=dict(self.t.auth, **{"If-Match": r.body["etag"]}))
        self.assertEqual(p.status, 200, p)
        self.assertRefused("Bearer " + token, "the user is disabled")


# ====================================================================
class TestUsers(unittest.TestCase):
    """/v1/users and /v1/users/{id}."""

    @pytest.fixture(autouse=True)
    def _world(self, class_tenants):
        self.a, self.b = class_tenants

    def patch(self, user_id, body, etag=None, tenant=None):
        h = dict((tenant or self.a).auth)
        if etag is not None:
            h["If-Match"] = etag
        return api("PATCH", "/v1/users/" + user_id, body=body, headers=h)

    # ------------------------------------------------ who may touch admins

    def test_admin_agent_cannot_make_a_global_admin(self):
        t = new_tenant()
        agent = new_user(t, ["admin_agent"])
        agent_auth = bearer(access_token(agent.email, agent.password))
        # not by creating one
        r = api("POST", "/v1/users", body=user_body(t, ["global_admin"]), headers=agent_auth)
        assert_problem(r, 403, "forbidden")
        # not by promoting itself
        r = api("PATCH", "/v1/users/" + agent.id, body={"roles": ["admin_agent", "global_admin"]},
                headers=dict(agent_auth, **{"If-Match": agent.etag}))
        assert_problem(r, 403, "forbidden")
        self.assertEqual(user_roles(agent.id), ["admin_agent"])
        # not by disabling the global admin
        etag = api("GET", "/v1/users/" + t.admin_id, headers=t.auth).body["etag"]
        r = api("PATCH", "/v1/users/" + t.admin_id, body={"disabled": True},
                headers=dict(agent_auth, **{"If-Match": etag}))
        assert_problem(r, 403, "forbidden")
        self.assertEqual(user_row(t.admin_id)[1], "0")
        # a global admin may promote it
        r = self.patch(agent.id, {"roles": ["admin_agent", "global_admin"]}, agent.etag, tenant=t)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(sorted(r.body["roles"]), ["admin_agent", "global_admin"])

    def test_if_match_star_matches_any_version(self):
        u = new_user(self.a, ["sales_agent"])
        r = self.patch(u.id, {"roles": ["helpdesk_agent"]}, "*")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["etag"], '"v2"')

    # ---------------------------------------------------------------- list

    def test_list_paginated(self):
        t = new_tenant()
        for _ in range(3):
            new_user(t, ["sales_agent"])
        db_ids = sorted(r[0] for r in sql("SELECT id FROM users WHERE tenant_id = %s", (t.id,)))
        self.assertEqual(len(db_ids), 4)
        first = api("GET", "/v1/users?limit=2", headers=t.auth)
        self.assertEqual(first.status, 200, first)
        self.assertEqual(len(first.body["items"]), 2)
        self.assertIsNotNone(first.body["links"]["next"], first.body)
        pages = follow_pages(self, "/v1/users?limit=2", t.auth)
        self.assertGreaterEqual(len(pages), 2)
        ids = [u["id"] for page in pages for u in page["items"]]
        self.assertEqual(len(ids), len(set(ids)), "items repeat across pages: %r" % ids)
        self.assertEqual(ids, db_ids)   # all of them, in id order
        for page in pages:
            self.assertEqual(page["totalCount"], 4)
            self.assertLessEqual(len(page["items"]), 2)
            for u in page["items"]:
                self.assertEqual(u["tenantId"], t.id)
                self.assertNotIn("password", u)
                self.assertNotIn("passwordHash", u)
        self.assertIsNone(pages[-1]["links"]["next"])
        # default page holds everything
        r = api("GET", "/v1/users", headers=t.auth)
        self.assertEqual([u["id"] for u in r.body["items"]], db_ids)
        self.assertIsNone(r.body["links"]["next"])

    def test_list_bad_parameters_400(self):
        for query, field in (("limit=0", "limit"), ("limit=201", "limit"), ("limit=abc", "limit"),
                             ("limit=-1", "limit"), ("limit=", "limit"), ("limit=2x", "limit"),
                             ("cursor=abc", "cursor"), ("cursor=%25%25", "cursor"),
                             ("cursor=" + b64u("x" * 36), "cursor"),
                             ("cursor=" + b64u(str(uuid.uuid4())) + "A", "cursor"),
                             ("limit=2&cursor=" + b64u("not-a-uuid"), "cursor")):
            r = api("GET", "/v1/users?" + query, headers=self.a.auth)
            p = assert_problem(r, 400, "validation-failed")
            self.assertIn(field, field_errors(p), (query, p))
        r = api("GET", "/v1/users?limit=200", headers=self.a.auth)
        self.assertEqual(r.status, 200, r)

    # ----------------------------------------------------------------- get

    def test_get_one(self):
        r = api("GET", "/v1/users/" + self.a.admin_id, headers=self.a.auth)
        self.assertEqual(r.status, 200, r)
        u = r.body
        self.assertEqual(r.headers.get("etag"), u["etag"])
        self.assertEqual(u["etag"], '"v1"')
        self.assertEqual(u["id"], self.a.admin_id)
        self.assertEqual(u["tenantId"], self.a.id)
        self.assertEqual(u["email"], self.a.email)
        self.assertEqual(u["roles"], ["global_admin", "admin_agent"])
        self.assertIs(u["disabled"], False)
        self.assertRegex(u["createdAt"], API_TIME_RE)
        self.assertRegex(u["updatedAt"], API_TIME_RE)
        self.assertIsNone(u["externalSubject"])
        self.assertEqual(set(u), {"id", "tenantId", "email", "firstName", "lastName", "roles",
                                  "disabled", "externalSubject", "createdAt", "updatedAt",
                                  "etag"})

    def test_other_tenant_and_unknown_ids_404(self):
        before = user_row(self.b.admin_id)
        for uid in (self.b.admin_id, str(uuid.uuid4()), "not-a-uuid",
                    self.b.admin_id.upper()):
            assert_problem(api("GET", "/v1/users/" + uid, headers=self.a.auth), 404, "not-found")
            r = self.patch(uid, {"disabled": True}, etag='"v1"')
            assert_problem(r, 404, "not-found")
            r = self.patch(uid, {"roles": ["sales_agent"]}, etag='"v1"')
            assert_problem(r, 404, "not-found")
        self.assertEqual(user_row(self.b.admin_id), before)
        self.assertEqual(user_roles(self.b.admin_id), ["admin_agent", "global_admin"])
        self.assertEqual(len(audit_rows(self.b.id, "user.update")), 0)

    # -------------------------------------------------------------- create

    def test_create(self):
        request_id = rid("user-create")
        r, body = create_user(self.a, ["sales_agent", "admin_agent"],
                              headers={"X-Request-Id": request_id})
        self.assertEqual(r.status, 201, r)
        u = r.body
        self.assertRegex(u["id"], UUID_RE)
        self.assertEqual(r.headers.get("location"), "/v1/users/" + u["id"])
        self.assertEqual(r.headers.get("etag"), '"v1"')
        self.assertEqual(u["etag"], '"v1"')
        self.assertEqual(u["roles"], ["admin_agent", "sales_agent"])
        self.assertEqual((u["email"], u["firstName"], u["lastName"], u["tenantId"], u["disabled"]),
                         (body["email"], "Grace", "Hopper", self.a.id, False))
        self.assertNotIn(body["password"], r.raw.decode())
        rows = sql("SELECT tenant_id, email, disabled, version, password_hash, external_subject "
                   "FROM users WHERE id = %s", (u["id"],))
        self.assertEqual(rows[0][:4], [self.a.id, body["email"], "0", "1"])
        self.assertTrue(rows[0][4].startswith("$argon2id$"), rows)
        self.assertIsNone(rows[0][5])
        self.assertEqual(user_roles(u["id"]), ["admin_agent", "sales_agent"])
        self.assertEqual(audit_rows(self.a.id, "user.create", u["id"]),
                         [["user", self.a.admin_id, "user.create", "user", u["id"], request_id,
                           "127.0.0.1"]])
        # the new user can sign in
        self.assertEqual(sign_in(body["email"], body["password"]).status, 200)
        got = api("GET", r.headers["location"], headers=self.a.auth)
        self.assertEqual(got.body, u)

    def test_create_duplicate_email_409(self):
        for email in (self.a.email, self.a.email.upper()):
            before = int(sql_value("SELECT COUNT(*) FROM users"))
            r, _ = create_user(self.a, ["sales_agent"], email=email)
            assert_problem(r, 409, "conflict")
            self.assertEqual(int(sql_value("SELECT COUNT(*) FROM users")), before)
        # another tenant's address is not this tenant's to give
        r, _ = create_user(self.a, ["sales_agent"], email=self.b.email)
        self.assertEqual(assert_problem(r, 422, "rule-refused")["code"], "email_not_at_domain")

    def test_concurrent_creates_same_email(self):
        email = "twin-%s@%s" % (secrets.token_hex(4), self.a.domain)
        results = parallel(*[lambda: create_user(self.a, ["sales_agent"], email=email)[0]] * 3)
        self.assertEqual(sorted(getattr(r, "status", r) for r in results), [201, 409, 409],
                         results)
        for r in results:
            if r.status == 409:
                assert_problem(r, 409, "conflict")
        self.assertEqual(sql_value("SELECT COUNT(*) FROM users WHERE email = %s", (email,)), "1")
        uid = sql_value("SELECT id FROM users WHERE email = %s", (email,))
        self.assertEqual(len(audit_rows(self.a.id, "user.create", uid)), 1)
        self.assertEqual(sql_value("SELECT COUNT(*) FROM audit_events a LEFT JOIN users u ON "
                                   "u.id = a.target_id WHERE a.tenant_id = %s AND a.action = "
                                   "'user.create' AND u.id IS NULL", (self.a.id,)), "0")

    def test_create_invalid_400(self):
        cases = [
            ({"roles": ["admin_agent", "wizard"]}, {"roles[1]": "unknown_role"}),
            ({"roles": ["Sales_Agent"]}, {"roles[0]": "unknown_role"}),
            ({"password": "elevenchars"}, {"password": "too_short"}),
            ({"email": "no-at-sign"}, {"email": "invalid"}),
            ({"firstName": ""}, {"firstName": "invalid"}),
            ({"roles": "admin_agent"}, {"roles": "wrong_type"}),
            ({"roles": [1]}, {"roles[0]": "wrong_type"}),
            ({"firstName": 5}, {"firstName": "wrong_type"}),
            ({"password": None}, {"password": "wrong_type"}),
            ({"roles": ["sales_agent"] * 7}, {"roles": "too_many"}),
            ({"nickname": "x"}, {"nickname": "unknown_field"}),
        ]
        for change, errors in cases:
            body = user_body(self.a, ["sales_agent"])
            body.update(change)
            r = api("POST", "/v1/users", body=body, headers=self.a.auth)
            p = assert_problem(r, 400, "validation-failed")
            self.assertEqual(field_errors(p), errors, change)
            self.assertEqual(sql_value("SELECT COUNT(*) FROM users WHERE email = %s",
                                       (str(body["email"]),)), "0")
        for missing in ("email", "password", "firstName", "lastName", "roles"):
            body = user_body(self.a, ["sales_agent"])
            del body[missing]
            r = api("POST", "/v1/users", body=body, headers=self.a.auth)
            p = assert_problem(r, 400, "validation-failed")
            self.assertEqual(field_errors(p), {missing: "required"}, missing)

    def test_create_operator_role_422(self):
        r, body = create_user(self.a, ["operator"])
        p = assert_problem(r, 422, "rule-refused")
        self.assertEqual(p.get("code"), "operator_role_refused", p)
        self.assertEqual(sql_value("SELECT COUNT(*) FROM users WHERE email = %s",
                                   (body["email"],)), "0")

    def test_create_with_idempotency_key(self):
        key = "user-" + secrets.token_hex(10)
        body = user_body(self.a, ["sales_agent"])
        h = dict(self.a.auth, **{"Idempotency-Key": key})
        r1 = api("POST", "/v1/users", body=body, headers=h)
        self.assertEqual(r1.status, 201, r1)
        r2 = api("POST", "/v1/users", body=body, headers=h)
        self.assertEqual(r2.status, 201, r2)
        self.assertEqual(r2.headers.get("idempotent-replayed"), "true")
        self.assertEqual(r2.raw, r1.raw)
        self.assertEqual(r2.headers.get("location"), r1.headers.get("location"))
        self.assertEqual(r2.headers.get("etag"), r1.headers.get("etag"))
        self.assertEqual(sql_value("SELECT COUNT(*) FROM users WHERE email = %s",
                                   (body["email"],)), "1")
        other = dict(body, firstName="Other")
        p = assert_problem(api("POST", "/v1/users", body=other, headers=h), 422, "rule-refused")
        self.assertEqual(p.get("code"), "idempotency_key_reused")
        # keys are per principal: another tenant's admin may use the same key
        r3 = api("POST", "/v1/users", body=user_body(self.b, ["sales_agent"]),
                 headers=dict(self.b.auth, **{"Idempotency-Key": key}))
        self.assertEqual(r3.status, 201, r3)
        self.assertNotIn("idempotent-replayed", r3.headers)

    # --------------------------------------------------------------- patch

    def test_patch_needs_if_match(self):
        u = new_user(self.a, ["sales_agent"])
        r = self.patch(u.id, {"roles": ["helpdesk_agent"]})
        assert_problem(r, 428, "precondition-required")
        for stale in ('"v2"', '"v0"', "v1", '"1"', '"v1x"', "abc"):
            r = self.patch(u.id, {"roles": ["helpdesk_agent"]}, etag=stale)
            assert_problem(r, 412, "precondition-failed")
        self.assertEqual(user_row(u.id), [self.a.id, "0", "1"])
        self.assertEqual(user_roles(u.id), ["sales_agent"])
        self.assertEqual(len(audit_rows(self.a.id, "user.update", u.id)), 0)

    def test_patch_changes_roles_and_version(self):
        u = new_user(self.a, ["sales_agent"])
        request_id = rid("user-update")
        r = api("PATCH", "/v1/users/" + u.id, body={"roles": ["billing_admin", "helpdesk_agent"]},
                headers=dict(self.a.auth, **{"If-Match": '"v1"', "X-Request-Id": request_id}))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["etag"], '"v2"')
        self.assertEqual(r.headers.get("etag"), '"v2"')
        self.assertEqual(r.body["roles"], ["helpdesk_agent", "billing_admin"])
        self.assertIs(r.body["disabled"], False)
        self.assertEqual(user_row(u.id), [self.a.id, "0", "2"])
        self.assertEqual(user_roles(u.id), ["billing_admin", "helpdesk_agent"])
        self.assertEqual(audit_rows(self.a.id, "user.update", u.id),
                         [["user", self.a.admin_id, "user.update", "user", u.id, request_id,
                           "127.0.0.1"]])
        # the old ETag is stale now
        assert_problem(self.patch(u.id, {"disabled": True}, etag='"v1"'), 412,
                       "precondition-failed")
        self.assertEqual(user_row(u.id), [self.a.id, "0", "2"])
        # W/ is accepted; disabled alone keeps the roles
        r = self.patch(u.id, {"disabled": True}, etag='W/"v2"')
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["etag"], '"v3"')
        self.assertEqual(user_row(u.id), [self.a.id, "1", "3"])
        self.assertEqual(user_roles(u.id), ["billing_admin", "helpdesk_agent"])
        got = api("GET", "/v1/users/" + u.id, headers=self.a.auth)
        self.assertEqual(got.headers.get("etag"), '"v3"')
        self.assertEqual(got.body, r.body)
        self.assertEqual(len(audit_rows(self.a.id, "user.update", u.id)), 2)

    def test_concurrent_patches_with_one_etag(self):
        u = new_user(self.a, ["sales_agent"])
        bodies = [{"roles": ["helpdesk_agent"]}, {"roles": ["billing_admin"]},
                  {"disabled": True}]
        results = parallel(*[(lambda b=b: self.patch(u.id, b, etag='"v1"')) for b in bodies])
        statuses = sorted(getattr(r, "status", r) for r in results)
        self.assertEqual(statuses, [200, 412, 412], results)
        for r in results:
            if r.status == 412:
                assert_problem(r, 412, "precondition-failed")
        winner = [r for r in results if r.status == 200][0]
        self.assertEqual(user_row(u.id)[2], "2")
        self.assertEqual(len(audit_rows(self.a.id, "user.update", u.id)), 1)
        got = api("GET", "/v1/users/" + u.id, headers=self.a.auth)
        self.assertEqual(got.body, winner.body)

    def test_patch_invalid_400(self):
        u = new_user(self.a, ["sales_agent"])
        cases = [({}, "roles"), ({"roles": None}, "roles"), ({"disabled": None}, "roles"),
                 ({"roles": ["nope"]}, "roles[0]"), ({"disabled": "yes"}, "disabled"),
                 ({"roles": "sales_agent"}, "roles"), ({"email": "x@y.example"}, "email")]
        for body, field in cases:
            r = self.patch(u.id, body, etag='"v1"')
            p = assert_problem(r, 400, "validation-failed")
            self.assertIn(field, field_errors(p), (body, p))
        self.assertEqual(user_row(u.id), [self.a.id, "0", "1"])

    def test_patch_operator_role_422(self):
        u = new_user(self.a, ["sales_agent"])
        p = assert_problem(self.patch(u.id, {"roles": ["operator"]}, etag='"v1"'), 422,
                           "rule-refused")
        self.assertEqual(p.get("code"), "operator_role_refused")
        self.assertEqual(user_roles(u.id), ["sales_agent"])
        self.assertEqual(user_row(u.id)[2], "1")

    def test_last_global_admin(self):
        t = new_tenant()
        for body in ({"disabled": True}, {"roles": ["admin_agent"]}, {"roles": []},
                     {"roles": ["admin_agent"], "disabled": False}):
            r = self.patch(t.admin_id, body, etag='"v1"', tenant=t)
            p = assert_problem(r, 422, "rule-refused")
            self.assertEqual(p.get("code"), "last_global_admin", p)
        self.assertEqual(user_row(t.admin_id), [t.id, "0", "1"])
        self.assertEqual(user_roles(t.admin_id), ["admin_agent", "global_admin"])
        self.assertEqual(len(audit_rows(t.id, "user.update")), 0)
        # a disabled second global admin does not count
        second = new_user(t, ["global_admin"])
        r = self.patch(second.id, {"disabled": True}, etag='"v1"', tenant=t)
        self.assertEqual(r.status, 200, r)
        r = self.patch(t.admin_id, {"disabled": True}, etag='"v1"', tenant=t)
        self.assertEqual(assert_problem(r, 422, "rule-refused").get("code"), "last_global_admin")
        # an active one does: now the first may step down
        r = self.patch(second.id, {"disabled": False}, etag='"v2"', tenant=t)
        self.assertEqual(r.status, 200, r)
        r = self.patch(t.admin_id, {"roles": ["admin_agent"]}, etag='"v1"', tenant=t)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(user_roles(t.admin_id), ["admin_agent"])

    def test_two_global_admins_disabling_each_other(self):
        # the rule holds under concurrency: one of them stays
        for _ in range(3):
            t = new_tenant()
            second = new_user(t, ["global_admin", "admin_agent"])
            second_auth = bearer(access_token(second.email, second.password))
            r1, r2 = parallel(
                lambda: api("PATCH", "/v1/users/" + second.id, body={"disabled": True},
                            headers=dict(t.auth, **{"If-Match": '"v1"'})),
                lambda: api("PATCH", "/v1/users/" + t.admin_id, body={"disabled": True},
                            headers=dict(second_auth, **{"If-Match": '"v1"'})))
            for r in (r1, r2):
                self.assertNotIsInstance(r, Exception, (r1, r2))
            # One of them wins. The other is refused either by the rule (it
            # ran second: 422 last_global_admin) or, when the winner's change
            # committed before the loser was authenticated, because the loser
            # is now disabled (401): both are correct outcomes.
            statuses = sorted([r1.status, r2.status])
            self.assertIn(statuses, ([200, 401], [200, 422]), (r1, r2))
            refused = r1 if r1.status != 200 else r2
            if refused.status == 422:
                self.assertEqual(assert_problem(refused, 422, "rule-refused").get("code"),
                                 "last_global_admin")
            else:
                assert_problem(refused, 401, "unauthenticated")
            active = sql_value("SELECT COUNT(*) FROM users WHERE tenant_id = %s AND disabled = 0"
                               " AND FIND_IN_SET('global_admin', roles) > 0", (t.id,))
            self.assertEqual(active, "1")

    # -------------------------------------------------------------- access

    def test_sales_agent_403(self):
        u = new_user(self.a, ["sales_agent"])
        auth = bearer(access_token(u.email, u.password))
        calls = [("GET", "/v1/users", None), ("GET", "/v1/users/" + self.a.admin_id, None),
                 ("POST", "/v1/users", user_body(self.a, ["admin_agent"])),
                 ("PATCH", "/v1/users/" + u.id, {"roles": ["admin_agent"]}),
                 ("GET", "/v1/api-tokens", None),
                 ("POST", "/v1/api-tokens", {"name": "x", "scopes": ["profiles:read"],
                                             "expiresAt": future()}),
                 ("DELETE", "/v1/api-tokens/" + str(uuid.uuid4()), None),
                 ("GET", "/v1/audit-events", None)]
        for method, path, body in calls:
            h = dict(auth, **{"If-Match": '"v1"'}) if method == "PATCH" else auth
            r = api(method, path, body=body, headers=h)
            p = assert_problem(r, 403, "forbidden")
            self.assertIn("admin_agent", p["detail"], (method, path))
        self.assertEqual(user_roles(u.id), ["sales_agent"])
        self.assertEqual(user_row(u.id)[2], "1")
        me = api("GET", "/v1/me", headers=auth)
        self.assertEqual(me.status, 200, me)
        self.assertEqual(me.body["roles"], ["sales_agent"])

    def test_api_token_refused_on_users(self):
        tok = new_api_token(self.a, SCOPES)
        auth = bearer(tok["token"])
        for method, path, body in (("GET", "/v1/users", None),
                                   ("GET", "/v1/users/" + self.a.admin_id, None),
                                   ("POST", "/v1/users", user_body(self.a, ["sales_agent"])),
                                   ("PATCH", "/v1/users/" + self.a.admin_id, {"disabled": True})):
            h = dict(auth, **{"If-Match": '"v1"'}) if method == "PATCH" else auth
            p = assert_problem(api(method, path, body=body, headers=h), 403, "forbidden")
            self.assertIn("API tokens cannot", p["detail"], (method, path))
        self.assertEqual(user_row(self.a.admin_id)[1:], ["0", "1"])


# ====================================================================
class TestApiTokens(unittest.TestCase):

    @pytest.fixture(autouse=True)
    def _world(self, class_tenants):
        self.a, self.b = class_tenants

    def token_count(self, tenant):
        return int(sql_value("SELECT COUNT(*) FROM api_tokens WHERE tenant_id = %s", (tenant.id,)))

    def test_create(self):
        request_id = rid("token-create")
        expires = future(30)
        r = create_api_token(self.a, ["customers:read", "relationships:read"], expires=expires,
                             headers={"X-Request-Id": request_id})
        self.assertEqual(r.status, 201, r)
        t = r.body
        token = t["token"]
        self.assertRegex(token, r"^tt_[A-Za-z0-9_-]{43}$")
        self.assertEqual(len(token), 46)
        self.assertRegex(t["id"], UUID_RE)
        self.assertEqual(r.headers.get("location"), "/v1/api-tokens/" + t["id"])
        self.assertEqual(t["name"], "billing system")
        self.assertEqual(t["scopes"], ["relationships:read", "customers:read"])
        self.assertRegex(t["expiresAt"], API_TIME_RE)
        self.assertTrue(t["expiresAt"].startswith(expires[:-1]), (t["expiresAt"], expires))
        self.assertIsNone(t["lastUsedAt"])
        self.assertIsNone(t["revokedAt"])
        self.assertRegex(t["createdAt"], API_TIME_RE)
        self.assertEqual(t["createdBy"], self.a.admin_id)
        rows = sql("SELECT tenant_id, created_by, name, token_hash, scopes, revoked_at, "
                   "last_used_at FROM api_tokens WHERE id = %s", (t["id"],))
        self.assertEqual(rows, [[self.a.id, self.a.admin_id, "billing system",
                                 hashlib.sha256(token.encode()).hexdigest(),
                                 "relationships:read,customers:read", None, None]])
        secret = token[3:]
        leaks = sql_value(
            "SELECT COUNT(*) FROM api_tokens WHERE CONCAT_WS('|', id, tenant_id, created_by, "
            "name, token_hash, scopes, expires_at, IFNULL(last_used_at, ''), "
            "IFNULL(revoked_at, ''), created_at) LIKE %s", ("%" + secret[:20] + "%",))
        self.assertEqual(leaks, "0", "the token is stored in api_tokens")
        self.assertEqual(audit_rows(self.a.id, "api_token.create", t["id"]),
                         [["user", self.a.admin_id, "api_token.create", "api_token", t["id"],
                           request_id, "127.0.0.1"]])

    def test_list_never_contains_the_token(self):
        t = new_api_token(self.a)
        pages = follow_pages(self, "/v1/api-tokens?limit=2", self.a.auth)
        items = [i for p in pages for i in p["items"]]
        self.assertIn(t["id"], [i["id"] for i in items])
        self.assertEqual(len(items), self.token_count(self.a))
        self.assertEqual(pages[0]["totalCount"], self.token_count(self.a))
        for i in items:
            self.assertNotIn("token", i)
            self.assertNotIn("tokenHash", i)
            self.assertEqual(set(i), {"id", "name", "scopes", "expiresAt", "lastUsedAt",
                                      "suspendedReason", "revokedAt", "createdAt",
                                      "createdBy"}, i)
        r = api("GET", "/v1/api-tokens", headers=self.a.auth)
        self.assertNotIn(t["token"], r.raw.decode())
        self.assertNotIn(t["token"][3:], r.raw.decode())
        # tenant isolation
        r = api("GET", "/v1/api-tokens", headers=self.b.auth)
        self.assertNotIn(t["id"], [i["id"] for i in r.body["items"]])
        self.assertEqual(r.body["totalCount"], self.token_count(self.b))

    def test_use_sets_last_used(self):
        t = new_api_token(self.a)
        r = api("GET", "/v1/me", headers=bearer(t["token"]))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["tokenId"], t["id"])
        self.assertIsNotNone(sql_value("SELECT last_used_at FROM api_tokens WHERE id = %s",
                                       (t["id"],)))
        listed = [i for p in follow_pages(self, "/v1/api-tokens?limit=200", self.a.auth)
                  for i in p["items"] if i["id"] == t["id"]]
        self.assertRegex(listed[0]["lastUsedAt"] or "", API_TIME_RE)

    def test_revoke(self):
        t = new_api_token(self.a)
        auth = bearer(t["token"])
        self.assertEqual(api("GET", "/v1/me", headers=auth).status, 200)
        r = api("DELETE", "/v1/api-tokens/" + t["id"], headers=self.a.auth)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.raw, b"")
        self.assertIsNotNone(sql_value("SELECT revoked_at FROM api_tokens WHERE id = %s",
                                       (t["id"],)))
        r = api("DELETE", "/v1/api-tokens/" + t["id"], headers=self.a.auth)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(len(audit_rows(self.a.id, "api_token.revoke", t["id"])), 1)
        row = audit_rows(self.a.id, "api_token.revoke", t["id"])[0]
        self.assertEqual(row[:5], ["user", self.a.admin_id, "api_token.revoke", "api_token",
                                   t["id"]])
        r = api("GET", "/v1/me", headers=auth)
        p = assert_problem(r, 401, "unauthenticated")
        self.assertEqual(p["detail"], "the API token has been revoked")
        self.assertEqual(r.headers.get("www-authenticate"), "Bearer")
        listed = [i for p in follow_pages(self, "/v1/api-tokens?limit=200", self.a.auth)
                  for i in p["items"] if i["id"] == t["id"]]
        self.assertRegex(listed[0]["revokedAt"] or "", API_TIME_RE)

    def test_expired_token_401(self):
        t = new_api_token(self.a)
        self.assertEqual(api("GET", "/v1/me", headers=bearer(t["token"])).status, 200)
        sql("UPDATE api_tokens SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND "
            "WHERE id = %s", (t["id"],))
        p = assert_problem(api("GET", "/v1/me", headers=bearer(t["token"])), 401,
                           "unauthenticated")
        self.assertEqual(p["detail"], "the API token has expired")

    def test_token_expiring_soon(self):
        expires = api_time(datetime.now(timezone.utc) + timedelta(seconds=3))
        r = create_api_token(self.a, expires=expires)
        self.assertEqual(r.status, 201, r)
        auth = bearer(r.body["token"])
        self.assertEqual(api("GET", "/v1/me", headers=auth).status, 200)
        time.sleep(max(0.0, datetime.strptime(expires, "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=timezone.utc).timestamp() - time.time()) + 1.2)
        assert_problem(api("GET", "/v1/me", headers=auth), 401, "unauthenticated")

    def test_any_single_scope_reads_me(self):
        for scope in SCOPES:
            t = new_api_token(self.a, [scope])
            r = api("GET", "/v1/me", headers=bearer(t["token"]))
            self.assertEqual(r.status, 200, (scope, r))
            self.assertEqual(r.body["tokenScopes"], [scope])

    def test_token_without_scopes_403_on_me(self):
        t = new_api_token(self.a)
        sql("UPDATE api_tokens SET scopes = '' WHERE id = %s", (t["id"],))
        p = assert_problem(api("GET", "/v1/me", headers=bearer(t["token"])), 403, "forbidden")
        self.assertIn("scope", p["detail"])

    def test_idempotency_key_ignored_on_other_routes(self):
        bad = {"Idempotency-Key": "x" * 300}
        r = api("POST", "/v1/auth/token", body={"username": self.a.email,
                                                 "password": self.a.password}, headers=bad)
        self.assertEqual(r.status, 200, r)
        t = new_api_token(self.a)
        r = api("DELETE", "/v1/api-tokens/" + t["id"], headers=dict(self.a.auth, **bad))
        self.assertEqual(r.status, 204, r)

    def test_token_cannot_manage_tokens_or_read_audit(self):
        t = new_api_token(self.a, SCOPES)
        auth = bearer(t["token"])
        before = self.token_count(self.a)
        for method, path, body in (
                ("POST", "/v1/api-tokens", {"name": "x", "scopes": ["profiles:read"],
                                            "expiresAt": future()}),
                ("GET", "/v1/api-tokens", None),
                ("DELETE", "/v1/api-tokens/" + t["id"], None),
                ("GET", "/v1/audit-events", None)):
            p = assert_problem(api(method, path, body=body, headers=auth), 403, "forbidden")
            self.assertIn("API tokens cannot", p["detail"])
        self.assertEqual(self.token_count(self.a), before)
        self.assertIsNone(sql_value("SELECT revoked_at FROM api_tokens WHERE id = %s", (t["id"],)))

    def test_bad_inputs_400(self):
        now = datetime.now(timezone.utc)
        cases = [
            ({"scopes": ["nope"]}, {"scopes[0]": "unknown_scope"}),
            ({"scopes": ["profiles:read", "admin"]}, {"scopes[1]": "unknown_scope"}),
            ({"scopes": []}, {"scopes": "required"}),
            ({"scopes": "profiles:read"}, {"scopes": "wrong_type"}),
            ({"scopes": SCOPES + ["profiles:read"]}, {"scopes": "too_many"}),
            ({"expiresAt": api_time(now - timedelta(seconds=5))}, {"expiresAt": "in_the_past"}),
            ({"expiresAt": "2020-01-01T00:00:00Z"}, {"expiresAt": "in_the_past"}),
            ({"expiresAt": api_time(now + timedelta(days=800))}, {"expiresAt": "too_far"}),
            ({"expiresAt": "tomorrow"}, {"expiresAt": "invalid"}),
            ({"expiresAt": future()[:10]}, {"expiresAt": "invalid"}),
            ({"expiresAt": future()[:-1]}, {"expiresAt": "invalid"}),
            ({"expiresAt": future()[:-1] + "+02:00"}, {"expiresAt": "invalid"}),
            ({"expiresAt": future() + "x"}, {"expiresAt": "invalid"}),
            ({"expiresAt": (now + timedelta(days=400)).strftime("%Y") + "-13-01T00:00:00Z"},
             {"expiresAt": "invalid"}),
            ({"expiresAt": 1893456000}, {"expiresAt": "wrong_type"}),
            ({"name": "n" * 101}, {"name": "too_long"}),
            ({"name": "   "}, {"name": "invalid"}),
            ({"name": ""}, {"name": "invalid"}),
        ]
        before = self.token_count(self.a)
        wrong = []
        for change, errors in cases:
            body = {"name": "x", "scopes": ["profiles:read"], "expiresAt": future()}
            body.update(change)
            r = api("POST", "/v1/api-tokens", body=body, headers=self.a.auth)
            if r.status != 400:
                wrong.append("%r: HTTP %d %r" % (change, r.status, r.body))
                continue
            p = assert_problem(r, 400, "validation-failed")
            self.assertEqual(field_errors(p), errors, change)
        self.assertEqual(wrong, [])
        for missing in ("name", "scopes", "expiresAt"):
            body = {"name": "x", "scopes": ["profiles:read"], "expiresAt": future()}
            del body[missing]
            p = assert_problem(api("POST", "/v1/api-tokens", body=body, headers=self.a.auth), 400,
                               "validation-failed")
            self.assertEqual(field_errors(p), {missing: "required"})
        self.assertEqual(self.token_count(self.a), before)

    def test_impossible_calendar_dates_400(self):
        # strptime takes day 30 for any month; the date must not be shifted
        # silently (2027-02-30 became a token expiring on 2027-03-02)
        year = (datetime.now(timezone.utc) + timedelta(days=400)).year
        before = self.token_count(self.a)
        wrong = []
        for date in ("%d-02-30" % year, "%d-02-31" % year, "%d-04-31" % year,
                     "%d-06-31" % year, "%d-02-29" % (year if year % 4 else year + 1)):
            expires = date + "T00:00:00Z"
            r = create_api_token(self.a, expires=expires)
            if r.status != 400:
                wrong.append("%s: HTTP %d, stored expiresAt %r" % (expires, r.status,
                                                                   (r.body or {}).get("expiresAt")))
                continue
            p = assert_problem(r, 400, "validation-failed")
            self.assertEqual(field_errors(p), {"expiresAt": "invalid"}, expires)
        self.assertEqual(wrong, [], "impossible dates accepted")
        self.assertEqual(self.token_count(self.a), before)

    def test_expires_at_outside_the_documented_pattern_400(self):
        # doc/openapi.yaml's pattern for expiresAt:
        # ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|\+00:00)$
        year = (datetime.now(timezone.utc) + timedelta(days=400)).year
        before = self.token_count(self.a)
        wrong = []
        for expires in (" %d-01-31T00:00:00Z" % year, "%d-1-31T00:00:00Z" % year,
                        "%d-01-31T0:0:0Z" % year, "%d-01-3T00:00:00Z" % year):
            r = create_api_token(self.a, expires=expires)
            if r.status != 400:
                wrong.append("%r: HTTP %d, stored expiresAt %r" % (expires, r.status,
                                                                   (r.body or {}).get("expiresAt")))
                continue
            p = assert_problem(r, 400, "validation-failed")
            self.assertEqual(field_errors(p), {"expiresAt": "invalid"}, expires)
        self.assertEqual(wrong, [], "malformed expiresAt accepted")
        self.assertEqual(self.token_count(self.a), before)

    def test_expiry_limits_accepted(self):
        for expires in (future(729), future(1)[:-1] + ".5Z", future(2)[:-1] + "+00:00"):
            r = create_api_token(self.a, expires=expires)
            self.assertEqual(r.status, 201, (expires, r))

    def test_other_tenant_cannot_revoke_404(self):
        t = new_api_token(self.a)
        for tid in (t["id"], str(uuid.uuid4()), "nope"):
            r = api("DELETE", "/v1/api-tokens/" + tid, headers=self.b.auth)
            assert_problem(r, 404, "not-found")
        self.assertIsNone(sql_value("SELECT revoked_at FROM api_tokens WHERE id = %s", (t["id"],)))
        self.assertEqual(len(audit_rows(self.a.id, "api_token.revoke", t["id"])), 0)
        self.assertEqual(len(audit_rows(self.b.id, "api_token.revoke")), 0)
        self.assertEqual(api("GET", "/v1/me", headers=bearer(t["token"])).status, 200)

    def test_token_secret_not_stored_in_plaintext_anywhere(self):
        # SPEC 2: API tokens are "stored only as a SHA-256 hash". With an
        # Idempotency-Key the first response is kept for replays; it must not
        # keep the secret in clear either.
        since = log_offset()
        key = "token-" + secrets.token_hex(10)
        r = api("POST", "/v1/api-tokens", headers=dict(self.a.auth, **{"Idempotency-Key": key}),
                body={"name": "kept", "scopes": ["profiles:read"], "expiresAt": future()})
        self.assertEqual(r.status, 201, r)
        secret = r.body["token"][3:]
        pattern = "%" + secret.replace("_", "\\_") + "%"
        found = []
        for table, expr in (
                ("api_tokens", "CONCAT_WS('|', id, name, token_hash, scopes)"),
                ("idempotency_keys", "CONCAT_WS('|', principal, idem_key, request_hash, "
                                     "IFNULL(etag, ''), IFNULL(location, ''), IFNULL(body, ''))"),
                ("audit_events", "CONCAT_WS('|', actor_id, action, target_id, request_id)")):
            # TABLE and EXPR are the test's own SQL text, the pattern a value
            n = sql_value("SELECT COUNT(*) FROM %s WHERE %s LIKE %%s" % (table, expr), (pattern,))
            if n != "0":
                found.append(table)
        with open(fcgi_log_file(), "rb") as f:
            f.seek(since)
            if secret.encode() in f.read():
                found.append("twotier-fcgi.log")
        self.assertEqual(found, [], "the API token's secret is stored in clear")

    def test_concurrent_revokes_audited_once(self):
        t = new_api_token(self.a)
        results = parallel(*[lambda: api("DELETE", "/v1/api-tokens/" + t["id"],
                                         headers=self.a.auth)] * 4)
        self.assertEqual([getattr(r, "status", r) for r in results], [204] * 4)
        self.assertEqual(len(audit_rows(self.a.id, "api_token.revoke", t["id"])), 1)

    def test_create_with_idempotency_key_replays(self):
        key = "token-" + secrets.token_hex(10)
        body = {"name": "replayed", "scopes": ["profiles:read"], "expiresAt": future()}
        h = dict(self.a.auth, **{"Idempotency-Key": key})
        r1 = api("POST", "/v1/api-tokens", body=body, headers=h)
        self.assertEqual(r1.status, 201, r1)
        r2 = api("POST", "/v1/api-tokens", body=body, headers=h)
        self.assertEqual(r2.status, 201, r2)
        self.assertEqual(r2.headers.get("idempotent-replayed"), "true")
        # The secret is shown once and never stored: the replay shows null.
        self.assertTrue(r1.body["token"].startswith("tt_"))
        self.assertIsNone(r2.body["token"])
        self.assertEqual(dict(r2.body, token=None), dict(r1.body, token=None))
        self.assertEqual(r2.headers.get("location"), r1.headers.get("location"))
        self.assertEqual(sql_value("SELECT COUNT(*) FROM api_tokens WHERE tenant_id = %s AND "
                                   "name = 'replayed'", (self.a.id,)), "1")


# ====================================================================
@pytest.fixture(scope="class")
def audited(class_tenant):
    """Five audit events of the class's tenant, each with a request id of
    its own: the sign-up, the admin's grants, a user made, an API token
    made and revoked."""
    w = SimpleNamespace(user_rid=rid("audit-user"), token_rid=rid("audit-token"),
                        revoke_rid=rid("audit-revoke"))
    r, _ = create_user(class_tenant, ["sales_agent"], headers={"X-Request-Id": w.user_rid})
    assert r.status == 201, r
    w.user_id = r.body["id"]
    r = create_api_token(class_tenant, headers={"X-Request-Id": w.token_rid})
    assert r.status == 201, r
    w.token = r.body
    r = api("DELETE", "/v1/api-tokens/" + w.token["id"],
            headers=dict(class_tenant.auth, **{"X-Request-Id": w.revoke_rid}))
    assert r.status == 204, r
    return w


class TestAuditEvents(unittest.TestCase):

    @pytest.fixture(autouse=True)
    def _world(self, class_tenant, audited):
        self.t = class_tenant
        self.user_rid, self.user_id = audited.user_rid, audited.user_id
        self.token_rid, self.token = audited.token_rid, audited.token
        self.revoke_rid = audited.revoke_rid

    def test_events_newest_first(self):
        r = api("GET", "/v1/audit-events", headers=self.t.auth)
        self.assertEqual(r.status, 200, r)
        items = r.body["items"]
        self.assertEqual(r.body["totalCount"], 5)
        self.assertIsNone(r.body["links"]["next"])
        admin = {"type": "user", "id": self.t.admin_id}
        want = [
            ("api_token.revoke", admin, {"type": "api_token", "id": self.token["id"]},
             self.revoke_rid),
            ("api_token.create", admin, {"type": "api_token", "id": self.token["id"]},
             self.token_rid),
            ("user.create", admin, {"type": "user", "id": self.user_id}, self.user_rid),
            # the admin's sign-in (its request id is nginx's)
            ("signin.succeeded", admin, admin, None),
            ("tenant.create", {"type": "anonymous", "id": None}, {"type": "tenant",
                                                                 "id": self.t.id},
             self.t.signup_rid),
        ]
        self.assertEqual([e["action"] for e in items], [w[0] for w in want])
        for e, (action, actor, target, request_id) in zip(items, want):
            self.assertEqual(set(e), {"id", "actor", "action", "target", "requestId",
                                      "clientAddress", "createdAt", "delegation"}, e)
            self.assertIsNone(e["delegation"], e)  # none of these was delegated
            self.assertRegex(e["id"], UUID_RE)
            self.assertEqual(e["actor"], actor, e)
            self.assertEqual(e["target"], target, e)
            if request_id is not None:
                self.assertEqual(e["requestId"], request_id, e)
            self.assertEqual(e["clientAddress"], "127.0.0.1", e)
            self.assertRegex(e["createdAt"], API_TIME_RE)
        times = [e["createdAt"] for e in items]
        self.assertEqual(times, sorted(times, reverse=True))
        self.assertEqual(len({e["id"] for e in items}), 5)

    def test_pagination_limit_1(self):
        full = api("GET", "/v1/audit-events", headers=self.t.auth).body["items"]
        pages = follow_pages(self, "/v1/audit-events?limit=1", self.t.auth)
        ids = [e["id"] for p in pages for e in p["items"]]
        self.assertEqual(ids, [e["id"] for e in full])
        for p in pages:
            self.assertLessEqual(len(p["items"]), 1)
            self.assertEqual(p["totalCount"], 5)
        self.assertIsNotNone(pages[0]["links"]["next"])
        for query in ("limit=0", "limit=201", "cursor=zzz"):
            assert_problem(api("GET", "/v1/audit-events?" + query, headers=self.t.auth), 400,
                           "validation-failed")

    def test_tenant_isolation(self):
        other = new_tenant()
        r = api("GET", "/v1/audit-events", headers=other.auth)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([e["action"] for e in r.body["items"]],
                         ["signin.succeeded", "tenant.create"])
        self.assertEqual(r.body["items"][1]["target"]["id"], other.id)
        self.assertEqual(r.body["totalCount"], 2)
        mine = {e["id"] for e in api("GET", "/v1/audit-events",
                                     headers=self.t.auth).body["items"]}
        self.assertFalse(mine & {e["id"] for e in r.body["items"]})
        # a cursor taken from another tenant's list shows nothing of it
        cursor = b64u(sorted(mine)[-1])
        r = api("GET", "/v1/audit-events?cursor=" + cursor, headers=other.auth)
        self.assertEqual(r.status, 200, r)
        self.assertFalse(mine & {e["id"] for e in r.body["items"]})

    def test_api_token_403(self):
        tok = new_api_token(self.t, SCOPES)
        p = assert_problem(api("GET", "/v1/audit-events", headers=bearer(tok["token"])), 403,
                           "forbidden")
        self.assertIn("API tokens cannot", p["detail"])

    def test_no_credentials_401(self):
        r = api("GET", "/v1/audit-events")
        assert_problem(r, 401, "unauthenticated")
        self.assertEqual(r.headers.get("www-authenticate"), "Bearer")


# ====================================================================
class TestCors(unittest.TestCase):

    def preflight(self, path, origin, method="GET", extra=None):
        h = {"Origin": origin, "Access-Control-Request-Method": method}
        h.update(extra or {})
        return api("OPTIONS", path, headers=h)

    def test_preflight_allowed_origin(self):
        r = self.preflight("/v1/users", ALLOWED_ORIGIN, "GET",
                           {"Access-Control-Request-Headers": "authorization, content-type"})
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.raw, b"")
        self.assertEqual(r.headers.get("access-control-allow-origin"), ALLOWED_ORIGIN)
        methods = [m.strip() for m in r.headers.get("access-control-allow-methods", "").split(",")]
        self.assertIn("GET", methods)
        self.assertIn("POST", methods)
        allow_headers = [h.strip().lower() for h in
                         r.headers.get("access-control-allow-headers", "").split(",")]
        for h in ("authorization", "content-type", "if-match", "idempotency-key"):
            self.assertIn(h, allow_headers)
        self.assertIn("origin", r.headers.get("vary", "").lower())
        self.assertNotIn("access-control-allow-credentials", r.headers)
        r = self.preflight("/v1/users", ALLOWED_ORIGIN, "POST")
        self.assertEqual(r.status, 204, r)
        r = self.preflight("/v1/users/" + str(uuid.uuid4()), ALLOWED_ORIGIN, "PATCH")
        self.assertEqual(r.status, 204, r)
        self.assertIn("PATCH", r.headers.get("access-control-allow-methods", ""))

    def test_preflight_refused_origin(self):
        for origin in ("http://evil.example", "http://localhost:3001", "https://localhost:3000",
                       "http://localhost:3000/", "null", "*"):
            r = self.preflight("/v1/users", origin)
            assert_problem(r, 403, "forbidden")
            self.assertNotIn("access-control-allow-origin", r.headers, origin)
            self.assertNotIn("access-control-allow-methods", r.headers)

    def test_preflight_method_not_taken(self):
        for method in ("DELETE", "PUT", "GE", "get"):
            r = self.preflight("/v1/users", ALLOWED_ORIGIN, method)
            assert_problem(r, 403, "forbidden")
            self.assertNotIn("access-control-allow-methods", r.headers)
        assert_problem(self.preflight("/v1/nothing-here", ALLOWED_ORIGIN), 404, "not-found")

    def test_simple_request_allowed_origin(self):
        r = api("GET", "/healthz", headers={"Origin": ALLOWED_ORIGIN})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers.get("access-control-allow-origin"), ALLOWED_ORIGIN)
        self.assertIn("origin", r.headers.get("vary", "").lower())
        exposed = [h.strip().lower() for h in
                   r.headers.get("access-control-expose-headers", "").split(",")]
        for h in ("etag", "location", "retry-after", "x-request-id", "idempotent-replayed"):
            self.assertIn(h, exposed)
        # problems carry it too
        r = api("GET", "/v1/me", headers={"Origin": ALLOWED_ORIGIN})
        assert_problem(r, 401, "unauthenticated")
        self.assertEqual(r.headers.get("access-control-allow-origin"), ALLOWED_ORIGIN)

    def test_simple_request_refused_origin(self):
        r = api("GET", "/healthz", headers={"Origin": "http://evil.example"})
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("access-control-allow-origin", r.headers)
        self.assertNotIn("access-control-expose-headers", r.headers)
        self.assertIn("origin", r.headers.get("vary", "").lower())
        r = api("GET", "/healthz")
        self.assertNotIn("access-control-allow-origin", r.headers)
