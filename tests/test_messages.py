"""Messages in the profiles file's words: the field, the line and what to do; did-you-mean for
misspelt keys; quoted numbers accepted where a port is expected."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openclaw_compose.core.loading import load_spec, validate
from openclaw_compose.errors import ExitCode, SpecError

from .helpers import run_cli, write_tree


def _issues(tmp_path: Path, text: str) -> list[str]:
    write_tree(tmp_path, {"spec.yaml": text})
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path / "spec.yaml")
    return [str(issue) for issue in info.value.issues]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "profiles:\n  a:\n    port: 28100\n    rol: rescue\n",
            "profiles.a.rol: unknown key 'rol'; did you mean 'role'? (line 4)",
        ),
        (
            "profiles:\n  a:\n    port: 28100\n    openclaw: 5\n",
            "profiles.a.openclaw: must be a mapping (indented 'key: value' lines under "
            "'openclaw:') (got int 5) (line 4)",
        ),
        (
            "profiles:\n  a:\n    port: 28100\n    role: boss\n",
            "profiles.a.role: must be 'gateway' or 'rescue' (got the text 'boss') (line 4)",
        ),
        (
            "profiles:\n  a:\n    port: 28100\n    browser: maybe\n",
            "profiles.a.browser: must be true or false (got the text 'maybe') (line 4)",
        ),
        (
            "profiles:\n  a:\n    port: true\n",
            "profiles.a.port: must be a whole number, e.g. 'port: 18789' (got true/false) (line 3)",
        ),
        (
            "profiles:\n  a:\n    port: 28100\n    secrets: KEY\n",
            "profiles.a.secrets: must be a list, e.g. 'secrets: [A, B]' (got the text 'KEY') "
            "(line 4)",
        ),
    ],
)
def test_schema_messages_say_field_line_and_fix(tmp_path: Path, text: str, expected: str) -> None:
    issues = _issues(tmp_path, text)
    assert any(issue.startswith(expected) for issue in issues), issues
    assert not any("Input should" in issue or "instance of" in issue for issue in issues)


def test_a_key_far_from_any_lists_the_allowed_ones(tmp_path: Path) -> None:
    (issue,) = _issues(tmp_path, "profiles:\n  a:\n    port: 28100\n    zzzz: 1\n")
    assert "unknown key 'zzzz' (allowed here: port, openclaw, " in issue
    assert issue.endswith("check its spelling, see 'openclaw-compose schema' (line 4)")


def test_a_tab_is_named_with_its_line(tmp_path: Path) -> None:
    assert _issues(tmp_path, "profiles:\n  a:\n\tport: 1\n") == [
        "a tab: YAML does not allow tabs for indentation; indent with spaces (line 3)"
    ]


def test_a_stray_colon_says_to_quote(tmp_path: Path) -> None:
    (issue,) = _issues(tmp_path, "profiles:\n  a:\n    port: 1: 2\n")
    assert issue.startswith("a ':' where YAML expects none; quote the value")
    assert issue.endswith("(line 3)")


def test_quoted_ports_are_numbers(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "spec.yaml": """
                profiles:
                  a:
                    port: "28100"
                    openclaw:
                      gateway: {port: '28100'}
                      browser:
                        profiles:
                          w: {cdpPort: "28250"}
            """
        },
    )
    profile = load_spec(tmp_path / "spec.yaml").spec.profiles["a"]
    assert profile.port == 28100
    assert profile.openclaw.as_config()["gateway"] == {"port": 28100}
    assert profile.openclaw.browser.profiles["w"].cdpPort == 28250
    assert run_cli("config", "-f", tmp_path / "spec.yaml").stdout.count("port: 28100") == 2


@given(st.integers(min_value=1, max_value=65535))
def test_a_port_reads_the_same_quoted_or_not(port: int) -> None:
    bare = validate({"profiles": {"a": {"port": port}}}, source="t")
    quoted = validate({"profiles": {"a": {"port": f"{port}"}}}, source="t")
    assert bare == quoted


@given(
    st.text(max_size=8).filter(
        lambda text: not text.strip().isascii() or not text.strip().isdigit()
    )
)
def test_any_other_text_is_refused_as_a_port(text: str) -> None:
    with pytest.raises(SpecError, match="must be a whole number"):
        validate({"profiles": {"a": {"port": text}}}, source="t")


def test_the_cli_prints_them_on_stderr_with_exit_1(workdir: Path) -> None:
    write_tree(workdir, {"openclaw-compose.yaml": "profiles:\n  a:\n    port: 28100\n    rol: x\n"})
    result = run_cli("ports")
    assert result.exit_code == ExitCode.PROBLEMS
    assert result.stdout == ""
    assert "profiles.a.rol: unknown key 'rol'; did you mean 'role'? (line 4)" in result.stderr
