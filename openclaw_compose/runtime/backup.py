"""Backups of a profile's state, config and workspace, and putting them back.

The copy is OpenClaw's own ``openclaw backup create --verify``: it snapshots its SQLite
databases consistently while the gateway runs (never copying live ``-wal``/``-shm`` files),
skips what is regenerable, and verifies the archive it wrote. So a backup needs no downtime.
Where it runs is the target's (:meth:`openclaw_compose.targets.base.Runtime.backup`): compose
in the profile's running container, else in a one-shot container of its image with its trees
mounted (:mod:`.volumes`); swarm in a job on the node that holds the trees. A restore replaces
the trees the same ways, with the gateway stopped meanwhile.

Our archive is a plain tar of two members: ``manifest.json`` (format, project, profile, OpenClaw
version, time, the SHA-256 and size of the payload) and ``openclaw-backup.tar.gz`` (OpenClaw's
archive, untouched). A backup holds credentials (OAuth tokens are plaintext in SQLite): it is
written with mode 0600.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path

from openclaw_compose.core.journal import try_lock
from openclaw_compose.core.loading import LoadedSpec
from openclaw_compose.core.spec import Spec, version_key
from openclaw_compose.engine import Engine
from openclaw_compose.errors import ArchiveError, OutputError, shown
from openclaw_compose.host.images import image_version
from openclaw_compose.host.volumes import ROLES
from openclaw_compose.runtime.ownership import require_owner
from openclaw_compose.runtime.payload import Payload, inspect_payload
from openclaw_compose.targets.base import ProgressFn, Runtime, Target

FORMAT = 1
MANIFEST = "manifest.json"
PAYLOAD = "openclaw-backup.tar.gz"
SUFFIX = ".openclaw-backup.tar"


@dataclass(frozen=True)
class Manifest:
    format: int
    project: str
    profile: str
    openclaw_version: str
    created: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Backup:
    path: Path
    manifest: Manifest
    seconds: float
    live: bool
    """Made while the gateway ran (in its container), else in a one-shot container."""


def backup_profile(spec: Spec, profile: str, runtime: Runtime, out_dir: Path) -> Backup:
    """Back up one profile into ``out_dir``: consistent, verified, checksummed. A failed
    backup leaves nothing, not even the directories it made; a killed one leaves its staging
    directory, which the next backup into ``out_dir`` removes (:func:`staging`)."""
    start = time.monotonic()
    check_output_dir(out_dir)
    made = [path for path in (out_dir, *out_dir.parents) if not path.exists()]  # deepest first
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        with staging(out_dir) as tmp:
            payload = tmp / PAYLOAD
            live = runtime.backup(spec, profile, payload)
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
            manifest = Manifest(
                format=FORMAT,
                project=spec.project,
                profile=profile,
                openclaw_version=inspect_payload(payload, PAYLOAD).runtime_version,
                created=stamp,
                sha256=_sha256(payload),
                size=payload.stat().st_size,
            )
            name = f"{spec.project}-{profile}-{stamp}-openclaw-{manifest.openclaw_version}{SUFFIX}"
            staged = tmp / name
            _write_archive(staged, manifest, payload)
            path = out_dir / name
            os.replace(staged, path)
    except BaseException as exc:
        for directory in made:
            with suppress(OSError):
                directory.rmdir()
        if isinstance(exc, OSError):
            raise OutputError(
                f"{shown(out_dir)}: the archive cannot be written: {exc.strerror}"
            ) from None
        raise
    return Backup(path, manifest, time.monotonic() - start, live)


STAGING_PREFIX = ".backup-"
"""A backup's staging directory in ``-o`` (where the payload and the archive are written before
the archive is renamed into place): this prefix and mkdtemp's random part."""
_STAGING = re.compile(re.escape(STAGING_PREFIX) + r"[a-z0-9_]{8}")


