"""Backups and upgrades of a swarm stack on the real one-node swarm, with two real OpenClaw
releases, through the CLI as a user runs it (``--target swarm``).

One stack (main + rescue on the previous release) goes through, in order: a backup and a
restore over changed state while the gateway runs (the restore stops it, replaces its trees
through a job on its node, deploys it again); a failed upgrade to an image whose gateway exits
78 (swarm's own update monitor rolls rescue back, the upgrade restores rescue's state, main's
task is never replaced); a real upgrade to the tested release while a sampler probes both
gateways every 0.5 s. It needs the image of the previous release: ``make previous-image``.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from openclaw_compose.core.contract import STATE_DIR
from openclaw_compose.core.spec import OPENCLAW_VERSION, gateway_image
from openclaw_compose.engine import Engine
from openclaw_compose.engine.containers import stack_label
from openclaw_compose.engine.records import SwarmState
from openclaw_compose.errors import ExitCode
from openclaw_compose.host.preflight import SWARM_ADDRESS
from openclaw_compose.targets.swarm.runtime import current_tasks
from openclaw_compose.testing import free_base, release_base
from tests.helpers import run_cli

from . import dockerkit
from .conftest import PREVIOUS_VERSION, Sampler, upgrade_sampled

MARKER = f"{STATE_DIR}/upgrade-marker.txt"
PROFILES = ("main", "rescue")


@dataclass
class Stack:
    directory: Path
    spec_file: Path
    project: str
    ports: dict[str, int]

    def cli(self, *args: str | Path) -> tuple[int, str, str]:
        result = run_cli(*args, "-f", self.spec_file, "-o", self.directory, "--target", "swarm")
        crash = result.exception if not isinstance(result.exception, SystemExit) else None
        trace = "".join(traceback.format_exception(crash)) if crash else ""
        return result.exit_code, result.stdout, result.stderr + trace

    def container(self, engine: Engine, profile: str) -> str:
        return engine.containers.stack_containers(self.project)[profile].name

    def run(self, engine: Engine, profile: str, *command: str) -> str:
        code, output = engine.containers.exec(self.container(engine, profile), list(command))
        assert code == 0, output
        return output

    def task(self, engine: Engine, profile: str) -> str:
        """The id-bearing name of the profile's current task's container."""
        tasks = current_tasks(engine.swarm.stack_tasks(self.project))
        container = tasks[f"{self.project}_{profile}"].container
        assert container is not None
        return container


@pytest.fixture(scope="module")
def stack(
    engine: Engine, swarm: SwarmState, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    del swarm  # the engine is a swarm manager for the module
    if engine.containers.image_labels(gateway_image(PREVIOUS_VERSION)) is None:
        pytest.fail(f"image of OpenClaw {PREVIOUS_VERSION} missing: run 'make previous-image'")
    directory = tmp_path_factory.mktemp("swarm-upgrade")
    project = f"octest-{os.urandom(4).hex()}"
    ports = {profile: free_base(SWARM_ADDRESS) for profile in PROFILES}
    spec_file = directory / "openclaw-compose.yaml"
    spec_file.write_text(
        f'project: {project}\nopenclaw_version: "{PREVIOUS_VERSION}"\nprofiles:\n'
        f"  main:\n    port: {ports['main']}\n"
        f"  rescue:\n    port: {ports['rescue']}\n    role: rescue\n"
    )
    made = Stack(directory, spec_file, project, ports)
    try:
        code, out, err = made.cli("up", "--timeout", "300")
        assert code == 0, out + err
        for profile in PROFILES:
            made.run(engine, profile, "sh", "-c", f"echo {profile} {PREVIOUS_VERSION} > {MARKER}")
        yield made
    finally:
        removed = run_cli("undeploy", "-f", spec_file, "-o", directory, "--volumes", "--yes")
        for port in ports.values():
            release_base(port)
    assert removed.exit_code == 0, removed.output  # the jobs' containers held no volume
    assert not engine.containers.volumes(stack_label(project))


def test_backup_then_restore_over_changed_state_while_it_runs(engine: Engine, stack: Stack) -> None:
    backups = stack.directory / "manual"
    started = time.monotonic()
    made = run_cli("backup", "main", "-f", stack.spec_file, "-o", backups, "--target", "swarm")
    assert made.exit_code == 0, made.output
    print(f"swarm backup of main: {time.monotonic() - started:.1f} s; {made.stdout.strip()}")
    assert "live, next to its running gateway" in made.stdout
    (archive,) = backups.iterdir()
    assert archive.stat().st_mode & 0o077 == 0
    stack.run(engine, "main", "sh", "-c", f"echo changed > {MARKER}")
    before = stack.task(engine, "main")

    code, out, err = stack.cli("restore", "main", archive)
    assert code == ExitCode.ARCHIVE, out + err
    assert "--force" in err
    started = time.monotonic()
    code, out, err = stack.cli("restore", "main", archive, "--force")
    assert code == 0, out + err
    assert "started again" in out
    code, out, err = stack.cli("up", "--timeout", "300")
    assert code == 0, out + err
    assert stack.task(engine, "main") != before, "the gateway was not stopped for the restore"
    print(f"swarm restore of main and its start: {time.monotonic() - started:.1f} s")
    assert stack.run(engine, "main", "cat", MARKER) == f"main {PREVIOUS_VERSION}\n"
    assert not engine.swarm.stack_secrets(stack.project).keys() - {
        f"{stack.project}_{profile}-token" for profile in PROFILES
    }, "the restore's secrets are removed"


def test_failed_upgrade_is_rolled_back_by_swarm_and_main_never_stops(
    engine: Engine, stack: Stack, broken_image: str
) -> None:
    main_task = stack.task(engine, "main")
    spec_before = stack.spec_file.read_text()
    stack.run(engine, "rescue", "sh", "-c", f"echo rescue before the failed upgrade > {MARKER}")
    with Sampler({"main": stack.ports["main"]}) as sampler:
        code, out, err = stack.cli("upgrade", "--image", broken_image, "--timeout", "240")
    assert code == ExitCode.UPGRADE_FAILED, out + err
    assert "profile 'rescue' failed" in err, err
    assert "swarm rolled the service back" in err, err
    assert "exited with code 78" in err, err
    assert f"runs {gateway_image(PREVIOUS_VERSION)} again" in err, err
    assert all(sample["main"] == 200 for sample in sampler.samples), sampler.samples
    assert stack.task(engine, "main") == main_task, "main's task was replaced"
    assert PREVIOUS_VERSION in stack.run(engine, "rescue", "openclaw", "--version")
    assert stack.run(engine, "rescue", "cat", MARKER) == "rescue before the failed upgrade\n"
    assert stack.spec_file.read_text() == spec_before
    print(f"failed swarm upgrade, rolled back:\n{err}")


def test_rolling_upgrade_keeps_one_gateway_answering_and_the_state(
    engine: Engine, stack: Stack
) -> None:
    markers = {profile: stack.run(engine, profile, "cat", MARKER) for profile in PROFILES}
    err = upgrade_sampled(stack.cli, stack.ports, "swarm upgrade of rescue + main")
    assert err.count("; doctor: 0 errors") == 2, err  # doctor ran next to each gateway
    for profile in PROFILES:
        assert f"OpenClaw {OPENCLAW_VERSION}" in stack.run(engine, profile, "openclaw", "--version")
        assert stack.run(engine, profile, "cat", MARKER) == markers[profile]
        service = dockerkit.inspect_service(f"{stack.project}_{profile}")
        update = service["Spec"]["UpdateConfig"]
        assert (update["FailureAction"], update["Order"]) == ("rollback", "stop-first"), update
        print(f"{profile}: update status {service.get('UpdateStatus')}")
    status = run_cli("status", "--json", "-f", stack.spec_file, "--target", "swarm")
    versions = {p["profile"]: p["version"] for p in json.loads(status.stdout)["profiles"]}
    assert versions == dict.fromkeys(PROFILES, OPENCLAW_VERSION)
    assert f'openclaw_version: "{OPENCLAW_VERSION}"' in stack.spec_file.read_text()
