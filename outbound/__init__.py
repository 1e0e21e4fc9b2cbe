"""The one guarded HTTP client for user-supplied URLs (DESIGN §10)."""

from outbound.client import GuardedHttpClient, GuardedResponse, HttpCallError, guarded_client

__all__ = ["GuardedHttpClient", "GuardedResponse", "HttpCallError", "guarded_client"]
