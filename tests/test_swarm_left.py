"""The compose target asks the engine's swarm, when it is a manager, for services (the owner
check, the ports that swarm services publish). On a shared engine another client may leave the
swarm between that question and the list, which the engine then refuses ("This node is not a
swarm manager"): seen in tests/docker/test_day2_kills.py while another session's swarm tests
ended. That is no services, not a failed ``up``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest

from openclaw_compose.core.loading import LoadedSpec, validate
from openclaw_compose.engine import Engine
from openclaw_compose.engine.client import Client
from openclaw_compose.engine.records import ServiceState, SwarmState
from openclaw_compose.engine.swarm import Swarm
from openclaw_compose.errors import Refused
from openclaw_compose.runtime.ownership import look
from tests.fakes import FakeEngine, FakeSwarm

T = TypeVar("T")
LEFT = "This node is not a swarm manager."


@dataclass
class Leaving:
    """An SDK whose engine is a manager when first asked, and then has left the swarm."""

    asked: list[str] = field(default_factory=list)
    still_manager: bool = False

    def info(self) -> dict[str, Any]:
        first = not self.asked
        self.asked.append("info")
        manager = first or self.still_manager
        return {
            "Swarm": {
                "LocalNodeState": "active" if manager else "inactive",
                "ControlAvailable": manager,
            }
        }

    @property
    def services(self) -> Leaving:
        return self

    def list(self, **_: object) -> list[object]:
        raise Refused(f"Docker refused: 503 Server Error ({LEFT})")


class _Client(Client):
    """The SDK above; what it raises is already what :meth:`Client.call` maps an APIError to."""

    def __init__(self, sdk: Leaving) -> None:
        super().__init__()
        self._sdk = cast(Any, sdk)

    def call(self, action: Callable[[], T]) -> T:
        return action()


def test_service_ports_of_an_engine_that_left_the_swarm_meanwhile() -> None:
    assert Swarm(_Client(Leaving())).service_ports() == []


def test_a_manager_that_refuses_still_fails() -> None:
    with pytest.raises(Refused):
        Swarm(_Client(Leaving(still_manager=True))).service_ports()


@dataclass
class LeavingSwarm(FakeSwarm):
    states: list[bool] = field(default_factory=lambda: [True])

    def state(self) -> SwarmState:
        manager = self.states.pop(0) if self.states else False
        return SwarmState("active" if manager else "inactive", "n", manager=manager)

    def stack_services(self, stack: str) -> dict[str, ServiceState]:
        del stack
        raise Refused(f"Docker refused: {LEFT}")


def test_the_owner_check_of_an_engine_that_left_the_swarm_meanwhile(tmp_path: Path) -> None:
    spec = validate({"project": "p", "profiles": {"main": {"port": 18789}}}, source="s.yaml")
    loaded = LoadedSpec(spec, str(tmp_path / "s.yaml"), tmp_path)
    engine = cast(Engine, FakeEngine(swarm=LeavingSwarm()))
    assert look(engine, loaded).objects == ()
    still = cast(Engine, FakeEngine(swarm=LeavingSwarm(states=[True, True])))
    with pytest.raises(Refused):
        look(still, loaded)
