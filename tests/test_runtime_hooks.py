"""The runtime hooks behind logs, cli, import, plan, doctor and the waits' live lines, on the fake
engine: what each target asks of the engine, and what swarm refuses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from openclaw_compose.cli import common
from openclaw_compose.core.audit import Finding
from openclaw_compose.core.checks import Report
from openclaw_compose.core.loading import LoadedSpec, validate
from openclaw_compose.core.ports import plan_ports
from openclaw_compose.core.spec import Spec
from openclaw_compose.engine.records import ContainerState, SwarmState, TaskState
from openclaw_compose.errors import ExitCode, UsageError
from openclaw_compose.project import CheckedSpec
from openclaw_compose.runtime.doctor import running_gateways
from openclaw_compose.runtime.upgrade import _Run
from openclaw_compose.targets import get_target
from openclaw_compose.targets.base import LogOptions, WatchFn
from openclaw_compose.targets.compose.plan import HASH_LABEL
from openclaw_compose.targets.compose.runtime import ComposeRuntime
from openclaw_compose.targets.swarm.runtime import SwarmRuntime

from .fakes import FakeEngine, FakeSwarm
from .helpers import run_cli, write_tree

SPEC = {"project": "fleet", "profiles": {"alice": {"port": 18789}, "bob": {"port": 19789}}}


@dataclass
class ManagerSwarm(FakeSwarm):
    """A one-node swarm this engine manages, where alice's task runs."""

    def state(self) -> SwarmState:
        return SwarmState("active", "node-1", manager=True)

    def stack_tasks(self, stack: str) -> list[TaskState]:
        return [TaskState(f"{stack}_alice", "running", "running", None, "node-1", "alice.1.t")]


def _spec() -> Spec:
    return validate(SPEC, source="test")


def test_log_options_as_the_docker_cli_takes_them() -> None:
    assert LogOptions().args() == ["--tail", "200"]
    every = LogOptions(tail="all", follow=True, since="10m", timestamps=True)
    assert every.args() == ["--tail", "all", "--follow", "--timestamps", "--since", "10m"]


def test_compose_logs_and_cli_go_through_docker_compose(tmp_path: Path) -> None:
    engine = FakeEngine()
    engine.compose.log_lines = ["alice-1  | hello"]
    runtime, lines = ComposeRuntime(engine), list[str]()
    assert runtime.logs(_spec(), tmp_path, ["bob"], LogOptions(follow=True), lines.append) == 0
    assert lines == ["alice-1  | hello"]
    assert runtime.run_cli(_spec(), tmp_path, "bob", ["gateway", "status"], tty=False) == 0
    assert runtime.run_cli(_spec(), tmp_path, "bob", ["status"], tty=True) == 0
    assert engine.compose.calls == [
        ("logs", "--tail", "200", "--follow", "bob"),
        ("exec", "-T", "bob", "openclaw-compose-entrypoint", "--exec", "gateway", "status"),
        ("exec", "bob", "openclaw-compose-entrypoint", "--exec", "status"),
    ]


def test_compose_running_names_a_running_container_only() -> None:
    engine = FakeEngine()
    engine.containers.containers["fleet"] = {
        "alice": ContainerState("fleet-alice-1", "alice", "running", "healthy", 0, 0),
        "bob": ContainerState("fleet-bob-1", "bob", "exited", None, 0, 1),
    }
    runtime = ComposeRuntime(engine)
    assert runtime.running(_spec(), "alice") == "fleet-alice-1"
    assert runtime.running(_spec(), "bob") is None


def test_local_gateway_is_a_running_container_on_this_engine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Compose: the running container, as ``running``. Swarm: a task's container on this node
    only; alice's task runs, on a node whose containers this engine does not list."""
    states = {
        "alice": ContainerState("fleet-alice-1", "alice", "running", "healthy", 0, 1),
        "bob": ContainerState("fleet-bob-1", "bob", "exited", None, 0, 0),
    }
    engine = FakeEngine()
    engine.containers.containers["fleet"] = dict(states)
    compose = ComposeRuntime(engine)
    assert [compose.local_gateway(_spec(), name) for name in SPEC["profiles"]] == [
        "fleet-alice-1",
        None,
    ]
    swarm = SwarmRuntime(FakeEngine(swarm=ManagerSwarm()))
    assert swarm.running(_spec(), "alice") == "alice.1.t"
    assert swarm.local_gateway(_spec(), "alice") is None
    engine = FakeEngine(swarm=ManagerSwarm())
    monkeypatch.setattr(engine.containers, "stack_containers", {"fleet": states}.get)
    swarm = SwarmRuntime(engine)
    assert [swarm.local_gateway(_spec(), name) for name in SPEC["profiles"]] == [
        "fleet-alice-1",
        None,
    ]


@pytest.mark.parametrize(
    ("target", "where"), [("compose", "in this project"), ("swarm", "on this node")]
)
def test_doctor_says_where_it_found_no_gateway_to_audit(
    tmp_path: Path, target: str, where: str
) -> None:
    spec = _spec()
    checked = CheckedSpec(
        LoadedSpec(spec, "test", tmp_path), plan_ports(spec), Report(()), get_target(target)
    )
    assert running_gateways(checked, FakeEngine()) == [
        Finding(name, True, f"not running {where}: nothing to audit") for name in ("alice", "bob")
    ]


