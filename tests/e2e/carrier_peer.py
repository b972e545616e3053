#!/usr/bin/env python3
"""carrier_peer.py: a carrier client that breaks the rules, for
t_carrier_badinput and t_carrier_session.  It speaks just enough of the
carrier protocol (tools/common/carrier.h) to be let in, then does one wrong
thing, and reports what erlfwd-server answered.

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

Sessions (resume, README "Resume."; for t_carrier_session).  Each of these
carriers asks for resume (hello "resume=1") and reads the server's nonce.
SID is a session id (32 hex digits), KEY its key (64 hex digits).

  carrier_peer.py hold PORT SID KEY ECHOPORT CMDFILE
      The session's owner: NEW for SID with KEY, OPEN stream 1 (DIST to
      ECHOPORT, an --allow-port echo listener) and "held-1" on it, then
      one line once the echo is back:
        held offered=yes|no nonce=HEX local=ADDR:PORT echo=TEXT
      Then it answers PINGs and follows the lines appended to CMDFILE:
        probe   OPEN the next stream (3, 5, ...) for INFO, wait for the
                answer and the server's FIN, FIN it; prints
                "probe=ok|RESULT stream=N"
        drop    close the socket, no GOAWAY (the session is left detached);
                prints "dropped sent_seq=N" (the sequenced bytes it sent)
      Anything else the server says (REFUSE, GOAWAY, its close) ends it
      with a line "held answer=... goaway=... end=...", exit status 1.
  carrier_peer.py session PORT new SID KEY [TIMES]
  carrier_peer.py session PORT resume SID KEY PROOF [TIMES]
      One SESSION, NEW or RESUME (count 0) with PROOF: right (HMAC-SHA256
      under KEY of "erlfwd-resume-1", SID and this carrier's nonce),
      wrongkey (the same under another key), or nonce=HEX (the right key
      and another carrier's nonce: a recorded RESUME played again).  Reads
      the answer (5 s; 1 s for NEW, which is answered only when refused).
      TIMES: the NEW or RESUME sent that many times at once (a storm of
      guesses on one carrier); then it reads until the server closes, and
      no more.
      Refused: starts a fresh session with NEW on the same carrier and
      asks INFO on stream 1 (fresh=ok).  Accepted: sends "after-resume" on
      stream 1 (the session's echo stream), asks INFO on stream 101.
      Either way it then leaves with GOAWAY and prints:
        offered=yes|no answer=refuse:N|accept:COUNT|none fresh=RESULT
        stream1=TEXT fins=IDS info=RESULT refusals=N
        goaway=CODE:REASON|none end=eof|reset|timeout

Exit status: 0 when the case was played, 1 on a setup error, 2 on a usage
error.
"""
import hashlib
import hmac
import os
import re
import socket
import struct
import sys
import threading
import time

MAGIC = b"EFWD"
TAG_EPMD, TAG_DIST, TAG_INFO, TAG_CARRIER = 1, 2, 3, 4
DATA, WINDOW, OPEN, FIN, RESET, PING, PONG, GOAWAY, SESSION, ACK = range(10)
SEQUENCED = (DATA, WINDOW, OPEN, FIN, RESET)
SES_NEW, SES_RESUME, SES_ACCEPT, SES_REFUSE = 1, 2, 3, 4
PROOF_LABEL = b"erlfwd-resume-1"
RST_REFUSED = 2
DATA_MAX = 16384


def hello(extra=b""):
    body = b"version=carrier_peer" + extra
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


# ---- sessions -------------------------------------------------------------

def resume_proof(key, sid, nonce):
    """carrier_resume_proof(): written here from the README, not copied."""
    return hmac.new(key, PROOF_LABEL + sid + nonce, hashlib.sha256).digest()


