"""Project identity and one profile at a time on a real engine, on one running project: a
second directory with the same project name cannot touch it; restart, stop and start of one
profile leave the other's container alone; ps; status and cli of a stopped gateway; a foreign
listener inside a running profile's footprint is named by up and doctor."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from openclaw_compose.engine import Engine
from openclaw_compose.engine.containers import project_label
from openclaw_compose.errors import ExitCode
from openclaw_compose.runtime.ownership import record_volume
from openclaw_compose.testing import free_base, release_base
from tests.helpers import run_cli

from .dockerkit import inspect_container


def _write(directory: Path, project: str, bases: list[int]) -> Path:
    directory.mkdir()
    path = directory / "openclaw-compose.yaml"
    path.write_text(
        f"# the first directory's file\nproject: {project}\nnetwork: host\nprofiles:\n"
        f"  main:\n    port: {bases[0]}\n  rescue:\n    port: {bases[1]}\n    role: rescue\n"
    )
    return path


@pytest.fixture(scope="module")
def running(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A two-profile project, up, from the directory ``one``."""
    bases = [free_base(), free_base()]
    project = f"octest-identity-{os.urandom(3).hex()}"
    spec = _write(tmp_path_factory.mktemp("identity") / "one", project, bases)
    try:
        for profile in ("main", "rescue"):  # one at a time: the other is left as it is
            up = run_cli("up", profile, "-f", spec, "-o", spec.parent, "--timeout", "300")
            assert up.exit_code == 0, up.output
        yield spec
    finally:
        down = run_cli("down", "--volumes", "--yes", "-f", spec, "-o", spec.parent)
        for base in bases:
            release_base(base)
    assert down.exit_code == 0, down.output
    assert engine.containers.volumes(project_label(project)) == []
    assert engine.containers.volume_labels(record_volume(project)) is None


def _project(spec: Path) -> str:
    return spec.read_text().split("project: ")[1].split("\n")[0]


def _started(engine: Engine, spec: Path) -> dict[str, tuple[str, str]]:
    """Profile -> (container id, StartedAt)."""
    containers = engine.containers.project_containers(_project(spec))
    return {
        name: (attrs["Id"], attrs["State"]["StartedAt"])
        for name, attrs in ((n, inspect_container(c.name)) for n, c in containers.items())
    }


def test_a_second_directory_cannot_touch_the_first_ones_project(
    engine: Engine, running: Path, tmp_path: Path
) -> None:
    before = _started(engine, running)
    other = tmp_path / "two"
    other.mkdir()
    spec = other / "openclaw-compose.yaml"
    spec.write_text(running.read_text().replace("  rescue:", "  helper:"))
    volumes = engine.containers.volumes(project_label(_project(running)))
    for command in (["up"], ["down", "--volumes", "--yes"], ["stop", "main"]):
        refused = run_cli(*command, "-f", spec, "-o", other)
        assert refused.exit_code == ExitCode.NOT_OWNER, refused.output
        assert f"belongs to another profiles file: {running.resolve()}" in refused.stderr
    assert _started(engine, running) == before
    assert engine.containers.volumes(project_label(_project(running))) == volumes
    assert sorted(p.name for p in other.iterdir()) == ["openclaw-compose.yaml"]


def test_one_profile_at_a_time_and_the_exit_codes_of_a_stopped_gateway(
    engine: Engine, running: Path
) -> None:
    where = ["-f", str(running), "-o", str(running.parent)]
    before = _started(engine, running)
    restarted = run_cli("restart", "rescue", *where, "--timeout", "300")
    assert restarted.exit_code == 0, restarted.output
    after = _started(engine, running)
    assert after["main"] == before["main"]
    assert after["rescue"][0] == before["rescue"][0]  # the same container, started again
    assert after["rescue"][1] != before["rescue"][1]

    assert run_cli("stop", "rescue", *where).exit_code == 0
    ps = run_cli("ps", "--json", "-f", running)
    states = {row["profile"]: row["state"] for row in json.loads(ps.stdout)["profiles"]}
    assert states == {"main": "running", "rescue": "exited"}
    status = run_cli("status", "-f", running)
    assert status.exit_code == ExitCode.NOT_RUNNING
    assert "not running and healthy: rescue (exited)" in status.stderr
    for command in (["cli", "rescue", *where, "--", "--version"], ["dashboard", "rescue", *where]):
        refused = run_cli(*command)
        assert refused.exit_code == ExitCode.NOT_RUNNING, refused.output
        assert "the gateway of profile 'rescue' is not running (exited)" in refused.stderr
        assert "#token=" not in refused.stdout

    started = run_cli("start", "rescue", *where, "--timeout", "300")
    assert started.exit_code == 0, started.output
    again = _started(engine, running)
    assert again["main"] == before["main"]
    assert again["rescue"][0] == before["rescue"][0]
    assert run_cli("status", "-f", running).exit_code == 0


def test_a_foreign_listener_inside_a_running_profile_is_named(
    engine: Engine, running: Path
) -> None:
    base = int(running.read_text().split("port: ")[1].split("\n")[0])
    taken = base + 50  # inside main's CDP range: free until a browser profile opens it
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", taken))
        holder.listen()
        doctor = run_cli("doctor", "-f", running)
        up = run_cli("up", "-f", running, "-o", running.parent)
    named = f"port {taken} already taken by process {os.getpid()} ("
    assert doctor.exit_code == ExitCode.PROBLEMS
    assert named in doctor.stdout
    assert up.exit_code == ExitCode.PROBLEMS
    assert named in up.stderr
    assert engine.containers.project_containers(_project(running))["main"].status == "running"
