"""A real native gateway on the host next to a container, and moved into one.

The native gateway is the npm ``openclaw`` of the tested version that the image build installs
on the host (``host.images.native_openclaw``), run with its own HOME in tmp_path, exactly as
``openclaw gateway`` runs for a user: state in ``~/.openclaw``, config ``openclaw.json`` there.
One module, one sequence (the tests depend on each other's order, to start each gateway once):
native running -> a profile 20 ports above is refused, one 120 away runs side by side and each
gateway answers only its own token -> native stopped -> still refused -> import -> up -> the
container has the native's sessions and marker, and the native files are unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from openclaw_compose.engine import Engine
from openclaw_compose.errors import ExitCode, ImageMissing
from openclaw_compose.host.images import NativeOpenclaw, native_openclaw
from openclaw_compose.host.preflight import can_bind
from openclaw_compose.host.probes import probe
from openclaw_compose.testing import free_base, release_base
from tests.docker import dockerkit
from tests.helpers import run_cli
from tests.standin_provider import standin_provider

SIDE = 120
"""The container's base port above the native's: upstream's recommended spacing."""
MARKER = "native-marker-3f1c"


def _installed() -> NativeOpenclaw:
    try:
        return native_openclaw()
    except ImageMissing as exc:
        pytest.fail(exc.message)


