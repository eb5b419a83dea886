"""A transaction that InnoDB aborts for a lock-wait timeout (1205) is run
again by the service, and the client never sees the abort."""
import os
import subprocess
import time
import unittest

from harness import api, env, metric_value, signup, sql_value, stack, wait_ready


def root_sql(query, wait=True):
    """Runs QUERY as MariaDB's root over the stack's socket (unix_socket
    authentication: the tests run as root)."""
    cmd = ["mariadb", "--no-defaults", "--socket=" + env("TWOTIER_DB_SOCKET"), "-uroot",
           env("TWOTIER_DB_NAME"), "-N", "-B", "-e", query]
    if not wait:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return None


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
        resp, body = signup()
        self.assertEqual(resp.status, 201, resp.body)
        tenant = resp.body
        token = api("POST", "/v1/auth/token", {"username": body["admin"]["email"],
                                               "password": body["admin"]["password"]}).body[
            "accessToken"]
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
