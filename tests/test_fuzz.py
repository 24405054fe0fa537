"""Random and mutated profiles files: a clear message, a documented exit code, no traceback,
and nothing written unless the file was valid."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from openclaw_compose.core.contract import MOUNTS
from openclaw_compose.core.envfile import read_env
from openclaw_compose.core.loading import absolute_path
from openclaw_compose.errors import ExitCode

from .helpers import ISSUE_EXAMPLE, run_cli, snapshot

FIXTURE_OK = [HealthCheck.function_scoped_fixture]  # each example cleans its own directory
DOCUMENTED = {ExitCode.OK, ExitCode.PROBLEMS, ExitCode.USAGE, ExitCode.OUTPUT}
TOKENS = [
    "port:",
    "profiles:",
    ":",
    "-",
    "{",
    "}",
    "[",
    "'",
    '"',
    "\n",
    "  ",
    "0",
    "99999",
    "default",
    "Main",
    "state_dir: .",
    "openclaw:",
    "!!python/object",
    "&a",
    "*a",
    "\t",
]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = ISSUE_EXAMPLE
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.sampled_from(TOKENS) | st.text(max_size=5))
        end = min(len(text), position + draw(st.integers(0, 8)))
        if action == "insert":
            text = text[:position] + piece + text[position:]
        elif action == "delete":
            text = text[:position] + text[end:]
        else:
            text = text[:position] + piece + text[end:]
    return text


def _assert_clean_outcome(tmp_path: Path, content: str | bytes) -> None:
    work = tmp_path / "case"
    work.mkdir(exist_ok=True)
    for child in work.rglob("*"):
        if child.is_file():
            child.unlink()
    spec = work / "spec.yaml"
    spec.write_bytes(content.encode() if isinstance(content, str) else content)
    before = snapshot(work)
    out = work / "out"
    result = run_cli("generate", "-f", spec, "-o", out)
    assert result.exit_code in DOCUMENTED, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    if result.exit_code == ExitCode.OK:
        assert (out / "compose.yaml").exists()
    else:
        assert result.stderr.startswith("error: ") or "error: " in result.stderr
        assert snapshot(work) == before


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(mutated())
def test_mutated_spec_files(tmp_path: Path, text: str) -> None:
    _assert_clean_outcome(tmp_path, text)


@settings(
    max_examples=75, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_random_spec_files(tmp_path: Path, content: str | bytes) -> None:
    _assert_clean_outcome(tmp_path, content)


# --- hostile YAML inside and around openclaw: ---------------------------------------------------

_SCALARS = st.sampled_from(
    [
        "2024-01-01",
        "2024-13-45",
        "2001-12-14t21:59:43.10-05:00",
        ".inf",
        "-.Inf",
        ".nan",
        "1e400",
        "!!binary aGVsbG8=",
        "!!binary not-base64!",
        "!!timestamp 2024-01-01",
        "!!set {a, b}",
        "!!omap [a: 1]",
        "!!python/object:os.system x",
        "!custom x",
        "!!float x",
        "!!int 0x",
        "~",
        "'quoted'",
        "0o17",
        "*undefined",
        "&anchor x",
    ]
)


@st.composite
def hostile_fragment(draw: st.DrawFn) -> str:
    """A value for ``openclaw:``: a bomb, deep nesting, a merge key, odd keys, tags."""
    kind = draw(st.sampled_from(["bomb", "deep", "merge", "key", "scalar", "flow"]))
    if kind == "bomb":
        width, depth = draw(st.integers(2, 12)), draw(st.integers(2, 9))
        lines = [f"a0: &a0 [{', '.join(['x'] * width)}]"]
        lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, depth)]
        return "{" + ", ".join(lines) + "}"
    if kind == "deep":
        depth = draw(st.integers(10, 20_000))
        opener = draw(st.sampled_from(["[", "{a: "]))
        closer = "]" if opener == "[" else "}"
        return opener * depth + "1" + closer * depth
    if kind == "merge":
        return "{base: &b {k: 1}, x: {<<: *b, y: 2}}"
    if kind == "key":
        key = draw(st.sampled_from(["1", "true", "null", "~", "[a]", "{a: 1}", "2024-01-01", "*x"]))
        return f"{{x: &x 1, ? {key} : v}}"
    if kind == "scalar":
        return "{x: " + draw(_SCALARS) + "}"
    return "[" + ", ".join(draw(st.lists(_SCALARS, min_size=1, max_size=4))) + "]"


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURE_OK)
@given(hostile_fragment(), st.booleans())
def test_hostile_yaml(tmp_path: Path, fragment: str, top_level: bool) -> None:
    if top_level:
        text = f"profiles:\n  main:\n    port: 18789\nextra: {fragment}\n"
    else:
        text = f"profiles:\n  main:\n    port: 18789\n    openclaw:\n      x: {fragment}\n"
    _assert_clean_outcome(tmp_path, text)


# --- hostile host paths: refused at check, or mounted exactly as written ------------------------

_PATH_PIECES = st.sampled_from(
    [
        "$",
        "$OPENCLAW_TOKEN_RESCUE",
        "${X:-y}",
        "$$",
        ":",
        "\0",
        "\n",
        "~",
        "~root",
        "~nosuch",
        "/",
        "..",
        ".",
        "out",
        "file",
        "loop",
        " ",
        "#",
        "'",
        '"',
        "é",
        "\t",
        "a",
        "b",
        ",",
    ]
)


@settings(max_examples=80, deadline=None, suppress_health_check=FIXTURE_OK)
@given(
    st.lists(_PATH_PIECES, min_size=1, max_size=6).map("".join),
    st.sampled_from(["state", "config", "workspace"]),
)
def test_hostile_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str, role: str
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # bind directories under ~ stay here
    work = tmp_path / "case"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    (work / "file").write_text("x")
    (work / "loop").symlink_to(work / "loop")
    spec = work / "spec.yaml"
    spec.write_text(
        f"profiles:\n  main:\n    port: 18789\n    {role}_dir: {json.dumps(path)}\n"
        "  rescue:\n    port: 19789\n",
        encoding="utf-8",
    )
    before = snapshot(work)
    out = work / "out"
    result = run_cli("generate", "-f", spec, "-o", out)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in DOCUMENTED, result.output
    if result.exit_code != ExitCode.OK:
        assert snapshot(work) == before
        return
    compose = YAML(typ="safe").load((out / "compose.yaml").read_text())
    mounts = compose["services"]["main"]["volumes"]
    source = next(m for m in mounts if m.endswith(f":{MOUNTS[role]}")).rsplit(":", 1)[0]
    assert "$" not in source.replace("$$", ""), "a $ that Compose would interpolate"
    seen = (out / source.replace("$$", "$")).resolve()
    assert seen == absolute_path(Path(path), work)
    assert not out.resolve().is_relative_to(seen)


# --- .env contents: kept byte for byte, or refused with nothing changed -------------------------

_ENV_LINES = st.sampled_from(
    [
        b"OPENCLAW_TOKEN_MAIN=kept-main",
        b"OPENCLAW_TOKEN_MAIN=",
        b"OPENCLAW_TOKEN_MAIN=''",
        b"export OPENCLAW_TOKEN_RESCUE = 'kept rescue' # c",
        b"# caf\xe9",
        b"\xef\xbb\xbfA=1",
        b"\0",
        b"X=1",
        b"  ",
        b"#",
        b"=",
        b'OPENCLAW_TOKEN_MAIN="a b"',
        b"\r",
        b"\xff",
    ]
)


@settings(max_examples=80, deadline=None, suppress_health_check=FIXTURE_OK)
@given(st.lists(_ENV_LINES | st.binary(max_size=12), max_size=6).map(b"\n".join))
def test_hostile_env(tmp_path: Path, content: bytes) -> None:
    work = tmp_path / "case"
    shutil.rmtree(work, ignore_errors=True)
    (work / "out").mkdir(parents=True)
    (work / "out" / ".env").write_bytes(content)
    (work / "spec.yaml").write_text(ISSUE_EXAMPLE)
    before = snapshot(work)
    result = run_cli("generate", "-f", work / "spec.yaml", "-o", work / "out")
    assert "Traceback" not in result.output
    assert result.exit_code in (ExitCode.OK, ExitCode.OUTPUT), result.output
    after = (work / "out" / ".env").read_bytes()
    if result.exit_code == ExitCode.OUTPUT:
        assert ", line " in result.stderr
        assert snapshot(work) == before
        return
    assert after.startswith(content)
    tokens_before = read_env(content.decode())
    tokens = read_env(after.decode())
    for variable in ("OPENCLAW_TOKEN_MAIN", "OPENCLAW_TOKEN_RESCUE"):
        assert tokens[variable]
        if variable in tokens_before:
            assert tokens[variable] == tokens_before[variable]


# --- sums contents: names are never paths -------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURE_OK)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["victim", "other"]),
            st.sampled_from(
                [
                    "../victim.txt",
                    "{victim}",
                    "seeds/../../victim.txt",
                    "./compose.yaml",
                    "compose.yaml",
                    "seeds/main.json",
                    "seeds/x.json",
                    "seeds/../compose.yaml",
                    ".env",
                    "",
                    "seeds/",
                ]
            ),
        ),
        max_size=6,
    ),
    st.binary(max_size=40),
)
def test_hostile_sums(tmp_path: Path, lines: list[tuple[str, str]], noise: bytes) -> None:
    work = tmp_path / "case"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    victim = work / "victim.txt"
    victim.write_text("precious\n")
    (work / "spec.yaml").write_text(ISSUE_EXAMPLE)
    out = work / "out"
    assert run_cli("generate", "-f", work / "spec.yaml", "-o", out).exit_code == ExitCode.OK
    digests = {"victim": hashlib.sha256(victim.read_bytes()).hexdigest(), "other": "0" * 64}
    text = "".join(f"{digests[d]}  {name.format(victim=victim)}\n" for d, name in lines)
    (out / ".openclaw-compose.sums").write_bytes(text.encode() + noise)
    result = run_cli("generate", "-f", work / "spec.yaml", "-o", out)
    assert "Traceback" not in result.output
    assert result.exit_code in (ExitCode.OK, ExitCode.OUTPUT), result.output
    assert victim.read_text() == "precious\n"
    assert sorted(p.name for p in work.iterdir()) == ["data", "out", "spec.yaml", "victim.txt"]
