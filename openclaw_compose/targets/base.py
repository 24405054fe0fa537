"""What a target is: how a checked spec becomes files (render, extra checks) and how those files
run on an engine (the runtime hooks). :mod:`openclaw_compose.runtime.pipeline` owns the order of
the steps; a target supplies only what differs.

A third target (Kubernetes manifests, say) is a folder ``targets/<name>/`` with the same inner
shape (``render.py``, ``checks.py``, ``runtime.py``, and ``TARGET = Target(...)`` in its
``__init__.py``), added to the registry in :mod:`openclaw_compose.targets`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from openclaw_compose.core.audit import Expected
from openclaw_compose.core.checks import Problem
from openclaw_compose.core.contract import RenderedProject
from openclaw_compose.core.loading import LoadedSpec
from openclaw_compose.core.ports import Footprint, PortPlan
from openclaw_compose.core.spec import Spec

if TYPE_CHECKING:
    from openclaw_compose.engine import Engine

ProgressFn = Callable[[str], None]
LineFn = Callable[[str], None]
"""Where a command's output goes, one line (without its line break) at a time."""
WatchFn = Callable[[str], None]
"""A gateway's state, after each look of a wait for it (``Runtime.await_gateway``)."""
LiveFn = Callable[[Sequence[str]], None]
"""The current state, one line per profile, while a step waits: a terminal redraws them in
place; elsewhere they are dropped (progress lines say what happened)."""


@dataclass(frozen=True)
class GatewayStatus:
    """One profile's gateway as ``status`` shows it, whatever runs it."""

    profile: str
    url: str
    container: str | None
    state: str
    health: str | None
    probes: Mapping[str, int | None]
    ports: Mapping[str, Any]
    token: str
    """Where the token is: the ``.env`` variable or the swarm secret, never the token itself."""
    node: str | None = None
    """Swarm: the hostname of the node its task runs on."""
    version: str | None = None
    """The OpenClaw version of the container's image (its ``openclaw.version`` label)."""
    address: str | None = None
    """Swarm: that node's address."""

    def to_json(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "node": self.node,
            "version": self.version,
            "address": self.address,
            "url": self.url,
            "container": self.container,
            "state": self.state,
            "health": self.health,
            "probes": dict(self.probes),
            "ports": dict(self.ports),
            "token": self.token,
        }


@dataclass(frozen=True)
class LiveConfig:
    """A running gateway's config files, as texts (None: no such file)."""

    config: str | None
    applied: str | None
    recorded: bool = True
    """``applied`` is the record of the last run; False: there is none, and ``applied`` is the
    seed the running container was made with (on swarm, a changed seed is a new task: then
    the new seed, not the one its config came from, so the record must exist by then)."""


@dataclass(frozen=True)
class LogOptions:
    """What ``logs`` shows of each gateway's log (``docker compose logs``' options)."""

    tail: str = "200"
    """Lines from the end of each log: a number, or ``all``."""
    follow: bool = False
    since: str | None = None
    """A time (``2026-12-04T17:00:00``) or a duration ago (``10m``)."""
    timestamps: bool = False

    def args(self) -> list[str]:
        """These options as the docker CLI's ``logs`` commands take them."""
        args = ["--tail", self.tail] + ["--follow"] * self.follow
        args += ["--timestamps"] * self.timestamps
        return args + (["--since", self.since] if self.since else [])


@dataclass(frozen=True)
class Preflight:
    """What a runtime found before anything is written or started: its problems (a taken port,
    a node that does not exist), and where each profile's gateway will answer from here."""

    problems: tuple[Problem, ...] = ()
    urls: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Distribution:
    """What a runtime found once the images are where the gateways will run, before anything
    is written or started: problems on the nodes themselves (a port taken there, an image the
    node cannot run), and the references of the images to run instead of the spec's (a swarm
    with a registry: each pinned by digest)."""

    problems: tuple[Problem, ...] = ()
    images: Mapping[str, str] = field(default_factory=dict)


