"""Writing a rendered project to disk: atomically, and never over a user's edits.

Every generated file's SHA-256 is recorded in ``.openclaw-compose.sums`` (``sha256sum -c``
format). On the next run a file whose content no longer matches its recorded sum, or that exists
without one, was edited by hand or is not ours: it is only replaced with ``force``. The other
target's document (``compose.yaml`` next to ``stack.yaml``) is left alone, sum included. All new
contents are written to temporary files first (where a full disk or a crash can only leave
temporary files behind), then renamed into place; the sums file goes last.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from openclaw_compose.core.contract import RenderedProject
from openclaw_compose.core.envfile import ENV_FILE, ENV_MODE, merge_tokens
from openclaw_compose.errors import OutputError

SUMS_FILE = ".openclaw-compose.sums"
CONTAINER_UID = 1000


@dataclass
class WriteResult:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    """Files of profiles that no longer exist, kept because they were edited by hand."""


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def read_sums(out_dir: Path) -> dict[str, str]:
    try:
        text = (out_dir / SUMS_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    sums = {}
    for line in text.splitlines():
        digest, _, name = line.partition("  ")
        if name:
            sums[name] = digest
    return sums


def _current(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (UnicodeDecodeError, IsADirectoryError):
        return "\0"  # present but not a text file we wrote: never matches a sum


def write_project(out_dir: Path, project: RenderedProject, *, force: bool = False) -> WriteResult:
    """Write ``project`` into ``out_dir``; raises :class:`OutputError` before touching anything."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir}: exists and is not a directory; choose another -o DIR")
    try:
        return _write(out_dir, project, force)
    except PermissionError as exc:
        raise OutputError(
            f"{exc.filename or out_dir}: permission denied; make the directory writable or "
            "choose another -o DIR (nothing was changed)"
        ) from None
    except OSError as exc:
        raise OutputError(
            f"{exc.filename or out_dir}: {exc.strerror}; nothing was changed"
        ) from None


def _write(out_dir: Path, project: RenderedProject, force: bool) -> WriteResult:
    result = WriteResult()
    old_sums = read_sums(out_dir)
    changes: dict[str, str] = {}
    edited: list[str] = []
    for name, text in project.files.items():
        current = _current(out_dir / name)
        if current == text:
            result.unchanged.append(name)
            continue
        if current is not None and old_sums.get(name) != sha256(current):
            edited.append(name)
        changes[name] = text
    stale = [name for name in old_sums if name not in project.files and name not in project.others]
    for name in stale:
        current = _current(out_dir / name)
        if current is not None and sha256(current) != old_sums[name]:
            result.kept.append(name)
    if edited and not force:
        raise OutputError(
            "these files were changed by hand (or not written by openclaw-compose) and would "
            "be overwritten: "
            + ", ".join(str(out_dir / name) for name in edited)
            + "; move your changes into the spec, or run again with --force to overwrite them"
        )
    env_path = out_dir / ENV_FILE
    env_before = _current(env_path)
    env_text = merge_tokens(env_before, project.token_variables)
    if env_text != env_before:
        changes[ENV_FILE] = env_text
    sums = {name: sha256(text) for name, text in project.files.items()}
    sums |= {
        name: old_sums[name]
        for name in project.others
        if name in old_sums and (out_dir / name).exists()
    }
    sums = dict(sorted(sums.items()))
    sums_text = "".join(f"{digest}  {name}\n" for name, digest in sums.items())
    if changes or sums != old_sums:
        changes[SUMS_FILE] = sums_text
    out_dir.mkdir(parents=True, exist_ok=True)
    _replace_all(out_dir, changes, modes={ENV_FILE: ENV_MODE})
    result.written = [name for name in changes if name != SUMS_FILE]
    for name in stale:
        if name not in result.kept:
            with suppress(FileNotFoundError):
                (out_dir / name).unlink()
                result.removed.append(name)
    make_bind_dirs(project.bind_dirs)
    return result


def _replace_all(out_dir: Path, changes: Mapping[str, str], modes: Mapping[str, int]) -> None:
    """Stage every file next to its target, then rename them all; the last name goes last."""
    staged: list[tuple[Path, Path]] = []
    try:
        for name, text in changes.items():
            target = out_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            staged.append((_stage(target, text, modes.get(name, 0o644)), target))
        os.sync()  # every staged file is on disk before any rename: one call, not one per file
        for temporary, target in staged:
            os.replace(temporary, target)
        _fsync_dir(out_dir)
    finally:
        for temporary, _ in staged:
            with suppress(FileNotFoundError):
                temporary.unlink()


def _stage(target: Path, text: str, mode: int) -> Path:
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(text.encode())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_bind_dirs(paths: tuple[Path, ...]) -> None:
    """Create missing bind-mount directories, owned by the container user when we can.

    Docker would create them owned by root, and the gateway (uid 1000) could not write them.
    """
    for path in paths:
        if path.exists():
            continue
        path.mkdir(parents=True, mode=0o750)
        if os.geteuid() == 0:
            os.chown(path, CONTAINER_UID, CONTAINER_UID)
