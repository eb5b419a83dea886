"""Linking a user to the external identity provider (issue 18, item 5).

A global admin sets or clears a user's `externalSubject` with
`PATCH /v1/users/{id}`; a signed-in person links their own account by
presenting one of the provider's tokens to `POST /v1/me/external-identity`
and unlinks it with `DELETE /v1/me/external-identity`. Each link and unlink
is audited; a subject is linked to one user at most (409
external_subject_taken); every refusal leaves the user's row and the audit
log as they were. Black-box: through nginx, the database and, for a service
with no external provider configured, a second twotier-fcgi of its own over
FastCGI.

The provider's tokens are made with the stack's stand-in provider key
(TWOTIER_IDP_PRIVATE_KEY_FILE, RS256, issuer TWOTIER_IDP_ISSUER)."""

import json
import os
import secrets
import subprocess
import tempfile
import time
import unittest
import uuid

import pytest

from fastcgi import Connection
from harness import (AUDIENCE, DROP, access_token, api, assert_problem, bearer,
                     claims_for, env, field_errors, make_jwt, new_api_token, new_tenant,
                     new_user, parallel, sql)


# ------------------------------------------------------------- helpers

def idp_claims(subject, **over):
    """Valid claims of the stand-in provider for SUBJECT; OVER replaces
    claims (DROP removes one)."""
    now = int(time.time())
    c = {"iss": env("TWOTIER_IDP_ISSUER"), "aud": AUDIENCE, "sub": subject, "iat": now,
         "nbf": now, "exp": now + 300, "jti": str(uuid.uuid4())}
    c.update(over)
    return {k: v for k, v in c.items() if v is not DROP}


def idp_token(subject, **over):
    return make_jwt(idp_claims(subject, **over), "RS256")


def new_subject():
    return "kc-" + secrets.token_hex(8)


def user_state(user_id):
    """What a link changes, and what a refusal must leave: the row's
    link, version, roles, state and update time."""
    rows = sql("SELECT external_issuer, external_subject, version, roles, disabled, updated_at "
               "FROM users WHERE id = %s", (user_id,))
    return tuple(rows[0]) if rows else None


def link_audits(tenant_id, user_id):
    """The tenant's audit events of links and unlinks of USER_ID, in order:
    (actor_type, actor_id, action)."""
    return [tuple(r) for r in sql(
        "SELECT actor_type, actor_id, action FROM audit_events WHERE tenant_id = %s "
        "AND target_type = 'user' AND target_id = %s AND action LIKE 'user.external%%' "
        "ORDER BY id", (tenant_id, user_id))]


def linked_users(subject):
    return [r[0] for r in sql("SELECT id FROM users WHERE external_issuer = %s AND "
                              "external_subject = %s", (env("TWOTIER_IDP_ISSUER"), subject))]


def etag_of(tenant, user_id):
    r = api("GET", "/v1/users/" + user_id, headers=tenant.auth)
    assert r.status == 200, r
    return r.body["etag"]


def patch(auth, user_id, body, etag):
    h = dict(auth)
    if etag is not None:
        h["If-Match"] = etag
    return api("PATCH", "/v1/users/" + user_id, body=body, headers=h)


def me(token):
    return api("GET", "/v1/me", headers=bearer(token))


def link_self(auth, body):
    return api("POST", "/v1/me/external-identity", body=body, headers=auth)


def unlink_self(auth):
    return api("DELETE", "/v1/me/external-identity", headers=auth)


class Unchanged:
    """assertUnchanged: a refusal left the user's row and the tenant's
    audit of links as they were."""

    def assertUnchanged(self, tenant_id, user_id, state, audits):
        self.assertEqual(user_state(user_id), state)
        self.assertEqual(link_audits(tenant_id, user_id), audits)


