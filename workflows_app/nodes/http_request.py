from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from workflows_app.nodes.base import Node, NodeConfig, NodeContext, TemplateText, TemplateValue, node_type

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
MAX_TIMEOUT_S = 300


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
    """Calls a URL through the guarded client (DESIGN §10)."""

    secret_fields = frozenset({"headers", "query", "json", "body"})

    def run(self, ctx: NodeContext) -> Any:
        raise NotImplementedError("HTTP_REQUEST runs arrive with the guarded HTTP client.")