@dataclass
class Native:
    home: Path
    base: int
    token: str = field(default_factory=lambda: secrets.token_hex(32))
    process: subprocess.Popen[bytes] | None = None

    @property
    def state(self) -> Path:
        return self.home / ".openclaw"

    @property
    def config(self) -> Path:
        return self.state / "openclaw.json"

    def env(self) -> dict[str, str]:
        return {
            "HOME": str(self.home),
            "PATH": f"{_installed().node.parent}:/usr/bin:/bin",
            "OPENCLAW_GATEWAY_TOKEN": self.token,
            "OPENCLAW_EAGER_BROWSER_CONTROL_SERVER": "1",  # base+2 answers from the start
        }

    def openclaw(self, *args: str) -> str:
        done = subprocess.run(
            _installed().command(*args),
            env=self.env(),
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        return done.stdout

    def start(self) -> None:
        with (self.home / "gateway.log").open("ab") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                _installed().command("gateway", "--bind", "loopback"),
                env=self.env(),
                cwd=self.home,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 300
        while probe(f"http://127.0.0.1:{self.base}", "startupz", timeout=2) != 200:
            code = self.process.poll()
            if code is not None:  # at once, not at the deadline
                pytest.fail(f"the native gateway exited with {code} at start:\n{self._log_tail()}")
            if time.monotonic() > deadline:
                pytest.fail("the native gateway did not answer /startupz:\n" + self._log_tail())
            time.sleep(0.5)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        deadline = time.monotonic() + 30
        while not can_bind("127.0.0.1", self.base):
            assert time.monotonic() < deadline, "the native gateway's port stayed bound"
            time.sleep(0.2)

    def _log_tail(self) -> str:
        return "\n".join((self.home / "gateway.log").read_text().splitlines()[-20:])


def _free_pair() -> int:
    """A base B with B..B+SIDE+110 free: the native's footprint and the container's."""
    for _ in range(50):
        base = free_base()
        if all(can_bind("127.0.0.1", port) for port in range(base + 111, base + SIDE + 111)):
            return base
        release_base(base)
    pytest.fail("no free block of 231 ports in OPENCLAW_COMPOSE_TEST_PORTS")


def _snapshot(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


def _spec(directory: Path, project: str, profiles: dict[str, int]) -> Path:
    lines = [f"project: {project}", "profiles:"]
    lines += [f"  {name}: {{port: {port}}}" for name, port in profiles.items()]
    path = directory / "openclaw-compose.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _status(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as refused:
        refused.close()
        return int(refused.code)


def _chat(base: int, token: str) -> str:
    body = {"model": "openclaw", "messages": [{"role": "user", "content": "hello"}]}
    request = urllib.request.Request(
        f"http://127.0.0.1:{base}/v1/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=300) as response:
        return str(json.loads(response.read())["choices"][0]["message"]["content"])


@dataclass
class Scene:
    native: Native
    directory: Path
    project: str

    @property
    def spec(self) -> Path:
        return self.directory / "openclaw-compose.yaml"

    def cli(self, *args: str | Path) -> tuple[int, str, str]:
        result = run_cli(*args, "-f", self.spec, "--home", self.native.home)
        return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def scene(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    base = _free_pair()
    home = tmp_path_factory.mktemp("native-home")
    native = Native(home, base)
    native.state.mkdir()
    (native.state / "marker.txt").write_text(MARKER)
    with standin_provider(MARKER, dockerkit.bridge_address()) as provider:
        config = {
            "gateway": {
                "port": base,
                "mode": "local",
                "auth": {"mode": "token"},
                "http": {"endpoints": {"chatCompletions": {"enabled": True}}},
            },
            "models": {"providers": {"standin": provider.provider_config("sk-native")}},
            "agents": {"defaults": {"model": {"primary": "standin/standin-model"}}},
        }
        native.config.write_text("// written as a user would\n" + json.dumps(config, indent=2))
        directory = tmp_path_factory.mktemp("native-project")
        project = f"octest-{os.urandom(4).hex()}"
        scene = Scene(native, directory, project)
        native.start()
        try:
            assert _chat(base, native.token) == MARKER
            assert provider.authorizations[-1] == "Bearer sk-native"
            yield scene
        finally:
            native.stop()
            if scene.spec.exists():
                run_cli("down", "-f", scene.spec, "-o", directory, "--volumes", "--yes")
            release_base(base)


def _assert_refused_20_above(scene: Scene) -> None:
    native = scene.native
    written = _snapshot(scene.directory)
    _spec(scene.directory, scene.project, {"rescue": native.base + 20})
    code, out, _ = scene.cli("check")
    assert code == ExitCode.PROBLEMS, out
    assert f"[native-overlap] profile 'rescue' ({native.base + 20}-" in out
    assert str(native.config) in out
    data = json.loads(scene.cli("check", "--json")[1])
    (problem,) = data["problems"]
    assert problem["code"] == "native-overlap"
    assert problem["paths"] == [str(native.config)]
    assert data["native"][0]["config"] == str(native.config)
    code, _, err = scene.cli("up", "-o", scene.directory, "--timeout", "600")
    assert code == ExitCode.PROBLEMS
    assert "[native-overlap]" in err
    written.pop("openclaw-compose.yaml", None)
    assert {k: v for k, v in _snapshot(scene.directory).items() if k in written} == written
    assert "compose.yaml" in written or not (scene.directory / "compose.yaml").exists()


def test_20_ports_above_a_running_native_is_refused(scene: Scene) -> None:
    native = scene.native
    _assert_refused_20_above(scene)
    (found,) = json.loads(scene.cli("ports", "--json")[1])["native"]
    assert found["base"] == native.base
    assert found["running"] is True
    assert found["pid"] is not None


def test_120_away_runs_side_by_side_each_with_its_own_token(scene: Scene) -> None:
    native = scene.native
    _spec(scene.directory, scene.project, {"side": native.base + SIDE})
    code, out, err = scene.cli("up", "-o", scene.directory, "--timeout", "600")
    assert code == 0, out + err
    env = (scene.directory / ".env").read_text()
    token = env.split("OPENCLAW_TOKEN_SIDE=", 1)[1].split()[0]
    side = native.base + SIDE
    assert probe(f"http://127.0.0.1:{native.base}", "startupz") == 200
    assert probe(f"http://127.0.0.1:{side}", "startupz") == 200
    native_control = f"http://127.0.0.1:{native.base + 2}/"
    side_control = f"http://127.0.0.1:{side + 2}/"
    assert _status(native_control, native.token) == 200
    assert _status(native_control, token) == 401
    assert _status(side_control, token) == 200
    assert _status(side_control, native.token) == 401


def test_still_refused_after_the_native_stopped(scene: Scene) -> None:
    native = scene.native
    code, _, err = scene.cli("import", "moved", "--from", native.state)
    assert code == ExitCode.USAGE  # not in the spec yet: nothing looked at
    spec_text = scene.spec.read_text()
    scene.spec.write_text(spec_text + f"  moved: {{port: {native.base + SIDE * 2}}}\n")
    code, _, err = scene.cli("import", "moved", "--from", native.state)
    assert code == ExitCode.PROBLEMS
    assert "is running" in err
    native.stop()
    (found,) = json.loads(scene.cli("ports", "--json")[1])["native"]
    assert found["running"] is False
    scene.spec.write_text(spec_text)
    _assert_refused_20_above(scene)


def test_import_then_up_has_the_natives_sessions_and_files(engine: Engine, scene: Scene) -> None:
    native = scene.native
    sessions = json.loads(native.openclaw("sessions", "--json"))["sessions"]
    assert sessions, "the chat turn left no session"
    before = _snapshot(native.state)  # state, config and workspace: the gateway's own files
    moved = native.base + SIDE  # the side-by-side profile's ports, free once it is down
    if (scene.directory / "compose.yaml").exists():  # the side-by-side profile's, if it ran
        down = run_cli("down", "-f", scene.spec, "-o", scene.directory, "--volumes", "--yes")
        assert down.exit_code == 0, down.output
    _spec(scene.directory, scene.project, {"moved": moved})
    code, out, err = scene.cli("import", "moved", "--from", native.state)
    assert code == 0, out + err
    assert f"changed  gateway.port: {native.base} -> {moved}" in out
    assert out.rstrip().endswith("next: openclaw-compose up")  # 120 away: no --ignore-native
    code, _, err = scene.cli("import", "moved", "--from", native.state)
    assert code == ExitCode.PROBLEMS
    assert "already has files" in err
    code, out, err = scene.cli("up", "-o", scene.directory, "--timeout", "600")
    assert code == 0, out + err
    container = engine.containers.project_containers(scene.project)["moved"].name
    status, listing = engine.containers.exec(container, ["openclaw", "sessions", "--json"])
    assert status == 0, listing
    imported = json.loads(listing[listing.index("{") :])["sessions"]
    assert {s["sessionId"] for s in imported} == {s["sessionId"] for s in sessions}
    assert {s["key"] for s in imported} == {s["key"] for s in sessions}
    status, marker = engine.containers.exec(container, ["cat", "/home/node/.openclaw/marker.txt"])
    assert (status, marker) == (0, MARKER)
    status, config = engine.containers.exec(
        container, ["cat", "/home/node/.openclaw-config/openclaw.json"]
    )
    assert json.loads(config)["gateway"]["port"] == moved
    assert _snapshot(native.state) == before
