"""The mail pipeline (SPEC §6): the outbox and its senders, the file and
SMTP transports, the operator's view of the outbox, and what survives a
crash.  SMTP goes to postfix's smtp-sink, started here on a loopback port;
the service is restarted with the smtp transport for those tests and
restored afterwards."""

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import unittest
from email import message_from_string
from email.header import decode_header, make_header

import pytest

from harness import (api, assert_problem, env, log_lines, log_offset, mail_dir, mails_to,
                     metric_value, new_tenant, restart_service, sql, sql_value, stack,
                     stack_dir, wait_mails, wait_ready)
from world import enroll, enrolled_tenant, enrollment_body, operator_auth


def outbox(tenant_id):
    """[(id, status, attempts, last_error)] of the tenant's mail, oldest first."""
    return [tuple(r) for r in sql(
        "SELECT id, status, attempts, IFNULL(last_error, '') FROM mail_outbox "
        "WHERE tenant_id = %s ORDER BY id", (tenant_id,))]


def wait_outbox(tenant_id, pred, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        rows = outbox(tenant_id)
        if rows and pred(rows):
            return rows
        if time.monotonic() >= deadline:
            raise AssertionError("outbox of %s never matched: %r" % (tenant_id, rows))
        time.sleep(0.1)


def queue_mails(n, prefix):
    """Inserts N pending mails due now (no tenant); returns their ids."""
    ids, values = [], []
    for i in range(n):
        mid = "%08x-0000-7000-8000-%012x" % (secrets.randbits(32), secrets.randbits(48))
        ids.append(mid)
        values += [mid, "%s-%d@senders.example" % (prefix, i), "body %d" % i]
    sql("INSERT INTO mail_outbox (id, tenant_id, template, language, recipient, subject, body, "
        "status, attempts, next_attempt_at, created_at) VALUES "
        + ", ".join(["(%s, NULL, 'verify_email', 'en', %s, 'Test mail', %s, 'pending', 0, "
                     "UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))"] * n), tuple(values))
    return ids


def statuses(ids):
    rows = sql("SELECT id, status, attempts FROM mail_outbox WHERE id IN (%s)"
               % ", ".join(["%s"] * len(ids)), tuple(ids))
    return {r[0]: (r[1], int(r[2])) for r in rows}


def wait_sent(ids, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        s = statuses(ids)
        if all(v[0] == "sent" for v in s.values()) and len(s) == len(ids):
            return s
        if time.monotonic() >= deadline:
            raise AssertionError("not all sent: %r" % {k: v for k, v in s.items()
                                                        if v[0] != "sent"})
        time.sleep(0.1)


def sent_log_ids(lines):
    return [line["mail"] for line in lines if line.get("msg") == "mail"
            and line.get("result") == "sent"]


class TestOutbox(unittest.TestCase):
    def test_three_senders_send_each_mail_once(self):
        """The service's sender thread and two twotier-admin mail-send
        processes work one outbox at once: every mail goes exactly once."""
        since = log_offset()
        ids = queue_mails(120, "race")
        procs = [subprocess.Popen([env("TWOTIER_ADMIN_BIN"), "-c", env("TWOTIER_CONF"),
                                   "mail-send", "--name", "n%d" % i],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  universal_newlines=True) for i in range(2)]
        outs = [p.communicate(timeout=120) for p in procs]
        for p, (out, err) in zip(procs, outs):
            self.assertEqual(p.returncode, 0, err)
        wait_sent(ids)
        admin_sent = []
        for out, err in outs:
            for line in err.splitlines():
                if line.startswith("{"):
                    admin_sent += sent_log_ids([json.loads(line)])
        service_sent = [i for i in sent_log_ids(log_lines(since)) if i in set(ids)]
        every = [i for i in admin_sent + service_sent if i in set(ids)]
        self.assertEqual(sorted(every), sorted(ids), "each mail delivered exactly once")
        self.assertTrue(admin_sent, "the admin senders took part")
        for mid in ids:
            self.assertTrue(os.path.exists(os.path.join(mail_dir(), mid + ".eml")), mid)
        self.assertEqual([n for n in os.listdir(mail_dir()) if n.endswith(".tmp")], [])

    def test_a_folder_that_cannot_be_written_holds_mail_uncounted(self):
        """Our side down (the folder gone: a file in its place): mail waits
        without spending its attempts, then goes at the next look after
        the folder is back, not after a back-off."""
        since = log_offset()
        folder = mail_dir()
        aside = folder + ".aside"
        os.rename(folder, aside)
        try:
            open(folder, "w").close()
            (mid,) = queue_mails(1, "folder")
            deadline = time.monotonic() + 15
            while not sql_value("SELECT IFNULL(last_error, '') FROM mail_outbox WHERE id = %s",
                                (mid,)):
                self.assertLess(time.monotonic(), deadline, "the mail was never tried")
                time.sleep(0.1)
            time.sleep(3)  # longer than the suite's back-off, tried again meanwhile
            self.assertEqual(statuses([mid]), {mid: ("pending", 0)})
            self.assertIn("mail_dir", sql_value("SELECT last_error FROM mail_outbox WHERE "
                                                "id = %s", (mid,)))
            self.assertGreaterEqual(metric_value(
                api("GET", "/metrics").body,
                'twotier_mail_deliveries_total{result="deferred"}'), 2)
        finally:
            os.remove(folder)
            os.rename(aside, folder)
        back = time.monotonic()
        self.assertEqual(wait_sent([mid], timeout=15), {mid: ("sent", 1)})
        self.assertLess(time.monotonic() - back, 3, "sent at the next look")
        said = [line["msg"] for line in log_lines(since)
                if line.get("msg", "").startswith("mail transport")]
        self.assertEqual(said[:1], ["mail transport down: mail waits for it, uncounted"])
        self.assertEqual(said.count("mail transport down: mail waits for it, uncounted"), 1,
                         "said once an outage")

    def test_a_mail_whose_sender_died_is_sent_again(self):
        dead, alive = queue_mails(2, "lease")
        # one claimed by a sender that is gone (its lease ran out), one
        # by a sender still within its lease
        sql("UPDATE mail_outbox SET status = 'sending', attempts = 1, claimed_by = 'gone:1', "
            "next_attempt_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND WHERE id = %s", (dead,))
        sql("UPDATE mail_outbox SET status = 'sending', attempts = 1, claimed_by = 'busy:1', "
            "next_attempt_at = UTC_TIMESTAMP(6) + INTERVAL 1 HOUR WHERE id = %s", (alive,))
        self.assertEqual(wait_sent([dead]), {dead: ("sent", 2)})
        time.sleep(1.5)
        self.assertEqual(statuses([alive]), {alive: ("sending", 1)})
        sql("DELETE FROM mail_outbox WHERE id = %s", (alive,))

    def test_every_mail_has_its_headers(self):
        t = enrolled_tenant()
        mail = wait_mails(t.contact, 1)[0]
        with open(mail.path, "rb") as f:
            raw = f.read()
        head = raw.split(b"\r\n\r\n", 1)[0]
        self.assertNotIn(b"\n", head.replace(b"\r\n", b""), "CRLF line ends only")
        for name in (b"Date: ", b"Message-ID: <", b"From: ", b"To: ", b"Subject: ",
                     b"MIME-Version: 1.0", b"Content-Type: text/plain; charset=utf-8"):
            self.assertIn(b"\r\n" + name if not head.startswith(name) else name, b"\r\n" + head)
        mid = outbox(t.id)[0][0]
        self.assertEqual(os.path.basename(mail.path), mid + ".eml")
        self.assertIn(mid, mail.header("Message-ID"))

    def test_operator_sees_and_retries_the_outbox(self):
        t = enrolled_tenant()
        wait_outbox(t.id, lambda rows: rows[0][1] == "sent")
        mid = outbox(t.id)[0][0]
        sql("UPDATE mail_outbox SET status = 'failed', last_error = 'smtp: 550 no such user' "
            "WHERE id = %s", (mid,))
        r = api("GET", "/v1/operator/mail?status=failed&limit=200", headers=operator_auth())
        self.assertEqual(r.status, 200, r)
        items = [i for i in r.body["items"] if i["id"] == mid]
        while not items and r.body["links"]["next"]:
            self.assertIn("status=failed", r.body["links"]["next"])
            r = api("GET", r.body["links"]["next"], headers=operator_auth())
            items = [i for i in r.body["items"] if i["id"] == mid]
        self.assertEqual(len(items), 1)
        m = items[0]
        self.assertEqual((m["status"], m["recipient"], m["template"], m["tenantId"]),
                         ("failed", t.contact, "verify_email", t.id))
        self.assertEqual(m["lastError"], "smtp: 550 no such user")
        self.assertTrue(all(i["status"] == "failed" for i in r.body["items"]))
        before = len(mails_to(t.contact))
        r = api("POST", "/v1/operator/mail/%s/retry" % mid, headers=operator_auth())
        self.assertEqual(r.status, 202, r)
        self.assertEqual((r.body["status"], r.body["attempts"]), ("pending", 0))
        wait_outbox(t.id, lambda rows: rows[0][1] == "sent")
        self.assertEqual(len(wait_mails(t.contact, before)), before)  # rewritten, same file
        r = api("POST", "/v1/operator/mail/%s/retry" % mid, headers=operator_auth())
        self.assertEqual(assert_problem(r, 409, "conflict")["code"], "mail_not_failed")
        self.assertIn("sent", r.body["detail"])
        assert_problem(api("POST", "/v1/operator/mail/01a2340c-0000-7000-8000-000000000000/retry",
                           headers=operator_auth()), 404, "not-found")
        assert_problem(api("POST", "/v1/operator/mail/nope/retry", headers=operator_auth()),
                       404, "not-found")
        for q in ("?status=lost", "?status=", "?limit=500"):
            assert_problem(api("GET", "/v1/operator/mail" + q, headers=operator_auth()), 400,
                           None)
        r = api("GET", "/v1/operator/mail?status=sent&limit=1", headers=operator_auth())
        self.assertEqual((r.status, len(r.body["items"])), (200, 1))
        assert_problem(api("GET", "/v1/operator/mail", headers=t.auth), 403, "forbidden")

    def test_metrics_show_deliveries_and_backlog(self):
        t = enrolled_tenant()
        wait_outbox(t.id, lambda rows: rows[0][1] == "sent")
        text = api("GET", "/metrics").body
        self.assertGreaterEqual(metric_value(text, 'twotier_mail_deliveries_total{result="sent"}'),
                                1)
        for name in ('twotier_mail_deliveries_total{result="retry"}',
                     'twotier_mail_deliveries_total{result="failed"}',
                     'twotier_mail_outbox{status="pending"}',
                     'twotier_mail_outbox{status="failed"}'):
            self.assertIsNotNone(metric_value(text, name), name)


class SmtpSink:
    """postfix's smtp-sink on 127.0.0.1:PORT, dumping each mail into a
    folder; ARGS make it refuse (-r RCPT: 4xx, -f RCPT: 5xx)."""

    def __init__(self, port):
        self.port = port
        self.dir = os.path.join(stack_dir(), "smtp-sink")
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o777)  # smtp-sink drops to nobody
        self.proc = None

    def start(self, *args):
        self.stop()
        cmd = ["smtp-sink"]
        if os.geteuid() == 0:
            cmd += ["-u", "nobody"]
        cmd += list(args) + ["-d", self.dir + "/%Y%m%d%H%M%S.", "127.0.0.1:%d" % self.port, "20"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("smtp-sink did not start: %s"
                                         % self.proc.stderr.read().decode(errors="replace"))
                time.sleep(0.05)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)
        self.proc = None

    def mails_to(self, address):
        out = []
        for name in sorted(os.listdir(self.dir)):
            with open(os.path.join(self.dir, name), "rb") as f:
                text = f.read().decode("utf-8", errors="replace")
            if "To: " + address in text:
                out.append(text)
        return out


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="class")
def smtp_service():
    """(five work accounts, an SmtpSink): the accounts made first, their
    sign-up links going to mail_dir; then the service restarted to send
    through the sink's SMTP; restarted as it was afterwards."""
    tenants = [new_tenant() for _ in range(5)]
    sink = SmtpSink(free_port())
    sink.start()
    try:
        restart_service({"TWOTIER_MAIL_TRANSPORT": "smtp", "TWOTIER_SMTP_STARTTLS": "off",
                         "TWOTIER_SMTP_URL": "smtp://127.0.0.1:%d" % sink.port})
        yield tenants, sink
    finally:
        sink.stop()
        restart_service()


