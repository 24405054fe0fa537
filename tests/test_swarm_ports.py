"""The swarm preflight's view of ports a process holds: dockerd holds a host-mode port for the
task of a service that publishes it, also while swarm replaces that task and no container shows
the port (seen in CI: ``up`` right after a restore's restart refused main's own port as taken
by dockerd). A port of our own stack's service is ours; another stack's routing mesh is not."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from openclaw_compose.core.loading import validate
from openclaw_compose.core.ports import plan_ports
from openclaw_compose.engine.records import ServicePort
from openclaw_compose.host.preflight import SWARM_ADDRESS, taken_stack_ports
from tests.fakes import FakeEngine


@pytest.fixture
def held() -> Iterator[int]:
    """A port something on this host holds, as dockerd holds a published one."""
    with socket.socket() as sock:
        sock.bind((SWARM_ADDRESS, 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize(
    ("published", "taken"),
    [
        (("host", "fleet_main", "fleet"), False),
        (("ingress", "other_web", "other"), True),
        (("host", "other_web", "other"), True),
        (None, True),
    ],
)
def test_a_port_our_own_service_publishes_is_ours(
    held: int, published: tuple[str, str, str] | None, taken: bool
) -> None:
    spec = validate({"project": "fleet", "profiles": {"main": {"port": held}}}, source="t")
    engine = FakeEngine()
    if published is not None:
        engine.swarm.published.append(ServicePort(held, *published))
    problems = taken_stack_ports(spec, plan_ports(spec), engine, here=["main"])
    assert bool(problems) is taken, problems
    assert all(problem.code == "port-in-use" for problem in problems)
