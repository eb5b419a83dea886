#!/usr/bin/python3
"""The fault test of scripts/cluster (three Galera nodes, two twotier-fcgi
hosts, nginx in front): a write load through nginx, each write with its own
Idempotency-Key and sent again with it until it is answered, while the
writer node is killed (kill -9), then an application host, then both come
back.  Afterwards every acknowledged write is on all three nodes exactly
once, nothing is half made, the nodes' tables are identical, every queued
mail was delivered exactly once to the SMTP server (postfix's smtp-sink) by
the two hosts' senders together (but a mail the killed host handed to the
SMTP server and had not marked sent: sent again with the same Message-ID),
and no request failed outside the windows that follow each fault, whose
lengths are reported.

    tests/cluster/fault.py [--seconds N] [--rounds R] [--keep]

Starts the cluster itself (scripts/cluster up, with the smtp transport) and
stops it at the end unless --keep.  Exits non-zero on any failure."""

import argparse
import calendar
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

CLUSTER = os.path.join(REPO, "scripts", "cluster")
NODES = (1, 2, 3)
SINK_PORT = int(os.environ.get("TWOTIER_CLUSTER_SINK_PORT", "18199"))
# a failure later than this after the last fault is outside every window
WINDOW_LIMIT = 30.0


def cluster(*args, env=None):
    subprocess.run([CLUSTER] + list(args), check=True, env=env, stdout=sys.stderr)


def cluster_env():
    out = subprocess.run([CLUSTER, "env"], check=True, stdout=subprocess.PIPE,
                         universal_newlines=True).stdout
    for line in out.splitlines():
        name, _, value = line[len("export "):].partition("=")
        os.environ[name] = subprocess.run(["bash", "-c", "printf %s " + value],
                                          stdout=subprocess.PIPE,
                                          universal_newlines=True).stdout
    os.environ["TWOTIER_TEST_DIR"] = os.environ["TWOTIER_CLUSTER_DIR"]
    os.environ["TWOTIER_TEST_PORT"] = os.environ["TWOTIER_PORT"]


# ---------------------------------------------------------------- mail

class Sink:
    """smtp-sink on 127.0.0.1:SINK_PORT, one file a delivery."""

    def __init__(self, folder):
        self.dir = folder
        os.makedirs(folder, exist_ok=True)
        os.chmod(folder, 0o777)  # smtp-sink drops to nobody
        cmd = ["smtp-sink"] + (["-u", "nobody"] if os.geteuid() == 0 else [])
        cmd += ["-d", folder + "/%Y%m%d%H%M%S.", "127.0.0.1:%d" % SINK_PORT, "64"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", SINK_PORT), 0.5).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("smtp-sink did not start: %s" % self.proc.stderr.read())
                time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)

    def deliveries(self):
        """[harness.Mail] of every delivery so far."""
        import harness
        out = []
        for name in sorted(os.listdir(self.dir)):
            path = os.path.join(self.dir, name)
            m = harness._mails.get(path)
            if m is None:
                # smtp-sink writes a mail as it comes: one still being
                # written is read again next time
                settled = time.time() - os.path.getmtime(path) > 1
                try:
                    m = harness.read_mail(path)
                except Exception:  # noqa: BLE001 - a part of one
                    continue
                if settled:
                    harness._mails[path] = m
            out.append(m)
        return out


def use_sink_for_links(sink):
    """The builders of world.py find their links in what smtp-sink got."""
    import harness
    import world

    def mails_to(address):
        return [m for m in sink.deliveries() if m.message.get("To") == address]
    harness.mails_to = world.mails_to = mails_to


# ---------------------------------------------------------------- load

