"""Changing a few keys of a user's profiles file in place, comments and order kept.

``upgrade`` records the version each profile runs here, so that the file stays the truth: a
later ``up`` starts every gateway on the image it was upgraded to, never back on the old one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from ruamel.yaml import YAML

from openclaw_compose.errors import OutputError

Changes = Mapping[str, Any | None]
"""Key -> new value; None removes the key."""


def edit_spec_file(path: Path, top: Changes, profiles: Mapping[str, Changes] | None = None) -> None:
    """Set (or, for None, remove) top-level keys and keys of named profiles; atomic."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 100
    try:
        data = yaml.load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise OutputError(f"{path}: cannot be read: {exc.strerror}") from None
    _apply(data, top)
    for name, changes in (profiles or {}).items():
        _apply(data["profiles"][name], changes)
    _replace(path, lambda stream: yaml.dump(data, stream))


def put_back(path: Path, text: str) -> None:
    """Write ``text`` (the file as it was read before an edit) back, atomically."""
    _replace(path, lambda stream: stream.write(text))


def _replace(path: Path, write: Callable[[IO[str]], object]) -> None:
    """Replace ``path`` by what ``write`` writes, atomically, keeping its mode."""
    fd, staged = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(staged, path.stat().st_mode & 0o777)
        os.replace(staged, path)
    except OSError as exc:
        Path(staged).unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot be written: {exc.strerror}") from None


def _apply(mapping: Any, changes: Changes) -> None:
    for key, value in changes.items():
        if value is None:
            mapping.pop(key, None)
        elif key in mapping:
            mapping[key] = value
        else:
            # New keys go before 'profiles' at the top level, at the end of a profile.
            position = list(mapping).index("profiles") if "profiles" in mapping else len(mapping)
            mapping.insert(position, key, value)
