"""``secret-in-config``: a credential written as a literal value in a profile's ``openclaw:``.

The fragment goes into ``seeds/<profile>.json`` (mode 0644, a swarm config, the config volume):
a key there belongs in ``secrets:`` and is referenced as ``${NAME}``, which OpenClaw resolves
from the gateway's environment. Keys are judged by their name (``apiKey``, ``botToken``,
``password``...); counts such as ``maxTokens`` are not credentials. The value is never printed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from openclaw_compose.core.checks import CheckCode, Problem
from openclaw_compose.core.spec import Spec

_CREDENTIAL_KEY = re.compile(
    r"(api_?key|token|password|passwd|secret|private_?key|credentials?)$", re.IGNORECASE
)
_REFERENCE = re.compile(r"\$\{[A-Z_][A-Z0-9_]*\}")


def literal_credentials(spec: Spec) -> Iterator[Problem]:
    for name, profile in spec.profiles.items():
        for path in _literal_paths(profile.openclaw.as_config(), ()):
            field = f"profiles.{name}.openclaw." + ".".join(path)
            yield Problem(
                CheckCode.SECRET_IN_CONFIG,
                "warning",
                (name,),
                f"{field} holds a literal value that looks like a credential: it would be "
                "written in plain text to the seed config; declare it in "
                f"profiles.{name}.secrets (e.g. PROVIDER_KEY), set it with 'openclaw-compose "
                f'secret set {name} PROVIDER_KEY\', and write "${{PROVIDER_KEY}}" here',
            )


def _literal_paths(value: Any, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            here = (*path, str(key))
            if isinstance(item, str) and _CREDENTIAL_KEY.search(str(key)):
                if item and not _REFERENCE.fullmatch(item):
                    yield here
            else:
                yield from _literal_paths(item, here)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _literal_paths(item, (*path, f"[{index}]"))
