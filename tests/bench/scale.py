"""The scale run of scripts/bench (SPEC §6: a page costs the same whatever
the length of the list).

Two worlds, each made the way users make them (tests/integration/world.py:
the sign-ups, the enrolment and its review, the partner agreement, the
provider's invitation and the reseller's consent, the customer's invitation
and acceptance; an API token of the provider's billing system), then
filled in bulk with SQL (PyMySQL, parameters only, INSERT ... SELECT ...
FROM seq_1_to_N: MariaDB's Sequence engine) to ROWS (100,000; SCALE_ROWS)
rows of each list in the "big" world and ten in the "small" one:

  users          the reseller's users (sales agents), each with the
                 user.create audit event the service writes beside it
  audit-events   the reseller's audit log: those events and the world's own
  customers      the reseller's customers: a tenant, its admin, the accepted
                 customer invitation and its two customer relationships
                 (with the reseller and with the provider) each
  subscriptions  one customer's subscriptions through the pair, each with the
  orders         order that made it (created by the billing system's token)
  relationships  the provider's resellers: an approved, verified enrolment
                 (tenant, admin, enrolment, its transitions, the used
                 verification link, legal and support profiles), the
                 accepted invitation and the active relationship each
  enrollments    the operator's list, which is global: status=in_review is
                 the big one (verified enrolments waiting for review),
                 status=more_info_requested the small one (ten rows)

Every bulk row is one the service could have written: ids are UUIDv7 as
lib/core/util.c makes them (48-bit millisecond time, version 7, variant
10; the 12 bits after the version count the rows of a millisecond, so the
ids sort in the order the rows were made: RFC 9562's monotonic method), in
lower-case hex in the CHAR(36) ASCII columns; rows are 10 µs apart from
the fill's start, created_at, the ids' time and the ids' order agreeing;
foreign keys are checked (FOREIGN_KEY_CHECKS stays on), unique keys
(e-mails, domains, token hashes) hold, states and enums are the ones the
service's flows leave. What the bulk rows do not get: the audit events of
the other kinds (a customer's acceptance writes three), the outbox's mails
and their sign-in history; no list measured here reads them.

The fill is made once per stack: the database twotier_scale (made as
MariaDB's root) holds a row per world with its ids and how long its fill
took; a second run finds it, checks that its tenants and counts are still
there, and reuses it. Each kind's bulk rows are written in one
transaction, the marker last.

Then, for each list, wrk (DURATION, ROUNDS, CONNECTIONS as the rest of the
bench) on its first page and on a deep page, small world and big world one
after the other, the lists interleaved in rounds; the
deep page is the links.next the service answers for the page after the row
3 pages from the end of the list (the cursor built as the service builds
it: base64url, no padding, of the last id seen), and the bench checks that
that page starts where the list says. Between runs it waits until the
service has answered what the last run left queued (a slow list's backlog
would otherwise be the next run's). The table: medians of the rounds,
the slowdown big/small (small req/s over big req/s) and whether it is
within TARGET (1.5×), the p99s, and the big world's totalCount and
totalCountCapped as its first page answers them (SPEC §6: 200 and true).

The pages are ?limit=10 (SCALE_LIMIT): as many items as the small world's
ten rows fill, so that the two pages differ in the length of their lists
alone. A page of 20 holds twice the small world's items and twice its bytes
(an enrolment's page of 20 is 21 kB against 11 kB), and what those cost
through nginx and wrk on two cores is not the list's length: the table's
last line says how many items each world's pages held.
"""

import base64
import json
import os
import secrets
import statistics
import time
from datetime import datetime, timedelta

import harness  # tests/integration, on sys.path (scripts/bench puts it there)
import world

ROWS = int(os.environ.get("SCALE_ROWS", "100000"))
SMALL = 10
LIMIT = int(os.environ.get("SCALE_LIMIT", str(SMALL)))
TARGET = 1.5
SCHEMA = "twotier_scale"
MARKER_VERSION = 1
OFFERS = ["0193a000-0000-7000-8000-00000000000%d" % i for i in range(1, 6)]


# ------------------------------------------------------------ SQL pieces

