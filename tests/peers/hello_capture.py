#!/usr/bin/env python3
"""Listen on 127.0.0.1:PORT for one connection, read the ClientHello record a
client sends, print what it offers as JSON (suites, versions, groups, key
shares, SNI), and close. Touches READY_FILE once listening. For comparing a
library's default client with its profile (tests/peers/tls_libclients.sh)."""
import json
import socket
import struct
import sys

port, ready = int(sys.argv[1]), sys.argv[2]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(1)
srv.settimeout(10)
open(ready, "w").close()
conn, _ = srv.accept()
conn.settimeout(5)
buf = b""
while len(buf) < 5 or len(buf) < 5 + struct.unpack(">H", buf[3:5])[0]:
    chunk = conn.recv(65536)
    if not chunk:
        break
    buf += chunk
conn.close()
h = buf[5:]
p = 4 + 2 + 32
p += 1 + h[p]
n = struct.unpack(">H", h[p:p + 2])[0]
p += 2
suites = [struct.unpack(">H", h[p + i:p + i + 2])[0] for i in range(0, n, 2)]
p += n
p += 1 + h[p]
end = p + 2 + struct.unpack(">H", h[p:p + 2])[0]
p += 2
ext = {}
while p + 4 <= end:
    t, ln = struct.unpack(">HH", h[p:p + 4])
    ext[t] = h[p + 4:p + 4 + ln]
    p += 4 + ln
out = {"hello_version": h[4:6].hex(), "suites": suites, "extensions": sorted(ext)}
if 10 in ext:
    g = ext[10]
    out["groups"] = [struct.unpack(">H", g[2 + i:4 + i])[0] for i in range(0, struct.unpack(">H", g[:2])[0], 2)]
if 43 in ext:
    v = ext[43]
    out["versions"] = [v[1 + i:3 + i].hex() for i in range(0, v[0], 2)]
if 51 in ext:
    v, q, shares = ext[51], 2, []
    while q + 4 <= len(v):
        g, ln = struct.unpack(">HH", v[q:q + 4])
        shares.append(g)
        q += 4 + ln
    out["key_share"] = shares
if 0 in ext:
    out["sni"] = ext[0][5:].decode("ascii", "replace")
print(json.dumps(out))
