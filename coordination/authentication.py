"""The API's token authentication (its own module: DRF's settings import it early)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, reading the user's agency in the same query.

    Every answer that shows personal data in full writes a read-audit row naming the
    caller's agency (``coordination.reads``); joined here, that costs no query of its own.
    """

    def authenticate_credentials(self, key):
        try:
            token = self.get_model().objects.select_related("user__agency").get(key=key)
        except self.get_model().DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)