class Writes:
    """Every write sent, each until answered: (kind, key, path, body, auth),
    its final status and body; every failed attempt's time."""

    def __init__(self, base):
        import requests
        self.base = base
        self.lock = threading.Lock()
        self.done = []        # (kind, key, body sent, status, response body)
        self.failures = []    # (monotonic time, kind, what)
        self.busy = 0         # 503s of a full password pool: back-pressure, sent again
        self.broken = []      # journeys that could not go on
        self.local = threading.local()
        self.requests = requests

    def session(self):
        if not hasattr(self.local, "s"):
            self.local.s = self.requests.Session()
        return self.local.s

    def send(self, kind, path, body, auth):
        """POSTs until answered below 500 (a 503 of the password pool is
        sent again at once); returns (status, answer)."""
        key = "fault-" + secrets.token_hex(12)
        headers = dict(auth, **{"Idempotency-Key": key})
        deadline = time.monotonic() + 120
        tries = 0
        while True:
            tries += 1
            what = None
            try:
                r = self.session().post(self.base + path, json=body, headers=headers, timeout=30)
                status = r.status_code
                answer = r.json() if r.content else None
                if status == 503 and isinstance(answer, dict) and \
                        "password" in (answer.get("detail") or ""):
                    with self.lock:
                        self.busy += 1
                    time.sleep(0.2)
                    continue
                if status < 500:
                    with self.lock:
                        self.done.append((kind, key, body, status, answer, tries))
                    return status, answer
                what = "%d %s" % (status, (answer or {}).get("detail") if isinstance(answer, dict) else "")
            except (self.requests.RequestException, ValueError) as e:
                what = type(e).__name__
                self.local.s = self.requests.Session()
            with self.lock:
                self.failures.append((time.monotonic(), kind, what))
            if time.monotonic() > deadline:
                with self.lock:
                    self.done.append((kind, key, body, None, what, tries))
                return None, what
            time.sleep(0.25)


def prepare():
    """What the load writes into: a tenant whose admin adds users, and a
    provider and a reseller sharing two customers that orders are placed
    for."""
    from harness import new_tenant
    from world import accept_invitation, invited, partners
    admin = new_tenant()
    provider, reseller, rel = partners()
    customers = []
    for _ in range(2):
        customer, inv, token = invited(provider, reseller, rel)[3:]
        r = accept_invitation(customer, inv, token)
        assert r.status == 201, r
        customers.append(customer)
    return admin, provider, reseller, rel, customers


def link(sink, address, path, timeout=90):
    """The token (and the invitation id, if any) of the newest link to PATH
    mailed to ADDRESS."""
    import harness
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        mails = [m for m in sink.deliveries()
                 if m.message.get("To") == address and path in m.body]
        if mails:
            body = mails[-1].body
            inv = body.split("invitation=")[1].split("&")[0] if "invitation=" in body else None
            return harness.link_token(mails[-1], path), inv
        time.sleep(0.2)
    raise AssertionError("no %s link mailed to %s" % (path, address))


# A single-use link followed again after a lost answer finds it used: the
# first attempt did the work (checked afterwards by what it made).
USED = (404, 409, 410)


def step(writes, kind, path, body, auth, ok):
    status, answer = writes.send(kind, path, body, auth)
    if status not in ok and not (writes.done[-1][5] > 1 and status in USED):
        raise AssertionError("%s: %s %r" % (kind, status, answer))
    return answer if status in ok else None


