from __future__ import annotations

from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openclaw_compose.core.checks import HostFacts, Problem, Report, cdp_endpoint, run_checks
from openclaw_compose.core.ports import plan_ports
from openclaw_compose.core.spec import Spec
from openclaw_compose.targets import get_target

from .test_ports import spec_of

NO_HOST = HostFacts()
PORT_CODES = {"port-overlap", "cdp-port-collision"}


def check(spec: Spec, host: HostFacts = NO_HOST, target: str = "compose") -> Report:
    """The checks ``check --target TARGET`` runs: the core ones and the target's."""
    plan = plan_ports(spec)
    core = run_checks(spec, plan, host).problems
    return Report(core + tuple(get_target(target).checks(spec, plan)))


def per_node(spec: Spec) -> tuple[Problem, ...]:
    """The problems of the swarm target, without its one spec-wide warning."""
    report = check(spec, target="swarm")
    return tuple(p for p in report.problems if p.code != "swarm-publish-address")


def codes(report: Report) -> list[str]:
    return [problem.code for problem in report.problems]


def test_default_pair_is_clean() -> None:
    report = check(spec_of({"main": {"port": 18789}, "rescue": {"port": 19789}}))
    assert report.ok
    assert report.problems == ()


def test_the_pages_20_port_spacing_collides() -> None:
    report = check(spec_of({"main": {"port": 18789}, "rescue": {"port": 18809}}))
    (problem,) = report.problems
    assert problem.code == "port-overlap"
    assert problem.profiles == ("main", "rescue")
    assert problem.ports == tuple(range(18809, 18900))
    assert "Move 'rescue' to port 18900 or higher (18909 keeps" in problem.message


def test_disjoint_but_close_footprints_warn_about_spacing() -> None:
    report = check(spec_of({"a": {"port": 20000}, "b": {"port": 20111}}))
    assert report.ok
    assert codes(report) == ["spacing"]
    assert "consider port 20120 for 'b'" in report.problems[0].message


def test_out_of_range() -> None:
    report = check(spec_of({"a": {"port": 65500}, "b": {"port": 0}}))
    assert codes(report).count("port-out-of-range") == 2
    assert "choose a base port from 1 to 65425" in report.problems[0].message


def test_explicit_cdp_port_inside_another_instance() -> None:
    spec = spec_of(
        {
            "main": {"port": 18789},
            "rescue": {
                "port": 19789,
                "openclaw": {"browser": {"profiles": {"work": {"cdpPort": 18850}}}},
            },
        }
    )
    (problem,) = check(spec).problems
    assert problem.code == "cdp-port-collision"
    assert set(problem.profiles) == {"main", "rescue"}
    assert problem.ports == (18850,)


def test_explicit_cdp_port_used_twice_and_on_own_services() -> None:
    browsers = {"x": {"cdpPort": 40000}, "y": {"cdpPort": 40000}, "z": {"cdpPort": 20002}}
    spec = spec_of(
        {
            "a": {"port": 20000, "openclaw": {"browser": {"profiles": browsers}}},
            "b": {"port": 30000, "openclaw": {"browser": {"profiles": {"w": {"cdpPort": 40000}}}}},
        }
    )
    report = check(spec)
    assert set(codes(report)) == {"cdp-port-collision"}
    messages = " | ".join(problem.message for problem in report.problems)
    assert "used by browser profiles 'x', 'y'" in messages
    assert "falls on the gateway's own service ports 20000-20010" in messages
    assert any(set(p.profiles) == {"a", "b"} for p in report.problems)


def test_shared_cdp_urls_are_normalised() -> None:
    spec = spec_of(
        {
            "a": {"port": 20000, "openclaw": {"browser": {"cdpUrl": "HTTP://Chrome.Local"}}},
            "b": {
                "port": 30000,
                "openclaw": {"browser": {"profiles": {"r": {"cdpUrl": "ws://chrome.local:80/x"}}}},
            },
            "c": {"port": 40000, "openclaw": {"browser": {"cdpUrl": "http://chrome.local:9222"}}},
        }
    )
    (problem,) = check(spec).problems
    assert problem.code == "cdp-url-shared"
    assert problem.profiles == ("a", "b")
    assert "chrome.local:80" in problem.message


