from __future__ import annotations

from typing import Any

from openclaw_compose.core.ports import plan_ports
from openclaw_compose.core.spec import Spec


def spec_of(profiles: dict[str, Any], **top: Any) -> Spec:
    return Spec.model_validate({"profiles": profiles, **top})


def test_plan_json_shape_is_the_contract() -> None:
    spec = spec_of(
        {
            "main": {"port": 18789},
            "rescue": {
                "port": 19789,
                "node": "gw-1",
                "openclaw": {"browser": {"profiles": {"work": {"cdpPort": 19950}}}},
            },
        }
    )
    assert plan_ports(spec).to_json() == {
        "profiles": {
            "main": {
                "node": None,
                "base": 18789,
                "browser_control": 18791,
                "extension_relay": [18792, 18799],
                "cdp": [18800, 18899],
                "cdp_ports": {},
            },
            "rescue": {
                "node": "gw-1",
                "base": 19789,
                "browser_control": 19791,
                "extension_relay": [19792, 19799],
                "cdp": [19800, 19899],
                "cdp_ports": {"work": 19950},
            },
        }
    }


def test_footprint_reserves_base_through_base_plus_110() -> None:
    (fp,) = plan_ports(spec_of({"a": {"port": 30000}})).footprints
    assert fp.span == (30000, 30110)
    assert fp.cdp == (30011, 30110)
    assert fp.cdp[1] - fp.cdp[0] + 1 == 100


def test_explicit_cdp_ports_inside_own_range_are_not_extra() -> None:
    spec = spec_of(
        {
            "a": {
                "port": 30000,
                "openclaw": {
                    "browser": {"profiles": {"in": {"cdpPort": 30050}, "out": {"cdpPort": 40000}}}
                },
            }
        }
    )
    (fp,) = plan_ports(spec).footprints
    assert fp.extra_cdp_ports() == {"out": 40000}


def test_host_ports_per_network() -> None:
    spec = spec_of(
        {"a": {"port": 30000, "openclaw": {"browser": {"profiles": {"w": {"cdpPort": 40000}}}}}}
    )
    (fp,) = plan_ports(spec).footprints
    assert fp.host_ports("bridge") == [
        (30000, 30000),
        (30002, 30002),
        (30011, 30110),
        (40000, 40000),
    ]
    assert fp.host_ports("host") == [(30000, 30110), (40000, 40000)]
    assert fp.relayed() == [(30002, 30002), (30011, 30110), (40000, 40000)]


def test_footprints_by_node_keep_file_order() -> None:
    spec = spec_of(
        {
            "a": {"port": 30000, "node": "gw-2"},
            "b": {"port": 30000},
            "c": {"port": 31000, "node": "gw-2"},
        }
    )
    groups = plan_ports(spec).by_node()
    assert list(groups) == ["gw-2", None]
    assert [fp.profile for fp in groups["gw-2"]] == ["a", "c"]


def test_swarm_publishes_browser_ports_only_when_asked() -> None:
    (fp,) = plan_ports(spec_of({"a": {"port": 30000}})).footprints
    assert fp.published(browser=False) == [(30000, 30000)]
    assert fp.published() == [(30000, 30000), (30002, 30002), (30011, 30110)]
