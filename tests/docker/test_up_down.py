"""`up`, `down` and `doctor` as a user runs them, and the host preflight refusing taken ports."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import docker
import pytest

from openclaw_compose.core.loading import load_spec
from openclaw_compose.engine import Engine
from openclaw_compose.engine.containers import project_label
from openclaw_compose.errors import ExitCode
from tests.helpers import run_cli

from .conftest import spec_with_free_ports


def test_state_survives_down_and_up_but_not_down_volumes(
    engine: Engine, tmp_path: Path, free_bases: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    project = load_spec(spec_with_free_ports(tmp_path, free_bases, "main")).spec.project
    try:
        up = run_cli("up", "--timeout", "300")
        assert up.exit_code == 0, up.output
        assert "running" in up.stdout
        container = engine.containers.project_containers(project)["main"].name
        code, output = engine.containers.exec(
            container, ["sh", "-c", 'echo kept > "$OPENCLAW_STATE_DIR/marker"']
        )
        assert code == 0, output
        down = run_cli("down")
        assert down.exit_code == 0, down.output
        assert engine.containers.project_containers(project) == {}
        assert len(engine.containers.volumes(project_label(project))) == 3
        again = run_cli("up", "--timeout", "300")
        assert again.exit_code == 0, again.output
        container = engine.containers.project_containers(project)["main"].name
        code, output = engine.containers.exec(
            container, ["sh", "-c", 'cat "$OPENCLAW_STATE_DIR/marker"']
        )
        assert (code, output.strip()) == (0, "kept")
    finally:
        gone = run_cli("down", "--volumes", "--yes")
    assert gone.exit_code == 0, gone.output
    assert engine.containers.project_containers(project) == {}
    assert engine.containers.volumes(project_label(project)) == []
    assert engine.containers.networks(project_label(project)) == []


def test_down_volumes_asks_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli("down", "--volumes")
    assert result.exit_code == 1
    assert "Delete every volume of project 'openclaw'" in result.output


def test_taken_port_is_refused_before_anything_starts(
    engine: Engine, tmp_path: Path, free_bases: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    spec_path = spec_with_free_ports(tmp_path, free_bases, "main", "rescue")
    project = load_spec(spec_path).spec.project
    taken = free_bases[1] + 50  # inside rescue's CDP range
    with socket.socket() as holder:
        # as a server does: a port an earlier gateway served may still be in TIME_WAIT
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", taken))
        holder.listen()
        result = run_cli("up")
    assert result.exit_code == ExitCode.PROBLEMS
    assert (
        f"[port-in-use] profile 'rescue': 127.0.0.1 port {taken} already taken by process"
        in result.stderr
    )
    assert "nothing was written or started" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["openclaw-compose.yaml"]
    assert engine.containers.project_containers(project) == {}


@pytest.mark.usefixtures("engine")
def test_port_of_a_stopped_container_is_refused(
    tmp_path: Path, free_bases: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    spec_path = spec_with_free_ports(tmp_path, free_bases, "main")
    spec = load_spec(spec_path).spec
    port = free_bases[0] + 2
    name = f"octest-blocker-{os.urandom(4).hex()}"
    blocker = docker.from_env(version="auto").containers.create(
        spec.profiles["main"].image_ref(spec), name=name, ports={f"{port}/tcp": ("127.0.0.1", port)}
    )
    try:
        result = run_cli("up")
        doctor = run_cli("doctor")
    finally:
        blocker.remove(force=True)
    assert result.exit_code == ExitCode.PROBLEMS
    assert f"port {port} already taken by container '{name}' (created)" in result.stderr
    assert doctor.exit_code == ExitCode.PROBLEMS
    assert "FAIL  ports:" in doctor.stdout
    assert "ok    engine: Docker" in doctor.stdout
    assert "userland-proxy:" in doctor.stdout


def test_a_missing_browser_image_is_named_before_anything_starts(
    engine: Engine, tmp_path: Path, free_bases: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the real engine: exit 4 at once, the image and the command that builds it named,
    nothing written or started, nothing pulled (no registry is asked)."""
    monkeypatch.chdir(tmp_path)
    spec_file = spec_with_free_ports(tmp_path, free_bases, "main", "rescue")
    absent = f"openclaw-compose/gateway:absent-{os.urandom(4).hex()}"
    spec_file.write_text(
        spec_file.read_text().replace("profiles:", f"browser_image: {absent}\nprofiles:")
        + "    browser: true\n"
    )
    project = load_spec(spec_file).spec.project
    up = run_cli("up", "-o", "out")
    assert up.exit_code == ExitCode.DOCKER
    assert f"{absent} (profiles rescue)" in up.stderr
    doctor = run_cli("doctor")
    assert doctor.exit_code == ExitCode.PROBLEMS
    assert f"{absent} (profiles rescue)" in doctor.stdout
    assert not (tmp_path / "out").exists()
    assert engine.containers.project_containers(project) == {}
    assert engine.containers.image_labels(absent) is None