def _id(letter):
    """The SQL expression of a UUIDv7 for row seq of a fill: the time of
    the row (%(us)s + seq * 10 µs) in its first 48 bits, version 7, a
    counter of the millisecond's rows, variant 10 and bits of MD5(salt,
    letter, seq): a distinct id a letter, the same one in every statement
    of the fill (so that foreign keys meet)."""
    ms = "LPAD(LOWER(HEX((%(us)s + seq * 10) DIV 1000)), 12, '0')"
    ctr = "LPAD(LOWER(HEX(((%(us)s + seq * 10) MOD 1000) DIV 10)), 3, '0')"
    rnd = "MD5(CONCAT(%(salt)s, '" + letter + "', seq))"
    return ("CONCAT(SUBSTR({ms}, 1, 8), '-', SUBSTR({ms}, 9, 4), '-7', {ctr}, '-', "
            "ELT(1 + CONV(SUBSTR({r}, 1, 1), 16, 10) MOD 4, '8', '9', 'a', 'b'), "
            "SUBSTR({r}, 2, 3), '-', SUBSTR({r}, 5, 12))").format(ms=ms, ctr=ctr, r=rnd)


AT = "TIMESTAMPADD(MICROSECOND, seq * 10, %(at)s)"


def _hash(letter):
    """A 64-hex token hash (what the service keeps of a mailed token)."""
    return "SHA2(CONCAT(%(salt)s, '" + letter + "', seq), 256)"


def _rid(letter):
    """A request id as nginx makes them (32 hex)."""
    return "MD5(CONCAT(%(salt)s, '" + letter.upper() + "', seq))"


def _domain(prefix):
    return "CONCAT('" + prefix + "', %(salt)s, seq, '.example.com')"


def _fill_params(start, extra):
    """The parameters every statement of a kind's fill has: the world's
    fill's start (µs since the epoch, and as a UTC DATETIME(6)), which all
    its kinds share (so that the rows of kinds that share a table, such as
    the users of the reseller and the admins of its customers, interleave
    in time and id as they would), and the kind's own salt."""
    at = datetime(1970, 1, 1) + timedelta(microseconds=start)
    p = {"us": start, "at": at.strftime("%Y-%m-%d %H:%M:%S.%f"), "salt": secrets.token_hex(4)}
    p.update(extra)
    return p


def _tenant_admin(cur, k, p, domain, display_name, csp_country, partner_types, version):
    """k tenants (id letter t) and their admins (letter v), as a sign-up
    makes them (and an enrolment: csp_country, version 2)."""
    seq = "seq_1_to_%d" % k
    cur.execute(
        "INSERT INTO tenants (id, domain, display_name, is_platform, csp_country, partner_types, "
        "created_at, version) SELECT " + _id("t") + ", " + domain + ", %(display)s, 0, "
        "%(csp)s, %(ptypes)s, " + AT + ", %(tversion)s FROM " + seq,
        dict(p, display=display_name, csp=csp_country, ptypes=partner_types, tversion=version))
    cur.execute(
        "INSERT INTO users (id, tenant_id, email, password_hash, first_name, last_name, disabled, "
        "roles, created_at, updated_at, version) SELECT " + _id("v") + ", " + _id("t") + ", "
        "CONCAT('admin@', " + domain + "), %(hash)s, 'Ada', 'Lovelace', 0, "
        "'global_admin,admin_agent', " + AT + ", " + AT + ", 1 FROM " + seq, p)
    return {"tenants": k, "users": k}


TRANSITIONS = {  # status -> the transitions that lead to it: from, to, actor
    "in_review": [(None, "pending_email_verification", "user"),
                  ("pending_email_verification", "in_review", "anonymous")],
    "approved": [(None, "pending_email_verification", "user"),
                 ("pending_email_verification", "in_review", "anonymous"),
                 ("in_review", "approved", "operator")],
    "more_info_requested": [(None, "pending_email_verification", "user"),
                            ("pending_email_verification", "in_review", "anonymous"),
                            ("in_review", "more_info_requested", "operator")],
}
REASON = "Please send an extract of the trade register."


