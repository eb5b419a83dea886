"""Identity that an attacker cannot bend (issue 7): each finding as a
regression test through nginx.  One spelling per account, global admins
that cannot be demoted by others, lock-outs a stranger cannot cause,
identities that do not leak, byte-wise idempotency keys, tokens that stop
with their creator, JWTs that cannot be re-spelt, and text that cannot
hide."""

import base64
import json
import secrets
import socket
import unittest

import pytest

from harness import (access_token, api, assert_problem, bearer, claims_for, create_user,
                     field_errors, future, high_s_twin, make_jwt, new_tenant, new_user, port,
                     signup_body, sql, sql_value, unique_domain)

WRONG = "not the password at all"


def sign_in(username, password, source=None):
    return api("POST", "/v1/auth/token", body={"username": username, "password": password},
               source=source)


def lock_out(username, source=None, n=10):
    for _ in range(n):
        r = sign_in(username, WRONG, source)
        assert r.status in (401, 429), r
    return sign_in(username, WRONG, source)


def audit_actions(tenant_id, target_id):
    return [a for (a,) in sql("SELECT action FROM audit_events WHERE tenant_id = %s AND "
                              "target_id = %s ORDER BY id", (tenant_id, target_id))]


class TestOneSpelling(unittest.TestCase):
    def test_every_spelling_meets_the_same_lock(self):
        t = new_tenant()
        u = new_user(t, ["sales_agent"])
        self.assertEqual(sign_in(u.email, u.password).status, 200)
        assert_problem(lock_out(u.email), 429, "too-many-requests")
        local, host = u.email.split("@")
        spellings = [
            u.email.upper(),                       # the same account: locked
            u.email + " ",                         # trailing blank
            " " + u.email,
            "\u0001" + u.email,                    # a control character
            "\u200b" + u.email,                    # zero-width space
            u.email.replace("@", "\u00a0@"),       # no-break space
            "\u00e1" + u.email[1:],                # an accented first letter
            "\uff41" + u.email[1:] if u.email[0] == "a" else "\uff55" + u.email[1:],
            local[0] + "\u0301" + u.email[1:],     # a combining accent
            "\u0130" + u.email[1:],                # I with a dot
            local + "@" + host + ".",              # a trailing dot
        ]
        for name in spellings:
            with self.subTest(name=name):
                r = sign_in(name, u.password)
                self.assertIn(r.status, (401, 429), r)
        r = sign_in(u.email, u.password)
        assert_problem(r, 429, "too-many-requests")
        self.assertGreater(int(r.headers["retry-after"]), 0)

    def test_addresses_are_stored_in_one_form(self):
        t = new_tenant()
        local = "Mixed.Case-%s" % secrets.token_hex(3)
        r, body = create_user(t, ["sales_agent"], email="%s@%s" % (local, t.domain.upper()))
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.body["email"], ("%s@%s" % (local, t.domain)).lower())
        for bad in ("\u00e1x@" + t.domain, "x @" + t.domain, "x@" + t.domain + " ",
                    "\u200bx@" + t.domain):
            with self.subTest(email=bad):
                r, _ = create_user(t, ["sales_agent"], email=bad)
                p = assert_problem(r, 400, "validation-failed")
                self.assertIn("email", field_errors(p))
        # any spelling of an existing address is the same address
        r, _ = create_user(t, ["sales_agent"], email=body["email"].swapcase())
        assert_problem(r, 409, "conflict")


