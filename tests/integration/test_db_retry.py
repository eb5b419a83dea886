"""A transaction that InnoDB aborts, for a lock-wait timeout (1205) or a
deadlock (1213), is run again by the service, and the client never sees
the abort."""
import os
import subprocess
import threading
import time
import unittest

from harness import (api, env, log_offset, metric_value, root_sql_value, signup, sql_value,
                     stack, wait_log, wait_ready)


def root_sql(query, wait=True):
    """Runs QUERY as MariaDB's root over the stack's socket (unix_socket
    authentication: the tests run as root)."""
    cmd = ["mariadb", "--no-defaults", "--socket=" + env("TWOTIER_DB_SOCKET"), "-uroot",
           env("TWOTIER_DB_NAME"), "-N", "-B", "-e", query]
    if not wait:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return None


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


@unittest.skipUnless(os.geteuid() == 0, "needs MariaDB's root over unix_socket")
class TestLockWaitRetry(unittest.TestCase):
    RUN_LAST = True

    @classmethod
    def setUpClass(cls):
        # Sessions take the global value when they connect: restart the app
        # so that its connections wait 1 s for a lock instead of 50 s.
        root_sql("SET GLOBAL innodb_lock_wait_timeout = 1")
        stack("fcgi-stop")
        stack("fcgi-start")
        wait_ready()

    @classmethod
    def tearDownClass(cls):
        root_sql("SET GLOBAL innodb_lock_wait_timeout = 50")
        stack("fcgi-stop")
        stack("fcgi-start")
        wait_ready()

    def test_lock_wait_timeout_is_retried(self):
        tenant, token = signed_in_tenant()
        before = retries()
        # Another session holds the tenant's row (user changes lock it) for
        # 1.6 s: the first attempt times out after 1 s, a retry gets through.
        holder = root_sql("START TRANSACTION; SELECT id FROM tenants WHERE id = '%s' FOR UPDATE; "
                          "SELECT SLEEP(1.6); COMMIT;" % tenant["id"], wait=False)
        time.sleep(0.3)
        r = api("POST", "/v1/users", {"email": "later@" + tenant["domain"],
                                      "password": "another long password",
                                      "firstName": "Lee", "lastName": "Later",
                                      "roles": ["sales_agent"]},
                headers={"Authorization": "Bearer " + token})
        holder.wait(timeout=30)
        self.assertEqual(r.status, 201, r.body)
        self.assertGreaterEqual(retries(), before + 1)
        self.assertEqual(sql_value("SELECT COUNT(*) FROM users WHERE email = 'later@%s'"
                                   % tenant["domain"]), "1")


class Session:
    """An interactive MariaDB session as root: statements go in one at a
    time, and each call waits for its own results."""

    def __init__(self):
        cmd = ["mariadb", "--no-defaults", "--socket=" + env("TWOTIER_DB_SOCKET"), "-uroot",
               env("TWOTIER_DB_NAME"), "-N", "-B", "-n"]
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, universal_newlines=True, bufsize=1)
        self.n = 0

    def run(self, sql):
        """Runs SQL and returns its output lines (waits for it to finish)."""
        self.n += 1
        mark = "done-%d" % self.n
        self.p.stdin.write("%s;\nSELECT '%s';\n" % (sql, mark))
        self.p.stdin.flush()
        lines = []
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise AssertionError("the session ended: %r" % lines)
            if line.strip() == mark:
                return lines
            lines.append(line.rstrip("\n"))

    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        self.p.wait(timeout=30)


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
        s = Session()
        result = {}
        try:
            # the session is the heavier transaction (200 rows written), so
            # that InnoDB picks the service's as the victim; it holds the user
            s.run("START TRANSACTION")
            s.run("INSERT INTO deadlock_ballast SELECT seq FROM seq_1_to_200")
            s.run("SELECT id FROM users WHERE id = '%s' FOR UPDATE" % user_id)
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
            s.run("SELECT id FROM tenants WHERE id = '%s' FOR UPDATE" % tenant["id"])
            s.run("ROLLBACK")
            t.join(60)
        finally:
            s.close()
            root_sql("DROP TABLE IF EXISTS deadlock_ballast")
        r = result.get("r")
        self.assertIsNotNone(r)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(sorted(r.body["roles"]), ["helpdesk_agent", "sales_agent"])
        self.assertEqual(sql_value("SELECT version FROM users WHERE id = '%s'" % user_id), "2")
        self.assertGreaterEqual(retries(), before + 1)
        line = wait_log(lambda l: "deadlock (1213)" in str(l.get("msg")), since)
        self.assertIsNotNone(line, "no retry after a deadlock (1213) in the log")
        self.assertIn("LATEST DETECTED DEADLOCK", "\n".join(root_status()))


def root_status():
    cmd = ["mariadb", "--no-defaults", "--socket=" + env("TWOTIER_DB_SOCKET"), "-uroot",
           "-N", "-B", "-e", "SHOW ENGINE INNODB STATUS"]
    return subprocess.run(cmd, stdout=subprocess.PIPE, universal_newlines=True,
                          timeout=30).stdout.split("\n")
