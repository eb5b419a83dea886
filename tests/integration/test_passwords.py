"""A person changes its own password (issue 18, part 3): with the current
one, checked as a sign-in is (its failures counted toward the same
lock-out, so that a stolen access token cannot guess it), the new one held
to the policy (length, not blank, not the user's names, address or
domain); the other sessions end, this one goes on.  Through nginx, real
MariaDB."""
import secrets
import unittest

from harness import (PASSWORD, api, assert_problem, bearer, field_errors, link_token, mails_to,
                     new_api_token, new_tenant, new_user, parallel, sql, sql_value, wait_mails)

NEW = "a fresh and long passphrase"


def sign_in(email, password=PASSWORD):
    return api("POST", "/v1/auth/token", body={"username": email, "password": password})


def change(access, current, new):
    return api("PUT", "/v1/me/password", body={"currentPassword": current, "newPassword": new},
               headers=bearer(access))


def stored_hash(user_id):
    return sql_value("SELECT password_hash FROM users WHERE id = %s", (user_id,))


class TestPasswordChange(unittest.TestCase):

    def setUp(self):
        self.t = new_tenant()
        self.u = new_user(self.t, ["sales_agent"], firstName="Wilhelmina", lastName="Zylberstein")
        self.here = sign_in(self.u.email).body
        self.there = sign_in(self.u.email).body

    def test_change_keeps_this_session_and_ends_the_others(self):
        r = change(self.here["accessToken"], PASSWORD, NEW)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(api("GET", "/v1/me", headers=bearer(self.here["accessToken"])).status, 200)
        assert_problem(api("GET", "/v1/me", headers=bearer(self.there["accessToken"])), 401,
                       "unauthenticated")
        assert_problem(api("POST", "/v1/auth/refresh",
                           body={"refreshToken": self.there["refreshToken"]}), 401,
                       "unauthenticated")
        assert_problem(sign_in(self.u.email), 401, "unauthenticated")
        self.assertEqual(sign_in(self.u.email, NEW).status, 200)
        self.assertEqual(sql_value("SELECT COUNT(*) FROM audit_events WHERE action = "
                                   "'user.password_change' AND target_id = %s", (self.u.id,)), "1")

    def test_the_policy_and_bad_bodies_change_nothing(self):
        before = stored_hash(self.u.id)
        access = self.here["accessToken"]
        domain_label = self.t.domain.split(".")[0]
        for new, code in (("short", "too_short"), ("            ", "invalid"),
                          ("my name is wilhelmina!", "personal"),
                          ("ZYLBERSTEIN forever and ever", "personal"),
                          ("%s rules the world" % domain_label, "personal")):
            p = assert_problem(change(access, PASSWORD, new), 400, "validation-failed")
            self.assertEqual(field_errors(p).get("newPassword"), code, (new, p))
        for body in ({}, {"currentPassword": PASSWORD}, {"newPassword": NEW},
                     {"currentPassword": 1, "newPassword": NEW},
                     {"currentPassword": PASSWORD, "newPassword": NEW, "x": 1},
                     {"currentPassword": PASSWORD, "newPassword": "x" * 1025}):
            assert_problem(api("PUT", "/v1/me/password", body=body, headers=bearer(access)), 400,
                           "validation-failed")
        self.assertEqual(stored_hash(self.u.id), before)

    def test_a_wrong_current_password_is_refused_and_counted(self):
        before = stored_hash(self.u.id)
        access = self.here["accessToken"]
        p = assert_problem(change(access, "not the password", NEW), 403, "forbidden")
        self.assertEqual(p.get("code"), "current_password_wrong")
        # guessing it is locked out as sign-in is: 10 failures from an address
        for _ in range(9):
            change(access, "not the password", NEW)
        assert_problem(change(access, PASSWORD, NEW), 429, "too-many-requests")
        self.assertEqual(stored_hash(self.u.id), before)
        self.assertEqual(api("GET", "/v1/me", headers=bearer(self.there["accessToken"])).status,
                         200)

    def test_a_person_is_required(self):
        tok = new_api_token(self.t, ["profiles:read"])
        assert_problem(change(tok["token"], PASSWORD, NEW), 403, "forbidden")
        assert_problem(api("PUT", "/v1/me/password",
                           body={"currentPassword": PASSWORD, "newPassword": NEW}), 401,
                       "unauthenticated")
        assert_problem(api("POST", "/v1/me/password", headers=bearer(self.here["accessToken"])),
                       405, "method-not-allowed")


def fresh_source():
    """A client address of its own (a reset's count per address lasts 15
    minutes, longer than a run)."""
    return "127.0.%d.%d" % (secrets.randbelow(200) + 20, secrets.randbelow(250) + 2)


def ask_reset(email, source=None):
    return api("POST", "/v1/password-resets", body={"email": email}, source=source)


def use_reset(token, password=NEW):
    return api("POST", "/v1/password-reset-verifications",
               body={"token": token, "password": password})


def reset_links(email):
    return [link_token(m, "/reset-password") for m in mails_to(email)
            if "/reset-password" in m.body]