def journey(writes, world_, sink, stop_at, n):
    """A partner's way through the guide, each step with its own key, in
    turn: a reseller (sign-up, its link, enrolment, the contact's link, the
    operator's approval, the provider's invitation and the consent), then a
    customer (sign-up, its link, the reseller's invitation, the
    acceptance)."""
    import world
    _, provider, reseller, rel, _ = world_
    operator = world.operator_auth()
    i = 0
    while time.monotonic() < stop_at:
        i += 1
        dom = "j%d-%d-%s.example" % (n, i, secrets.token_hex(3))
        email = "admin@" + dom
        password = "correct horse battery staple"
        step(writes, "signup", "/v1/tenants", {
            "domain": dom, "displayName": "Journey " + dom,
            "admin": {"email": email, "password": password, "firstName": "Jo", "lastName": "Urney"}},
            {}, (202,))
        token, _ = link(sink, email, "/verify-signup")
        step(writes, "signup_verification", "/v1/signup-verifications", {"token": token}, {},
             (201,))
        answer = step(writes, "signin", "/v1/auth/token",
                      {"username": email, "password": password}, {}, (200,))
        auth = {"Authorization": "Bearer " + answer["accessToken"]}
        if i % 2:
            body = world.enrollment_body(dom)
            enrollment = step(writes, "enrollment", "/v1/enrollments", body, auth, (201,))
            token, _ = link(sink, body["primaryContact"]["email"], "/verify-email")
            step(writes, "email_verification", "/v1/email-verifications", {"token": token}, {},
                 (200,))
            step(writes, "decision", "/v1/operator/enrollments/%s/decisions" % enrollment["id"],
                 {"decision": "approve"}, operator, (201,))
            step(writes, "relationship_invitation", "/v1/relationship-invitations",
                 {"resellerEmail": email}, provider.auth, (201,))
            token, inv = link(sink, email, "/authorize-provider")
            step(writes, "consent", "/v1/relationship-invitations/%s/authorization" % inv,
                 {"token": token, "consent": True}, auth, (201,))
        else:
            step(writes, "invitation", "/v1/relationships/%s/customer-invitations" % rel,
                 {"customerEmail": email, "companyName": "Journey " + dom, "country": "FR"},
                 reseller.auth, (201,))
            token, inv = link(sink, email, "/accept-customer-invitation")
            step(writes, "acceptance", "/v1/customer-invitations/%s/acceptance" % inv,
                 {"token": token}, auth, (201,))


def load(writes, world_, stop_at, n):
    admin, provider, reseller, rel, customers = world_
    i = 0
    while time.monotonic() < stop_at:
        i += 1
        tag = "%d-%d-%s" % (n, i, secrets.token_hex(3))
        kind = ("signup", "user", "order", "invitation")[i % 4]
        if kind == "signup":
            dom = "f%s.example" % tag
            writes.send(kind, "/v1/tenants", {
                "domain": dom, "displayName": "Fault " + tag,
                "admin": {"email": "admin@" + dom, "password": "correct horse battery staple",
                          "firstName": "Fa", "lastName": "Ult"}}, {})
        elif kind == "user":
            writes.send(kind, "/v1/users", {
                "email": "u%s@%s" % (tag, admin.domain), "firstName": "U", "lastName": tag,
                "roles": ["sales_agent"], "password": "correct horse battery staple"}, admin.auth)
        elif kind == "order":
            c = customers[i % len(customers)]
            writes.send(kind, "/v1/customers/%s/orders" % c.id, {
                "resellerTenantId": reseller.id,
                "offerId": "0193a000-0000-7000-8000-000000000001", "quantity": 1 + i % 7},
                provider.auth)
        else:
            writes.send(kind, "/v1/relationships/%s/customer-invitations" % rel, {
                "customerEmail": "c%s@fault-customer.example" % tag,
                "companyName": "Customer " + tag, "country": "FR"}, reseller.auth)


# ---------------------------------------------------------------- checks

def node_sql(n, query, params=None):
    import pymysql
    c = pymysql.connect(unix_socket="%s/db%d/run/mysqld.sock" % (os.environ["TWOTIER_CLUSTER_DIR"], n),
                        user="root", database="twotier", autocommit=True)
    try:
        with c.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall()
    finally:
        c.close()


def wait_synced(timeout=180):
    deadline = time.monotonic() + timeout
    for n in NODES:
        while True:
            try:
                if node_sql(n, "SHOW GLOBAL STATUS LIKE 'wsrep_local_state'")[0][1] == "4":
                    break
            except Exception:  # noqa: BLE001 - not answering yet
                pass
            if time.monotonic() > deadline:
                raise AssertionError("db%d is not synced" % n)
            time.sleep(0.5)


