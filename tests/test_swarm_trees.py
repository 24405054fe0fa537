"""A swarm profile's trees through jobs on its node, against a fake swarm: the archive's way
back (base64 lines, checked) and out (secrets, always removed), and the refusals a real engine
would not produce on demand. (The real jobs: tests/docker/test_swarm_upgrade.py on one node,
test_multinode.py on a worker.)"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from openclaw_compose.core.loading import validate
from openclaw_compose.core.spec import Spec
from openclaw_compose.engine.records import Job, JobResult, SwarmNode
from openclaw_compose.errors import ArchiveError, DockerError
from openclaw_compose.targets.swarm import trees
from openclaw_compose.targets.swarm.trees import CHUNK, NodeTrees

from .fakes import FakeEngine, FakeSwarm

NODE = SwarmNode("id-gw-1", "gw-1", "worker", {}, "ready", "active", "10.0.0.2")


@dataclass
class RecordingSwarm(FakeSwarm):
    """A one-node swarm whose jobs end as the test says, and whose secrets are recorded."""

    result: JobResult = field(default_factory=lambda: JobResult("complete", None, ""))
    secrets: dict[str, bytes] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    ran: list[Job] = field(default_factory=list)

    def nodes(self) -> list[SwarmNode]:
        return [NODE]

    def create_secret(self, name: str, data: str | bytes, labels: Mapping[str, str]) -> None:
        del labels  # not looked at
        self.secrets[name] = data.encode() if isinstance(data, str) else data

    def remove_secret(self, name: str) -> None:
        self.removed.append(name)

    def run_job(self, job: Job, timeout: float) -> JobResult:
        del timeout  # a fake job ends at once
        self.ran.append(job)
        return self.result


def _spec(registry: str | None = None) -> Spec:
    data = {"project": "fleet", "profiles": {"alice": {"port": 18789, "node": "gw-1"}}}
    return validate(data | ({"registry": registry} if registry else {}), source="test")


def _swarm(result: JobResult | None = None) -> tuple[NodeTrees, RecordingSwarm]:
    swarm = RecordingSwarm(result=result or JobResult("complete", None, ""))
    return NodeTrees(FakeEngine(swarm=swarm)), swarm


def _printed(data: bytes, digest: str | None = None) -> str:
    """What the backup job prints for ``data``."""
    lines = [f"openclaw-compose-sha256 {digest or hashlib.sha256(data).hexdigest()}"]
    encoded = base64.encodebytes(data).decode().splitlines()
    return "\n".join(["backup created", *lines, *(f"openclaw-compose-b64 {ln}" for ln in encoded)])


def test_a_backup_comes_back_whole_from_the_node(tmp_path: Path) -> None:
    data = bytes(range(256)) * 3000
    nodes, swarm = _swarm(JobResult("complete", None, _printed(data)))
    nodes.backup(_spec(), "alice", tmp_path / "out.tar.gz")
    assert (tmp_path / "out.tar.gz").read_bytes() == data
    (job,) = swarm.ran
    assert job.node_id == NODE.id
    assert job.user == "1000:1000"
    assert {m.target for m in job.mounts} >= {"/home/node/.openclaw", "/home/node/workspace"}
    assert job.mounts[0].source == "fleet_alice-state"


def test_a_backup_that_did_not_arrive_whole_is_refused(tmp_path: Path) -> None:
    nodes, _ = _swarm(JobResult("complete", None, _printed(b"payload", digest="0" * 64)))
    with pytest.raises(DockerError, match="did not arrive whole"):
        nodes.backup(_spec(), "alice", tmp_path / "out.tar.gz")
    assert not (tmp_path / "out.tar.gz").exists()


def test_with_a_registry_the_job_pulls_the_image_by_the_registrys_name(tmp_path: Path) -> None:
    data = b"x"
    nodes, swarm = _swarm(JobResult("complete", None, _printed(data)))
    nodes.backup(_spec("10.0.0.1:5000"), "alice", tmp_path / "out.tar.gz")
    assert swarm.ran[0].image.startswith("10.0.0.1:5000/openclaw-compose/gateway:")


def test_a_restore_goes_as_secrets_that_are_removed_even_when_the_job_fails(
    tmp_path: Path,
) -> None:
    archive = tmp_path / "payload.tar.gz"
    archive.write_bytes(b"a" * (2 * CHUNK + 10))
    nodes, swarm = _swarm(JobResult("failed", "task: non-zero exit (3)", "state is not empty"))
    with pytest.raises(DockerError, match="state is not empty"):
        nodes.write(_spec(), "alice", "img", archive, {"state": "root/state"})
    assert len(swarm.secrets) == 3
    assert b"".join(swarm.secrets[name] for name in sorted(swarm.secrets)) == archive.read_bytes()
    assert sorted(swarm.removed) == sorted(swarm.secrets)
    (job,) = swarm.ran
    assert sorted(job.secrets.values()) == [
        "openclaw-compose-restore-0000",
        "openclaw-compose-restore-0001",
        "openclaw-compose-restore-0002",
    ]


def test_a_restore_too_large_for_secrets_is_refused_before_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trees, "MAX_RESTORE", 1000)
    archive = tmp_path / "payload.tar.gz"
    archive.write_bytes(b"a" * 1001)
    nodes, swarm = _swarm()
    with pytest.raises(ArchiveError, match="at most 1000 bytes"):
        nodes.write(_spec(), "alice", "img", archive, {"state": "root/state"})
    assert not swarm.secrets
    assert not swarm.ran
