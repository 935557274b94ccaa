"""Which lease holders may be judged dead: only processes of our own pid namespace."""

from __future__ import annotations

import os
import socket

from syndicator.state.leases import OWNER, PLACE, is_dead_local


def test_only_a_gone_process_of_our_namespace_is_dead() -> None:
    assert not is_dead_local(OWNER)
    assert not is_dead_local(f"{PLACE}:{os.getppid()}:abcd")  # alive
    assert is_dead_local(f"{PLACE}:999999:abcd")  # no such pid here
    assert is_dead_local(f"{PLACE}:{os.getpid()}:0ther")  # our pid, an earlier process


def test_a_peer_with_our_hostname_in_another_namespace_is_never_judged() -> None:
    """Containers on host networking, or compose replicas with one `hostname:`: both pid 1."""
    host = socket.gethostname()[:60]
    for other in (f"{host}@00000000.1:{os.getpid()}:peer", f"{host}@00000000.1:999999:peer",
                  f"{host}:{os.getpid()}:peer", f"{host}:999999:peer", "elsewhere:1:abcd",
                  "garbage"):
        assert not is_dead_local(other), other
