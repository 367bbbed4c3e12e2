#!/usr/bin/python3
"""A tiny RFC 2217 access server on pyserial's own implementation
(serial.rfc2217.PortManager, the same logic as pyserial's
examples/rfc2217_server.py), serving one device path to one client at a time.

usage: rfc2217_server.py DEVICE PORT [--lines FIFO]

A pty has no modem lines: with --lines, every DTR/RTS change a client asks
for is written as one byte (bit 0 DTR, bit 1 RTS) into FIFO, where
`shakedown sim ... lines=FIFO` reads it, so the simulated board sees the
reset. Without it, line changes raise in pyserial and the client's session
ends (pyserial's server cannot drive lines a device lacks).
Prints "listening PORT" when ready. Exits on SIGTERM.
"""
import os
import termios
import socket
import sys
import threading

import serial
import serial.rfc2217


class PtySerial(serial.Serial):
    """serial.Serial on a pty, with DTR/RTS forwarded to a FIFO."""
    lines_fd = None

    def _send_lines(self):
        if self.lines_fd is not None:
            os.write(self.lines_fd, bytes([(1 if self._dtr_state else 0) | (2 if self._rts_state else 0)]))

    def _update_dtr_state(self):
        if self.lines_fd is None and self.is_open:
            raise serial.SerialException("this port has no DTR")
        self._send_lines()

    def _update_rts_state(self):
        if self.lines_fd is None and self.is_open:
            raise serial.SerialException("this port has no RTS")
        self._send_lines()

    def _update_break_state(self):
        pass

    def _reconfigure_port(self, force_update=False):
        # Measured here: on a Linux pty, pyserial 3.5's tcsetattr for
        # parity EVEN fails with EINVAL, and PortManager catches only
        # ValueError, so its session would die on the STM32 loader's 8E1.
        # A pty carries no parity anyway: like ser2net on a pty, keep the
        # setting and acknowledge it.
        try:
            super()._reconfigure_port(force_update)
        except termios.error as e:
            sys.stderr.write("rfc2217_server: pty refused settings (%s), kept as asked\n" % (e,))

    # no modem inputs on a pty
    cts = property(lambda self: False)
    dsr = property(lambda self: False)
    ri = property(lambda self: False)
    cd = property(lambda self: False)


def serve(ser, conn):
    lock = threading.Lock()

    class Conn:
        def write(self, data):
            with lock:
                conn.sendall(data)

    pm = serial.rfc2217.PortManager(ser, Conn())
    alive = [True]

    def reader():
        while alive[0]:
            try:
                data = ser.read(ser.in_waiting or 1)
                if data:
                    Conn().write(b"".join(pm.escape(data)))
            except (OSError, serial.SerialException):
                break
        alive[0] = False

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        while alive[0]:
            data = conn.recv(1024)
            if not data:
                break
            ser.write(b"".join(pm.filter(data)))
    except (OSError, serial.SerialException) as e:
        sys.stderr.write("rfc2217_server: %s\n" % e)
    alive[0] = False
    conn.close()
    t.join(1)


def main():
    args = sys.argv[1:]
    lines = None
    if "--lines" in args:
        i = args.index("--lines")
        lines = args[i + 1]
        del args[i:i + 2]
    dev, port = args[0], int(args[1])
    ser = PtySerial()
    ser.port = dev
    ser.timeout = 0.05
    if lines:
        ser.lines_fd = os.open(lines, os.O_WRONLY)
        # pyserial asserts DTR and RTS on open; start with both released
        ser.dtr = False
        ser.rts = False
    ser.open()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(1)
    print("listening %d" % ls.getsockname()[1], flush=True)
    while True:
        conn, _ = ls.accept()
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            serve(ser, conn)
        except OSError as e:  # a client that left at once (a readiness check)
            sys.stderr.write("rfc2217_server: %s\n" % e)
            conn.close()


if __name__ == "__main__":
    main()
