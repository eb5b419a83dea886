"""Start-up refusals: a schema that no longer matches a statement stops the
start naming the statement; so do a wrong database and a socket in use."""
import os
import tempfile
import unittest

import pytest

from harness import (api, assert_problem, env, root_sql, run_binary, signup_body, sql_value, stack,
                     wait_ready)

DRIFT_DB = "twotier_drift"
# the environment overrides the file (TWOTIER_DB_NAME is set for the tests)
DRIFT_ENV = {"TWOTIER_DB_NAME": DRIFT_DB}


@pytest.fixture(scope="class")
def drift_db():
    """A migrated database of its own (DRIFT_DB) and a configuration that
    uses it and another socket, so that the running service is never
    touched: the path of that configuration and its folder."""
    root_sql("DROP DATABASE IF EXISTS " + DRIFT_DB)
    root_sql("CREATE DATABASE " + DRIFT_DB + " CHARACTER SET utf8mb4")
    root_sql("GRANT ALL ON " + DRIFT_DB + ".* TO 'twotier'@'localhost'")
    with tempfile.TemporaryDirectory() as tmp:
        with open(env("TWOTIER_CONF")) as f:
            lines = [l for l in f.read().splitlines() if not l.startswith("listen")]
        conf = os.path.join(tmp, "drift.conf")
        with open(conf, "w") as f:
            f.write("\n".join(lines + ["listen = unix:" + os.path.join(tmp, "s.sock"),
                                       "db_name = " + DRIFT_DB]) + "\n")
        r = run_binary([env("TWOTIER_ADMIN_BIN"), "-c", conf, "migrate"], env_extra=DRIFT_ENV)
        assert r.returncode == 0, r.stderr
        yield conf, tmp
        root_sql("DROP DATABASE IF EXISTS " + DRIFT_DB)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs MariaDB's root over unix_socket")
class TestSchemaDrift(unittest.TestCase):

    @pytest.fixture(autouse=True)
    def _world(self, drift_db):
        self.conf, self.tmp = drift_db

    def test_renamed_column_stops_the_start_naming_the_statement(self):
        root_sql("ALTER TABLE audit_events RENAME COLUMN client_addr TO client_address",
                 database=DRIFT_DB)
        try:
            r = run_binary([env("TWOTIER_FCGI_BIN"), "-c", self.conf], timeout=30, env_extra=DRIFT_ENV)
            self.assertEqual(r.returncode, 1, r.stderr)
            # a statement of the audit log names the column (whichever is
            # prepared first)
            self.assertRegex(r.stderr, r"statement audit_\w+ .*client_addr")
            self.assertIn("does not match this build", r.stderr)
            self.assertFalse(os.path.exists(os.path.join(self.tmp, "s.sock")))
            r = run_binary([env("TWOTIER_ADMIN_BIN"), "-c", self.conf, "migrate"], env_extra=DRIFT_ENV)
            self.assertNotEqual(r.returncode, 0)
            self.assertRegex(r.stderr, r"statement audit_\w+ .*client_addr")
        finally:
            root_sql("ALTER TABLE audit_events RENAME COLUMN client_address TO client_addr",
                     database=DRIFT_DB)

    def test_dropped_table_stops_the_start(self):
        root_sql("RENAME TABLE api_tokens TO api_tokens_old", database=DRIFT_DB)
        try:
            r = run_binary([env("TWOTIER_FCGI_BIN"), "-c", self.conf], timeout=30, env_extra=DRIFT_ENV)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("api_token", r.stderr)
        finally:
            root_sql("RENAME TABLE api_tokens_old TO api_tokens", database=DRIFT_DB)


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
            self.assertEqual(sql_value("SELECT COUNT(*) FROM tenants WHERE domain = %s",
                                       (body["domain"],)), "0")
        finally:
            with open(conf, "w") as f:
                f.write(original)
            stack("fcgi-stop")
            stack("fcgi-start")
            wait_ready()
        self.assertEqual(api("POST", "/v1/tenants", body=signup_body()).status, 202)
