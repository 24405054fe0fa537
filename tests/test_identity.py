"""Project identity and one profile at a time, against the in-memory engine: a project belongs
to one profiles file; restart/stop/start act on the named profiles only; the exit codes of
status, cli and dashboard for a gateway that is not running."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from openclaw_compose.cli import common
from openclaw_compose.core.loading import load_spec
from openclaw_compose.core.spec import DEFAULT_IMAGE, project_for
from openclaw_compose.engine.records import ContainerState, ServiceState
from openclaw_compose.errors import ExitCode, NotFound
from openclaw_compose.host import preflight
from openclaw_compose.runtime.ownership import OWNER_LABEL, claim, record_volume, require_owner
from openclaw_compose.targets import get_target
from openclaw_compose.testing import free_base, release_base

from .fakes import FakeEngine
from .helpers import ProbesAnswer, run_cli, write_tree


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    engine = FakeEngine().with_images(DEFAULT_IMAGE)
    monkeypatch.setattr(common, "connect", lambda: engine)
    return engine


@pytest.fixture
def bases(fake: FakeEngine, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Two base ports, answered as started gateways answer their probes once the fake engine
    has started something (before that, they are free for the preflight)."""
    ports = [free_base(), free_base()]
    servers: dict[str, ThreadingHTTPServer] = {}
    run = fake.compose.run

    def starting(directory: Path, *args: str) -> str:
        named = [arg for arg in args[1:] if not arg.startswith("-")] or ["a", "b"]
        for name, port in zip(("a", "b"), ports, strict=True):
            if args[0] in ("up", "start", "restart") and name in named and name not in servers:
                servers[name] = ThreadingHTTPServer(("127.0.0.1", port), ProbesAnswer)
                threading.Thread(target=servers[name].serve_forever, daemon=True).start()
        return run(directory, *args)

    monkeypatch.setattr(fake.compose, "run", starting)
    yield ports
    for server in servers.values():
        server.shutdown()
        server.server_close()
    for port in ports:
        release_base(port)


def _spec(directory: Path, bases: list[int], project: str = "ident") -> Path:
    write_tree(
        directory,
        {
            "openclaw-compose.yaml": f"project: {project}\nprofiles:\n"
            f"  a:\n    port: {bases[0]}\n  b:\n    port: {bases[1]}\n"
        },
    )
    return directory / "openclaw-compose.yaml"


def test_a_second_file_with_the_same_project_name_is_refused(
    tmp_path: Path, fake: FakeEngine, bases: list[int]
) -> None:
    first = _spec(tmp_path / "one", bases)
    second = _spec(tmp_path / "two", bases)
    up = run_cli("up", "-f", first, "-o", tmp_path / "one", "--timeout", "10")
    assert up.exit_code == ExitCode.OK, up.output
    assert fake.containers.volume_labels(record_volume("ident")) == {
        OWNER_LABEL: str(first.resolve()),
        "io.openclaw-compose.project": "ident",
    }
    calls = list(fake.compose.calls)
    for command in (
        ["up"],
        ["deploy"],
        ["undeploy", "--volumes", "--yes"],
        ["down", "--volumes", "--yes"],
        ["restart", "a"],
        ["stop", "a"],
        ["start", "a"],
        ["restore", "a", str(tmp_path / "none.tar.gz")],
    ):
        refused = run_cli(*command, "-f", second, "-o", tmp_path / "two")
        assert refused.exit_code == ExitCode.NOT_OWNER, (command, refused.output)
        assert f"belongs to another profiles file: {first.resolve()}" in refused.stderr
        assert "'project:'" in refused.stderr
    assert fake.compose.calls == calls
    assert set(fake.containers.project_containers("ident")) == {"a", "b"}
    adopted = run_cli("up", "-f", second, "-o", tmp_path / "two", "--adopt", "--timeout", "10")
    assert adopted.exit_code == ExitCode.OK, adopted.output
    assert f"taken over from {first.resolve()}" in adopted.stderr
    down = run_cli("down", "--volumes", "--yes", "-f", second, "-o", tmp_path / "two")
    assert down.exit_code == ExitCode.OK, down.output
    assert fake.containers.volume_labels(record_volume("ident")) is None


