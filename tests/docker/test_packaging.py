"""The package as users install it, in a fresh virtualenv: the CLI alone has no test
dependencies, pytest installed next to it without the extra still works (the plugin imports
testcontainers only when gateways start), and the ``testing`` extra gives a downstream test
file the ``openclaw_project`` fixture with no conftest (the ``pytest11`` entry point)."""

from __future__ import annotations

import subprocess
import textwrap
import venv
from pathlib import Path

from openclaw_compose.engine import Engine

ROOT = Path(__file__).parents[2]
DOWNSTREAM = """
    import urllib.request

    import pytest


    @pytest.fixture
    def openclaw_spec():
        return {"profiles": {"solo": {"port": 18789}}}


    def test_solo_answers(openclaw_project):
        solo = openclaw_project["solo"]
        with urllib.request.urlopen(f"{solo.base_url}/startupz") as response:
            assert response.status == 200
"""
TRIVIAL = """
    def test_arithmetic():
        assert 1 + 1 == 2
"""


def _run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in args], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_cli_alone_then_the_testing_extra(tmp_path: Path, engine: Engine) -> None:
    del engine  # the downstream test below starts a real gateway
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    installed = _run(python, "-m", "pip", "install", "--quiet", ROOT)
    assert installed.returncode == 0, installed.stderr
    ports = _run(env_dir / "bin" / "openclaw-compose", "ports", cwd=tmp_path)
    assert ports.returncode == 0, ports.stderr
    assert ["rescue", "19789"] in [line.split()[:2] for line in ports.stdout.splitlines()]
    no_pytest = _run(python, "-c", "import pytest")
    assert no_pytest.returncode != 0, "the CLI alone must not install pytest"

    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "test_trivial.py").write_text(textwrap.dedent(TRIVIAL))
    with_pytest = _run(python, "-m", "pip", "install", "--quiet", "pytest")
    assert with_pytest.returncode == 0, with_pytest.stderr
    assert _run(python, "-c", "import testcontainers").returncode != 0
    trivial = _run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=plain)
    assert trivial.returncode == 0, trivial.stdout + trivial.stderr
    assert "1 passed" in trivial.stdout
    plugins = _run(python, "-m", "pytest", "--fixtures", "-p", "no:cacheprovider", cwd=plain)
    assert "openclaw_project" in plugins.stdout, plugins.stdout + plugins.stderr

    extra = _run(python, "-m", "pip", "install", "--quiet", f"{ROOT}[testing]")
    assert extra.returncode == 0, extra.stderr
    downstream = tmp_path / "downstream"
    downstream.mkdir()
    (downstream / "test_downstream.py").write_text(textwrap.dedent(DOWNSTREAM))
    result = _run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=downstream)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
