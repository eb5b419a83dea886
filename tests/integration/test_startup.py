"""Start-up refusals: a schema that no longer matches a statement stops the
start naming the statement; so do a wrong database and a socket in use."""
import os
import subprocess
import tempfile
import unittest

from harness import (api, assert_problem, env, run_binary, signup_body, sql_quote, sql_value,
                     stack, wait_ready)

DRIFT_DB = "twotier_drift"
# the environment overrides the file (TWOTIER_DB_NAME is set for the tests)
DRIFT_ENV = {"TWOTIER_DB_NAME": DRIFT_DB}


def root_sql(query, db=None):
    cmd = ["mariadb", "--no-defaults", "--socket=" + env("TWOTIER_DB_SOCKET"), "-uroot", "-N",
           "-B", "-e", query]
    if db:
        cmd.insert(-4, db)
    subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)


@unittest.skipUnless(os.geteuid() == 0, "needs MariaDB's root over unix_socket")
class TestSchemaDrift(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        root_sql("DROP DATABASE IF EXISTS %s; CREATE DATABASE %s CHARACTER SET utf8mb4; "
                 "GRANT ALL ON %s.* TO 'twotier'@'localhost'" % (DRIFT_DB, DRIFT_DB, DRIFT_DB))
        cls.tmp = tempfile.TemporaryDirectory()
        # The same configuration on another database and another socket, so
        # that the running service is never touched.
        with open(env("TWOTIER_CONF")) as f:
            lines = [l for l in f.read().splitlines() if not l.startswith("listen")]
        cls.conf = os.path.join(cls.tmp.name, "drift.conf")
        with open(cls.conf, "w") as f:
            f.write("\n".join(lines + ["listen = unix:" + os.path.join(cls.tmp.name, "s.sock"),
                                       "db_name = " + DRIFT_DB]) + "\n")
        r = run_binary([env("TWOTIER_ADMIN_BIN"), "-c", cls.conf, "migrate"], env_extra=DRIFT_ENV)
        assert r.returncode == 0, r.stderr

    @classmethod
    def tearDownClass(cls):
        root_sql("DROP DATABASE IF EXISTS %s" % DRIFT_DB)
        cls.tmp.cleanup()

    def test_renamed_column_stops_the_start_naming_the_statement(self):
        root_sql("ALTER TABLE audit_events RENAME COLUMN client_addr TO client_address", DRIFT_DB)
        try:
            r = run_binary([env("TWOTIER_FCGI_BIN"), "-c", self.conf], timeout=30, env_extra=DRIFT_ENV)
            self.assertEqual(r.returncode, 1, r.stderr)
            # a statement of the audit log names the column (whichever is
            # prepared first)
            self.assertRegex(r.stderr, r"statement audit_\w+ .*client_addr")
            self.assertIn("does not match this build", r.stderr)
            self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "s.sock")))
            r = run_binary([env("TWOTIER_ADMIN_BIN"), "-c", self.conf, "migrate"], env_extra=DRIFT_ENV)
            self.assertNotEqual(r.returncode, 0)
            self.assertRegex(r.stderr, r"statement audit_\w+ .*client_addr")
        finally:
            root_sql("ALTER TABLE audit_events RENAME COLUMN client_address TO client_addr",
                     DRIFT_DB)

    def test_dropped_table_stops_the_start(self):
        root_sql("RENAME TABLE api_tokens TO api_tokens_old", DRIFT_DB)
        try:
            r = run_binary([env("TWOTIER_FCGI_BIN"), "-c", self.conf], timeout=30, env_extra=DRIFT_ENV)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("api_token", r.stderr)
        finally:
            root_sql("RENAME TABLE api_tokens_old TO api_tokens", DRIFT_DB)


class TestStartRefusals(unittest.TestCase):

    def test_second_start_does_not_steal_the_socket(self):
        r = run_binary([env("TWOTIER_FCGI_BIN"), "-c", env("TWOTIER_CONF")], timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("Address already in use", r.stderr)
        self.assertEqual(api("GET", "/readyz").status, 200)

    def test_unknown_database_stops_the_start(self):
        with tempfile.TemporaryDirectory() as tmp:
            with open(env("TWOTIER_CONF")) as f:
                lines = [l for l in f.read().splitlines() if not l.startswith("listen")]
            conf = os.path.join(tmp, "c.conf")
            with open(conf, "w") as f:
                f.write("\n".join(lines + ["listen = unix:" + os.path.join(tmp, "s.sock")]) + "\n")
            r = run_binary([env("TWOTIER_FCGI_BIN"), "-c", conf], timeout=30,
                           env_extra={"TWOTIER_DB_NAME": "no_such_database"})
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("no_such_database", r.stderr)
            self.assertFalse(os.path.exists(os.path.join(tmp, "s.sock")))


class TestSignupClosed(unittest.TestCase):
    """sign-up can be closed by configuration (SPEC §8)."""
    RUN_LAST = True

    def test_closed_signup_refused_and_nothing_written(self):
        conf = env("TWOTIER_CONF")
        with open(conf) as f:
            original = f.read()
        try:
            with open(conf, "a") as f:
                f.write("signup_open = false\n")
            stack("fcgi-stop")
            stack("fcgi-start")
            wait_ready()
            body = signup_body()
            p = assert_problem(api("POST", "/v1/tenants", body=body), 403, "forbidden")
            self.assertIn("sign-up is closed", p["detail"])
            self.assertEqual(sql_value("SELECT COUNT(*) FROM tenants WHERE domain = %s"
                                       % sql_quote(body["domain"])), "0")
        finally:
            with open(conf, "w") as f:
                f.write(original)
            stack("fcgi-stop")
            stack("fcgi-start")
            wait_ready()
        self.assertEqual(api("POST", "/v1/tenants", body=signup_body()).status, 202)