class Carrier:
    """A carrier that asks for resume, and what the server said on it."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.local = "%s:%d" % self.sock.getsockname()[:2]
        self.buf = b""
        self.sent_seq = 0
        self.data = {}
        self.fins = []
        self.resets = {}
        self.answer = None      # "accept:COUNT" or "refuse:REASON"
        self.refusals = 0
        self.goaway = None
        self.end = None
        self.sock.sendall(hello(b" resume=1"))
        self.nonce = None
        body = self.read_hello()
        m = re.search(rb"(?:^| )resume=([0-9a-f]{32})(?: |$)", body or b"")
        if m:
            self.nonce = bytes.fromhex(m.group(1).decode())

    def recv(self, deadline):
        """More bytes into buf; False at the deadline or the end."""
        left = deadline - time.monotonic()
        if left <= 0 or self.end is not None:
            return False
        self.sock.settimeout(left)
        try:
            got = self.sock.recv(65536)
        except socket.timeout:
            return False
        except ConnectionResetError:
            self.end = "reset"
            return False
        if not got:
            self.end = "eof"
            return False
        self.buf += got
        return True

    def read_hello(self):
        deadline = time.monotonic() + 5
        while len(self.buf) < 10 or \
                len(self.buf) < 10 + struct.unpack(">H", self.buf[8:10])[0]:
            if not self.recv(deadline):
                return None
        blen = struct.unpack(">H", self.buf[8:10])[0]
        if self.buf[:6] != MAGIC + bytes([2, TAG_CARRIER]):
            return None
        body, self.buf = self.buf[10:10 + blen], self.buf[10 + blen:]
        return body

    def send(self, ftype, stream, payload=b""):
        fr = frame(ftype, stream, payload)
        if ftype in SEQUENCED:
            self.sent_seq += len(fr)
        self.sock.sendall(fr)

    def take(self):
        """The whole frames in buf, into what the server said."""
        while len(self.buf) >= 12:
            _, ftype, _, stream, length = struct.unpack(">BBHII",
                                                        self.buf[:12])
            if len(self.buf) < 12 + length:
                return
            p = self.buf[12:12 + length]
            self.buf = self.buf[12 + length:]
            if ftype == DATA:
                self.data[stream] = self.data.get(stream, b"") + p
            elif ftype == FIN:
                self.fins.append(stream)
            elif ftype == RESET:
                self.resets[stream] = p[0] if p else -1
            elif ftype == PING:
                self.send(PONG, 0, p)
            elif ftype == GOAWAY and self.goaway is None:
                self.goaway = "%d:%s" % (p[0], p[1:].decode("ascii",
                                                            "replace"))
            elif ftype == SESSION and self.answer is None:
                if p[:1] == bytes([SES_ACCEPT]) and len(p) == 9:
                    self.answer = "accept:%d" % struct.unpack(">Q", p[1:])[0]
                elif p[:1] == bytes([SES_REFUSE]) and len(p) == 2:
                    self.answer = "refuse:%d" % p[1]
                else:
                    self.answer = "bad:" + p.hex()
            if ftype == SESSION and p[:1] == bytes([SES_REFUSE]):
                self.refusals += 1

    def pump(self, seconds, cond):
        """Read frames until cond() holds, seconds pass or the server ends."""
        deadline = time.monotonic() + seconds
        while not cond():
            if not self.recv(deadline):
                self.take()
                return cond()
            self.take()
        return True

    def info(self, stream):
        """Ask INFO on a new stream; "ok" once its answer and FIN are in."""
        self.send(OPEN, stream, struct.pack(">BH", TAG_INFO, 0))
        self.pump(5, lambda: stream in self.fins or stream in self.resets
                  or self.end is not None)
        if stream in self.resets:
            return "reset:%d" % self.resets[stream]
        if stream not in self.fins:
            return "no-answer"
        self.send(FIN, stream)
        got = self.data.get(stream, b"")
        if got[:6] != MAGIC + bytes([1, TAG_INFO]) or b"version=" not in got:
            return "bad-answer"
        return "ok"

    def leave(self):
        """GOAWAY normal, then wait for the server's close."""
        try:
            self.send(GOAWAY, 0, b"\x00done")
        except OSError:
            pass
        self.pump(5, lambda: False)

    def line(self, *fields):
        return " ".join(fields + ("goaway=%s" % (self.goaway or "none"),
                                  "end=%s" % (self.end or "timeout")))


def check_ids(sid, key):
    if len(sid) != 16 or len(key) != 32:
        raise ValueError("SID is 16 bytes (32 hex digits), KEY 32 (64)")