class Runtime(Protocol):
    """A target's hooks on one engine."""

    def preflight(self, spec: Spec, plan: PortPlan) -> Preflight:
        """The target's engine-side checks (ports on the nodes that publish them, placement,
        images it cannot run); writes and starts nothing."""
        ...

    def distribute(self, spec: Spec, plan: PortPlan, progress: ProgressFn) -> Distribution:
        """Get the images to where the gateways will run and check there that they can: the
        last step before anything is written (``deploy`` only; ``doctor`` stops before it)."""
        ...

    def start(self, spec: Spec, directory: Path, progress: ProgressFn) -> None:
        """Start (or update) every gateway of the written project, without waiting for them."""
        ...

    def settled(self, spec: Spec, profiles: Sequence[str]) -> bool:
        """True once no gateway of ``profiles`` from an earlier start can still answer a probe
        in a new one's place (swarm: replaced tasks gone); the wait for readiness starts then.
        The other profiles' gateways (``up PROFILE``: not started, maybe stopped) do not count."""
        ...

    def gateways(self, spec: Spec, plan: PortPlan) -> list[GatewayStatus]:
        """Every profile's state, health and probes."""
        ...

    def explain(self, spec: Spec, profiles: Sequence[str]) -> str:
        """Why ``profiles`` are not ready: their state and last log lines."""
        ...

    def stop(self, spec: Spec, directory: Path, *, volumes: bool, progress: ProgressFn) -> str:
        """Stop and remove the gateways (volumes too with ``volumes``); what was done."""
        ...

    # One profile at a time: what backup, restore and upgrade need.

    def backup(self, spec: Spec, profile: str, dest: Path) -> bool:
        """Write OpenClaw's own verified backup of the profile's trees to ``dest``
        (``openclaw backup create --verify``: consistent while the gateway runs); True when
        its running gateway made it."""
        ...

    def trees_empty(self, spec: Spec, profile: str, image: str) -> Mapping[str, bool]:
        """Role (state, config, workspace) -> True when that tree of the profile holds no
        file, looked at through ``image``."""
        ...

    def write_trees(
        self, spec: Spec, profile: str, image: str, archive: Path, members: Mapping[str, str | None]
    ) -> None:
        """Replace the profile's trees with the directories ``members`` names in ``archive``
        (see :func:`openclaw_compose.host.volumes.write_tree`), through ``image``."""
        ...

    def stop_gateway(self, spec: Spec, directory: Path, profile: str) -> bool:
        """Stop the profile's gateway, keeping it defined; True when it was running."""
        ...

    def restart_gateway(self, spec: Spec, directory: Path, profile: str) -> None:
        """Restart the profile's gateway as it is defined (compose: the same container; swarm: a
        new task); the other gateways are not touched."""
        ...

    def start_gateway(self, spec: Spec, directory: Path, profile: str) -> None:
        """Start (or move onto its written image) the profile's gateway of the written project;
        the other gateways are not touched."""
        ...

    def await_gateway(
        self,
        spec: Spec,
        profile: str,
        timeout: float,
        *,
        steady: int,
        watch: WatchFn | None = None,
    ) -> str | None:
        """Wait until the profile's gateway runs the image ``spec`` gives it and its
        ``/startupz`` answered 200 ``steady`` times in a row (one a second); None, or why it
        will not (an exit code 78, a crash loop, the target's own roll back, the timeout).
        ``watch`` gets the gateway's state after each look."""
        ...

    def doctor(self, spec: Spec, profile: str) -> tuple[int, str]:
        """``openclaw doctor --json`` on the profile's state with its image: exit code, output."""
        ...

    def last_logs(self, spec: Spec, profile: str) -> str:
        """The last log lines of the profile's gateway."""
        ...

    def running(self, spec: Spec, profile: str) -> str | None:
        """The container (swarm: the task) of the profile's gateway while it runs, else None."""
        ...

    def local_gateway(self, spec: Spec, profile: str) -> str | None:
        """The container of the profile's gateway while it runs on this engine's host, which
        ``docker inspect`` and ``docker exec`` reach; else None (swarm: a task on another
        node)."""
        ...

    # What a user runs on the gateways: logs, cli.

    def logs(
        self,
        spec: Spec,
        directory: Path,
        profiles: Sequence[str],
        options: LogOptions,
        line: LineFn,
    ) -> int:
        """The logs of ``profiles`` (none: every one) of the project in ``directory``, each
        line handed to ``line`` as it comes, after the name of its container (swarm: its task);
        the exit code of the command that read them."""
        ...

    def run_cli(
        self, spec: Spec, directory: Path, profile: str, args: Sequence[str], *, tty: bool
    ) -> int:
        """``openclaw ARGS`` in the profile's running gateway, through the image's entrypoint
        (the gateway's token and secrets in its environment), attached to this terminal (a
        pseudo-terminal with ``tty``); its exit code."""
        ...

    # Converging a running gateway's config (runtime/converge.py).

    def read_config(self, spec: Spec, profile: str) -> LiveConfig | None:
        """The profile's live ``openclaw.json`` and the record of what the last ``up`` applied,
        from its running gateway; None when it does not run or the target cannot reach it."""
        ...

    def apply_config(
        self, spec: Spec, profile: str, patch: Mapping[str, Any], applied: Mapping[str, Any]
    ) -> str:
        """``openclaw config patch`` of ``patch`` (nothing when empty) in the profile's running
        gateway, with its secrets in the environment, then ``applied`` recorded; the patch's
        output."""
        ...

    def crashed(self, spec: Spec, profile: str) -> str | None:
        """Why the profile's gateway will not come up (a crash loop, an exit code), or None
        while it may still."""
        ...

    def front_address(self, spec: Spec) -> str | None:
        """Where this machine reaches the HTTPS front (``up`` waits until it serves each
        started profile there), or None: no front, or none reachable from here."""
        ...

    # What plan shows (runtime/plan.py).

    def plan_containers(
        self, loaded: LoadedSpec, plan: PortPlan, directory: Path
    ) -> Mapping[str, str]:
        """Profile -> what ``up`` into ``directory`` would do to its gateway's container:
        create, recreate, keep, remove (a container whose profile is gone), or unknown (the
        target cannot tell); writes and starts nothing."""
        ...


@dataclass(frozen=True)
class Target:
    """A kind of generated project: its document, its checks, its runtime."""

    name: str
    document: str
    """The file it writes next to ``seeds/`` and ``.env`` (``compose.yaml``, ``stack.yaml``)."""
    summary: str
    """One line for ``--help``."""
    render: Callable[[LoadedSpec, PortPlan, Path], RenderedProject]
    """The files of the project (pure: no I/O)."""
    checks: Callable[[Spec, PortPlan], Iterator[Problem]]
    """What this target adds to the core checks."""
    runtime: Callable[[Engine], Runtime]
    """Its hooks on an engine (imported on first use: only commands that run need Docker)."""
    here: str
    """Where :meth:`Runtime.local_gateway` looks, for messages: ``in this project``, ``on this
    node``."""
    expected: Callable[[Spec, Footprint], Expected]
    """What ``doctor`` should find in a profile's running container (pure)."""
    local: bool = False
    """Its gateways run on the host that runs the command, next to that host's native
    gateways, which the checks then count (compose: yes; swarm: they run on its nodes)."""