def test_cdp_endpoint_normalisation() -> None:
    assert cdp_endpoint("https://H:443/json") == cdp_endpoint("wss://h/devtools")
    assert cdp_endpoint("http://h") == ("h", 80)
    assert cdp_endpoint("h:9222") is None
    assert cdp_endpoint("http://h:99999") is None


def test_invalid_cdp_url() -> None:
    spec = spec_of({"a": {"port": 20000, "openclaw": {"browser": {"cdpUrl": "chrome:9222"}}}})
    assert codes(check(spec)) == ["cdp-url-invalid"]


def test_shared_and_nested_host_paths(tmp_path: Path) -> None:
    spec = spec_of(
        {
            "a": {"port": 20000, "state_dir": str(tmp_path / "data")},
            "b": {"port": 30000, "state_dir": str(tmp_path / "data" / "b")},
            "c": {"port": 40000, "workspace_dir": str(tmp_path / "data")},
            "d": {
                "port": 50000,
                "state_dir": str(tmp_path / "d"),
                "config_dir": str(tmp_path / "d"),
            },
        }
    )
    report = check(spec)
    assert set(codes(report)) == {"path-shared"}
    pairs = {frozenset(problem.profiles) for problem in report.problems}
    assert pairs == {frozenset({"a", "c"}), frozenset({"c", "b"})}
    assert "are the same host directory" in report.problems[0].message
    assert all(problem.paths for problem in report.problems)


def test_fragment_workspaces_are_compared() -> None:
    workspace = {"agents": {"defaults": {"workspace": "/srv/ws"}}}
    nested = {"agents": {"defaults": {"workspace": "/srv/ws/b"}}}
    spec = spec_of(
        {"a": {"port": 20000, "openclaw": workspace}, "b": {"port": 30000, "openclaw": nested}}
    )
    (problem,) = check(spec).problems
    assert problem.code == "path-shared"
    assert "are nested workspace" in problem.message


def test_privileged_and_ephemeral_warnings() -> None:
    spec = spec_of({"low": {"port": 1000}, "eph": {"port": 40000}})
    report = check(spec, HostFacts(ephemeral=(32768, 60999)))
    assert report.ok
    assert sorted(codes(report)) == ["port-ephemeral", "port-privileged"]
    privileged = next(p for p in report.problems if p.code == "port-privileged")
    assert privileged.ports == tuple(range(1000, 1024))


def test_report_json_shape() -> None:
    report = check(spec_of({"a": {"port": 20000}, "b": {"port": 20010}}))
    data = report.to_json()
    assert data["ok"] is False
    assert set(data["problems"][0]) == {"code", "severity", "profiles", "ports", "nodes", "message"}
    assert data["problems"][0]["nodes"] == [None]


# --- per node ---------------------------------------------------------------------------------


def test_same_ports_on_different_nodes_are_fine() -> None:
    spec = spec_of(
        {
            "a": {"port": 18789, "node": "gw-1"},
            "b": {"port": 18789, "node": "gw-2"},
            "c": {"port": 18789, "node": "zone=eu"},
            "d": {"port": 18789},
        }
    )
    assert per_node(spec) == ()


def test_overlaps_are_found_on_each_node_and_say_which() -> None:
    spec = spec_of(
        {
            "a": {"port": 18789, "node": "gw-1"},
            "b": {"port": 18809, "node": "gw-1"},
            "c": {"port": 18789, "node": "gw-2"},
            "d": {"port": 18850},
            "e": {"port": 18900},
        }
    )
    problems = per_node(spec)
    by_code = {(str(p.code), p.profiles): p for p in problems}
    overlap = by_code[("port-overlap", ("a", "b"))]
    assert overlap.nodes == ("gw-1",)
    assert overlap.message.startswith("node 'gw-1': profiles 'a' (18789-18899) and 'b'")
    unplaced = by_code[("port-overlap", ("d", "e"))]
    assert unplaced.nodes == (None,)
    assert unplaced.message.startswith("profiles 'd' (18850-18960) and 'e'")
    assert {p.profiles for p in problems if p.code == "port-overlap"} == {
        ("a", "b"),
        ("d", "e"),
    }


