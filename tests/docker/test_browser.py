"""Browser and CDP ports that really work from the host, for two profiles at once, in both
network designs: the managed Chromium of each profile starts through its browser control port
(base+2), and its CDP port answers /json/version and a real CDP client from ITS OWN browser."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import websocket

from openclaw_compose.engine import Engine
from openclaw_compose.testing import GatewayEndpoint, GatewayProject, openclaw_gateways

EXTRA_CDP_OFFSET = 115  # outside the instance's CDP range: published and relayed on its own


def _spec(network: str) -> dict[str, Any]:
    return {
        "network": network,
        "profiles": {
            "main": {"port": 18789, "browser": True},
            "rescue": {
                "port": 19789,
                "browser": True,
                "openclaw": {
                    "browser": {"profiles": {"work": {"cdpPort": 19789 + EXTRA_CDP_OFFSET}}}
                },
            },
        },
    }


@pytest.fixture(scope="module", params=["host", "bridge"])
def browsers(engine: Engine, request: pytest.FixtureRequest) -> Iterator[GatewayProject]:
    with openclaw_gateways(_spec(request.param)) as project:
        yield project


def _http(method: str, url: str, token: str | None = None) -> Any:
    request = urllib.request.Request(url, method=method)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def _start(gateway: GatewayEndpoint, profile: str = "openclaw") -> None:
    url = f"http://127.0.0.1:{gateway.browser_control_port}/start?profile={profile}"
    assert _http("POST", url, gateway.token)["ok"] is True


def _cdp_version(port: int) -> str:
    """The browser's own id, through a real CDP WebSocket (Browser.getVersion must answer)."""
    version = _http("GET", f"http://127.0.0.1:{port}/json/version")
    ws_url = version["webSocketDebuggerUrl"]
    assert ws_url.startswith(f"ws://127.0.0.1:{port}/devtools/browser/")
    connection = websocket.create_connection(ws_url, timeout=30)
    try:
        connection.send(json.dumps({"id": 1, "method": "Browser.getVersion"}))
        reply = json.loads(connection.recv())
    finally:
        connection.close()
    assert reply["id"] == 1
    assert "Chrome" in reply["result"]["product"]
    return str(ws_url.rsplit("/", 1)[1])


def test_control_port_needs_the_token(browsers: GatewayProject) -> None:
    url = f"http://127.0.0.1:{browsers['main'].browser_control_port}/"
    with pytest.raises(urllib.error.HTTPError) as refused:
        _http("GET", url)
    refused.value.close()
    assert refused.value.code == 401
    assert "running" in _http("GET", url, browsers["main"].token)


def test_each_profile_reaches_its_own_browser(browsers: GatewayProject) -> None:
    main, rescue = browsers["main"], browsers["rescue"]
    for gateway in (main, rescue):
        _start(gateway)
    main_cdp, rescue_cdp = main.cdp_ports[0], rescue.cdp_ports[0]
    assert _cdp_version(main_cdp) != _cdp_version(rescue_cdp)
    opened = _http("PUT", f"http://127.0.0.1:{main_cdp}/json/new?about:blank")["id"]
    main_pages = [t["id"] for t in _http("GET", f"http://127.0.0.1:{main_cdp}/json/list")]
    rescue_pages = [t["id"] for t in _http("GET", f"http://127.0.0.1:{rescue_cdp}/json/list")]
    assert opened in main_pages
    assert opened not in rescue_pages


def test_explicit_cdp_port_profile(browsers: GatewayProject) -> None:
    rescue = browsers["rescue"]
    _start(rescue, "work")
    assert _cdp_version(rescue.port + EXTRA_CDP_OFFSET)
