"""Resolving ``node:`` against a swarm's nodes (from ``docker node inspect`` data, no engine)."""

from __future__ import annotations

from typing import Any

from openclaw_compose.core.ports import plan_ports
from openclaw_compose.engine.records import SwarmNode, TaskState
from openclaw_compose.targets.swarm.placement import resolve_nodes
from openclaw_compose.targets.swarm.runtime import current_tasks

from .test_ports import spec_of


def node(hostname: str, role: str = "worker", **options: Any) -> SwarmNode:
    return SwarmNode(
        id=f"id-{hostname}",
        hostname=hostname,
        role=role,
        labels=options.get("labels", {}),
        state=options.get("state", "ready"),
        availability=options.get("availability", "active"),
        address=f"10.0.0.{len(hostname)}",
    )


SWARM = [
    node("mgr", "manager"),
    node("gw-1", labels={"openclaw.node": "a"}),
    node("gw-2", labels={"zone": "eu"}),
    node("gw-3", labels={"zone": "eu"}),
]


def resolve(profiles: dict[str, Any], nodes: list[SwarmNode] = SWARM) -> Any:
    return resolve_nodes(plan_ports(spec_of(profiles)), nodes)


def test_hostnames_labels_and_the_manager() -> None:
    placed, problems = resolve(
        {
            "a": {"port": 20000, "node": "gw-2"},
            "b": {"port": 20000, "node": "openclaw.node=a"},
            "c": {"port": 20000},
        }
    )
    assert problems == []
    assert {name: n.hostname for name, n in placed.items()} == {
        "a": "gw-2",
        "b": "gw-1",
        "c": "mgr",
    }


def test_unknown_and_ambiguous_nodes() -> None:
    placed, problems = resolve(
        {"a": {"port": 20000, "node": "gw-9"}, "b": {"port": 20000, "node": "zone=eu"}}
    )
    assert placed == {}
    assert [p.code for p in problems] == ["node-placement", "node-placement"]
    assert problems[0].message.startswith(
        "node 'gw-9' (profiles 'a'): no node of the swarm matches; use the hostname of a node"
    )
    assert "Nodes: mgr (manager), gw-1 (worker)" in problems[0].message
    assert "the label is on 2 nodes (gw-2, gw-3)" in problems[1].message
    assert problems[1].nodes == ("zone=eu",)


def test_unplaced_profiles_need_a_single_manager() -> None:
    managers = [node("m1", "manager"), node("m2", "manager")]
    _, (problem,) = resolve({"a": {"port": 20000}}, managers)
    assert "this swarm has 2 managers (m1, m2)" in problem.message
    assert problem.nodes == (None,)


def test_two_names_for_one_node_are_refused() -> None:
    _, (problem,) = resolve(
        {
            "a": {"port": 20000, "node": "gw-1"},
            "b": {"port": 20000, "node": "openclaw.node=a"},
        }
    )
    assert problem.profiles == ("a", "b")
    assert "are all node gw-1" in problem.message
    _, problems = resolve({"c": {"port": 30000, "node": "mgr"}, "d": {"port": 40000}})
    assert [p.profiles for p in problems] == [("c", "d")]
    assert "profiles without node: ('d')" in problems[0].message


def test_a_drained_node_is_refused() -> None:
    drained = [node("mgr", "manager", availability="drain")]
    _, (problem,) = resolve({"a": {"port": 20000}}, drained)
    assert "node mgr is ready and drain" in problem.message


def test_current_task_is_the_newest_meant_to_run() -> None:
    def task(state: str, desired: str) -> TaskState:
        return TaskState("s_main", state, desired, None, "n")

    tasks = [task("shutdown", "shutdown"), task("running", "running"), task("failed", "shutdown")]
    assert current_tasks(tasks)["s_main"].state == "running"
    assert current_tasks(tasks[:1])["s_main"].state == "shutdown"
