"""The providers' wire formats (see PROVIDERS.md): reading a request, writing an answer or
an error body the way each vendor does, so the real SDKs parse them."""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass

from ai_providers.emulator.answers import answer_text, count_tokens, sentiment_scores

_ids = itertools.count(1)


class WireError(ValueError):
    """The request body is not what the vendor's API accepts: answered as a 400."""


@dataclass(frozen=True)
class ChatRequest:
    model: str
    system: str
    prompt: str  # the last user message
    all_text: str  # every message, for the prompt token count
    json_mode: bool


def _text_of(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def read_openai_chat(body: object) -> ChatRequest:
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body["messages"]:
        raise WireError("'messages' must be a non-empty list.")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise WireError("'model' is required.")
    messages = [m for m in body["messages"] if isinstance(m, dict)]
    system = "\n".join(_text_of(m.get("content")) for m in messages if m.get("role") == "system")
    users = [_text_of(m.get("content")) for m in messages if m.get("role") == "user"]
    response_format = body.get("response_format") or {}
    json_mode = isinstance(response_format, dict) and response_format.get("type") in {"json_object", "json_schema"}
    all_text = " ".join(_text_of(m.get("content")) for m in messages)
    if json_mode and response_format.get("type") == "json_object" and "json" not in all_text.lower():
        # As OpenAI and Groq answer: JSON mode needs the word in the conversation.
        raise WireError(
            "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'."
        )
    return ChatRequest(
        model=body["model"],
        system=system,
        prompt=users[-1] if users else "",
        all_text=all_text,
        json_mode=json_mode,
    )


def read_gemini(model: str, body: object) -> ChatRequest:
    if not isinstance(body, dict) or not isinstance(body.get("contents"), list) or not body["contents"]:
        raise WireError("'contents' must be a non-empty list.")

    def parts_text(item: object) -> str:
        parts = item.get("parts", []) if isinstance(item, dict) else []
        return " ".join(str(p.get("text", "")) for p in parts if isinstance(p, dict))

    contents = body["contents"]
    system = parts_text(body.get("systemInstruction") or body.get("system_instruction") or {})
    users = [parts_text(c) for c in contents if isinstance(c, dict) and c.get("role", "user") == "user"]
    config = body.get("generationConfig") or {}
    return ChatRequest(
        model=model,
        system=system,
        prompt=users[-1] if users else "",
        all_text=" ".join([system, *(parts_text(c) for c in contents)]),
        json_mode=config.get("responseMimeType") == "application/json",
    )


def read_classification(body: object) -> str:
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if isinstance(inputs, list) and inputs and all(isinstance(i, str) for i in inputs):
        inputs = inputs[0]
    if not isinstance(inputs, str):
        raise WireError("'inputs' must be a string.")
    return inputs


def reply_text(request: ChatRequest, *, bad_json: bool) -> str:
    if bad_json and request.json_mode:
        return f"[emulated {request.model}] this is not JSON"
    return answer_text(model=request.model, system=request.system, prompt=request.prompt, json_mode=request.json_mode)


def openai_chat_answer(request: ChatRequest, text: str) -> dict:
    prompt_tokens, completion_tokens = count_tokens(request.all_text), count_tokens(text)
    return {
        "id": f"chatcmpl-emulated-{next(_ids)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
        "system_fingerprint": "emulated",
    }


def gemini_answer(request: ChatRequest, text: str) -> dict:
    prompt_tokens, completion_tokens = count_tokens(request.all_text), count_tokens(text)
    return {
        "candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": completion_tokens,
            "totalTokenCount": prompt_tokens + completion_tokens,
        },
        "modelVersion": request.model,
    }


def openai_empty_answer(request: ChatRequest) -> dict:
    """No text: the output token limit ran out first (finish_reason "length")."""
    answer = openai_chat_answer(request, "")
    answer["choices"][0]["finish_reason"] = "length"
    return answer


def gemini_empty_answer(request: ChatRequest) -> dict:
    """What Gemini 2.5 sends when thinking spent the whole output token limit: a candidate
    with no parts, finishReason MAX_TOKENS, the thinking billed."""
    answer = gemini_answer(request, "")
    answer["candidates"][0] = {"content": {"role": "model"}, "finishReason": "MAX_TOKENS", "index": 0}
    answer["usageMetadata"]["thoughtsTokenCount"] = 1024
    return answer


def classification_answer(text: str) -> list:
    scores = sentiment_scores(text)
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    return [[{"label": label, "score": score} for label, score in ranked]]


_GEMINI_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
_MESSAGES = {
    400: "Invalid request (emulated fault).",
    401: "Invalid API key (emulated fault).",
    402: "Insufficient credits (emulated fault).",
    403: "Permission denied (emulated fault).",
    404: "Model not found (emulated fault).",
    429: "Rate limit reached, please retry later (emulated fault).",
}


def error_body(
    provider: str, status: int, *, quota: bool = False, retry_after: float | None = None, message: str | None = None
) -> dict:
    """The error body each vendor sends for a status; `quota` gives its quota-exhausted body."""
    custom = message
    message = custom or _MESSAGES.get(status, "Internal server error (emulated fault).")
    if provider == "gemini":
        if quota and not custom:
            message = "You exceeded your current quota, please check your plan and billing details (emulated)."
        error: dict = {"code": status, "message": message, "status": _GEMINI_STATUS.get(status, "INTERNAL")}
        if retry_after is not None:
            retry_info = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_after:g}s"}
            error["details"] = [retry_info]
        return {"error": error}
    if provider == "huggingface":
        if quota and not custom:
            message = "You have exceeded your monthly included credits for Inference Providers (emulated)."
        return {"error": message}
    if quota and provider == "groq":
        return {
            "error": {
                "message": "Rate limit reached on tokens per day (TPD): Limit 500000, Used 500000 (emulated).",
                "type": "tokens",
                "code": "rate_limit_exceeded",
            }
        }
    if quota and provider == "openrouter":
        return {"error": {"code": 402, "message": "Insufficient credits: this account has no credits left (emulated)."}}
    if quota:
        return {"error": {"message": "You exceeded your current quota (emulated).", "type": "insufficient_quota"}}
    return {"error": {"message": message, "type": "emulated_fault", "code": status}}


def groq_json_failure(generated: str) -> dict:
    return {
        "error": {
            "message": "Failed to generate JSON. Please adjust your prompt. See 'failed_generation' for more details.",
            "type": "invalid_request_error",
            "code": "json_validate_failed",
            "failed_generation": generated,
        }
    }


def quota_status(provider: str) -> int:
    """The status a vendor answers when the account's quota is spent."""
    return 402 if provider in {"openrouter", "huggingface"} else 429


def malformed_body() -> bytes:
    return b'{"choices": [{"message": {"content": "truncated'


def encode(data: object) -> bytes:
    return json.dumps(data).encode()
