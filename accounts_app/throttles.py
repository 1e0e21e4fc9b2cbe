"""Placeholder: replaced by the accounts work."""

from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class UserOrKeyRateThrottle(UserRateThrottle):
    pass


class AnonAddressRateThrottle(AnonRateThrottle):
    pass
