#!/usr/bin/env python3
"""cluster_peer.py: a local process that talks to the cluster helper
(erlfwd-server --cluster) as the preload does (preload/common/cluster.h),
for the t_cluster_* scenarios that attack it.

  cluster_peer.py lookup PORT NAME
      One LOOKUP of NAME at 127.0.0.1:PORT.  Prints "sentinel A.B.C.D",
      "none" (no such name), or "error TEXT"; exit 0 only for a sentinel.
  cluster_peer.py hold PORT NAME TARGET COUNT
      LOOKUP NAME, then open COUNT DIST relays to NAME:TARGET and keep them
      open, never reading or writing (until killed): a process that left
      its sockets behind.  Prints "held N" once all are open (N: how many
      the helper did not reset at once).
  cluster_peer.py silent PORT
      Connect and say nothing; print how the helper ended it and when:
      "end=eof|reset ms=N".
  cluster_peer.py fill PORT PREFIX COUNT
      LOOKUP PREFIX0 .. PREFIX{COUNT-1} one after the other, as fast as the
      helper answers; print "sentinels=N none=N errors=N ms=N".

Exit status: 0 on success, 1 otherwise, 2 on a usage error.
"""
import socket
import struct
import sys
import time

MAGIC = b"EFWD"
VERSION = 3
TAG_EPMD, TAG_DIST, TAG_LOOKUP = 1, 2, 5


def request(tag, port, body):
    return MAGIC + struct.pack(">BBHH", VERSION, tag, port, len(body)) + body


def recv_all(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return buf


def lookup(port, name, timeout=3.0):
    """The sentinel's 4 bytes, b"" for no such name; raises on errors."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request(TAG_LOOKUP, 0, name.encode()))
        hdr = recv_all(s, 10)
        if len(hdr) < 10 or hdr[:4] != MAGIC:
            raise OSError("no answer (%d bytes)" % len(hdr))
        blen = struct.unpack(">H", hdr[8:10])[0]
        body = recv_all(s, blen)
        if len(body) != blen or blen not in (0, 4):
            raise OSError("bad answer")
        return body


def cmd_lookup(port, name):
    try:
        body = lookup(port, name)
    except OSError as e:
        print("error %s" % (e.strerror or e))
        return 1
    if not body:
        print("none")
        return 1
    print("sentinel %s" % socket.inet_ntoa(body))
    return 0


def cmd_hold(port, name, target, count):
    sent = lookup(port, name)
    if not sent:
        print("no sentinel for %s" % name)
        return 1
    held = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(request(TAG_DIST, target, sent))
        held.append(s)
    time.sleep(0.3)
    alive = 0
    for s in held:
        s.setblocking(False)
        try:
            s.recv(1)	# nothing, or the far end's EOF: still held
            alive += 1
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    print("held %d" % alive, flush=True)
    while True:
        time.sleep(60)


def cmd_silent(port):
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        end = "eof" if s.recv(1) == b"" else "data"
    except ConnectionResetError:
        end = "reset"
    except socket.timeout:
        end = "timeout"
    print("end=%s ms=%d" % (end, (time.monotonic() - t0) * 1000))
    return 0


def cmd_fill(port, prefix, count):
    t0 = time.monotonic()
    got = none = errors = 0
    for i in range(count):
        try:
            if lookup(port, "%s%d" % (prefix, i)):
                got += 1
            else:
                none += 1
        except OSError:
            errors += 1
    print("sentinels=%d none=%d errors=%d ms=%d" % (got, none, errors,
          (time.monotonic() - t0) * 1000))
    return 0


def main(argv):
    try:
        if argv[1] == "lookup" and len(argv) == 4:
            return cmd_lookup(int(argv[2]), argv[3])
        if argv[1] == "hold" and len(argv) == 6:
            return cmd_hold(int(argv[2]), argv[3], int(argv[4]),
                            int(argv[5]))
        if argv[1] == "silent" and len(argv) == 3:
            return cmd_silent(int(argv[2]))
        if argv[1] == "fill" and len(argv) == 5:
            return cmd_fill(int(argv[2]), argv[3], int(argv[4]))
    except (IndexError, ValueError):
        pass
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
