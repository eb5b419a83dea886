"""A small FastCGI client (Python 3 stdlib), to talk to twotier-fcgi's
socket the way nginx does, with connections kept open between requests
(FCGI_KEEP_CONN) or not."""

import socket
import struct

VERSION = 1
BEGIN_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT, STDERR = 1, 3, 4, 5, 6, 7
RESPONDER = 1
KEEP_CONN = 1


def _record(rtype, content, request_id=1):
    pad = (8 - len(content) % 8) % 8
    return struct.pack("!BBHHBB", VERSION, rtype, request_id, len(content), pad, 0) + \
        content + b"\0" * pad


def _length(n):
    return struct.pack("!B", n) if n < 128 else struct.pack("!I", n | 0x80000000)


def _params(pairs):
    out = b""
    for name, value in pairs.items():
        name, value = name.encode(), value.encode()
        out += _length(len(name)) + _length(len(value)) + name + value
    return out


class Connection:
    """One FastCGI connection to a unix socket."""

    def __init__(self, path, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""

    def close(self):
        self.sock.close()

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def request(self, method="GET", uri="/healthz", body=b"", keep=True, headers=None):
        """Sends one request; returns (status, headers dict, body bytes)."""
        params = {"REQUEST_METHOD": method, "REQUEST_URI": uri,
                  "QUERY_STRING": uri.partition("?")[2], "REMOTE_ADDR": "127.0.0.1",
                  "CONTENT_LENGTH": str(len(body)) if body else ""}
        params.update(headers or {})
        flags = KEEP_CONN if keep else 0
        data = _record(BEGIN_REQUEST, struct.pack("!HB5x", RESPONDER, flags))
        data += _record(PARAMS, _params(params)) + _record(PARAMS, b"")
        if body:
            data += _record(STDIN, body)
        data += _record(STDIN, b"")
        self.sock.sendall(data)
        out = b""
        while True:
            _, rtype, _, length, pad, _ = struct.unpack("!BBHHBB", self._read(8))
            content = self._read(length)
            self._read(pad)
            if rtype == STDOUT:
                out += content
            elif rtype == END_REQUEST:
                break
        head, _, payload = out.partition(b"\r\n\r\n")
        hdrs = {}
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            hdrs[name.strip().lower()] = value.strip()
        status = int(hdrs.get("status", "200").split()[0])
        return status, hdrs, payload
