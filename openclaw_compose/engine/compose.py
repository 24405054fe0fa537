"""Compose v2, through its CLI (the SDK has no Compose): up, down, exec, logs of a project."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from openclaw_compose.engine.client import docker_cli, run_docker, stream_docker
from openclaw_compose.errors import CommandFailed


class ComposeCLI:
    """``docker compose`` on the project in a directory."""

    def version(self) -> str:
        return run_docker(["compose", "version", "--short"], cwd=None).stdout.strip()

    def run(self, directory: Path, *args: str) -> str:
        """Run ``docker compose ARGS`` on the project in ``directory``; its output."""
        command = ["compose", "--project-directory", str(directory), *args]
        return run_docker(command, cwd=directory).stdout

    def passthrough(self, directory: Path, *args: str) -> int:
        """Run ``docker compose ARGS`` attached to this terminal (logs, exec); its exit code."""
        command = [*docker_cli(), "compose", "--project-directory", str(directory), *args]
        try:
            return subprocess.call(command, cwd=directory)
        except OSError as exc:
            raise CommandFailed(f"cannot run the docker CLI: {exc.strerror}") from None

    def stream(self, directory: Path, *args: str, line: Callable[[str], None]) -> int:
        """Run ``docker compose ARGS``, handing each line of its output (without the line
        break) to ``line`` as it comes (logs --follow); its exit code. Its stderr is this
        process's."""
        command = ["compose", "--project-directory", str(directory), *args]
        return stream_docker(command, directory, line)