class TestSmtp(unittest.TestCase):
    """The smtp transport through libcurl against a real SMTP server."""
    RUN_LAST = True

    @pytest.fixture(autouse=True)
    def _world(self, smtp_service):
        self.tenants, self.sink = smtp_service

    def test_delivery(self):
        self.sink.start()
        t = enrolled_tenant(tenant=self.tenants.pop())
        rows = wait_outbox(t.id, lambda rows: rows[0][1] == "sent")
        self.assertEqual(rows[0][2], "1")
        got = self.sink.mails_to(t.contact)
        self.assertEqual(len(got), 1, got)
        msg = message_from_string(got[0])
        self.assertEqual(msg["Message-ID"], "<%s@twotier.local.test>" % rows[0][0])
        self.assertIn("Contoso GmbH", str(make_header(decode_header(msg["Subject"]))))
        self.assertIn("/verify-email?token=", msg.get_payload(decode=True).decode("utf-8"))
        self.assertEqual(mails_to(t.contact), [], "nothing went to the mail folder")

    def test_4xx_is_retried_and_delivered_later(self):
        self.sink.start("-r", "RCPT")
        t = enrolled_tenant(tenant=self.tenants.pop())
        rows = wait_outbox(t.id, lambda rows: int(rows[0][2]) >= 1 and rows[0][1] == "pending"
                           and rows[0][3] != "")
        self.assertIn("450", rows[0][3])
        self.sink.start()
        rows = wait_outbox(t.id, lambda rows: rows[0][1] == "sent")
        self.assertGreaterEqual(int(rows[0][2]), 2)
        self.assertEqual(len(self.sink.mails_to(t.contact)), 1)

    def test_5xx_fails_at_once_and_the_operator_sees_it(self):
        self.sink.start("-f", "RCPT")
        t = enrolled_tenant(tenant=self.tenants.pop())
        rows = wait_outbox(t.id, lambda rows: rows[0][1] == "failed")
        self.assertEqual(rows[0][2], "1")
        self.assertIn("500", rows[0][3])
        time.sleep(2.5)  # longer than the suite's back-off: no second try
        self.assertEqual(outbox(t.id)[0][2], "1")
        mid = rows[0][0]
        r = api("GET", "/v1/operator/mail?status=failed&limit=200", headers=operator_auth())
        ids = [i["id"] for i in r.body["items"]]
        while mid not in ids and r.body["links"]["next"]:
            r = api("GET", r.body["links"]["next"], headers=operator_auth())
            ids = [i["id"] for i in r.body["items"]]
        self.assertIn(mid, ids)
        deadline = time.monotonic() + 10
        while metric_value(api("GET", "/metrics").body,
                           'twotier_mail_outbox{status="failed"}') < 1:
            self.assertLess(time.monotonic(), deadline, "the failed gauge never counted it")
            time.sleep(0.2)
        self.sink.start()
        self.assertEqual(api("POST", "/v1/operator/mail/%s/retry" % mid,
                             headers=operator_auth()).status, 202)
        wait_outbox(t.id, lambda rows: rows[0][1] == "sent")
        self.assertEqual(len(self.sink.mails_to(t.contact)), 1)

    def test_the_last_attempt_fails_the_mail(self):
        self.sink.start("-r", "RCPT")
        (mid,) = queue_mails(1, "last")
        # one attempt short of mail_max_attempts (8)
        sql("UPDATE mail_outbox SET attempts = 7 WHERE id = %s", (mid,))
        deadline = time.monotonic() + 20
        while statuses([mid])[mid][0] != "failed":
            self.assertLess(time.monotonic(), deadline, statuses([mid]))
            time.sleep(0.1)
        self.assertEqual(statuses([mid])[mid], ("failed", 8))
        self.sink.start()

    def test_relay_down_holds_mail_uncounted_until_it_is_back(self):
        self.sink.stop()
        t = enrolled_tenant(tenant=self.tenants.pop())
        rows = wait_outbox(t.id, lambda rows: rows[0][3] != "")
        self.assertIn("smtp:", rows[0][3])
        time.sleep(3)  # longer than the suite's back-off, tried again meanwhile
        rows = outbox(t.id)
        self.assertEqual(rows[0][1:3], ("pending", "0"), "our side down: no attempt counted")
        self.sink.start()
        back = time.monotonic()
        rows = wait_outbox(t.id, lambda rows: rows[0][1] == "sent")
        self.assertLess(time.monotonic() - back, 4, "sent at the next look")
        self.assertEqual(rows[0][2], "1")
        self.assertEqual(len(self.sink.mails_to(t.contact)), 1)