def _enrolled(cur, k, p, status, domain):
    """The enrolments (letter e) of the k tenants of _tenant_admin, verified
    and in STATUS, with their transitions, the used verification link and
    the legal and support profiles the enrolment wrote."""
    seq = "seq_1_to_%d" % k
    cur.execute(
        "INSERT INTO enrollments (id, tenant_id, status, contact_first_name, contact_last_name, "
        "contact_email, contact_phone, contact_language, email_verified_at, created_by, "
        "created_at, updated_at) SELECT " + _id("e") + ", " + _id("t") + ", %(status)s, 'Pia', "
        "'Kontakt', CONCAT('pia@', " + domain + "), '+49307654321', 'en', " + AT + ", "
        + _id("v") + ", " + AT + ", " + AT + " FROM " + seq, dict(p, status=status))
    for i, (frm, to, actor) in enumerate(TRANSITIONS[status]):
        letter = "xyz"[i]
        actor_type = {"user": "user", "anonymous": "anonymous", "operator": "user"}[actor]
        actor_id = {"user": _id("v"), "anonymous": "NULL", "operator": "%(operator)s"}[actor]
        cur.execute(
            "INSERT INTO enrollment_transitions (id, enrollment_id, from_status, to_status, "
            "actor_type, actor_id, reason, request_id, created_at) SELECT " + _id(letter) + ", "
            + _id("e") + ", %(frm)s, %(to)s, %(atype)s, " + actor_id + ", %(reason)s, "
            + _rid(letter) + ", " + AT + " FROM " + seq,
            dict(p, frm=frm, to=to, atype=actor_type,
                 reason=REASON if to == "more_info_requested" else None))
    cur.execute(
        "INSERT INTO email_verifications (id, enrollment_id, token_hash, is_resend, created_at, "
        "expires_at, used_at) SELECT " + _id("m") + ", " + _id("e") + ", " + _hash("h") + ", 0, "
        + AT + ", TIMESTAMPADD(DAY, 3, " + AT + "), " + AT + " FROM " + seq, p)
    cur.execute(
        "INSERT INTO legal_profiles (tenant_id, company_name, address_line1, address_line2, "
        "city, state, postal_code, country, phone_number, updated_at, version) SELECT "
        + _id("t") + ", 'Contoso GmbH', 'Hauptstrasse 1', 'Haus B', 'Berlin', 'Berlin', "
        "'10115', 'DE', '+49301234567', " + AT + ", 1 FROM " + seq, p)
    cur.execute(
        "INSERT INTO support_profiles (tenant_id, email, telephone, website, updated_at, version) "
        "SELECT " + _id("t") + ", CONCAT('support@', " + domain + "), '+49301111111', "
        "CONCAT('https://www.', " + domain + ", '/support'), " + AT + ", 1 FROM " + seq, p)
    return {"enrollments": k, "enrollment_transitions": k * len(TRANSITIONS[status]),
            "email_verifications": k, "legal_profiles": k, "support_profiles": k}


# ------------------------------------------------------------ the fills

def fill_users(cur, w, k, start):
    """k sales agents of the reseller, each with its user.create event."""
    p = _fill_params(start, {"tenant": w["reseller"], "admin": w["reseller_admin"],
                      "domain": w["reseller_domain"], "hash": w["hash"]})
    seq = "seq_1_to_%d" % k
    cur.execute(
        "INSERT INTO users (id, tenant_id, email, password_hash, first_name, last_name, disabled, "
        "roles, created_at, updated_at, version) SELECT " + _id("u") + ", %(tenant)s, "
        "CONCAT('u', %(salt)s, '-', seq, '@', %(domain)s), %(hash)s, 'Grace', "
        "CONCAT('Hopper ', seq), 0, 'sales_agent', " + AT + ", " + AT + ", 1 FROM " + seq, p)
    cur.execute(
        "INSERT INTO audit_events (id, tenant_id, actor_type, actor_id, action, target_type, "
        "target_id, request_id, client_addr, created_at) SELECT " + _id("a") + ", %(tenant)s, "
        "'user', %(admin)s, 'user.create', 'user', " + _id("u") + ", " + _rid("q") + ", "
        "'127.0.0.1', " + AT + " FROM " + seq, p)
    return {"users": k, "audit_events": k}


