"""Writing a rendered project to disk: planned first, then applied crash-consistently, and
never over a user's edits.

Every generated file's SHA-256 is recorded in ``.openclaw-compose.sums`` (``sha256sum -c``
format). On the next run a file whose content no longer matches its recorded sum, or that exists
without one, was edited by hand or is not ours: it is only replaced with ``force``. The other
target's document (``compose.yaml`` next to ``stack.yaml``) is left alone, sum included. Names in
the sums file are never trusted as paths: only the names openclaw-compose writes count.

A run plans everything under the output directory's lock (:mod:`.journal`), then does what can
fail without touching the project (bind directories, ``.env`` permissions), and only then stages
and commits the changes as one journaled transaction.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from openclaw_compose.core.contract import CONTAINER_UID, FOLDERS, SECRETS_DIR, RenderedProject
from openclaw_compose.core.envfile import (
    ENV_FILE,
    ENV_MODE,
    decode_env,
    merge_tokens,
    read_env,
    set_variable,
)
from openclaw_compose.core.front import files_digest
from openclaw_compose.core.journal import (
    ABSENT,
    Change,
    commit,
    digest,
    is_ours,
    locked,
    recover,
)
from openclaw_compose.core.secretstore import secret_files, with_digests
from openclaw_compose.errors import OutputError, shown

SUMS_FILE = ".openclaw-compose.sums"
PRIVATE_MODE = 0o600
SECRETS_FOLDER_MODE = 0o700
SECRET_FILE_MODE = 0o444
"""Readable by the gateway (uid 1000) through its bind mount whoever owns it on the host; the
folder's mode keeps the host's other users out."""
_FOREIGN = b"\0"
"""What a path that is not a regular file reads as: matches no sum."""


@dataclass
class WriteResult:
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    """Files of profiles that no longer exist, kept because they were edited by hand."""
    notes: list[str] = field(default_factory=list)
    """What the user should know: a completed interrupted run, a tightened ``.env`` mode."""


def sha256(text: str) -> str:
    return digest(text.encode())


def read_sums(out_dir: Path) -> dict[str, str]:
    """The recorded digests of the files openclaw-compose wrote; any other line is ignored."""
    data = _current(out_dir / SUMS_FILE)
    sums = {}
    for line in (data or b"").decode("utf-8", "replace").splitlines():
        recorded, _, name = line.partition("  ")
        if is_ours(name) and len(recorded) == 64 and all(c in "0123456789abcdef" for c in recorded):
            sums[name] = recorded
    return sums


def _foreign(path: Path) -> bool:
    return path.is_symlink() or (path.exists() and not path.is_file())


def _current(path: Path) -> bytes | None:
    if _foreign(path):
        return _FOREIGN
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _readable(path: Path) -> bytes | None:
    """A project file's bytes for :attr:`RenderedProject.derived` (None: absent or foreign)."""
    current = _current(path)
    return None if current == _FOREIGN else current


