"""OpenClaw's config schema per release, taken from the image once (``openclaw config schema
--json`` in a throwaway container: no network, no volume) and cached per version, so that
``check`` stays fast (:mod:`openclaw_compose.core.fragment_checks` reads the cache)."""

from __future__ import annotations

import json
import os

from openclaw_compose.core.fragment_checks import cached_schema, schema_cache, schema_key
from openclaw_compose.core.spec import Spec
from openclaw_compose.engine import Engine
from openclaw_compose.host.volumes import USER

SCHEMA_COMMAND = ("openclaw", "config", "schema", "--json")


def fetch_schemas(spec: Spec, engine: Engine) -> None:
    """Cache the schema of every image the fragments need that is here and prints one (the
    others are left to the ``openclaw-schema`` warning)."""
    images = {
        schema_key(spec, profile): profile.image_ref(spec)
        for profile in spec.profiles.values()
        if profile.openclaw.as_config()
    }
    for key, image in images.items():
        if cached_schema(key) is not None or engine.containers.image_labels(image) is None:
            continue
        _, output = engine.containers.run_once(image, SCHEMA_COMMAND, mounts=[], user=USER)
        try:
            schema = json.JSONDecoder().raw_decode(output[output.index("{") :])[0]
        except ValueError:
            continue  # an image without the command: its fragments stay unvalidated (warned)
        directory = schema_cache()
        directory.mkdir(parents=True, exist_ok=True)
        temporary = directory / f".{key}.{os.getpid()}.tmp"
        temporary.write_text(json.dumps(schema), encoding="utf-8")
        temporary.replace(directory / f"{key}.json")