# ====================================================================
class TestAdminLinks(unittest.TestCase, Unchanged):
    """PATCH /v1/users/{id} with externalSubject, by a global admin."""

    @pytest.fixture(autouse=True)
    def _world(self, class_tenants):
        self.t, self.other = class_tenants

    def test_link_then_the_user_signs_in_with_the_provider(self):
        u = new_user(self.t, ["sales_agent"])
        subject = new_subject()
        # not linked yet: the provider's token names nobody
        assert_problem(me(idp_token(subject)), 401, "unauthenticated")
        r = patch(self.t.auth, u.id, {"externalSubject": subject}, u.etag)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["externalSubject"], subject)
        self.assertEqual(r.body["etag"], '"v2"')
        self.assertEqual(r.headers.get("etag"), '"v2"')
        self.assertEqual(r.body["roles"], ["sales_agent"])
        state = user_state(u.id)
        self.assertEqual(state[:3], (env("TWOTIER_IDP_ISSUER"), subject, "2"))
        self.assertEqual(link_audits(self.t.id, u.id),
                         [("user", self.t.admin_id, "user.external_link")])
        got = me(idp_token(subject))
        self.assertEqual(got.status, 200, got)
        self.assertEqual(got.body["userId"], u.id)
        self.assertEqual(got.body["tenantId"], self.t.id)
        self.assertEqual(got.body["roles"], ["sales_agent"])
        # GET shows the link
        r = api("GET", "/v1/users/" + u.id, headers=self.t.auth)
        self.assertEqual(r.body["externalSubject"], subject)

    def test_null_unlinks_and_the_provider_no_longer_signs_in(self):
        subject = new_subject()
        u = new_user(self.t, ["sales_agent"], externalSubject=subject)
        self.assertEqual(me(idp_token(subject)).status, 200)
        r = patch(self.t.auth, u.id, {"externalSubject": None}, u.etag)
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.body["externalSubject"])
        self.assertEqual(user_state(u.id)[:3], (None, None, "2"))
        self.assertEqual(link_audits(self.t.id, u.id),
                         [("user", self.t.admin_id, "user.external_unlink")])
        assert_problem(me(idp_token(subject)), 401, "unauthenticated")
        # the password still signs in
        self.assertEqual(me(access_token(u.email, u.password)).status, 200)
        # the subject is free for another user
        v = new_user(self.t, ["sales_agent"])
        r = patch(self.t.auth, v.id, {"externalSubject": subject}, v.etag)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(me(idp_token(subject)).body["userId"], v.id)

    def test_relink_to_another_subject(self):
        first, second = new_subject(), new_subject()
        u = new_user(self.t, ["sales_agent"], externalSubject=first)
        r = patch(self.t.auth, u.id, {"externalSubject": second}, u.etag)
        self.assertEqual(r.status, 200, r)
        assert_problem(me(idp_token(first)), 401, "unauthenticated")
        self.assertEqual(me(idp_token(second)).body["userId"], u.id)

    def test_the_same_link_again_changes_nothing(self):
        subject = new_subject()
        u = new_user(self.t, ["sales_agent"])
        r = patch(self.t.auth, u.id, {"externalSubject": subject}, u.etag)
        self.assertEqual(r.status, 200, r)
        state, audits = user_state(u.id), link_audits(self.t.id, u.id)
        r = patch(self.t.auth, u.id, {"externalSubject": subject}, r.body["etag"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["etag"], '"v2"')
        self.assertUnchanged(self.t.id, u.id, state, audits)
        # nor does clearing what is not linked
        v = new_user(self.t, ["sales_agent"])
        state = user_state(v.id)
        r = patch(self.t.auth, v.id, {"externalSubject": None}, v.etag)
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.body["externalSubject"])
        self.assertUnchanged(self.t.id, v.id, state, [])

    def test_roles_and_link_in_one_request(self):
        subject = new_subject()
        u = new_user(self.t, ["sales_agent"])
        r = patch(self.t.auth, u.id, {"roles": ["helpdesk_agent"], "externalSubject": subject},
                  u.etag)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["roles"], ["helpdesk_agent"])
        self.assertEqual(r.body["externalSubject"], subject)
        self.assertEqual(r.headers.get("etag"), r.body["etag"])
        self.assertEqual(etag_of(self.t, u.id), r.body["etag"])
        self.assertEqual(me(idp_token(subject)).body["roles"], ["helpdesk_agent"])

    def test_a_global_admin_links_itself(self):
        t = new_tenant()
        subject = new_subject()
        r = patch(t.auth, t.admin_id, {"externalSubject": subject}, etag_of(t, t.admin_id))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(me(idp_token(subject)).body["userId"], t.admin_id)

    def test_user_listing_shows_the_link(self):
        t = new_tenant()
        subject = new_subject()
        u = new_user(t, ["sales_agent"], externalSubject=subject)
        items = {i["id"]: i for i in api("GET", "/v1/users", headers=t.auth).body["items"]}
        self.assertEqual(items[u.id]["externalSubject"], subject)
        self.assertIsNone(items[t.admin_id]["externalSubject"])

    # ------------------------------------------------------ bad input

    def test_bad_input_400(self):
        u = new_user(self.t, ["sales_agent"])
        state, audits = user_state(u.id), link_audits(self.t.id, u.id)
        cases = [
            ({}, "roles", "required"),
            ({"externalSubject": 5}, "externalSubject", "wrong_type"),
            ({"externalSubject": True}, "externalSubject", "wrong_type"),
            ({"externalSubject": ["kc-1"]}, "externalSubject", "wrong_type"),
            ({"externalSubject": {"sub": "kc-1"}}, "externalSubject", "wrong_type"),
            ({"externalSubject": "x" * 256}, "externalSubject", "too_long"),
            ({"externalSubject": ""}, "externalSubject", "invalid"),
            ({"externalSubject": "   "}, "externalSubject", "invalid"),
            ({"externalSubject": "kc-\u00e9"}, "externalSubject", "invalid"),
            ({"externalSubject": "kc\t1"}, "externalSubject", "invalid"),
            ({"externalSubject": "kc-1", "externalIssuer": "x"}, "externalIssuer",
             "unknown_field"),
            ({"external_subject": "kc-1"}, "external_subject", "unknown_field"),
        ]
        for body, field, code in cases:
            r = patch(self.t.auth, u.id, body, u.etag)
            p = assert_problem(r, 400, "validation-failed")
            self.assertEqual(field_errors(p), {field: code}, (body, p))
            self.assertUnchanged(self.t.id, u.id, state, audits)
        # a duplicate key
        r = api("PATCH", "/v1/users/" + u.id,
                raw='{"externalSubject":"kc-a","externalSubject":"kc-b"}',
                headers=dict(self.t.auth, **{"If-Match": u.etag,
                                             "Content-Type": "application/json"}))
        p = assert_problem(r, 400, "validation-failed")
        self.assertEqual(field_errors(p), {"externalSubject": "duplicate_field"}, p)
        # not JSON
        r = api("PATCH", "/v1/users/" + u.id, raw='{"externalSubject":',
                headers=dict(self.t.auth, **{"If-Match": u.etag,
                                             "Content-Type": "application/json"}))
        assert_problem(r, 400, "malformed-json")
        self.assertUnchanged(self.t.id, u.id, state, audits)
        # 255 printable ASCII characters are a subject
        longest = secrets.token_hex(8) + "k" * 184 + "!~ -" + "z" * 51
        self.assertEqual(len(longest), 255)
        r = patch(self.t.auth, u.id, {"externalSubject": longest}, u.etag)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(user_state(u.id)[1], longest)
        self.assertEqual(me(idp_token(longest)).body["userId"], u.id)

    # ------------------------------------------------------ who may

    def test_admin_agent_and_sales_agent_refused_403(self):
        u = new_user(self.t, ["sales_agent"])
        agent = new_user(self.t, ["admin_agent"])
        sales = new_user(self.t, ["sales_agent"])
        agent_auth = bearer(access_token(agent.email, agent.password))
        sales_auth = bearer(access_token(sales.email, sales.password))
        for target in (u, agent):
            state, audits = user_state(target.id), link_audits(self.t.id, target.id)
            for body in ({"externalSubject": new_subject()}, {"externalSubject": None}):
                p = assert_problem(patch(agent_auth, target.id, body, target.etag), 403,
                                   "forbidden")
                self.assertEqual(p.get("code"), "global_admin_required", p)
                self.assertUnchanged(self.t.id, target.id, state, audits)
                assert_problem(patch(sales_auth, target.id, body, target.etag), 403,
                               "forbidden")
                self.assertUnchanged(self.t.id, target.id, state, audits)
            # with roles in the same request the roles do not change either
            p = assert_problem(patch(agent_auth, target.id,
                                     {"roles": ["helpdesk_agent"],
                                      "externalSubject": new_subject()}, target.etag),
                               403, "forbidden")
            self.assertEqual(p.get("code"), "global_admin_required", p)
            self.assertUnchanged(self.t.id, target.id, state, audits)
        # an admin agent may still change roles
        r = patch(agent_auth, u.id, {"roles": ["helpdesk_agent"]}, u.etag)
        self.assertEqual(r.status, 200, r)

    def test_api_token_refused_403(self):
        u = new_user(self.t, ["sales_agent"])
        state, audits = user_state(u.id), link_audits(self.t.id, u.id)
        token = new_api_token(self.t, ["profiles:read", "customers:write"])["token"]
        self.assertTrue(token.startswith("tt_"))
        p = assert_problem(patch(bearer(token), u.id, {"externalSubject": new_subject()},
                                 u.etag), 403, "forbidden")
        self.assertIn("API tokens", p["detail"])
        self.assertUnchanged(self.t.id, u.id, state, audits)

    def test_another_tenants_user_404(self):
        other_user = new_user(self.other, ["sales_agent"])
        for uid, etag in ((other_user.id, other_user.etag), (self.other.admin_id, '"v1"'),
                          (str(uuid.uuid4()), '"v1"')):
            before = user_state(uid)
            for body in ({"externalSubject": new_subject()}, {"externalSubject": None}):
                assert_problem(patch(self.t.auth, uid, body, etag), 404, "not-found")
            self.assertEqual(user_state(uid), before)
        self.assertEqual(link_audits(self.other.id, other_user.id), [])

    # ------------------------------------------------------ conflicts

    def test_subject_taken_409(self):
        subject = new_subject()
        holder = new_user(self.other, ["sales_agent"], externalSubject=subject)
        local = new_subject()
        sibling = new_user(self.t, ["sales_agent"], externalSubject=local)
        u = new_user(self.t, ["sales_agent"])
        state, audits = user_state(u.id), link_audits(self.t.id, u.id)
        for taken in (subject, local):
            p = assert_problem(patch(self.t.auth, u.id, {"externalSubject": taken}, u.etag),
                               409, "conflict")
            self.assertEqual(p.get("code"), "external_subject_taken", p)
            self.assertUnchanged(self.t.id, u.id, state, audits)
        self.assertEqual(linked_users(subject), [holder.id])
        self.assertEqual(linked_users(local), [sibling.id])
        # with roles in the same request the roles do not change either
        p = assert_problem(patch(self.t.auth, u.id, {"roles": ["helpdesk_agent"],
                                                     "externalSubject": subject}, u.etag),
                           409, "conflict")
        self.assertEqual(p.get("code"), "external_subject_taken", p)
        self.assertUnchanged(self.t.id, u.id, state, audits)
        # subjects are compared byte for byte: another case is another subject
        r = patch(self.t.auth, u.id, {"externalSubject": subject.upper()}, u.etag)
        self.assertEqual(r.status, 200, r)

    def test_stale_or_missing_if_match(self):
        u = new_user(self.t, ["sales_agent"])
        r = patch(self.t.auth, u.id, {"externalSubject": new_subject()}, u.etag)
        self.assertEqual(r.status, 200, r)
        state, audits = user_state(u.id), link_audits(self.t.id, u.id)
        # the request replayed with the ETag it was sent with
        for body in ({"externalSubject": new_subject()}, {"externalSubject": None}):
            assert_problem(patch(self.t.auth, u.id, body, u.etag), 412, "precondition-failed")
            self.assertUnchanged(self.t.id, u.id, state, audits)
        assert_problem(patch(self.t.auth, u.id, {"externalSubject": None}, None), 428,
                       "precondition-required")
        self.assertUnchanged(self.t.id, u.id, state, audits)
        # "*" matches whatever the version
        r = patch(self.t.auth, u.id, {"externalSubject": None}, "*")
        self.assertEqual(r.status, 200, r)

    def race(self, first, second):
        """Links one subject to FIRST and SECOND (users of tenants, each
        patched by its tenant's admin) at once: exactly one wins."""
        subject = new_subject()
        results = parallel(*(
            (lambda t=t, u=u: patch(t.auth, u.id, {"externalSubject": subject}, u.etag))
            for t, u in (first, second)))
        statuses = sorted(r.status for r in results)
        self.assertEqual(statuses, [200, 409], results)
        winner = [u for (t, u), r in zip((first, second), results) if r.status == 200][0]
        loser = [(t, u) for (t, u), r in zip((first, second), results) if r.status == 409][0]
        self.assertEqual(
            [r for r in results if r.status == 409][0].body.get("code"),
            "external_subject_taken")
        self.assertEqual(linked_users(subject), [winner.id])
        self.assertEqual(user_state(loser[1].id)[:3], (None, None, "1"))
        self.assertEqual(link_audits(loser[0].id, loser[1].id), [])
        self.assertEqual(me(idp_token(subject)).body["userId"], winner.id)

    def test_race_two_tenants(self):
        for _ in range(3):
            self.race((self.t, new_user(self.t, ["sales_agent"])),
                      (self.other, new_user(self.other, ["sales_agent"])))

    def test_race_one_tenant(self):
        for _ in range(3):
            self.race((self.t, new_user(self.t, ["sales_agent"])),
                      (self.t, new_user(self.t, ["sales_agent"])))