def write_project(out_dir: Path, project: RenderedProject, *, force: bool = False) -> WriteResult:
    """Write ``project`` into ``out_dir``; raises :class:`OutputError` before touching anything."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{shown(out_dir)}: exists and is not a directory; choose another -o DIR")
    with _transaction(out_dir):
        return _write(out_dir, project, force)


@contextmanager
def _transaction(out_dir: Path) -> Iterator[None]:
    """``out_dir`` made and locked for one run; any OS error an :class:`OutputError` saying
    nothing was changed, and a directory this run made removed again when the run failed."""
    created = not out_dir.exists()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with locked(out_dir):
            yield
    except PermissionError as exc:
        raise OutputError(
            f"{shown(exc.filename or out_dir)}: permission denied; make the directory writable or "
            "choose another -o DIR (nothing was changed)"
        ) from None
    except OSError as exc:
        raise OutputError(
            f"{shown(exc.filename or out_dir)}: {exc.strerror}; nothing was changed"
        ) from None
    finally:
        if created:
            with suppress(OSError):
                out_dir.rmdir()  # only when empty: a run that failed leaves no directory


def _write(out_dir: Path, project: RenderedProject, force: bool) -> WriteResult:
    result = WriteResult()
    _check_folders(out_dir)
    if recover(out_dir):
        result.notes.append(
            f"completed or undid the write of an interrupted earlier run in {shown(out_dir)}"
        )
    old_sums = read_sums(out_dir)
    files = dict(project.files)
    if project.derived is not None:
        files |= project.derived(lambda name: _readable(out_dir / name))
    keep = (*project.others, *project.kept)
    changes: dict[str, bytes] = {}
    edited: list[str] = []
    for name, text in files.items():
        data, current = text.encode(), _current(out_dir / name)
        if current == data:
            continue
        if current is not None and old_sums.get(name) != digest(current):
            edited.append(name)
        changes[name] = data
    stale = [name for name in old_sums if name not in files and name not in keep]
    for name in stale:
        current = _current(out_dir / name)
        if current is not None and digest(current) != old_sums[name]:
            result.kept.append(name)
    if edited and not force:
        raise OutputError(
            "these files were changed by hand (or not written by openclaw-compose) and would "
            "be overwritten: "
            + ", ".join(shown(out_dir / name) for name in edited)
            + "; move your changes into the spec, or run again with --force to overwrite them"
        )
    env_path = out_dir / ENV_FILE
    env_before = _current(env_path)
    env_text = _planned_env(env_path, env_before, project, files)
    env_after = env_text.encode()
    env_base = digest(env_before) if env_before is not None else ABSENT
    sums = {name: digest(text.encode()) for name, text in files.items()}
    sums |= {
        name: old_sums[name]
        for name in keep
        if name not in files and name in old_sums and (out_dir / name).exists()
    }
    sums = dict(sorted(sums.items()))
    if env_after != env_before:
        changes[ENV_FILE] = env_after
    if changes or sums != old_sums:
        changes[SUMS_FILE] = "".join(f"{d}  {name}\n" for name, d in sums.items()).encode()
    removals = [name for name in stale if name not in result.kept and (out_dir / name).exists()]
    if project.secret_files:
        result.notes += _secrets_folder(out_dir)
        secret_changes, secret_removals = _secret_files(out_dir, env_text)
        changes |= secret_changes
        removals += secret_removals
    _check_targets(out_dir, changes)
    make_bind_dirs(project.bind_dirs)
    if env_before is not None:
        result.notes += _tighten(env_path)
    commit(
        out_dir,
        [
            Change(name, changes[name], ENV_MODE, env_base)
            if name == ENV_FILE
            else Change(name, changes[name], _mode(name, project.private))
            for name in planned(changes)
        ],
        removals,
    )
    result.written = [name for name in planned(changes) if name != SUMS_FILE]
    result.removed = removals
    return result


def _planned_env(
    env_path: Path, before: bytes | None, project: RenderedProject, files: Mapping[str, str]
) -> str:
    """``.env`` as this run leaves it: its tokens, the digests and the watched files' digests."""
    if _foreign(env_path):
        raise OutputError(
            f"{shown(env_path)}: is not a regular file (a symbolic link or a directory); "
            "openclaw-compose keeps the tokens in a regular file there (nothing was changed)"
        )
    tokens = merge_tokens(before, project.token_variables, env_path)
    return _with_watched(
        with_digests(decode_env(tokens, env_path), project.digests), project, files
    )


def _check_folders(out_dir: Path) -> None:
    for folder in FOLDERS:
        if (out_dir / folder).is_symlink():
            raise OutputError(
                f"{shown(out_dir / folder)}: is a symbolic link; openclaw-compose writes only "
                "inside the output directory: make it a directory (nothing was changed)"
            )
        if (out_dir / folder).exists() and not (out_dir / folder).is_dir():
            raise OutputError(
                f"{shown(out_dir / folder)}: is not a directory; openclaw-compose writes files "
                "in it: move it away (nothing was changed)"
            )


def _with_watched(env: str, project: RenderedProject, files: Mapping[str, str]) -> str:
    """``env`` with each watched variable set to the digest of its files."""
    for variable, names in project.watched.items():
        watched = files_digest({name: files[name].encode() for name in names})
        if read_env(env).get(variable) != watched:
            env = set_variable(env, variable, watched)
    return env


def update_env(out_dir: Path, update: Callable[[str | None], str]) -> None:
    """Replace ``.env`` with ``update(its text, or None)``, under the directory's lock and in
    one journaled transaction, as generating does (``secret set``, ``secret rm``)."""
    env_path = out_dir / ENV_FILE
    with _transaction(out_dir):
        recover(out_dir)
        if _foreign(env_path):
            raise OutputError(
                f"{shown(env_path)}: is not a regular file (a symbolic link or a directory); "
                "nothing was changed"
            )
        before = _current(env_path)
        text = update(decode_env(before, env_path) if before is not None else None)
        after = text.encode()
        _check_folders(out_dir)
        changes: dict[str, bytes] = {}
        removals: list[str] = []
        if (out_dir / SECRETS_DIR).is_dir():  # a Compose project's: kept in step with .env
            changes, removals = _secret_files(out_dir, text)
            _secrets_folder(out_dir)
        if after != before or changes or removals:
            _check_targets(out_dir, {ENV_FILE: after, **changes})
            base = digest(before) if before is not None else ABSENT
            files = [Change(name, changes[name], SECRET_FILE_MODE) for name in planned(changes)]
            commit(out_dir, [Change(ENV_FILE, after, ENV_MODE, base), *files], removals)


