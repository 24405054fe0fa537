"""The project agrees with itself: committed output, starter file, docs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from openclaw_compose.core.checks import CheckCode, HostFacts
from openclaw_compose.core.loading import load_spec
from openclaw_compose.core.spec import DEFAULT_SPEC_DATA, OPENCLAW_VERSION
from openclaw_compose.errors import ExitCode
from openclaw_compose.host.images import NODE_VERSION
from openclaw_compose.project import check_spec, generate
from openclaw_compose.targets import get_target, target_names

from .helpers import generated

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()


def test_committed_compose_dir_is_what_generate_writes(tmp_path: Path) -> None:
    generate(check_spec(None, HostFacts()), tmp_path)
    assert generated(ROOT / "compose") == generated(tmp_path), (
        "run 'make compose' and commit compose/"
    )


def test_starter_file_matches_embedded_default() -> None:
    starter = load_spec(ROOT / "openclaw_compose" / "starter.yaml").spec
    ports = {name: profile.port for name, profile in starter.profiles.items()}
    assert ports == {name: p["port"] for name, p in DEFAULT_SPEC_DATA["profiles"].items()}


@pytest.mark.parametrize("code", list(CheckCode))
def test_readme_documents_every_check_code(code: CheckCode) -> None:
    table_row = re.compile(rf"^\| `{re.escape(code)}` \| (error|warning)", re.M)
    assert table_row.search(README), f"README's checks table has no row for {code}"


@pytest.mark.parametrize("code", list(ExitCode))
def test_readme_documents_every_exit_code(code: ExitCode) -> None:
    assert re.search(rf"^\| {int(code)} \| \S", README, re.M), f"exit code {int(code)}"


@pytest.mark.parametrize("name", target_names())
def test_every_target_is_documented_and_writes_its_own_document(name: str) -> None:
    target = get_target(name)
    assert f"`{target.document}`" in README
    others = [get_target(other).document for other in target_names() if other != name]
    assert target.document not in others


def test_the_build_script_builds_the_versions_the_package_names() -> None:
    script = (ROOT / "images" / "build.sh").read_text()
    assert f'OPENCLAW_VERSION="${{OPENCLAW_VERSION:-{OPENCLAW_VERSION}}}"' in script
    assert f'NODE_VERSION="${{NODE_VERSION:-{NODE_VERSION}}}"' in script
