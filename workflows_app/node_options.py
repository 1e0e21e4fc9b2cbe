"""The pydantic models of a node's retry, timeout_s and on_error options in a definition."""

from __future__ import annotations

from typing import Literal

from django.conf import settings
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# The longest backoff a definition may ask for; the engine caps every wait by it.
MAX_BACKOFF_S = 3600.0


class _Retry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    max_attempts: int = Field(default=1, ge=1, le=10)
    backoff_s: float = Field(default=1.0, ge=0, le=MAX_BACKOFF_S)
    max_backoff_s: float = Field(default=60.0, ge=0, le=MAX_BACKOFF_S)

    @model_validator(mode="after")
    def _ordered(self) -> _Retry:
        if self.max_backoff_s < self.backoff_s:
            raise ValueError("max_backoff_s must not be below backoff_s")
        return self


class _NodeOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    retry: _Retry | None = None
    timeout_s: float | None = Field(default=None, gt=0)
    on_error: Literal["fail", "continue"] = "fail"

    @field_validator("timeout_s")
    @classmethod
    def _within_execution(cls, value: float | None) -> float | None:
        # The workflow's own timeout_s (definition.py) bounds it further.
        limit = settings.SWITCHBOARD.max_suspend_s
        if value is not None and value > limit:
            raise ValueError(f"timeout_s may be at most {limit:g} (30 days)")
        return value


# The classes keep their old names, which pydantic shows in messages ("... instance of
# _Retry") that clients may match; these are the names the code uses.
RetryOptions = _Retry
NodeOptions = _NodeOptions