def made_by(kind, body, answer):
    """The table, column and value of the row an acknowledged write made (a
    sign-up answers no id: its address)."""
    if kind == "signup":
        return "pending_signups", "email", body["admin"]["email"]
    table = {"user": "users", "order": "orders", "invitation": "customer_invitations",
             "signup_verification": "tenants", "enrollment": "enrollments",
             "relationship_invitation": "relationship_invitations"}.get(kind)
    return (table, "id", answer["id"]) if table else None
# a made thing and what is made with it in the same transaction
WHOLE = [
    ("orders without their subscription",
     "SELECT COUNT(*) FROM orders o LEFT JOIN subscriptions s ON s.id = o.subscription_id "
     "WHERE s.id IS NULL"),
    ("sign-ups without their mail",
     "SELECT COUNT(*) FROM pending_signups p WHERE NOT EXISTS (SELECT 1 FROM mail_outbox m "
     "WHERE m.recipient = p.email)"),
    ("invitations without their mail",
     "SELECT COUNT(*) FROM customer_invitations i WHERE NOT EXISTS (SELECT 1 FROM mail_outbox m "
     "WHERE m.recipient = i.customer_email)"),
    ("enrolments without their legal profile",
     "SELECT COUNT(*) FROM enrollments e LEFT JOIN legal_profiles l ON l.tenant_id = e.tenant_id "
     "WHERE l.tenant_id IS NULL"),
    ("enrolments without a transition to their status",
     "SELECT COUNT(*) FROM enrollments e WHERE NOT EXISTS (SELECT 1 FROM enrollment_transitions "
     "t WHERE t.enrollment_id = e.id)"),
    ("approved enrolments of journeys whose contact was not verified",
     "SELECT COUNT(*) FROM enrollments WHERE status = 'approved' AND email_verified_at IS NULL"),
    ("consents that made no relationship",
     "SELECT COUNT(*) FROM relationship_invitations i WHERE i.state = 'accepted' AND NOT EXISTS "
     "(SELECT 1 FROM relationships r WHERE r.invitation_id = i.id)"),
    ("acceptances without both customer relationships",
     "SELECT COUNT(*) FROM customer_invitations i WHERE i.state = 'accepted' AND (SELECT COUNT(*) "
     "FROM customer_relationships c WHERE c.invitation_id = i.id) <> 2"),
]


