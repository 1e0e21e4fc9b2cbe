"""JWTs that die with the password they were issued under.

Every token carries the user's `token_generation` as the claim `gen`; a new password moves
the generation on (accounts_app/models.py), and a token of an older generation is refused
by the authentication class and by refresh. The claim is a plain counter: unlike
simplejwt's CHECK_REVOKE_TOKEN, it puts nothing derived from the password hash into a token
the client can read, and checking it needs no database read (the cached user has it).

Imported by the authentication classes, which DRF loads while rest_framework.views is
still importing: nothing here may import core.api."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework_simplejwt.tokens import RefreshToken

if TYPE_CHECKING:
    from rest_framework_simplejwt.tokens import Token

    from accounts_app.models import User

GENERATION_CLAIM = "gen"


# What a client is told when a token of before a password change comes back.
STALE_TOKEN_MESSAGE = "The password of this account was changed since this token was issued; log in again."


def refresh_token_for(user: User) -> RefreshToken:
    """A refresh token for the user; its access tokens copy the generation claim."""
    token = RefreshToken.for_user(user)
    token[GENERATION_CLAIM] = user.token_generation
    return token


def token_is_current(token: Token, user: User) -> bool:
    """False once the user's password changed after the token was issued. Tokens made
    before the claim existed count as generation 0."""
    return token.get(GENERATION_CLAIM, 0) == user.token_generation


def token_is_newer(token: Token, user: User) -> bool:
    """True when the token was issued under a later generation than this copy of the user
    knows: the copy is stale."""
    generation = token.get(GENERATION_CLAIM, 0)
    return isinstance(generation, int) and generation > user.token_generation
