"""The ``.env`` store read with Compose's grammar (issue 19): each known example, and hostile
values for the store (their reading by Compose itself: tests/docker/test_dotenv_compose.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from openclaw_compose.cli import app
from openclaw_compose.core.dotenv import EnvSyntaxError, encode, statements
from openclaw_compose.core.envfile import read_env, set_variables
from openclaw_compose.errors import ExitCode
from tests.helpers import run_cli, write_tree

SPEC = """\
project: store
profiles:
  main:
    port: 18789
    secrets: [KEY, OTHER]
"""
KEY = "OPENCLAW_SECRET_MAIN__KEY"
OTHER = "OPENCLAW_SECRET_MAIN__OTHER"
TOKEN = "OPENCLAW_TOKEN_MAIN"
LINE_ENDS_TO_PYTHON = ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\r"]


def _project(tmp_path: Path) -> tuple[list[str | Path], Path]:
    write_tree(tmp_path, {"openclaw-compose.yaml": SPEC})
    where: list[str | Path] = ["-f", tmp_path / "openclaw-compose.yaml", "-o", tmp_path / "out"]
    assert run_cli("generate", *where).exit_code == 0
    return where, tmp_path / "out" / ".env"


def _set(where: list[str | Path], name: str, value: str | bytes) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["secret", "set", "main", name, *map(str, where)], input=value)
    return result.exit_code, result.output


@pytest.mark.parametrize("end", LINE_ENDS_TO_PYTHON)
def test_a_python_line_end_in_a_value_set_twice_cannot_add_an_assignment(
    tmp_path: Path, end: str
) -> None:
    where, env = _project(tmp_path)
    token = read_env(env.read_bytes().decode())[TOKEN]
    hostile = f"x{end}{TOKEN}=attacker"
    for value in (hostile, hostile + "2"):
        assert _set(where, "KEY", value)[0] == 0
    values = read_env(env.read_bytes().decode())
    assert values[KEY] == hostile + "2"
    assert values[TOKEN] == token
    assert run_cli("secret", "rm", "main", "KEY", *where).exit_code == 0
    left = env.read_bytes().decode()
    assert "attacker" not in left
    assert KEY not in read_env(left)
    assert read_env(left)[TOKEN] == token


@pytest.mark.parametrize("value", ["ends\\", "it's", "a\nb", "\\'", '"$HOME" ${X} $$', "#x", " x "])
def test_values_compose_reads_specially_are_stored_exactly(tmp_path: Path, value: str) -> None:
    where, env = _project(tmp_path)
    assert _set(where, "OTHER", "other-secret")[0] == 0
    assert _set(where, "KEY", value + "\n")[0] == 0
    values = read_env(env.read_bytes().decode())
    assert (values[KEY], values[OTHER]) == (value, "other-secret")


def test_non_utf8_stdin_is_a_usage_error(tmp_path: Path) -> None:
    where, env = _project(tmp_path)
    before = env.read_bytes()
    code, output = _set(where, "KEY", b"\xff\xfe-secret")
    assert code == ExitCode.USAGE
    assert "not UTF-8" in output
    assert "Traceback" not in output
    assert env.read_bytes() == before


def test_an_unreadable_env_is_named_by_line_without_its_values(tmp_path: Path) -> None:
    where, env = _project(tmp_path)
    assert _set(where, "OTHER", "other-secret-value")[0] == 0
    env.write_bytes(env.read_bytes() + b"BROKEN='unterminated-secret-value\n")
    for command in (["check"], ["generate"], ["secret", "list"]):
        result = run_cli(*command, *where)
        assert result.exit_code == ExitCode.OUTPUT, result.output
        assert "not terminated" in result.output
        assert "secret-value" not in result.output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A=1\rB=2\n", {"A": "1\rB=2"}),
        ("A='x' B=y # c\n", {"A": "x", "B": "y"}),
        ("A=x#y\nB=a #c\n", {"A": "x#y", "B": "a"}),
        ("export  A=1\n B : 2\n", {"A": "1", "B": "2"}),
        ("A='a\\'b'\nB='x\\\\'\n", {"A": "a'b", "B": "x\\\\"}),
        ('A="a\\nb\\$c\\x"\n', {"A": "a\nb$c\\x"}),
        ("A=1\nB=${A}-$A-$$A\n", {"A": "1", "B": "1-1-$A"}),
        ("A='multi\nline'\n", {"A": "multi\nline"}),
    ],
)
def test_compose_grammar(text: str, expected: dict[str, str]) -> None:
    assert read_env(text) == expected


@pytest.mark.parametrize("text", ["A='x\\'\n", "=x\n", "A B=1\n", "A%=1\n", 'A="x\n'])
def test_what_compose_refuses_is_refused(text: str) -> None:
    with pytest.raises(EnvSyntaxError):
        list(statements(text))


@given(st.text(st.characters(codec="utf-8", exclude_characters="\0")))
def test_every_value_is_encoded_so_that_it_reads_back(value: str) -> None:
    written = encode(value)
    assert written is not None
    assert read_env(f"A=0\nV={written}\nB=1\n") == {"A": "0", "V": value, "B": "1"}


def test_several_variables_set_in_one_pass() -> None:
    text = "# mine\nA='1'\nB=2 # kept\nA=3\n"
    after = set_variables(text, {"A": "'x y'", "C": "'z'"})
    assert read_env(after) == {"A": "x y", "B": "2", "C": "z"}
    assert after.startswith("# mine\nA='x y'\nB=2 # kept\n")
