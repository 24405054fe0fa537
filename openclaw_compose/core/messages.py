"""pydantic's and the YAML parser's messages, said in the profiles file's words: what is wrong
with the field, what to write instead, and, for a misspelt key, the key that was meant."""

from __future__ import annotations

import difflib
import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

_EXAMPLES = {"port": "port: 18789", "cdpPort": "cdpPort: 18800"}


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text {value!r}" if len(value) <= 40 else "a text"
    if value is None:
        return "nothing (an empty value)"
    return f"{type(value).__name__} {value!r}"


_WHOLE = "must be a whole number, e.g. '{example}'{got}"
_MAPPING = "must be a mapping (indented 'key: value' lines under '{key}:'){got}"
_LIST = "must be a list, e.g. '{key}: [A, B]'{got}"
_BY_TYPE = {
    "missing": "required but missing; add it, e.g. '{example}'",
    "int_type": _WHOLE,
    "int_parsing": _WHOLE,
    "int_from_float": _WHOLE,
    "bool_type": "must be true or false{got}",
    "bool_parsing": "must be true or false{got}",
    "string_type": 'must be text; quote it, e.g. {key}: "..."{got}',
    "dict_type": _MAPPING,
    "model_type": _MAPPING,
    "model_attributes_type": _MAPPING,
    "list_type": _LIST,
    "tuple_type": _LIST,
    "set_type": _LIST,
}


def schema_message(error: Any, model: type[BaseModel]) -> str:
    """``error`` (one of pydantic's ``ValidationError.errors()``) in the user's words."""
    kind, loc = error["type"], tuple(error["loc"])
    key = str(loc[-1]) if loc else ""
    got = f" (got {_kind(error.get('input'))})"
    if kind == "extra_forbidden":
        return unknown_key(key, fields_at(model, loc[:-1]))
    if kind in _BY_TYPE:
        example = _EXAMPLES.get(key, f"{key}: 18789" if "int" in kind else f"{key}: ...")
        return _BY_TYPE[kind].format(key=key, example=example, got=got)
    message = str(error["msg"]).removeprefix("Value error, ")
    if message.startswith("Input should be "):
        return "must be " + message.removeprefix("Input should be ") + got
    return message


def unknown_key(key: str, known: list[str]) -> str:
    """``unknown key 'rol'; did you mean 'role'?``, or the keys allowed there."""
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"unknown key {key!r}; did you mean {close[0]!r}?"
    allowed = f" (allowed here: {', '.join(known)})" if known else ""
    return f"unknown key {key!r}{allowed}; check its spelling, see 'openclaw-compose schema'"


def fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys the model allows at ``loc`` (a mapping's path; [] when unknown)."""
    current: type[BaseModel] | None = model
    parts = [part for part in loc if part != "[key]"]
    while parts and current is not None:
        field = current.model_fields.get(str(parts.pop(0)))
        if field is None:
            return []
        current, keyed = _inner_model(field.annotation)
        if keyed and parts:
            parts.pop(0)  # the user's own name (a profile, a browser profile)
    return list(current.model_fields) if current is not None else []


def _inner_model(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model an annotation holds, and whether it holds it under names of the user's."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    origin = get_origin(annotation)
    if origin is dict:
        return _inner_model(get_args(annotation)[1])[0], True
    if origin in {Union, types.UnionType}:
        for arg in get_args(annotation):
            found = _inner_model(arg)
            if found[0] is not None:
                return found
    return None, False


def yaml_message(problem: str, text: str, line: int | None, column: int | None) -> str:
    """The YAML parser's ``problem`` at ``line``/``column`` (1-based) with what to do."""
    lines = text.splitlines()
    char = ""
    if line is not None and column is not None and 0 < line <= len(lines):
        char = lines[line - 1][column - 1 : column]
    if char == "\t" or (problem.startswith("found character") and "\\t" in problem):
        return "a tab: YAML does not allow tabs for indentation; indent with spaces"
    if problem.startswith("mapping values are not allowed"):
        return (
            "a ':' where YAML expects none; quote the value (\"a: b\") or put the key on a "
            "line of its own"
        )
    if problem.startswith("could not find expected ':'"):
        return "a line that is not 'key: value'; add the ':' or check the indentation"
    if problem.startswith("found duplicate key"):
        return f"{problem}; keep one of them"
    where = f", column {column}" if column else ""
    return f"{problem}{where}"
