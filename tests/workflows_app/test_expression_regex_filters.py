"""The regex filters, on RE2 and on the guarded fallback engine: matches, refusals,
the caps on patterns and subjects, and no backtracking blow-up."""

from __future__ import annotations

import importlib.util
from dataclasses import replace

import pytest

from tests.support.expressions import evaluate
from workflows_app import expression_regex
from workflows_app.expressions import ExpressionError, expression_context

HAS_RE2 = importlib.util.find_spec("re2") is not None


@pytest.fixture(params=["re2", "re"])
def regex_engine(request, monkeypatch):
    """Each regex test runs on RE2 (when installed) and on the fallback engine."""
    if request.param == "re2" and not HAS_RE2:
        pytest.skip("google-re2 is not installed")
    if request.param == "re":
        monkeypatch.setattr(expression_regex, "_re2", None)
    expression_regex._compiled.cache_clear()
    yield request.param
    expression_regex._compiled.cache_clear()


# --- regex ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("'Order #42' | regex_match('#\\\\d+')", True),
        ("'Order #42' | regex_match('^#')", False),
        ("'Order #42' | regex_match('(?i)^order')", True),
        (
            "'id=42 id=7' | regex_search('id=(?P<id>\\\\d+)')",
            {"match": "id=42", "groups": ["42"], "named": {"id": "42"}},
        ),
        ("'nothing' | regex_search('\\\\d')", None),
        ("'a1 b22 c' | regex_findall('\\\\d+')", ["1", "22"]),
        ("'a1 b22 c' | regex_findall('([a-z])(\\\\d)?')", [["a", "1"], ["b", "2"], ["c", None]]),
        ("'k=v, x=y' | regex_findall('(\\\\w)=')", ["k", "x"]),
        ("'2026-03-29' | regex_replace('(\\\\d{4})-(\\\\d\\\\d)-(\\\\d\\\\d)', '\\\\3/\\\\2/\\\\1')", "29/03/2026"),
        ("'a b c' | regex_replace('\\\\s', '_', 1)", "a_b c"),
        ("'héllo wörld' | regex_replace('[éö]', '<\\\\g<0>>')", "h<é>llo w<ö>rld"),
        ("'abc' | regex_replace('x*', '-')", "-a-b-c-"),
    ],
)
def test_regex_filters(regex_engine, source, expected):
    assert evaluate(source, {}) == expected


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("'x' | regex_match('(')", "invalid pattern"),
        ("'aa' | regex_match('(a)\\\\1')", "backreferences|invalid"),
        ("'ab' | regex_match('a(?=b)')", "lookaround|invalid"),
        ("'x' | regex_match(1)", "pattern as text"),
        ("'x' | regex_replace('(x)', '\\\\2')", "bad replacement"),
        ("'x' | regex_replace('x', 'y', -1)", "count must be"),
    ],
)
def test_regex_refuses_bad_patterns(regex_engine, source, message):
    with pytest.raises(ExpressionError, match=message):
        evaluate(source, {})


def test_regex_pattern_length_is_capped(regex_engine):
    with pytest.raises(ExpressionError, match="longer than the limit of 200 characters"):
        evaluate("'x' | regex_match('" + "a" * 201 + "')", {})


def test_a_catastrophic_pattern_is_linear_on_re2():
    if not HAS_RE2:
        pytest.skip("google-re2 is not installed")
    expression_regex._compiled.cache_clear()
    subject = expression_context(inputs={"text": "a" * 100_000 + "!"})
    # Exponential on a backtracking engine; one pass on RE2.
    assert evaluate("inputs.text | regex_match('^(a+)+$')", subject) is False
    assert evaluate("inputs.text | regex_match('.*.*.*x')", subject) is False


@pytest.fixture
def fallback_engine(monkeypatch):
    monkeypatch.setattr(expression_regex, "_re2", None)
    expression_regex._compiled.cache_clear()
    yield
    expression_regex._compiled.cache_clear()


@pytest.mark.parametrize("pattern", ["(a+)+$", "(a*)*b", "(a|aa)*c", "(x\\\\d{1,3})+", "(?:a|b)(a|aa)+"])
def test_exponential_patterns_are_refused_by_the_fallback(fallback_engine, pattern):
    with pytest.raises(ExpressionError, match="inside a repeat"):
        evaluate(f"'aaaa' | regex_match('{pattern}')", {})


@pytest.mark.parametrize(("pattern", "longest"), [(".*.*x", 500), ("\\\\w+@\\\\w+\\\\.\\\\w+", 100)])
def test_polynomial_patterns_are_bounded_by_the_subject_length_in_the_fallback(fallback_engine, pattern, longest):
    """Two or three open-ended repeats: fine on a short field, refused on a long text."""
    short = expression_context(inputs={"text": "a" * longest})
    assert evaluate(f"inputs.text | regex_match('{pattern}')", short) is False
    long = expression_context(inputs={"text": "a" * 10_000})
    with pytest.raises(ExpressionError, match="could take too long on 10000 characters"):
        evaluate(f"inputs.text | regex_match('{pattern}')", long)
    # One open-ended repeat is linear per start: the whole subject cap.
    assert evaluate("inputs.text | regex_findall('a*b')", long) == []


def test_the_fallback_refuses_a_huge_subject(fallback_engine):
    huge = expression_context(inputs={"text": "a" * 10_001})
    with pytest.raises(ExpressionError, match="longer than the limit of 10000 characters"):
        evaluate("inputs.text | regex_match('b')", huge)
    assert evaluate("inputs.text[:10000] | regex_match('b')", huge) is False


def test_a_regex_result_is_within_the_cap(regex_engine, settings):
    settings.SWITCHBOARD = replace(settings.SWITCHBOARD, max_result_bytes=1000)
    text = expression_context(inputs={"text": "a" * 500})
    with pytest.raises(ExpressionError, match="the replaced text would be larger than the limit"):
        evaluate("inputs.text | regex_replace('a', 'bbb')", text)
    with pytest.raises(ExpressionError, match="the list of matches would be larger than the limit"):
        evaluate("inputs.text | regex_findall('a')", text)
