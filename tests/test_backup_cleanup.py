"""A live backup leaves no archive in its container on any path (issue 19): success, a failed
copy, Ctrl-C, and a killed run whose leftover the next run removes. The container's ``/tmp`` is
simulated; the real ``sh -c`` clean-up runs in tests/docker/test_backup_bind.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pytest

from openclaw_compose.core.contract import BACKUP_PREFIX
from openclaw_compose.core.loading import load_spec
from openclaw_compose.engine import Engine
from openclaw_compose.engine.records import ContainerState
from openclaw_compose.errors import DockerError
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
