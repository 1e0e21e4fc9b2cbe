"""Reading what a model answered: JSON out of text, a sentiment label out of a word or a
classifier's label, and the instructions that ask a chat model for either (the request
as each provider gets it, and the answer as the node returns it)."""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NoReturn

from ai_providers.errors import EmptyResponse, InvalidJsonResponse, InvalidSentimentResponse

if TYPE_CHECKING:
    from ai_providers.base import Completion, CompletionResult, Provider
    from ai_providers.router import ChainLink

JSON_INSTRUCTION = "Answer with one valid JSON object and nothing else."
SENTIMENT_INSTRUCTION = (
    "Classify the sentiment of the user's text. Answer with exactly one word: positive, negative or neutral."
)
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL | re.IGNORECASE)
_CLASSIFIER_LABELS = {
    # cardiffnlp/twitter-roberta-base-sentiment (the model card's LABEL_n order)
    "label_0": "negative",
    "label_1": "neutral",
    "label_2": "positive",
    # nlptown/bert-base-multilingual-uncased-sentiment
    "1 star": "negative",
    "2 stars": "negative",
    "3 stars": "neutral",
    "4 stars": "positive",
    "5 stars": "positive",
}
_WORDS = re.compile(r"[a-z]+")


class NotJson(ValueError):
    pass


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NotJson("a number JSON cannot represent")
    return value


def _no_constant(name: str) -> NoReturn:
    raise NotJson(f"{name} is not JSON")


def _strict_json(text: str) -> Any:
    """json.loads without Python's extensions (NaN, Infinity, 1e400 read as infinity),
    which no database stores: such an answer is not JSON, and is asked again."""
    return json.loads(text, parse_float=_finite, parse_constant=_no_constant)


def parse_json_answer(text: str) -> Any:
    """The JSON value in a model's answer, allowing a ```json fence around it."""
    match = _FENCE.match(text)
    candidate = match.group(1) if match else text.strip()
    try:
        return _strict_json(candidate)
    except ValueError:
        start, end = candidate.find("{"), candidate.rfind("}")
        if 0 <= start < end:
            try:
                return _strict_json(candidate[start : end + 1])
            except ValueError:
                pass
    raise NotJson("not JSON")


def sentiment_from_classifier_label(label: str) -> str | None:
    lowered = label.strip().lower()
    if lowered in _CLASSIFIER_LABELS:
        return _CLASSIFIER_LABELS[lowered]
    for prefix, mapped in (("pos", "positive"), ("neg", "negative"), ("neu", "neutral")):
        if lowered.startswith(prefix):
            return mapped
    return None


def sentiment_from_chat_answer(text: str) -> str | None:
    """The label a chat model's (ideally one-word) answer names; None when it names none or several."""
    found = {word for word in _WORDS.findall(text.lower()) if word in {"positive", "negative", "neutral"}}
    if len(found) == 1:
        return found.pop()
    return None


def prepared_for(request: Completion, provider: Provider, link: ChainLink) -> Completion:
    """The request as this provider/model gets it: its model, and the instruction that
    makes a chat model answer a sentiment word or a JSON object."""
    prepared = replace(request, model=link.model)
    if request.task_type == "sentiment_analysis":
        if provider.classifies(link.model):
            return prepared
        system = "\n\n".join(filter(None, [SENTIMENT_INSTRUCTION, request.system]))
        return replace(prepared, system=system)
    if request.response_format == "json":
        return replace(prepared, system="\n\n".join(filter(None, [request.system, JSON_INSTRUCTION])))
    return prepared


def interpreted(result: CompletionResult, request: Completion) -> CompletionResult:
    """Adds `json` or the sentiment `label`; raises InvalidModelResponse when the answer has neither."""
    if request.task_type == "sentiment_analysis":
        if result.label is None:  # a chat model answered: map its word, no score
            result.label, result.score = sentiment_from_chat_answer(result.text), None
        if result.label is None:
            raise InvalidSentimentResponse(result.provider, model=result.model)
        if request.response_format == "json":
            result.json = {"label": result.label, "score": result.score}
        return result
    if not result.text.strip():  # a thinking model can spend the whole output limit before it writes
        raise EmptyResponse(result.provider, model=result.model)
    if request.response_format == "json":
        try:
            result.json, result.has_json = parse_json_answer(result.text), True
        except NotJson:
            raise InvalidJsonResponse(result.provider, model=result.model) from None
    return result