def fill_customers(cur, w, k, start):
    """k customers of the reseller and the provider, each signed up, invited
    by the reseller through the relationship, and accepted."""
    p = _fill_params(start, {"reseller": w["reseller"], "provider": w["provider"], "rel": w["rel"],
                      "reseller_admin": w["reseller_admin"], "hash": w["hash"],
                      "country": w["customer_country"]})
    seq = "seq_1_to_%d" % k
    dom = _domain("c")
    out = _tenant_admin(cur, k, p, dom, "Fabrikam SARL", None, "", 1)
    cur.execute(
        "INSERT INTO customer_invitations (id, relationship_id, reseller_tenant_id, "
        "provider_tenant_id, customer_email, customer_domain, company_name, country, language, "
        "token_hash, state, expires_at, created_by, created_at, changed_at, customer_tenant_id) "
        "SELECT " + _id("i") + ", %(rel)s, %(reseller)s, %(provider)s, CONCAT('admin@', " + dom
        + "), " + dom + ", 'Fabrikam SARL', %(country)s, 'en', " + _hash("k") + ", 'accepted', "
        "TIMESTAMPADD(DAY, 14, " + AT + "), %(reseller_admin)s, " + AT + ", " + AT + ", "
        + _id("t") + " FROM " + seq, p)
    for letter, partner, ptype in (("r", "%(reseller)s", "indirect_reseller"),
                                   ("p", "%(provider)s", "indirect_provider")):
        cur.execute(
            "INSERT INTO customer_relationships (id, customer_tenant_id, partner_tenant_id, "
            "partner_type, company_name, country, invitation_id, state, active, created_by, "
            "created_at, version) SELECT " + _id(letter) + ", " + _id("t") + ", " + partner
            + ", %(ptype)s, 'Fabrikam SARL', %(country)s, " + _id("i") + ", 'active', 1, "
            + _id("v") + ", " + AT + ", 1 FROM " + seq, dict(p, ptype=ptype))
    out.update(customer_invitations=k, customer_relationships=2 * k)
    return out


def fill_subscriptions(cur, w, k, start):
    """k subscriptions of the customer (the five offers in turn, the price
    of the customer's region and currency), each with its order, as the
    provider's billing system orders them."""
    p = _fill_params(start, {"customer": w["customer"], "provider": w["provider"],
                      "reseller": w["reseller"], "rel": w["rel"], "token": w["token"],
                      "region": w["customer_region"], "currency": w["customer_currency"]})
    src = ("FROM seq_1_to_%d JOIN offer_prices op ON op.offer_id = "
           "CONCAT('0193a000-0000-7000-8000-00000000000', 1 + seq MOD 5) "
           "AND op.region_code = %%(region)s AND op.currency = %%(currency)s" % k)
    cur.execute(
        "INSERT INTO subscriptions (id, customer_tenant_id, provider_tenant_id, "
        "reseller_tenant_id, offer_id, quantity, status, currency, unit_price, created_by, "
        "created_at, changed_at, version) SELECT " + _id("s") + ", %(customer)s, %(provider)s, "
        "%(reseller)s, op.offer_id, 5 + seq MOD 100, 'active', op.currency, op.unit_price, "
        "%(token)s, " + AT + ", " + AT + ", 1 " + src, p)
    cur.execute(
        "INSERT INTO orders (id, customer_tenant_id, provider_tenant_id, reseller_tenant_id, "
        "relationship_id, subscription_id, offer_id, kind, quantity, previous_quantity, "
        "currency, unit_price, created_by, created_at) SELECT " + _id("o") + ", %(customer)s, "
        "%(provider)s, %(reseller)s, %(rel)s, " + _id("s") + ", op.offer_id, 'new', "
        "5 + seq MOD 100, NULL, op.currency, op.unit_price, %(token)s, " + AT + " " + src, p)
    return {"subscriptions": k, "orders": k}


def fill_resellers(cur, w, k, start):
    """k approved resellers of the provider: enrolled, verified, approved by
    the operator, invited by the provider's admin, and consenting."""
    p = _fill_params(start, {"provider": w["provider"], "provider_admin": w["provider_admin"],
                      "operator": w["operator"], "hash": w["hash"]})
    seq = "seq_1_to_%d" % k
    dom = _domain("r")
    out = _tenant_admin(cur, k, p, dom, "Contoso Ltd", "DE", "indirect_reseller", 2)
    out.update(_enrolled(cur, k, p, "approved", dom))
    cur.execute(
        "INSERT INTO relationship_invitations (id, provider_tenant_id, reseller_email, "
        "reseller_domain, message, access_roles, access_ends_at, token_hash, state, expires_at, "
        "created_by, created_at, changed_at, relationship_id) SELECT " + _id("i") + ", "
        "%(provider)s, CONCAT('admin@', " + dom + "), " + dom + ", NULL, 'admin_agent', "
        "TIMESTAMPADD(DAY, 730, " + AT + "), " + _hash("k") + ", 'accepted', "
        "TIMESTAMPADD(DAY, 14, " + AT + "), %(provider_admin)s, " + AT + ", " + AT + ", "
        + _id("l") + " FROM " + seq, p)
    cur.execute(
        "INSERT INTO relationships (id, provider_tenant_id, reseller_tenant_id, state, "
        "admin_access, access_roles, access_ends_at, invitation_id, created_by, created_at, "
        "access_changed_at, access_changed_by, version, active) SELECT " + _id("l") + ", "
        "%(provider)s, " + _id("t") + ", 'active', 'granted', 'admin_agent', "
        "TIMESTAMPADD(DAY, 730, " + AT + "), " + _id("i") + ", " + _id("v") + ", " + AT + ", "
        + AT + ", " + _id("v") + ", 1, 1 FROM " + seq, p)
    out.update(relationship_invitations=k, relationships=k)
    return out


