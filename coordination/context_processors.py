"""What every page's template gets besides Django's own: the product's name."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import get_language


def product_name(language: str | None = None) -> str:
    """``settings.PRODUCT_NAME`` in ``language`` (default: the active one), else in Chinese."""
    names = settings.PRODUCT_NAME
    code = (language or get_language() or settings.LANGUAGE_CODE).lower()
    return names.get(code) or names.get(code.split("-")[0]) or names[settings.LANGUAGE_CODE]


def product(request) -> dict[str, str]:
    """``{{ product_name }}`` in the reader's language."""
    return {"product_name": product_name()}
