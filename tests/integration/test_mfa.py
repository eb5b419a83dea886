"""The second factor (issue 18, part 4): TOTP (RFC 6238: SHA-1, 6 digits,
30 s, one step either side) set up by a person and confirmed by a first
code, recovery codes, sign-in in two steps for a user who has it (a
challenge answered after the right password only), codes never taken
twice, guesses counted toward the sign-in lock-out, the tenant's rule that
its admins must have it, and a global admin's reset.  Through nginx, real
MariaDB; codes are computed here from the secret the service shows."""
import base64
import hashlib
import hmac
import re
import struct
import time
import unittest
import urllib.parse

from harness import (PASSWORD, api, assert_problem, bearer, field_errors, mails_to, new_api_token,
                     new_tenant, new_user, parallel, sql, sql_value, wait_mails)

RECOVERY = re.compile(r"^[a-hjkmnp-z2-9]{5}-[a-hjkmnp-z2-9]{5}$")


def totp(secret, offset=0, at=None):
    """The code of SECRET (base32) for the step OFFSET steps from now."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int((at if at is not None else time.time()) // 30) + offset
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    o = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


def steady():
    """Waits, when the current step ends within 3 s, for the next one: a
    code computed here is checked in the step it was computed for."""
    left = 30 - time.time() % 30
    if left < 3:
        time.sleep(left + 0.05)


def sign_in(email, password=PASSWORD, source=None, **extra):
    body = {"username": email, "password": password}
    body.update(extra)
    return api("POST", "/v1/auth/token", body=body, source=source)


def second_step(challenge, source=None, **answer):
    body = {"challenge": challenge}
    body.update(answer)
    return api("POST", "/v1/auth/token", body=body, source=source)


def challenge_of(email, password=PASSWORD, source=None):
    p = assert_problem(sign_in(email, password, source), 401, "unauthenticated")
    assert p.get("code") == "mfa_required", p
    return p["challenge"]


def fresh_steps(user_id):
    """Lets the codes of the current steps be taken again (the test's
    stand-in for waiting 90 seconds)."""
    sql("UPDATE user_mfa SET totp_last_step = 0 WHERE user_id = %s", (user_id,))


def enrol(access):
    """Sets up TOTP for the bearer of ACCESS: (secret, recovery codes)."""
    r = api("POST", "/v1/me/mfa/totp", headers=bearer(access))
    assert r.status == 201, r
    secret = r.body["secret"]
    r = api("POST", "/v1/me/mfa/totp/confirmation", body={"code": totp(secret)},
            headers=bearer(access))
    assert r.status == 200, r
    return secret, r.body["recoveryCodes"]


def person(tenant, roles):
    """A user of TENANT signed in: SimpleNamespace with .access too."""
    u = new_user(tenant, roles, firstName="Ottilie", lastName="Quandt")
    r = sign_in(u.email)
    assert r.status == 200, r
    u.access = r.body["accessToken"]
    return u


class TestEnrolment(unittest.TestCase):

    def setUp(self):
        self.t = new_tenant()
        self.u = person(self.t, ["sales_agent"])

    def status(self, access=None):
        r = api("GET", "/v1/me/mfa", headers=bearer(access or self.u.access))
        self.assertEqual(r.status, 200, r)
        return r.body

    def test_set_up_confirmed_by_a_first_code(self):
        other = sign_in(self.u.email).body["accessToken"]
        self.assertEqual(self.status()["totp"], "off")
        r = api("POST", "/v1/me/mfa/totp", headers=bearer(self.u.access))
        self.assertEqual(r.status, 201, r)
        secret = r.body["secret"]
        self.assertRegex(secret, r"^[A-Z2-7]{32}$")
        uri = urllib.parse.urlsplit(r.body["otpauthUri"])
        self.assertEqual((uri.scheme, uri.netloc), ("otpauth", "totp"))
        self.assertEqual(urllib.parse.unquote(uri.path), "/twotier (local):" + self.u.email)
        q = dict(urllib.parse.parse_qsl(uri.query))
        self.assertEqual(q, {"secret": secret, "issuer": "twotier (local)", "algorithm": "SHA1",
                             "digits": "6", "period": "30"})
        self.assertEqual(self.status()["totp"], "pending")
        # the secret is kept sealed, never as shown
        stored = sql_value("SELECT pending_secret FROM user_mfa WHERE user_id = %s", (self.u.id,))
        self.assertNotIn(secret, stored)
        self.assertEqual(len(base64.b64decode(stored)), 24 + 20 + 16)

        wrong = "%06d" % ((int(totp(secret)) + 1) % 1000000)
        p = assert_problem(api("POST", "/v1/me/mfa/totp/confirmation", body={"code": wrong},
                               headers=bearer(self.u.access)), 400, "validation-failed")
        self.assertEqual(field_errors(p), {"code": "code_wrong"})
        self.assertEqual(self.status()["totp"], "pending")

        r = api("POST", "/v1/me/mfa/totp/confirmation", body={"code": totp(secret)},
                headers=bearer(self.u.access))
        self.assertEqual(r.status, 200, r)
        codes = r.body["recoveryCodes"]
        self.assertEqual(len(set(codes)), 10)
        for c in codes:
            self.assertRegex(c, RECOVERY)
        s = self.status()
        self.assertEqual((s["totp"], s["recoveryCodesLeft"], s["required"]), ("on", 10, False))
        self.assertTrue(s["confirmedAt"])
        # kept as hashes only
        hashes = [row[0] for row in sql("SELECT code_hash FROM recovery_codes WHERE user_id = %s",
                                         (self.u.id,))]
        self.assertEqual(len(hashes), 10)
        self.assertFalse(set(c.replace("-", "") for c in codes) & set(hashes))
        # this session goes on; the others have ended; the owner is told
        self.assertEqual(api("GET", "/v1/me", headers=bearer(self.u.access)).status, 200)
        assert_problem(api("GET", "/v1/me", headers=bearer(other)), 401, "unauthenticated")
        (m,) = wait_mails(self.u.email)
        self.assertIn("Two-step sign-in was turned on", m.subject)
        self.assertIn("Ottilie", m.body)
        self.assertEqual(sql_value("SELECT COUNT(*) FROM audit_events WHERE action = "
                                   "'mfa.totp_enabled' AND target_id = %s", (self.u.id,)), "1")
        # once on, neither a second confirmation nor a new secret
        p = assert_problem(api("POST", "/v1/me/mfa/totp/confirmation",
                               body={"code": totp(secret, 1)}, headers=bearer(self.u.access)),
                           409, "conflict")
        self.assertEqual(p["code"], "mfa_not_pending")
        p = assert_problem(api("POST", "/v1/me/mfa/totp", headers=bearer(self.u.access)), 409,
                           "conflict")
        self.assertEqual(p["code"], "mfa_already_enabled")

    def test_a_new_secret_replaces_a_waiting_one_and_waits_15_minutes(self):
        first = api("POST", "/v1/me/mfa/totp", headers=bearer(self.u.access)).body["secret"]
        second = api("POST", "/v1/me/mfa/totp", headers=bearer(self.u.access)).body["secret"]
        self.assertNotEqual(first, second)
        # the first one's code no longer confirms (unless both match: they do not)
        if totp(first) != totp(second):
            assert_problem(api("POST", "/v1/me/mfa/totp/confirmation",
                               body={"code": totp(first)}, headers=bearer(self.u.access)),
                           400, "validation-failed")
        sql("UPDATE user_mfa SET pending_created_at = pending_created_at - INTERVAL 16 MINUTE "
            "WHERE user_id = %s", (self.u.id,))
        self.assertEqual(self.status()["totp"], "off")
        p = assert_problem(api("POST", "/v1/me/mfa/totp/confirmation",
                               body={"code": totp(second)}, headers=bearer(self.u.access)),
                           409, "conflict")
        self.assertEqual(p["code"], "mfa_not_pending")

    def test_bad_bodies_api_tokens_and_no_secret(self):
        h = bearer(self.u.access)
        for body in ({}, {"code": 123456}, {"code": "1" * 17}, {"code": "123456", "x": 1}):
            assert_problem(api("POST", "/v1/me/mfa/totp/confirmation", body=body, headers=h),
                           400, "validation-failed")
        p = assert_problem(api("POST", "/v1/me/mfa/totp/confirmation",
                               body={"code": "123456"}, headers=h), 409, "conflict")
        self.assertEqual(p["code"], "mfa_not_pending")
        token = new_api_token(self.t, ("profiles:read",))["token"]
        for method, path, body in (("GET", "/v1/me/mfa", None), ("POST", "/v1/me/mfa/totp", None),
                                   ("POST", "/v1/me/mfa/totp/confirmation", {"code": "123456"}),
                                   ("DELETE", "/v1/me/mfa/totp", {"code": "123456"})):
            assert_problem(api(method, path, body=body, headers=bearer(token)), 403, "forbidden")
            assert_problem(api(method, path, body=body), 401, "unauthenticated")
        self.assertEqual(sql_value("SELECT COUNT(*) FROM user_mfa WHERE user_id = %s",
                                   (self.u.id,)), "0")


class TestSignIn(unittest.TestCase):

    def setUp(self):
        self.t = new_tenant()
        self.u = person(self.t, ["admin_agent"])
        self.secret, self.codes = enrol(self.u.access)

    def test_the_password_alone_does_not_sign_in(self):
        r = sign_in(self.u.email)
        p = assert_problem(r, 401, "unauthenticated")
        self.assertEqual(p["code"], "mfa_required")
        self.assertRegex(p["challenge"], r"^[A-Za-z0-9_-]{43}$")
        self.assertNotIn("accessToken", p)
        self.assertTrue(r.headers.get("www-authenticate", "").startswith("Bearer"))
        # a wrong password says nothing of a second factor: the answer of
        # any wrong password
        p = assert_problem(sign_in(self.u.email, "not the password at all"), 401,
                           "unauthenticated")
        self.assertNotIn("challenge", p)
        self.assertNotIn("code", p)
        plain = assert_problem(sign_in("nobody-%s@%s" % (time.time_ns(), self.t.domain),
                                       "not the password at all"), 401, "unauthenticated")
        self.assertEqual(set(p) - {"requestId"}, set(plain) - {"requestId"})
        self.assertEqual(p["detail"], plain["detail"])

    def test_the_code_completes_it_once(self):
        steady()
        challenge = challenge_of(self.u.email)
        r = second_step(challenge, code=totp(self.secret, 1), cookie=False)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(api("GET", "/v1/me", headers=bearer(r.body["accessToken"])).status, 200)
        self.assertTrue(r.body["refreshToken"])
        # the challenge is spent; the code too, with a new challenge
        p = assert_problem(second_step(challenge, code=totp(self.secret, 1)), 401,
                           "unauthenticated")
        self.assertEqual(p["code"], "mfa_challenge_invalid")
        p = assert_problem(second_step(challenge_of(self.u.email), code=totp(self.secret, 1)),
                           401, "unauthenticated")
        self.assertEqual(p["code"], "mfa_code_wrong")
        # and an earlier step's code, though within the window, is older
        # than the one taken
        p = assert_problem(second_step(challenge_of(self.u.email), code=totp(self.secret)),
                           401, "unauthenticated")
        self.assertEqual(p["code"], "mfa_code_wrong")
        self.assertEqual(sql_value("SELECT COUNT(*) FROM audit_events WHERE action = "
                                   "'signin.second_factor_failed' AND target_id = %s",
                                   (self.u.id,)), "2")

    def test_a_browser_gets_its_cookie_at_the_second_step(self):
        r = second_step(challenge_of(self.u.email), code=totp(self.secret, 1), cookie=True)
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("refreshToken", r.body)
        self.assertIn("HttpOnly", r.headers.get("set-cookie", ""))

    def test_codes_outside_the_window_are_refused(self):
        for offset in (-3, -2, 2, 3):
            steady()
            fresh_steps(self.u.id)
            p = assert_problem(second_step(challenge_of(self.u.email),
                                           code=totp(self.secret, offset)), 401,
                               "unauthenticated")
            self.assertEqual(p["code"], "mfa_code_wrong", offset)
        fresh_steps(self.u.id)
        self.assertEqual(second_step(challenge_of(self.u.email),
                                     code=totp(self.secret, -1)).status, 200)

    def test_a_recovery_code_signs_in_once(self):
        typed = self.codes[0].upper().replace("-", " ")
        r = second_step(challenge_of(self.u.email), recoveryCode=typed)
        self.assertEqual(r.status, 200, r)
        p = assert_problem(second_step(challenge_of(self.u.email), recoveryCode=self.codes[0]),
                           401, "unauthenticated")
        self.assertEqual(p["code"], "mfa_code_wrong")
        status = api("GET", "/v1/me/mfa", headers=bearer(r.body["accessToken"])).body
        self.assertEqual(status["recoveryCodesLeft"], 9)
        self.assertEqual(sql_value("SELECT COUNT(*) FROM audit_events WHERE action = "
                                   "'mfa.recovery_code_used' AND target_id = %s", (self.u.id,)),
                         "1")
        # another user's code is not this user's
        other = person(self.t, ["sales_agent"])
        _, theirs = enrol(other.access)
        p = assert_problem(second_step(challenge_of(self.u.email), recoveryCode=theirs[0]),
                           401, "unauthenticated")
        self.assertEqual(p["code"], "mfa_code_wrong")

    def test_guesses_count_toward_the_lock_out(self):
        source = "127.0.31.%d" % (time.time_ns() % 200 + 20)
        wrong = "%06d" % ((int(totp(self.secret)) + 500000) % 1000000)
        challenge = challenge_of(self.u.email, source=source)
        # a challenge takes 5 codes, then the password again
        for _ in range(5):
            p = assert_problem(second_step(challenge, source=source, code=wrong), 401,
                               "unauthenticated")
            self.assertEqual(p["code"], "mfa_code_wrong")
        p = assert_problem(second_step(challenge, source=source, code=totp(self.secret, 1)),
                           401, "unauthenticated")
        self.assertEqual(p["code"], "mfa_challenge_invalid")
        # the right password does not clear the count: 10 guesses from an
        # address lock it out of the account, password and codes alike
        challenge = challenge_of(self.u.email, source=source)
        for _ in range(4):
            second_step(challenge, source=source, code=wrong)
        p = assert_problem(second_step(challenge, source=source, code=totp(self.secret, 1)), 429,
                           "too-many-requests")
        assert_problem(sign_in(self.u.email, source=source), 429, "too-many-requests")
        # the owner, elsewhere, signs in
        self.assertEqual(second_step(challenge_of(self.u.email), code=totp(self.secret, 1)).status,
                         200)
        self.assertGreaterEqual(int(sql_value(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'signin.locked_out' AND "
            "target_id = %s", (self.u.id,))), 1)

    def test_two_answers_to_one_challenge_race(self):
        steady()
        challenge = challenge_of(self.u.email)
        code = totp(self.secret, 1)
        results = parallel(*[lambda: second_step(challenge, code=code)] * 4)
        self.assertEqual(sorted(r.status for r in results), [200, 401, 401, 401], results)
        # one code, two challenges: taken once
        fresh_steps(self.u.id)
        a, b = challenge_of(self.u.email), challenge_of(self.u.email)
        results = parallel(lambda: second_step(a, code=code), lambda: second_step(b, code=code))
        self.assertEqual(sorted(r.status for r in results), [200, 401], results)

    def test_bad_second_steps_change_nothing(self):
        challenge = challenge_of(self.u.email)
        code = totp(self.secret, 1)
        for body, field in (({"challenge": challenge}, "code"),
                            ({"challenge": challenge, "code": code, "recoveryCode": "x"},
                             "recoveryCode"),
                            ({"challenge": challenge, "code": code, "username": self.u.email},
                             "challenge"),
                            ({"code": code}, "challenge"),
                            ({"challenge": challenge, "code": 123456}, "code"),
                            ({"challenge": challenge, "code": "1" * 17}, "code"),
                            ({"challenge": "c" * 65, "code": code}, "challenge")):
            p = assert_problem(api("POST", "/v1/auth/token", body=body), 400,
                               "validation-failed")
            self.assertIn(field, field_errors(p), body)
        p = assert_problem(second_step("x" * 43, code=code), 401, "unauthenticated")
        self.assertEqual(p["code"], "mfa_challenge_invalid")
        sql("UPDATE mfa_challenges SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND "
            "WHERE user_id = %s", (self.u.id,))
        p = assert_problem(second_step(challenge, code=code), 401, "unauthenticated")
        self.assertEqual(p["code"], "mfa_challenge_invalid")
        # nothing was spent: the code still completes a new challenge
        self.assertEqual(second_step(challenge_of(self.u.email), code=code).status, 200)

    def test_removing_it_takes_a_code(self):
        access = second_step(challenge_of(self.u.email), code=totp(self.secret, 1)).body[
            "accessToken"]
        h = bearer(access)
        for body in ({}, {"code": "123456", "recoveryCode": self.codes[1]}):
            assert_problem(api("DELETE", "/v1/me/mfa/totp", body=body, headers=h), 400,
                           "validation-failed")
        p = assert_problem(api("DELETE", "/v1/me/mfa/totp", body={"recoveryCode": "aaaaa-aaaaa"},
                               headers=h), 403, "forbidden")
        self.assertEqual(p["code"], "code_wrong")
        self.assertEqual(api("DELETE", "/v1/me/mfa/totp", body={"recoveryCode": self.codes[1]},
                             headers=h).status, 204)
        self.assertEqual(api("GET", "/v1/me/mfa", headers=h).body["totp"], "off")
        self.assertEqual(sql_value("SELECT COUNT(*) FROM recovery_codes WHERE user_id = %s",
                                   (self.u.id,)), "0")
        self.assertEqual(sign_in(self.u.email).status, 200)
        p = assert_problem(api("DELETE", "/v1/me/mfa/totp", body={"code": "123456"}, headers=h),
                           409, "conflict")
        self.assertEqual(p["code"], "mfa_not_enabled")
        subjects = [m.subject for m in mails_to(self.u.email)]
        self.assertTrue(any("turned off" in s for s in subjects), subjects)


class TestPolicy(unittest.TestCase):

    def setUp(self):
        self.t = new_tenant()

    def policy(self, auth, required):
        return api("PUT", "/v1/security-policy", body={"mfaRequired": required}, headers=auth)

    def test_a_global_admin_requires_it_of_the_admins(self):
        agent = person(self.t, ["admin_agent"])
        sales = person(self.t, ["sales_agent"])
        self.assertEqual(api("GET", "/v1/security-policy", headers=bearer(agent.access)).body,
                         {"mfaRequired": False, "mfaRequiredByPlatform": False})
        # only a global admin, and one who has it
        assert_problem(self.policy(bearer(agent.access), True), 403, "forbidden")
        assert_problem(self.policy(bearer(new_api_token(self.t)["token"]), True), 403, "forbidden")
        p = assert_problem(self.policy(self.t.auth, True), 409, "conflict")
        self.assertEqual(p["code"], "mfa_not_enabled")
        for body in ({}, {"mfaRequired": "yes"}, {"mfaRequired": True, "x": 1}):
            assert_problem(api("PUT", "/v1/security-policy", body=body, headers=self.t.auth), 400,
                           "validation-failed")
        self.assertEqual(sql_value("SELECT mfa_required FROM tenants WHERE id = %s", (self.t.id,)),
                         "0")
        secret, _ = enrol(self.t.token)
        # the global admin with a second factor: the password alone does
        # not sign it in
        p = assert_problem(sign_in(self.t.email, self.t.password), 401, "unauthenticated")
        self.assertEqual(p["code"], "mfa_required")
        r = second_step(p["challenge"], code=totp(secret, 1))
        self.assertEqual(r.status, 200, r)
        r = self.policy(self.t.auth, True)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["mfaRequired"], True)

        # the admin agent without it may only set it up
        p = assert_problem(api("GET", "/v1/users", headers=bearer(agent.access)), 403,
                           "forbidden")
        self.assertEqual(p["code"], "mfa_setup_required")
        status = api("GET", "/v1/me/mfa", headers=bearer(agent.access)).body
        self.assertEqual((status["required"], status["requiredByTenant"]), (True, True))
        self.assertEqual(api("GET", "/v1/me", headers=bearer(agent.access)).status, 200)
        fresh = sign_in(agent.email)
        self.assertEqual(fresh.status, 200, fresh)
        assert_problem(api("GET", "/v1/users", headers=bearer(fresh.body["accessToken"])), 403,
                       "forbidden")
        # a sales agent is not an admin: nothing changes for it
        self.assertEqual(api("GET", "/v1/profiles/organization",
                             headers=bearer(sales.access)).status, 200)
        # once set up, the same token goes on
        enrol(agent.access)
        self.assertEqual(api("GET", "/v1/users", headers=bearer(agent.access)).status, 200)
        # turning it off again puts the admin back to setting it up
        self.assertEqual(self.policy(self.t.auth, False).status, 200)
        self.assertEqual(sql_value("SELECT COUNT(*) FROM audit_events WHERE tenant_id = %s AND "
                                   "action IN ('tenant.mfa_required', 'tenant.mfa_not_required')",
                                   (self.t.id,)), "2")

    def test_a_global_admin_resets_a_users_second_factor(self):
        agent = person(self.t, ["admin_agent"])
        enrol(agent.access)
        other = new_tenant()
        assert_problem(api("DELETE", "/v1/users/%s/mfa" % agent.id, headers=other.auth), 404,
                       "not-found")
        assert_problem(api("DELETE", "/v1/users/%s/mfa" % agent.id, headers=bearer(agent.access)),
                       403, "forbidden")
        self.assertEqual(api("DELETE", "/v1/users/%s/mfa" % agent.id, headers=self.t.auth).status,
                         204)
        # its sessions have ended; the password alone signs in again
        assert_problem(api("GET", "/v1/me", headers=bearer(agent.access)), 401, "unauthenticated")
        self.assertEqual(sign_in(agent.email).status, 200)
        p = assert_problem(api("DELETE", "/v1/users/%s/mfa" % agent.id, headers=self.t.auth), 409,
                           "conflict")
        self.assertEqual(p["code"], "mfa_not_enabled")
        self.assertEqual(sql_value("SELECT COUNT(*) FROM audit_events WHERE action = 'mfa.reset' "
                                   "AND target_id = %s", (agent.id,)), "1")


if __name__ == "__main__":
    unittest.main()
