"""What ``doctor`` says carrying the ports costs, per design and daemon setting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openclaw_compose.core.checks import HostFacts
from openclaw_compose.core.loading import LoadedSpec, validate
from openclaw_compose.project import check_loaded
from openclaw_compose.runtime.doctor import UserlandProxy, projected_overhead

ON, OFF = UserlandProxy(True, "test"), UserlandProxy(False, "test")


def _overhead(proxy: UserlandProxy, **top: Any) -> str:
    profiles = {"a": {"port": 20000}, "b": {"port": 21000, "egress": top.pop("egress", "all")}}
    spec = validate({"profiles": profiles, **top}, source="<test>")
    return projected_overhead(check_loaded(LoadedSpec(spec, "<test>", Path()), HostFacts()), proxy)


def test_default_design_costs_one_relay_per_gateway_with_the_proxy_off() -> None:
    assert _overhead(OFF).startswith("2 processes, about 12 MiB for 2 gateways (1 processes,")
    assert "0 docker-proxy" in _overhead(OFF)


def test_the_userland_proxy_costs_a_process_per_published_port() -> None:
    text = _overhead(ON)
    assert text.startswith("206 processes, about 667 MiB for 2 gateways (103 processes,")
    assert "userland-proxy false would avoid" in text


def test_egress_none_adds_its_carrier_and_host_network_costs_nothing() -> None:
    assert _overhead(OFF, egress="none").startswith("3 processes")
    assert _overhead(OFF, network="host").startswith("none")
