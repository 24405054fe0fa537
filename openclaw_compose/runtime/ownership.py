"""Which profiles file a project belongs to: one project name, one owner.

Compose and swarm know a project only by its name: a second directory whose profiles file names
the same project would see the first one's gateways as its own (``up`` removes them as orphans,
``down --volumes`` deletes their state). So the engine keeps one record per project: a small
labelled volume, ``<project>_openclaw-compose-owner``, whose ``io.openclaw-compose.owner`` label
is the owner's id, the absolute path of its profiles file (for the embedded default: the
directory it was used in). A path, not a digest: a refusal names it, and it is what a user finds
and acts on. The record lives on the engine, not in the generated files, so that ``compose.yaml``
stays the same wherever it is generated.

Every command that changes a project asks first (:func:`require_owner`); ``up``/``deploy``
record the owner just before they start anything (:func:`claim`). A project whose objects exist
with no record (made before records existed) is adopted by the first ``up``, with a note. A record
with no object of its project left protects nothing and is replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from openclaw_compose.core.loading import EMBEDDED, LoadedSpec
from openclaw_compose.engine import Engine
from openclaw_compose.engine.containers import project_label, stack_label
from openclaw_compose.errors import NotOwner, Refused, shown
from openclaw_compose.targets.base import ProgressFn

OWNER_LABEL = "io.openclaw-compose.owner"
"""The owner's id: the absolute path of the profiles file."""
RECORD_PROJECT_LABEL = "io.openclaw-compose.project"


def owner_id(loaded: LoadedSpec) -> str:
    """The profiles file's absolute path; for the embedded default, where it was used."""
    if loaded.embedded:
        return f"{EMBEDDED} in {loaded.base_dir}"
    return str(loaded.base_dir / Path(loaded.source).name)


def record_volume(project: str) -> str:
    return f"{project}_openclaw-compose-owner"


@dataclass(frozen=True)
class Ownership:
    """A project's objects on the engine and whom its record names."""

    project: str
    owner: str
    """Who asks: this profiles file."""
    recorded: str | None
    """Whom the record names (None: no record)."""
    objects: tuple[str, ...]
    """Containers, volumes and services of the project."""

    @property
    def foreign(self) -> bool:
        return bool(self.objects) and self.recorded is not None and self.recorded != self.owner


def look(engine: Engine, loaded: LoadedSpec) -> Ownership:
    project = loaded.spec.project
    containers = engine.containers
    objects = [
        *(c.name for c in containers.project_containers(project).values()),
        *(c.name for c in containers.stack_containers(project).values()),
        *containers.volumes(project_label(project)),
        *containers.volumes(stack_label(project)),
    ]
    if not objects and engine.swarm.state().manager:
        try:
            objects.extend(engine.swarm.stack_services(project))
        except Refused:
            if engine.swarm.state().manager:
                raise  # else the engine left the swarm since it was asked: no services
    labels = containers.volume_labels(record_volume(project))
    recorded = None if labels is None else labels.get(OWNER_LABEL)
    return Ownership(project, owner_id(loaded), recorded, tuple(sorted(set(objects))))


def require_owner(engine: Engine, loaded: LoadedSpec, *, adopt: bool = False) -> Ownership:
    """The project's ownership; refuses when another profiles file owns its objects."""
    found = look(engine, loaded)
    if found.foreign and not adopt:
        shown_objects = ", ".join(found.objects[:4]) + (", ..." if len(found.objects) > 4 else "")
        raise NotOwner(
            f"project {found.project!r} belongs to another profiles file: "
            f"{shown(found.recorded)} (its {shown_objects}). Nothing was changed. Give "
            f"{shown(found.owner)} a project name of its own ('project:'), or run the command "
            "where that file is; if you moved that file here, take the project over with "
            "'openclaw-compose up --adopt'"
        )
    return found


def claim(engine: Engine, found: Ownership, progress: ProgressFn) -> None:
    """Record ``found.owner`` as the project's owner (``up``, just before it starts)."""
    if found.recorded == found.owner:
        return
    name = record_volume(found.project)
    if found.recorded is not None:
        engine.containers.remove_volume(name)
        if found.objects:
            progress(f"note: project {found.project!r} taken over from {shown(found.recorded)}")
    elif found.objects:
        progress(
            f"note: project {found.project!r} had no owner; it belongs to "
            f"{shown(found.owner)} from now on"
        )
    labels = {OWNER_LABEL: found.owner, RECORD_PROJECT_LABEL: found.project}
    engine.containers.create_volume(name, labels)


def release(engine: Engine, found: Ownership) -> None:
    """Remove the record (``down --volumes``: nothing of the project is left to protect)."""
    if found.recorded is not None and not found.foreign:
        engine.containers.remove_volume(record_volume(found.project))
