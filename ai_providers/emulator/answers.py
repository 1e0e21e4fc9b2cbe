"""Deterministic answers of the emulator: the same request always gets the same answer,
and every answer says it is emulated (docs/concepts/ai-providers.md)."""

from __future__ import annotations

import json
import re

POSITIVE_WORDS = frozenset(
    {
        *("good", "great", "love", "loved", "excellent", "happy", "thanks", "thank", "awesome", "wonderful"),
        *("amazing", "fantastic", "like", "pleased", "perfect", "best", "nice", "glad", "helpful", "delighted"),
        *("fast", "recommend", "satisfied"),
    }
)
NEGATIVE_WORDS = frozenset(
    {
        *("bad", "terrible", "hate", "hated", "awful", "angry", "broken", "worst", "poor", "disappointed"),
        *("refund", "slow", "useless", "horrible", "annoyed", "late", "problem", "fail", "failed", "crash"),
        *("crashed", "unacceptable", "rude", "furious", "wrong"),
    }
)
_WORD = re.compile(r"[a-z']+")
_ARITHMETIC = re.compile(r"(-?\d+(?:\.\d+)?)\s*([-+*/x])\s*(-?\d+(?:\.\d+)?)")
_CODE_HINTS = ("code", "function", "python", "script", "program", "implement", "class ")


def count_tokens(text: str) -> int:
    """The emulator's token count: one token per word, at least one."""
    return max(1, len(text.split()))


def sentiment_scores(text: str) -> dict[str, float]:
    """positive/negative/neutral scores from a small lexicon; they sum to 1."""
    words = _WORD.findall(text.lower())
    positive = sum(word in POSITIVE_WORDS for word in words)
    negative = sum(word in NEGATIVE_WORDS for word in words)
    if positive == negative:
        return {"neutral": 0.8, "positive": 0.1, "negative": 0.1}
    lead = 0.6 + 0.35 * abs(positive - negative) / (positive + negative)
    rest = round((1.0 - lead) / 2, 4)
    winner, loser = ("positive", "negative") if positive > negative else ("negative", "positive")
    return {winner: round(lead, 4), "neutral": rest, loser: round(1.0 - lead - rest, 4)}


def sentiment_label(text: str) -> str:
    scores = sentiment_scores(text)
    return max(scores, key=scores.__getitem__)


def _arithmetic(text: str) -> str | None:
    match = _ARITHMETIC.search(text)
    if not match:
        return None
    left, operator, right = float(match.group(1)), match.group(2), float(match.group(3))
    if operator in "x*":
        value = left * right
    elif operator == "/":
        if right == 0:
            return None
        value = left / right
    else:
        value = left + right if operator == "+" else left - right
    return str(int(value)) if value == int(value) else f"{value:.6g}"


def answer_text(*, model: str, system: str, prompt: str, json_mode: bool) -> str:
    """The emulated reply to a prompt (the last user message) under a system text."""
    tag = f"[emulated {model}]"
    instructions = f"{system}\n{prompt}".lower()
    excerpt = " ".join(prompt.split())[:160]
    if json_mode:
        body = {"emulated": True, "model": model, "answer": f"{tag} {excerpt}", "sentiment": sentiment_label(prompt)}
        return json.dumps(body)
    if "sentiment" in instructions:
        return f"{tag} {sentiment_label(prompt)}"
    result = _arithmetic(prompt)
    if result is not None:
        return f"{tag} The answer is {result}."
    if any(hint in instructions for hint in _CODE_HINTS):
        return f"{tag} Here is the code:\n```python\ndef emulated_answer():\n    # {excerpt}\n    return None\n```"
    return f"{tag} A response to: {excerpt}"
