#!/usr/bin/env python3
"""Scripted STARTTLS greeters for tests/peers/tls_starttls.sh. One port per
mode, printed as 'MODE PORT' lines, then 'ready'. Modes:
  smtp-ok         EHLO lists STARTTLS, 220 Ready, then a real TLS server (Python ssl)
  smtp-421        greets with '421 4.7.0 mail.example Too many connections, try later'
  smtp-454        EHLO lists STARTTLS, then '454 4.7.0 TLS not available due to local problem'
  smtp-nostarttls EHLO lists no STARTTLS
  smtp-later421   like smtp-ok for the first 2 connections, then greets with 421
  imap-ok         CAPABILITY lists STARTTLS, 'a2 OK Begin TLS', then TLS
  pop3-ok         CAPA lists STLS, '+OK Begin TLS', then TLS
  implicit        TLS at once (a 465-style port): no greeting
  xmpp-ok         stream features list <starttls/>, <proceed/>, then TLS
  xmpp-host       a stream error host-unknown quoting the to= it was sent
  xmpp-nostarttls stream features without <starttls/>
  xmpp-failure    <starttls/> offered, then <failure/>
  ldap-ok         the StartTLS ExtendedRequest (checked byte for byte), success, then TLS
  ldap-unavail    resultCode 52 unavailable "Could not initialize TLS" (slapd without TLS)
  ldap-unknown    resultCode 2 protocolError (a server without StartTLS, RFC 4511 4.12)
  mysql-ok        Handshake v10 with CLIENT_SSL, the 36-byte SSLRequest, then TLS
  mysql-nossl     Handshake v10 without CLIENT_SSL
  mysql-host      ERR 1130 "Host '127.0.0.1' is not allowed to connect to this MySQL server"
  mysql-many      ERR 1040 (08004) "Too many connections"
usage: tls_starttls_server.py CERT KEY MODE...
"""
import re, socket, ssl, struct, sys, threading

cert, key, modes = sys.argv[1], sys.argv[2], sys.argv[3:]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)

def line(f):
    return f.readline(1024)

def tls_wrap(conn):
    try:
        s = ctx.wrap_socket(conn, server_side=True)
        s.recv(1)
        s.close()
    except Exception:
        pass

XMPP_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
LDAP_STARTTLS = b"\x30\x1d\x02\x01\x01\x77\x18\x80\x16" + b"1.3.6.1.4.1.1466.20037"

def read_until(conn, pat, limit=4096):
    buf = b""
    while not re.search(pat, buf) and len(buf) < limit:
        b = conn.recv(1024)
        if not b:
            break
        buf += b
    return buf

def xmpp(mode, conn, w):
    hdr = read_until(conn, rb"<stream:stream[^>]*>|^[^<]")
    if not hdr.startswith(b"<"):
        # a ClientHello: a stream error, as Prosody and ejabberd answer bytes that are no XML
        w("<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
          "<stream:error><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>")
        return
    to = re.search(rb"to='([^']*)'", hdr)
    to = to.group(1).decode() if to else ""
    w("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
      "id='t1' from='%s' version='1.0'>" % (to or "example.org"))
    if mode == "xmpp-host":
        w("<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text "
          "xmlns='urn:ietf:params:xml:ns:xmpp-streams'>This server does not serve %s</text></stream:error></stream:stream>" % to)
        return
    tls = "" if mode == "xmpp-nostarttls" else "<starttls xmlns='%s'><required/></starttls>" % XMPP_TLS
    w("<stream:features>%s<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>"
      "</mechanisms></stream:features>" % tls)
    if mode == "xmpp-nostarttls":
        read_until(conn, rb">")
        return
    if not re.search(rb"<starttls", read_until(conn, rb"/>")):
        return
    if mode == "xmpp-failure":
        w("<failure xmlns='%s'/></stream:stream>" % XMPP_TLS)
        return
    w("<proceed xmlns='%s'/>" % XMPP_TLS)
    return tls_wrap(conn)

def ldap_resp(rc, msg):
    op = bytes([0x0a, 1, rc, 4, 0, 4, len(msg)]) + msg
    body = bytes([2, 1, 1, 0x78, len(op)]) + op
    return bytes([0x30, len(body)]) + body

