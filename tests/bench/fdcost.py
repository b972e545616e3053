#!/usr/bin/env python3
"""fdcost.py: what a carrier, a carrier stream and a version 1 connection
cost erlfwd-server, in descriptors and resident KiB (README, "It is one
thread"), read from /proc/PID while they sit idle.

  fdcost.py SERVER_PORT SINK_PORT N PID

SERVER_PORT: an erlfwd-server (pid PID) started with --allow-port SINK_PORT
and a --max-conns of 4 N or more, under a `ulimit -n` of 4 N or more; a
listener on SINK_PORT that accepts and holds.  Opens 4 carriers, then N
DIST streams on the first, then N version 1 DIST connections, and prints
the cost of each kind.  Run it in a namespace of its own, e.g.:

  ip netns add m && ip -n m link set lo up
  ip netns exec m python3 -c 'import socket; s = socket.socket();
      s.bind(("127.0.0.1", 7300)); s.listen(4096); h = []
      while True: h.append(s.accept()[0])' &
  ulimit -n 8192; ip netns exec m build/erlfwd-server --allow-port 7300 \\
      --max-conns 4096 & sleep 0.5
  ip netns exec m python3 tests/bench/fdcost.py 9369 7300 500 $!
"""
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
import carrier_peer as cp  # noqa: E402


def main(argv):
    srv, sink, n, pid = (int(a) for a in argv[1:5])

    def now():
        fds = len(os.listdir("/proc/%d/fd" % pid))
        with open("/proc/%d/status" % pid) as f:
            rss = next(int(x.split()[1]) for x in f if x.startswith("VmRSS"))
        return fds, rss

    def report(what, a, b, count):
        print("%-8s %.2f fds, %.2f KiB each (%d)" % (what, (b[0] - a[0]) / count,
              (b[1] - a[1]) / count, count))

    base = now()
    cars = []
    for _ in range(4):
        s = socket.create_connection(("127.0.0.1", srv))
        s.sendall(cp.hello())
        cars.append(s)
    time.sleep(0.5)
    car = now()
    cars[0].sendall(b"".join(cp.frame(cp.OPEN, 2 * i + 1, struct.pack(
        ">BH", cp.TAG_DIST, sink)) for i in range(n)))
    time.sleep(1.5)
    st = now()
    v1 = []
    for _ in range(n):
        t = socket.create_connection(("127.0.0.1", srv))
        t.sendall(b"EFWD" + struct.pack(">BBHH", 1, cp.TAG_DIST, sink, 0))
        v1.append(t)
    time.sleep(1.5)
    end = now()
    report("carrier", base, car, 4)
    report("stream", car, st, n)
    report("v1", st, end, n)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
