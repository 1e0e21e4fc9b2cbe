"""Placeholder: replaced by the accounts work (cached JWT and API-key authentication)."""

from rest_framework_simplejwt.authentication import JWTAuthentication


class CachedJWTAuthentication(JWTAuthentication):
    pass


class ApiKeyAuthentication(JWTAuthentication):
    def authenticate(self, request):
        return None
