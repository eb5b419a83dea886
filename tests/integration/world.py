"""The partner programme's world, built through the API as users build it:
a work account that has enrolled as an indirect reseller, verified its
contact and been approved by the operator; a provider; a provider and a
reseller with a relationship; the partner agreement; a customer invited
through a relationship and its acceptance.  Each builder makes a fresh one
(unique domains and e-mails) and checks every step.

Used by conftest.py's fixtures, by the tests that build several worlds or
a world with parameters, and by scripts/bench.  Transport, database, mail
and sign-up are harness.py's."""

import secrets
import time
from datetime import date

from harness import (access_token, api, bearer, env, link_token, mails_to, new_tenant, sql,
                     wait_mails)

# ------------------------------------------------------------ from test_enrollment.py

def enrollment_body(domain, contact_email=None, language=None, country="DE"):
    b = {
        "legalBusinessProfile": {
            "companyName": "Contoso GmbH",
            "address": {"addressLine1": "Hauptstrasse 1", "addressLine2": "Haus B",
                        "city": "Berlin", "state": "Berlin", "postalCode": "10115",
                        "country": country},
            "phoneNumber": "+49 30 1234567",
        },
        "primaryContact": {"firstName": "Pia", "lastName": "Kontakt",
                           "email": contact_email or "pia@" + domain,
                           "phoneNumber": "+49 30 7654321"},
        "supportProfile": {"email": "support@" + domain, "telephone": "+49 30 1111111",
                           "website": "https://www." + domain + "/support"},
    }
    if language:
        b["primaryContact"]["language"] = language
    return b


def enroll(t, body=None, headers=None):
    h = dict(t.auth)
    h.update(headers or {})
    return api("POST", "/v1/enrollments", body=body or enrollment_body(t.domain), headers=h)


def enrolled_tenant(language=None, tenant=None):
    """A signed-up tenant (TENANT, or a new one) that has enrolled (201
    checked)."""
    t = tenant or new_tenant()
    body = enrollment_body(t.domain, language=language)
    r = enroll(t, body)
    if r.status != 201:
        raise AssertionError("enrolment failed: %r" % (r,))
    t.enrollment_id = r.body["id"]
    t.contact = body["primaryContact"]["email"]
    return t


def verify_token(token):
    return api("POST", "/v1/email-verifications", body={"token": token})


def verified_tenant(**kw):
    """An enrolled tenant whose primary contact followed the mailed link."""
    t = enrolled_tenant(**kw)
    mail = wait_mails(t.contact, 1)[0]
    r = verify_token(link_token(mail, "/verify-email"))
    if r.status != 200:
        raise AssertionError("verification failed: %r" % (r,))
    return t


_operator = {}


def operator_auth():
    if "token" not in _operator or _operator["at"] < time.time() - 600:
        _operator["token"] = access_token(env("TWOTIER_OPERATOR_EMAIL"),
                                          env("TWOTIER_OPERATOR_PASSWORD"))
        _operator["at"] = time.time()
    return bearer(_operator["token"])


def decide(enrollment_id, decision, reason=None, headers=None):
    body = {"decision": decision}
    if reason is not None:
        body["reason"] = reason
    h = operator_auth()
    h.update(headers or {})
    return api("POST", "/v1/operator/enrollments/%s/decisions" % enrollment_id, body=body,
               headers=h)


def approved_tenant():
    t = verified_tenant()
    r = decide(t.enrollment_id, "approve")
    if r.status != 201:
        raise AssertionError("approval failed: %r" % (r,))
    return t


def not_in_programme():
    """A valid ISO 3166-1 country that no CSP region holds."""
    present = {c for (c,) in sql("SELECT code FROM countries")}
    return next(c for c in ("KP", "IR", "SY", "CU", "AQ", "BV", "HM") if c not in present)


# ------------------------------------------------------------ from test_providers.py

def make_provider(t, regions=("europe",), headers=None):
    h = operator_auth()
    h.update(headers or {})
    return api("POST", "/v1/operator/providers", body={"tenantId": t.id, "regions": list(regions)},
               headers=h)


def new_provider(regions=("europe",), name=None):
    t = new_tenant()
    if name:
        sql("UPDATE tenants SET display_name = %s WHERE id = %s", (name, t.id))
    r = make_provider(t, regions)
    assert r.status == 201, r
    t.etag = r.headers["etag"]
    return t


def set_regions(t, regions, etag):
    h = operator_auth()
    if etag is not None:
        h["If-Match"] = etag
    return api("PUT", "/v1/operator/providers/%s/regions" % t.id, body={"regions": regions},
               headers=h)


# ------------------------------------------------------------ from test_relationships.py

def invite(provider, reseller_email, headers=None, **body):
    b = {"resellerEmail": reseller_email}
    b.update(body)
    h = dict(provider.auth)
    h.update(headers or {})
    return api("POST", "/v1/relationship-invitations", body=b, headers=h)


