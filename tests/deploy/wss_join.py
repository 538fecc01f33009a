#!/usr/bin/env python3
"""A minimal WebSocket client for the image test (Python 3 standard library only).

Opens a meeting link the way the web client does: TLS to the link's host and port (the
certificate is not verified: the test's server has a self-signed one), an HTTP/1.1 upgrade on
/ws, then {"type": "join", "meeting": ID, "token": TOKEN, "name": NAME}. Prints every message it
receives as one JSON line to stdout.

  wss_join.py LINK                 exit 0 when a "welcome" arrives, 1 on "error" or close
  wss_join.py --hold SECONDS LINK  after the welcome, stay in the meeting and print what arrives;
                                   exit 0 when the server closes the connection (prints the close
                                   code), 3 if it is still open after SECONDS

LINK is https://HOST[:PORT]/m/MEETING#t=TOKEN (as POST /api/meetings returns it). With
--connect HOST:PORT the TCP connection goes there instead of the link's host.
"""

import argparse
import base64
import json
import os
import socket
import ssl
import struct
import sys
import time
import urllib.parse


def ws_frame(payload, opcode=1):
    """A masked client frame (RFC 6455 section 5.2)."""
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class Conn:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def fill(self, deadline):
        """Appends what the socket has to the buffer (waiting until the deadline)."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError from None
        if not chunk:
            raise ConnectionError("connection closed without a close frame")
        self.buf += chunk

    def need(self, n, deadline):
        while len(self.buf) < n:
            self.fill(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def frame(self, deadline):
        """(opcode, payload) of the next whole message; control frames are returned as they come."""
        b0, b1 = self.need(2, deadline)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self.need(2, deadline))[0]
        elif n == 127:
            n = struct.unpack("!Q", self.need(8, deadline))[0]
        mask = self.need(4, deadline) if b1 & 0x80 else None
        data = self.need(n, deadline)
        if mask:
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        return b0 & 0x0F, data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("link")
    ap.add_argument("--name", default="image-test")
    ap.add_argument("--connect", help="HOST:PORT to connect to instead of the link's host")
    ap.add_argument("--hold", type=float, default=0.0)
    ap.add_argument("--timeout", type=float, default=10.0)
    a = ap.parse_args()

    u = urllib.parse.urlsplit(a.link)
    meeting = u.path.rsplit("/", 1)[-1]
    token = urllib.parse.parse_qs(u.fragment).get("t", [""])[0]
    host, port = u.hostname, u.port or 443
    if a.connect:
        host, _, p = a.connect.rpartition(":")
        port = int(p)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    raw = socket.create_connection((host.strip("[]"), port), timeout=a.timeout)
    sock = ctx.wrap_socket(raw, server_hostname=u.hostname)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /ws HTTP/1.1\r\nHost: {u.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    c = Conn(sock)
    deadline = time.monotonic() + a.timeout
    while b"\r\n\r\n" not in c.buf:
        c.fill(deadline)
    head, _, c.buf = c.buf.partition(b"\r\n\r\n")
    status = head.split(b"\r\n")[0].decode(errors="replace")
    if " 101 " not in status + " ":
        print(json.dumps({"upgrade": status}))
        return 1
    sock.sendall(ws_frame(json.dumps({"type": "join", "meeting": meeting, "token": token, "name": a.name}).encode()))

    welcomed = False
    deadline = time.monotonic() + a.timeout
    while True:
        try:
            op, data = c.frame(deadline)
        except TimeoutError:
            if welcomed:
                print(json.dumps({"still-open-after": a.hold}))
                return 3
            print(json.dumps({"timeout": "no welcome"}))
            return 1
        except ConnectionError as e:
            print(json.dumps({"closed": str(e)}))
            return 0 if welcomed and a.hold else 1
        if op == 8:
            code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None
            print(json.dumps({"close": code, "reason": data[2:].decode(errors="replace")}))
            return 0 if welcomed and a.hold else 1
        if op == 9:
            sock.sendall(ws_frame(data, opcode=10))
            continue
        if op != 1:
            continue
        msg = json.loads(data)
        print(json.dumps(msg), flush=True)
        if msg.get("type") == "error":
            return 1
        if msg.get("type") == "welcome" and not welcomed:
            welcomed = True
            if not a.hold:
                return 0
            deadline = time.monotonic() + a.hold


if __name__ == "__main__":
    sys.exit(main())