# ====================================================================
class TestSelfLink(unittest.TestCase, Unchanged):
    """POST and DELETE /v1/me/external-identity: a person links their own
    account by presenting one of the provider's tokens."""

    @pytest.fixture(autouse=True)
    def _world(self, class_tenant):
        self.t = class_tenant

    def person(self, roles=("sales_agent",)):
        u = new_user(self.t, list(roles))
        u.auth = bearer(access_token(u.email, u.password))
        return u

    def test_link_then_sign_in_with_the_provider_then_unlink(self):
        u = self.person()
        subject = new_subject()
        r = link_self(u.auth, {"token": idp_token(subject)})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["id"], u.id)
        self.assertEqual(r.body["externalSubject"], subject)
        self.assertEqual(r.headers.get("etag"), '"v2"')
        self.assertEqual(user_state(u.id)[:3], (env("TWOTIER_IDP_ISSUER"), subject, "2"))
        self.assertEqual(link_audits(self.t.id, u.id), [("user", u.id, "user.external_link")])
        got = me(idp_token(subject))
        self.assertEqual(got.status, 200, got)
        self.assertEqual(got.body["userId"], u.id)
        # how the user signs in has changed: its sessions have ended, the
        # caller's own too
        p = assert_problem(api("GET", "/v1/me", headers=u.auth), 401, "unauthenticated")
        self.assertIn("session has ended", p["detail"])
        u.auth = bearer(access_token(u.email, u.password))
        # the same token again: already so, nothing changes
        state = user_state(u.id)
        r = link_self(u.auth, {"token": idp_token(subject)})
        self.assertEqual(r.status, 200, r)
        self.assertUnchanged(self.t.id, u.id, state, [("user", u.id, "user.external_link")])
        # unlink
        r = unlink_self(u.auth)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.raw, b"")
        self.assertEqual(user_state(u.id)[:3], (None, None, "3"))
        self.assertEqual(link_audits(self.t.id, u.id), [("user", u.id, "user.external_link"),
                                                        ("user", u.id, "user.external_unlink")])
        assert_problem(me(idp_token(subject)), 401, "unauthenticated")
        u.auth = bearer(access_token(u.email, u.password))
        # unlinking again: nothing to do, nothing audited
        state = user_state(u.id)
        self.assertEqual(unlink_self(u.auth).status, 204)
        self.assertUnchanged(self.t.id, u.id, state, [("user", u.id, "user.external_link"),
                                                      ("user", u.id, "user.external_unlink")])

    def test_signed_in_through_the_provider_unlinks(self):
        u = self.person(("admin_agent",))
        subject = new_subject()
        self.assertEqual(link_self(u.auth, {"token": idp_token(subject)}).status, 200)
        external = bearer(idp_token(subject))
        self.assertEqual(unlink_self(external).status, 204)
        # the same token stops on its next request
        assert_problem(me(idp_token(subject)), 401, "unauthenticated")
        assert_problem(api("GET", "/v1/me", headers=external), 401, "unauthenticated")

    def test_any_role_may_link_its_own(self):
        for roles in (["helpdesk_agent"], ["billing_admin"], ["global_admin", "admin_agent"]):
            u = self.person(roles)
            subject = new_subject()
            r = link_self(u.auth, {"token": idp_token(subject)})
            self.assertEqual(r.status, 200, (roles, r))
            self.assertEqual(me(idp_token(subject)).body["userId"], u.id)

    def test_bad_tokens_400(self):
        u = self.person()
        subject = new_subject()
        now = int(time.time())
        good = idp_token(subject)
        h, p, s = good.split(".")
        ours = make_jwt(claims_for(u.id, self.t.id))
        cases = [
            (idp_token(subject, exp=now - 120), "expired"),
            (idp_token(subject, nbf=now + 600, iat=now + 600), "not_yet_valid"),
            (idp_token(subject, aud="account"), "invalid"),
            (idp_token(subject, iss="https://evil.test/realms/twotier"), "invalid"),
            (idp_token(subject, exp=DROP), "invalid"),
            (idp_token(DROP), "invalid"),
            (idp_token("x" * 256), "invalid"),
            (idp_token("kc-\u00e9t\u00e9"), "invalid"),
            ("%s.%s.%s" % (h, make_jwt(idp_claims("kc-other"), "RS256").split(".")[1], s),
             "invalid"),
            ("%s.%s." % (h, p), "invalid"),
            ("not a token", "invalid"),
            # the provider's issuer signed with our key, and our own token
            (make_jwt(idp_claims(subject), "ES256"), "invalid"),
            (ours, "invalid"),
            (make_jwt(claims_for(u.id, self.t.id, iss=env("TWOTIER_IDP_ISSUER"))), "invalid"),
        ]
        state = user_state(u.id)
        for token, code in cases:
            r = link_self(u.auth, {"token": token})
            body = assert_problem(r, 400, "validation-failed")
            self.assertEqual(field_errors(body), {"token": code}, (token[:80], body))
            self.assertUnchanged(self.t.id, u.id, state, [])
        self.assertEqual(linked_users(subject), [])
        # the caller's own credential is still good: a bad token in the body
        # is no reason to sign the caller out
        self.assertEqual(api("GET", "/v1/me", headers=u.auth).status, 200)

    def test_bad_bodies_400(self):
        u = self.person()
        state = user_state(u.id)
        for body, field, code in (
                ({}, "token", "required"),
                ({"token": None}, "token", "wrong_type"),
                ({"token": 5}, "token", "wrong_type"),
                ({"token": ["a.b.c"]}, "token", "wrong_type"),
                ({"token": "a" * 8193}, "token", "too_long"),
                ({"token": idp_token(new_subject()), "sub": "kc-1"}, "sub", "unknown_field"),
                ({"externalSubject": "kc-1"}, "externalSubject", "unknown_field")):
            p = assert_problem(link_self(u.auth, body), 400, "validation-failed")
            self.assertEqual(field_errors(p).get(field), code, (body, p))
            self.assertUnchanged(self.t.id, u.id, state, [])
        assert_problem(api("POST", "/v1/me/external-identity", raw="",
                           headers=dict(u.auth, **{"Content-Type": "application/json"})),
                       400, "malformed-json")
        assert_problem(api("POST", "/v1/me/external-identity", raw="token=x",
                           headers=dict(u.auth, **{"Content-Type": "text/plain"})),
                       415, "unsupported-media-type")
        # DELETE takes no body
        assert_problem(api("DELETE", "/v1/me/external-identity", body={"token": "x"},
                           headers=u.auth), 400, "malformed-request")
        self.assertUnchanged(self.t.id, u.id, state, [])

    def test_subject_of_another_user_409(self):
        subject = new_subject()
        holder = new_user(self.t, ["sales_agent"], externalSubject=subject)
        other = new_tenant()
        elsewhere = new_subject()
        new_user(other, ["sales_agent"], externalSubject=elsewhere)
        u = self.person()
        state = user_state(u.id)
        for taken in (subject, elsewhere):
            p = assert_problem(link_self(u.auth, {"token": idp_token(taken)}), 409, "conflict")
            self.assertEqual(p.get("code"), "external_subject_taken", p)
            self.assertUnchanged(self.t.id, u.id, state, [])
        self.assertEqual(linked_users(subject), [holder.id])

    def test_api_token_refused_403(self):
        u = self.person(("global_admin", "admin_agent"))
        token = new_api_token(self.t, ["profiles:read"])["token"]
        state = user_state(self.t.admin_id)
        p = assert_problem(link_self(bearer(token), {"token": idp_token(new_subject())}), 403,
                           "forbidden")
        self.assertIn("API tokens", p["detail"])
        p = assert_problem(unlink_self(bearer(token)), 403, "forbidden")
        self.assertIn("API tokens", p["detail"])
        self.assertUnchanged(self.t.id, self.t.admin_id, state, [])
        self.assertEqual(user_state(u.id)[:2], (None, None))

    def test_anonymous_401_and_delegation_403(self):
        subject = new_subject()
        assert_problem(link_self({}, {"token": idp_token(subject)}), 401, "unauthenticated")
        assert_problem(unlink_self({}), 401, "unauthenticated")
        u = self.person(("admin_agent",))
        p = assert_problem(link_self(dict(u.auth, **{"On-Behalf-Of-Tenant": str(uuid.uuid4())}),
                                     {"token": idp_token(subject)}), 403, "forbidden")
        self.assertIn("On-Behalf-Of-Tenant", p["detail"])
        self.assertEqual(linked_users(subject), [])

    def test_methods(self):
        u = self.person()
        for method in ("GET", "PUT", "PATCH"):
            r = api(method, "/v1/me/external-identity", headers=u.auth)
            assert_problem(r, 405, "method-not-allowed")
            self.assertEqual(sorted(r.headers["allow"].replace(" ", "").split(",")),
                             ["DELETE", "POST"], r)

    def test_race_two_people_one_subject(self):
        for _ in range(3):
            a, b = self.person(), self.person()
            subject = new_subject()
            results = parallel(lambda: link_self(a.auth, {"token": idp_token(subject)}),
                               lambda: link_self(b.auth, {"token": idp_token(subject)}))
            self.assertEqual(sorted(r.status for r in results), [200, 409], results)
            winner = a if results[0].status == 200 else b
            loser = b if winner is a else a
            self.assertEqual(linked_users(subject), [winner.id])
            self.assertEqual(user_state(loser.id)[:3], (None, None, "1"))
            self.assertEqual(link_audits(self.t.id, loser.id), [])


