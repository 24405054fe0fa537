"""The project agrees with itself: committed output, starter file, docs."""

from __future__ import annotations

import re
from pathlib import Path

from openclaw_compose.core.checks import HostFacts
from openclaw_compose.core.loading import load_spec
from openclaw_compose.core.project import check_spec, generate
from openclaw_compose.core.spec import DEFAULT_SPEC_DATA

from .helpers import snapshot

ROOT = Path(__file__).parent.parent


def test_committed_compose_dir_is_what_generate_writes(tmp_path: Path) -> None:
    generate(check_spec(None, HostFacts()), tmp_path)
    generated = {k: v for k, v in snapshot(tmp_path).items() if k != ".env"}
    committed = {k: v for k, v in snapshot(ROOT / "compose").items() if k != ".env"}
    assert committed == generated, "run 'make compose' and commit compose/"


def test_starter_file_matches_embedded_default() -> None:
    starter = load_spec(ROOT / "openclaw_compose" / "starter.yaml").spec
    ports = {name: profile.port for name, profile in starter.profiles.items()}
    assert ports == {name: p["port"] for name, p in DEFAULT_SPEC_DATA["profiles"].items()}


def test_readme_documents_every_check_code_and_exit_code() -> None:
    readme = (ROOT / "README.md").read_text()
    source = "".join(path.read_text() for path in (ROOT / "openclaw_compose").rglob("*.py"))
    codes = set(re.findall(r'"([a-z]+(?:-[a-z]+)+)",\n\s+"(?:error|warning)"', source))
    codes |= set(re.findall(r'^CODE = "([a-z-]+)"', source, re.M))
    assert codes, "no check codes found"
    for code in sorted(codes | {"schema", "yaml"}):
        assert f"`{code}`" in readme, f"README does not document check code {code}"
    for line in re.findall(
        r"^\s+([A-Z_]+) = (\d+)", (ROOT / "openclaw_compose/errors.py").read_text(), re.M
    ):
        assert f"| {line[1]} |" in readme, f"README does not document exit code {line[1]}"