def ldap(mode, conn):
    req = read_until(conn, re.escape(LDAP_STARTTLS), len(LDAP_STARTTLS))
    if req != LDAP_STARTTLS:
        return
    if mode == "ldap-unavail":
        conn.sendall(ldap_resp(52, b"Could not initialize TLS"))
        return
    if mode == "ldap-unknown":
        conn.sendall(ldap_resp(2, b"unsupported extended operation"))
        return
    conn.sendall(ldap_resp(0, b""))
    return tls_wrap(conn)

def mysql_pkt(seq, p):
    return struct.pack("<I", len(p))[:3] + bytes([seq]) + p

def mysql(mode, conn):
    if mode == "mysql-host":
        conn.sendall(mysql_pkt(0, b"\xff" + struct.pack("<H", 1130) + b"Host '127.0.0.1' is not allowed to connect to this MySQL server"))
        return
    if mode == "mysql-many":
        conn.sendall(mysql_pkt(0, b"\xff" + struct.pack("<H", 1040) + b"#08004Too many connections"))
        return
    caps = 0xf7ff if mode == "mysql-nossl" else 0xffff
    conn.sendall(mysql_pkt(0, b"\x0a8.0.36-test\0" + b"\x01\0\0\0" + b"abcdefgh" + b"\0" + struct.pack("<H", caps)
                           + b"\xff\x02\0\xff\xdf\x15" + b"\0" * 10 + b"ijklmnopqrst\0" + b"caching_sha2_password\0"))
    if mode == "mysql-nossl":
        conn.recv(64)
        return
    req = b""
    while len(req) < 36:
        b = conn.recv(36 - len(req))
        if not b:
            return
        req += b
    # Protocol::SSLRequest: 32 bytes, sequence 1, CLIENT_SSL set
    if req[:4] != b"\x20\0\0\x01" or not struct.unpack("<I", req[4:8])[0] & 0x800:
        return
    return tls_wrap(conn)

def serve(mode, conn, n):
    conn.settimeout(10)
    f = conn.makefile("rb")
    w = lambda s: conn.sendall(s.encode())
    try:
        if mode == "implicit":
            return tls_wrap(conn)
        if mode.startswith("xmpp"):
            return xmpp(mode, conn, w)
        if mode.startswith("ldap"):
            return ldap(mode, conn)
        if mode.startswith("mysql"):
            return mysql(mode, conn)
        if mode.startswith("smtp"):
            if mode == "smtp-421" or (mode == "smtp-later421" and n > 2):
                w("421 4.7.0 mail.example Too many connections, try later\r\n")
                return
            w("220 mail.example ESMTP test\r\n")
            if not line(f).upper().startswith(b"EHLO"):
                return
            w("250-mail.example\r\n250-PIPELINING\r\n" + ("" if mode == "smtp-nostarttls" else "250-STARTTLS\r\n") + "250 8BITMIME\r\n")
            cmd = line(f)
            if not cmd.upper().startswith(b"STARTTLS"):
                w("502 5.5.1 unknown\r\n")
                return
            if mode == "smtp-454":
                w("454 4.7.0 TLS not available due to local problem\r\n")
                return
            w("220 2.0.0 Ready to start TLS\r\n")
            return tls_wrap(conn)
        if mode == "imap-ok":
            w("* OK [CAPABILITY IMAP4rev1 STARTTLS] test ready\r\n")
            t = line(f).split(b" ")[0].decode()
            w("* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n%s OK done\r\n" % t)
            t = line(f).split(b" ")[0].decode()
            w("%s OK Begin TLS negotiation now\r\n" % t)
            return tls_wrap(conn)
        if mode == "pop3-ok":
            w("+OK test ready\r\n")
            line(f)
            w("+OK\r\nUSER\r\nSTLS\r\n.\r\n")
            line(f)
            w("+OK Begin TLS\r\n")
            return tls_wrap(conn)
    except Exception:
        pass
    finally:
        try:
            conn.close()
        except Exception:
            pass

def listener(mode):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    def loop():
        n = 0
        while True:
            c, _ = s.accept()
            n += 1
            threading.Thread(target=serve, args=(mode, c, n), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
    return s.getsockname()[1]

for m in modes:
    print(m, listener(m), flush=True)
print("ready", flush=True)
threading.Event().wait()
