"""What Galera asks of an application (MariaDB's "Galera Cluster Known
Limitations"), checked on the schema the migrations make and on the code:
InnoDB tables only, each with a primary key (a row without one cannot be
replicated in order), and no statement Galera does not replicate or whose
lock stays on one node (LOCK TABLES, GET_LOCK, XA)."""
import os
import re
import unittest

from harness import env, sql


class TestGaleraRules(unittest.TestCase):

    def test_every_table_is_innodb_with_a_primary_key(self):
        rows = sql("SELECT t.table_name, t.engine, c.constraint_name "
                   "FROM information_schema.tables t LEFT JOIN "
                   "information_schema.table_constraints c ON c.table_schema = t.table_schema "
                   "AND c.table_name = t.table_name AND c.constraint_type = 'PRIMARY KEY' "
                   "WHERE t.table_schema = DATABASE() AND t.table_type = 'BASE TABLE'")
        self.assertGreater(len(rows), 20)
        self.assertEqual([r[0] for r in rows if r[1] != "InnoDB"], [])
        self.assertEqual([r[0] for r in rows if r[2] is None], [])

    def test_no_statement_galera_does_not_replicate(self):
        # statements, not words in a comment: a lock call, LOCK TABLES t
        forbidden = re.compile(r"\b(LOCK\s+TABLES?\s+\w|GET_LOCK\s*\(|RELEASE_LOCK\s*\(|"
                               r"XA\s+(START|BEGIN)\b|ENGINE\s*=\s*(MyISAM|Aria|MEMORY)\b)", re.I)
        found = []
        repo = env("TWOTIER_REPO")
        for folder in ("lib", "fcgi", "sql"):
            for root, _, files in os.walk(os.path.join(repo, folder)):
                for name in files:
                    if name.endswith((".c", ".h", ".sql")):
                        with open(os.path.join(root, name), errors="replace") as f:
                            for n, line in enumerate(f, 1):
                                if forbidden.search(line):
                                    found.append("%s:%d: %s" % (name, n, line.strip()))
        self.assertEqual(found, [])
