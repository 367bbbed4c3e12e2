#!/usr/bin/env python3
"""Hostile TLS servers for tests/cli/tls_hostile.sh (not a test itself).

usage: tls_hostile_server.py MODE[=PORT] ...   (127.0.0.1 only; no PORT or 0:
a free one)

Prints "MODE PORT" for each, then "ready" once every port listens, and
serves until killed. Each
connection reads one ClientHello record and answers as MODE says:

  drip       a valid ServerHello, one byte a second
  endless    warning alerts (unrecognized_name) as fast as the client reads
  oversized  a handshake record header claiming 65535 bytes (limit 2^14+2048)
  giant      a ServerHello message claiming 16 MiB - 1
  zerolen    zero-length handshake records, without end
  garbage    a valid ServerHello, then bytes that are no TLS record
  nullsuite  a ServerHello choosing TLS_NULL_WITH_NULL_NULL whenever it is
             offered (else the first suite offered): it accepts everything
  unoffered  a ServerHello choosing a suite the hello did not offer
  silence    reads the hello, never answers
  reset      reads the hello, then resets the connection (RST)
"""
import os
import socket
import struct
import sys
import threading
import time


def read_hello(c):
    """The ClientHello record: (versions offered, suites offered)."""
    c.settimeout(5)
    buf = b""
    while len(buf) < 5:
        d = c.recv(5 - len(buf))
        if not d:
            return None
        buf += d
    n = struct.unpack(">H", buf[3:5])[0]
    body = b""
    while len(body) < n:
        d = c.recv(n - len(body))
        if not d:
            return None
        body += d
    # handshake header (4), legacy_version (2), random (32), session id
    i = 4
    legacy = struct.unpack(">H", body[i:i + 2])[0]
    i += 2 + 32
    i += 1 + body[i]
    sl = struct.unpack(">H", body[i:i + 2])[0]
    suites = [struct.unpack(">H", body[i + 2 + k:i + 4 + k])[0] for k in range(0, sl, 2)]
    i += 2 + sl
    i += 1 + body[i]
    versions = [legacy]
    if i + 2 <= len(body):
        end = i + 2 + struct.unpack(">H", body[i:i + 2])[0]
        i += 2
        while i + 4 <= end:
            t, l = struct.unpack(">HH", body[i:i + 4])
            if t == 0x002B:  # supported_versions
                versions = [struct.unpack(">H", body[i + 5 + k:i + 7 + k])[0] for k in range(0, body[i + 4], 2)]
            i += 4 + l
    return versions, suites


def server_hello(versions, suite):
    """A ServerHello record for the highest version offered."""
    v = max(versions)
    if v == 0x0304:
        exts = struct.pack(">HHH", 0x002B, 2, 0x0304)
        exts += struct.pack(">HHHH", 0x0033, 36, 0x001D, 32) + os.urandom(32)
        legacy = 0x0303
        sid = b"\x20" + os.urandom(32)
    else:
        exts = b""
        legacy = v
        sid = b"\x00"
    body = struct.pack(">H", legacy) + os.urandom(32) + sid + struct.pack(">HB", suite, 0)
    if exts:
        body += struct.pack(">H", len(exts)) + exts
    msg = b"\x02" + struct.pack(">I", len(body))[1:] + body
    return b"\x16\x03\x03" + struct.pack(">H", len(msg)) + msg


def serve(c, mode):
    try:
        h = read_hello(c)
        if h is None:
            return
        versions, suites = h
        if mode == "silence":
            c.settimeout(120)
            while c.recv(4096):
                pass
        elif mode == "reset":
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        elif mode == "drip":
            for b in server_hello(versions, suites[0]):
                c.sendall(bytes([b]))
                time.sleep(1)
        elif mode == "endless":
            alerts = b"\x15\x03\x03\x00\x02\x01\x70" * 1024
            while True:
                c.sendall(alerts)
        elif mode == "oversized":
            c.sendall(b"\x16\x03\x03\xff\xff" + b"\x02" * 4096)
        elif mode == "giant":
            c.sendall(b"\x16\x03\x03\x40\x00" + b"\x02\xff\xff\xff" + os.urandom(0x4000 - 4))
        elif mode == "zerolen":
            empty = b"\x16\x03\x03\x00\x00" * 1024
            while True:
                c.sendall(empty)
        elif mode == "garbage":
            c.sendall(server_hello(versions, suites[0]) + b"\xde\xad\xbe\xef" * 64)
        elif mode == "nullsuite":
            c.sendall(server_hello(versions, 0x0000 if 0x0000 in suites else suites[0]))
        elif mode == "unoffered":
            pick = next(s for s in (0x1301, 0xC02F, 0x002F) if s not in suites)
            c.sendall(server_hello(versions, pick))
        time.sleep(0.2)
    except OSError:
        pass
    finally:
        c.close()


def listen(mode, port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(64)
    return s


def accept_loop(s, mode):
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c, mode), daemon=True).start()


def main():
    socks = []
    for arg in sys.argv[1:]:
        mode, _, port = arg.partition("=")
        s = listen(mode, int(port or 0))
        socks.append((s, mode))
        print(mode, s.getsockname()[1], flush=True)
    for s, mode in socks:
        threading.Thread(target=accept_loop, args=(s, mode), daemon=True).start()
    print("ready", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