# ====================================================================
def fcgi(sock, method, path, body=None, token=None, if_match=None):
    """METHOD PATH over FastCGI to the service at SOCK: (status, body)."""
    params = {}
    data = b""
    if body is not None:
        data = json.dumps(body).encode()
        params["CONTENT_TYPE"] = "application/json"
    if token is not None:
        params["HTTP_AUTHORIZATION"] = "Bearer " + token
    if if_match is not None:
        params["HTTP_IF_MATCH"] = if_match
    c = Connection(sock, timeout=30)
    try:
        status, _, payload = c.request(method, path, data, keep=False, headers=params)
    finally:
        c.close()
    return status, json.loads(payload.decode()) if payload else None


class TestNoExternalProvider(unittest.TestCase, Unchanged):
    """A service with no external identity provider configured (a second
    twotier-fcgi on the stack's database, spoken to over FastCGI): a link
    is refused (422 no_external_issuer), an unlink still works."""

    @pytest.fixture(autouse=True)
    def _service(self):
        with tempfile.TemporaryDirectory() as tmp:
            self.sock = os.path.join(tmp, "s.sock")
            with open(env("TWOTIER_CONF")) as f:
                lines = [l for l in f.read().splitlines()
                         if not l.startswith(("listen", "mail_sender", "socket_", "ext_"))]
            conf = os.path.join(tmp, "c.conf")
            with open(conf, "w") as f:
                f.write("\n".join(lines + ["listen = unix:" + self.sock,
                                           "mail_sender = false"]) + "\n")
            log_path = os.path.join(tmp, "fcgi.log")
            with open(log_path, "w") as log:
                proc = subprocess.Popen([env("TWOTIER_FCGI_BIN"), "-c", conf], stdout=log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            try:
                deadline = time.monotonic() + 30
                while not os.path.exists(self.sock):
                    self.assertIsNone(proc.poll(), open(log_path).read())
                    self.assertLess(time.monotonic(), deadline, open(log_path).read())
                    time.sleep(0.05)
                yield
            finally:
                proc.terminate()
                self.assertEqual(proc.wait(timeout=30), 0, open(log_path).read())

    def test_link_refused_unlink_works(self):
        t = new_tenant()
        subject = new_subject()
        linked = new_user(t, ["sales_agent"], externalSubject=subject)
        u = new_user(t, ["sales_agent"])
        state = user_state(u.id)
        status, body = fcgi(self.sock, "PATCH", "/v1/users/" + u.id,
                            {"externalSubject": new_subject()}, t.token, u.etag)
        self.assertEqual((status, body.get("code")), (422, "no_external_issuer"), body)
        self.assertUnchanged(t.id, u.id, state, [])
        # a person's own link as well
        token = access_token(u.email, u.password)
        status, body = fcgi(self.sock, "POST", "/v1/me/external-identity",
                            {"token": idp_token(new_subject())}, token)
        self.assertEqual((status, body.get("code")), (422, "no_external_issuer"), body)
        self.assertUnchanged(t.id, u.id, state, [])
        # the provider's tokens are not accepted here at all
        status, _ = fcgi(self.sock, "GET", "/v1/me", token=idp_token(subject))
        self.assertEqual(status, 401)
        # but a link made before can be cleared
        status, body = fcgi(self.sock, "PATCH", "/v1/users/" + linked.id,
                            {"externalSubject": None}, t.token, linked.etag)
        self.assertEqual(status, 200, body)
        self.assertIsNone(body["externalSubject"])
        self.assertEqual(user_state(linked.id)[:2], (None, None))
        self.assertEqual(link_audits(t.id, linked.id),
                         [("user", t.admin_id, "user.external_unlink")])
