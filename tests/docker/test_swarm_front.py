"""The HTTPS front on the one-node swarm (the ``swarm`` fixture): the tests of
``test_front.py``, the same laptop, names and checks, with the front a service of the stack.

The front is published on the manager (this machine) in mode host, so the laptop reaches it on
the host's address on its own network, as with compose. What differs: Docker masquerades the
laptop's network into the front's (``docker_gwbridge``), so the gateways see the laptop at that
bridge's address (through ``X-Forwarded-For``, from their trusted proxy on loopback); and the
gateways' base ports are published on every address of the node, as swarm does, so the laptop
reaches those (with their tokens) but not B+1, browser control or CDP. There is no ``cli`` on
swarm: the owner approves the device in the task's container.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from secrets import token_hex

import pytest

from openclaw_compose.core.frontcerts import CA_CERT
from openclaw_compose.core.loading import load_spec
from openclaw_compose.engine import Engine
from openclaw_compose.engine.records import SwarmState
from openclaw_compose.host.preflight import SWARM_ADDRESS
from openclaw_compose.testing import GatewayProject, free_base, gateway_endpoints, release_base
from tests.helpers import run_cli
from tests.standin_provider import standin_provider

from . import dockerkit
from .test_front import (
    KEYS,
    NAMES,
    Front,
    front_spec,
    laptop_network,
    start_laptop,
    test_control_ui_through_the_front,
    test_each_name_over_tls_and_nothing_else,
)

# pytest-xdist: the swarm modules share the engine's one swarm, so one worker runs them all.
pytestmark = pytest.mark.xdist_group("swarm")

__all__ = ["test_control_ui_through_the_front", "test_each_name_over_tls_and_nothing_else"]


@pytest.fixture(scope="module")
def front(
    engine: Engine, swarm: SwarmState, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Front]:
    del engine, swarm  # the engine is a swarm manager for the module
    directory = tmp_path_factory.mktemp("swarm-front")
    spec_file = directory / "openclaw-compose.yaml"
    where = ["-f", str(spec_file), "-o", str(directory)]
    bases = {name: free_base(SWARM_ADDRESS) for name in NAMES}
    host = dockerkit.gwbridge_address()
    try:
        with (
            laptop_network() as net,
            standin_provider("MARKER-swarm-front-main", host) as main,
            standin_provider("MARKER-swarm-front-rescue", host) as rescue,
        ):
            providers = {"main": main, "rescue": rescue}
            data = front_spec("bridge", "0.0.0.0", net.port, providers)
            del data["network"]
            data["project"] = f"octest-{token_hex(4)}"
            for name, base in bases.items():
                data["profiles"][name]["port"] = base
            spec_file.write_text(json.dumps(data, indent=2) + "\n")
            try:
                for name in NAMES:
                    stored = run_cli(
                        "secret", "set", name, "PROVIDER_KEY", *where, input=KEYS[name]
                    )
                    assert stored.exit_code == 0, stored.output
                deployed = run_cli("deploy", *where, "--timeout", "600")
                assert deployed.exit_code == 0, deployed.output
                endpoints = gateway_endpoints(load_spec(spec_file).spec, directory)
                project = GatewayProject(data["project"], directory, endpoints)
                start_laptop(net, directory / CA_CERT, tmp_path_factory.mktemp("policies"))
                yield Front(project, providers, net.laptop, net.address, net.port, "swarm", host)
            finally:
                removed = run_cli("undeploy", *where, "--volumes", "--yes")
                assert removed.exit_code == 0, removed.output
    finally:
        for base in bases.values():
            release_base(base)
