"""Where each profile runs in a swarm: its ``node:`` resolved against the swarm's real nodes.

The checks compare ports and paths node by node, by the names the spec uses. That is exact only
if every name is exactly one node, and no two names (a hostname and a label, or the manager
that takes the profiles without ``node:``) are the same node: ``deploy`` checks both here,
before anything is deployed. A gateway must also stay on one node, where its volumes are: so a
label on several nodes, or profiles without ``node:`` in a swarm of several managers, is an
error rather than a placement left to the scheduler.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence

from openclaw_compose.core.checks import CheckCode, Problem
from openclaw_compose.core.ports import Footprint, PortPlan
from openclaw_compose.core.spec import node_label
from openclaw_compose.engine.records import SwarmNode


def resolve_nodes(
    plan: PortPlan, nodes: Sequence[SwarmNode]
) -> tuple[dict[str, SwarmNode], list[Problem]]:
    """Each profile's node (for the profiles whose ``node:`` is one node), and the problems."""
    problems: list[Problem] = []
    found: dict[str | None, SwarmNode] = {}
    for name, footprints in plan.by_node().items():
        matches = _matches(name, nodes)
        if len(matches) == 1:
            found[name] = matches[0]
            problems += _unusable(name, footprints, matches[0])
        else:
            problems.append(_unresolved(name, footprints, matches, nodes))
    problems += _same_node(found, plan)
    placed = {fp.profile: found[fp.node] for fp in plan.footprints if fp.node in found}
    return placed, problems


def _matches(name: str | None, nodes: Sequence[SwarmNode]) -> list[SwarmNode]:
    if name is None:
        return [node for node in nodes if node.role == "manager"]
    label = node_label(name)
    if label is not None:
        key, value = label
        return [node for node in nodes if node.labels.get(key) == value]
    return [node for node in nodes if node.hostname == name]


def _who(name: str | None, footprints: Sequence[Footprint]) -> str:
    profiles = ", ".join(repr(fp.profile) for fp in footprints)
    if name is None:
        return f"profiles without node: ({profiles})"
    return f"node {name!r} (profiles {profiles})"


def _problem(name: str | None, footprints: Sequence[Footprint], message: str) -> Problem:
    return Problem(
        CheckCode.NODE_PLACEMENT,
        "error",
        tuple(fp.profile for fp in footprints),
        message,
        nodes=(name,),
    )


def _unresolved(
    name: str | None,
    footprints: Sequence[Footprint],
    matches: Sequence[SwarmNode],
    nodes: Sequence[SwarmNode],
) -> Problem:
    who = _who(name, footprints)
    if matches and name is None:
        managers = ", ".join(node.hostname for node in matches)
        return _problem(
            name,
            footprints,
            f"{who}: this swarm has {len(matches)} managers ({managers}), and their tasks "
            "could move between them, away from their volumes; set node: on every profile",
        )
    if matches:
        hosts = ", ".join(node.hostname for node in matches)
        return _problem(
            name,
            footprints,
            f"{who}: the label is on {len(matches)} nodes ({hosts}); a gateway must stay on "
            "one node, where its volumes are: give the label to one node only",
        )
    known = ", ".join(f"{node.hostname} ({node.role})" for node in nodes) or "none"
    how = (
        f"add it to one node with 'docker node update --label-add {name} NODE'"
        if name is not None and node_label(name)
        else "use the hostname of a node ('docker node ls')"
    )
    return _problem(name, footprints, f"{who}: no node of the swarm matches; {how}. Nodes: {known}")


def _unusable(name: str | None, footprints: Sequence[Footprint], node: SwarmNode) -> list[Problem]:
    if node.state == "ready" and node.availability == "active":
        return []
    return [
        _problem(
            name,
            footprints,
            f"{_who(name, footprints)}: node {node.hostname} is {node.state} and "
            f"{node.availability}: its gateways would not start; make it ready and active "
            "('docker node update --availability active') or place them elsewhere",
        )
    ]


def _same_node(found: dict[str | None, SwarmNode], plan: PortPlan) -> Iterator[Problem]:
    names: dict[str, list[str | None]] = defaultdict(list)
    for name, node in found.items():
        names[node.id].append(name)
    groups = plan.by_node()
    for node_id, same in names.items():
        if len(same) < 2:
            continue
        host = found[same[0]].hostname
        footprints = [fp for name in same for fp in groups[name]]
        described = "; ".join(_who(name, groups[name]) for name in same)
        yield Problem(
            CheckCode.NODE_PLACEMENT,
            "error",
            tuple(fp.profile for fp in footprints),
            f"{described} are all node {host} ({node_id[:12]}): ports are checked by node name "
            f"and overlaps between them would go unnoticed; name it one way (node: {host})",
            nodes=tuple(same),
        )
