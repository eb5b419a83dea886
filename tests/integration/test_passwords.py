"""A person changes its own password (issue 18, part 3): with the current
one, checked as a sign-in is (its failures counted toward the same
lock-out, so that a stolen access token cannot guess it), the new one held
to the policy (length, not blank, not the user's names, address or
domain); the other sessions end, this one goes on.  Through nginx, real
MariaDB."""
import unittest

from harness import (PASSWORD, api, assert_problem, bearer, field_errors, new_api_token,
                     new_tenant, new_user, sql_value)

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
