"""The one guarded HTTP client for user-supplied URLs (docs/architecture.md, Security)."""

from outbound.client import GuardedHttpClient, GuardedResponse, guarded_client
from outbound.errors import HttpCallError

__all__ = ["GuardedHttpClient", "GuardedResponse", "HttpCallError", "guarded_client"]
