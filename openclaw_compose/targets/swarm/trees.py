"""A swarm profile's state, config and workspace, reached on the node that holds them.

A stack's volumes (and bind-mounted directories) live on the node its gateway runs on, and the
manager's API reaches no other node's files. So each operation is a swarm job placed on that
node (:meth:`openclaw_compose.engine.swarm.Swarm.run_job`), with the profile's trees mounted
where the gateway sees them, as the gateway's user, in the profile's own image:

- a backup runs ``openclaw backup create --verify`` there (consistent next to the running
  gateway: OpenClaw snapshots its SQLite files, and both containers share the node's kernel
  and locks) and prints the archive as base64 lines, checksummed, which the manager's log
  stream brings back; the archive passes through no file but the job's log, which goes with
  the job;
- a restore hands the archive to the job as swarm secrets (encrypted in the swarm, given only
  to the node that runs the job, in memory there), :data:`CHUNK` bytes each, removed after;
- ``openclaw doctor --json`` and the emptiness check print their answer.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shlex
from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path

from openclaw_compose.core.contract import MOUNTS, backup_command, backup_file
from openclaw_compose.core.ports import plan_ports
from openclaw_compose.core.spec import Spec
from openclaw_compose.engine import Engine
from openclaw_compose.engine.containers import STACK_LABEL
from openclaw_compose.engine.records import Job, JobMount, JobResult, SwarmNode
from openclaw_compose.errors import ArchiveError, DockerError, NotFound
from openclaw_compose.host.volumes import (
    EMPTY_SCRIPT,
    ROLES,
    USER,
    parse_empty,
    profile_trees,
    tail_lines,
    write_script,
)
from openclaw_compose.targets.swarm.images import node_reference
from openclaw_compose.targets.swarm.placement import resolve_nodes

JOB_LABEL = "io.openclaw-compose.trees"
"""On these jobs (not the stack's label: they are not the stack's services)."""
JOB_TIMEOUT = 900.0
CHUNK = 400 * 1024
"""Bytes of an archive per swarm secret (a secret holds at most 500 KiB)."""
MAX_RESTORE = 64 * 1024 * 1024
"""The largest archive a restore hands to a node through secrets."""
_B64, _SUM = "openclaw-compose-b64 ", "openclaw-compose-sha256 "
_SECRET_PREFIX = "openclaw-compose-restore-"


class NodeTrees:
    """The trees of a stack's profiles, through jobs on their nodes."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def node(self, spec: Spec, profile: str) -> SwarmNode:
        """Where the profile's trees are: its current task's node, else where it is placed."""
        swarm = self._engine.swarm
        nodes = swarm.nodes()
        by_id = {node.id: node for node in nodes}
        service = spec.scoped(profile)
        for task in reversed(swarm.stack_tasks(spec.project)):
            if task.service == service and task.node_id in by_id:  # a new task has no node yet
                return by_id[task.node_id]
        placed, problems = resolve_nodes(plan_ports(spec), nodes)
        if profile not in placed:
            raise DockerError("; ".join(p.message for p in problems if profile in p.profiles))
        return placed[profile]

    def run(
        self,
        spec: Spec,
        profile: str,
        image: str,
        script: str,
        *,
        secrets: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> JobResult:
        """``script`` on the profile's node with its trees mounted; with ``check``, raises when
        it failed."""
        trees = profile_trees(spec, profile, image)
        node = self.node(spec, profile)
        labels = {STACK_LABEL: spec.project}
        job = Job(
            name=f"{spec.project[:40]}-trees-{os.urandom(4).hex()}",
            image=node_reference(spec, image),
            command=["sh", "-c", f"export OPENCLAW_PROFILE={shlex.quote(profile)}\n{script}"],
            node_id=node.id,
            labels={JOB_LABEL: spec.project},
            mounts=[JobMount(trees.sources[role], MOUNTS[role], labels) for role in ROLES],
            user=USER,
            secrets=secrets or {},
        )
        result = self._engine.swarm.run_job(job, JOB_TIMEOUT)
        if check and result.state != "complete":
            detail = f"{result.state}: {result.error}" if result.error else result.state
            raise DockerError(
                f"a job on node {node.hostname} ({node.address}) for profile {profile!r} failed "
                f"({detail}):\n" + tail_lines(result.output)
            )
        return result

    def backup(self, spec: Spec, profile: str, dest: Path) -> None:
        archive = backup_file()
        script = (
            f"set -e; {shlex.join(backup_command(archive))} >&2; "
            f"echo {_SUM}$(sha256sum {archive} | cut -d' ' -f1); "
            f"base64 {archive} | sed 's/^/{_B64}/'"
        )
        output = self.run(spec, profile, spec.profiles[profile].image_ref(spec), script).output
        lines = output.splitlines()
        data = base64.b64decode("".join(ln[len(_B64) :] for ln in lines if ln.startswith(_B64)))
        sums = [ln[len(_SUM) :].strip() for ln in lines if ln.startswith(_SUM)]
        if not data or sums != [hashlib.sha256(data).hexdigest()]:
            raise DockerError(
                f"the backup of profile {profile!r} did not arrive whole from its node "
                f"({len(data)} bytes, checksum {'matches' if sums else 'missing'}); try again"
            )
        dest.write_bytes(data)

    def doctor(self, spec: Spec, profile: str) -> tuple[int, str]:
        """``openclaw doctor --json`` (read-only) next to the running gateway; 0 when it
        completed."""
        image = spec.profiles[profile].image_ref(spec)
        result = self.run(spec, profile, image, "exec openclaw doctor --json", check=False)
        return (0 if result.state == "complete" else 1), result.output

    def empty(self, spec: Spec, profile: str, image: str) -> dict[str, bool]:
        return parse_empty(self.run(spec, profile, image, EMPTY_SCRIPT).output)

    def write(
        self,
        spec: Spec,
        profile: str,
        image: str,
        archive: Path,
        members: Mapping[str, str | None],
    ) -> None:
        data = archive.read_bytes()
        if len(data) > MAX_RESTORE:
            raise ArchiveError(
                f"{archive.name}: {len(data)} bytes; a swarm restore hands at most "
                f"{MAX_RESTORE} bytes to a node. Restore it with the compose target on that "
                "node instead (same volumes: openclaw-compose restore on the node itself)"
            )
        chunks = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]
        names: dict[str, str] = {}
        try:
            self._upload(spec, profile, chunks, names)
            inbox = "/tmp/restore.tar.gz"
            files = " ".join(f"/run/secrets/{_SECRET_PREFIX}{i:04d}" for i in range(len(chunks)))
            script = f"cat {files} > {inbox}\n" + write_script(inbox, members, replace=True)
            self.run(spec, profile, image, script, secrets=names)
        finally:
            for name in names:
                with suppress(NotFound):
                    self._engine.swarm.remove_secret(name)

    def _upload(
        self, spec: Spec, profile: str, chunks: Sequence[bytes], names: dict[str, str]
    ) -> None:
        """Each chunk as a swarm secret, recorded in ``names`` (secret name -> its file name in
        the job) as it is created, so that the caller removes all it got."""
        stamp = os.urandom(4).hex()
        for i, chunk in enumerate(chunks):
            name = spec.scoped(f"{profile}-restore-{stamp}-{i:04d}")
            self._engine.swarm.create_secret(name, chunk, {JOB_LABEL: spec.project})
            names[name] = f"{_SECRET_PREFIX}{i:04d}"
