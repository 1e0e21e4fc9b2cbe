"""gunicorn's access log without URL tokens: a hook's URL (`/hooks/<token>`) and a signed
approval link (`/approvals/<token>`) are credentials, so every atom of the access line
(request line, path, raw URI, referer, environ) shows `/hooks/<redacted>` or
`/approvals/<redacted>` instead. Used by the Procfile's web entry
(`--logger-class core.access_log.RedactingLogger`)."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from core.log_filters import redact_hook_tokens


class RedactingLogger(Logger):  # type: ignore[misc]  # gunicorn ships no type hints
    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        found: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {name: redact_hook_tokens(value) if isinstance(value, str) else value for name, value in found.items()}
