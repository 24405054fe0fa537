"""``openclaw-schema``: every profile's ``openclaw:`` fragment against OpenClaw's own schema
for the profile's release, from the per-version cache (:func:`schema_cache`, filled by
:func:`openclaw_compose.runtime.schemas.fetch_schemas` from the images). A release whose
schema is not cached gives a warning that the fragment could not be validated, not an error.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from openclaw_compose.core.checks import CheckCode, Problem
from openclaw_compose.core.fragment_schema import fragment_issues
from openclaw_compose.core.loading import LoadedSpec, line_of
from openclaw_compose.core.spec import ProfileSpec, Spec


def schema_cache() -> Path:
    """Where schemas are kept, one file per OpenClaw version: ``OPENCLAW_COMPOSE_SCHEMA_CACHE``,
    else ``schema/`` in images/build.sh's cache (``OPENCLAW_COMPOSE_CACHE``, else
    ``$XDG_CACHE_HOME/openclaw-compose``, else ``~/.cache/openclaw-compose``)."""
    if own := os.environ.get("OPENCLAW_COMPOSE_SCHEMA_CACHE"):
        return Path(own)
    base = os.environ.get("OPENCLAW_COMPOSE_CACHE") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "openclaw-compose"
    )
    return Path(base) / "schema"


def schema_key(spec: Spec, profile: ProfileSpec) -> str:
    """The cache's name for the schema of the profile's image: its OpenClaw version for an
    image ``build`` makes, else a digest of the reference of an image of your own."""
    if profile.built_image(spec) is not None:
        return profile.version(spec)
    return "image-" + hashlib.sha256(profile.image_ref(spec).encode()).hexdigest()[:16]


def cached_schema(version: str) -> dict[str, Any] | None:
    try:
        data = json.loads((schema_cache() / f"{version}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def fragment_problems(loaded: LoadedSpec) -> Iterator[Problem]:
    spec = loaded.spec
    tree = _tree(loaded)
    for name, profile in spec.profiles.items():
        fragment = profile.openclaw.as_config()
        if not fragment:
            continue
        schema = cached_schema(schema_key(spec, profile))
        image = profile.image_ref(spec)
        if schema is None:
            yield Problem(
                CheckCode.OPENCLAW_SCHEMA,
                "warning",
                (name,),
                f"profile {name!r}: openclaw: could not be validated against OpenClaw's schema: "
                f"none cached for {image}, and the image is not here to take it from "
                "('openclaw-compose build', then 'check')",
            )
            continue
        for issue in fragment_issues(fragment, schema):
            loc = ("profiles", name, "openclaw", *issue.path)
            line = line_of(tree, loc)
            where = f" (line {line})" if line else ""
            key = ".".join(str(part) for part in loc)
            yield Problem(
                CheckCode.OPENCLAW_SCHEMA,
                "error",
                (name,),
                f"{loaded.source}: {key}: {issue.message} (the schema of {image}){where}",
            )


def _tree(loaded: LoadedSpec) -> Any:
    if loaded.embedded:
        return None
    try:
        return YAML(typ="rt").load(Path(loaded.source).read_text(encoding="utf-8"))
    except (OSError, YAMLError, ValueError):
        return None