class TestMailAndCrashes(unittest.TestCase):
    RUN_LAST = True

    def test_a_change_that_rolls_back_sends_nothing(self):
        """The process dies after the outbox row is written, before the
        commit: no enrolment, no outbox row, no mail."""
        t = new_tenant()
        key = {"Idempotency-Key": "crash-" + secrets.token_hex(6)}
        restart_service({"TWOTIER_FAULT": "idem.before_commit"})
        try:
            r = enroll(t, headers=key)
            self.assertGreaterEqual(r.status, 500, r)
        finally:
            restart_service()
        self.assertEqual(sql_value("SELECT COUNT(*) FROM enrollments WHERE tenant_id = %s",
                                   (t.id,)), "0")
        self.assertEqual(outbox(t.id), [])
        time.sleep(1.5)
        self.assertEqual(mails_to("pia@" + t.domain), [])
        r = enroll(t, headers=key)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(len(wait_mails("pia@" + t.domain, 1)), 1)

    def test_sender_killed_mid_send_loses_nothing(self):
        t = new_tenant()
        restart_service({"TWOTIER_FAULT": "mail.before_send"})
        try:
            api("POST", "/v1/enrollments", body=enrollment_body(t.domain), headers=t.auth)
            rows = wait_outbox(t.id, lambda rows: rows[0][1] == "sending")
            self.assertEqual(rows[0][2], "1")
        finally:
            restart_service()
        # the suite's lease is a few seconds: then another claim sends it
        rows = wait_outbox(t.id, lambda rows: rows[0][1] == "sent", timeout=30)
        self.assertEqual(rows[0][2], "2")
        self.assertEqual(len(wait_mails("pia@" + t.domain, 1)), 1)

    def test_sigterm_hands_back_what_it_did_not_send(self):
        ids = queue_mails(200, "term")
        stack("fcgi-stop")
        try:
            s = statuses(ids)
            self.assertEqual([k for k, v in s.items() if v[0] == "sending"], [],
                             "a stopped sender holds no mail")
            self.assertTrue(all(v[1] <= 1 for v in s.values()), s)
        finally:
            stack("fcgi-start")
            wait_ready()
        wait_sent(ids, timeout=60)

