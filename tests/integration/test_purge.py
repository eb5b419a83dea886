"""Expired rows are purged: idempotency keys after 24 h, sign-in failure
counters whose window and lock have passed; in batches, by the service's
own thread (every purge_interval seconds; the test stack's is 2) and by
`twotier-admin purge`; rows still in use are kept."""
import secrets
import time
import unittest

from harness import env, log_offset, run_binary, sql, sql_value, wait_log


def make_keys(prefix, n, hours_ago):
    sql("INSERT INTO idempotency_keys (principal, idem_key, request_hash, status, created_at) "
        "SELECT 'u:purge-test', CONCAT(%s, seq), REPEAT('0', 64), 201, "
        "UTC_TIMESTAMP(6) - INTERVAL %s HOUR FROM seq_1_to_100000 WHERE seq <= %s",
        (prefix, hours_ago, n))


def keys_left(prefix):
    return int(sql_value("SELECT COUNT(*) FROM idempotency_keys WHERE principal = "
                         "'u:purge-test' AND idem_key LIKE %s", (prefix + "%",)))


def make_failures(prefix, n, window_minutes_ago, locked_minutes_ahead=None):
    # locked_until: NULL when no lock is asked for (NULL + INTERVAL is NULL)
    sql("INSERT INTO signin_failures (username_hash, failures, window_start, locked_until) "
        "SELECT SHA2(CONCAT(%s, seq), 256), 3, UTC_TIMESTAMP(6) - INTERVAL %s MINUTE, "
        "UTC_TIMESTAMP(6) + INTERVAL %s MINUTE FROM seq_1_to_100000 WHERE seq <= %s",
        (prefix, window_minutes_ago, locked_minutes_ahead, n))


def failures_left(prefix, n):
    return int(sql_value("SELECT COUNT(*) FROM signin_failures WHERE username_hash IN "
                         "(SELECT CONVERT(SHA2(CONCAT(%s, seq), 256) USING ascii) "
                         "FROM seq_1_to_100000 WHERE seq <= %s)", (prefix, n)))


def wait_for(pred, timeout=15):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


class TestPurge(unittest.TestCase):

    def test_admin_purge_in_batches_keeps_what_is_in_use(self):
        p = secrets.token_hex(4)
        make_keys(p + "-old-", 1234, 25)  # more than two batches of 500
        make_keys(p + "-new-", 5, 23)
        make_failures(p + "-old-", 3, 20)
        make_failures(p + "-locked-", 2, 20, locked_minutes_ahead=5)
        make_failures(p + "-new-", 2, 5)
        r = run_binary([env("TWOTIER_ADMIN_BIN"), "-c", env("TWOTIER_CONF"), "purge"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^purged \d+ idempotency keys, \d+ sign-in failure counters")
        self.assertEqual(keys_left(p + "-old-"), 0)
        self.assertEqual(keys_left(p + "-new-"), 5)
        self.assertEqual(failures_left(p + "-old-", 3), 0)
        self.assertEqual(failures_left(p + "-locked-", 2), 2)
        self.assertEqual(failures_left(p + "-new-", 2), 2)

    def test_the_service_purges_by_itself(self):
        p = secrets.token_hex(4)
        since = log_offset()
        make_keys(p + "-old-", 40, 30)
        make_keys(p + "-new-", 3, 1)
        make_failures(p + "-old-", 4, 16)
        self.assertTrue(wait_for(lambda: keys_left(p + "-old-") == 0
                                 and failures_left(p + "-old-", 4) == 0),
                        "the service did not purge within 15 s")
        self.assertEqual(keys_left(p + "-new-"), 3)
        line = wait_log(lambda l: l.get("msg") == "purged", since)
        self.assertIsNotNone(line)
        self.assertIsInstance(line.get("idempotencyKeys"), int)


class TestPurgeSignups(unittest.TestCase):

    def test_expired_sign_ups_and_account_counters_go(self):
        p = secrets.token_hex(4)
        for i, hours in enumerate((-1, -100, 50)):
            sql("INSERT INTO pending_signups (id, domain, display_name, email, password_hash, "
                "first_name, last_name, token_hash, created_at, expires_at) VALUES "
                "(UUID(), %s, 'P', %s, 'x', 'P', 'Q', SHA2(%s, 256), UTC_TIMESTAMP(6), "
                "UTC_TIMESTAMP(6) + INTERVAL %s HOUR)",
                ("%s-%d.example.com" % (p, i), "a@%s-%d.example.com" % (p, i), p + str(i), hours))
        sql("INSERT INTO signin_account_failures (account_hash, failures, window_start) VALUES "
            "(SHA2(%s, 256), 7, UTC_TIMESTAMP(6) - INTERVAL 16 MINUTE), "
            "(SHA2(%s, 256), 7, UTC_TIMESTAMP(6))", (p + "old", p + "new"))

        def left(table, where, value):
            # TABLE and WHERE are the test's own SQL text, VALUE a parameter
            return int(sql_value("SELECT COUNT(*) FROM %s WHERE %s" % (table, where), (value,)))
        r = run_binary([env("TWOTIER_ADMIN_BIN"), "-c", env("TWOTIER_CONF"), "purge"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"\d+ pending sign-ups")
        self.assertEqual(left("pending_signups", "domain LIKE %s", p + "-%"), 1)
        self.assertEqual(left("pending_signups", "domain = %s", p + "-2.example.com"), 1)
        self.assertEqual(left("signin_account_failures", "account_hash = SHA2(%s, 256)",
                              p + "old"), 0)
        self.assertEqual(left("signin_account_failures", "account_hash = SHA2(%s, 256)",
                              p + "new"), 1)
