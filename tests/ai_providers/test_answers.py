"""What a caller gets back: JSON, sentiment labels, usage, cost, the cache, the node output."""

from __future__ import annotations

import pytest

from ai_providers.base import Completion, CompletionResult
from ai_providers.errors import EmptyResponse, InvalidJsonResponse
from ai_providers.health import provider_status
from ai_providers.interpret import NotJson, interpreted, parse_json_answer
from ai_providers.services import complete_with_fallback


def call(task_type: str = "content_generation", attempts: list[dict] | None = None, **request: object):
    user_id = request.pop("user_id", 3)
    return complete_with_fallback(
        task_type=task_type,
        request=Completion(prompt=request.pop("prompt", "Summarise the ticket"), **request),
        user_id=user_id,
        attempt_log=attempts if attempts is not None else [],
    )


@pytest.mark.server
@pytest.mark.parametrize(
    ("task_type", "provider"),
    [("content_generation", "gemini"), ("quick_decision", "groq"), ("code_generation", "openrouter")],
)
def test_json_mode_answers_a_parsed_object(ai_settings, task_type, provider):
    result = call(task_type, response_format="json")
    assert result.provider == provider
    assert isinstance(result.json, dict)
    assert result.json["emulated"] is True
    assert result.as_output()["json"] == result.json


@pytest.mark.server
def test_json_mode_through_hugging_face_chat(ai_settings):
    result = complete_with_fallback(
        task_type="content_generation",
        request=Completion(prompt="Give me data", response_format="json"),
        chain_override=["huggingface/meta-llama/Llama-3.1-8B-Instruct"],
        user_id=3,
        attempt_log=[],
    )
    assert result.json["model"] == "meta-llama/Llama-3.1-8B-Instruct"


@pytest.mark.server
def test_an_answer_that_is_not_json_is_retried_once_on_the_next_provider(ai_settings, emulator):
    emulator.fault(provider="gemini", bad_json=True)
    attempts: list[dict] = []
    result = call(attempts=attempts, response_format="json")
    assert result.provider == "openrouter"
    assert result.json["emulated"] is True
    assert [a.get("error_code") for a in attempts] == ["invalid_json", None]


@pytest.mark.server
def test_a_lone_provider_that_answers_bad_json_is_asked_again(ai_settings, emulator):
    ai_settings["PROVIDERS"]["groq"]["quotas"]["tpm"] = 100_000
    emulator.fault(provider="groq", bad_json=True, times=1)
    attempts: list[dict] = []
    result = complete_with_fallback(
        task_type="quick_decision",
        request=Completion(prompt="yes or no", response_format="json"),
        chain_override=["groq/llama-3.1-8b-instant"],
        user_id=3,
        attempt_log=attempts,
    )
    assert result.json is not None
    assert [(a["provider"], a.get("error_code")) for a in attempts] == [("groq", "invalid_json"), ("groq", None)]
    # Groq generated the refused answer too: its reserved tokens stay counted, not only the answer's.
    used = result.usage.input_tokens + result.usage.output_tokens
    groq = next(s for s in provider_status() if s["provider"] == "groq")
    assert groq["quota_left"]["tpm"] < 100_000 - used


@pytest.mark.server
def test_json_that_stays_invalid_fails_the_call(ai_settings, emulator):
    emulator.fault(provider="gemini", bad_json=True)
    emulator.fault(provider="openrouter", bad_json=True)
    attempts: list[dict] = []
    with pytest.raises(InvalidJsonResponse) as caught:
        call(attempts=attempts, response_format="json")
    assert caught.value.retryable is False
    assert caught.value.code == "invalid_json"
    assert [a.get("error_code") for a in attempts] == ["invalid_json", "invalid_json"]


@pytest.mark.server
@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("The delivery was late and the box was broken. Terrible.", "negative"),
        ("Great service, thanks a lot!", "positive"),
        ("The parcel arrived on Tuesday.", "neutral"),
    ],
)
def test_sentiment_from_the_hugging_face_classifier_has_a_label_and_a_score(ai_settings, text, label):
    result = call("sentiment_analysis", prompt=text)
    assert result.provider == "huggingface"
    assert result.label == label
    assert isinstance(result.score, float)
    assert 0.5 < result.score <= 1
    output = result.as_output()
    assert (output["label"], output["score"]) == (label, result.score)


@pytest.mark.server
def test_sentiment_from_the_chat_backup_has_a_label_and_no_score(ai_settings, emulator):
    emulator.fault(provider="huggingface", status=503)
    attempts: list[dict] = []
    result = call("sentiment_analysis", attempts, prompt="I hate waiting, this is awful")
    assert (result.provider, result.label, result.score) == ("gemini", "negative", None)
    assert result.as_output()["score"] is None
    assert [a["provider"] for a in attempts] == ["huggingface", "gemini"]