def _secret_files(out_dir: Path, env: str) -> tuple[dict[str, bytes], list[str]]:
    """The changes and removals that make ``secrets/`` hold exactly the :func:`secret_files` of
    ``env`` (a ``.env`` text), modes included (the gateway reads a file only at
    :data:`SECRET_FILE_MODE`); a directory there is not a file of ours, and is left alone."""
    wanted = secret_files(env)
    folder = out_dir / SECRETS_DIR
    present = (
        [
            f"{SECRETS_DIR}/{entry.name}"
            for entry in folder.iterdir()
            if entry.is_symlink() or not entry.is_dir()
        ]
        if folder.is_dir()
        else []
    )
    changes = {name: data for name, data in wanted.items() if not _in_step(out_dir / name, data)}
    return changes, [name for name in present if is_ours(name) and name not in wanted]


def _in_step(path: Path, data: bytes) -> bool:
    """Whether the secret file ``path`` holds ``data`` at :data:`SECRET_FILE_MODE`."""
    return _current(path) == data and stat.S_IMODE(path.stat().st_mode) == SECRET_FILE_MODE


def _secrets_folder(out_dir: Path) -> list[str]:
    """``secrets/`` made, or made private again: it holds copies of ``.env``'s values."""
    folder = out_dir / SECRETS_DIR
    folder.mkdir(mode=SECRETS_FOLDER_MODE, exist_ok=True)
    mode = stat.S_IMODE(folder.stat().st_mode)
    if mode == SECRETS_FOLDER_MODE:
        return []
    folder.chmod(SECRETS_FOLDER_MODE)
    return [
        f"{shown(folder)} was mode {mode:04o}; made it {SECRETS_FOLDER_MODE:04o} (it holds "
        "the secret files)"
    ]


def _mode(name: str, private: frozenset[str]) -> int:
    if name.startswith(f"{SECRETS_DIR}/"):
        return SECRET_FILE_MODE
    return PRIVATE_MODE if name in private else 0o644


def planned(changes: Mapping[str, bytes]) -> list[str]:
    """The order in which changes are applied, so that the project Compose reads is whole at
    every instant: ``.env`` (it only gains tokens) and the seeds before the document that names
    them, the sums file last."""
    rank = {ENV_FILE: 0, SUMS_FILE: 3}
    return sorted(changes, key=lambda name: (rank.get(name, 1 if "/" in name else 2), name))


def _check_targets(out_dir: Path, changes: Mapping[str, bytes]) -> None:
    """What would make a rename fail once the transaction is committed, found before it."""
    for name in changes:
        target = out_dir / name
        for path in (target.parent, target):
            if path.is_dir() and not path.is_symlink() and not os.access(path, os.W_OK | os.X_OK):
                raise OutputError(
                    f"{shown(path)}: permission denied; make it writable (nothing was changed)"
                )
        if target.parent.exists() and not target.parent.is_dir():
            raise OutputError(
                f"{shown(target.parent)}: is not a directory; move it away (nothing was changed)"
            )
        if target.is_dir() and not target.is_symlink():
            raise OutputError(
                f"{shown(target)}: is a directory where openclaw-compose writes a file; move it "
                "away (nothing was changed)"
            )


def _tighten(env_path: Path) -> list[str]:
    """``.env`` holds every gateway's token: readable by its owner only."""
    mode = stat.S_IMODE(env_path.stat().st_mode)
    if not mode & 0o077:
        return []
    env_path.chmod(ENV_MODE)
    return [f"{shown(env_path)} was mode {mode:04o}; made it {ENV_MODE:04o} (it holds the tokens)"]


def make_bind_dirs(paths: tuple[Path, ...]) -> None:
    """Create missing bind-mount directories, owned by the container user when we can.

    Docker would create them owned by root, and the gateway (uid 1000) could not write them.
    This runs before the project is touched, so a directory that cannot be made changes nothing.
    """
    for path in paths:
        if path.is_dir():
            continue
        path.mkdir(parents=True, mode=0o750, exist_ok=True)
        if os.geteuid() == 0:
            os.chown(path, CONTAINER_UID, CONTAINER_UID)
