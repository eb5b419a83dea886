"""A transaction that InnoDB aborts, for a lock-wait timeout (1205) or a
deadlock (1213), is run again by the service, and the client never sees
the abort."""
import os
import threading
import time
import unittest

import pytest

from harness import (api, connect, log_offset, metric_value, root_sql, root_sql_value, signup,
                     sql_value, stack, wait_log, wait_ready)


def signed_in_tenant():
    """A new work account and its admin's access token."""
    resp, body = signup()
    assert resp.status == 201, resp.body
    r = api("POST", "/v1/auth/token", {"username": body["admin"]["email"],
                                       "password": body["admin"]["password"]})
    assert r.status == 200, r
    return resp.body, r.body["accessToken"]


def retries():
    return metric_value(api("GET", "/metrics").body, "twotier_db_retries_total") or 0


@pytest.fixture(scope="class")
def short_lock_waits():
    """The service restarted with connections that wait 1 s for a lock
    instead of 50 s (sessions take the global value when they connect);
    restored afterwards."""
    root_sql("SET GLOBAL innodb_lock_wait_timeout = 1")
    stack("fcgi-stop")
    stack("fcgi-start")
    wait_ready()
    yield
    root_sql("SET GLOBAL innodb_lock_wait_timeout = 50")
    stack("fcgi-stop")
    stack("fcgi-start")
    wait_ready()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs MariaDB's root over unix_socket")
@pytest.mark.usefixtures("short_lock_waits")
class TestLockWaitRetry(unittest.TestCase):
    RUN_LAST = True

    def test_lock_wait_timeout_is_retried(self):
        tenant, token = signed_in_tenant()
        before = retries()
        # Another session holds the tenant's row (user changes lock it) for
        # 1.6 s: the first attempt times out after 1 s, a retry gets through.
        locked = threading.Event()
        failed = []

        def hold():
            conn = connect("root")
            try:
                conn.begin()
                with conn.cursor() as cur:
                    cur.execute("SELECT id FROM tenants WHERE id = %s FOR UPDATE",
                                (tenant["id"],))
                    locked.set()
                    cur.execute("SELECT SLEEP(1.6)")
                conn.commit()
            except Exception as e:  # reported below
                failed.append(e)
            finally:
                locked.set()
                conn.close()

        holder = threading.Thread(target=hold)
        holder.start()
        locked.wait(30)
        r = api("POST", "/v1/users", {"email": "later@" + tenant["domain"],
                                      "password": "another long password",
                                      "firstName": "Lee", "lastName": "Later",
                                      "roles": ["sales_agent"]},
                headers={"Authorization": "Bearer " + token})
        holder.join(30)
        self.assertEqual(failed, [])
        self.assertEqual(r.status, 201, r.body)
        self.assertGreaterEqual(retries(), before + 1)
        self.assertEqual(sql_value("SELECT COUNT(*) FROM users WHERE email = %s",
                                   ("later@" + tenant["domain"],)), "1")


@unittest.skipUnless(os.geteuid() == 0, "needs MariaDB's root over unix_socket")
class TestDeadlockRetry(unittest.TestCase):
    """A real deadlock (1213), not a lock-wait timeout: the service's
    transaction and another session each hold a row the other needs; InnoDB
    rolls back the lighter one, the service's, which runs again and
    succeeds, and the client sees only the success."""

    def test_deadlock_is_retried(self):
        tenant, token = signed_in_tenant()
        auth = {"Authorization": "Bearer " + token}
        r = api("POST", "/v1/users", {"email": "locked@" + tenant["domain"],
                                      "password": "another long password",
                                      "firstName": "Lee", "lastName": "Locked",
                                      "roles": ["sales_agent"]}, headers=auth)
        self.assertEqual(r.status, 201, r.body)
        user_id = r.body["id"]
        before = retries()
        since = log_offset()
        root_sql("CREATE TABLE IF NOT EXISTS deadlock_ballast (n INT PRIMARY KEY) ENGINE=InnoDB")
        s = connect("root")
        result = {}
        try:
            cur = s.cursor()
            # the session is the heavier transaction (200 rows written), so
            # that InnoDB picks the service's as the victim; it holds the user
            s.begin()
            cur.execute("INSERT INTO deadlock_ballast SELECT seq FROM seq_1_to_200")
            cur.execute("SELECT id FROM users WHERE id = %s FOR UPDATE", (user_id,))
            # the service locks the tenant (user changes do), then waits for the user
            t = threading.Thread(target=lambda: result.update(r=api(
                "PATCH", "/v1/users/" + user_id, {"roles": ["sales_agent", "helpdesk_agent"]},
                headers=dict(auth, **{"If-Match": '"v1"'}))))
            t.start()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if root_sql_value("SELECT COUNT(*) FROM information_schema.INNODB_TRX "
                                  "WHERE trx_state = 'LOCK WAIT'") != "0":
                    break
                # InnoDB refreshes this table only when it was not read for
                # 0.1 s: a faster poll would read a stale copy for ever
                time.sleep(0.15)
            else:
                self.fail("the service never waited for the user's row")
            # now the session asks for the tenant the service holds: a cycle
            cur.execute("SELECT id FROM tenants WHERE id = %s FOR UPDATE", (tenant["id"],))
            s.rollback()
            t.join(60)
        finally:
            s.close()
            root_sql("DROP TABLE IF EXISTS deadlock_ballast")
        r = result.get("r")
        self.assertIsNotNone(r)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(sorted(r.body["roles"]), ["helpdesk_agent", "sales_agent"])
        self.assertEqual(sql_value("SELECT version FROM users WHERE id = %s", (user_id,)), "2")
        self.assertGreaterEqual(retries(), before + 1)
        line = wait_log(lambda l: "deadlock (1213)" in str(l.get("msg")), since)
        self.assertIsNotNone(line, "no retry after a deadlock (1213) in the log")
        self.assertIn("LATEST DETECTED DEADLOCK", root_status())


def root_status():
    """The text of SHOW ENGINE INNODB STATUS."""
    return "\n".join(row[2] for row in root_sql("SHOW ENGINE INNODB STATUS"))
