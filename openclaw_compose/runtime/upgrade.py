"""``upgrade``: move running gateways to another OpenClaw version without ever taking down all
of them, and put a profile back exactly as it was when the new version fails on it.

The order: build what is missing, back up every profile (live: no gateway stops for it), then
one profile at a time, rescues first. For a profile: write the project with that profile on the
new image (the project's own writer, so ``compose.yaml`` stays the generated truth) and
``docker compose up -d --no-deps PROFILE`` (Compose stops the old container, then starts the
new one; the other gateways are not touched), wait for ``/startupz`` 200 and a ``openclaw doctor
--json`` without errors. A failure (exit code 78: OpenClaw could not migrate the state; a crash
loop; no ``/startupz`` in time; doctor errors) stops the upgrade: that profile's backup is
restored (the state from before the migration), it is started on the old image again, and the
profiles not yet upgraded were never stopped. After each profile the profiles file records the
version (or image) it runs, so a later ``up`` never starts it on the old image.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openclaw_compose.core.loading import LoadedSpec
from openclaw_compose.core.ports import plan_ports
from openclaw_compose.core.spec import Spec
from openclaw_compose.core.specedit import Changes, edit_spec_file
from openclaw_compose.engine import Engine
from openclaw_compose.errors import OpenclawComposeError, UpgradeFailed, UsageError
from openclaw_compose.project import check_loaded, generate
from openclaw_compose.runtime.backup import Backup, backup_profile, restore_profile
from openclaw_compose.runtime.images import build, buildable, missing_images, require_images
from openclaw_compose.runtime.probes import probe
from openclaw_compose.targets.compose.runtime import base_url

ProgressFn = Callable[[str], None]
EXIT_MIGRATION = 78
"""OpenClaw's exit code when it cannot migrate the state safely (EX_CONFIG)."""
CRASH_LOOP = 2
"""Restarts of the new container that count as a crash loop."""
STEADY = 5
"""Consecutive ``/startupz`` 200s, one a second, an upgraded gateway gives before the next one
stops: right after its start a gateway still does heavy work (channels, sidecars, SQLite), and
on a loaded host it can then miss a probe; the next gateway must not go down in that window."""
DOCTOR_OK = frozenset({"info", "warning"})
"""Severities of ``openclaw doctor --json`` findings that do not fail an upgrade."""


@dataclass(frozen=True)
class Target:
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
    target: Target,
    *,
    timeout: float,
    backups: Path,
    progress: ProgressFn,
) -> list[Upgraded]:
    """Upgrade every profile to ``target``, rescues first; raises :class:`UpgradeFailed`."""
    if loaded.embedded:
        raise UsageError(
            "upgrade records the version each gateway runs in the profiles file, and there is "
            "none here (the embedded default is used): write one with 'openclaw-compose init'"
        )
    spec = loaded.spec
    final = _with(spec, {name: target.changes() for name in spec.profiles})
    if target.version is not None:
        missing = missing_images(final, engine)
        build({i: r for i, r in buildable(final).items() if i in missing}, progress)
    require_images(final, engine)
    run = _Run(loaded, directory, engine, timeout, progress)
    run.write(spec)  # refuses now, not halfway, if compose.yaml was edited by hand
    saved = _back_up_all(spec, engine, backups, progress)
    done: list[Upgraded] = []
    current = spec
    for name in spec.upgrade_order():
        if spec.profiles[name].image_ref(spec) == final.profiles[name].image_ref(final):
            progress(f"{name} already runs {final.profiles[name].image_ref(final)}")
            continue
        following = _with(current, {name: target.changes()})
        done.append(run.one(current, following, name, saved[name]))
        edit_spec_file(Path(loaded.source), {}, {name: target.changes()})
        current = following
    edit_spec_file(
        Path(loaded.source),
        target.file_changes(),
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
    spec: Spec, engine: Engine, backups: Path, progress: ProgressFn
) -> dict[str, Backup]:
    made = {}
    for name in spec.upgrade_order():
        progress(f"backing up {name}")
        made[name] = backup_profile(spec, name, engine, backups)
        progress(f"{name}: {made[name].path} ({made[name].seconds:.1f} s)")
    return made


