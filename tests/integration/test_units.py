"""The systemd units as `make install` installs them: twotier.socket (systemd
listens and hands the socket over: test_sockets.py tests the protocol),
twotier.service (Type=notify, a system user, hardened) and the sysusers.d
entry; `systemd-analyze verify` finds nothing, and `systemd-analyze security`
rates the service's exposure OK (the README gives the figure)."""
import os
import re
import subprocess
import tempfile
import unittest

import pytest

from harness import env

# systemd-analyze security: 0-2 "OK", up to 5 "MEDIUM", then "EXPOSED", "UNSAFE"
EXPOSURE_AT_MOST = 2.0


@pytest.fixture(scope="class")
def installed():
    """`make install DESTDIR=...` of the stack's build: (destdir, the units'
    folder, prefix)."""
    build = env("TWOTIER_BUILD_DIR")
    with tempfile.TemporaryDirectory() as dest:
        r = subprocess.run(["make", "-C", build, "install", "DESTDIR=" + dest],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, timeout=300)
        assert r.returncode == 0, r.stdout[-3000:]
        with open(os.path.join(build, "Makefile")) as f:
            prefix = re.search(r"^prefix = (.*)$", f.read(), re.M).group(1)
        yield dest, os.path.join(dest + prefix, "lib", "systemd", "system"), prefix


def analyze(*args):
    return subprocess.run(["systemd-analyze"] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=60)


class TestUnits(unittest.TestCase):

    @pytest.fixture(autouse=True)
    def _installed(self, installed):
        self.dest, self.units, self.prefix = installed

    def unit(self, name):
        with open(os.path.join(self.units, name)) as f:
            return f.read()

    def test_the_units_name_the_installed_paths(self):
        service = self.unit("twotier.service")
        self.assertIn("ExecStart=%s/sbin/twotier-fcgi -c %s/etc/twotier/twotier.conf"
                      % (self.prefix, self.prefix), service)
        self.assertNotRegex(service, r"@[a-z]+@")  # every placeholder filled
        self.assertTrue(os.access(self.dest + self.prefix + "/sbin/twotier-fcgi", os.X_OK))
        self.assertIn("ListenStream=/run/twotier/twotier.sock", self.unit("twotier.socket"))
        with open(os.path.join(self.dest + self.prefix, "lib", "sysusers.d", "twotier.conf")) as f:
            self.assertRegex(f.read(), r"(?m)^u twotier - ")

    def test_systemd_analyze_verify_finds_nothing(self):
        # the host's systemd checks them as installed, the binary at the
        # place the unit names (here inside DESTDIR)
        with tempfile.TemporaryDirectory() as tmp:
            for name in ("twotier.service", "twotier.socket"):
                with open(os.path.join(tmp, name), "w") as f:
                    f.write(self.unit(name).replace("ExecStart=" + self.prefix,
                                                    "ExecStart=" + self.dest + self.prefix))
            r = analyze("verify", "--man=no", os.path.join(tmp, "twotier.service"),
                        os.path.join(tmp, "twotier.socket"))
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""))

    def test_the_service_exposure_is_ok(self):
        r = analyze("security", "--offline=yes", "--root=" + self.dest,
                    os.path.join(self.units, "twotier.service"))
        m = re.search(r"Overall exposure level for twotier\.service: ([\d.]+)", r.stdout)
        self.assertIsNotNone(m, r.stdout + r.stderr)
        self.assertLessEqual(float(m.group(1)), EXPOSURE_AT_MOST, r.stdout)