class TestGlobalAdmins(unittest.TestCase):
    def setUp(self):
        self.t = new_tenant()
        agent = new_user(self.t, ["admin_agent"])
        self.agent = bearer(access_token(agent.email, agent.password))

    def ga_etag(self, auth, user_id):
        return api("GET", "/v1/users/" + user_id, headers=auth).headers["etag"]

    def patch(self, auth, user_id, body, reader=None):
        h = dict(auth, **{"If-Match": self.ga_etag(reader or self.t.auth, user_id)})
        return api("PATCH", "/v1/users/" + user_id, body=body, headers=h)

    def test_an_admin_agent_cannot_touch_a_global_admin(self):
        for body in ({"roles": ["global_admin"]}, {"roles": ["global_admin", "sales_agent"]},
                     {"roles": ["admin_agent"]}, {"disabled": True}):
            with self.subTest(body=body):
                p = assert_problem(self.patch(self.agent, self.t.admin_id, body), 403,
                                   "forbidden")
                self.assertIn("global admin", p["detail"])
        self.assertEqual(sorted(sql_value("SELECT roles FROM users WHERE id = %s",
                                          (self.t.admin_id,)).split(",")),
                         ["admin_agent", "global_admin"])
        u = new_user(self.t, ["sales_agent"])
        assert_problem(self.patch(self.agent, u.id, {"roles": ["global_admin"]}), 403,
                       "forbidden")
        # the agent still manages everyone else
        self.assertEqual(self.patch(self.agent, u.id, {"roles": ["helpdesk_agent"]}).status, 200)

    def test_a_global_admin_manages_without_being_an_admin_agent(self):
        r = self.patch(self.t.auth, self.t.admin_id, {"roles": ["global_admin"]})
        self.assertEqual(r.status, 200, r)
        auth = bearer(access_token(self.t.email, self.t.password))
        self.assertEqual(api("GET", "/v1/users", headers=auth).status, 200)
        self.assertEqual(create_user(self.t, ["sales_agent"], headers=auth)[0].status, 201)
        r = self.patch(auth, self.t.admin_id, {"roles": ["global_admin", "admin_agent"]})
        self.assertEqual(r.status, 200, r)

    def test_the_last_global_admin_stays(self):
        for body in ({"roles": ["admin_agent"]}, {"disabled": True}):
            with self.subTest(body=body):
                p = assert_problem(self.patch(self.t.auth, self.t.admin_id, body), 422,
                                   "rule-refused")
                self.assertEqual(p["code"], "last_global_admin")
        # with a second one, either may step down, and the other rules
        second = new_user(self.t, ["global_admin"])
        self.assertEqual(self.patch(self.t.auth, second.id, {"roles": ["sales_agent"]}).status,
                         200)
        self.assertEqual(self.patch(self.t.auth, second.id, {"roles": ["global_admin"]}).status,
                         200)
        other = bearer(access_token(second.email, second.password))
        r = self.patch(other, self.t.admin_id, {"roles": ["sales_agent"]})
        self.assertEqual(r.status, 200, r)
        p = assert_problem(self.patch(other, second.id, {"disabled": True}, reader=other), 422,
                           "rule-refused")
        self.assertEqual(p["code"], "last_global_admin")


class TestLockouts(unittest.TestCase):
    def test_a_stranger_locks_out_only_its_own_address(self):
        t = new_tenant()
        u = new_user(t, ["sales_agent"])
        assert_problem(lock_out(u.email, source="127.0.9.1"), 429, "too-many-requests")
        assert_problem(sign_in(u.email, u.password, source="127.0.9.1"), 429,
                       "too-many-requests")
        # the owner, from its own address, gets in
        self.assertEqual(sign_in(u.email, u.password).status, 200)
        actions = audit_actions(t.id, u.id)
        self.assertIn("signin.failed", actions)
        self.assertIn("signin.locked_out", actions)
        self.assertIn("signin.succeeded", actions)
        clients = {c for (c,) in sql("SELECT client_addr FROM audit_events WHERE target_id = %s "
                                     "AND action = 'signin.failed'", (u.id,))}
        self.assertEqual(clients, {"127.0.9.1"})

    def test_guessing_from_many_addresses_is_throttled_not_the_owner(self):
        t = new_tenant()
        u = new_user(t, ["sales_agent"])
        # 51 failures from 17 addresses: the account is under attack
        for i in range(17):
            for _ in range(3):
                self.assertEqual(sign_in(u.email, WRONG, "127.0.10.%d" % (i + 1)).status, 401)
        # a new address now gets 3 failures, not 10
        src = "127.0.10.200"
        for _ in range(3):
            self.assertEqual(sign_in(u.email, WRONG, src).status, 401)
        assert_problem(sign_in(u.email, WRONG, src), 429, "too-many-requests")
        # an address with no failures (the owner's) still signs in
        self.assertEqual(sign_in(u.email, u.password, "127.0.10.201").status, 200)
        self.assertEqual(sign_in(u.email, u.password).status, 200)

    def test_an_ipv6_network_is_one_address(self):
        t = new_tenant()
        u = new_user(t, ["sales_agent"])

        def via(addr, password):
            return api("POST", "/v1/auth/token", source="127.0.0.9",
                       body={"username": u.email, "password": password},
                       headers={"X-Forwarded-For": addr})
        for i in range(10):
            self.assertEqual(via("2001:db8:77::%x" % (i + 1), WRONG).status, 401)
        assert_problem(via("2001:db8:77::ffff", u.password), 429, "too-many-requests")
        assert_problem(via("2001:db8:77:0:1:2:3:4", u.password), 429, "too-many-requests")
        self.assertEqual(via("2001:db8:78::1", u.password).status, 200)

    def test_unknown_names_lock_like_known_ones(self):
        name = "nobody-%s@%s" % (secrets.token_hex(4), unique_domain())
        r = lock_out(name, source="127.0.11.1")
        assert_problem(r, 429, "too-many-requests")
        self.assertEqual(sign_in(name, WRONG, "127.0.11.2").status, 401)


