#!/usr/bin/env python3
"""bystander.py: the two sides of t_bystander.  Bystanders that ask
erlfwd-server for epmd's NAMES every 20 ms and time each answer, and the
attacks they stand beside: rapid reset through carriers, and version 1
relays left half-closed and hung.  All on 127.0.0.1 (the scenario runs it
inside the dyno); the protocol is tools/common/carrier.h and
preload/common/frame.h, written here again on purpose.

  bystander.py v1 PORT SECONDS OUT
      Every 20 ms, a new version 1 connection: EPMD preamble, NAMES_REQ,
      read to EOF.
  bystander.py v2 PORT SECONDS OUT
      One carrier; every 20 ms, a new stream on it: OPEN (EPMD 4369), DATA
      NAMES_REQ, FIN, read the stream's DATA to its FIN.  A carrier that
      ends is opened again (and the asks it took count as failures).
      Both write to OUT, replaced every second and at the end:
        asks=N fails=N worst_ms=W p99_ms=P median_ms=M last_error="TEXT"
      An ask fails when it takes more than 2 s, the connection or stream
      ends early, or the answer does not list a node ("name ... at port").
  bystander.py rapid PORT SECONDS
      Carriers, one after the other, each sent OPEN (EPMD), DATA NAMES_REQ
      and RESET for streams 1, 3, 5 ... as fast as it takes them, until
      the server ends it (or SECONDS pass); what the server says is read
      meanwhile.  At the end, one line:
        carriers=N streams=N goaways=N refused=N reason="LAST GOAWAY REASON"
  bystander.py hang PORT TARGET N SECONDS
      Hold N version 1 relays to TARGET (a DIST preamble, an --allow-port
      whose listener never reads), each half-closed by us at once and
      never read: opened again whenever the server ends one.  At the end:
        hung=N reopened=N

Exit status: 0 when it ran, 1 on a setup error, 2 on a usage error.
"""
import os
import socket
import struct
import sys
import threading
import time

MAGIC = b"EFWD"
TAG_EPMD, TAG_DIST, TAG_CARRIER = 1, 2, 4
DATA, WINDOW, OPEN, FIN, RESET, PING, PONG, GOAWAY = range(8)
RST_REFUSED = 2
NAMES_REQ = b"\x00\x01n"
EVERY = 0.020
ASK_MAX = 2.0
RAPID_CHUNK = 1000


def preamble(tag, port, body=b""):
    return MAGIC + struct.pack(">BBHH", 1, tag, port, len(body)) + body


def hello():
    body = b"version=bystander"
    return MAGIC + struct.pack(">BBHH", 2, TAG_CARRIER, 0, len(body)) + body


def frame(ftype, stream, payload=b""):
    return struct.pack(">BBHII", 2, ftype, 0, stream, len(payload)) + payload


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        got = sock.recv(n - len(buf))
        if not got:
            raise ConnectionError("closed")
        buf += got
    return buf


