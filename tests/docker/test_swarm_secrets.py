"""The chat of ``test_secrets.py`` on the one-node swarm: two profiles with their own provider
key, deployed as a stack with ``secret set`` and ``deploy`` as a user would. A swarm gateway is
not on the host network: its stand-in provider listens on the host's address on the
``docker_gwbridge`` bridge (a host-local address), which the overlay task reaches."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from openclaw_compose.core.envfile import ENV_FILE
from openclaw_compose.core.loading import load_spec
from openclaw_compose.engine import Engine
from openclaw_compose.engine.records import SwarmState
from openclaw_compose.host.preflight import SWARM_ADDRESS
from openclaw_compose.testing import GatewayEndpoint, free_base, gateway_endpoints, release_base
from tests.helpers import run_cli
from tests.standin_provider import StandinProvider, standin_provider

from . import dockerkit
from .test_secrets import KEYS, PROFILES, provider_fragment


@dataclass(frozen=True)
class Stack:
    directory: Path
    project: str
    endpoints: dict[str, GatewayEndpoint]
    providers: dict[str, StandinProvider]


@pytest.fixture(scope="module")
def stack(swarm: SwarmState, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    directory = tmp_path_factory.mktemp("secrets-stack")
    host = dockerkit.gwbridge_address()
    bases = [free_base(SWARM_ADDRESS) for _ in PROFILES]
    project = f"octest-{os.urandom(4).hex()}"
    spec_file = directory / "openclaw-compose.yaml"
    try:
        with (
            standin_provider("MARKER-swarm-main", host) as main,
            standin_provider("MARKER-swarm-rescue", host) as rescue,
        ):
            providers = {"main": main, "rescue": rescue}
            profiles = {
                name: {
                    "port": base,
                    "secrets": ["PROVIDER_KEY"],
                    "openclaw": provider_fragment(providers[name]),
                }
                for name, base in zip(PROFILES, bases, strict=True)
            }
            spec_file.write_text(json.dumps({"project": project, "profiles": profiles}))
            where: list[str | Path] = ["-f", spec_file, "-o", directory]
            for name in PROFILES:
                result = run_cli("secret", "set", name, "PROVIDER_KEY", *where, input=KEYS[name])
                assert result.exit_code == 0, result.output
            deployed = run_cli("deploy", *where, "--timeout", "300")
            assert deployed.exit_code == 0, deployed.output
            endpoints = gateway_endpoints(load_spec(spec_file).spec, directory)
            yield Stack(directory, project, endpoints, providers)
    finally:
        run_cli("undeploy", "-f", spec_file, "--volumes", "--yes")
        for base in bases:
            release_base(base)


def test_each_swarm_gateway_answers_with_its_own_provider(stack: Stack) -> None:
    for profile in PROFILES:
        assert stack.endpoints[profile].chat("Hello.").strip() == stack.providers[profile].marker
    for profile, provider in stack.providers.items():
        assert {auth for auth in provider.authorizations if auth} == {f"Bearer {KEYS[profile]}"}


def test_swarm_keys_are_secrets_only(engine: Engine, stack: Stack) -> None:
    services = json.dumps(dockerkit.inspect_stack_services(stack.project))
    containers = engine.containers.stack_containers(stack.project)
    for key in KEYS.values():
        assert key not in services
        for profile in PROFILES:
            name = containers[profile].name
            assert key not in json.dumps(dockerkit.inspect_container(name))
            assert key not in engine.containers.logs(name, tail=10000)
        for path in stack.directory.rglob("*"):
            if path.is_file() and path.name != ENV_FILE:
                assert key not in path.read_text(errors="replace"), path
    assert sorted(engine.swarm.stack_secrets(stack.project)) == sorted(
        f"{stack.project}_{profile}-{name}"
        for profile in PROFILES
        for name in ("token", "PROVIDER_KEY")
    )