def test_a_project_without_owner_is_adopted_and_a_stale_record_replaced(
    tmp_path: Path, fake: FakeEngine, bases: list[int]
) -> None:
    spec = _spec(tmp_path, bases)
    fake.containers.containers["ident"] = {
        "a": ContainerState("ident-a-1", "a", "running", "healthy", 0, 1)
    }
    up = run_cli("up", "-f", spec, "-o", tmp_path, "--timeout", "10")
    assert up.exit_code == ExitCode.OK, up.output
    assert "project 'ident' had no owner; it belongs to" in up.stderr
    fake.containers.containers.clear()  # nothing of the project is left: a record protects nothing
    fake.containers.volume_set[record_volume("ident")][OWNER_LABEL] = "/gone/openclaw-compose.yaml"
    notes: list[str] = []
    claim(fake, require_owner(fake, load_spec(spec)), notes.append)
    assert notes == []
    assert fake.containers.volume_labels(record_volume("ident")) == {
        OWNER_LABEL: str(spec.resolve()),
        "io.openclaw-compose.project": "ident",
    }


def test_one_profile_starts_with_its_carrier_and_host_link(
    tmp_path: Path, fake: FakeEngine, bases: list[int]
) -> None:
    text = _spec(tmp_path, bases).read_text() + "    egress: none\n    host_services: {m: 11434}\n"
    (tmp_path / "openclaw-compose.yaml").write_text(text)
    spec = tmp_path / "openclaw-compose.yaml"
    up = run_cli("up", "b", "-f", str(spec), "-o", str(tmp_path), "--timeout", "10")
    assert up.exit_code == ExitCode.OK, up.output
    assert ("up", "--detach", "--no-deps", "b", "b.ports", "b.host") in fake.compose.calls


def test_one_profile_at_a_time_leaves_the_other_untouched(
    tmp_path: Path, fake: FakeEngine, bases: list[int]
) -> None:
    spec = _spec(tmp_path, bases)
    out = ["-f", str(spec), "-o", str(tmp_path)]
    up = run_cli("up", "b", *out, "--timeout", "10")
    assert up.exit_code == ExitCode.OK, up.output
    assert fake.compose.calls[-1] == ("up", "--detach", "--no-deps", "b")
    assert set(fake.containers.project_containers("ident")) == {"b"}
    assert run_cli("up", *out, "--timeout", "10").exit_code == ExitCode.OK
    before = fake.containers.project_containers("ident")
    for verb, state in (("restart", "running"), ("stop", "exited"), ("start", "running")):
        result = run_cli(verb, "a", *out, *([] if verb == "stop" else ["--timeout", "10"]))
        assert result.exit_code == ExitCode.OK, result.output
        now = fake.containers.project_containers("ident")
        assert now["b"] == before["b"]
        assert now["a"].status == state
    assert [call for call in fake.compose.calls if call[0] in ("restart", "stop")] == [
        ("restart", "a"),
        ("stop", "a"),
    ]
    ps = run_cli("ps", "--json", "-f", spec)
    assert ps.exit_code == ExitCode.OK
    rows = json.loads(ps.stdout)["profiles"]
    assert [(row["profile"], row["container"], row["state"]) for row in rows] == [
        ("a", "ident-a-1", "running"),
        ("b", "ident-b-1", "running"),
    ]
    assert rows[0]["ports"] == [str(bases[0]), f"{bases[0] + 2}", *rows[0]["ports"][2:]]
    assert run_cli("ps", "-f", spec).stdout.splitlines()[0].split() == [
        "PROFILE",
        "CONTAINER",
        "STATE",
        "HEALTH",
        "PORTS",
    ]


def test_an_unknown_profile_is_a_usage_error_naming_the_profiles(
    tmp_path: Path, fake: FakeEngine, bases: list[int]
) -> None:
    spec = _spec(tmp_path, bases)
    for command in (["up", "c"], ["restart", "a", "c"], ["stop", "c"], ["start", "c"]):
        result = run_cli(*command, "-f", spec, "-o", tmp_path)
        assert result.exit_code == ExitCode.USAGE, command
        assert "no profile 'c'; the profiles are: a, b" in result.stderr
    assert fake.compose.calls == []


