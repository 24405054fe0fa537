"""The connection to the Docker engine: the SDK client, opened lazily, and the ``docker`` CLI.

Every Docker failure leaves the engine package as one of the typed errors of
:mod:`openclaw_compose.errors` (:class:`EngineUnreachable`, :class:`NotFound`, :class:`Refused`,
:class:`CommandFailed`, or :class:`DockerError` for anything else), with a message that says
what to do, never as a traceback. Callers that mean "not found" catch :class:`NotFound` only, so
an unreachable engine is never mistaken for a missing object.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from ipaddress import ip_address
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import docker
import docker.errors
import requests.exceptions

from openclaw_compose.errors import (
    CommandFailed,
    DockerError,
    EngineUnreachable,
    NotFound,
    Refused,
)

T = TypeVar("T")
NOT_RUNNING = (
    "cannot reach the Docker engine ({reason}); start it (as root: "
    "'make engine' or 'scripts/engine-bootstrap.sh'), or set DOCKER_HOST"
)


class Client:
    """The docker SDK client, connected on first use; :meth:`call` maps its errors."""

    def __init__(self) -> None:
        self._sdk: docker.DockerClient | None = None

    @property
    def sdk(self) -> docker.DockerClient:
        if self._sdk is None:
            try:
                self._sdk = docker.from_env(version="auto", timeout=30)
            except docker.errors.DockerException as exc:
                raise EngineUnreachable(NOT_RUNNING.format(reason=first_line(exc))) from None
        return self._sdk

    @property
    def local(self) -> bool:
        """The engine runs on this machine: reached through its socket or a loopback address
        (``DOCKER_HOST=tcp://127.0.0.1:2375``), so this machine's ports are the engine's node's.
        Any other address (an admin's laptop driving a manager) is another machine."""
        url = urlsplit(self.sdk.api.base_url)
        if url.scheme not in {"http", "https"}:
            return True  # http+docker: the unix socket
        host = url.hostname or ""
        if host == "localhost":
            return True
        try:
            return ip_address(host).is_loopback
        except ValueError:
            return False

    def call(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except docker.errors.NotFound as exc:
            raise NotFound(f"not found in Docker: {first_line(exc)}") from None
        except docker.errors.APIError as exc:
            raise Refused(f"Docker refused: {first_line(exc)}") from None
        except docker.errors.DockerException as exc:
            raise DockerError(f"Docker failed: {first_line(exc)}") from None
        except requests.exceptions.ConnectionError as exc:
            raise EngineUnreachable(NOT_RUNNING.format(reason=first_line(exc))) from None


def docker_cli() -> list[str]:
    found = shutil.which("docker")
    if found is None:
        raise CommandFailed("the docker CLI is not installed; run 'make engine' (as root)")
    return [found]


def run_docker(
    args: list[str], cwd: Path | None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``docker ARGS`` (``stdin`` on its standard input); its output, or
    :class:`CommandFailed` with its last lines."""
    command = [*docker_cli(), *args]
    env = {**os.environ, "COMPOSE_ANSI": "never", "COMPOSE_PROGRESS": "plain"}
    try:
        completed = subprocess.run(
            command, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise CommandFailed(f"cannot run the docker CLI: {exc.strerror}") from None
    if completed.returncode != 0:
        output = (completed.stderr or completed.stdout).strip().splitlines()
        detail = "\n  ".join(output[-15:]) or f"exit code {completed.returncode}"
        if "is not a docker command" in completed.stderr:
            detail = "Compose v2 is not installed; run 'make engine' (as root)"
        if "Cannot connect to the Docker daemon" in completed.stderr:
            raise EngineUnreachable(NOT_RUNNING.format(reason=output[-1]))
        raise CommandFailed(f"'docker {' '.join(args)}' failed:\n  {detail}")
    return completed


def stream_docker(args: list[str], cwd: Path | None, line: Callable[[str], None]) -> int:
    """Run ``docker ARGS``, handing each line of its output (without the line break) to
    ``line`` as it comes (``logs --follow``); its exit code. Its stderr is this process's."""
    try:
        with subprocess.Popen(
            [*docker_cli(), *args], cwd=cwd, stdout=subprocess.PIPE, text=True, errors="replace"
        ) as process:
            for text in process.stdout or ():
                line(text.rstrip("\n"))
            return process.wait()
    except OSError as exc:
        raise CommandFailed(f"cannot run the docker CLI: {exc.strerror}") from None


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