class TestIdentitiesDoNotLeak(unittest.TestCase):
    def test_one_text_for_taken_address_and_subject(self):
        t = new_tenant()
        u = new_user(t, ["sales_agent"])
        r1, _ = create_user(t, ["sales_agent"], email=u.email)
        p1 = assert_problem(r1, 409, "conflict")
        sub = "idp-" + secrets.token_hex(6)
        self.assertEqual(create_user(t, ["sales_agent"], externalSubject=sub)[0].status, 201)
        r2, _ = create_user(t, ["sales_agent"], externalSubject=sub)
        p2 = assert_problem(r2, 409, "conflict")
        self.assertEqual(p1["detail"], p2["detail"])

    def test_an_external_subject_is_ascii(self):
        t = new_tenant()
        r, _ = create_user(t, ["sales_agent"], externalSubject="caf\u00e9-1")
        self.assertIn("externalSubject", field_errors(assert_problem(r, 400,
                                                                     "validation-failed")))

    def test_users_only_at_the_tenant_domain(self):
        a, b = new_tenant(), new_tenant()
        for email in ("someone@" + b.domain, "someone@sub." + a.domain, "x@gmail.com"):
            with self.subTest(email=email):
                r, _ = create_user(a, ["sales_agent"], email=email)
                p = assert_problem(r, 422, "rule-refused")
                self.assertEqual(p["code"], "email_not_at_domain")
        self.assertEqual(create_user(b, ["sales_agent"], email="someone@" + b.domain)[0].status,
                         201)


class TestKeysAndTokens(unittest.TestCase):
    def test_idempotency_keys_are_byte_wise(self):
        key = "Key-" + secrets.token_hex(6)
        bodies = [signup_body(), signup_body()]
        r1 = api("POST", "/v1/tenants", body=bodies[0], headers={"Idempotency-Key": key})
        r2 = api("POST", "/v1/tenants", body=bodies[1], headers={"Idempotency-Key": key.lower()})
        self.assertEqual((r1.status, r2.status), (202, 202), (r1, r2))
        self.assertNotIn("idempotent-replayed", r2.headers)
        self.assertEqual(sql_value("SELECT COUNT(*) FROM pending_signups WHERE domain IN (%s, %s)",
                                   (bodies[0]["domain"], bodies[1]["domain"])), "2")

    def test_a_token_stops_while_its_creator_cannot_stand_behind_it(self):
        t = new_tenant()
        creator = new_user(t, ["admin_agent"])
        auth = bearer(access_token(creator.email, creator.password))
        r = api("POST", "/v1/api-tokens", headers=auth,
                body={"name": "crm", "scopes": ["profiles:read"],
                      "expiresAt": future()})
        self.assertEqual(r.status, 201, r)
        token, tid = r.body["token"], r.body["id"]
        me = bearer(token)
        self.assertEqual(api("GET", "/v1/me", headers=me).status, 200)

        def set_user(body):
            etag = api("GET", "/v1/users/" + creator.id, headers=t.auth).headers["etag"]
            r = api("PATCH", "/v1/users/" + creator.id, body=body,
                    headers=dict(t.auth, **{"If-Match": etag}))
            self.assertEqual(r.status, 200, r)

        def listed():
            items = api("GET", "/v1/api-tokens?limit=200", headers=t.auth).body["items"]
            return [i for i in items if i["id"] == tid][0]

        set_user({"disabled": True})
        p = assert_problem(api("GET", "/v1/me", headers=me), 401, "unauthenticated")
        self.assertIn("creator is disabled", p["detail"])
        self.assertIn("disabled", listed()["suspendedReason"])
        set_user({"disabled": False, "roles": ["sales_agent"]})
        p = assert_problem(api("GET", "/v1/me", headers=me), 401, "unauthenticated")
        self.assertIn("no longer an admin agent", p["detail"])
        self.assertIn("admin agent", listed()["suspendedReason"])
        set_user({"roles": ["admin_agent"]})
        self.assertEqual(api("GET", "/v1/me", headers=me).status, 200)
        self.assertIsNone(listed()["suspendedReason"])