def fill_enrollments(cur, w, k, start):
    """k verified enrolments in the world's status (in_review: waiting for
    the operator; more_info_requested: the operator asked for more)."""
    p = _fill_params(start, {"operator": w["operator"], "hash": w["hash"]})
    dom = _domain("e")
    out = _tenant_admin(cur, k, p, dom, "Contoso Ltd", "DE", "", 2)
    out.update(_enrolled(cur, k, p, w["enrol_status"], dom))
    return out


# What each list counts (its SQL, its keys from the world), in the order
# the service pages it; and the fill that makes its rows.
KINDS = [
    ("users", fill_users,
     "SELECT COUNT(*) FROM users WHERE tenant_id = %s", ("reseller",)),
    ("audit-events", None,
     "SELECT COUNT(*) FROM audit_events WHERE tenant_id = %s", ("reseller",)),
    ("customers", fill_customers,
     "SELECT COUNT(*) FROM customer_relationships WHERE partner_tenant_id = %s AND active = 1",
     ("reseller",)),
    ("subscriptions", fill_subscriptions,
     "SELECT COUNT(*) FROM subscriptions WHERE customer_tenant_id = %s", ("customer",)),
    ("relationships", fill_resellers,
     "SELECT COUNT(*) FROM relationships WHERE provider_tenant_id = %s", ("provider",)),
    ("enrollments", fill_enrollments,
     "SELECT COUNT(*) FROM enrollments WHERE status = %s", ("enrol_status",)),
]


# ------------------------------------------------------------ the worlds

def _fill_conn():
    conn = harness.connect("root", timeout=900)
    with conn.cursor() as cur:
        cur.execute("SET SESSION time_zone = '+00:00'")
    return conn


def make_world(name):
    """A world through the API: a provider, an approved reseller that signed
    the agreement, their relationship, a shared customer, the provider's
    billing token, and an enrolment (verified; in the small world the
    operator asked for more information)."""
    provider, reseller, rel, customer = world.shared_customer()
    token = harness.new_api_token(provider, ["orders:read", "orders:write"])
    enrolled = world.verified_tenant()
    status = "in_review"
    if name == "small":
        r = world.decide(enrolled.enrollment_id, "request_info", reason=REASON)
        assert r.status == 201, r
        status = "more_info_requested"
    country = harness.sql_value(
        "SELECT country FROM customer_relationships WHERE customer_tenant_id = %s "
        "AND partner_tenant_id = %s", (customer.id, reseller.id))
    region, currency = harness.sql(
        "SELECT region_code, currency FROM countries WHERE code = %s", (country,))[0]
    operator = harness.sql_value(
        "SELECT id FROM users WHERE FIND_IN_SET('operator', roles) ORDER BY id LIMIT 1")
    return {
        "name": name, "provider": provider.id, "provider_admin": provider.admin_id,
        "provider_email": provider.email, "reseller": reseller.id,
        "reseller_admin": reseller.admin_id, "reseller_email": reseller.email,
        "reseller_domain": reseller.domain, "rel": rel, "customer": customer.id,
        "customer_country": country, "customer_region": region,
        "customer_currency": currency, "token": token["id"], "operator": operator,
        "enrol_status": status, "provider_password": provider.password,
        "reseller_password": reseller.password,
        "hash": harness.sql_value("SELECT password_hash FROM users WHERE id = %s",
                                  (reseller.admin_id,)),
    }


def counts(w):
    out = {}
    for kind, _, query, keys in KINDS:
        out[kind] = int(harness.sql_value(query, tuple(w[k] for k in keys)))
    out["orders"] = int(harness.sql_value(
        "SELECT COUNT(*) FROM orders WHERE customer_tenant_id = %s", (w["customer"],)))
    return out


