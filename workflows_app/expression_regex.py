"""Regular expressions for expressions, with no backtracking blow-up.

google-re2 runs them when it is installed: a linear-time engine, so the subject may be as
large as any value (the result cap). Without it, Python's backtracking `re` runs them,
guarded three ways: a subject of at most FALLBACK_MAX_SUBJECT_CHARS; no repeat inside a
repeat (`(a+)+`) and no alternation inside a repeat (`(a|ab)*`), the exponential cases;
and for the polynomial rest (`.*.*x` is cubic), an upper bound on the paths the engine
can try, from the pattern's repeats and the subject's length, within FALLBACK_MAX_STEPS.
Both engines refuse backreferences and lookaround, so a pattern means the same whichever
one runs it.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, NamedTuple

from workflows_app.expression_lists import bounded_list
from workflows_app.expression_values import (
    ExpressionError,
    describe,
    join_text,
    max_result_size,
    text_size,
    to_text,
)

try:
    _re2: Any = importlib.import_module("re2")
except ImportError:  # the fallback below
    _re2 = None

MAX_PATTERN_CHARS = 200
# RE2 compiles a pattern within this much memory; a larger program is refused.
RE2_MAX_MEM = 8 * 1024 * 1024
FALLBACK_MAX_SUBJECT_CHARS = 10_000
# About a second of Python's engine at worst; the bound is loose (the engine skips most
# paths), and the slowest pattern measured at it, `[a-z]+\d?x` on 10,000 characters, took 1 s.
FALLBACK_MAX_STEPS = 2 * 10**8

_sre_parser: Any = importlib.import_module("re._parser")  # Python's own regex parser
_UNSUPPORTED = {"GROUPREF", "GROUPREF_EXISTS", "ASSERT", "ASSERT_NOT"}
_REPEATS = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}


class _Pattern(NamedTuple):
    regex: Any
    parsed: Any  # Python's parse of it, for the step bound; None under RE2


def _refuse_exponential(parsed: Any, inside_repeat: bool = False) -> None:
    for op, argument in parsed:
        name = str(op)
        if name in _UNSUPPORTED:
            raise ExpressionError("regex: backreferences and lookaround are not supported")
        if name in _REPEATS:
            if inside_repeat:
                raise ExpressionError("regex: a repeat inside a repeat, like (a+)+, is not allowed")
            _refuse_exponential(argument[2], True)
        elif name == "BRANCH":
            if inside_repeat:
                raise ExpressionError("regex: alternation inside a repeat, like (a|ab)*, is not allowed here")
            for branch in argument[1]:
                _refuse_exponential(branch, inside_repeat)
        elif name == "SUBPATTERN":
            _refuse_exponential(argument[-1], inside_repeat)
        elif name == "ATOMIC_GROUP":
            _refuse_exponential(argument, inside_repeat)


def _paths(parsed: Any, length: int) -> int:
    """An upper bound on the ways the engine can match parsed from one position of a
    subject of length characters: each repeat multiplies by how many counts it can take,
    alternatives add up. Stops growing once past the budget."""
    total = 1
    for op, argument in parsed:
        name = str(op)
        if name in _REPEATS:
            low, high, body = argument
            total *= max(1, min(high, length) - low + 1) * _paths(body, length)
        elif name == "BRANCH":
            total *= sum(_paths(branch, length) for branch in argument[1])
        elif name == "SUBPATTERN":
            total *= _paths(argument[-1], length)
        elif name == "ATOMIC_GROUP":
            total *= _paths(argument, length)
        total = min(total, FALLBACK_MAX_STEPS + 1)
    return total


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> _Pattern:
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ExpressionError(f"regex: the pattern is longer than the limit of {MAX_PATTERN_CHARS} characters")
    if _re2 is None:
        try:
            parsed = _sre_parser.parse(pattern)
        except re.error as exc:
            raise ExpressionError(f"regex: invalid pattern: {exc}") from None
        except RecursionError:
            raise ExpressionError("regex: the pattern nests too deeply") from None
        _refuse_exponential(parsed)
        return _Pattern(re.compile(pattern), parsed)
    # RE2 refuses backreferences and lookaround itself, and any repeat is linear there.
    options = _re2.Options()
    options.max_mem = RE2_MAX_MEM
    options.log_errors = False
    try:
        return _Pattern(_re2.compile(pattern, options), None)
    except Exception as exc:  # re2.error: its own syntax rules, or the program is too large
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):  # RE2 reports its reasons as bytes
            reason = reason.decode("utf-8", "replace")
        raise ExpressionError(f"regex: invalid pattern: {reason}") from None


def _prepare(value: Any, pattern: Any, name: str) -> tuple[str, Any]:
    if not isinstance(pattern, str):
        raise ExpressionError(f"{name} needs a pattern as text, not {describe(pattern)}")
    text = to_text(value)
    compiled = _compiled(pattern)
    if compiled.parsed is None:
        if text_size(text) > max_result_size():
            raise ExpressionError(f"{name}: the text is larger than the limit of {max_result_size()} bytes")
        return text, compiled.regex
    if len(text) > FALLBACK_MAX_SUBJECT_CHARS:
        raise ExpressionError(
            f"{name}: the text is longer than the limit of {FALLBACK_MAX_SUBJECT_CHARS} characters for a regex"
        )
    # Every start position, times the paths from each.
    if (len(text) + 1) * _paths(compiled.parsed, len(text)) > FALLBACK_MAX_STEPS:
        raise ExpressionError(
            f"{name}: the pattern could take too long on {len(text)} characters; "
            "use fewer open-ended repeats (*, +, {n,}) or shorter text"
        )
    return text, compiled.regex


def _regex_match(value: Any, pattern: Any) -> bool:
    """True when the pattern matches somewhere in the text (anchor with ^ and $)."""
    text, compiled = _prepare(value, pattern, "regex_match")
    return compiled.search(text) is not None


def _regex_search(value: Any, pattern: Any) -> Any:
    """The first match: {"match", "groups", "named"}, or null."""
    text, compiled = _prepare(value, pattern, "regex_search")
    found = compiled.search(text)
    if found is None:
        return None
    return {"match": found.group(0), "groups": list(found.groups()), "named": dict(found.groupdict())}


def _regex_findall(value: Any, pattern: Any) -> list:
    """Every match: the matched text, the group's text with one group, a list of the
    groups' texts with more (a group that did not take part is null)."""
    text, compiled = _prepare(value, pattern, "regex_findall")

    def found() -> Iterator[Any]:
        for each in compiled.finditer(text):
            groups = each.groups()
            if not groups:
                yield each.group(0)
            else:
                yield groups[0] if len(groups) == 1 else list(groups)

    return bounded_list(found(), "the list of matches")


def _regex_replace(value: Any, pattern: Any, replacement: Any, count: Any = 0) -> str:
    """Each match replaced by replacement, where \\1 and \\g<name> stand for groups."""
    text, compiled = _prepare(value, pattern, "regex_replace")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise ExpressionError("regex_replace count must be a number of at least 0")
    template = to_text(replacement)

    def pieces() -> Iterator[str]:
        # Built match by match so a replacement that grows the text stops at the cap.
        end = 0
        for number, each in enumerate(compiled.finditer(text), 1):
            yield text[end : each.start()]
            try:
                yield each.expand(template)
            except Exception as exc:  # re.error or RE2's own: a group that does not exist
                raise ExpressionError(f"regex_replace: bad replacement: {exc}") from None
            end = each.end()
            if number == count:
                break
        yield text[end:]

    return join_text(pieces(), what="the replaced text")


REGEX_FILTERS = {
    "regex_match": _regex_match,
    "regex_search": _regex_search,
    "regex_findall": _regex_findall,
    "regex_replace": _regex_replace,
}