def test_status_cli_and_dashboard_of_a_stopped_gateway(
    tmp_path: Path, fake: FakeEngine, bases: list[int]
) -> None:
    spec = _spec(tmp_path, bases)
    out = ["-f", str(spec), "-o", str(tmp_path)]
    assert run_cli("up", *out, "--timeout", "10").exit_code == ExitCode.OK
    assert run_cli("status", "-f", spec).exit_code == ExitCode.OK
    assert run_cli("stop", "b", *out).exit_code == ExitCode.OK
    status = run_cli("status", "-f", spec)
    assert status.exit_code == ExitCode.NOT_RUNNING
    assert "not running and healthy: b (exited)" in status.stderr
    for command in (["cli", "b", *out, "--", "gateway", "status"], ["dashboard", "b", *out]):
        result = run_cli(*command)
        assert result.exit_code == ExitCode.NOT_RUNNING, result.output
        assert "the gateway of profile 'b' is not running (exited)" in result.stderr
        assert "openclaw-compose start b" in result.stderr
        assert "http" not in result.stdout
    assert "#token=" in run_cli("dashboard", "a", *out).stdout


def test_a_foreign_listener_in_a_running_profiles_footprint_is_named(
    tmp_path: Path, fake: FakeEngine, bases: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = _spec(tmp_path, bases)
    container_pid = 2**22 + 7
    fake.containers.containers["ident"] = {
        name: ContainerState(f"ident-{name}-1", name, "running", "healthy", 0, container_pid)
        for name in ("a", "b")
    }  # running in a pid namespace of their own: this test's listener is not theirs
    host_namespace = preflight._pid_namespace(str(os.getpid()))
    monkeypatch.setattr(
        preflight,
        "_pid_namespace",
        lambda pid: "pid:[container]" if pid == str(container_pid) else host_namespace,
    )
    with socket.create_server(("127.0.0.1", bases[0] + 50)):
        doctor = run_cli("doctor", "-f", spec)
        up = run_cli("up", "-f", spec, "-o", tmp_path)
    held = f"port {bases[0] + 50} already taken by process {os.getpid()} ("
    assert doctor.exit_code == ExitCode.PROBLEMS
    assert held in doctor.stdout
    assert up.exit_code == ExitCode.PROBLEMS
    assert held in up.stderr
    assert fake.compose.calls == []


def test_init_names_the_project_after_its_directory(tmp_path: Path) -> None:
    directory = tmp_path / "My Gateways.v2"
    directory.mkdir()
    assert run_cli("init", "-f", directory / "openclaw-compose.yaml").exit_code == 0
    assert project_for(directory) == "openclaw-mygatewaysv2"
    text = (directory / "openclaw-compose.yaml").read_text()
    assert "\nproject: openclaw-mygatewaysv2\n" in text


@pytest.mark.usefixtures("workdir")
def test_the_embedded_default_is_said_once() -> None:
    result = run_cli("ports")
    assert result.exit_code == 0
    assert result.stderr.count("using the embedded default") == 1
    Path("openclaw-compose.yaml").write_text("profiles:\n  main:\n    port: 18789\n")
    assert "embedded" not in run_cli("ports").stderr


def test_swarm_restarts_one_profile_by_a_forced_update_of_its_service(tmp_path: Path) -> None:
    engine = FakeEngine()
    spec = load_spec(_spec(tmp_path, [18789, 19789])).spec
    engine.swarm.services = {
        name: ServiceState(name, name, "image") for name in ("ident_a", "ident_b")
    }
    runtime = get_target("swarm").runtime(engine)
    runtime.restart_gateway(spec, tmp_path, "a")
    assert engine.swarm.forced == ["ident_a"]
    engine.swarm.services.pop("ident_a")
    with pytest.raises(NotFound, match="no service ident_a; deploy the stack first"):
        runtime.restart_gateway(spec, tmp_path, "a")
