"""API clients per role: token clients, as partners and the centre's tools call."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from agencies.actions import ensure_api_user
from tests.conftest import agency


def token_client(user) -> APIClient:
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def api():
    """``api(user)`` -> an APIClient authenticating with the user's token."""
    return token_client


@pytest.fixture
def ccb_partner(db):
    """CCB's partner system: a token user made by the operator command's action."""
    user, _key = ensure_api_user(username="ccb-partner", agency=agency("CCB"), role="liaison")
    return user


def ago(**delta) -> str:
    """An ISO instant in Beijing time, ``delta`` before now: tests never depend on the calendar."""
    return timezone.localtime(timezone.now() - timedelta(**delta)).isoformat()


def case_body() -> dict:
    """The protocol's example case, reported an hour ago (computed when called, not at collection)."""
    return {
        "fraud_type": "fake_investment",
        "district": "wuhou",
        "channel": "hotline_96110",
        "reported_at": ago(hours=1),
        "loss_amount": "52000.00",
        "summary": "text",
        "victim": {"name": "张三", "id_number": "51010719900101123X", "phone": "13800000000"},
        "transfers": [
            {
                "from_account": "6222020200112233445",
                "from_bank": "ICBC",
                "to_account": "6217000010012345678",
                "to_bank": "CCB",
                "amount": "52000.00",
                "at": ago(hours=1, minutes=32),
            }
        ],
    }
