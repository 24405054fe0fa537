"""``upgrade``: move running gateways to another OpenClaw version without ever taking down all
of them, and put a profile back exactly as it was when the new version fails on it.

The order, for every target: build what is missing, put the images where the gateways run
(swarm with ``registry:``: pushed, pinned by digest), back up every profile (live: no gateway
stops for it), then one profile at a time, rescues first. For a profile: write the project with
that profile on the new image (the project's own writer, so the generated file stays the truth)
and start it (:meth:`~openclaw_compose.targets.base.Runtime.start_gateway`: compose
``up --no-deps PROFILE``; swarm ``docker stack deploy``, which updates only that service, by
swarm's own rolling update: ``stop-first``, ``failure_action: rollback``, judged by the
gateway's healthcheck), wait for its ``/startupz`` and an ``openclaw doctor --json`` without
errors, then for :data:`STEADY` 200s in a row. A failure (exit code 78: OpenClaw could not
migrate the state; a crash loop; swarm rolling the service back; no ``/startupz`` in time;
doctor errors) stops the upgrade: that profile's backup is restored (the state from before the
migration), it is started on the old image again, and the profiles not yet upgraded were never
stopped. Before each profile starts on the new image, the profiles file records it (and is put
back when that profile is rolled back), so a later ``up``, even after an interrupted upgrade,
never starts a migrated state on the old image.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openclaw_compose.core.checks import Report
from openclaw_compose.core.loading import LoadedSpec
from openclaw_compose.core.ports import plan_ports
from openclaw_compose.core.spec import Spec
from openclaw_compose.core.specedit import Changes, edit_spec_file, put_back
from openclaw_compose.engine import Engine
from openclaw_compose.errors import OpenclawComposeError, UpgradeFailed, UsageError, plural
from openclaw_compose.host.images import build, buildable, missing_images, require_images
from openclaw_compose.project import check_loaded, generate
from openclaw_compose.runtime.backup import Backup, backup_profile, restore_profile
from openclaw_compose.runtime.ownership import require_owner
from openclaw_compose.runtime.pipeline import live_line, pin_images
from openclaw_compose.targets.base import LiveFn, ProgressFn, Runtime, Target, WatchFn

STEADY = 5
"""Consecutive ``/startupz`` 200s, one a second, an upgraded gateway gives before the next one
stops: right after its start a gateway still does heavy work (channels, sidecars, SQLite), and
on a loaded host it can then miss a probe; the next gateway must not go down in that window."""
DOCTOR_OK = frozenset({"info", "warning"})
"""Severities of ``openclaw doctor --json`` findings that do not fail an upgrade."""


@dataclass(frozen=True)
class Destination:
    """What to upgrade to: an OpenClaw version (images built here) or an image of your own."""

    version: str | None = None
    image: str | None = None

    def changes(self) -> Changes:
        """The keys of a profile (or of the whole file) that select this target."""
        if self.image is not None:
            return {"image": self.image, "openclaw_version": None}
        return {"openclaw_version": self.version, "image": None}

    def file_changes(self) -> Changes:
        """The top-level keys of the profiles file once every profile runs this target."""
        if self.image is not None:
            return {"openclaw_version": None, "image": self.image, "browser_image": self.image}
        return {"openclaw_version": self.version, "image": None, "browser_image": None}

    def __str__(self) -> str:
        return self.image or f"OpenClaw {self.version}"


@dataclass(frozen=True)
class Upgraded:
    profile: str
    old_image: str
    new_image: str
    seconds: float
    doctor: str


def upgrade(
    loaded: LoadedSpec,
    directory: Path,
    engine: Engine,
    to: Destination,
    *,
    target: Target,
    timeout: float,
    backups: Path,
    progress: ProgressFn,
    live: LiveFn | None = None,
) -> list[Upgraded]:
    """Upgrade every profile of ``target``'s project to ``to``, rescues first; raises
    :class:`UpgradeFailed`. ``live`` gets the state of the profile waited for, every second."""
    if loaded.embedded:
        raise UsageError(
            "upgrade records the version each gateway runs in the profiles file, and there is "
            "none here (the embedded default is used): write one with 'openclaw-compose init'"
        )
    require_owner(engine, loaded)
    spec = loaded.spec
    final = _with(spec, {name: to.changes() for name in spec.profiles})
    if to.version is not None:
        missing = missing_images(final, engine)
        build({i: r for i, r in buildable(final).items() if i in missing}, progress)
    require_images(final, engine)
    runtime = target.runtime(engine)
    run = _Run(loaded, directory, engine, runtime, target.name, timeout, progress, live)
    for either in (spec, final):
        distributed = runtime.distribute(either, plan_ports(either), progress)
        Report(distributed.problems).fail_unless_ok()
        run.images.update(distributed.images)
    run.write(spec)  # refuses now, not halfway, if the project was edited by hand
    saved = _back_up_all(run.pinned(spec), runtime, backups, progress)
    source = Path(loaded.source)
    done: list[Upgraded] = []
    current = spec
    for name in spec.upgrade_order():
        if spec.profiles[name].image_ref(spec) == final.profiles[name].image_ref(final):
            progress(f"{name} already runs {final.profiles[name].image_ref(final)}")
            continue
        following = _with(current, {name: to.changes()})
        # Recorded first: from its start on, the profile's state may be the new version's, and
        # an interrupted upgrade must not leave a file that starts it on the old image.
        before = source.read_text(encoding="utf-8")
        edit_spec_file(source, {}, {name: to.changes()})
        try:
            done.append(run.one(current, following, name, saved[name]))
        except UpgradeFailed:
            put_back(source, before)  # rolled back onto the old image: the file says so again
            raise
        current = following
    edit_spec_file(
        source,
        to.file_changes(),
        {name: {"openclaw_version": None, "image": None} for name in spec.profiles},
    )
    return done


def _with(spec: Spec, changes: dict[str, Changes]) -> Spec:
    data = spec.to_document()
    for name, keys in changes.items():
        for key, value in keys.items():
            if value is None:
                data["profiles"][name].pop(key, None)
            else:
                data["profiles"][name][key] = value
    return Spec.model_validate(data)


def _back_up_all(
    spec: Spec, runtime: Runtime, backups: Path, progress: ProgressFn
) -> dict[str, Backup]:
    made = {}
    for name in spec.upgrade_order():
        progress(f"backing up {name}")
        made[name] = backup_profile(spec, name, runtime, backups)
        progress(f"{name}: {made[name].path} ({made[name].seconds:.1f} s)")
    return made


@dataclass
class _Run:
    """One upgrade's settings, and the images as the target distributed them."""

    loaded: LoadedSpec
    directory: Path
    engine: Engine
    runtime: Runtime
    target: str
    timeout: float
    progress: ProgressFn
    live: LiveFn | None = None
    images: dict[str, str] = field(default_factory=dict)

    def pinned(self, spec: Spec) -> Spec:
        """``spec`` naming each image as the gateways' nodes get it."""
        return pin_images(spec, self.images) if self.images else spec

    def write(self, spec: Spec) -> None:
        """The project of ``spec``, through the project's writer and its checks."""
        loaded = LoadedSpec(self.pinned(spec), self.loaded.source, self.loaded.base_dir)
        generate(check_loaded(loaded, target=self.target), self.directory)

    def start(self, spec: Spec, name: str) -> None:
        """Write the project of ``spec``, then start (or move) only ``name``'s gateway."""
        self.write(spec)
        self.runtime.start_gateway(self.pinned(spec), self.directory, name)

    def wait(self, spec: Spec, name: str, steady: int = 1) -> str | None:
        """Until ``name``'s gateway is ready (see ``Runtime.await_gateway``), its state shown
        live meanwhile."""
        return self.runtime.await_gateway(
            self.pinned(spec), name, self.timeout, steady=steady, watch=self._watch(name)
        )

    def _watch(self, name: str) -> WatchFn | None:
        """``name``'s live line (its state and the time waited so far), when there is ``live``."""
        if self.live is None:
            return None
        live, start = self.live, time.monotonic()
        return lambda state: live([live_line(name, state, time.monotonic() - start)])

    def one(self, before: Spec, after: Spec, name: str, saved: Backup) -> Upgraded:
        old, new = before.profiles[name].image_ref(before), after.profiles[name].image_ref(after)
        self.progress(f"upgrading {name}: {old} -> {new}")
        start = time.monotonic()
        self.start(after, name)
        failure = self.wait(after, name)
        doctor = ""
        if failure is None:
            failure, doctor = doctor_verdict(*self.runtime.doctor(self.pinned(after), name))
        if failure is None:
            failure = self.wait(after, name, steady=STEADY)
        if failure is None:
            seconds = time.monotonic() - start
            self.progress(f"{name} runs {new} ({seconds:.1f} s; doctor: {doctor})")
            return Upgraded(name, old, new, seconds, doctor)
        logs = self.runtime.last_logs(self.pinned(after), name)
        rolled_back = self.roll_back(before, after, name, saved)
        raise UpgradeFailed(
            f"upgrade stopped: profile {name!r} failed on {new}: {failure}.\n{rolled_back} The "
            "profiles not yet upgraded were not stopped.\n"
            f"--- last log lines of {name} on {new}:\n{logs}"
        )

    def roll_back(self, before: Spec, after: Spec, name: str, saved: Backup) -> str:
        """Restore the profile's backup and start it on its old image; what happened."""
        old = before.profiles[name].image_ref(before)
        self.progress(f"rolling {name} back to {old} with {saved.path.name}")
        try:
            self.runtime.stop_gateway(self.pinned(after), self.directory, name)
            where = (self.engine, self.runtime, self.directory)
            restore_profile(self.pinned(before), name, saved.path, where, force=True, image=old)
            self.start(before, name)
        except OpenclawComposeError as exc:
            return (
                f"Rolling it back FAILED: {exc.message}\nIts backup is {saved.path}; restore it "
                f"with 'openclaw-compose restore {name} {saved.path} --force'."
            )
        failure = self.wait(before, name)
        if failure is not None:
            return f"It was restored from {saved.path} onto {old}, but does not answer: {failure}."
        return f"It was restored from {saved.path} and runs {old} again."


def doctor_verdict(code: int, output: str) -> tuple[str | None, str]:
    """What ``openclaw doctor --json`` said: (failure or None, a summary)."""
    try:
        report: dict[str, Any] = json.loads(output[output.index("{") :])
    except ValueError:
        return f"'openclaw doctor --json' printed no report (exit code {code})", ""
    findings = report.get("findings", [])
    errors = [f for f in findings if f.get("severity") not in DOCTOR_OK]
    warnings = [f for f in findings if f not in errors]
    summary = f"{plural(len(errors), 'error')}, {plural(len(warnings), 'warning')}"
    summary += "".join(f"; {f.get('checkId')}: {f.get('message')}" for f in warnings[:5])
    if errors:
        details = "; ".join(f"{f.get('checkId')}: {f.get('message')}" for f in errors[:5])
        return f"'openclaw doctor --json' found {summary}: {details}", summary
    return None, summary
