"""The HTTPS front on the one-node swarm (the ``swarm`` fixture): the tests of
``test_front.py``, the same laptop, names and checks, with the front a service of the stack.

The front is published on the manager (this machine) in mode host. The laptop is a network
namespace linked to the host by a veth pair (:class:`.test_front.Link`), not a Docker network:
Docker drops traffic from one of its bridges to another, ``docker_gwbridge`` included, where a
real laptop's traffic arrives on an interface of the host. So the gateways see the laptop's own
address (through ``X-Forwarded-For``, from their trusted proxy on loopback). The gateways' base
ports are published on every address of the node, as swarm does: the laptop reaches those (with
their tokens) but not B+1, browser control or CDP. There is no ``cli`` on swarm: the owner
approves the device in the task's container.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from secrets import token_hex

import pytest

from openclaw_compose.core.frontcerts import CA_CERT
from openclaw_compose.core.loading import load_spec
from openclaw_compose.engine import Engine
from openclaw_compose.engine.client import run_docker
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
    Link,
    Network,
    front_spec,
    start_laptop,
    test_control_ui_through_the_front,
    test_each_name_over_tls_and_nothing_else,
)

__all__ = ["test_control_ui_through_the_front", "test_each_name_over_tls_and_nothing_else"]


@contextmanager
def routed_laptop() -> Iterator[Network]:
    """The laptop's network namespace, linked to the host by a veth pair on a /30 of
    10.254.0.0/16 that no interface of the host is on; removed at the end with the laptop."""
    suffix = token_hex(3)
    used = subprocess.run(["ip", "-4", "-o", "addr"], check=True, capture_output=True, text=True)
    octet = next(n for n in range(1, 255) if f" 10.254.{n}." not in used.stdout)
    link = Link(f"och{suffix}", f"ocl{suffix}", f"10.254.{octet}.1", f"10.254.{octet}.2")
    laptop = f"octest-front-{suffix}-laptop"
    for command in (
        ["ip", "link", "add", link.host_side, "type", "veth", "peer", "name", link.laptop_side],
        ["ip", "addr", "add", f"{link.host_address}/30", "dev", link.host_side],
        ["ip", "link", "set", link.host_side, "up"],
    ):
        subprocess.run(command, check=True, capture_output=True)
    try:
        port = free_base(link.host_address)
        try:
            yield Network("none", laptop, link.host_address, port, link)
        finally:
            release_base(port)
    finally:
        subprocess.run(["docker", "rm", "-f", laptop], capture_output=True, check=False)
        subprocess.run(["ip", "link", "del", link.host_side], capture_output=True, check=False)


READY = """
const https = require("https");
const get = (host) => new Promise((done) => {
  const ca = require("fs").readFileSync("/ca.crt");
  const options = {host, port: +process.env.PORT, path: "/healthz", ca, timeout: 5000};
  https.get(options, (r) => { r.resume(); done(r.statusCode); })
    .on("error", () => done(0))
    .on("timeout", () => done(0));
});
(async () => {
  for (let round = 0; round < 120; round++) {
    const codes = await Promise.all(process.argv.slice(1).map(get));
    if (codes.every((code) => code === 200)) return console.log("ready");
    await new Promise((r) => setTimeout(r, 1000));
  }
  console.log("not ready");
})();
"""


def _await_front(net: Network) -> None:
    """Until the front serves every name to the laptop: ``deploy`` has waited until it serves
    them on the manager (a CI run's Chromium once got 503 from a front whose HAProxy had not yet
    resolved the gateways' tasks through Docker's DNS); this is the laptop's own route to it."""
    command = [
        "exec",
        "--env",
        f"PORT={net.port}",
        net.laptop,
        "node",
        "-e",
        READY,
        *NAMES.values(),
    ]
    output = run_docker(command, cwd=None).stdout
    assert output.strip() == "ready", output


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
            routed_laptop() as net,
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
                assert "the front serves them" in deployed.output
                endpoints = gateway_endpoints(load_spec(spec_file).spec, directory)
                project = GatewayProject(data["project"], directory, endpoints)
                start_laptop(net, directory / CA_CERT, tmp_path_factory.mktemp("policies"))
                _await_front(net)
                client = net.link.laptop_address if net.link else None
                yield Front(project, providers, net.laptop, net.address, net.port, "swarm", client)
            finally:
                removed = run_cli("undeploy", *where, "--volumes", "--yes")
                assert removed.exit_code == 0, removed.output
    finally:
        for base in bases.values():
            release_base(base)