def test_paths_are_per_node(tmp_path: Path) -> None:
    shared = str(tmp_path / "state")
    spec = spec_of(
        {
            "a": {"port": 20000, "node": "gw-1", "state_dir": shared},
            "b": {"port": 20000, "node": "gw-2", "state_dir": shared},
            "c": {"port": 30000, "node": "gw-2", "state_dir": shared},
        }
    )
    (problem,) = per_node(spec)
    assert problem.code == "path-shared"
    assert problem.profiles == ("b", "c")
    assert problem.nodes == ("gw-2",)


def test_compose_target_refuses_profiles_on_several_nodes() -> None:
    spec = spec_of({"a": {"port": 18789, "node": "gw-1"}, "b": {"port": 18789}})
    (problem,) = check(spec).problems
    assert problem.code == "compose-nodes"
    assert problem.nodes == ("gw-1", None)
    assert "node 'gw-1': a; no node: b" in problem.message
    assert "use --target swarm" in problem.message
    one_node = spec_of({"a": {"port": 18789, "node": "gw-1"}, "b": {"port": 19789, "node": "gw-1"}})
    assert check(one_node).problems == ()


def swarm_check(spec: Spec) -> Report:
    return check(spec, target="swarm")


def test_swarm_target_says_it_publishes_on_every_address() -> None:
    report = swarm_check(spec_of({"a": {"port": 18789, "node": "gw-1"}, "b": {"port": 18789}}))
    assert report.ok
    (problem,) = report.problems
    assert problem.code == "swarm-publish-address"
    assert problem.severity == "warning"
    assert problem.nodes == ("gw-1", None)
    assert "not on publish_address 127.0.0.1" in problem.message


def test_swarm_target_requires_token_auth() -> None:
    spec = spec_of(
        {
            "a": {"port": 18789, "openclaw": {"gateway": {"auth": {"mode": "password"}}}},
            "b": {"port": 19789, "openclaw": {"gateway": {"auth": {"mode": "none"}}}},
            "c": {"port": 20789, "openclaw": {"gateway": {"auth": {"token": "plain"}}}},
            "d": {"port": 21789, "openclaw": {"gateway": {"auth": {"mode": "token"}}}},
        }
    )
    assert check(spec).ok  # Compose binds 127.0.0.1: the user's choice
    report = swarm_check(spec)
    auth = [p for p in report.problems if p.code == "swarm-auth"]
    assert [p.profiles for p in auth] == [("a",), ("b",), ("c",)]
    assert "profiles.a.openclaw.gateway.auth.mode is 'password'" in auth[0].message
    assert "profiles.c.openclaw.gateway.auth.token is set" in auth[2].message
    assert report.errors == 3


def test_swarm_browser_ports_need_the_opt_in() -> None:
    profiles = {"a": {"port": 18789, "browser": True}, "b": {"port": 19789}}
    (_, warning) = swarm_check(spec_of(profiles)).problems
    assert warning.code == "swarm-browser-ports"
    assert warning.profiles == ("a",)
    assert "18791, 18800-18899 are not published" in warning.message
    opted = swarm_check(spec_of(profiles, swarm={"publish_browser_ports": True}))
    exposed = [p for p in opted.problems if p.code == "swarm-browser-ports"]
    assert [p.profiles for p in exposed] == [("a",), ("b",)]
    assert "CDP has no authentication" in exposed[0].message


# --- property: the sweep agrees with the brute force "do the port sets intersect" ------------

profile_st = st.fixed_dictionaries(
    {
        "port": st.integers(1024, 2400),
        "cdp": st.lists(st.integers(1024, 2600), max_size=2),
        "node": st.sampled_from([None, "gw-1", "zone=eu"]),
    }
)


def _browsers(ports: list[int]) -> dict[str, Any]:
    return {f"b{j}": {"cdpPort": port} for j, port in enumerate(ports)}


