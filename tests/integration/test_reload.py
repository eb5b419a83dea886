"""SIGHUP: the service reads its configuration and its keys again without
dropping a request.  The signing key is rotated (the previous one kept in
jwt_verify_keys verifies the tokens it signed, and both are published in
the JWKS); a bad file, or one that changes what only a restart changes,
is refused with the settings in force kept.  Each test runs a second
twotier-fcgi of its own (the stack's database, its own keys, made here),
spoken to over FastCGI as a web server does."""
import base64
import json
import os
import signal
import subprocess
import threading
import time
import unittest

import pytest

from fastcgi import Connection
from harness import env, new_tenant, signup_body
from test_sockets import fcgi_get, fcgi_request, folder, log_text, started, stop  # noqa: F401


def make_key(tmp, name):
    """An ES256 key pair made now: (private path, public path)."""
    private, public = os.path.join(tmp, name + ".pem"), os.path.join(tmp, name + ".pub.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-out", private], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["openssl", "pkey", "-in", private, "-pubout", "-out", public], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return private, public


def kid_of(token):
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))["kid"]


class TestReload(unittest.TestCase):

    @pytest.fixture(autouse=True)
    def _folder(self, folder):
        self.tmp, conf, self.own = folder
        with open(conf) as f:
            self.base = [l for l in f.read().splitlines()
                         if not l.startswith(("jwt_private_key", "jwt_public_key"))]
        self.conf = conf
        self.k1 = make_key(self.tmp, "k1")
        self.k2 = make_key(self.tmp, "k2")
        self.configure(self.k1)
        self.log = os.path.join(self.tmp, "fcgi.log")
        with open(self.log, "w") as log:
            # the keys are the file's: the suite's environment names the stack's
            own_env = {k: v for k, v in os.environ.items()
                       if not k.startswith("TWOTIER_JWT_")}
            self.proc = started([env("TWOTIER_FCGI_BIN"), "-c", self.conf], log,
                                stdin=subprocess.DEVNULL, env=own_env)
        deadline = time.monotonic() + 30
        while not os.path.exists(self.own):
            self.assertIsNone(self.proc.poll(), log_text(self.log))
            self.assertLess(time.monotonic(), deadline, log_text(self.log))
            time.sleep(0.05)
        self.tenant = new_tenant()  # through the stack's nginx: the same database
        yield
        self.assertEqual(stop(self.proc), 0, log_text(self.log))

    def configure(self, signing, *verifying, extra=()):
        lines = self.base + ["jwt_private_key = " + signing[0],
                             "jwt_public_key = " + signing[1]]
        if verifying:
            lines.append("jwt_verify_keys = " + ", ".join(k[1] for k in verifying))
        with open(self.conf, "w") as f:
            f.write("\n".join(lines + list(extra)) + "\n")

    def hup(self, expect):
        """SIGHUP, then wait for the log line that says EXPECT ("reloaded"
        or "reload refused"); returns it."""
        n = log_text(self.log).count(expect)
        self.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while log_text(self.log).count(expect) == n:
            self.assertLess(time.monotonic(), deadline, log_text(self.log))
            time.sleep(0.02)
        return [l for l in log_text(self.log).splitlines() if expect in l][-1]

    def sign_in(self):
        body = json.dumps({"username": self.tenant.email, "password": self.tenant.password})
        status, _, text = fcgi_request(self.own, "POST", "/v1/auth/token", body)
        self.assertEqual(status, 200, text)
        return json.loads(text)["accessToken"]

    def me(self, token):
        status, _, text = fcgi_request(self.own, "GET", "/v1/me",
                                       headers={"HTTP_AUTHORIZATION": "Bearer " + token})
        return status, text

    def kids(self):
        status, body = fcgi_get(self.own, "/.well-known/jwks.json")
        self.assertEqual(status, 200, body)
        return [k["kid"] for k in json.loads(body)["keys"]]

    def test_rotation_keeps_the_old_tokens_until_the_old_key_goes(self):
        old = self.sign_in()
        (k1,) = self.kids()
        self.assertEqual(kid_of(old), k1)

        # the new key signs; the old one verifies what it signed
        self.configure(self.k2, self.k1)
        self.assertIn("1 more verify", self.hup("reloaded"))
        kids = self.kids()
        self.assertEqual(len(kids), 2)
        self.assertEqual(kids[1], k1)
        new = self.sign_in()
        self.assertEqual(kid_of(new), kids[0])
        self.assertNotEqual(kids[0], k1)
        for token in (old, new):
            self.assertEqual(self.me(token)[0], 200)

        # once the old tokens have expired, the old key goes
        self.configure(self.k2)
        self.hup("reloaded")
        self.assertEqual(self.kids(), kids[:1])
        status, text = self.me(old)
        self.assertEqual(status, 401, text)
        self.assertIn("signature is invalid", json.loads(text)["detail"])
        self.assertEqual(self.me(new)[0], 200)

    def test_a_bad_file_is_refused_and_the_settings_in_force_stay(self):
        token = self.sign_in()
        kids = self.kids()
        cases = [
            (["no_such_key = 1"], "unknown key 'no_such_key'"),
            (["jwt_ttl = 5"], "jwt_ttl: integer out of range"),
            (["threads = 7"], "threads changed, which takes a restart"),
            (["listen = unix:/tmp/elsewhere.sock"], "listen changed, which takes a restart"),
        ]
        for extra, why in cases:
            self.configure(self.k2, self.k1, extra=extra)
            line = self.hup("reload refused")
            self.assertIn(why, line)
        # a key that is not there, or one that is not a public key
        self.configure(self.k2, (None, os.path.join(self.tmp, "missing.pub.pem")))
        self.assertIn("missing.pub.pem", self.hup("reload refused"))
        self.configure(self.k2, (None, self.conf))
        self.assertIn("jwt_verify_keys", self.hup("reload refused"))
        # the signing key itself listed to verify
        self.configure(self.k2, self.k2)
        self.assertIn("is the signing key", self.hup("reload refused"))
        self.assertEqual(self.kids(), kids)
        self.assertEqual(self.me(token)[0], 200)
        self.assertEqual(kid_of(self.sign_in()), kids[0])

    def test_reloadable_keys_take_effect(self):
        self.configure(self.k1, extra=["signup_open = false", "jwt_ttl = 120"])
        self.hup("reloaded")
        status, _, text = fcgi_request(self.own, "POST", "/v1/tenants", json.dumps(signup_body()))
        self.assertEqual(status, 403, text)
        self.assertIn("sign-up is closed", json.loads(text)["detail"])
        body = json.dumps({"username": self.tenant.email, "password": self.tenant.password})
        status, _, text = fcgi_request(self.own, "POST", "/v1/auth/token", body)
        self.assertEqual((status, json.loads(text)["expiresIn"]), (200, 120))

    def test_the_platform_requires_a_second_factor(self):
        """mfa_required: every tenant's admins set one up before anything
        else; it needs mfa_key, and a bad key file is refused."""
        token = self.sign_in()
        auth = {"HTTP_AUTHORIZATION": "Bearer " + token}
        self.assertEqual(fcgi_request(self.own, "GET", "/v1/users", headers=auth)[0], 200)
        self.configure(self.k1, extra=["mfa_required = true"])
        self.hup("reloaded")
        status, _, text = fcgi_request(self.own, "GET", "/v1/users", headers=auth)
        self.assertEqual((status, json.loads(text).get("code")), (403, "mfa_setup_required"),
                         text)
        status, _, text = fcgi_request(self.own, "GET", "/v1/security-policy", headers=auth)
        self.assertEqual(status, 403, text)
        status, _, text = fcgi_request(self.own, "GET", "/v1/me/mfa", headers=auth)
        self.assertEqual(status, 200, text)
        self.assertEqual({k: json.loads(text)[k] for k in ("required", "requiredByPlatform")},
                         {"required": True, "requiredByPlatform": True})
        status, _, text = fcgi_request(self.own, "POST", "/v1/me/mfa/totp", headers=auth)
        self.assertEqual(status, 201, text)
        # without a key nothing can be required; a key that is not one
        self.base = [l for l in self.base if not l.startswith("mfa_key")]
        self.configure(self.k1, extra=["mfa_required = true"])
        self.assertIn("mfa_required needs mfa_key", self.hup("reload refused"))
        bad = os.path.join(self.tmp, "bad.key")
        with open(bad, "w") as f:
            f.write("c2hvcnQ=\n")
        self.configure(self.k1, extra=["mfa_key = " + bad])
        self.assertIn("not 32 bytes", self.hup("reload refused"))
        # no key, not required: setting one up says why it cannot
        self.configure(self.k1)
        self.hup("reloaded")
        self.assertEqual(fcgi_request(self.own, "GET", "/v1/users", headers=auth)[0], 200)
        status, _, text = fcgi_request(self.own, "POST", "/v1/me/mfa/totp", headers=auth)
        self.assertEqual((status, json.loads(text).get("code")), (503, "mfa_not_configured"),
                         text)

    def test_rotation_under_load_fails_no_request(self):
        """Readers with tokens of either key and sign-ins run while the
        keys swap roles twenty times; every request succeeds."""
        self.configure(self.k1, self.k2)
        self.hup("reloaded")
        first = self.sign_in()
        self.configure(self.k2, self.k1)
        self.hup("reloaded")
        second = self.sign_in()
        self.assertNotEqual(kid_of(first), kid_of(second))
        stop_at = time.monotonic() + 60
        done = threading.Event()
        failures, counts = [], [0] * 4

        def reader(i):
            c = Connection(self.own, timeout=30)
            try:
                while not done.is_set() and time.monotonic() < stop_at:
                    token = (first, second)[counts[i] % 2]
                    status, _, body = c.request(
                        "GET", "/v1/me", keep=True,
                        headers={"HTTP_AUTHORIZATION": "Bearer " + token})
                    if status != 200:
                        failures.append((status, body[:200]))
                    counts[i] += 1
            finally:
                c.close()

        def signer():
            while not done.is_set() and time.monotonic() < stop_at:
                try:
                    status, text = self.me(self.sign_in())
                    if status != 200:
                        failures.append((status, text[:200]))
                except AssertionError as e:
                    failures.append(("sign-in", str(e)[:200]))
                counts[3] += 1

        threads = [threading.Thread(target=reader, args=(i,)) for i in range(3)]
        threads.append(threading.Thread(target=signer))
        for t in threads:
            t.start()
        try:
            # twenty reloads at least, and on until sign-ins (argon2id, slow
            # on shared cores under the sanitizers) have run among them
            n = 0
            while (n < 20 or counts[3] <= 3) and time.monotonic() < stop_at - 5:
                self.configure(*((self.k1, self.k2) if n % 2 else (self.k2, self.k1)))
                self.hup("reloaded")
                time.sleep(0.1)
                n += 1
        finally:
            done.set()
            for t in threads:
                t.join()
        print("requests during %d reloads: %d reads, %d sign-ins" % (n, sum(counts[:3]),
                                                                     counts[3]))
        self.assertEqual(failures, [])
        self.assertGreater(sum(counts[:3]), 100)
        self.assertGreater(counts[3], 3)
