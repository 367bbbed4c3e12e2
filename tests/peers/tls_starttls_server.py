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
usage: tls_starttls_server.py CERT KEY MODE...
"""
import socket, ssl, sys, threading

cert, key, modes = sys.argv[1], sys.argv[2], sys.argv[3:]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)

def line(f):
    return f.readline(1024)

def tls(conn):
    try:
        s = ctx.wrap_socket(conn, server_side=True)
        s.recv(1)
        s.close()
    except Exception:
        pass

def serve(mode, conn, n):
    conn.settimeout(10)
    f = conn.makefile("rb")
    w = lambda s: conn.sendall(s.encode())
    try:
        if mode == "implicit":
            return tls(conn)
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
            return tls(conn)
        if mode == "imap-ok":
            w("* OK [CAPABILITY IMAP4rev1 STARTTLS] test ready\r\n")
            t = line(f).split(b" ")[0].decode()
            w("* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n%s OK done\r\n" % t)
            t = line(f).split(b" ")[0].decode()
            w("%s OK Begin TLS negotiation now\r\n" % t)
            return tls(conn)
        if mode == "pop3-ok":
            w("+OK test ready\r\n")
            line(f)
            w("+OK\r\nUSER\r\nSTLS\r\n.\r\n")
            line(f)
            w("+OK Begin TLS\r\n")
            return tls(conn)
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
