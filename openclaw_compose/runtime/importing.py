"""``openclaw-compose import``: a stopped native gateway's state, config and workspace, moved
into a profile's volumes (or bind directories) through :mod:`openclaw_compose.host.volumes`.

The native files are only read (the archive is built from them on the host); the copy goes
through a one-shot container of the profile's image as uid 1000. Refused, with nothing
written: a running native gateway (its SQLite files would be caught mid-write), a running
gateway of the profile (the target's
:meth:`~openclaw_compose.targets.base.Runtime.running`), a profile whose trees hold files
(unless ``force``: then they are replaced), a spec whose checks fail.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from openclaw_compose.core.checks import HostFacts
from openclaw_compose.core.importing import (
    MEMBERS,
    ImportPlan,
    is_project_dir,
    plan_import,
    write_archive,
)
from openclaw_compose.core.loading import LoadedSpec
from openclaw_compose.core.native import native_at
from openclaw_compose.engine import Engine
from openclaw_compose.errors import ImportRefused, UsageError
from openclaw_compose.host.images import require_images
from openclaw_compose.host.system import host_view
from openclaw_compose.host.volumes import empty_trees, profile_trees, write_tree
from openclaw_compose.project import check_loaded
from openclaw_compose.targets.base import Target

STATE_MARKS = ("state", "agents")
"""Directories an OpenClaw state directory has once its gateway has run."""


def import_native(
    loaded: LoadedSpec,
    profile: str,
    source: Path,
    engine: Engine,
    *,
    target: Target,
    host: HostFacts,
    home: Path,
    force: bool,
    progress: Callable[[str], None],
) -> ImportPlan:
    spec = loaded.spec
    private = frozenset({Path.cwd().resolve(), loaded.base_dir.resolve()})
    if profile not in spec.profiles:
        raise UsageError(f"no profile {profile!r}; the profiles are: {', '.join(spec.profiles)}")
    if not source.is_dir():
        raise UsageError(f"--from {source}: not a directory (give a native state directory)")
    native = native_at(source, home, host_view())
    if not (native.config_path.is_file() or any((source / d).is_dir() for d in STATE_MARKS)):
        raise UsageError(
            f"--from {source}: not an OpenClaw state directory (no {native.config_path.name}, "
            f"{', '.join(d + '/' for d in STATE_MARKS)} in it); give the gateway's state "
            "directory, e.g. ~/.openclaw"
        )
    if native.problem is not None:
        raise ImportRefused(f"{native.problem}: fix it first (OpenClaw cannot read it either)")
    if native.running:
        raise ImportRefused(
            f"the {native.describe()} is running: stop it first (systemctl --user stop "
            "openclaw-gateway[-<profile>], or openclaw gateway stop), so that its databases are "
            "copied at rest; nothing was copied"
        )
    others = tuple(n for n in host.natives if n.state_dir != native.state_dir)
    check_loaded(loaded, replace(host, natives=others)).report.fail_unless_ok()
    require_images(spec, engine)
    running = target.runtime(engine).running(spec, profile)
    if running is not None:
        raise ImportRefused(
            f"profile {profile!r} is running ({running}): run 'openclaw-compose down' "
            "first; nothing was copied"
        )
    trees = profile_trees(spec, profile)
    full = [trees.sources[role] for role, empty in empty_trees(engine, trees).items() if not empty]
    if full and not force:
        raise ImportRefused(
            f"profile {profile!r} already has files in {', '.join(full)}: pass --force to "
            "replace them with the native gateway's (they are lost), or import into another "
            "profile; nothing was copied"
        )
    for tree in (native.state_dir, native.workspace):
        if tree.is_dir() and is_project_dir(tree, private):
            raise ImportRefused(
                f"{tree} is an openclaw-compose project directory (its .env holds every "
                "profile's tokens and keys), not a gateway's own tree; nothing was copied"
            )
    plan = plan_import(native, profile, spec.profiles[profile])
    with tempfile.TemporaryDirectory(prefix="openclaw-compose-import-") as tmp:
        archive = Path(tmp) / "import.tar"
        plan.skipped = write_archive(plan, archive, private)
        progress(
            f"copying {native.state_dir} ({archive.stat().st_size >> 20} MiB) into {profile!r}"
        )
        write_tree(engine, trees, archive, MEMBERS, replace=force)
    return plan
