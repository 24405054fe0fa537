"""The one reader of ``.env``, with Compose's own grammar (compose-go v2's ``dotenv`` parser, as
in Compose 2.26), and the one writer of a value, which Compose reads back byte for byte.

The grammar, as Compose applies it: statements are separated by ``\\n`` only (a ``\\r``, a
``\\v``, a ``\\x1c`` or a ``\\u2028`` is part of a line, unlike Python's ``str.splitlines``);
blanks (Go's ``unicode.IsSpace``) and ``#`` comment lines are skipped between statements; a key
is letters, digits, ``_ . - [ ]``, after an optional ``export``, and ends at ``=`` or ``:`` (or
at a line end: then the variable is inherited from the environment); a value is

- single-quoted: literal up to the next ``'`` not escaped by ``\\`` (``\\'`` is a quote, any
  other backslash is kept), line breaks included;
- double-quoted: the same, then the escapes ``\\n \\t \\\\ \\" \\$ ...`` and ``$`` substitution;
- unquoted: up to the line end, cut at `` #``, trailing blanks dropped, then ``$`` substitution.

Whatever follows a closing quote on its line is read as the next statement, as Compose does.
Substitution is read for ``$$``, ``$NAME`` and ``${NAME}`` (the forms a ``.env`` written by hand
uses); other ``${...}`` forms are kept as written (a limit: the README says so).

Errors name the line and never show a value.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

_BLANKS = "\t\v\f\r \x85\xa0"
"""compose-go's ``isSpace``: blanks that are not a line end."""
_GO_SPACE = set(_BLANKS + "\n\u1680\u2028\u2029\u202f\u205f\u3000") | {
    chr(c) for c in range(0x2000, 0x200B)
}
"""Go's ``unicode.IsSpace``."""
_EXPORT = re.compile(r"export[\t\n\f\r ]+")
_ESCAPE = re.compile(r"\\(?:[abcfnrtv$\"\\]|0[0-9]{0,3})")
_SIMPLE = {"a": "\a", "b": "\b", "c": "\\c", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_SIMPLE |= {"v": "\v", '"': '"', "\\": "\\"}
_SUBSTITUTION = re.compile(r"\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


class EnvSyntaxError(Exception):
    """``.env`` is not what Compose reads: ``line`` and what is wrong, never a value."""

    def __init__(self, line: int, what: str) -> None:
        super().__init__(f"line {line}: {what}")
        self.line = line


@dataclass(frozen=True)
class Statement:
    """One assignment: ``variable`` set to ``value`` as Compose reads it, written in
    ``text[start:end]`` (from the key, or ``export``, to the end of the value)."""

    variable: str
    value: str | None
    """None for a bare ``NAME`` line (inherited from the environment)."""
    start: int
    end: int
    line: int


def _go_space(character: str) -> bool:
    return character in _GO_SPACE


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def statements(text: str) -> Iterator[Statement]:
    """Every statement of ``text`` in order; raises :class:`EnvSyntaxError` where Compose
    would refuse the file."""
    values: dict[str, str] = {}
    position = 0
    while True:
        position = _statement_start(text, position)
        if position == len(text):
            return
        start = position
        if _EXPORT.match(text, position):
            position += len("export")
            while position < len(text) and text[position] in _BLANKS:
                position += 1
        key, position, inherited = _key(text, position)
        if " " in key:
            raise EnvSyntaxError(_line(text, start), "a variable name cannot contain a space")
        if inherited:
            yield Statement(key, None, start, position - 1, _line(text, start))
            continue
        if not key:
            raise EnvSyntaxError(_line(text, start), "a value has no variable name")
        while position < len(text) and text[position] in _BLANKS:
            position += 1
        value, end = _value(text, position, values)
        values[key] = value
        yield Statement(key, value, start, end, _line(text, start))
        position = end


def _statement_start(text: str, position: int) -> int:
    while True:
        while position < len(text) and _go_space(text[position]):
            position += 1
        if position == len(text) or text[position] != "#":
            return position
        newline = text.find("\n", position)
        if newline < 0:
            return len(text)
        position = newline


def _key(text: str, position: int) -> tuple[str, int, bool]:
    """The key from ``position``, the offset after its ``=``/``:``/line end, and whether it
    ended at a line end (inherited)."""
    for index in range(position, len(text)):
        character = text[index]
        if character in _BLANKS:
            continue
        if character in "=:\n":
            key = text[position:index].rstrip("".join(_GO_SPACE))
            return key, index + 1, character == "\n"
        if character in "_.-[]" or unicodedata.category(character)[0] in "LN":
            continue
        raise EnvSyntaxError(_line(text, index), "a variable name holds an unexpected character")
    return "", position, False


def _value(text: str, position: int, values: dict[str, str]) -> tuple[str, int]:
    """The value at ``position`` as Compose reads it, and the offset after it."""
    quote = text[position : position + 1]
    if quote not in ("'", '"'):
        newline = text.find("\n", position)
        end = len(text) if newline < 0 else newline
        raw = text[position:end].split(" #", 1)[0]
        while raw and _go_space(raw[-1]):
            raw = raw[:-1]
        return _substitute(raw, values), end
    chars: list[str] = []
    escaped = False
    for index in range(position + 1, len(text)):
        character = text[index]
        if character != quote:
            if not escaped and character == "\\":
                escaped = True
                continue
            if escaped:
                escaped = False
                chars.append("\\")
            chars.append(character)
            continue
        if escaped:
            escaped = False
            chars.append(character)
            continue
        value = "".join(chars)
        if quote == '"':
            value = _substitute(_ESCAPE.sub(_unescape, value), values)
        return value, index + 1
    raise EnvSyntaxError(
        _line(text, position), "a quoted value is not terminated (a quote is missing)"
    )


def _unescape(match: re.Match[str]) -> str:
    escape = match.group()[1:]
    if escape == "$":
        return "$$"
    if escape.startswith("0"):
        octal = escape[1:]
        valid = len(octal) == 3 and set(octal) <= set("01234567") and int(octal, 8) < 256
        return chr(int(octal, 8)) if valid else match.group()
    return _SIMPLE[escape]


def _substitute(value: str, values: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name is None:
            return "$"
        return os.environ.get(name, values.get(name, ""))

    return _SUBSTITUTION.sub(replace, value)


def encode(value: str) -> str | None:
    """``value`` written so that Compose reads it back exactly (single-quoted when it can be,
    else double-quoted with escapes); None when no form does."""
    single = "'" + value.replace("'", "\\'") + "'"
    double = '"' + "".join(_DOUBLE.get(c, c) for c in value) + '"'
    for form in (single, double):
        try:
            read = list(statements(f"V={form}\n"))
        except EnvSyntaxError:
            continue
        if [(s.variable, s.value) for s in read] == [("V", value)]:
            return form
    return None


_DOUBLE = {"\\": "\\\\", '"': '\\"', "$": "\\$"}