def mailed_link(email, path, param, n=1, timeout=15.0):
    """(id, token) of the n-th link to PATH?PARAM=<id>&token=<token> mailed
    to email."""
    deadline = time.monotonic() + timeout
    while True:
        mails = [m for m in mails_to(email) if path in m.body]
        if len(mails) >= n or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(mails) >= n, "%d %s link(s) mailed to %s, expected %d" % (len(mails), path,
                                                                      email, n)
    body = mails[n - 1].body
    return body.split(param + "=")[1].split("&")[0], link_token(mails[n - 1], path)


def invitation_link(email, n=1, timeout=15.0):
    """(invitation id, token) of the n-th invitation mailed to email."""
    return mailed_link(email, "/authorize-provider", "invitation", n, timeout)


def authorize(reseller, inv, token, consent=True, headers=None):
    body = {"token": token}
    if consent is not None:
        body["consent"] = consent
    h = dict(reseller.auth)
    h.update(headers or {})
    return api("POST", "/v1/relationship-invitations/%s/authorization" % inv, body=body,
               headers=h)


# ------------------------------------------------------------ from test_delegation.py

def related(roles=None):
    provider = new_provider()
    reseller = approved_tenant()
    body = {"adminAccess": {"roles": roles}} if roles else {}
    r = invite(provider, reseller.email, **body)
    assert r.status == 201, r
    inv, token = invitation_link(reseller.email)
    r = authorize(reseller, inv, token)
    assert r.status == 201, r
    return provider, reseller, r.body


def as_(provider, reseller, auth=None):
    h = dict(auth or provider.auth)
    h["On-Behalf-Of-Tenant"] = reseller.id
    return h


# ------------------------------------------------------------ from test_agreement.py

TYPE = "partner_agreement"


SHA = "ab" * 32


def publish(version=None, type_=TYPE, effective=None, **over):
    body = {"type": type_, "version": version or "v" + secrets.token_hex(4),
            "documentUrl": "https://partners.example.com/agreements/%s.pdf" % secrets.token_hex(3),
            "documentSha256": SHA, "effectiveDate": (effective or date.today()).isoformat()}
    body.update(over)
    return api("POST", "/v1/operator/agreement-templates", body=body, headers=operator_auth())


def current(type_=TYPE, auth=None):
    r = api("GET", "/v1/agreement-templates?type=" + type_, headers=auth or operator_auth())
    assert r.status == 200, r
    return r.body["items"][0] if r.body["items"] else None


def signer(**over):
    s = {"firstName": "Sam", "lastName": "Signer", "email": "sam@partner.example",
         "phoneNumber": "+49 30 5555555"}
    s.update(over)
    return s


def accept(t, headers=None, **body):
    b = {"signer": signer()}
    b.update(body)
    h = dict(t.auth)
    h.update(headers or {})
    return api("POST", "/v1/agreements", body=b, headers=h)


# ------------------------------------------------------------ from test_customers.py

ACCEPT_PATH = "/accept-customer-invitation"


def signed(t):
    """The reseller signs the current partner agreement (published if none)."""
    if current() is None:
        assert publish().status == 201
    r = accept(t, type=TYPE)
    assert r.status == 201, r


def partners():
    """A provider (europe) and a signed, approved reseller (DE) with an
    active relationship: (provider, reseller, relationship id)."""
    provider, reseller, rel = related()
    signed(reseller)
    return provider, reseller, rel["id"]


def invite_customer(reseller, rel, email, headers=None, auth=None, **over):
    body = {"customerEmail": email, "companyName": "Fabrikam SARL", "country": "FR"}
    body.update(over)
    h = dict(auth or reseller.auth)
    h.update(headers or {})
    return api("POST", "/v1/relationships/%s/customer-invitations" % rel, body=body, headers=h)


def customer_link(email, n=1, timeout=15.0):
    """(invitation id, token) of the n-th customer invitation mailed to email."""
    deadline = time.monotonic() + timeout
    while True:
        mails = [m for m in mails_to(email) if ACCEPT_PATH in m.body]
        if len(mails) >= n or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(mails) >= n, "%d invitation(s) mailed to %s, expected %d" % (len(mails), email, n)
    inv = mails[n - 1].body.split("invitation=")[1].split("&")[0]
    return inv, link_token(mails[n - 1], ACCEPT_PATH)


def accept_invitation(customer, inv, token, headers=None):
    h = dict(customer.auth)
    h.update(headers or {})
    return api("POST", "/v1/customer-invitations/%s/acceptance" % inv, body={"token": token},
               headers=h)


def invited(provider=None, reseller=None, rel=None):
    """A customer tenant invited by a signed reseller through its provider
    relationship: SimpleNamespace-like tuple (provider, reseller, rel,
    customer, invitation id, token)."""
    if provider is None:
        provider, reseller, rel = partners()
    customer = new_tenant()
    r = invite_customer(reseller, rel, customer.email)
    assert r.status == 201, r
    inv, token = customer_link(customer.email)
    assert inv == r.body["id"]
    return provider, reseller, rel, customer, inv, token


def shared_customer():
    """(provider, reseller, rel, customer) with both customer relationships."""
    provider, reseller, rel, customer, inv, token = invited()
    r = accept_invitation(customer, inv, token)
    assert r.status == 201, r
    return provider, reseller, rel, customer
