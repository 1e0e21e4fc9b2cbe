"""Checks of JSON values for what the database cannot store (NUL characters, lone
surrogates, numbers JSON cannot carry), and how a place in a JSON value is named in an
error (`nodes[2].config.prompt`)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from typing import Any

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

NUL_MESSAGE = "text may not contain the NUL character (\\u0000)"
SURROGATE_MESSAGE = "text may not contain a lone surrogate (\\ud800 to \\udfff)"
# In ASCII JSON (json.dumps' default), half of a surrogate pair written without its other
# half. Every emoji is a whole pair there, so a plain "\\ud" search would match them all.
_HIGH, _LOW = r"\\ud[89ab][0-9a-f]{2}", r"\\ud[c-f][0-9a-f]{2}"
LONE_SURROGATE_ESCAPE = re.compile(rf"{_HIGH}(?!{_LOW})|(?<!{_HIGH}){_LOW}")
NOT_FINITE_MESSAGE = "numbers must be finite: this one is too large for JSON (or NaN)"


def _nul_problem(text: str) -> str | None:
    return NUL_MESSAGE if "\x00" in text else None


def _surrogate_problem(text: str) -> str | None:
    """A lone surrogate: a JSON escape like \\ud800 with no pair, which jsonb refuses."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return SURROGATE_MESSAGE
    return None


def unstorable_problem(text: str) -> str | None:
    """What jsonb cannot store."""
    return _nul_problem(text) or _surrogate_problem(text)


def nul_paths(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The location of every string, keys included, that holds a NUL character, in
    document order. PostgreSQL cannot store NUL in jsonb or text: refused here, it is a
    400 naming the path instead of a DataError (a 500) at save time."""
    return (loc for loc, _ in text_problems(value, _nul_problem, at))


def surrogate_paths(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Like nul_paths, for lone surrogates."""
    return (loc for loc, _ in text_problems(value, _surrogate_problem, at))


def text_problems(
    value: Any,
    problem: Callable[[str], str | None],
    at: tuple[Any, ...],
    *,
    finite: bool = False,
    max_depth: int = 0,
) -> Iterator[tuple[tuple[Any, ...], str]]:
    """(location, message) of every string, keys included, `problem` finds fault with;
    with `finite`, of every number JSON cannot carry too (Python reads 1e400 as infinity);
    with `max_depth`, of every container nested deeper than that (not looked into)."""
    # Iterative, so deep JSON cannot exhaust the Python stack; each entry carries its own
    # key's problem, so that key is reported in document order too.
    stack: list[tuple[Any, tuple[Any, ...], str | None]] = [(value, at, None)]
    while stack:
        item, loc, key_problem = stack.pop()
        found = key_problem or (problem(item) if isinstance(item, str) else None)
        if finite and isinstance(item, float) and not math.isfinite(item):
            found = NOT_FINITE_MESSAGE
        if max_depth and len(loc) > max_depth and isinstance(item, dict | list | tuple):
            yield loc, f"nests deeper than the limit of {max_depth}"
            continue
        if found:
            yield loc, found
        if isinstance(item, dict):
            children = [
                (child, (*loc, key), problem(key) if isinstance(key, str) else None) for key, child in item.items()
            ]
            stack.extend(reversed(children))
        elif isinstance(item, list | tuple):
            stack.extend(reversed([(child, (*loc, index), None) for index, child in enumerate(item)]))


def format_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _IDENTIFIER.match(str(part)):
            path += f".{part}" if path else str(part)
        else:
            path += f"[{json.dumps(str(part))}]"
    return path