def test_swarm_logs_read_each_service_in_turn(tmp_path: Path) -> None:
    swarm = ManagerSwarm()
    runtime, lines = SwarmRuntime(FakeEngine(swarm=swarm)), list[str]()
    options = LogOptions(tail="all", timestamps=True)
    assert runtime.logs(_spec(), tmp_path, [], options, lines.append) == 0
    assert swarm.streamed == [
        ("fleet_alice", "--tail", "all", "--timestamps"),
        ("fleet_bob", "--tail", "all", "--timestamps"),
    ]
    assert lines[0].startswith("fleet_alice.1.task@node")
    assert runtime.logs(_spec(), tmp_path, ["bob"], LogOptions(follow=True), lines.append) == 0
    assert swarm.streamed[-1] == ("fleet_bob", "--tail", "200", "--follow")


def test_swarm_follows_one_service_and_has_no_cli(tmp_path: Path) -> None:
    swarm = ManagerSwarm()
    runtime = SwarmRuntime(FakeEngine(swarm=swarm))
    with pytest.raises(UsageError, match="follows one profile"):
        runtime.logs(_spec(), tmp_path, [], LogOptions(follow=True), print)
    assert swarm.streamed == []
    with pytest.raises(UsageError, match="compose target"):
        runtime.run_cli(_spec(), tmp_path, "alice", ["status"], tty=False)
    assert runtime.running(_spec(), "alice") == "alice.1.t"
    assert runtime.running(_spec(), "bob") is None


def test_logs_target_swarm_on_the_command_line(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tree(
        workdir, {"openclaw-compose.yaml": "project: fleet\nprofiles:\n  alice: {port: 18789}\n"}
    )
    engine = FakeEngine(swarm=ManagerSwarm())
    monkeypatch.setattr(common, "connect", lambda: engine)
    result = run_cli("logs", "--target", "swarm", "-t")
    assert result.exit_code == ExitCode.OK, result.stderr
    assert result.stdout == "fleet_alice.1.task@node    | gateway log line\n"
    assert engine.compose.calls == []


def test_compose_wait_shows_each_look(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = FakeEngine()
    engine.containers.containers["fleet"] = {
        "alice": ContainerState("fleet-alice-1", "alice", "running", "starting", 0, 0)
    }
    answers = iter([None, 200, 503, 200, 200])
    monkeypatch.setattr("openclaw_compose.targets.compose.runtime.probe", lambda *_: next(answers))
    monkeypatch.setattr("openclaw_compose.polling.time.sleep", lambda _: None)
    seen: list[str] = []
    runtime = ComposeRuntime(engine)
    assert runtime.await_gateway(_spec(), "alice", 60, steady=2, watch=seen.append) is None
    assert seen == [
        "container running, no answer yet (0 of 2 in a row)",
        "container running, ready (1 of 2 in a row)",
        "container running, /startupz answers 503 (0 of 2 in a row)",
        "container running, ready (1 of 2 in a row)",
    ]


class Watched(ComposeRuntime):
    """A wait that reports two states and succeeds."""

    def await_gateway(
        self,
        spec: Spec,
        profile: str,
        timeout: float,
        *,
        steady: int,
        watch: WatchFn | None = None,
    ) -> str | None:
        del spec, profile, timeout, steady
        if watch is not None:
            watch("container running, no answer yet")
            watch("container running, ready")
        return None


def test_upgrade_waits_redraw_the_profiles_line(tmp_path: Path) -> None:
    engine = FakeEngine()
    loaded = LoadedSpec(_spec(), "test", tmp_path)
    shown: list[list[str]] = []

    def live(lines: Sequence[str]) -> None:
        shown.append(list(lines))

    run = _Run(loaded, tmp_path, engine, Watched(engine), "compose", 5, print, live)
    assert run.wait(_spec(), "bob") is None
    assert shown == [
        ["bob: container running, no answer yet (0 s)"],
        ["bob: container running, ready (0 s)"],
    ]
    quiet = _Run(loaded, tmp_path, engine, Watched(engine), "compose", 5, print)
    assert quiet.wait(_spec(), "bob") is None


def test_compose_plans_each_container_by_its_config_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No project yet: every profile created; then Compose's hash of each service, computed
    on the project as up would write it, against its running container's label."""
    engine = FakeEngine()
    engine.containers.containers["fleet"] = {
        name: ContainerState(f"fleet-{name}-1", name, "running", "healthy", 0, 1, {HASH_LABEL: h})
        for name, h in (("alice", "a1"), ("bob", "b0"), ("carol", "c1"))
    }
    asked: list[tuple[str, ...]] = []

    def config_hash(directory: Path, *args: str) -> str:
        asked.append(args)
        assert "name: fleet" in Path(args[1]).read_text()
        return "alice a1\nbob b1\n"

    monkeypatch.setattr(engine.compose, "run", config_hash)
    runtime, loaded = ComposeRuntime(engine), LoadedSpec(_spec(), "test", tmp_path)
    out = tmp_path / "out"
    planned = runtime.plan_containers(loaded, plan_ports(loaded.spec), out)
    assert planned == {"alice": "create", "bob": "create", "carol": "remove"}
    assert asked == []
    out.mkdir()
    planned = runtime.plan_containers(loaded, plan_ports(loaded.spec), out)
    assert planned == {"alice": "keep", "bob": "recreate", "carol": "remove"}
    (args,) = asked
    assert (args[0], args[2], args[4:]) == ("-f", "--env-file", ("config", "--hash", "*"))
    assert not Path(args[1]).exists()  # its temporary directory is gone
    assert list(out.iterdir()) == []  # plan writes nothing


def test_swarm_cannot_tell_what_deploy_does_to_a_task(tmp_path: Path) -> None:
    engine = FakeEngine(swarm=ManagerSwarm())
    loaded = LoadedSpec(_spec(), "test", tmp_path)
    planned = SwarmRuntime(engine).plan_containers(loaded, plan_ports(loaded.spec), tmp_path)
    assert planned == {"alice": "unknown", "bob": "unknown"}
