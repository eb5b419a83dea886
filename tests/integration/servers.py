"""Web servers in front of twotier-fcgi, configured from the shipped
snippets, for test_servers.py and scripts/bench: Debian's apache2
(apache/twotier.conf), lighttpd (lighttpd/twotier.conf) and an nginx of
their own (nginx/twotier.conf, or the build's nginx/twotier-api.conf for
the API below /api/).  Each is started in the foreground as root, its
workers www-data (the stack gives its socket that group), with its
configuration and logs in a folder of its own, on loopback ports, and
stopped by its pid.

A front end is (port, socket, mount): the server listens on 127.0.0.1:PORT
and passes the API, at MOUNT ("/" or "/api/"), to the service on SOCKET."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import harness

APACHE_MODULES = ("mpm_event", "authz_core", "authz_host", "mime", "proxy", "proxy_fcgi",
                  "headers", "rewrite", "unique_id", "reqtimeout")


def snippet_copy(folder, name, source, replace=()):
    """A copy of the snippet SOURCE in FOLDER as NAME that serves the
    console from the repository's console/ (as scripts/stack does nginx's,
    and make the installed folder), with each (old, new) of REPLACE too."""
    with open(source) as f:
        text = re.sub(r"/[^\s\"';]*/twotier/console", os.path.join(harness.repo(), "console"),
                      f.read())
    for old, new in replace:
        text = text.replace(old, new)
    path = os.path.join(folder, name)
    with open(path, "w") as out:
        out.write(text)
    return path


def apache_conf(folder, fronts):
    """A whole apache2 configuration: what Debian's apache2.conf and the
    a2enmod of the snippet's modules give, then a VirtualHost a front end,
    each including the snippet (a Define holds for what follows it, so
    each defines both)."""
    lines = ["ServerName localhost", "ServerRoot " + folder, "PidFile %s/apache.pid" % folder,
             "DefaultRuntimeDir " + folder, "ErrorLog %s/apache-error.log" % folder,
             "User www-data", "Group www-data", "StartServers 1",
             # what Debian's mime.conf gives
             "TypesConfig /etc/mime.types",
             'LogFormat "%h \\"%r\\" %>s %{X-Request-Id}o" twotier',
             "CustomLog %s/apache-access.log twotier" % folder]
    lines += ["LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so" % (m, m)
              for m in APACHE_MODULES]
    snippet = snippet_copy(folder, "apache-twotier.conf",
                           os.path.join(harness.repo(), "apache", "twotier.conf"))
    for port, sock, mount in fronts:
        lines += ["Listen 127.0.0.1:%d" % port, "<VirtualHost 127.0.0.1:%d>" % port,
                  "    Define TWOTIER_SOCKET " + sock, "    Define TWOTIER_MOUNT " + mount,
                  "    Include " + snippet,
                  "</VirtualHost>"]
    return "\n".join(lines) + "\n"


def lighttpd_conf(folder, name, port, sock, mount):
    """A whole lighttpd configuration for one front end (lighttpd sets its
    limits for the whole server): what Debian's lighttpd.conf gives (its
    MIME types), then the snippet."""
    here = os.path.join(harness.repo(), "lighttpd")
    return "\n".join([
        'server.document-root = "%s"' % folder, 'server.bind = "127.0.0.1"',
        "server.port = %d" % port,
        'server.username = "www-data"', 'server.groupname = "www-data"',
        'server.pid-file = "%s/%s.pid"' % (folder, name),
        'server.errorlog = "%s/%s-error.log"' % (folder, name),
        'include_shell "/usr/share/lighttpd/create-mime.conf.pl"',
        'var.twotier_socket = "%s"' % sock, 'var.twotier_mount = "%s"' % mount,
        'var.twotier_dir = "%s"' % here,
        'include "%s"' % snippet_copy(folder, name + "-twotier.conf",
                                      os.path.join(here, "twotier.conf")),
        ""])


def nginx_conf(folder, fronts):
    """An nginx configuration like the stack's, a server a front end, each
    including a copy of the snippet for its mount that names an upstream
    of its own (and the repository's console/)."""
    servers = ""
    for i, (port, sock, mount) in enumerate(fronts):
        snippet = (os.path.join(harness.env("TWOTIER_BUILD_DIR"), "nginx", "twotier-api.conf")
                   if mount == "/api/" else os.path.join(harness.repo(), "nginx", "twotier.conf"))
        copy = snippet_copy(folder, "nginx-%d.conf" % i, snippet,
                            [("twotier_backend", "twotier_%d" % i)])
        servers += """
    upstream twotier_%d { server unix:%s; keepalive 32; }
    server {
        listen 127.0.0.1:%d;
        include %s;
    }""" % (i, sock, port, copy)
    return """user www-data www-data;
worker_processes 1;
pid %(folder)s/nginx.pid;
error_log %(folder)s/nginx-error.log;
daemon off;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path %(folder)s/tmp;
    fastcgi_temp_path %(folder)s/tmp;
    limit_req_zone $binary_remote_addr zone=twotier_signin:10m rate=100r/s;
    limit_req_zone $binary_remote_addr zone=twotier_signup:10m rate=50r/s;
    limit_conn_zone $binary_remote_addr zone=twotier_addr:10m;
%(servers)s
}
""" % {"folder": folder, "servers": servers}


class Servers:
    """Processes started in a folder of their own under PARENT, owned by
    www-data (lighttpd opens its error log after it became www-data, and
    the workers reach the sockets made there), stopped by their pids."""

    def __init__(self, parent):
        self.folder = tempfile.mkdtemp(prefix="servers-", dir=parent)
        os.chmod(self.folder, 0o755)
        shutil.chown(self.folder, "www-data", "www-data")
        self.procs = []

    def path(self, name):
        return os.path.join(self.folder, name)

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def start(self, name, args):
        """Starts ARGS, its output in NAME.out; returns its Popen."""
        with open(self.path(name + ".out"), "w") as out:
            p = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL)
        self.procs.append((name, p))
        return p

    def apache(self, fronts):
        return self.start("apache2", ["apache2", "-f", self.write(
            "apache.conf", apache_conf(self.folder, fronts)), "-DFOREGROUND"])

    def lighttpd(self, name, port, sock, mount):
        return self.start(name, ["lighttpd", "-D", "-f", self.write(
            name + ".conf", lighttpd_conf(self.folder, name, port, sock, mount))])

    def nginx(self, fronts):
        os.makedirs(self.path("tmp"), exist_ok=True)
        return self.start("nginx", ["nginx", "-p", self.folder + "/", "-c", self.write(
            "nginx.conf", nginx_conf(self.folder, fronts))])

    def wait(self, url, timeout=30):
        """Until URL answers 200 (raises with the logs if a process
        exits, or after TIMEOUT seconds)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            for name, p in self.procs:
                if p.poll() is not None:
                    raise AssertionError("%s exited: %s" % (name, self.logs()))
            try:
                last = harness.api("GET", "", base=url, timeout=5)
                if last.status == 200:
                    return
            except OSError as e:  # requests' errors are OSErrors
                last = e
            time.sleep(0.1)
        raise AssertionError("%s: %r; %s" % (url, last, self.logs()))

    def logs(self):
        out = []
        for name in sorted(os.listdir(self.folder)):
            if name.endswith((".out", ".log")):
                with open(self.path(name), errors="replace") as f:
                    out.append("--- %s\n%s" % (name, f.read()[-2000:]))
        return "\n".join(out)

    def stop(self):
        for _, p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for _, p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(self.folder, ignore_errors=True)
