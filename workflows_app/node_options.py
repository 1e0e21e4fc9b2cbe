"""The pydantic models of a node's retry, timeout_s and on_error options in a definition."""

from __future__ import annotations

from typing import Literal

from django.conf import settings
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# The class names stay as they were: pydantic names them in messages ("... instance of _Retry").
__all__ = ["_NodeOptions", "_Retry"]


class _Retry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    max_attempts: int = Field(1, ge=1, le=10)
    backoff_s: float = Field(1.0, ge=0, le=3600)
    max_backoff_s: float = Field(60.0, ge=0, le=3600)

    @model_validator(mode="after")
    def _ordered(self) -> _Retry:
        if self.max_backoff_s < self.backoff_s:
            raise ValueError("max_backoff_s must not be below backoff_s")
        return self


class _NodeOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    retry: _Retry | None = None
    timeout_s: float | None = Field(None, gt=0)
    on_error: Literal["fail", "continue"] = "fail"

    @field_validator("timeout_s")
    @classmethod
    def _within_execution(cls, value: float | None) -> float | None:
        limit = settings.SWITCHBOARD["EXECUTION_TIMEOUT_S"]
        if value is not None and value > limit:
            raise ValueError(f"timeout_s may be at most {limit:g} (the execution's own limit)")
        return value