class TestPasswordReset(unittest.TestCase):
    """A forgotten password: a single-use link mailed to the account's
    address, the same answer for an address that is no account's, counted
    per account (3 links an hour) and per client address (10 asks in 15
    minutes, then 429 for any address alike)."""

    def setUp(self):
        self.t = new_tenant()
        self.u = new_user(self.t, ["sales_agent"])
        self.session = sign_in(self.u.email).body

    def test_reset_from_the_mail(self):
        r = ask_reset(self.u.email.upper(), source=fresh_source())
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.body, {"email": self.u.email, "expiresIn": 1800})
        wait_mails(self.u.email, 1)
        token = reset_links(self.u.email)[0]
        # only the token's hash is kept
        self.assertEqual(sql_value("SELECT COUNT(*) FROM password_resets WHERE token_hash = %s",
                                   (token,)), "0")
        r = use_reset(token)
        self.assertEqual(r.status, 204, r)
        assert_problem(sign_in(self.u.email), 401, "unauthenticated")
        self.assertEqual(sign_in(self.u.email, NEW).status, 200)
        # every session ended; the user is told
        assert_problem(api("GET", "/v1/me", headers=bearer(self.session["accessToken"])), 401,
                       "unauthenticated")
        changed = [m for m in wait_mails(self.u.email, 2) if "was changed" in m.subject]
        self.assertEqual(len(changed), 1)
        self.assertEqual(sql_value("SELECT COUNT(*) FROM audit_events WHERE action = "
                                   "'user.password_reset' AND target_id = %s", (self.u.id,)), "1")
        # the link works once
        assert_problem(use_reset(token, "yet another long passphrase"), 404, "not-found")
        self.assertEqual(sign_in(self.u.email, NEW).status, 200)

    def test_no_account_the_same_answer_and_nothing_sent(self):
        ghost = "nobody-%s@%s" % (self.u.id[:8], self.t.domain)
        source = fresh_source()
        r = ask_reset(ghost, source=source)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(set(r.body), {"email", "expiresIn"})
        self.assertEqual(sql_value("SELECT COUNT(*) FROM password_resets WHERE client_addr = %s "
                                   "AND token_hash IS NULL AND user_id IS NULL", (source,)), "1")
        self.assertEqual(mails_to(ghost), [])

    def test_a_flood_is_bounded(self):
        # per account: three links an hour, then nothing more is sent
        for i in range(5):
            self.assertEqual(ask_reset(self.u.email, source=fresh_source()).status, 202)
        wait_mails(self.u.email, 3)
        self.assertEqual(sql_value("SELECT COUNT(*) FROM password_resets WHERE user_id = %s",
                                   (self.u.id,)), "3")
        self.assertEqual(len(reset_links(self.u.email)), 3)
        # per address: ten asks in 15 minutes, then 429 for any address
        # alike (an address of its own each run: the count lasts 15 minutes)
        source = fresh_source()
        for i in range(10):
            self.assertEqual(ask_reset("x%d@%s" % (i, self.t.domain), source=source).status,
                             202)
        for email in (self.u.email, "someone@" + self.t.domain):
            p = assert_problem(ask_reset(email, source=source), 429, "too-many-requests")
            self.assertIn("too many", p["detail"])

    def test_bad_links_and_bodies_change_nothing(self):
        ask_reset(self.u.email, source=fresh_source())
        wait_mails(self.u.email, 1)
        token = reset_links(self.u.email)[0]
        before = stored_hash(self.u.id)
        assert_problem(use_reset("A" * 43), 404, "not-found")
        p = assert_problem(use_reset(token, "short"), 400, "validation-failed")
        self.assertEqual(field_errors(p), {"password": "too_short"})
        p = assert_problem(use_reset(token, self.t.domain.split(".")[0] + " is my password"), 400,
                           "validation-failed")
        self.assertEqual(field_errors(p), {"password": "personal"})
        for body in ({}, {"token": token}, {"password": NEW}, {"token": 5, "password": NEW},
                     {"token": token, "password": NEW, "x": 1}):
            assert_problem(api("POST", "/v1/password-reset-verifications", body=body), 400,
                           "validation-failed")
        for body in ({}, {"email": 5}, {"email": "not an address"}, {"email": "a@b.c", "x": 1}):
            assert_problem(api("POST", "/v1/password-resets", body=body, source=fresh_source()),
                           400, "validation-failed")
        self.assertEqual(stored_hash(self.u.id), before)
        # an expired link
        sql("UPDATE password_resets SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND "
            "WHERE user_id = %s", (self.u.id,))
        assert_problem(use_reset(token), 404, "not-found")
        self.assertEqual(stored_hash(self.u.id), before)

    def test_two_uses_of_one_link_race(self):
        ask_reset(self.u.email, source=fresh_source())
        wait_mails(self.u.email, 1)
        token = reset_links(self.u.email)[0]
        a, b = parallel(lambda: use_reset(token, NEW), lambda: use_reset(token, NEW + " two"))
        self.assertEqual(sorted([a.status, b.status]), [204, 404])