def fill(w, rows):
    """Brings every list of world w to ROWS rows (fewer if the world's own
    rows are more); returns [(kind, {table: rows}, seconds)]."""
    done = []
    start = int(time.time() * 1e6)
    conn = _fill_conn()
    try:
        for kind, filler, query, keys in KINDS:
            if filler is None:
                continue
            have = int(harness.sql_value(query, tuple(w[k] for k in keys)))
            k = rows - have
            if k <= 0:
                done.append((kind, {}, 0.0))
                continue
            t0 = time.monotonic()
            conn.begin()
            try:
                with conn.cursor() as cur:
                    tables = filler(cur, w, k, start)
                conn.commit()
            except Exception:
                conn.rollback()
                raise
            done.append((kind, tables, time.monotonic() - t0))
            print("  %-5s %-13s %7.1f s  %s" % (w["name"], kind, done[-1][2], ", ".join(
                "%s %d" % (t, n) for t, n in tables.items())), flush=True)
    finally:
        conn.close()
    return done


def _marker_rows():
    if not harness.root_sql("SELECT 1 FROM information_schema.tables WHERE table_schema = %s "
                            "AND table_name = 'fills'", (SCHEMA,)):
        return {}
    return {r[0]: r for r in harness.root_sql(
        "SELECT world, rows_each, data, filled_at, seconds FROM %s.fills WHERE version = %%s"
        % SCHEMA, (MARKER_VERSION,))}


def worlds():
    """The two worlds, filled: found through the marker, or made now.
    Returns ({name: world}, a line saying which and how long the fill
    took, the fill's details)."""
    found = _marker_rows()
    if set(found) == {"small", "big"} and all(int(r[1]) == ROWS for r in found.values()):
        ws = {name: json.loads(r[2]) for name, r in found.items()}
        ok = all(int(harness.sql_value(
            "SELECT COUNT(*) FROM tenants WHERE id IN (%s, %s, %s)",
            (w["provider"], w["reseller"], w["customer"]))) == 3 for w in ws.values())
        if ok:
            c = counts(ws["big"])
            ok = all(c[kind] >= ROWS for kind, filler, _, _ in KINDS if filler)
        if ok:
            secs = sum(float(r[4]) for r in found.values())
            return ws, ("fill reused: made %s UTC, it took %.0f s" % (
                found["big"][3][:19], secs)), [(n, json.loads(found[n][2])["fill"])
                                                for n in ("small", "big")]
        print("scale: the marker's worlds are gone or short; filling again", flush=True)
    t0 = time.monotonic()
    ws = {name: make_world(name) for name in ("small", "big")}
    api_secs = time.monotonic() - t0
    print("  the two worlds through the API: %.1f s" % api_secs, flush=True)
    details = []
    for name, rows in (("small", SMALL), ("big", ROWS)):
        t1 = time.monotonic()
        ws[name]["fill"] = [[k, t, round(s, 1)] for k, t, s in fill(ws[name], rows)]
        ws[name]["fill_seconds"] = time.monotonic() - t1
        details.append((name, ws[name]["fill"]))
    harness.root_sql("CREATE DATABASE IF NOT EXISTS %s" % SCHEMA)
    harness.root_sql(
        "CREATE TABLE IF NOT EXISTS %s.fills (world VARCHAR(16) NOT NULL, version INT NOT NULL, "
        "rows_each INT NOT NULL, data MEDIUMTEXT NOT NULL, filled_at DATETIME(6) NOT NULL, "
        "seconds DOUBLE NOT NULL, PRIMARY KEY (world)) ENGINE=InnoDB" % SCHEMA)
    for name, rows in (("small", SMALL), ("big", ROWS)):
        harness.root_sql(
            "REPLACE INTO %s.fills (world, version, rows_each, data, filled_at, seconds) "
            "VALUES (%%s, %%s, %%s, %%s, UTC_TIMESTAMP(6), %%s)" % SCHEMA,
            (name, MARKER_VERSION, ROWS, json.dumps(ws[name]),
             ws[name]["fill_seconds"] + (api_secs if name == "big" else 0)))
    secs = sum(w["fill_seconds"] for w in ws.values())
    return ws, ("fill made now: %.0f s of SQL (%.0f s for the two worlds through the API "
                "before it)" % (secs, api_secs)), details


# ------------------------------------------------------------ the lists

def b64u(text):
    return base64.urlsafe_b64encode(text.encode("ascii")).rstrip(b"=").decode("ascii")


