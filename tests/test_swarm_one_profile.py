"""Day 2 on a swarm stack, against the in-memory engine: ``up PROFILE`` (and ``start``,
``restore``, ``upgrade``: ``start_gateway``) deploys that profile's service alone, whatever the
written stack says of the others; the wait for readiness looks at the profiles started only
(another one may be stopped: scaled to 0), and a crash loop, which never settles, ends it at
once."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from openclaw_compose.core.loading import load_spec
from openclaw_compose.core.spec import DEFAULT_IMAGE, Spec
from openclaw_compose.engine.records import SwarmState, TaskState
from openclaw_compose.errors import DockerError, NotReadyError
from openclaw_compose.project import check_loaded
from openclaw_compose.runtime.pipeline import wait_ready
from openclaw_compose.targets.base import Preflight
from openclaw_compose.targets.swarm.render import STACK_FILE
from openclaw_compose.targets.swarm.runtime import SwarmRuntime

from .fakes import FakeEngine, FakeSwarm
from .helpers import run_cli


@dataclass
class Manager(FakeSwarm):
    """A one-node swarm this engine manages, with the tasks a test gives it; secrets created are
    kept."""

    tasks: list[TaskState] = field(default_factory=list)
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)

    def state(self) -> SwarmState:
        return SwarmState("active", "node-1", manager=True)

    def stack_tasks(self, stack: str) -> list[TaskState]:
        del stack  # one stack
        return list(self.tasks)

    def stack_secrets(self, stack: str) -> dict[str, dict[str, str]]:
        del stack  # one stack
        return dict(self.secrets)

    def create_secret(self, name: str, data: str | bytes, labels: Mapping[str, str]) -> None:
        del data  # a value is never kept
        self.secrets[name] = dict(labels)


def _write(directory: Path, fragments: dict[str, int]) -> Spec:
    """A two-profile stack (alice with a secret), each fragment's timeout as given, generated."""
    spec_file = directory / "openclaw-compose.yaml"
    profiles = {
        name: {
            "port": 18789 + 1000 * i,
            "openclaw": {"agents": {"defaults": {"timeoutSeconds": t}}},
        }
        for i, (name, t) in enumerate(fragments.items())
    }
    profiles["alice"]["secrets"] = ["KEY"]
    spec_file.write_text(json.dumps({"project": "fleet", "profiles": profiles}))
    if not (directory / ".env").exists():
        assert (
            run_cli(
                "secret", "set", "alice", "KEY", "-f", spec_file, "-o", directory, input="v"
            ).exit_code
            == 0
        )
    generated = run_cli("generate", "--target", "swarm", "-f", spec_file, "-o", directory)
    assert generated.exit_code == 0, generated.output
    return load_spec(spec_file).spec


def test_up_one_profile_deploys_its_service_only(tmp_path: Path) -> None:
    _write(tmp_path, {"alice": 100, "bob": 100})
    day1 = YAML(typ="safe").load((tmp_path / STACK_FILE).read_text())
    spec = _write(tmp_path, {"alice": 200, "bob": 200})  # both changed in the written stack
    day2 = YAML(typ="safe").load((tmp_path / STACK_FILE).read_text())
    assert day2["configs"]["bob-seed"] != day1["configs"]["bob-seed"]
    engine = FakeEngine()
    engine.swarm = Manager()
    SwarmRuntime(engine).start_gateway(spec, tmp_path, "alice")

    [(stack, text)] = engine.swarm.parts  # no whole-stack deploy (the fake refuses one)
    assert stack == "fleet"
    part = YAML(typ="safe").load(text)
    assert part == {
        "version": day2["version"],
        "services": {"alice": day2["services"]["alice"]},
        "networks": {"alice-net": day2["networks"]["alice-net"]},
        "volumes": {k: v for k, v in day2["volumes"].items() if k.startswith("alice-")},
        "configs": {"alice-seed": day2["configs"]["alice-seed"]},
        "secrets": {k: v for k, v in day2["secrets"].items() if k.startswith("alice-")},
    }
    assert sorted(engine.swarm.secrets) == ["fleet_alice-KEY", "fleet_alice-token"]


def test_start_of_a_profile_the_stack_file_lacks_says_deploy_first(tmp_path: Path) -> None:
    spec = _write(tmp_path, {"alice": 100, "bob": 100})
    engine = FakeEngine()
    engine.swarm = Manager()
    runtime = SwarmRuntime(engine)
    with pytest.raises(DockerError, match="has no service 'carol': deploy the stack first"):
        runtime.start_gateway(spec, tmp_path, "carol")
    (tmp_path / STACK_FILE).unlink()
    with pytest.raises(DockerError, match="deploy the stack first"):
        runtime.start_gateway(spec, tmp_path, "alice")
    assert engine.swarm.parts == []


def _task(profile: str, state: str, desired: str = "running", code: int | None = None) -> TaskState:
    return TaskState(f"fleet_{profile}", state, desired, None, "node-1", None, DEFAULT_IMAGE, code)


def test_settled_looks_at_the_profiles_started_only(tmp_path: Path) -> None:
    spec = _write(tmp_path, {"alice": 100, "bob": 100})
    engine = FakeEngine()
    engine.swarm = Manager(tasks=[_task("alice", "running"), _task("bob", "shutdown", "shutdown")])
    runtime = SwarmRuntime(engine)
    assert runtime.settled(spec, ["alice"])  # bob is stopped (scaled to 0): up alice waits not
    assert not runtime.settled(spec, ["alice", "bob"])
    engine.swarm.tasks.append(_task("alice", "running", "shutdown"))  # a replaced one runs on
    assert not runtime.settled(spec, ["alice"])
    assert runtime.settled(spec, [])


def test_a_crash_loop_that_never_settles_ends_the_wait_at_once(tmp_path: Path) -> None:
    _write(tmp_path, {"alice": 100, "bob": 100})
    engine = FakeEngine()
    engine.swarm = Manager(
        tasks=[
            _task("bob", "running"),
            _task("alice", "failed", "shutdown", 78),
            _task("alice", "pending"),  # swarm's next attempt: the stack never settles
        ]
    )
    checked = check_loaded(load_spec(tmp_path / "openclaw-compose.yaml"), target="swarm")
    found = Preflight((), {"alice": "http://127.0.0.1:9", "bob": "http://127.0.0.1:9"})
    start = time.monotonic()
    with pytest.raises(NotReadyError) as raised:
        wait_ready(checked, engine, found, timeout=60, progress=lambda _: None)
    assert time.monotonic() - start < 10
    assert "alice will not start: the gateway exited with code 78" in raised.value.message