def hold(port, sid, key, echo_port, cmdfile):
    check_ids(sid, key)
    c = Carrier(port)
    if c.nonce is None:
        print("held offered=no", flush=True)
        return 1
    c.send(SESSION, 0, bytes([SES_NEW]) + sid + key)
    c.send(OPEN, 1, struct.pack(">BH", TAG_DIST, echo_port))
    c.send(DATA, 1, b"held-1")

    def stopped():
        return c.end is not None or c.goaway is not None or \
            c.answer is not None

    c.pump(5, lambda: c.data.get(1) == b"held-1" or stopped())
    print("held offered=yes nonce=%s local=%s echo=%s" % (
        c.nonce.hex(), c.local, c.data.get(1, b"").decode("ascii", "replace")
        or "none"), flush=True)
    done, stream = 0, 3
    while not stopped():
        with open(cmdfile) as f:
            cmds = f.read().split()
        for cmd in cmds[done:]:
            done += 1
            if cmd == "probe":
                print("probe=%s stream=%d" % (c.info(stream), stream),
                      flush=True)
                stream += 2
            elif cmd == "drop":
                print("dropped sent_seq=%d" % c.sent_seq, flush=True)
                c.sock.close()
                return 0
        c.pump(0.05, stopped)
    print(c.line("held", "answer=%s" % c.answer), flush=True)
    return 1


def session(port, op, sid, key, proof, times=1):
    check_ids(sid, key)
    c = Carrier(port)
    if c.nonce is None:
        print(c.line("offered=no"), flush=True)
        return 0
    if op == "new":
        c.sock.sendall(times * frame(SESSION, 0, bytes([SES_NEW]) + sid +
                                     key))
    else:
        if proof == "right":
            p = resume_proof(key, sid, c.nonce)
        elif proof == "wrongkey":
            p = resume_proof(bytes(b ^ 0x5a for b in key), sid, c.nonce)
        elif proof.startswith("nonce="):
            p = resume_proof(key, sid, bytes.fromhex(proof[6:]))
        else:
            raise ValueError("no such proof: " + proof)
        c.sock.sendall(times * frame(SESSION, 0, bytes([SES_RESUME]) + sid +
                                     p + bytes(8)))
    # A NEW that is taken is not answered: a second's silence says it.
    c.pump(5 if op == "resume" else 1,
           lambda: c.answer is not None or c.end is not None)
    fresh = info = "none"
    if times > 1:
        # A storm of guesses: every answer, until the server closes.
        c.pump(5, lambda: c.end is not None)
    elif c.answer is not None and c.answer.startswith("refuse:"):
        # The carrier is as good as before: a session of its own, and INFO.
        c.send(SESSION, 0, bytes([SES_NEW]) + os.urandom(16) +
               os.urandom(32))
        fresh = c.info(1)
    elif c.answer is not None and c.answer.startswith("accept:"):
        # The session's echo stream lived on: what the held carrier never
        # acknowledged comes again, then the echo of what is sent now.
        c.send(DATA, 1, b"after-resume")
        c.pump(5, lambda: c.data.get(1, b"").endswith(b"after-resume")
               or c.end is not None)
        info = c.info(101)
    answer = c.answer or "none"
    stream1 = c.data.get(1, b"").decode("ascii", "replace") \
        if answer.startswith("accept:") else "none"
    if c.end is None:
        c.leave()
    print(c.line("offered=yes", "answer=%s" % answer, "fresh=%s" % fresh,
                 "stream1=%s" % (stream1 or "none"),
                 "fins=%s" % (",".join(map(str, sorted(set(c.fins))))
                              or "none"), "info=%s" % info,
                 "refusals=%d" % c.refusals), flush=True)
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
        if len(argv) == 7 and argv[1] == "hold":
            return hold(int(argv[2]), bytes.fromhex(argv[3]),
                        bytes.fromhex(argv[4]), int(argv[5]), argv[6])
        if len(argv) in (6, 7) and argv[1] == "session" and \
                argv[3] == "new":
            return session(int(argv[2]), "new", bytes.fromhex(argv[4]),
                           bytes.fromhex(argv[5]), None,
                           int(argv[6]) if len(argv) == 7 else 1)
        if len(argv) in (7, 8) and argv[1] == "session" and \
                argv[3] == "resume":
            return session(int(argv[2]), "resume", bytes.fromhex(argv[4]),
                           bytes.fromhex(argv[5]), argv[6],
                           int(argv[7]) if len(argv) == 8 else 1)
    except (OSError, ValueError) as e:
        print("carrier_peer: %s" % e, file=sys.stderr)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