# name, path (the world's values in {}), who reads it, the ids in the
# list's order (its keys, then "DESC" or "")
LISTS = [
    ("users", "/v1/users", "reseller",
     "SELECT id FROM users WHERE tenant_id = %s ORDER BY id", ("reseller",)),
    ("audit-events", "/v1/audit-events", "reseller",
     "SELECT id FROM audit_events WHERE tenant_id = %s ORDER BY id DESC", ("reseller",)),
    ("customers", "/v1/customers", "reseller",
     "SELECT customer_tenant_id FROM customer_relationships WHERE partner_tenant_id = %s "
     "AND active = 1 ORDER BY customer_tenant_id", ("reseller",)),
    ("subscriptions", "/v1/customers/{customer}/subscriptions", "provider",
     "SELECT id FROM subscriptions WHERE customer_tenant_id = %s ORDER BY id", ("customer",)),
    ("orders", "/v1/customers/{customer}/orders", "provider",
     "SELECT id FROM orders WHERE customer_tenant_id = %s ORDER BY id", ("customer",)),
    ("relationships", "/v1/relationships?type=indirectResellers", "provider",
     "SELECT id FROM relationships WHERE provider_tenant_id = %s ORDER BY id", ("provider",)),
    ("enrollments", "/v1/operator/enrollments?status={enrol_status}", "operator",
     "SELECT id FROM enrollments WHERE status = %s ORDER BY id", ("enrol_status",)),
]


def _url(path, **query):
    return path + ("&" if "?" in path else "?") + "&".join("%s=%s" % kv for kv in query.items())


class Auth:
    """Bearer headers of the worlds' admins and the operator, signed in
    again when they are older than five minutes (jwt_ttl is 15)."""

    def __init__(self, ws):
        self.ws = ws
        self.at = 0
        self.h = {}

    def header(self, name, who):
        if time.monotonic() - self.at > 300:
            self.h = {"operator": harness.access_token(harness.env("TWOTIER_OPERATOR_EMAIL"),
                                                       harness.env("TWOTIER_OPERATOR_PASSWORD"))}
            for n, w in self.ws.items():
                for role in ("provider", "reseller"):
                    self.h[(n, role)] = harness.access_token(w[role + "_email"],
                                                             w[role + "_password"])
            self.at = time.monotonic()
        return "Bearer " + self.h["operator" if who == "operator" else (name, who)]


def pages(ws, auth):
    """{(list, page, world): (path, totalCount, totalCountCapped, items)}:
    the first page and the deep page of every list in each world, each
    fetched once and checked."""
    out = {}
    for lname, path, who, order_sql, keys in LISTS:
        for wname, w in ws.items():
            p = path.format(**w)
            h = {"Authorization": auth.header(wname, who)}
            first = _url(p, limit=LIMIT)
            r = harness.api("GET", first, headers=h)
            if r.status != 200:
                raise AssertionError("GET %s answered %r" % (first, r))
            out[(lname, "first", wname)] = (first, r.body.get("totalCount"),
                                            r.body.get("totalCountCapped", "absent"),
                                            len(r.body["items"]))
            ids = [row[0] for row in harness.sql(order_sql, tuple(w[k] for k in keys))]
            anchor = max(0, len(ids) - 3 * LIMIT)
            deep = _url(p, limit=LIMIT, cursor=b64u(ids[anchor]))
            r = harness.api("GET", deep, headers=h)
            if r.status != 200:
                raise AssertionError("GET %s answered %r" % (deep, r))
            got = [i["id"] for i in r.body["items"]]
            if got != ids[anchor + 1:anchor + 1 + LIMIT]:
                raise AssertionError("%s: the page after %s is not the list's next rows"
                                     % (lname, ids[anchor]))
            if r.body["links"]["next"]:
                deep = r.body["links"]["next"]
                r = harness.api("GET", deep, headers=h)
                want = ids[anchor + 1 + LIMIT:anchor + 1 + 2 * LIMIT]
                if r.status != 200 or [i["id"] for i in r.body["items"]] != want:
                    raise AssertionError("%s: links.next %s is not the list's next page: %r"
                                         % (lname, deep, r))
            out[(lname, "deep", wname)] = (deep, r.body.get("totalCount"),
                                           r.body.get("totalCountCapped", "absent"),
                                           len(r.body["items"]))
    return out


def served(base):
    """The service's count of the requests it answered, but /metrics
    (twotier_http_requests_total), or None when it has none."""
    try:
        with harness.session() as s:
            text = s.get(base + "/metrics", timeout=5).text
    except OSError:
        return None
    total = None
    for line in text.splitlines():
        if line.startswith("twotier_http_requests_total{") and "GET /metrics" not in line:
            total = (total or 0) + float(line.rsplit(" ", 1)[1])
    return total


