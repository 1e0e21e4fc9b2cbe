"""HTTP_REQUEST: one call through the guarded client (docs/architecture.md, Security), at least once, with
`Idempotency-Key: <execution id>:<node id>` so a server can tell a retry from a new call."""

from __future__ import annotations

import email.utils
import json
import logging
import re
import time
from collections.abc import Iterable
from typing import Any, Literal

from django.conf import settings
from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from outbound.errors import HttpCallError
from outbound.redaction import Redactor
from workflows_app.expressions import ExpressionError, Template
from workflows_app.nodes.base import Node, NodeConfig, NodeContext, TemplateText, TemplateValue, node_type

logger = logging.getLogger(__name__)

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
MAX_TIMEOUT_S = 300
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
# Set by the client from the URL and body; a node cannot override how a message is framed.
FRAMING_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer", "keep-alive"}
)


class HttpRequestConfig(NodeConfig):
    method: Method = "GET"
    url: TemplateText
    headers: dict[str, TemplateText] | None = None
    query: dict[str, TemplateText] | None = None
    json_body: TemplateValue = Field(None, alias="json")
    body: TemplateText | None = None
    timeout_s: float | None = Field(None, gt=0, le=MAX_TIMEOUT_S)
    expect_status: int | list[int] | None = None

    @field_validator("method", mode="before")
    @classmethod
    def _upper_method(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: Any) -> Any:
        # A templated URL is checked when it is rendered; a fixed one can be checked now.
        if url.node_refs or url.secret_refs or "{{" in url.source:
            return url
        if not url.source.lower().startswith(("http://", "https://")):
            raise ValueError("the URL must start with http:// or https://")
        return url

    @field_validator("headers")
    @classmethod
    def _header_names(cls, headers: dict[str, Any] | None) -> dict[str, Any] | None:
        for name in headers or {}:
            if not HEADER_NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not a valid header name")
            if name.lower() in FRAMING_HEADERS or name.lower().startswith("proxy-"):
                raise ValueError(f"the {name} header is set by the client, not by the node")
        return headers

    @field_validator("expect_status")
    @classmethod
    def _statuses(cls, value: int | list[int] | None) -> int | list[int] | None:
        codes = [value] if isinstance(value, int) else (value or [])
        if any(not 100 <= code <= 599 for code in codes):
            raise ValueError("status codes are from 100 to 599")
        if isinstance(value, list) and not value:
            raise ValueError("list at least one status code")
        return value

    @model_validator(mode="after")
    def _one_body(self) -> HttpRequestConfig:
        if self.json_body is not None and self.body is not None:
            raise PydanticCustomError("json_and_body", "give either json or body, not both", {"at": ("body",)})
        return self


