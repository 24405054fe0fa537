"""A live backup leaves no archive in its container on any path (issue 19): success, a failed
copy, Ctrl-C, and a killed run whose leftover the next run removes. The container's ``/tmp`` is
simulated; the real ``sh -c`` clean-up runs in tests/docker/test_backup_bind.py. In the output
directory, a killed run's staging directory (its payload, a credential) is removed by the next
backup there, and a running backup's is left alone (tests/docker/test_day2_kills.py kills the
real CLI)."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pytest

from openclaw_compose.core.contract import BACKUP_PREFIX, BACKUP_RUNNING
from openclaw_compose.core.loading import load_spec, validate
from openclaw_compose.core.spec import Spec
from openclaw_compose.engine import Engine
from openclaw_compose.engine.records import ContainerState
from openclaw_compose.errors import DockerError
from openclaw_compose.runtime.backup import (
    PAYLOAD,
    STAGING_PREFIX,
    SUFFIX,
    backup_profile,
    read_archive,
)
from openclaw_compose.targets.base import Runtime
from openclaw_compose.targets.compose.runtime import ComposeRuntime
from tests.fakes import FakeContainers, FakeEngine
from tests.helpers import write_tree


@dataclass
class Inside(FakeContainers):
    """A running gateway container whose ``/tmp`` is a set of names."""

    tmp: set[str] = field(default_factory=set)
    copy_fails: type[BaseException] | None = None

    def exec(self, container: str, command: Sequence[str]) -> tuple[int, str]:
        del container  # one container
        if command[:2] == ["rm", "-f"]:
            self.tmp -= set(command[2:])
            return 0, ""
        assert command[:2] == ["sh", "-c"]
        assert f"rm -f {BACKUP_PREFIX}*.tar.gz" in command[2]
        assert f"grep -qs '{BACKUP_RUNNING}'" in command[2], "a killed run's backup is ended"
        self.tmp = {name for name in self.tmp if not name.startswith(BACKUP_PREFIX)}
        self.tmp.add(command[command.index("--output") + 1])
        return 0, ""

    def copy_from(self, container: str, path: str, dest: Path) -> None:
        del container, path  # one container, one archive
        if self.copy_fails is not None:
            raise self.copy_fails("copy failed")
        dest.write_bytes(b"archive")


@pytest.mark.parametrize("failure", [None, DockerError, KeyboardInterrupt])
def test_no_archive_is_left_in_the_container(
    tmp_path: Path, failure: type[BaseException] | None
) -> None:
    write_tree(tmp_path, {"s.yaml": "project: p\nprofiles:\n  main: {port: 18789}\n"})
    spec = load_spec(tmp_path / "s.yaml").spec
    killed_run = f"{BACKUP_PREFIX}0123456789abcdef.tar.gz"
    inside = Inside(tmp={killed_run, "/tmp/unrelated"}, copy_fails=failure)
    running = ContainerState("p-main-1", "main", "running", "healthy", 0, 1)
    inside.containers = {"p": {"main": running}}
    runtime = ComposeRuntime(cast(Engine, FakeEngine(containers=inside)))
    if failure is None:
        assert runtime.backup(spec, "main", tmp_path / "out.tar.gz")
    else:
        with pytest.raises(failure):
            runtime.backup(spec, "main", tmp_path / "out.tar.gz")
    assert inside.tmp == {"/tmp/unrelated"}


REAL_PAYLOAD = Path(__file__).parent / "data" / "openclaw-2026.9.6-backup.tar.gz"


@dataclass
class Copies:
    """A runtime whose backup copies a real OpenClaw archive, then waits ``hang`` seconds."""

    hang: float = 0

    def backup(self, spec: Spec, profile: str, dest: Path) -> bool:
        del spec, profile
        shutil.copyfile(REAL_PAYLOAD, dest)
        time.sleep(self.hang)
        return True


def _killed_in_the_middle(spec: Spec, out: Path) -> None:
    """A backup into ``out`` SIGKILLed once its payload is staged (forked, as the CLI would run)."""
    before = set(out.glob(f"{STAGING_PREFIX}*/{PAYLOAD}"))
    pid = os.fork()
    if pid == 0:
        try:
            backup_profile(spec, "main", cast(Runtime, Copies(hang=60)), out)
        finally:
            os._exit(3)
    deadline = time.monotonic() + 30
    while not set(out.glob(f"{STAGING_PREFIX}*/{PAYLOAD}")) - before:
        assert time.monotonic() < deadline, "the forked backup staged nothing"
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def test_a_killed_backups_staging_is_removed_by_the_next(tmp_path: Path) -> None:
    spec = validate({"project": "p", "profiles": {"main": {"port": 18789}}}, source="s.yaml")
    out = tmp_path / "backups"
    out.mkdir()
    _killed_in_the_middle(spec, out)
    (first,) = out.iterdir()
    _killed_in_the_middle(spec, out)  # a killed run also removes the dead one's first
    (dead,) = out.iterdir()
    assert dead.name.startswith(STAGING_PREFIX)
    assert not first.exists()
    # A backup running at the same time: its staging directory is locked, and kept.
    running = out / f"{STAGING_PREFIX}running1"
    running.mkdir()
    fd = os.open(running, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        made = backup_profile(spec, "main", cast(Runtime, Copies()), out)
        assert sorted(p.name for p in out.iterdir()) == sorted([made.path.name, running.name])
    finally:
        os.close(fd)
    assert not dead.exists()
    read_archive(made.path, tmp_path)
    # Unlocked (its run ended without cleaning up): the next backup removes it.
    backup_profile(spec, "main", cast(Runtime, Copies()), out)
    assert not running.exists()
    assert all(p.name.endswith(SUFFIX) for p in out.iterdir()), list(out.iterdir())