@contextmanager
def staging(out_dir: Path) -> Iterator[Path]:
    """A new staging directory in ``out_dir``, locked (``flock``) by this run while it lives
    and removed afterwards; first the staging directories of runs that died (SIGKILL, a crash:
    nothing holds their lock, the kernel released it) are removed. A directory being made by
    another run is never taken: a run that finds its new directory locked or already removed
    makes another one."""
    remove_dead_staging(out_dir)
    while True:
        path = Path(tempfile.mkdtemp(dir=out_dir, prefix=STAGING_PREFIX))
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except FileNotFoundError:
            continue  # removed by another run's clean-up before it was locked
        if try_lock(fd) and os.fstat(fd).st_nlink > 0:
            break
        os.close(fd)
    try:
        yield path
    finally:
        try:
            shutil.rmtree(path, ignore_errors=True)
        finally:
            os.close(fd)


def remove_dead_staging(out_dir: Path) -> list[str]:
    """Remove the staging directories in ``out_dir`` whose run is gone (no lock on them); their
    names."""
    removed: list[str] = []
    candidates: list[str] = []
    with suppress(OSError), os.scandir(out_dir) as entries:
        candidates = [e.name for e in entries if _STAGING.fullmatch(e.name)]
    for name in candidates:
        try:
            fd = os.open(out_dir / name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            continue  # gone, or not a directory (a symbolic link is never followed)
        try:
            if try_lock(fd):
                shutil.rmtree(out_dir / name, ignore_errors=True)
                removed.append(name)
        finally:
            os.close(fd)
    return removed


MIN_FREE = 16 << 20
"""Free space below which ``-o`` is refused before anything runs (16 MiB)."""


def check_output_dir(out_dir: Path) -> None:
    """:class:`OutputError` when archives cannot be written into ``out_dir``: not a directory,
    not writable, a read-only file system, or (nearly) full."""
    existing = out_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise OutputError(f"{shown(existing)}: is not a directory; give -o a directory")
    try:
        usage = os.statvfs(existing)
    except OSError as exc:
        raise OutputError(f"{shown(existing)}: cannot be used: {exc.strerror}") from None
    if usage.f_flag & os.ST_RDONLY:
        raise OutputError(f"{shown(existing)}: is on a read-only file system")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"{shown(existing)}: permission denied; make it writable")
    if usage.f_bavail * usage.f_frsize < MIN_FREE:
        raise OutputError(f"{shown(existing)}: the file system is full")