@pytest.mark.server
@pytest.mark.parametrize("response_format", ["text", "json"])
def test_sentiment_from_an_openai_compatible_chat_model(ai_settings, response_format):
    # In JSON it is still one word asked for, not the vendor's JSON mode (which OpenAI and
    # Groq refuse when no message mentions JSON); the label's JSON is built here.
    result = complete_with_fallback(
        task_type="sentiment_analysis",
        request=Completion(prompt="Fantastic, I love it", response_format=response_format),
        chain_override=["openai_compatible/llama3.2"],
        user_id=3,
        attempt_log=[],
    )
    assert (result.label, result.score) == ("positive", None)
    assert result.json == (None if response_format == "text" else {"label": "positive", "score": None})


@pytest.mark.server
def test_usage_cost_and_latency_are_on_the_result_and_in_the_counters(ai_settings):
    prompt = "one two three four five six"
    result = call(prompt=prompt)
    assert result.usage.input_tokens == 6  # the emulator counts words
    assert result.usage.output_tokens == len(result.text.split())
    input_price, output_price = ai_settings["PRICES"]["gemini/gemini-2.5-flash"]
    expected = (result.usage.input_tokens * input_price + result.usage.output_tokens * output_price) / 1e6
    assert result.cost_usd == pytest.approx(expected)
    assert result.cost_usd > 0
    output = result.as_output()
    assert output["usage"] == {"input_tokens": 6, "output_tokens": result.usage.output_tokens}
    assert output["cost_usd"] == result.cost_usd
    assert output["emulated"] is True

    call(prompt=prompt)
    gemini = next(s for s in provider_status() if s["provider"] == "gemini")
    assert gemini["calls"] == 2
    assert gemini["input_tokens"] == 12
    assert gemini["cost_usd"] == pytest.approx(2 * expected, abs=1e-6)
    assert gemini["latency_p50_ms"] is not None
    assert gemini["latency_p95_ms"] >= gemini["latency_p50_ms"]
    assert gemini["error_rate"] == 0.0


@pytest.mark.server
def test_errors_are_counted_by_code(ai_settings, emulator):
    emulator.fault(provider="gemini", status=500, times=1)
    call()
    call()
    gemini = next(s for s in provider_status() if s["provider"] == "gemini")
    assert (gemini["calls"], gemini["errors"], gemini["error_rate"]) == (2, 1, 0.5)
    assert gemini["errors_by_code"] == {"server_error": 1}


@pytest.mark.server
def test_the_response_cache_answers_a_repeated_deterministic_call(ai_settings, emulator):
    ai_settings["RESPONSE_CACHE_TTL_S"] = 60
    first = call(prompt="Same question", temperature=0)
    attempts: list[dict] = []
    second = call(attempts=attempts, prompt="Same question", temperature=0)
    assert second.text == first.text
    assert second.cached is True
    assert attempts[0].get("cached") is True
    assert emulator.calls() == 1
    # Nothing was spent on it, and the node's output says why.
    assert first.cost_usd > 0 and first.usage.output_tokens > 0
    assert (second.usage.input_tokens, second.usage.output_tokens, second.cost_usd) == (0, 0, 0.0)
    assert second.as_output()["cached"] is True and "cached" not in first.as_output()
    call(prompt="Same question", temperature=0, user_id=4)  # another user's answers are their own
    assert emulator.calls() == 2
    call(prompt="Same question", temperature=0.7)  # not deterministic: never cached
    call(prompt="Another question", temperature=0)
    assert emulator.calls() == 4


@pytest.mark.server
def test_the_response_cache_is_off_by_default(ai_settings, emulator):
    call(prompt="Same question", temperature=0)
    call(prompt="Same question", temperature=0)
    assert emulator.calls() == 2


@pytest.mark.parametrize("answer", ['{"score": NaN}', '{"score": 1e400}', '{"score": -Infinity}'])
def test_an_answer_with_a_number_json_cannot_represent_is_not_json(answer):
    """Python's json reads these; no database stores them. Asked again, like any answer
    that is not JSON, instead of failing the node when its output is recorded."""
    with pytest.raises(NotJson):
        parse_json_answer(answer)
    assert parse_json_answer('```json\n{"score": 0.5}\n```') == {"score": 0.5}


@pytest.mark.server
def test_an_empty_answer_is_asked_again_then_fails_saying_why(ai_settings, emulator):
    """Gemini 2.5 can spend the whole output limit thinking and send no text: that is not
    an answer. The next provider is asked; two empty answers fail the call."""
    emulator.fault(provider="gemini", empty=True)
    attempts: list[dict] = []
    result = call(attempts=attempts)
    assert result.provider == "openrouter" and result.text
    codes = [(a["provider"], a.get("error_code")) for a in attempts]
    assert codes == [("gemini", "empty_response"), ("openrouter", None)]

    emulator.fault(provider="openrouter", empty=True)
    with pytest.raises(EmptyResponse) as caught:
        call()
    assert caught.value.code == "empty_response" and "max_tokens" in caught.value.message


def test_a_json_answer_of_null_is_still_the_json_output():
    result = interpreted(
        CompletionResult(text="null", provider="groq", model="m"), Completion(prompt="x", response_format="json")
    )
    assert result.as_output()["json"] is None and "json" in result.as_output()
