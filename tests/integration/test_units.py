"""What `make install` installs beside the binaries. The manuals
(twotier-fcgi(8), twotier-admin(8), twotier.conf(5)): mandoc -Tlint finds no
warning, and twotier.conf(5) and the README name every key the
configuration reader knows. The systemd units: twotier.socket (systemd
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


def config_keys():
    """The keys lib/core/config.c reads: its table's names."""
    with open(os.path.join(env("TWOTIER_REPO"), "lib", "core", "config.c")) as f:
        text = f.read()
    table = text[text.index("} keys[] = {"):text.index("};", text.index("} keys[] = {"))]
    return (set(re.findall(r'(?m)^\s+STR(?:C|_RELOADS)?\((\w+)', table)) |
            set(re.findall(r'(?:\{|RELOADS\()"(\w+)", KEY_', table)))


class TestManuals(unittest.TestCase):

    @pytest.fixture(autouse=True)
    def _installed(self, installed):
        self.dest, _, self.prefix = installed
        self.man = os.path.join(self.dest + self.prefix, "share", "man")

    def test_installed_and_lint_clean(self):
        pages = [os.path.join(self.man, "man8", "twotier-fcgi.8"),
                 os.path.join(self.man, "man8", "twotier-admin.8"),
                 os.path.join(self.man, "man5", "twotier.conf.5")]
        r = subprocess.run(["mandoc", "-Tlint", "-W", "warning"] + pages, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True, timeout=60)
        self.assertEqual((r.returncode, r.stdout), (0, ""))

    def test_every_configuration_key_is_documented(self):
        keys = config_keys()
        self.assertGreater(len(keys), 40)
        with open(os.path.join(self.man, "man5", "twotier.conf.5")) as f:
            page = set(re.findall(r"Cm (\w+)", f.read()))
        with open(os.path.join(env("TWOTIER_REPO"), "README.md")) as f:
            readme = set(re.findall(r"^\| `(\w+)`|, `(\w+)`", f.read(), re.M))
        readme = {k for pair in readme for k in pair if k}
        self.assertEqual(keys - page, set())
        self.assertEqual(keys - readme, set())
