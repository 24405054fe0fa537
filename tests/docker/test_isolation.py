"""A profile reaches only its own, in the default design (``network: bridge``, a network per
profile), on one running project of two browser profiles: ``open`` (egress all) and ``closed``
(``egress: none``, its ports carried by a port carrier). Both browsers run. From inside each
gateway's container, the other profile's base, browser control and CDP ports are tried at
every address they might answer on (the other's containers, the host's addresses), and a
listener on the host's loopback: none opens. The host still reaches both profiles' base,
browser control and CDP ports on 127.0.0.1. ``open`` reaches a listener on the host's
non-loopback addresses; ``closed`` reaches nothing beyond its own network."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from openclaw_compose.engine import Engine
from openclaw_compose.targets.compose.network import carrier_service
from openclaw_compose.testing import (
    GatewayEndpoint,
    GatewayProject,
    free_base,
    openclaw_gateways,
    release_base,
)

from . import dockerkit


@pytest.fixture(scope="module")
def project(engine: Engine) -> Iterator[GatewayProject]:
    spec = {
        "profiles": {
            "open": {"port": 18789, "browser": True},
            "closed": {"port": 19789, "browser": True, "egress": "none"},
        }
    }
    with openclaw_gateways(spec, timeout=900) as running:
        for gateway in running.gateways.values():
            _start_browser(gateway)
        yield running


@pytest.fixture(scope="module")
def listener() -> Iterator[int]:
    """A TCP listener on every address of the host (its loopback included)."""
    port = free_base("0.0.0.0")
    with socket.create_server(("0.0.0.0", port), backlog=64) as server:
        del server
        yield port
    release_base(port)


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


def _ports(gateway: GatewayEndpoint) -> list[int]:
    return [gateway.port, gateway.browser_control_port, gateway.cdp_ports[0]]


@pytest.mark.parametrize(("source", "other"), [("open", "closed"), ("closed", "open")])
def test_no_profile_reaches_another_profiles_ports(
    project: GatewayProject, engine: Engine, source: str, other: str
) -> None:
    theirs = dockerkit.addresses(_container(project, other))
    if other == "closed":
        theirs |= dockerkit.addresses(_container(project, carrier_service(other)))
    everywhere = theirs | dockerkit.host_addresses() | {"127.0.0.1"}
    targets = [f"{address}:{port}" for address in everywhere for port in _ports(project[other])]
    container = _container(project, source)
    outcomes = dockerkit.connect_outcomes(engine, container, targets)
    assert {t: r for t, r in outcomes.items() if r == "open"} == {}
    # the probe itself works: a profile reaches its own ports on its own loopback
    own = [f"127.0.0.1:{port}" for port in _ports(project[source])]
    assert set(dockerkit.connect_outcomes(engine, container, own).values()) == {"open"}


def test_the_host_reaches_both_profiles_ports(project: GatewayProject) -> None:
    for gateway in project.gateways.values():
        assert _http("GET", f"{gateway.base_url}/healthz")["ok"] is True
        with pytest.raises(urllib.error.HTTPError) as refused:
            _http("GET", f"http://127.0.0.1:{gateway.browser_control_port}/")
        refused.value.close()
        assert refused.value.code == 401
        cdp = _http("GET", f"http://127.0.0.1:{gateway.cdp_ports[0]}/json/version")
        assert "Chrome" in cdp["Browser"]


def test_egress(project: GatewayProject, engine: Engine, listener: int) -> None:
    host = sorted(dockerkit.host_addresses())
    targets = [f"{address}:{listener}" for address in host]
    loopback = f"127.0.0.1:{listener}"
    opened = dockerkit.connect_outcomes(engine, _container(project, "open"), [*targets, loopback])
    assert opened.pop(loopback) != "open"
    assert set(opened.values()) == {"open"}, "egress all reaches the host's other addresses"
    closed = dockerkit.connect_outcomes(engine, _container(project, "closed"), [*targets, loopback])
    assert {t: r for t, r in closed.items() if r == "open"} == {}
