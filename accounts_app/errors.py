"""Errors of the accounts API, each with a stable code (answered as the JSON error shape)."""

from __future__ import annotations

from core.api import AppError


class InvalidCredentials(AppError):
    # One answer for a wrong password, an unknown user and a deactivated one, so the
    # login form does not tell which usernames exist.
    status_code = 401
    code = "invalid_credentials"
    message = "No active account found with the given credentials."


class InvalidRefreshToken(AppError):
    status_code = 401
    code = "token_not_valid"
    message = "The refresh token is invalid, expired or already used."


class RegistrationClosed(AppError):
    status_code = 403
    code = "registration_closed"
    message = "Registration is closed on this server; ask an administrator for an account."


class LoginRequired(AppError):
    status_code = 403
    code = "login_required"
    message = "Creating API keys needs a login (Bearer token), not an API key."
