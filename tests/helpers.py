"""Test helpers: build input trees from dedented text, run the CLI."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from typer.testing import CliRunner, Result

from openclaw_compose.cli import app
from openclaw_compose.core.contract import SECRETS_DIR
from openclaw_compose.core.envfile import ENV_FILE
from openclaw_compose.core.secretstore import secret_files

ISSUE_EXAMPLE = """\
project: openclaw
profiles:
  main:
    port: 18789
  rescue:
    port: 19789
    openclaw:
      browser:
        profiles:
          work: {cdpPort: 19950}
          remote: {cdpUrl: "http://10.0.0.5:9222"}
      channels: {anything: [goes, here]}
    state_dir: ./data/rescue/state
    config_dir: ./data/rescue/config
    workspace_dir: ./data/rescue/workspace
"""
"""The profiles file of the core issue, a contract with users' files."""


class ProbesAnswer(BaseHTTPRequestHandler):
    """A stand-in gateway's HTTP side: every GET (``/healthz``, ``/startupz``...) answers 200."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def write_tree(root: Path, files: Mapping[str, str]) -> None:
    """Write ``{relative path: dedented text}`` under ``root``."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def run_cli(*args: str | Path, input: str | None = None) -> Result:
    return CliRunner().invoke(app, [str(arg) for arg in args], input=input)


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file below ``directory`` with its bytes (to prove nothing was written)."""
    if not directory.exists():
        return {}
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def generated(directory: Path) -> dict[str, bytes]:
    """The files a run wrote under ``directory``, but those that hold token values (``.env``
    and the secret files, which must hold exactly ``.env``'s values): two runs draw different
    tokens."""
    files = snapshot(directory)
    env = files.pop(ENV_FILE, None)
    values = {name: files.pop(name) for name in list(files) if name.startswith(f"{SECRETS_DIR}/")}
    if values:
        assert env is not None, "secret files without .env"
        assert values == secret_files(env.decode()), "stale secret files"
    return files
