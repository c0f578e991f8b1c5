"""Warning clues: senders, stations and their sub-bureau."""

from __future__ import annotations

import pytest

from tests.conftest import make_user


@pytest.fixture
def yulin(db):
    """The liaison of Wuhou's Yulin police station (the roster's keyword 玉林)."""
    return make_user("t_yulin", "PS-WUHOU-YULIN", "liaison")


@pytest.fixture
def cuqiao(db):
    return make_user("t_cuqiao", "PS-WUHOU-CUQIAO", "liaison")


@pytest.fixture
def wuhou_bureau(db):
    return make_user("t_wuhou_bureau", "PSB-WUHOU", "liaison")


def clue(ref: str, **extra) -> dict:
    body = {
        "source_reference": ref,
        "phone": "13800000000",
        "name": "王五",
        "id_number": None,
        "district": "wuhou",
        "address": None,
        "level": "high",
        "reason": "transfer to a reported account",
        "identifier": {"kind": "bank_account", "value": "6217000010012345678"},
    }
    body.update(extra)
    return body