class Tally:
    """Asks, failures and latencies; written to OUT every second."""

    def __init__(self, out):
        self.out = out
        self.asks = self.fails = 0
        self.times = []
        self.last_error = ""
        self.written = 0.0

    def ok(self, ms):
        self.asks += 1
        self.times.append(ms)

    def fail(self, why, ms=None):
        self.asks += 1
        self.fails += 1
        self.last_error = why
        if ms is not None:
            self.times.append(ms)

    def write(self, force=False):
        now = time.monotonic()
        if not force and now - self.written < 1.0:
            return
        self.written = now
        t = sorted(self.times) or [0.0]
        line = ('asks=%d fails=%d worst_ms=%.1f p99_ms=%.1f median_ms=%.1f '
                'last_error="%s"\n' % (self.asks, self.fails, t[-1],
                                       t[min(len(t) - 1, len(t) * 99 // 100)],
                                       t[len(t) // 2], self.last_error))
        with open(self.out + ".tmp", "w") as f:
            f.write(line)
        # Renamed into place: a reader never sees half a line.
        os.replace(self.out + ".tmp", self.out)


def listed(text):
    return b" at port " in text and text.startswith(b"name ")


def ask_v1(port):
    with socket.create_connection(("127.0.0.1", port), timeout=ASK_MAX) as s:
        s.sendall(preamble(TAG_EPMD, 4369) + NAMES_REQ)
        buf = b""
        while True:
            got = s.recv(4096)
            if not got:
                break
            buf += got
    if len(buf) < 4 or not listed(buf[4:]):
        raise ValueError("answer %r" % buf[:40])


class Carrier:
    """A version 2 client that asks NAMES on a new stream each time."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=ASK_MAX)
        self.sock.sendall(hello())
        head = recv_exact(self.sock, 10)
        if head[:4] != MAGIC or head[4] != 2 or head[5] != TAG_CARRIER:
            raise ValueError("no CARRIER frame: %r" % head)
        recv_exact(self.sock, struct.unpack(">H", head[8:10])[0])
        self.next_id = 1
        self.buf = b""

    def frames(self):
        while True:
            if len(self.buf) >= 12:
                _, ftype, _, sid, length = struct.unpack(">BBHII",
                                                         self.buf[:12])
                if len(self.buf) >= 12 + length:
                    payload = self.buf[12:12 + length]
                    self.buf = self.buf[12 + length:]
                    yield ftype, sid, payload
                    continue
            got = self.sock.recv(65536)
            if not got:
                raise ConnectionError("the carrier closed")
            self.buf += got

    def ask(self, deadline):
        sid = self.next_id
        self.next_id += 2
        self.sock.sendall(frame(OPEN, sid, struct.pack(">BH", TAG_EPMD, 4369))
                          + frame(DATA, sid, NAMES_REQ) + frame(FIN, sid))
        answer = b""
        for ftype, fid, payload in self.frames():
            self.sock.settimeout(max(0.001, deadline - time.monotonic()))
            if ftype == PING:
                self.sock.sendall(frame(PONG, 0, payload))
            elif ftype == GOAWAY:
                raise ConnectionError("GOAWAY %r" % payload)
            elif fid != sid:
                continue
            elif ftype == DATA:
                answer += payload
            elif ftype == RESET:
                raise ConnectionError("RESET %r" % payload)
            elif ftype == FIN:
                break
        if len(answer) < 4 or not listed(answer[4:]):
            raise ValueError("answer %r" % answer[:40])

    def close(self):
        self.sock.close()


def bystand(kind, port, seconds, out):
    tally = Tally(out)
    end = time.monotonic() + seconds
    car = None
    nxt = time.monotonic()
    while time.monotonic() < end:
        t0 = time.monotonic()
        try:
            if kind == "v1":
                ask_v1(port)
            else:
                if car is None:
                    car = Carrier(port)
                car.sock.settimeout(ASK_MAX)
                car.ask(t0 + ASK_MAX)
            ms = (time.monotonic() - t0) * 1000
            if ms > ASK_MAX * 1000:
                tally.fail("%.0f ms" % ms, ms)
            else:
                tally.ok(ms)
        except (OSError, ValueError, ConnectionError) as e:
            tally.fail(str(e)[:80].replace('"', "'"),
                       (time.monotonic() - t0) * 1000)
            if car is not None:
                car.close()
                car = None
        tally.write()
        nxt += EVERY
        pause = nxt - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        else:
            nxt = time.monotonic()
    tally.write(force=True)
    return 0


def rapid_chunk(first):
    """OPEN, DATA and RESET for RAPID_CHUNK streams from id first."""
    return b"".join(frame(OPEN, sid, struct.pack(">BH", TAG_EPMD, 4369))
                    + frame(DATA, sid, NAMES_REQ) + frame(RESET, sid, b"\x01")
                    for sid in range(first, first + 2 * RAPID_CHUNK, 2))


def rapid(port, seconds):
    tally = {"goaways": 0, "refused": 0, "reason": ""}
    carriers = sent = 0
    end = time.monotonic() + seconds

    def reader(s, done):
        buf = b""
        try:
            while True:
                got = s.recv(65536)
                if not got:
                    break
                buf += got
                if len(buf) >= 10 and buf[:4] == MAGIC:
                    buf = buf[10 + struct.unpack(">H", buf[8:10])[0]:]
                while len(buf) >= 12:
                    _, ftype, _, _, length = struct.unpack(">BBHII",
                                                           buf[:12])
                    if len(buf) < 12 + length:
                        break
                    payload = buf[12:12 + length]
                    buf = buf[12 + length:]
                    if ftype == GOAWAY:
                        tally["goaways"] += 1
                        tally["reason"] = payload[1:].decode("ascii",
                                                             "replace")
                    elif ftype == RESET and payload[:1] == b"\x02":
                        tally["refused"] += 1
        except OSError:
            pass
        done.set()

    while time.monotonic() < end:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            time.sleep(0.01)
            continue
        carriers += 1
        done = threading.Event()
        t = threading.Thread(target=reader, args=(s, done), daemon=True)
        t.start()
        sid = 1
        try:
            s.sendall(hello())
            # Without a pause: the next streams go out until the server
            # ends the carrier or the time is up.
            while not done.is_set() and time.monotonic() < end:
                s.sendall(rapid_chunk(sid))
                sid += 2 * RAPID_CHUNK
                sent += RAPID_CHUNK
        except OSError:
            pass
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        t.join(5)
        s.close()
    print('carriers=%d streams=%d goaways=%d refused=%d reason="%s"'
          % (carriers, sent, tally["goaways"], tally["refused"],
             tally["reason"]), flush=True)
    return 0


def hang(port, target, n, seconds):
    lock = threading.Lock()
    held = []
    reopened = [0]

    def one():
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(preamble(TAG_DIST, target) + b"half-closed, never read")
        s.shutdown(socket.SHUT_WR)
        s.setblocking(False)
        return s

    for _ in range(n):
        held.append(one())
    print("hung %d" % n, flush=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.2)
        with lock:
            for i, s in enumerate(held):
                try:
                    # Only an end is looked for; the bytes are never read.
                    if s.recv(1, socket.MSG_PEEK) != b"":
                        continue
                except BlockingIOError:
                    continue
                except OSError:
                    pass
                s.close()
                try:
                    held[i] = one()
                    reopened[0] += 1
                except OSError:
                    pass
    print("hung=%d reopened=%d" % (n, reopened[0]), flush=True)
    return 0


def main(argv):
    try:
        if len(argv) == 5 and argv[1] in ("v1", "v2"):
            return bystand(argv[1], int(argv[2]), float(argv[3]), argv[4])
        if len(argv) == 4 and argv[1] == "rapid":
            return rapid(int(argv[2]), float(argv[3]))
        if len(argv) == 6 and argv[1] == "hang":
            return hang(int(argv[2]), int(argv[3]), int(argv[4]),
                        float(argv[5]))
    except (OSError, ValueError) as e:
        print("bystander: %s" % e, file=sys.stderr)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
