#!/usr/bin/env python3
"""Test middleboxes for tests/peers/tls_middlebox.sh: TCP proxies to a TLS
server that look at the first record of each connection. One port per mode,
printed as 'MODE PORT' lines, then 'ready'. Modes:
  reset-sni:NAME   reset (RST) a connection whose ClientHello carries NAME
  stall-big        hold a connection whose first record is over 512 bytes
                   (read it, forward nothing, answer nothing)
  alert-alpn       answer a hello that offers ALPN with a fatal
                   handshake_failure alert (15 03 03 00 02 02 28), as a
                   filtering box would, and close
usage: tls_middlebox_proxy.py UPSTREAM_PORT MODE...
"""
import socket, struct, sys, threading

up_port = int(sys.argv[1])
modes = sys.argv[2:]

def read_record(c):
    buf = b""
    while len(buf) < 5:
        d = c.recv(5 - len(buf))
        if not d:
            return buf
        buf += d
    n = struct.unpack(">H", buf[3:5])[0]
    while len(buf) < 5 + n:
        d = c.recv(5 + n - len(buf))
        if not d:
            break
        buf += d
    return buf

def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except Exception:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except Exception:
                pass

def handle(mode, c):
    c.settimeout(30)
    try:
        first = read_record(c)
        if mode.startswith("reset-sni:") and mode.split(":", 1)[1].encode() in first:
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()
            return
        if mode == "stall-big" and len(first) > 512:
            c.recv(65536)  # hold until the client gives up
            c.close()
            return
        # ALPN extension type 0x0010 followed by a length: a crude but
        # sufficient look for our own hellos
        if mode == "alert-alpn" and b"h2" in first and b"http/1.1" in first:
            c.sendall(bytes.fromhex("15030300020228"))
            c.close()
            return
        u = socket.create_connection(("127.0.0.1", up_port), 5)
        u.sendall(first)
        threading.Thread(target=pipe, args=(u, c), daemon=True).start()
        pipe(c, u)
    except Exception:
        try:
            c.close()
        except Exception:
            pass

def listener(mode):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    def loop():
        while True:
            c, _ = s.accept()
            threading.Thread(target=handle, args=(mode, c), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
    return s.getsockname()[1]

for m in modes:
    print(m, listener(m), flush=True)
print("ready", flush=True)
threading.Event().wait()
