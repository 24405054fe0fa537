"""Edits of the profiles file keep it byte for byte, except the changed scalars."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from openclaw_compose.core.specedit import edit_spec_file, edit_text
from openclaw_compose.errors import OutputError

STARTER = files("openclaw_compose").joinpath("starter.yaml").read_text(encoding="utf-8")

NESTED = """\
    openclaw:
      # the rescue's own models
      agents:
        defaults: {model: {primary: "standin/echo"}}   # flow inside a block
      gateway:
        mode: local
    # a comment after a nested block: kept
"""
FLOW = "    openclaw: {browser: {enabled: true, profiles: {work: {cdpPort: 18950}}}}  # flow\n"


def _with_fragments(text: str = STARTER) -> str:
    text = text.replace("    port: 18789\n", "    port: 18789\n" + FLOW)
    return text.replace("    role: rescue\n", "    role: rescue\n" + NESTED)


def _load(text: str) -> Any:
    return YAML(typ="safe").load(text)


def test_upgrade_edits_keep_every_comment_and_flow_mapping(tmp_path: Path) -> None:
    original = _with_fragments()
    path = tmp_path / "openclaw-compose.yaml"
    path.write_text(original)
    for name in ("rescue", "main"):
        edit_spec_file(path, {}, {name: {"openclaw_version": "2026.9.7", "image": None}})
    during = path.read_text()
    assert during.count('    openclaw_version: "2026.9.7"\n') == 2
    assert _load(during)["profiles"]["main"]["openclaw_version"] == "2026.9.7"
    assert [line for line in during.splitlines() if "2026.9.7" not in line] == (
        original.splitlines()
    )
    edit_spec_file(
        path,
        {"openclaw_version": "2026.9.7", "image": None, "browser_image": None},
        {name: {"openclaw_version": None, "image": None} for name in ("main", "rescue")},
    )
    assert path.read_text() == original.replace('"2026.9.6"', '"2026.9.7"')


def test_a_new_top_level_key_is_one_line_before_profiles() -> None:
    edited = edit_text(STARTER, {"image": "mine:1", "openclaw_version": None}, {})
    assert _load(edited)["image"] == "mine:1"
    assert "openclaw_version" not in _load(edited)
    assert edited.replace('image: "mine:1"\n', "") == STARTER.replace(
        'openclaw_version: "2026.9.6"\n', ""
    )


def test_flow_style_profiles_are_edited_in_their_braces() -> None:
    text = 'project: p  # name\nprofiles: {main: {port: 1, image: "i"}, b: {port: 300}}  # end\n'
    edited = edit_text(text, {}, {"main": {"image": None}, "b": {"openclaw_version": "2026.9.7"}})
    assert edited == (
        "project: p  # name\nprofiles: {main: {port: 1}, b: {port: 300, openclaw_version: "
        '"2026.9.7"}}  # end\n'
    )
    assert edit_text(edited, {}, {"b": {"openclaw_version": None}}) == text.replace(
        ', image: "i"', ""
    )


@pytest.mark.parametrize(
    ("written", "value", "expected"),
    [
        ('"2026.9.6"', "2026.9.7", '"2026.9.7"'),
        ("'2026.9.6'", "2026.9.7", "'2026.9.7'"),
        ("2026.9.6", "2026.9.7", "2026.9.7"),
        ("2026.9.6", "2026.10", '"2026.10"'),
        ("2026.9.6", "a: b", '"a: b"'),
    ],
)
def test_a_replaced_scalar_keeps_its_quoting_where_it_can(
    written: str, value: str, expected: str
) -> None:
    text = f"openclaw_version: {written}   # pinned\nprofiles:\n  main: {{port: 1}}\n"
    edited = edit_text(text, {"openclaw_version": value}, {})
    assert edited == text.replace(written, expected)
    assert _load(edited)["openclaw_version"] == value


def test_a_nested_value_is_not_replaced() -> None:
    with pytest.raises(OutputError, match="not a scalar"):
        edit_text(_with_fragments(), {}, {"main": {"openclaw": "x"}})


_comment = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")))


@settings(max_examples=25, deadline=None)
@given(
    comments=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 8), _comment), max_size=12),
    version=st.from_regex(r"20[0-9]{2}\.[1-9][0-9]?\.[1-9][0-9]?(-[a-z0-9]{1,6})?", fullmatch=True),
)
def test_comments_anywhere_survive_an_upgrade_and_its_roll_back(
    comments: list[tuple[int, int, str]], version: str
) -> None:
    lines = _with_fragments().splitlines(keepends=True)
    for at, indent, comment in comments:
        lines.insert(min(at, len(lines)), " " * indent + "# " + comment + "\n")
    original = "".join(lines)
    upgraded = edit_text(original, {}, {"main": {"openclaw_version": version, "image": None}})
    assert _load(upgraded)["profiles"]["main"]["openclaw_version"] == version
    assert _load(upgraded)["profiles"]["rescue"] == _load(original)["profiles"]["rescue"]
    assert edit_text(upgraded, {}, {"main": {"openclaw_version": None}}) == original
    final = edit_text(original, {"openclaw_version": version}, {})
    assert final == original.replace(
        'openclaw_version: "2026.9.6"', f'openclaw_version: "{version}"'
    )
