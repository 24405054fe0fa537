"""What the compose target adds to the checks: a Compose project runs on this one host."""

from __future__ import annotations

from collections.abc import Iterator

from openclaw_compose.core.checks import CheckCode, Problem
from openclaw_compose.core.ports import PortPlan
from openclaw_compose.core.spec import Spec


def compose_problems(spec: Spec, plan: PortPlan) -> Iterator[Problem]:
    """Ports are only checked node by node, but Compose runs every profile on this host."""
    del spec  # every compose check so far is about the plan
    yield from _on_one_host(plan)


def _node_text(node: str | None) -> str:
    return f"node {node!r}" if node is not None else "no node"


def _on_one_host(plan: PortPlan) -> Iterator[Problem]:
    nodes = plan.by_node()
    if len(nodes) > 1:
        where = "; ".join(
            f"{_node_text(node)}: {', '.join(fp.profile for fp in footprints)}"
            for node, footprints in nodes.items()
        )
        yield Problem(
            CheckCode.COMPOSE_NODES,
            "error",
            tuple(fp.profile for fp in plan.footprints),
            f"the profiles are placed on {len(nodes)} nodes ({where}), but a Compose project "
            "runs every profile on this host: use --target swarm, or give every profile the "
            "same node (or none)",
            nodes=tuple(nodes),
        )
