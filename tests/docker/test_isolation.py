"""A profile reaches only its own, in the default design (``network: bridge``, a network per
profile), on one running project of two browser profiles: ``open`` (egress all) and ``closed``
(``egress: none``, its ports carried by a port carrier). Both browsers run. From inside each
gateway's container, the other profile's base, browser control and CDP ports are tried at
every address they might answer on (the other's containers, the host's addresses), and a
listener on the host's loopback: none opens. The host still reaches both profiles' base,
browser control and CDP ports on 127.0.0.1. ``open`` reaches a listener on the host's
non-loopback addresses; ``closed`` reaches nothing beyond its own network, except the service
on the host's loopback that the file grants it (``host_services``), which ``open`` does not
reach."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from openclaw_compose.core.sidecars import carrier_service, host_link_service
from openclaw_compose.engine import Engine
from openclaw_compose.testing import (
    GatewayEndpoint,
    GatewayProject,
    openclaw_gateways,
)

from . import dockerkit


@pytest.fixture(scope="module")
def project(engine: Engine, granted: tuple[int, str]) -> Iterator[GatewayProject]:
    spec = {
        "profiles": {
            "open": {"port": 18789, "browser": True},
            "closed": {
                "port": 19789,
                "browser": True,
                "egress": "none",
                "host_services": {"models": granted[0]},
            },
        }
    }
    with openclaw_gateways(spec, timeout=900) as running:
        for gateway in running.gateways.values():
            _start_browser(gateway)
        yield running


@pytest.fixture(scope="module")
def listener() -> Iterator[tuple[int, str]]:
    """An HTTP server on every address of the host (its loopback included) that answers a
    nonce: the proof that a connection reached this host's listener and nothing else."""
    yield from dockerkit.nonce_server("0.0.0.0")


@pytest.fixture(scope="module")
def granted() -> Iterator[tuple[int, str]]:
    """The same on the host's loopback only: the service ``closed`` is granted."""
    yield from dockerkit.nonce_server("127.0.0.1")


def _http(method: str, url: str, token: str | None = None) -> Any:
    request = urllib.request.Request(url, method=method)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def _start_browser(gateway: GatewayEndpoint, attempts: int = 3) -> None:
    """Chromium's start may time out on a loaded machine (500): try again, then say why."""
    url = f"http://127.0.0.1:{gateway.browser_control_port}/start?profile=openclaw"
    for attempt in range(attempts):
        try:
            assert _http("POST", url, gateway.token)["ok"] is True
            return
        except urllib.error.HTTPError as error:
            body = error.read().decode(errors="replace")
            error.close()
            if attempt == attempts - 1:
                pytest.fail(f"{gateway.profile}: browser start answered {error.code}: {body}")


def _container(project: GatewayProject, service: str) -> str:
    return f"{project.project}-{service}-1"


def _targets(gateway: GatewayEndpoint, addresses: set[str]) -> list[str]:
    """Base (``/healthz``), browser control (``/``) and CDP (``/json/version``) at each address."""
    ports = (
        (gateway.port, "/healthz"),
        (gateway.browser_control_port, "/"),
        (gateway.cdp_ports[0], "/json/version"),
    )
    return [f"{address} {port} {path}" for address in sorted(addresses) for port, path in ports]


@pytest.mark.parametrize(("source", "other"), [("open", "closed"), ("closed", "open")])
def test_no_profile_reaches_another_profiles_ports(
    project: GatewayProject, engine: Engine, source: str, other: str
) -> None:
    """What each of the other's ports answers on its own loopback is its fingerprint (CDP's
    holds its browser's id): no reply from inside ``source`` may be one of them. (A reply is
    the proof: on some networks every off-host address accepts a connection, a proxy's.)"""
    container = _container(project, other)
    genuine = dockerkit.http_replies(engine, container, _targets(project[other], {"127.0.0.1"}))
    assert {dockerkit.status(r) for r in genuine.values()} <= {"reply 200", "reply 401"}, genuine
    fingerprints = set(genuine.values())
    theirs = dockerkit.addresses(container)
    if other == "closed":
        theirs |= dockerkit.addresses(_container(project, carrier_service(other)))
    everywhere = theirs | dockerkit.host_addresses() | {"127.0.0.1"}
    targets = _targets(project[other], everywhere)
    replies = dockerkit.http_replies(engine, _container(project, source), targets)
    assert {t: r for t, r in replies.items() if r in fingerprints} == {}
    # the probe itself works: a profile reaches its own ports on its own loopback
    own = dockerkit.http_replies(
        engine, _container(project, source), _targets(project[source], {"127.0.0.1"})
    )
    assert {dockerkit.status(r) for r in own.values()} <= {"reply 200", "reply 401"}, own


def test_the_host_reaches_both_profiles_ports(project: GatewayProject) -> None:
    for gateway in project.gateways.values():
        assert _http("GET", f"{gateway.base_url}/healthz")["ok"] is True
        with pytest.raises(urllib.error.HTTPError) as refused:
            _http("GET", f"http://127.0.0.1:{gateway.browser_control_port}/")
        refused.value.close()
        assert refused.value.code == 401
        cdp = _http("GET", f"http://127.0.0.1:{gateway.cdp_ports[0]}/json/version")
        assert "Chrome" in cdp["Browser"]


def test_egress(project: GatewayProject, engine: Engine, listener: tuple[int, str]) -> None:
    port, nonce = listener
    host = [f"{address} {port} /" for address in sorted(dockerkit.host_addresses())]
    loopback = f"127.0.0.1 {port} /"
    opened = dockerkit.http_replies(engine, _container(project, "open"), [*host, loopback])
    assert nonce not in opened.pop(loopback)
    assert all(nonce in reply for reply in opened.values()), opened
    closed = dockerkit.http_replies(engine, _container(project, "closed"), [*host, loopback])
    assert {t: r for t, r in closed.items() if nonce in r} == {}


def test_a_granted_host_service_reaches_only_its_profile(
    project: GatewayProject, engine: Engine, granted: tuple[int, str]
) -> None:
    """``closed`` (egress none) reaches the host's loopback service it is granted, at the same
    port on its own loopback, and through nothing else; ``open`` reaches it nowhere."""
    port, nonce = granted
    loopback = f"127.0.0.1 {port} /"
    elsewhere = [f"{address} {port} /" for address in sorted(dockerkit.host_addresses())]
    closed = dockerkit.http_replies(engine, _container(project, "closed"), [loopback, *elsewhere])
    assert nonce in closed.pop(loopback)
    assert {t: r for t, r in closed.items() if nonce in r} == {}
    opened = dockerkit.http_replies(engine, _container(project, "open"), [loopback, *elsewhere])
    assert {t: r for t, r in opened.items() if nonce in r} == {}
    link = dockerkit.inspect_container(_container(project, host_link_service("closed")))
    assert link["HostConfig"]["NetworkMode"] == "host"
    assert link["Config"]["User"] == "1000:1000"
    assert link["HostConfig"]["CapDrop"] == ["ALL"]
    assert link["HostConfig"]["ReadonlyRootfs"] is True
