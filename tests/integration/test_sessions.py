"""Sessions (issue 18, parts 1 and 2): a sign-in starts a session whose
refresh token rotates at every refresh; a retired refresh token presented
again ends the session for everyone holding its tokens (a stolen copy used
after its owner's refresh, or the owner's after the thief's); the idle and
absolute limits; a browser's refresh token in an HttpOnly cookie that only
a request from the front end's script can use; sign-out, the caller's
sessions, ending one or all, and a global admin ending a user's.  Through
nginx, real MariaDB."""
import base64
import json
import unittest

from harness import (PASSWORD, api, assert_problem, base_url, bearer, env, field_errors,
                     new_api_token, new_tenant, new_user, parallel, run_binary, sql, sql_value)

def claims(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def sign_in(email, password=PASSWORD, **extra):
    body = {"username": email, "password": password}
    body.update(extra)
    return api("POST", "/v1/auth/token", body=body)


def refresh(token, headers=None):
    return api("POST", "/v1/auth/refresh", body={"refreshToken": token}, headers=headers)


def me(access):
    return api("GET", "/v1/me", headers=bearer(access))


def session_ended(sid):
    return sql_value("SELECT ended_reason FROM sessions WHERE id = %s", (sid,))


class TestRefresh(unittest.TestCase):

    def setUp(self):
        self.t = new_tenant()
        self.u = new_user(self.t, ["sales_agent"])
        r = sign_in(self.u.email)
        self.assertEqual(r.status, 200, r)
        self.first = r.body

    def test_sign_in_starts_a_session(self):
        b = self.first
        self.assertEqual(set(b), {"accessToken", "tokenType", "expiresIn", "sessionId",
                                  "refreshToken"})
        self.assertRegex(b["refreshToken"], r"^[A-Za-z0-9_-]{43}$")
        self.assertEqual(claims(b["accessToken"])["sid"], b["sessionId"])
        self.assertEqual(me(b["accessToken"]).status, 200)
        row = sql("SELECT user_id, tenant_id, ended_at, user_agent, client_addr FROM sessions "
                  "WHERE id = %s", (b["sessionId"],))[0]
        self.assertEqual(list(row[:3]), [self.u.id, self.t.id, None])
        self.assertIn("python-urllib3", row[3])
        # only the hash of the refresh token is kept
        self.assertEqual(sql_value("SELECT COUNT(*) FROM refresh_tokens WHERE token_hash = %s",
                                   (b["refreshToken"],)), "0")

    def test_refresh_rotates_and_keeps_the_session(self):
        r = refresh(self.first["refreshToken"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["sessionId"], self.first["sessionId"])
        self.assertNotEqual(r.body["refreshToken"], self.first["refreshToken"])
        self.assertEqual(claims(r.body["accessToken"])["sid"], self.first["sessionId"])
        for access in (self.first["accessToken"], r.body["accessToken"]):
            self.assertEqual(me(access).status, 200)
        # a working day: one refresh after another, no password
        token = r.body["refreshToken"]
        for _ in range(5):
            r = refresh(token)
            self.assertEqual(r.status, 200, r)
            token = r.body["refreshToken"]
        self.assertEqual(sql_value("SELECT COUNT(*) FROM refresh_tokens WHERE session_id = %s "
                                   "AND retired_at IS NULL", (self.first["sessionId"],)), "1")

    def test_a_retired_token_again_ends_the_session_for_both(self):
        stolen = self.first["refreshToken"]
        owner = refresh(stolen)  # the owner refreshes first
        self.assertEqual(owner.status, 200)
        p = assert_problem(refresh(stolen), 401, "unauthenticated")  # the thief, later
        self.assertIn("used before", p["detail"])
        self.assertEqual(session_ended(self.first["sessionId"]), "refresh_reused")
        # the owner's new tokens stop too: the session is over
        assert_problem(refresh(owner.body["refreshToken"]), 401, "unauthenticated")
        p = assert_problem(me(owner.body["accessToken"]), 401, "unauthenticated")
        self.assertIn("session has ended", p["detail"])
        self.assertEqual(sql_value(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'session.refresh_reused' "
            "AND target_id = %s AND tenant_id = %s", (self.first["sessionId"], self.t.id)), "1")

    def test_two_refreshes_with_one_token_race(self):
        token = self.first["refreshToken"]
        a, b = parallel(lambda: refresh(token), lambda: refresh(token))
        self.assertEqual(sorted([a.status, b.status]), [200, 401])
        # the loser presented a retired token: the session ends (RFC 9700's
        # rotation cannot tell a second tab from a thief)
        self.assertEqual(session_ended(self.first["sessionId"]), "refresh_reused")

    def test_limits_and_the_user(self):
        sid = self.first["sessionId"]
        sql("UPDATE sessions SET idle_expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND "
            "WHERE id = %s", (sid,))
        p = assert_problem(refresh(self.first["refreshToken"]), 401, "unauthenticated")
        self.assertIn("idle", p["detail"])
        r = sign_in(self.u.email)
        sql("UPDATE sessions SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND "
            "WHERE id = %s", (r.body["sessionId"],))
        p = assert_problem(refresh(r.body["refreshToken"]), 401, "unauthenticated")
        self.assertIn("absolute limit", p["detail"])
        r = sign_in(self.u.email)
        sql("UPDATE users SET disabled = 1 WHERE id = %s", (self.u.id,))
        p = assert_problem(refresh(r.body["refreshToken"]), 401, "unauthenticated")
        self.assertIn("disabled", p["detail"])

    def test_bad_refresh_requests_change_nothing(self):
        before = sql_value("SELECT COUNT(*) FROM refresh_tokens")
        p = assert_problem(api("POST", "/v1/auth/refresh", body={}), 400, "validation-failed")
        self.assertIn("refreshToken", field_errors(p))
        assert_problem(api("POST", "/v1/auth/refresh", body={"refreshToken": 42}), 400,
                       "validation-failed")
        assert_problem(api("POST", "/v1/auth/refresh",
                           body={"refreshToken": "x" * 65}), 400, "validation-failed")
        assert_problem(api("POST", "/v1/auth/refresh",
                           body={"refreshToken": self.first["refreshToken"], "more": 1}),
                       400, "validation-failed")
        assert_problem(refresh("A" * 43), 401, "unauthenticated")
        # the token whole, not its first 43 characters
        assert_problem(refresh(self.first["refreshToken"] + "x"), 401, "unauthenticated")
        assert_problem(refresh(""), 401, "unauthenticated")
        self.assertEqual(sql_value("SELECT COUNT(*) FROM refresh_tokens"), before)
        self.assertEqual(refresh(self.first["refreshToken"]).status, 200)


class TestCookie(unittest.TestCase):
    """A browser's refresh token lives in an HttpOnly, Secure, SameSite=Strict
    cookie for /v1/auth only; it is taken only from script of the front
    end's origin (Origin and X-Requested-With, which no cross-site form or
    link can send)."""

    def setUp(self):
        self.t = new_tenant()
        r = sign_in(self.t.email, self.t.password, cookie=True)
        self.assertEqual(r.status, 200, r)
        self.body, self.cookie = r.body, r.headers["set-cookie"]

    def token(self, set_cookie):
        return set_cookie.split(";")[0].split("=", 1)[1]

    def test_the_cookie_and_not_the_body(self):
        self.assertNotIn("refreshToken", self.body)
        parts = [p.strip() for p in self.cookie.split(";")]
        self.assertRegex(parts[0], r"^twotier_refresh=[A-Za-z0-9_-]{43}$")
        self.assertEqual(set(parts[1:]), {"Path=/v1/auth", "Max-Age=2592000", "HttpOnly",
                                          "Secure", "SameSite=Strict"})

    def cookie_refresh(self, origin, requested_with="fetch", token=None):
        h = {"Cookie": "twotier_refresh=" + (token or self.token(self.cookie))}
        if origin is not None:
            h["Origin"] = origin
        if requested_with is not None:
            h["X-Requested-With"] = requested_with
        return api("POST", "/v1/auth/refresh", body={}, headers=h)

    def test_only_script_of_the_front_end_uses_it(self):
        sid = self.body["sessionId"]
        for origin, rw in ((None, "fetch"), ("https://evil.example", "fetch"),
                           (base_url(), None), ("null", "fetch")):
            assert_problem(self.cookie_refresh(origin, rw), 403, "forbidden")
        self.assertIsNone(session_ended(sid))
        r = self.cookie_refresh(base_url())
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("refreshToken", r.body)
        self.assertNotEqual(self.token(r.headers["set-cookie"]), self.token(self.cookie))
        self.assertEqual(me(r.body["accessToken"]).status, 200)

    def test_a_browser_sends_no_body(self):
        h = {"Cookie": "twotier_refresh=" + self.token(self.cookie), "Origin": base_url(),
             "X-Requested-With": "fetch"}
        r = api("POST", "/v1/auth/refresh", headers=h)
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("refreshToken", r.body)
        # without the cookie either: nothing to refresh with
        p = assert_problem(api("POST", "/v1/auth/refresh"), 400, "validation-failed")
        self.assertIn("refreshToken", field_errors(p))
        # a body that is there is still JSON
        assert_problem(api("POST", "/v1/auth/refresh", raw=b"token=x",
                           headers={"Content-Type": "application/x-www-form-urlencoded"}),
                       415, "unsupported-media-type")

    def test_sign_out_clears_it(self):
        r = api("POST", "/v1/auth/sign-out", headers=bearer(self.body["accessToken"]))
        self.assertEqual(r.status, 204, r)
        self.assertIn("Max-Age=0", r.headers["set-cookie"])
        assert_problem(self.cookie_refresh(base_url()), 401, "unauthenticated")


class TestSessions(unittest.TestCase):

    def setUp(self):
        self.t = new_tenant()
        self.u = new_user(self.t, ["sales_agent"])
        self.a = sign_in(self.u.email).body
        self.b = sign_in(self.u.email).body

    def listed(self, access):
        r = api("GET", "/v1/sessions", headers=bearer(access))
        self.assertEqual(r.status, 200, r)
        return r.body["items"]

    def test_list_shows_the_callers_sessions(self):
        items = self.listed(self.a["accessToken"])
        self.assertEqual({i["id"] for i in items}, {self.a["sessionId"], self.b["sessionId"]})
        current = [i for i in items if i["current"]]
        self.assertEqual([i["id"] for i in current], [self.a["sessionId"]])
        self.assertEqual(set(items[0]), {"id", "current", "clientAddress", "userAgent",
                                         "createdAt", "lastUsedAt", "idleExpiresAt",
                                         "expiresAt"})
        # the admin's own list holds none of the user's
        self.assertNotIn(self.a["sessionId"], {i["id"] for i in self.listed(self.t.token)})

    def test_sign_out_ends_the_current_one(self):
        r = api("POST", "/v1/auth/sign-out", headers=bearer(self.a["accessToken"]))
        self.assertEqual(r.status, 204, r)
        self.assertEqual(session_ended(self.a["sessionId"]), "sign_out")
        assert_problem(me(self.a["accessToken"]), 401, "unauthenticated")
        assert_problem(refresh(self.a["refreshToken"]), 401, "unauthenticated")
        self.assertEqual(me(self.b["accessToken"]).status, 200)

    def test_end_one_and_all(self):
        h = bearer(self.a["accessToken"])
        r = api("DELETE", "/v1/sessions/" + self.b["sessionId"], headers=h)
        self.assertEqual(r.status, 204, r)
        assert_problem(me(self.b["accessToken"]), 401, "unauthenticated")
        # ended already, another user's, not a session at all: 404
        assert_problem(api("DELETE", "/v1/sessions/" + self.b["sessionId"], headers=h), 404,
                       "not-found")
        other = sign_in(self.t.email, self.t.password).body
        assert_problem(api("DELETE", "/v1/sessions/" + other["sessionId"], headers=h), 404,
                       "not-found")
        self.assertIsNone(session_ended(other["sessionId"]))
        assert_problem(api("DELETE", "/v1/sessions/0193a000-0000-7000-8000-000000000099",
                           headers=h), 404, "not-found")
        c = sign_in(self.u.email).body
        r = api("DELETE", "/v1/sessions", headers=h)
        self.assertEqual(r.status, 204, r)
        for s in (self.a, c):
            assert_problem(me(s["accessToken"]), 401, "unauthenticated")
        self.assertEqual(me(other["accessToken"]).status, 200)

    def test_a_global_admin_ends_a_users_sessions(self):
        path = "/v1/users/%s/sessions" % self.u.id
        agent = new_user(self.t, ["admin_agent"])
        agent_token = sign_in(agent.email).body["accessToken"]
        assert_problem(api("DELETE", path, headers=bearer(agent_token)), 403, "forbidden")
        stranger = new_tenant()
        assert_problem(api("DELETE", path, headers=stranger.auth), 404, "not-found")
        self.assertEqual(me(self.a["accessToken"]).status, 200)
        r = api("DELETE", path, headers=self.t.auth)
        self.assertEqual(r.status, 204, r)
        for s in (self.a, self.b):
            assert_problem(me(s["accessToken"]), 401, "unauthenticated")
            assert_problem(refresh(s["refreshToken"]), 401, "unauthenticated")
        self.assertEqual(sql_value("SELECT COUNT(*) FROM audit_events WHERE action = "
                                   "'session.end_all' AND target_id = %s", (self.u.id,)), "1")

    def test_a_link_to_the_identity_provider_ends_the_users_sessions(self):
        h = dict(self.t.auth, **{"If-Match": self.u.etag})
        r = api("PATCH", "/v1/users/" + self.u.id, body={"externalSubject": "s-" + self.u.id},
                headers=h)
        self.assertEqual(r.status, 200, r)
        for s in (self.a, self.b):
            assert_problem(me(s["accessToken"]), 401, "unauthenticated")
            assert_problem(refresh(s["refreshToken"]), 401, "unauthenticated")
        self.assertEqual(me(self.t.token).status, 200)  # the admin's own stay

    def test_a_person_is_required(self):
        tok = new_api_token(self.t, ["profiles:read"])
        h = bearer(tok["token"])
        for method, path in (("GET", "/v1/sessions"), ("DELETE", "/v1/sessions"),
                             ("POST", "/v1/auth/sign-out"),
                             ("DELETE", "/v1/sessions/" + self.a["sessionId"]),
                             ("DELETE", "/v1/users/%s/sessions" % self.u.id)):
            assert_problem(api(method, path, headers=h), 403, "forbidden")
            assert_problem(api(method, path), 401, "unauthenticated")
        self.assertIsNone(session_ended(self.a["sessionId"]))


class TestPurge(unittest.TestCase):

    def test_a_session_a_day_past_its_end_goes_with_its_tokens(self):
        t = new_tenant()
        r = refresh(sign_in(t.email, t.password).body["refreshToken"])
        sid = r.body["sessionId"]
        keep = sign_in(t.email, t.password).body["sessionId"]
        self.assertEqual(api("POST", "/v1/auth/sign-out",
                             headers=bearer(r.body["accessToken"])).status, 204)
        # ended now: kept for a day (its end is its idle limit)
        self.assertEqual(sql_value("SELECT idle_expires_at <= ended_at FROM sessions "
                                   "WHERE id = %s", (sid,)), "1")
        sql("UPDATE sessions SET idle_expires_at = UTC_TIMESTAMP(6) - INTERVAL 25 HOUR "
            "WHERE id = %s", (sid,))
        p = run_binary([env("TWOTIER_ADMIN_BIN"), "-c", env("TWOTIER_CONF"), "purge"])
        self.assertEqual(p.returncode, 0, p.stderr)
        # (the service's own purge, every 2 s here, may have been first)
        self.assertRegex(p.stdout, r"\d+ sessions, \d+ password resets")
        self.assertEqual(sql_value("SELECT COUNT(*) FROM sessions WHERE id = %s", (sid,)), "0")
        self.assertEqual(sql_value("SELECT COUNT(*) FROM refresh_tokens WHERE session_id = %s",
                                   (sid,)), "0")
        self.assertEqual(sql_value("SELECT COUNT(*) FROM sessions WHERE id = %s", (keep,)), "1")