@dataclass(frozen=True)
class _Run:
    """One upgrade's fixed settings."""

    loaded: LoadedSpec
    directory: Path
    engine: Engine
    timeout: float
    progress: ProgressFn

    def write(self, spec: Spec) -> None:
        """The project of ``spec``, through the project's writer and its checks."""
        loaded = LoadedSpec(spec, self.loaded.source, self.loaded.base_dir)
        generate(check_loaded(loaded), self.directory)

    def start(self, spec: Spec, name: str) -> None:
        """Write the project of ``spec``, then (re)create only ``name``'s container."""
        self.write(spec)
        self.engine.compose.run(self.directory, "up", "--detach", "--no-deps", name)

    def one(self, before: Spec, after: Spec, name: str, saved: Backup) -> Upgraded:
        old, new = before.profiles[name].image_ref(before), after.profiles[name].image_ref(after)
        self.progress(f"upgrading {name}: {old} -> {new}")
        start = time.monotonic()
        self.start(after, name)
        failure = wait_gateway(after, name, self.engine, self.timeout)
        doctor = ""
        if failure is None:
            failure, doctor = doctor_verdict(after, name, self.engine)
        if failure is None:
            failure = wait_gateway(after, name, self.engine, self.timeout, steady=STEADY)
        if failure is None:
            seconds = time.monotonic() - start
            self.progress(f"{name} runs {new} ({seconds:.1f} s; doctor: {doctor})")
            return Upgraded(name, old, new, seconds, doctor)
        logs = _last_logs(after, name, self.engine)
        rolled_back = self.roll_back(before, name, saved)
        raise UpgradeFailed(
            f"upgrade stopped: profile {name!r} failed on {new}: {failure}.\n{rolled_back} The "
            "profiles not yet upgraded were not stopped.\n"
            f"--- last log lines of {name} on {new}:\n{logs}"
        )

    def roll_back(self, before: Spec, name: str, saved: Backup) -> str:
        """Restore the profile's backup and start it on its old image; what happened."""
        old = before.profiles[name].image_ref(before)
        self.progress(f"rolling {name} back to {old} with {saved.path.name}")
        try:
            self.engine.compose.run(self.directory, "stop", name)
            restore_profile(
                before, name, saved.path, self.engine, force=True, stop=lambda: None, image=old
            )
            self.start(before, name)
        except OpenclawComposeError as exc:
            return (
                f"Rolling it back FAILED: {exc.message}\nIts backup is {saved.path}; restore it "
                f"with 'openclaw-compose restore {name} {saved.path} --force'."
            )
        failure = wait_gateway(before, name, self.engine, self.timeout)
        if failure is not None:
            return f"It was restored from {saved.path} onto {old}, but does not answer: {failure}."
        return f"It was restored from {saved.path} and runs {old} again."


def wait_gateway(
    spec: Spec, name: str, engine: Engine, timeout: float, *, steady: int = 1
) -> str | None:
    """Wait until the profile's ``/startupz`` answered 200 ``steady`` times in a row; None, or
    why it will not."""
    footprint = next(fp for fp in plan_ports(spec).footprints if fp.profile == name)
    url = base_url(spec, footprint)
    deadline = time.monotonic() + timeout
    answered = 0
    while True:
        container = engine.containers.project_containers(spec.project).get(name)
        if container is None:
            return "its container is gone"
        exited = container.status != "running" or container.restarts > 0
        if exited and container.exit_code == EXIT_MIGRATION:
            return (
                f"the gateway exited with code {EXIT_MIGRATION}: OpenClaw cannot migrate this "
                "state safely (upstream's fix: 'openclaw doctor --fix' on it)"
            )
        if container.restarts >= CRASH_LOOP:
            return (
                f"crash loop: restarted {container.restarts} times, last exit code "
                f"{container.exit_code}"
            )
        answered = answered + 1 if probe(url, "startupz") == 200 else 0
        if container.status == "running" and answered >= steady:
            return None
        if time.monotonic() > deadline:
            return (
                f"no {steady} /startupz 200 in a row within {timeout:.0f} s (container "
                f"{container.status})"
            )
        time.sleep(1)


def doctor_verdict(spec: Spec, name: str, engine: Engine) -> tuple[str | None, str]:
    """``openclaw doctor --json`` in the profile's container: (failure or None, a summary)."""
    container = engine.containers.project_containers(spec.project)[name]
    code, output = engine.containers.exec(container.name, ["openclaw", "doctor", "--json"])
    try:
        report: dict[str, Any] = json.loads(output[output.index("{") :])
    except ValueError:
        return f"'openclaw doctor --json' printed no report (exit code {code})", ""
    findings = report.get("findings", [])
    errors = [f for f in findings if f.get("severity") not in DOCTOR_OK]
    summary = f"{len(errors)} error(s), {len(findings) - len(errors)} warning(s)"
    if errors:
        details = "; ".join(f"{f.get('checkId')}: {f.get('message')}" for f in errors[:5])
        return f"'openclaw doctor --json' found {summary}: {details}", summary
    return None, summary


def _last_logs(spec: Spec, name: str, engine: Engine) -> str:
    container = engine.containers.project_containers(spec.project).get(name)
    if container is None:
        return "(no container)"
    return engine.containers.logs(container.name, tail=20).rstrip()
