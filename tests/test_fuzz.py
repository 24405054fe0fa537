"""Random and mutated profiles files: a clear message, a documented exit code, no traceback,
and nothing written unless the file was valid."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
