"""``egress: none`` and ``host_services`` on the one-node swarm: ``closed``'s gateway is on an
internal overlay network only, so its task has no ``docker_gwbridge`` and no way out, and its
port carrier (HAProxy, on that network and one of its own) publishes its base port on the node;
it is granted one service on the host's loopback through its host link (HAProxy on the host's
network, a Unix socket in a volume only the two mount). ``open`` is a plain profile next to it.
Deployed with the CLI as a user would; the last test undeploys."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from openclaw_compose.core.loading import load_spec
from openclaw_compose.engine import Engine
from openclaw_compose.engine.records import SwarmState
from openclaw_compose.host.preflight import SWARM_ADDRESS
from openclaw_compose.host.probes import probe
from openclaw_compose.targets.swarm.sidecars import carrier_name, host_link_name
from openclaw_compose.testing import release_base
from tests.helpers import run_cli

from . import dockerkit
from .conftest import spec_with_free_ports


@dataclass(frozen=True)
class Stack:
    spec_file: Path
    project: str
    bases: dict[str, int]
    granted: tuple[int, str]
    """The host service ``closed`` is granted: its port (on the host's 127.0.0.1) and nonce."""


@pytest.fixture(scope="module")
def granted() -> Iterator[tuple[int, str]]:
    yield from dockerkit.nonce_server("127.0.0.1")


@pytest.fixture(scope="module")
def stack(
    swarm: SwarmState, granted: tuple[int, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    del swarm
    directory = tmp_path_factory.mktemp("egress")
    bases: list[int] = []
    spec_file = spec_with_free_ports(directory, bases, "open", "closed", address=SWARM_ADDRESS)
    closed = f"    egress: none\n    host_services: {{models: {granted[0]}}}\n"
    spec_file.write_text(spec_file.read_text() + closed)  # closed is the last
    project = load_spec(spec_file).spec.project
    try:
        result = run_cli("deploy", "-f", spec_file, "-o", directory, "--timeout", "300")
        assert result.exit_code == 0, result.output
        bases_of = dict(zip(("open", "closed"), bases, strict=True))
        yield Stack(spec_file, project, bases_of, granted)
    finally:
        run_cli("undeploy", "-f", spec_file, "--volumes", "--yes")
        for base in bases:
            release_base(base)


@pytest.fixture(scope="module")
def listener() -> Iterator[tuple[int, str]]:
    """A nonce on every address of the host: a connection that reached the host."""
    yield from dockerkit.nonce_server("0.0.0.0")


def test_the_host_reaches_the_closed_gateway_through_its_carrier(
    engine: Engine, stack: Stack
) -> None:
    for profile, base in stack.bases.items():
        assert probe(f"http://127.0.0.1:{base}", "startupz") == 200, profile
    services = engine.swarm.stack_services(stack.project)
    carrier = carrier_name("closed")
    assert sorted(services) == sorted(
        f"{stack.project}_{name}" for name in ("open", "closed", carrier, host_link_name("closed"))
    )
    closed = dockerkit.inspect_service(services[f"{stack.project}_closed"].id)["Spec"]
    assert not (closed.get("EndpointSpec") or {}).get("Ports")
    spec = dockerkit.inspect_service(services[f"{stack.project}_{carrier}"].id)["Spec"]
    ports = spec["EndpointSpec"]["Ports"]
    assert [(p["PublishedPort"], p["PublishMode"]) for p in ports] == [
        (stack.bases["closed"], "host")
    ]
    containers = engine.containers.stack_containers(stack.project)
    host = dockerkit.inspect_container(containers[carrier].name)["HostConfig"]
    assert (host["CapDrop"], host["ReadonlyRootfs"], host["PidsLimit"]) == (["ALL"], True, 64)


def test_the_closed_gateway_reaches_nothing_beyond_its_network(
    engine: Engine, stack: Stack, listener: tuple[int, str]
) -> None:
    """From ``closed``'s task no address of the host answers (nor its loopback, which is the
    task's own); from ``open``'s the host's listener does. Neither reaches the other's gateway:
    ``closed``'s replies on its own loopback are the genuine ones."""
    port, nonce = listener
    containers = engine.containers.stack_containers(stack.project)
    host = [f"{address} {port} /" for address in sorted(dockerkit.host_addresses())]
    opened = dockerkit.http_replies(engine, containers["open"].name, host)
    assert any(nonce in reply for reply in opened.values()), opened
    closed = dockerkit.http_replies(engine, containers["closed"].name, host)
    assert {t: r for t, r in closed.items() if nonce in r} == {}
    base = stack.bases["closed"]
    inside = containers["closed"].name
    genuine = dockerkit.http_replies(engine, inside, [f"127.0.0.1 {base} /healthz"])
    everywhere = dockerkit.addresses(inside) | dockerkit.host_addresses()
    replies = dockerkit.http_replies(
        engine, containers["open"].name, [f"{a} {base} /healthz" for a in sorted(everywhere)]
    )
    assert {t: r for t, r in replies.items() if r in set(genuine.values())} == {}


def test_the_granted_host_service_reaches_only_its_profile(engine: Engine, stack: Stack) -> None:
    """``closed`` reaches the host's loopback service at the same port on its own loopback,
    through nothing else; ``open`` reaches it nowhere; the link runs as the gateway's user, on
    the host's network, with no capability."""
    port, nonce = stack.granted
    containers = engine.containers.stack_containers(stack.project)
    inside = [f"127.0.0.1 {port} /"]
    elsewhere = [f"{address} {port} /" for address in sorted(dockerkit.host_addresses())]
    closed = dockerkit.http_replies(engine, containers["closed"].name, inside + elsewhere)
    assert nonce in closed.pop(inside[0])
    assert {t: r for t, r in closed.items() if nonce in r} == {}
    opened = dockerkit.http_replies(engine, containers["open"].name, inside + elsewhere)
    assert {t: r for t, r in opened.items() if nonce in r} == {}
    link = dockerkit.inspect_container(containers[host_link_name("closed")].name)
    assert link["HostConfig"]["NetworkMode"] == "host"
    assert (link["Config"]["User"], link["HostConfig"]["CapDrop"]) == ("1000:1000", ["ALL"])


def test_doctor_sees_the_closed_gateway_alone_and_without_egress(stack: Stack) -> None:
    result = run_cli("doctor", "--target", "swarm", "-f", stack.spec_file)
    assert result.exit_code == 0, result.output
    assert f"ok    closed network: {stack.project}_closed-net (internal: no egress)" in (
        result.output
    )
    assert f"granted the host's 127.0.0.1 ports {stack.granted[0]} only" in result.output
    assert f"ok    open network: {stack.project}_open-net (egress open)" in result.output


def test_undeploy_removes_the_carrier_and_its_network(engine: Engine, stack: Stack) -> None:
    result = run_cli("undeploy", "-f", stack.spec_file, "--volumes", "--yes")
    assert result.exit_code == 0, result.output
    assert engine.swarm.stack_services(stack.project) == {}
    assert not {n for n in dockerkit.network_names() if n.startswith(f"{stack.project}_")}
