"""The page's rescue-bot setup, for real: main + rescue from the embedded default, run through
the public testcontainers helper, with a crash of main in the middle."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from openclaw_compose.engine import Engine
from openclaw_compose.host.probes import probe
from openclaw_compose.testing import GatewayProject, openclaw_gateways
from tests.helpers import run_cli

from . import dockerkit


@pytest.fixture(scope="module")
def gateways(engine: Engine) -> Iterator[GatewayProject]:
    with openclaw_gateways() as project:
        yield project


def test_both_gateways_started_on_their_own_ports(gateways: GatewayProject) -> None:
    main, rescue = gateways["main"], gateways["rescue"]
    assert main.port != rescue.port
    assert abs(main.port - rescue.port) > 110
    for gateway in (main, rescue):
        assert probe(gateway.base_url, "startupz") == 200
        assert probe(gateway.base_url, "healthz") == 200


def test_each_container_sees_only_its_own_volumes(engine: Engine, gateways: GatewayProject) -> None:
    containers = engine.containers.project_containers(gateways.project)
    seen = {}
    for profile in ("main", "rescue"):
        mounts = dockerkit.mounts(containers[profile].name)
        volumes = {m["Name"] for m in mounts if m["Type"] == "volume"}
        assert volumes == {
            f"{gateways.project}_{profile}-{role}" for role in ("state", "config", "workspace")
        }
        seen[profile] = volumes
    assert not seen["main"] & seen["rescue"]


def test_each_gateway_has_its_own_token(engine: Engine, gateways: GatewayProject) -> None:
    main, rescue = gateways["main"], gateways["rescue"]
    assert main.token != rescue.token
    assert len(main.token) == 64
    compose_text = (gateways.directory / "compose.yaml").read_text()
    assert main.token not in compose_text
    assert rescue.token not in compose_text
    container = engine.containers.project_containers(gateways.project)["rescue"].name
    url = f"ws://127.0.0.1:{rescue.port}"
    ok, output = engine.containers.exec(
        container, ["openclaw", "gateway", "status", "--url", url, "--token", rescue.token]
    )
    assert ok == 0, output
    assert "Connectivity probe: ok" in output
    _, refused = engine.containers.exec(
        container, ["openclaw", "gateway", "status", "--url", url, "--token", main.token]
    )
    assert "Connectivity probe: ok" not in refused


def test_cli_and_logs_commands(gateways: GatewayProject) -> None:
    where: list[str | Path] = [
        "-f",
        gateways.directory / "openclaw-compose.yaml",
        "-o",
        gateways.directory,
    ]
    version = run_cli("cli", "rescue", *where, "--", "--version")
    assert version.exit_code == 0, version.output
    logs = run_cli(*where, "logs", "main", "--tail", "50")  # logs -f is --follow
    assert logs.exit_code == 0, logs.output
    unknown = run_cli(*where, "logs", "nobody")
    assert unknown.exit_code == 2
    assert "no profile 'nobody'" in unknown.stderr


def test_rescue_keeps_answering_while_main_crashes_and_returns(
    engine: Engine, gateways: GatewayProject
) -> None:
    rescue_answers: list[int | None] = []
    stop = threading.Event()

    def watch_rescue() -> None:
        while not stop.is_set():
            rescue_answers.append(probe(gateways["rescue"].base_url, "healthz", timeout=2))
            time.sleep(0.5)

    watcher = threading.Thread(target=watch_rescue)
    watcher.start()
    try:
        main = engine.containers.project_containers(gateways.project)["main"]
        os.kill(main.pid, signal.SIGKILL)  # a crash, not a stop: the restart policy applies
        spec_file = gateways.directory / "openclaw-compose.yaml"
        deadline = time.monotonic() + 30
        while True:
            status = json.loads(run_cli("status", "-f", spec_file, "--json").stdout)
            by_profile = {p["profile"]: p for p in status["profiles"]}
            if by_profile["main"]["probes"]["startupz"] != 200:
                break
            assert time.monotonic() < deadline, "main never went down"
        assert by_profile["rescue"]["probes"]["startupz"] == 200
        deadline = time.monotonic() + 240
        while probe(gateways["main"].base_url, "startupz") != 200:
            assert time.monotonic() < deadline, "main did not come back by its restart policy"
            time.sleep(1)
        assert engine.containers.project_containers(gateways.project)["main"].restarts >= 1
    finally:
        stop.set()
        watcher.join()
    assert rescue_answers
    assert all(code == 200 for code in rescue_answers), rescue_answers