def settle(base, timeout=120.0):
    """Waits until the service has answered what a run left queued: wrk
    stops, but the requests nginx has passed on are still answered, a slow
    list's for tens of seconds, and would land in the next run. Settled:
    three times in a row, GET /healthz answers within 50 ms and the service
    answered nothing else since the last look (its /metrics count)."""
    deadline = time.monotonic() + timeout
    calm, last = 0, served(base)
    with harness.session() as s:
        while time.monotonic() < deadline:
            t0 = time.monotonic()
            try:
                quick = s.get(base + "/healthz", timeout=5).status_code == 200 and \
                    time.monotonic() - t0 < 0.05
            except OSError:
                quick = False
            now = served(base)
            idle = now is None or (last is not None and now - last <= 1)  # 1: the /healthz
            calm = calm + 1 if quick and idle else 0
            if calm >= 3:
                return
            last = now
            time.sleep(0.2)
    print("  (the service was still busy %.0f s after the run)" % timeout, flush=True)


def run(base, wrk, duration, rounds, connections):
    """The scale run against the stack at BASE (harness.use_stack done);
    wrk(url, headers=[...]) is the bench's bounded run."""
    print()
    print("scale: %d rows of each list in the big world, %d in the small one" % (ROWS, SMALL),
          flush=True)
    ws, how, details = worlds()
    print("scale: " + how)
    print()
    print("| world | kind | rows written | seconds |")
    print("|---|---|---|---|")
    for name, fills in details:
        for kind, tables, secs in fills:
            print("| %s | %s | %s | %.1f |" % (name, kind, ", ".join(
                "%s %d" % kv for kv in tables.items()) or "none (already there)", secs))
    n = {name: counts(w) for name, w in ws.items()}
    auth = Auth(ws)
    pg = pages(ws, auth)
    print()
    print("wrk -t1, %d connections, %d s a run, %d rounds, ?limit=%d; small and big one after "
          "the other, the lists interleaved" % (connections, duration, rounds, LIMIT), flush=True)
    results = {key: [] for key in pg}
    settle(base)
    for rnd in range(rounds):
        for lname, _, who, _, _ in LISTS:
            for page in ("first", "deep"):
                for wname in ("small", "big"):
                    key = (lname, page, wname)
                    r = wrk(base + pg[key][0],
                            headers=["Authorization: " + auth.header(wname, who)])
                    results[key].append(r)
                    settle(base)
                    print("  round %d %-13s %-5s %-5s %8.0f req/s  p99 %8.2f ms  %s" % (
                        rnd + 1, lname, page, wname, r["rps"], r["p99"],
                        "%d non-2xx/errors" % r["bad"] if r["bad"] else ""), flush=True)
    med = {key: {"rps": statistics.median(x["rps"] for x in rs),
                 "p99": statistics.median(x["p99"] for x in rs),
                 "bad": sum(x["bad"] for x in rs)} for key, rs in results.items()}
    print()
    print("| list | page | rows small / big | small req/s | big req/s | slowdown big/small | "
          "small p99 ms | big p99 ms | within %.1f× | big totalCount / capped |" % TARGET)
    print("|---|---|---|---|---|---|---|---|---|---|")
    misses = 0
    for lname, _, _, _, _ in LISTS:
        for page in ("first", "deep"):
            s, b = med[(lname, page, "small")], med[(lname, page, "big")]
            answered = s["rps"] > 0 and b["rps"] > 0
            slow = s["rps"] / b["rps"] if answered else float("nan")
            ok = answered and slow <= TARGET and not s["bad"] and not b["bad"]
            misses += not ok
            verdict = "yes" if ok else "NO" if answered else "NO (no answers)"
            if s["bad"] + b["bad"]:
                verdict += " (%d non-2xx/errors)" % (s["bad"] + b["bad"])
            _, total, capped, _ = pg[(lname, "first", "big")]
            print("| %s | %s | %d / %d | %.0f | %.0f | %s | %.2f | %.2f | %s | %s |" % (
                lname, page, n["small"][lname], n["big"][lname], s["rps"], b["rps"],
                "%.2f×" % slow if answered else "-", s["p99"], b["p99"], verdict,
                "%s / %s" % (total, str(capped).lower()) if page == "first" else ""))
    print()
    print("scale: %d of %d pages within %.1f× (?limit=%d: the small world's pages hold up to %d "
          "items, the big world's %d)" % (2 * len(LISTS) - misses, 2 * len(LISTS), TARGET, LIMIT,
                                         min(LIMIT, SMALL), LIMIT))