def _spec(raw: list[dict[str, Any]]) -> Spec:
    return spec_of(
        {
            f"p{i}": {
                "port": item["port"],
                "node": item["node"],
                "openclaw": {
                    "browser": {
                        "profiles": {
                            f"b{j}": {"cdpPort": port} for j, port in enumerate(item["cdp"])
                        }
                    }
                },
            }
            for i, item in enumerate(raw)
        }
    )


def _oracle(raw: list[dict[str, Any]]) -> set[str]:
    """Profiles whose ports meet those of another profile on the same node, or clash inside
    their own instance."""
    sets = {
        f"p{i}": set(range(item["port"], item["port"] + 111)) | set(item["cdp"])
        for i, item in enumerate(raw)
    }
    conflicting = set()
    for (a, ports_a), (b, ports_b) in combinations(sets.items(), 2):
        same_node = raw[int(a[1:])]["node"] == raw[int(b[1:])]["node"]
        if same_node and ports_a & ports_b:
            conflicting |= {a, b}
    for i, item in enumerate(raw):
        own_services = set(range(item["port"], item["port"] + 11))
        if len(set(item["cdp"])) < len(item["cdp"]) or own_services & set(item["cdp"]):
            conflicting.add(f"p{i}")
    return conflicting


@settings(max_examples=400, deadline=None)
@given(st.lists(profile_st, min_size=1, max_size=8))
def test_overlap_sweep_matches_brute_force(raw: list[dict[str, Any]]) -> None:
    spec = _spec(raw)
    report = check(spec)
    found = [p for p in report.problems if p.code in PORT_CODES]
    named = {name for problem in found for name in problem.profiles}
    assert named == _oracle(raw)
    sets = {
        fp.profile: set(range(fp.span[0], fp.span[1] + 1)) | set(fp.cdp_ports.values())
        for fp in plan_ports(spec).footprints
    }
    nodes = {fp.profile: fp.node for fp in plan_ports(spec).footprints}
    for problem in found:
        assert problem.ports
        assert problem.nodes == (nodes[problem.profiles[0]],)
        for name in problem.profiles:
            assert set(problem.ports) <= sets[name]
            assert nodes[name] == problem.nodes[0]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1024, 3000), min_size=2, max_size=10))
def test_any_overlap_fails_the_check(bases: list[int]) -> None:
    report = check(spec_of({f"p{i}": {"port": base} for i, base in enumerate(bases)}))
    overlapping = any(abs(a - b) <= 110 for a, b in combinations(bases, 2))
    assert report.ok is not overlapping


def test_host_network_warns_that_profiles_share_it() -> None:
    profiles = {"main": {"port": 18789}, "rescue": {"port": 19789}}
    assert check(spec_of(profiles)).problems == ()
    report = check(spec_of(profiles, network="host"))
    assert report.ok
    (problem,) = report.problems
    assert (problem.code, problem.severity) == ("network-host-shared", "warning")
    assert problem.profiles == ("main", "rescue")
    assert "CDP, no authentication" in problem.message
    assert "loopback" in problem.message
    assert "network-host-shared" not in codes(swarm_check(spec_of(profiles, network="host")))


@pytest.mark.parametrize(
    ("setting", "sidecar", "role"),
    [
        ({"egress": "none"}, "a-ports", "port carrier"),
        ({"host_services": {"m": 80}}, "a-host", "host link"),
    ],
)
def test_swarm_refuses_only_a_profile_named_like_a_sidecar(
    setting: dict[str, object], sidecar: str, role: str
) -> None:
    spec = spec_of({"a": {"port": 18789, **setting}, "b": {"port": 19789}})
    assert "swarm-sidecar-name" not in codes(swarm_check(spec))
    spec = spec_of({"a": {"port": 18789, **setting}, sidecar: {"port": 19789}})
    (problem,) = [p for p in swarm_check(spec).problems if p.code == "swarm-sidecar-name"]
    assert (problem.severity, problem.profiles) == ("error", ("a", sidecar))
    assert f"profile 'a''s {role} is the service '{sidecar}'" in problem.message