def _write_archive(path: Path, manifest: Manifest, payload: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w") as tar:
        data = (json.dumps(asdict(manifest), indent=2) + "\n").encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
        with tempfile.TemporaryFile() as buffer:
            buffer.write(data)
            buffer.seek(0)
            tar.addfile(info, buffer)
        tar.add(payload, arcname=PAYLOAD)
        raw.flush()
        os.fsync(raw.fileno())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_archive(archive: Path, into: Path) -> tuple[Manifest, Path, Payload]:
    """Our manifest, the payload extracted into ``into`` with its checksum verified, and what
    the payload holds, checked whole (:func:`inspect_payload`)."""
    try:
        with tarfile.open(archive) as tar:
            names = tar.getnames()
            stream = tar.extractfile(MANIFEST)
            if stream is None or sorted(names) != sorted((MANIFEST, PAYLOAD)):
                raise KeyError(f"it holds {', '.join(map(shown, names))}")
            manifest = Manifest(**json.loads(stream.read(1 << 20)))
            if tar.getmember(PAYLOAD).type != tarfile.REGTYPE:
                raise KeyError(f"{PAYLOAD} is not a regular file")
            tar.extract(PAYLOAD, into, filter="data")
    except FileNotFoundError:
        raise ArchiveError(f"{shown(archive)}: no such file") from None
    except (OSError, EOFError, tarfile.TarError, KeyError, TypeError, ValueError) as exc:
        raise ArchiveError(f"{shown(archive)}: not an openclaw-compose backup ({exc})") from None
    if manifest.format != FORMAT:
        raise ArchiveError(f"{archive}: backup format {manifest.format}, expected {FORMAT}")
    payload = into / PAYLOAD
    if _sha256(payload) != manifest.sha256:
        raise ArchiveError(
            f"{archive}: checksum mismatch (the archive is damaged or was altered); "
            "nothing was restored"
        )
    inner = inspect_payload(payload, shown(archive.name))
    if inner.runtime_version != manifest.openclaw_version:
        raise ArchiveError(
            f"{shown(archive)}: its manifest says OpenClaw {manifest.openclaw_version}, the "
            f"archive inside says {inner.runtime_version}; nothing was restored"
        )
    return manifest, payload, inner


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    stopped: bool
    """Its gateway ran and was stopped for the restore (:func:`restore`, or the caller of
    :func:`restore_profile`, starts it again)."""


def restore_profile(
    spec: Spec,
    profile: str,
    archive: Path,
    where: tuple[Engine, Runtime, Path],
    *,
    force: bool,
    image: str | None = None,
) -> Restored:
    """Put ``archive`` back into ``profile``'s trees (through ``image``, default the profile's);
    ``where``: the engine, the target's runtime on it, the project directory.

    Refuses, with nothing changed: a damaged archive, an archive from a newer OpenClaw than the
    image, and trees that hold files unless ``force``. A running gateway is stopped first (it
    must not write while its state is replaced)."""
    engine, runtime, directory = where
    image = image or spec.profiles[profile].image_ref(spec)
    with tempfile.TemporaryDirectory() as tmp:
        manifest, payload, inner = read_archive(archive, Path(tmp))
        target = image_version(engine, image)
        if target is None:
            raise ArchiveError(
                f"{image} has no openclaw.version label: cannot tell whether "
                f"{archive.name} (OpenClaw {manifest.openclaw_version}) is too new for it"
            )
        if version_key(manifest.openclaw_version) > version_key(target):
            raise ArchiveError(
                f"{archive.name}: made by OpenClaw {manifest.openclaw_version}, newer than "
                f"{image} (OpenClaw {target}); a state migrated by a newer "
                "version cannot go back. Restore it with an image of that version "
                "(openclaw_version in the profiles file)"
            )
        empty = runtime.trees_empty(spec, profile, image)
        occupied = [role for role in ROLES if not empty[role]]
        if occupied and not force:
            raise ArchiveError(
                f"profile {profile!r}: {', '.join(occupied)} already "
                f"{'holds' if len(occupied) == 1 else 'hold'} files; nothing was restored. Use "
                "--force to replace them with the archive's contents"
            )
        stopped = runtime.stop_gateway(spec, directory, profile)
        try:
            runtime.write_trees(spec, profile, image, payload, inner.members)
        except BaseException:
            if stopped:
                runtime.start_gateway(spec, directory, profile)
            raise
    return Restored(manifest, stopped)


def restore(
    loaded: LoadedSpec,
    profile: str,
    archive: Path,
    where: tuple[Engine, Target, Path],
    *,
    force: bool,
    say: ProgressFn,
) -> Restored:
    """``restore``: refused for a project another profiles file owns; ``archive`` put back
    (:func:`restore_profile`), then a gateway stopped for it started again. ``where``: the
    engine, the target, the project directory; ``say`` gets what was done."""
    engine, target, directory = where
    spec = loaded.spec
    require_owner(engine, loaded)
    runtime = target.runtime(engine)
    done = restore_profile(spec, profile, archive, (engine, runtime, directory), force=force)
    say(
        f"{profile}: restored {archive.name} (OpenClaw {done.manifest.openclaw_version}, "
        f"from profile {done.manifest.profile!r} of project {done.manifest.project!r})"
    )
    if done.stopped:
        runtime.start_gateway(spec, directory, profile)
        say(f"{profile}: started again; check it with 'openclaw-compose status'")
    return done
