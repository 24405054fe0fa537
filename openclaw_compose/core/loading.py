"""Reading a profiles file into a validated :class:`~openclaw_compose.spec.Spec`.

The file is first read as YAML events only (:mod:`.yamlscan`: size, nesting and alias limits,
JSON-faithful values), then parsed with ruamel's C parser and the safe constructor (duplicate
keys are errors there too). Only when validation fails is the file parsed again with the
round-trip loader, to point every error at its line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from openclaw_compose.core.messages import schema_message, yaml_message
from openclaw_compose.core.spec import DEFAULT_SPEC_DATA, Spec
from openclaw_compose.core.yamlscan import MAX_BYTES, ScanError, scan
from openclaw_compose.errors import SpecError, SpecIssue, UsageError, shown

DEFAULT_SPEC_FILE = "openclaw-compose.yaml"
EMBEDDED = "<embedded default>"


@dataclass(frozen=True)
class LoadedSpec:
    """A validated spec and where it came from (host paths in it are already absolute)."""

    spec: Spec
    source: str
    base_dir: Path

    @property
    def embedded(self) -> bool:
        return self.source == EMBEDDED


def load_spec(path: Path | None, *, cwd: Path | None = None) -> LoadedSpec:
    """Load ``path``; with ``None``, ``./openclaw-compose.yaml`` or else the embedded default."""
    cwd = cwd or Path.cwd()
    if path is None:
        candidate = cwd / DEFAULT_SPEC_FILE
        if not candidate.exists():
            return LoadedSpec(validate(DEFAULT_SPEC_DATA, source=EMBEDDED), EMBEDDED, cwd)
        path = candidate
    source = _source_name(path)
    text = read_text(path)
    data = parse_yaml(text, source)
    spec = validate(data, source=source, text=text)
    return LoadedSpec(_absolute_paths(spec, path.resolve().parent), source, path.resolve().parent)


def _source_name(path: Path) -> str:
    """The file's name as written into generated headers: one line of UTF-8 text."""
    name = str(path)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(
            f"{shown(name)}: the file name is not UTF-8; rename the profiles file"
        ) from None
    if any(char in name for char in "\n\r\0"):
        raise UsageError(f"{shown(name)}: the file name contains a line break; rename it")
    return name


def read_text(path: Path) -> str:
    try:
        with path.open("rb") as handle:  # bounded: a pipe or a device may never end
            data = handle.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise UsageError(
                f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MiB; this is not a profiles file"
            )
        return data.decode("utf-8")
    except FileNotFoundError:
        raise UsageError(
            f"{path}: no such file; give the profiles file with -f PATH, "
            "or create one with 'openclaw-compose init'"
        ) from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, not a profiles file") from None
    except PermissionError:
        raise UsageError(f"{path}: permission denied; make the file readable") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read: {exc.strerror}") from None


def parse_yaml(text: str, source: str) -> Any:
    try:
        scan(text)
        return YAML(typ="safe").load(text)
    except ScanError as exc:
        raise SpecError(source, "yaml", [SpecIssue("", exc.message, exc.line)]) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = _first_line(exc.problem or exc.context or "invalid YAML")
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        issue = SpecIssue("", yaml_message(problem, text, line, column), line)
        raise SpecError(source, "yaml", [issue]) from None
    except (YAMLError, ValueError, TypeError) as exc:  # the last two: a constructor's surprise
        raise SpecError(source, "yaml", [SpecIssue("", _first_line(str(exc)))]) from None


def validate(data: Any, *, source: str, text: str | None = None) -> Spec:
    if data is None:
        raise SpecError(
            source, "schema", [SpecIssue("", "the file is empty; it needs at least 'profiles:'")]
        )
    try:
        return Spec.model_validate(data)
    except ValidationError as exc:
        tree = _round_trip(text) if text is not None else None
        issues = [_describe(error, tree) for error in exc.errors()]
        raise SpecError(source, "schema", issues) from None


def _describe(error: Any, tree: Any) -> SpecIssue:
    loc = tuple(error["loc"])
    return SpecIssue(_dotted(loc), schema_message(error, Spec), _line_of(tree, loc))


def _dotted(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts)


def _round_trip(text: str) -> Any:
    try:
        return YAML(typ="rt").load(text)
    except YAMLError:
        return None


def _line_of(tree: Any, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the deepest key of ``loc`` found in a round-trip tree."""
    line: int | None = None
    node = tree
    for part in loc:
        lc = getattr(node, "lc", None)
        if isinstance(node, dict) and part in node and lc is not None:
            line = lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node) and lc:
            line = lc.item(part)[0] + 1
            node = node[part]
        elif part != "[key]":
            break
    return line


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "invalid YAML"


def _absolute_paths(spec: Spec, base_dir: Path) -> Spec:
    """Resolve relative host paths against the directory of the profiles file."""
    profiles = {
        name: profile.model_copy(
            update={
                f"{role}_dir": absolute_path(path, base_dir)
                for role, path in profile.host_paths().items()
            }
        )
        for name, profile in spec.profiles.items()
    }
    return spec.model_copy(update={"profiles": profiles})


def absolute_path(path: Path, base_dir: Path) -> Path:
    """``path`` with ``~`` expanded and symbolic links resolved, as the mount will see it.

    A path that cannot be resolved (an unknown ``~user``, a symbolic link loop, a NUL byte) is
    kept as written, for the checks to report with its profile and field.
    """
    try:
        return (base_dir / path.expanduser()).resolve()
    except (RuntimeError, ValueError, OSError):
        return path if str(path).startswith("~") else base_dir / path
