#!/usr/bin/python3
"""A TCP proxy on loopback that delays every chunk by DELAY_MS each way
(order kept), to stand for a network between shakedown and an RFC 2217
server. usage: tcp_delay_proxy.py LISTEN_PORT TARGET_PORT DELAY_MS
Prints "listening PORT" when ready; one connection at a time."""
import queue
import socket
import sys
import threading
import time


def pipe(src, dst, delay):
    q = queue.Queue()

    def sender():
        while True:
            item = q.get()
            if item is None:
                break
            due, data = item
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                dst.sendall(data)
            except OSError:
                break
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    while True:
        try:
            data = src.recv(4096)
        except OSError:
            data = b""
        if not data:
            q.put(None)
            break
        q.put((time.monotonic() + delay, data))
    t.join()


def main():
    lport, tport, delay = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000.0
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", lport))
    ls.listen(1)
    print("listening %d" % lport, flush=True)
    while True:
        c, _ = ls.accept()
        try:
            s = socket.create_connection(("127.0.0.1", tport))
        except OSError:
            c.close()
            continue
        for x in (c, s):
            x.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        a = threading.Thread(target=pipe, args=(c, s, delay), daemon=True)
        b = threading.Thread(target=pipe, args=(s, c, delay), daemon=True)
        a.start(); b.start(); a.join(); b.join()
        c.close(); s.close()


if __name__ == "__main__":
    main()