@node_type("HTTP_REQUEST")
class HttpRequest(Node[HttpRequestConfig]):
    """Calls a URL through the guarded client (docs/architecture.md, Security)."""

    secret_fields = frozenset({"headers", "query", "json", "body"})
    # `json` when the response is JSON and parses, `text` otherwise; secrets are redacted.
    output_schema = {
        "type": "object",
        "properties": {
            "status": {"type": "integer"},
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "json": {"description": "The parsed JSON body."},
            "text": {"type": "string"},
        },
        "required": ["status", "headers"],
        "oneOf": [{"required": ["json"]}, {"required": ["text"]}],
    }

    def run(self, ctx: NodeContext) -> Any:
        missing, unreadable = getattr(ctx.secrets, "missing", ()), getattr(ctx.secrets, "unreadable", ())
        if missing:
            names = ", ".join(missing)
            raise HttpCallError("credential_missing", f"No credential named {names}; create it under /api/credentials.")
        if unreadable:
            message = f"The credential {', '.join(unreadable)} cannot be decrypted: check SWITCHBOARD_CREDENTIALS_KEY."
            raise HttpCallError("credential_unreadable", message)
        redactor = Redactor(escaped_forms(ctx.secrets.values()))
        try:
            return self.call(ctx, redactor)
        except HttpCallError as exc:
            message = redactor.text(exc.message)
            raise HttpCallError(exc.code, message, retryable=exc.retryable, retry_after_s=exc.retry_after_s) from None
        except ExpressionError as exc:
            raise HttpCallError("expression_error", redactor.text(str(exc))) from None
        except Exception as exc:
            # Not classify()'s traceback: an unforeseen error's text may hold a secret.
            message = redactor.text(f"{type(exc).__name__}: {exc}")[:500]
            logger.error("HTTP_REQUEST %s failed unexpectedly: %s", self.id, message)
            raise HttpCallError("http_request_failed", message, retryable=True) from None

    def call(self, ctx: NodeContext, redactor: Any) -> dict[str, Any]:
        config = self.config
        headers = {name: ctx.render_text(value) for name, value in (config.headers or {}).items()}
        lower_names = {name.lower() for name in headers}
        if "idempotency-key" not in lower_names:
            headers["Idempotency-Key"] = f"{ctx.execution_id}:{self.id}"
        body = ctx.render_text(config.body) if config.body is not None else None
        if body is not None and "content-type" not in lower_names:
            headers["Content-Type"] = "text/plain; charset=utf-8"
        params = {name: ctx.render_text(value) for name, value in (config.query or {}).items()}
        json_body = ctx.render(config.json_body) if config.json_body is not None else None
        # What a template made of a secret (`secrets.T | upper`, `'Basic ' ~ secrets.T`) is
        # as secret as the secret, should the server echo it. One that holds a secret as it
        # is ("Bearer <secret>") is covered by the secret's own redaction, which keeps the
        # rest readable ("Bearer [redacted]"). Most nodes use no credential: nothing to walk.
        secrets = [value for value in ctx.secrets.values() if value]
        if secrets:
            compiled = (config.headers or {}, config.query or {}, config.json_body, config.body)
            made = made_of_secrets(compiled, (headers, params, json_body, body))
            redactor.add(escaped_forms([text for text in made if not any(value in text for value in secrets)]))
        response = ctx.ports.http.request(
            config.method,
            ctx.render_text(config.url),
            headers=headers,
            params=params,
            json=json_body,
            content=body,
            timeout_s=config.timeout_s,
            deadline=ctx.deadline,
            # What carries a secret is meant for the first server only: the client drops such
            # headers on a redirect to another origin and refuses one that would take the
            # body or a query value there.
            origin_bound_headers=[name for name, value in (config.headers or {}).items() if value.secret_refs],
            origin_bound_params=[name for name, value in (config.query or {}).items() if value.secret_refs],
            origin_bound_body=holds_secret(config.json_body) or holds_secret(config.body),
        )
        text = response.text()
        self.check_status(response, text, redactor)
        output: dict[str, Any] = {"status": response.status, "headers": redactor.value(dict(response.headers.items()))}
        if response.is_json():
            try:
                output["json"] = redactor.value(json.loads(text))
                return output
            except ValueError:
                pass
        output["text"] = redactor.text(text)
        return output

    def expected(self, status: int) -> bool:
        expect = self.config.expect_status
        if expect is None:
            return 200 <= status < 300
        return status == expect if isinstance(expect, int) else status in expect

    def check_status(self, response: Any, text: str, redactor: Any) -> None:
        status = response.status
        if self.expected(status):
            return
        retryable = status >= 500 or status == 429
        wanted = "a 2xx status" if self.config.expect_status is None else f"status {self.config.expect_status}"
        # Redacted before it is cut short or its spacing folded, so no part of a secret survives.
        excerpt = " ".join(redactor.text(text)[:300].split())
        message = f"{self.config.method} {response.safe_url()} answered {status}, not {wanted}."
        if excerpt:
            message += f" The response began: {excerpt}"
        raise HttpCallError(
            "http_status",
            redactor.text(message),
            retryable=retryable,
            retry_after_s=retry_after_s(response.headers.get("retry-after")) if retryable else None,
        )


def holds_secret(value: Any) -> bool:
    """Whether a compiled config value (a template, or JSON whose strings are templates)
    references `secrets`."""
    if isinstance(value, Template):
        return bool(value.secret_refs)
    if isinstance(value, dict):
        return any(holds_secret(child) for child in value.values())
    if isinstance(value, list):
        return any(holds_secret(child) for child in value)
    return False


# A shorter result of a secret's template (its length, a flag) would blank out ordinary
# text wherever it appears; such a fragment says little of the secret.
MIN_DERIVED_CHARS = 8


def made_of_secrets(compiled: Any, rendered: Any) -> list[str]:
    """The rendered values of the templates in `compiled` that reference `secrets`, walking
    both structures side by side."""
    if isinstance(compiled, Template):
        if not compiled.secret_refs or rendered is None:
            return []
        text = rendered if isinstance(rendered, str) else json.dumps(rendered)
        return [text] if len(text) >= MIN_DERIVED_CHARS else []
    pairs: Iterable[tuple[Any, Any]] = ()
    if isinstance(compiled, dict) and isinstance(rendered, dict):
        pairs = ((child, rendered.get(key)) for key, child in compiled.items())
    elif isinstance(compiled, list | tuple) and isinstance(rendered, list | tuple):
        pairs = zip(compiled, rendered, strict=False)
    return [text for child, value in pairs for text in made_of_secrets(child, value)]


def escaped_forms(secrets: Iterable[str]) -> list[str]:
    """Each secret as sent and as an error's text may quote it: a str or bytes repr escapes
    line breaks, backslashes, quotes and non-ASCII, which plain redaction would miss."""
    forms = []
    for value in secrets:
        if value:
            forms += [value, repr(value)[1:-1], ascii(value)[1:-1], repr(value.encode(errors="replace"))[2:-1]]
    return forms


def retry_after_s(value: str | None) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date), capped by
    SWITCHBOARD_HTTP_MAX_RETRY_AFTER_S; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError):
            return None
    return max(0.0, min(seconds, settings.SWITCHBOARD.http_max_retry_after_s))