def raw_get(path, authorization):
    """GET PATH with an Authorization header of raw bytes (http.client
    refuses bytes above 0x7F); returns (status, parsed body)."""
    s = socket.create_connection(("127.0.0.1", port()), 10)
    try:
        s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Authorization: " + authorization + b"\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    return status, json.loads(body.decode()) if body.startswith(b"{") else body


class TestJwtSpellings(unittest.TestCase):
    @pytest.fixture(autouse=True)
    def _world(self, class_tenant):
        self.t = class_tenant

    def test_the_high_s_twin_is_refused(self):
        good = make_jwt(claims_for(self.t.admin_id, self.t.id))
        self.assertEqual(api("GET", "/v1/me", headers=bearer(good)).status, 200)
        h, p, s = good.split(".")
        twin = high_s_twin(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
        bad = h + "." + p + "." + base64.urlsafe_b64encode(twin).rstrip(b"=").decode()
        assert_problem(api("GET", "/v1/me", headers=bearer(bad)), 401, "unauthenticated")

    def test_a_high_byte_for_underscore_is_refused(self):
        # a token whose signature holds a '_', then that byte re-spelt
        for _ in range(200):
            good = make_jwt(claims_for(self.t.admin_id, self.t.id))
            if "_" in good.split(".")[2]:
                break
        self.assertIn("_", good.split(".")[2])
        self.assertEqual(raw_get("/v1/me", b"Bearer " + good.encode())[0], 200)
        i = good.rindex("_")
        for byte in (0x80, 0xBF, 0xFF):
            with self.subTest(byte=byte):
                bad = good.encode()[:i] + bytes([byte]) + good.encode()[i + 1:]
                status, body = raw_get("/v1/me", b"Bearer " + bad)
                self.assertEqual(status, 401, body)

    def test_nul_inside_a_claim_is_refused(self):
        claims = claims_for(self.t.admin_id + "\u0000junk", self.t.id)
        assert_problem(api("GET", "/v1/me", headers=bearer(make_jwt(claims))), 401,
                       "unauthenticated")
        claims = claims_for(self.t.admin_id, self.t.id, jti="a\u0000b")
        assert_problem(api("GET", "/v1/me", headers=bearer(make_jwt(claims))), 401,
                       "unauthenticated")

    def test_a_cursor_with_a_high_byte_is_refused(self):
        status, body = raw_get("/v1/users?cursor=AAAA%FF", b"Bearer " + self.t.token.encode())
        self.assertEqual(status, 400, body)
        r = api("GET", "/v1/users?cursor=" + "_" * 48, headers=self.t.auth)
        assert_problem(r, 400, "validation-failed")


class TestText(unittest.TestCase):
    def test_blank_invisible_and_bidi_text_refused(self):
        t = new_tenant()
        cases = [("password", " " * 12), ("password", "\u00a0" * 12),
                 ("firstName", "\u200b\u200b\u200b"), ("firstName", "\ufeffAda"),
                 ("lastName", "Evil\u202eeman"), ("lastName", "a\u2066b"),
                 ("firstName", "\u0085x")]
        for field, value in cases:
            with self.subTest(field=field, value=value):
                r, _ = create_user(t, ["sales_agent"], **{field: value})
                p = assert_problem(r, 400, "validation-failed")
                self.assertIn(field, field_errors(p))
        body = signup_body()
        body["displayName"] = "\u200b\u200c\u200d"
        p = assert_problem(api("POST", "/v1/tenants", body=body), 400, "validation-failed")
        self.assertIn("displayName", field_errors(p))
        # a plain name with letters of any script is fine
        r, _ = create_user(t, ["sales_agent"], firstName="Zoë", lastName="Пушкина")
        self.assertEqual(r.status, 201, r)

    def test_bom_and_raw_controls_in_json_refused(self):
        raw = json.dumps(signup_body()).encode()
        r = api("POST", "/v1/tenants", raw=b"\xef\xbb\xbf" + raw,
                headers={"Content-Type": "application/json"})
        assert_problem(r, 400, "malformed-json")
        body = signup_body()
        body["displayName"] = "tab\there"
        text = json.dumps(body).replace("\\t", "\t").encode()
        r = api("POST", "/v1/tenants", raw=text, headers={"Content-Type": "application/json"})
        assert_problem(r, 400, "malformed-json")
        # the same, escaped, is a field error of its own
        r = api("POST", "/v1/tenants", body=body)
        p = assert_problem(r, 400, "validation-failed")
        self.assertIn("displayName", field_errors(p))

