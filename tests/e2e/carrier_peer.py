#!/usr/bin/env python3
"""carrier_peer.py: a carrier client that breaks the rules, for
t_carrier_badinput.  It speaks just enough of the carrier protocol
(tools/common/carrier.h) to be let in, then does one wrong thing, and
reports what erlfwd-server answered.

  carrier_peer.py client PORT CASE [ARG]
      Connect to 127.0.0.1:PORT, send the CARRIER frame, then CASE:
        garbage         16 bytes that are no frame
        unknown         DATA for stream 7, which was never opened
        overflow PORT2  OPEN stream 1 (DIST to PORT2), then DATA as fast as
                        the socket takes it (up to 64 MiB), never waiting
                        for WINDOW: past the 256 KiB window once the far
                        end stops reading
        storm N         N OPENs (EPMD, port 4369) at once, then wait
      Read the server's frames until it closes (or 15 s pass) and print
      one line:
        hello=ok goaway=CODE reason="TEXT" resets=N refused=N windows=N
        sent=BYTES end=eof|reset|timeout
      (goaway=none when there was none).
  carrier_peer.py sink PORT
      Listen on 127.0.0.1:PORT with a small receive buffer, accept, and
      never read (60 s): a node that stopped reading.  Prints "listening".

Exit status: 0 when the case was played, 1 on a setup error, 2 on a usage
error.
"""
import socket
import struct
import sys
import threading
import time

MAGIC = b"EFWD"
TAG_EPMD, TAG_DIST, TAG_CARRIER = 1, 2, 4
DATA, WINDOW, OPEN, FIN, RESET, PING, PONG, GOAWAY = range(8)
RST_REFUSED = 2
DATA_MAX = 16384


def hello():
    body = b"version=carrier_peer"
    return MAGIC + struct.pack(">BBHH", 2, TAG_CARRIER, 0, len(body)) + body


def frame(ftype, stream, payload=b""):
    return struct.pack(">BBHII", 2, ftype, 0, stream, len(payload)) + payload


class Reader:
    """Reads the server's side: its CARRIER frame, then carrier frames."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.hello = False
        self.goaway = None
        self.resets = self.refused = self.windows = 0
        self.end = "timeout"

    def parse(self):
        if not self.hello:
            if len(self.buf) < 10:
                return
            blen = struct.unpack(">H", self.buf[8:10])[0]
            if len(self.buf) < 10 + blen:
                return
            self.hello = self.buf[:4] == MAGIC and self.buf[4] == 2 and \
                self.buf[5] == TAG_CARRIER
            self.buf = self.buf[10 + blen:]
        while len(self.buf) >= 12:
            _, ftype, _, _, length = struct.unpack(">BBHII", self.buf[:12])
            if len(self.buf) < 12 + length:
                return
            payload = self.buf[12:12 + length]
            self.buf = self.buf[12 + length:]
            if ftype == GOAWAY and self.goaway is None:
                self.goaway = (payload[0], payload[1:].decode("ascii",
                                                              "replace"))
            elif ftype == RESET:
                self.resets += 1
                if payload[:1] == bytes([RST_REFUSED]):
                    self.refused += 1
            elif ftype == WINDOW:
                self.windows += 1
            elif ftype == PING:
                self.sock.sendall(frame(PONG, 0, payload))

    def run(self, seconds):
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self.sock.settimeout(left)
            try:
                got = self.sock.recv(65536)
            except socket.timeout:
                return
            except ConnectionResetError:
                self.end = "reset"
                return
            if not got:
                self.end = "eof"
                return
            self.buf += got
            self.parse()


def client(port, case, arg):
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(hello())
    reader = Reader(sock)
    sent = [0]

    def flood():
        data = frame(DATA, 1, b"\x00" * DATA_MAX)
        try:
            while sent[0] < 64 << 20:
                sock.sendall(data)
                sent[0] += DATA_MAX
        except OSError:
            pass

    if case == "garbage":
        sock.sendall(b"GARBAGE!GARBAGE!")
    elif case == "unknown":
        sock.sendall(frame(DATA, 7, b"x"))
    elif case == "overflow":
        sock.sendall(frame(OPEN, 1, struct.pack(">BH", TAG_DIST, int(arg))))
        threading.Thread(target=flood, daemon=True).start()
    elif case == "storm":
        sock.sendall(b"".join(frame(OPEN, 2 * i + 1,
                                    struct.pack(">BH", TAG_EPMD, 4369))
                              for i in range(int(arg))))
    else:
        print("carrier_peer: unknown case " + case, file=sys.stderr)
        return 2
    # A storm is answered with RESETs, the carrier left open: a short wait.
    reader.run(3 if case == "storm" else 15)
    code, reason = reader.goaway if reader.goaway else ("none", "")
    print('hello=%s goaway=%s reason="%s" resets=%d refused=%d windows=%d '
          'sent=%d end=%s' % ("ok" if reader.hello else "bad", code, reason,
                              reader.resets, reader.refused, reader.windows,
                              sent[0], reader.end), flush=True)
    return 0


def sink(port):
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    lsock.bind(("127.0.0.1", port))
    lsock.listen(8)
    print("listening", flush=True)
    held = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        lsock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            held.append(lsock.accept()[0])
        except socket.timeout:
            pass
    return 0


def main(argv):
    try:
        if len(argv) >= 4 and argv[1] == "client":
            return client(int(argv[2]), argv[3],
                          argv[4] if len(argv) > 4 else None)
        if len(argv) == 3 and argv[1] == "sink":
            return sink(int(argv[2]))
    except (OSError, ValueError) as e:
        print("carrier_peer: %s" % e, file=sys.stderr)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