def check(writes, sink, started, killed_hosts, report):
    problems = []
    acknowledged = [w for w in writes.done if w[3] is not None and 200 <= w[3] < 300]
    unanswered = [w for w in writes.done if w[3] is None]
    refused = [w for w in writes.done if w[3] is not None and w[3] >= 300]
    report["writes"] = len(writes.done)
    report["acknowledged"] = len(acknowledged)
    # a single-use link followed again after a lost answer: used (by the first)
    refused = [w for w in refused if not (w[5] > 1 and w[3] in USED)]
    if unanswered or refused:
        problems.append("%d unanswered, %d refused: %r" % (
            len(unanswered), len(refused), (unanswered + refused)[:3]))
    problems += writes.broken
    for kind in sorted({w[0] for w in acknowledged}):
        report["acknowledged %s" % kind] = sum(1 for w in acknowledged if w[0] == kind)
    made = {}
    for kind, _, body, _, answer, _ in acknowledged:
        row = made_by(kind, body, answer)
        if row is not None:
            made.setdefault(row[:2], []).append(row[2])
    counted = sum(len(v) for v in made.values())
    report["acknowledged writes with a row of their own"] = counted
    for n in NODES:
        found = doubled = 0
        for (table, column), values in made.items():
            for i in range(0, len(values), 500):
                chunk = values[i:i + 500]
                rows = node_sql(n, "SELECT %s, COUNT(*) FROM %s WHERE %s IN (%s) GROUP BY %s"
                                % (column, table, column, ",".join(["%s"] * len(chunk)), column),
                                chunk)
                found += len(rows)
                doubled += sum(1 for r in rows if r[1] != 1)
        report["found on db%d" % n] = found
        if found != counted or doubled:
            problems.append("db%d has %d of %d acknowledged writes (%d doubled)"
                            % (n, found, counted, doubled))
    # each write ran once: the sign-ups and users by the address they name
    twice = node_sql(1, "SELECT COUNT(*) FROM (SELECT email FROM users GROUP BY email "
                        "HAVING COUNT(*) > 1) d")[0][0]
    report["doubled"] = twice
    if twice:
        problems.append("%d addresses have two users" % twice)
    for what, query in WHOLE:
        n = node_sql(1, query)[0][0]
        if n:
            problems.append("%d %s" % (n, what))
    tables = [r[0] for r in node_sql(1, "SHOW TABLES")]
    sums = {n: node_sql(n, "CHECKSUM TABLE " + ", ".join(tables)) for n in NODES}
    if not (sums[1] == sums[2] == sums[3]):
        problems.append("the nodes' tables differ: %r" % [
            (a[0], a[1], b[1], c[1]) for a, b, c in zip(sums[1], sums[2], sums[3]) if not a[1] == b[1] == c[1]])
    # mail: every queued mail sent, each delivered once
    deadline = time.monotonic() + 120
    while node_sql(1, "SELECT COUNT(*) FROM mail_outbox WHERE status <> 'sent'")[0][0] and \
            time.monotonic() < deadline:
        time.sleep(1)
    queued = {r[0] for r in node_sql(1, "SELECT id FROM mail_outbox WHERE created_at >= %s",
                                     (started,))}
    unsent = node_sql(1, "SELECT status, COUNT(*) FROM mail_outbox WHERE status <> 'sent' "
                         "AND created_at >= %s GROUP BY status", (started,))
    delivered = {}  # outbox id (the Message-ID's left part) -> times it arrived
    for m in sink.deliveries():
        mid = (m.message.get("Message-ID") or "").strip("<>").split("@")[0]
        # smtp-sink names a file by the second it came (UTC here)
        at = calendar.timegm(time.strptime(os.path.basename(m.path)[:14], "%Y%m%d%H%M%S"))
        delivered.setdefault(mid, []).append(at)
    twice = {mid: sorted(at) for mid, at in delivered.items() if len(at) > 1}
    # A host killed after the SMTP server took a mail and before the mail's
    # row says so: its lease runs out and another host sends it again, with
    # the same Message-ID (no SMTP sender can do better; a receiver can drop
    # the second by it). Any other mail twice is a fault.
    expected = {mid for mid, at in twice.items()
                if any(k - 5 <= at[0] <= k + 1 for k in killed_hosts)}
    report["mails queued"] = len(queued)
    report["mails delivered"] = sum(len(v) for v in delivered.values())
    report["mails delivered twice, their sender killed in between"] = len(expected)
    report["mails delivered twice otherwise"] = len(twice) - len(expected)
    if unsent:
        problems.append("mail not sent: %r" % (unsent,))
    missing = queued - set(delivered)
    if missing or len(twice) > len(expected):
        problems.append("%d mails queued, %d not delivered, %d twice: %r"
                        % (len(queued), len(missing), len(twice) - len(expected),
                           sorted(set(twice) - expected)[:3]))
    return problems


def windows(failures, faults, report):
    """Each fault's window: from the fault to the last failure that followed
    it before the next fault; failures outside any are problems."""
    problems = []
    for i, (t, name) in enumerate(faults):
        end = faults[i + 1][0] if i + 1 < len(faults) else float("inf")
        inside = [f for f in failures if t <= f[0] < min(end, t + WINDOW_LIMIT)]
        report["window after %s (s)" % name] = round(max((f[0] for f in inside), default=t) - t, 2)
        report["failed attempts after %s" % name] = len(inside)
    outside = [f for f in failures
               if not any(t <= f[0] < t + WINDOW_LIMIT for t, _ in faults)]
    if outside:
        problems.append("%d failures outside a failover window: %r" % (len(outside), outside[:3]))
    return problems


