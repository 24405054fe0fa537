"""The runtime pipeline's logic against an in-memory engine: the order of its steps, that
nothing is written or started when a preflight fails, and the exit codes 4 and 5."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from openclaw_compose.cli import common
from openclaw_compose.core.spec import DEFAULT_BROWSER_IMAGE, DEFAULT_IMAGE
from openclaw_compose.engine.records import ContainerState, PublishedPort
from openclaw_compose.errors import ExitCode
from openclaw_compose.testing import free_base, release_base

from .fakes import FakeEngine
from .helpers import ProbesAnswer, run_cli, snapshot, write_tree


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    engine = FakeEngine().with_images(DEFAULT_IMAGE)
    monkeypatch.setattr(common, "connect", lambda: engine)
    return engine


@pytest.fixture
def base() -> Iterator[int]:
    port = free_base()
    yield port
    release_base(port)


@pytest.fixture
def gateway(base: int) -> Iterator[int]:
    """Something that answers the gateway's probes on ``base``, as a started gateway would."""
    server = ThreadingHTTPServer(("127.0.0.1", base), ProbesAnswer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    server.server_close()


def _spec(directory: Path, base: int, extra: str = "") -> Path:
    write_tree(
        directory, {"spec.yaml": f"project: pipe\nprofiles:\n  solo:\n    port: {base}\n{extra}"}
    )
    return directory / "spec.yaml"


def test_missing_browser_image_exits_4_naming_it(
    tmp_path: Path, fake: FakeEngine, base: int
) -> None:
    spec = _spec(tmp_path, base, "    browser: true\n")
    result = run_cli("up", "-f", spec, "-o", tmp_path / "out")
    assert result.exit_code == ExitCode.DOCKER
    assert DEFAULT_BROWSER_IMAGE in result.stderr
    assert "openclaw-compose build" in result.stderr
    assert "OPENCLAW_VERSION=2026.9.6 images/build.sh --browser" in result.stderr
    assert snapshot(tmp_path / "out") == {}
    assert fake.compose.calls == []
    doctor = run_cli("doctor", "-f", spec)
    assert doctor.exit_code == ExitCode.PROBLEMS
    assert "FAIL  images: " in doctor.stdout
    assert DEFAULT_BROWSER_IMAGE in doctor.stdout


def test_port_of_another_container_is_refused_before_anything(
    tmp_path: Path, fake: FakeEngine, base: int
) -> None:
    fake.containers.published.append(
        PublishedPort("127.0.0.1", base + 2, "other-gw-1", "other", "gw", "exited")
    )
    result = run_cli("up", "-f", _spec(tmp_path, base), "-o", tmp_path / "out")
    assert result.exit_code == ExitCode.PROBLEMS
    assert "[port-in-use]" in result.stderr
    assert "container 'other-gw-1' (exited) of compose project 'other'" in result.stderr
    assert snapshot(tmp_path / "out") == {}
    assert fake.compose.calls == []


def test_a_port_held_by_time_wait_is_named_so(tmp_path: Path, fake: FakeEngine, base: int) -> None:
    """A connection that used the base port as its local port and was closed from this end
    holds it for 60 s without any process: the message says so, and what to do."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname(), source_address=("127.0.0.1", base))
        accepted, _ = server.accept()
        client.close()  # the end that closes first waits out TIME_WAIT
        accepted.close()
    result = run_cli("up", "-f", _spec(tmp_path, base), "-o", tmp_path / "out")
    assert result.exit_code == ExitCode.PROBLEMS
    assert "[port-in-use]" in result.stderr
    assert "TIME_WAIT (free again within 60 s" in result.stderr
    assert fake.compose.calls == []


def test_unavailable_publish_address_is_a_problem(
    tmp_path: Path, fake: FakeEngine, base: int
) -> None:
    spec = _spec(tmp_path, base, "network: bridge\npublish_address: 192.0.2.7\n")
    result = run_cli("up", "-f", spec, "-o", tmp_path / "out")
    assert result.exit_code == ExitCode.PROBLEMS
    assert "[publish-address-unavailable] publish_address 192.0.2.7" in result.stderr
    assert "Traceback" not in result.output
    assert snapshot(tmp_path / "out") == {}
    doctor = run_cli("doctor", "-f", spec)
    assert doctor.exit_code == ExitCode.PROBLEMS
    assert "publish-address-unavailable" in doctor.stdout
    deploy = run_cli("deploy", "-f", spec, "-o", tmp_path / "out")
    assert deploy.exit_code == ExitCode.DOCKER  # the fake engine is in no swarm
    assert "not a swarm manager" in deploy.stderr


def test_up_writes_starts_then_waits(tmp_path: Path, fake: FakeEngine, gateway: int) -> None:
    fake.containers.containers["pipe"] = {
        "solo": ContainerState("pipe-solo-1", "solo", "running", "healthy", 0, 1)
    }  # already up: its own ports are its own
    result = run_cli(
        "up", "-f", _spec(tmp_path, gateway), "-o", tmp_path / "out", "--timeout", "10"
    )
    assert result.exit_code == ExitCode.OK, result.output
    assert fake.compose.calls == [("up", "--detach", "--remove-orphans")]
    assert (tmp_path / "out" / "compose.yaml").exists()
    assert "solo ready in" in result.stderr
    row = result.stdout.splitlines()[1].split()
    assert row[:4] == ["solo", "-", f"http://127.0.0.1:{gateway}", "running"]


def test_quiet_up_prints_the_result_only(tmp_path: Path, fake: FakeEngine, gateway: int) -> None:
    fake.containers.containers["pipe"] = {
        "solo": ContainerState("pipe-solo-1", "solo", "running", "healthy", 0, 1)
    }
    spec = _spec(tmp_path, gateway)
    result = run_cli("-q", "-f", spec, "-o", tmp_path / "out", "up", "--timeout", "10")
    assert result.exit_code == ExitCode.OK, result.output
    assert result.stderr == ""
    assert result.stdout.splitlines()[1].split()[:2] == ["solo", "-"]
    piped = run_cli("-f", spec, "-o", tmp_path / "out", "up", "--timeout", "10")
    assert piped.exit_code == ExitCode.OK, piped.output
    assert "solo ready in" in piped.stderr
    assert "\x1b" not in piped.stderr + piped.stdout


def test_not_ready_exits_5_with_last_logs(tmp_path: Path, fake: FakeEngine, base: int) -> None:
    fake.containers.log_text = "Refusing to bind gateway\n"
    result = run_cli("up", "-f", _spec(tmp_path, base), "-o", tmp_path / "out", "--timeout", "1")
    assert result.exit_code == ExitCode.NOT_READY
    assert "not ready after 1 s: solo" in result.stderr
    assert "Refusing to bind gateway" in result.stderr


def test_failing_compose_exits_4(tmp_path: Path, fake: FakeEngine, base: int) -> None:
    fake.compose.fail_with = "'docker compose up' failed:\n  no space left on device"
    result = run_cli("up", "-f", _spec(tmp_path, base), "-o", tmp_path / "out")
    assert result.exit_code == ExitCode.DOCKER
    assert "no space left on device" in result.stderr


def test_unreachable_engine_exits_4(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, base: int
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{base}")  # a free port: nothing answers
    monkeypatch.chdir(tmp_path)
    result = run_cli("status")
    assert result.exit_code == ExitCode.DOCKER
    assert "cannot reach the Docker engine" in result.stderr
    assert "Traceback" not in result.output


def test_unknown_target_is_a_usage_error(workdir: Path) -> None:
    result = run_cli("check", "--target", "kubernetes")
    assert result.exit_code == ExitCode.USAGE
    assert "unknown target 'kubernetes'; the targets are: compose, swarm" in result.stderr


def test_up_shows_the_writers_notes(tmp_path: Path, fake: FakeEngine, base: int) -> None:
    write_tree(tmp_path, {"out/.env": "MINE=1\n"})
    (tmp_path / "out" / ".env").chmod(0o644)
    result = run_cli("up", "-f", _spec(tmp_path, base), "-o", tmp_path / "out", "--timeout", "1")
    assert result.exit_code == ExitCode.NOT_READY
    assert ".env was mode 0644; made it 0600" in result.stderr


def test_a_secret_without_value_is_refused_before_anything(
    tmp_path: Path, fake: FakeEngine, base: int
) -> None:
    spec = _spec(tmp_path, base, "    secrets: [PROVIDER_KEY]\n")
    result = run_cli("up", "-f", spec, "-o", tmp_path / "out")
    assert result.exit_code == ExitCode.PROBLEMS, result.output
    assert "error: [secret-missing] profile 'solo': secret PROVIDER_KEY" in result.stderr
    assert snapshot(tmp_path / "out") == {}
    assert fake.compose.calls == []


def test_an_image_with_the_old_entrypoint_is_refused(
    tmp_path: Path, fake: FakeEngine, base: int
) -> None:
    fake.containers.images[DEFAULT_IMAGE] = {"openclaw-compose.token-file": "x"}
    result = run_cli("up", "-f", _spec(tmp_path, base), "-o", tmp_path / "out")
    assert result.exit_code == ExitCode.DOCKER
    assert f"image {DEFAULT_IMAGE} cannot read its token and secrets from files" in result.stderr
    assert "build it with 'openclaw-compose build'" in result.stderr
    assert snapshot(tmp_path / "out") == {}


@pytest.mark.parametrize(
    ("extra", "refusal"),
    [
        (
            "    host_services: {models: 11434}\n",
            "cannot reach the host services its profiles are granted (profiles solo;",
        ),
        (
            "    hostname: solo.example.org\nfront: {port: 26443}\n",
            "cannot carry the HTTPS front's connections to its gateway on a bridge network "
            "(profiles solo; it has no openclaw-compose.front-relay label",
        ),
    ],
    ids=["host-services", "front"],
)
def test_an_image_without_what_its_profiles_need_is_refused(
    tmp_path: Path, fake: FakeEngine, base: int, extra: str, refusal: str
) -> None:
    fake.containers.images[DEFAULT_IMAGE] = {"openclaw-compose.secrets": "x"}
    result = run_cli("up", "-f", _spec(tmp_path, base, extra), "-o", tmp_path / "out")
    assert result.exit_code == ExitCode.DOCKER, result.output
    assert refusal in result.stderr
    assert snapshot(tmp_path / "out") == {}
    assert fake.compose.calls == []


def test_swarm_backup_off_a_manager_says_what_to_do(tmp_path: Path, fake: FakeEngine) -> None:
    spec = _spec(tmp_path, 18789)
    result = run_cli("backup", "solo", "-f", spec, "-o", tmp_path / "b", "--target", "swarm")
    assert result.exit_code == ExitCode.DOCKER
    assert "not a swarm manager" in result.stderr
    assert "docker swarm init" in result.stderr
    assert not (tmp_path / "b").exists()
