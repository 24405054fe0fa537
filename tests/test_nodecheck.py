"""The node preflight's logic against a fake engine: which jobs go where, and what their
results become (the real jobs run in tests/docker/test_multinode.py)."""

from __future__ import annotations

from openclaw_compose.core.checks import CheckCode
from openclaw_compose.core.loading import validate
from openclaw_compose.core.ports import plan_ports
from openclaw_compose.core.spec import Spec
from openclaw_compose.engine.records import JobResult, SwarmNode
from openclaw_compose.targets.swarm.images import registry_repository
from openclaw_compose.targets.swarm.nodecheck import node_problems

from .fakes import FakeEngine

NODES = {
    name: SwarmNode(f"id-{name}", name, "worker", {}, "ready", "active", f"10.0.0.{i}")
    for i, name in enumerate(("gw-1", "gw-2"), start=2)
}


def _spec(registry: str | None = None) -> Spec:
    data = {
        "profiles": {
            "alice": {"port": 18789, "node": "gw-1"},
            "bob": {"port": 18789, "node": "gw-2"},
            "carol": {"port": 19789, "node": "gw-2"},
        }
    }
    return validate({**data, **({"registry": registry} if registry else {})}, source="test")


def test_one_job_per_node_binds_that_nodes_ports() -> None:
    spec = _spec()
    engine = FakeEngine()
    placed = {"alice": NODES["gw-1"], "bob": NODES["gw-2"], "carol": NODES["gw-2"]}
    assert (
        node_problems(spec, plan_ports(spec), engine, placed, skip=(), images={}, timeout=9) == []
    )
    jobs = sorted((node, command[3:]) for node, _, command in engine.swarm.jobs)
    assert jobs == [("id-gw-1", ["18789"]), ("id-gw-2", ["18789", "19789"])]


def test_busy_ports_and_a_missing_image_become_problems() -> None:
    spec = _spec()
    engine = FakeEngine()
    engine.swarm.job_results = {
        "id-gw-1": JobResult("rejected", "No such image: openclaw-compose/gateway:2026.9.6", ""),
        "id-gw-2": JobResult("complete", None, "noise\nopenclaw-compose-busy [19789]\n"),
    }
    placed = {"alice": NODES["gw-1"], "bob": NODES["gw-2"], "carol": NODES["gw-2"]}
    problems = node_problems(spec, plan_ports(spec), engine, placed, skip=(), images={}, timeout=9)
    by_code = {problem.code: problem for problem in problems}
    assert by_code[CheckCode.PORT_IN_USE].profiles == ("carol",)
    assert by_code[CheckCode.PORT_IN_USE].message.startswith(
        "profile 'carol': 0.0.0.0 port 19789 already taken by a process or a container on "
        "node gw-2 (10.0.0.3)"
    )
    assert by_code[CheckCode.NODE_IMAGE].profiles == ("alice",)
    assert "docker save openclaw-compose/gateway:2026.9.6 | ssh gw-1 docker load" in (
        by_code[CheckCode.NODE_IMAGE].message
    )


def test_skipped_profiles_get_no_job_and_images_are_pinned() -> None:
    spec = _spec("reg.example:5000")
    engine = FakeEngine()
    placed = {"alice": NODES["gw-1"], "bob": NODES["gw-2"], "carol": NODES["gw-2"]}
    pinned = {"openclaw-compose/gateway:2026.9.6": "reg.example:5000/x@sha256:1"}
    node_problems(
        spec, plan_ports(spec), engine, placed, skip={"bob", "carol"}, images=pinned, timeout=9
    )
    assert [(node, image) for node, image, _ in engine.swarm.jobs] == [
        ("id-gw-1", "reg.example:5000/x@sha256:1")
    ]


def test_registry_repository_replaces_a_registry_in_the_name() -> None:
    assert registry_repository("r:5000", "openclaw-compose/gateway:2026.9.6") == (
        "r:5000/openclaw-compose/gateway",
        "2026.9.6",
    )
    assert registry_repository("r:5000", "old.example:443/team/gw") == ("r:5000/team/gw", "latest")
    assert registry_repository("r:5000", "localhost:5000/gw:1") == ("r:5000/gw", "1")