def run(seconds, keep):
    # A mail's lease outlasts a database failover (Galera takes some 5-6 s
    # to drop a killed node, and writes wait meanwhile): a sender whose
    # "sent" waits out the failover still holds its claim when it writes it.
    # With 5 s, one run in three sent a mail twice, its node killed between
    # the SMTP server's answer and the row. A killed host's mail goes again
    # after the 15 s.
    env = dict(os.environ, TWOTIER_CLUSTER_MAIL_TRANSPORT="smtp",
               TWOTIER_CLUSTER_SMTP_URL="smtp://127.0.0.1:%d" % SINK_PORT,
               TWOTIER_MAIL_RETRY_BASE="1", TWOTIER_MAIL_RETRY_MAX="2", TWOTIER_MAIL_LEASE="15",
               TWOTIER_SMTP_TIMEOUT="2",
               TWOTIER_SIGNIN_RATE="200r/s", TWOTIER_SIGNUP_RATE="200r/s")
    cluster_dir = env.get("TWOTIER_CLUSTER_DIR", os.path.join(REPO, "var", "cluster"))
    sink = Sink(os.path.join(cluster_dir, "smtp-sink-%d" % int(time.time())))
    report, problems = {}, []
    try:
        cluster("up", *(["--sanitize"] if os.environ.get("TWOTIER_CLUSTER_SANITIZE") else []), env=env)
        cluster_env()
        use_sink_for_links(sink)
        # the database's clock (UTC): the mail queued from here on is this run's
        started = node_sql(2, "SELECT UTC_TIMESTAMP(6)")[0][0]
        world_ = prepare()
        writes = Writes(os.environ["TWOTIER_BASE_URL"])
        t0 = time.monotonic()
        stop_at = t0 + seconds
        threads = [threading.Thread(target=load, args=(writes, world_, stop_at, n)) for n in range(4)]

        def journeys_run(n):
            try:
                journey(writes, world_, sink, stop_at, n)
            except Exception as e:  # noqa: BLE001 - reported as a problem below
                with writes.lock:
                    writes.broken.append("journey %d: %s" % (n, e))
        threads += [threading.Thread(target=journeys_run, args=(n,)) for n in range(2)]
        for t in threads:
            t.start()
        faults, killed_hosts = [], []
        plan = [(0.2, "kill-db", "1"), (0.45, "kill-app", "1"), (0.65, "start-db", "1"),
                (0.65, "start-app", "1")]
        for at, cmd, n in plan:
            time.sleep(max(0.0, t0 + at * seconds - time.monotonic()))
            if cmd.startswith("kill"):
                faults.append((time.monotonic(), cmd + " " + n))
            if cmd == "kill-app":
                killed_hosts.append(time.time())
            cluster(cmd, n, env=env)
        for t in threads:
            t.join()
        report["seconds"] = round(time.monotonic() - t0, 1)
        report["password pool busy (sent again)"] = writes.busy
        wait_synced()
        problems += windows(writes.failures, faults, report)
        problems += check(writes, sink, started, killed_hosts, report)
    finally:
        sink.stop()
        if not keep:
            cluster("down", env=env)
    print(json.dumps(report, indent=1))
    for p in problems:
        print("FAIL:", p)
    return not problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=40)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="leave the cluster running")
    a = ap.parse_args()
    ok = True
    for r in range(a.rounds):
        print("round %d of %d" % (r + 1, a.rounds), file=sys.stderr)
        ok = run(a.seconds, a.keep and r + 1 == a.rounds) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
