"""held.py: local connections a scenario holds open (t_agent_emfile,
t_agent_streams), and how many of them the far end has closed or reset.
Imported by the scenarios' inline python (PYTHONPATH=$E2E_DIR, and
PYTHONDONTWRITEBYTECODE=1: no __pycache__ in the tree)."""
import time


def gone(s):
    """Whether the non-blocking socket s was closed or reset by its peer."""
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except BlockingIOError:
        return False


def count_gone(held, want, seconds, settle):
    """Take out of held (connected sockets, made non-blocking here) those
    the far end closed or reset, looking until want have gone or seconds
    pass, then once more after settle seconds (no more than want should go:
    a scenario asserts the count).  Returns how many went."""
    for s in held:
        s.setblocking(False)
    n = 0
    deadline = time.monotonic() + seconds
    while n < want and time.monotonic() < deadline:
        for s in list(held):
            if gone(s):
                n += 1
                held.remove(s)
        time.sleep(0.05)
    time.sleep(settle)
    for s in list(held):
        if gone(s):
            n += 1
            held.remove(s)
    return n
