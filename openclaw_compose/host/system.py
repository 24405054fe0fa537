"""What the commands read of the host they run on: its TCP sockets and processes (``/proc``),
the user's home (``$OPENCLAW_HOME``, ``$HOME``) and the ephemeral port range. ``core/`` reads
none of it: native-gateway discovery gets a :class:`~openclaw_compose.core.native.HostView` from
here, the checks a :class:`~openclaw_compose.core.checks.HostFacts`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from openclaw_compose.core.checks import HostFacts
from openclaw_compose.core.native import HostView, discover

EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def default_home() -> Path:
    """The home of the user running the command, as OpenClaw resolves it: ``OPENCLAW_HOME``,
    else ``HOME``."""
    return Path(os.environ.get("OPENCLAW_HOME") or os.environ.get("HOME") or Path.home())


def host_view() -> HostView:
    """The ports listening on this host now, and whether a process id is alive."""
    return HostView(listening=frozenset(listening_ports()), alive=alive)


def host_facts(home: Path | None = None, *, natives: bool = True) -> HostFacts:
    """This host's facts; ``home``: whose native gateways count (default: the user's own),
    ``natives`` False: none (``--ignore-native``)."""
    found = discover(home or default_home(), host_view()) if natives else ()
    try:
        low, high = EPHEMERAL_RANGE_FILE.read_text().split()
    except (OSError, ValueError):
        return HostFacts(natives=found)
    return HostFacts(ephemeral=(int(low), int(high)), natives=found)


def alive(pid: int) -> bool:
    """A process that exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].split()[0] != "Z"


_LISTEN, _TIME_WAIT = "0A", "06"
"""TCP states as ``/proc/net/tcp`` writes them."""


def _tcp_sockets() -> Iterator[tuple[str, int, str]]:
    """Every TCP socket of this network namespace (``/proc/net/tcp``, ``tcp6``): its state, its
    local port and its inode (0 for a socket no process holds any more)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9:
                yield fields[3], int(fields[1].rsplit(":", 1)[1], 16), fields[9]


def listening_sockets() -> dict[str, int]:
    """Every TCP socket in LISTEN state on this host: its ``socket:[inode]`` (as
    ``/proc/<pid>/fd`` links name it) -> its port."""
    return {f"socket:[{inode}]": port for state, port, inode in _tcp_sockets() if state == _LISTEN}


def time_wait_ports() -> set[int]:
    """Local ports of closed connections still in TIME_WAIT (up to 60 s after the close): no
    process holds them, yet nothing can listen there until then."""
    return {port for state, port, _ in _tcp_sockets() if state == _TIME_WAIT}


def listening_ports() -> set[int]:
    return set(listening_sockets().values())
