"""Issue 18's day 2 on the one-node swarm (the ``swarm`` fixture), on one stack of main + rescue
deployed with the CLI as a user would. Tests run in file order, each leaving the stack as the
next expects:

- a second directory whose profiles file names the same project cannot deploy, undeploy,
  restart, stop, start or ``up`` one profile of it (exit 9, naming the owner's file);
- both profiles' ``openclaw:`` changed, then ``up main --target swarm``: main gets its provider
  (a chat through the stand-in proves it), keeps a key set inside it and loses the key removed
  from the file; rescue's service and task are untouched, its config not converged;
- ``deploy`` then converges rescue (its chat reaches its own stand-in), leaves main's task
  alone, and every key set inside a gateway survives (rescue's across a new task);
- restart, stop and start of rescue never touch main's task, and ``up main`` while rescue is
  stopped does not wait for rescue;
- a profile added with an image whose gateway exits 78 ends ``deploy`` at once (exit 5, the code
  explained, its last log lines), main and rescue untouched.

The stand-in providers listen on the host's ``docker_gwbridge`` address, which the overlay tasks
reach (see ``test_swarm_secrets.py``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from openclaw_compose.core.contract import CONFIG_PATH
from openclaw_compose.core.loading import load_spec
from openclaw_compose.engine import Engine
from openclaw_compose.engine.containers import stack_label
from openclaw_compose.engine.records import SwarmState
from openclaw_compose.errors import ExitCode
from openclaw_compose.host.preflight import SWARM_ADDRESS
from openclaw_compose.runtime.ownership import record_volume
from openclaw_compose.testing import free_base, gateway_endpoints, release_base
from tests.helpers import run_cli
from tests.standin_provider import MODEL, StandinProvider, standin_provider

from . import dockerkit
from .test_converge import CHAT_ON
from .test_secrets import KEYS, provider_fragment
from .test_swarm_upgrade import Stack

PROFILES = ("main", "rescue")
USER_KEY = ("agents.defaults.heartbeat.every", "2h")
"""Set inside each gateway with ``openclaw config set``: no profiles file names it."""


@dataclass
class Day2(Stack):
    providers: dict[str, StandinProvider]
    crash_port: int

    def write(self, profiles: dict[str, dict[str, Any]]) -> None:
        document = {"project": self.project, "profiles": profiles}
        self.spec_file.write_text(json.dumps(document, indent=2) + "\n")

    def profiles(self, fragments: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {
            name: {"port": self.ports[name], "secrets": ["PROVIDER_KEY"], "openclaw": fragment}
            | ({"role": "rescue"} if name == "rescue" else {})
            for name, fragment in fragments.items()
        }

    def day2(self) -> dict[str, dict[str, Any]]:
        """Main: its provider added, ``timeoutSeconds`` gone; rescue: its provider added."""
        return self.profiles({name: provider_fragment(self.providers[name]) for name in PROFILES})

    def deploy(self, *args: str) -> tuple[int, str, str]:
        result = run_cli("deploy", *args, "-f", self.spec_file, "-o", self.directory)
        return result.exit_code, result.stdout, result.stderr

    def config(self, engine: Engine, profile: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.run(engine, profile, "cat", CONFIG_PATH))
        return data

    def chat(self, profile: str) -> str:
        spec = load_spec(self.spec_file).spec
        return gateway_endpoints(spec, self.directory)[profile].chat("Hello?").strip()

    def service(self, profile: str) -> dict[str, Any]:
        """Swarm's spec of the profile's service."""
        spec: dict[str, Any] = dockerkit.inspect_service(f"{self.project}_{profile}")["Spec"]
        return spec

    def version(self, profile: str) -> int:
        """The version of the profile's service: bumped by every update of it (a forced one, a
        scale, any ``docker stack deploy`` that names it, even unchanged)."""
        return int(dockerkit.inspect_service(f"{self.project}_{profile}")["Version"]["Index"])


DAY1: dict[str, dict[str, Any]] = {
    "main": {"gateway": CHAT_ON, "agents": {"defaults": {"timeoutSeconds": 300}}},
    "rescue": {"gateway": CHAT_ON},
}


@pytest.fixture(scope="module")
def stack(
    engine: Engine, swarm: SwarmState, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Day2]:
    del swarm  # the engine is a swarm manager for the module
    directory = tmp_path_factory.mktemp("swarm-day2")
    host = dockerkit.gwbridge_address()
    project = f"octest-{os.urandom(4).hex()}"
    ports = {profile: free_base(SWARM_ADDRESS) for profile in PROFILES}
    crash_port = free_base(SWARM_ADDRESS)
    spec_file = directory / "openclaw-compose.yaml"
    try:
        with (
            standin_provider("MARKER-day2-main", host) as main,
            standin_provider("MARKER-day2-rescue", host) as rescue,
        ):
            made = Day2(
                directory, spec_file, project, ports, {"main": main, "rescue": rescue}, crash_port
            )
            made.write(made.profiles(DAY1))
            where: list[str | Path] = ["-f", spec_file, "-o", directory]
            for name in PROFILES:
                result = run_cli("secret", "set", name, "PROVIDER_KEY", *where, input=KEYS[name])
                assert result.exit_code == 0, result.output
            code, out, err = made.deploy("--timeout", "300")
            assert code == 0, out + err
            yield made
    finally:
        removed = run_cli("undeploy", "-f", spec_file, "-o", directory, "--volumes", "--yes")
        for port in (*ports.values(), crash_port):
            release_base(port)
    assert removed.exit_code == 0, removed.output
    assert not engine.containers.volumes(stack_label(project))
    assert engine.containers.volume_labels(record_volume(project)) is None


def _tasks(engine: Engine, stack: Day2) -> dict[str, str]:
    return {profile: stack.task(engine, profile) for profile in PROFILES}


def _untouched(engine: Engine, stack: Day2, profile: str) -> tuple[Any, ...]:
    """What no command on another profile may change: the service's version (no update was
    even asked of swarm), its spec, its task."""
    return stack.version(profile), stack.service(profile), stack.task(engine, profile)


def test_a_second_directory_cannot_touch_the_stack(
    engine: Engine, stack: Day2, tmp_path: Path
) -> None:
    before = _tasks(engine, stack), {p: stack.version(p) for p in PROFILES}
    volumes = engine.containers.volumes(stack_label(stack.project))
    spec = tmp_path / "openclaw-compose.yaml"
    spec.write_text(stack.spec_file.read_text().replace('"rescue": {', '"helper": {'))
    commands = (
        ["deploy"],
        ["undeploy", "--volumes", "--yes"],
        *([verb, "main", "--target", "swarm"] for verb in ("up", "restart", "stop", "start")),
    )
    for command in commands:
        refused = run_cli(*command, "-f", spec, "-o", tmp_path)
        assert refused.exit_code == ExitCode.NOT_OWNER, (command, refused.output)
        owner = f"belongs to another profiles file: {stack.spec_file.resolve()}"
        assert owner in refused.stderr, (command, refused.stderr)
    assert (_tasks(engine, stack), {p: stack.version(p) for p in PROFILES}) == before
    assert engine.containers.volumes(stack_label(stack.project)) == volumes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["openclaw-compose.yaml"]


def test_up_one_profile_converges_it_and_leaves_the_other_alone(
    engine: Engine, stack: Day2
) -> None:
    for profile in PROFILES:
        stack.run(engine, profile, "openclaw", "config", "set", *USER_KEY)
    rescue_before = _untouched(engine, stack, "rescue")
    stack.write(stack.day2())  # both profiles' fragments changed

    code, out, err = stack.cli("up", "main", "--timeout", "300")
    assert code == 0, out + err
    assert _untouched(engine, stack, "rescue") == rescue_before  # not even updated
    assert stack.chat("main") == stack.providers["main"].marker
    assert {a for a in stack.providers["main"].authorizations if a} == {f"Bearer {KEYS['main']}"}
    config = stack.config(engine, "main")
    assert config["models"]["providers"]["standin"]["apiKey"] == "${PROVIDER_KEY}"
    assert config["agents"]["defaults"]["model"]["primary"] == f"standin/{MODEL}"
    assert config["agents"]["defaults"]["heartbeat"]["every"] == USER_KEY[1]  # the user's key
    assert "timeoutSeconds" not in config["agents"]["defaults"]  # removed from the file
    assert "models" not in stack.config(engine, "rescue")  # not converged: not started
    assert not stack.providers["rescue"].authorizations


def test_deploy_converges_the_rest_and_keeps_the_keys_set_inside(
    engine: Engine, stack: Day2
) -> None:
    main_before = stack.service("main"), stack.task(engine, "main")
    rescue_task = stack.task(engine, "rescue")
    code, out, err = stack.deploy("--timeout", "300")
    assert code == 0, out + err
    # a deploy updates every service (its version), but main's spec is as it was: same task
    assert (stack.service("main"), stack.task(engine, "main")) == main_before
    assert stack.task(engine, "rescue") != rescue_task  # a new seed: a new task, same volumes
    assert stack.chat("rescue") == stack.providers["rescue"].marker
    assert {a for a in stack.providers["rescue"].authorizations if a} == {
        f"Bearer {KEYS['rescue']}"
    }
    for profile in PROFILES:
        defaults = stack.config(engine, profile)["agents"]["defaults"]
        assert defaults["heartbeat"]["every"] == USER_KEY[1], profile
        assert defaults["model"]["primary"] == f"standin/{MODEL}", profile


def test_restart_stop_start_of_one_profile_leave_the_other_alone(
    engine: Engine, stack: Day2
) -> None:
    main_before = _untouched(engine, stack, "main")
    rescue_task = stack.task(engine, "rescue")

    code, out, err = stack.cli("restart", "rescue", "--timeout", "300")
    assert code == 0, out + err
    assert stack.task(engine, "rescue") != rescue_task
    assert _untouched(engine, stack, "main") == main_before

    code, out, err = stack.cli("stop", "rescue")
    assert code == 0, out + err
    assert _untouched(engine, stack, "main") == main_before
    ps = json.loads(run_cli("ps", "--json", "-f", stack.spec_file, "--target", "swarm").stdout)
    states = {row["profile"]: row["state"] for row in ps["profiles"]}
    assert states["main"] == "running"
    assert states["rescue"] != "running"
    rescue_stopped = stack.version("rescue")
    started = time.monotonic()
    code, out, err = stack.cli("up", "main", "--timeout", "120")  # rescue stopped: not waited
    assert code == 0, out + err
    assert time.monotonic() - started < 60
    assert _untouched(engine, stack, "main")[1:] == main_before[1:]  # deployed: same spec, task
    main_before = _untouched(engine, stack, "main")
    assert stack.version("rescue") == rescue_stopped  # left scaled to 0

    code, out, err = stack.cli("start", "rescue", "--timeout", "300")
    assert code == 0, out + err
    assert _untouched(engine, stack, "main") == main_before
    status = run_cli("status", "-f", stack.spec_file, "--target", "swarm")
    assert status.exit_code == 0, status.output


def test_a_crash_loop_ends_deploy_at_once(engine: Engine, stack: Day2, broken_image: str) -> None:
    before = {p: _untouched(engine, stack, p)[1:] for p in PROFILES}
    profiles = stack.day2()
    crashing = {"port": stack.crash_port, "image": broken_image}
    stack.write(profiles | {"crashy": crashing})
    try:
        started = time.monotonic()
        code, out, err = stack.deploy("--timeout", "180")
        seconds = time.monotonic() - started
        assert code == ExitCode.NOT_READY, out + err
        assert seconds < 90, seconds
        assert "crashy will not start" in err, err
        assert "code 78" in err, err
        assert "cannot migrate this state" in err, err
        assert "state cannot be migrated safely" in err, err  # its last log lines
        assert {p: _untouched(engine, stack, p)[1:] for p in PROFILES} == before  # spec, task
        print(f"\ndeploy ended by the crash loop after {seconds:.1f} s")
    finally:
        stack.write(profiles)
        code, out, err = stack.deploy("--timeout", "300")  # --prune removes crashy's service
    assert code == 0, out + err
    assert sorted(engine.swarm.stack_services(stack.project)) == [
        f"{stack.project}_{p}" for p in PROFILES
    ]
