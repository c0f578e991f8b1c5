"""No log line of the platform carries a whole resident ID, phone or account number."""

from __future__ import annotations

import copy
import io
import logging
import logging.config
from datetime import timedelta

import pytest
from django.urls import reverse
from gunicorn.config import Config

from coordination import settings as production
from coordination.gunicorn_logging import AccessLogger
from coordination.logs import MaskPersonalData, mask_every_handler, mask_text, redact_uri, unmasked_handlers

RESIDENT_ID = "51010719900101123X"
PHONE = "13912345678"
ACCOUNT = "6217000010012345678"


@pytest.mark.parametrize(
    ("text", "kept", "gone"),
    [
        (f"id {RESIDENT_ID} end", "510*************3X", RESIDENT_ID),
        (f"phone={PHONE}&x=1", "139****5678", PHONE),
        ("tel +8613912345678.", "+86139****5678", "13912345678"),
        ("value=%2B8613912345678", "%2B86139****5678", "13912345678"),
        (f"/api/v1/identifiers/lookup/?kind=bank_account&value={ACCOUNT}", "6217***********5678", ACCOUNT),
        ("card 6217 0000 1001 2345 678 paid", "6217", "1001 2345"),
    ],
)
def test_mask_text_hides_the_middle(text, kept, gone):
    masked = mask_text(text)
    assert gone not in masked
    assert kept in masked


def test_mask_text_leaves_short_numbers_alone():
    line = "delivery 3f2a-11 attempt 3 took 1250 ms; 14 tasks overdue; case 2026-000123"
    assert mask_text(line) == line


def test_redact_uri_drops_identifier_queries_and_masks_the_rest():
    assert redact_uri(f"/api/v1/identifiers/lookup/?kind=phone&value={PHONE}") == "/api/v1/identifiers/lookup/"
    assert redact_uri(f"/cases/?q={ACCOUNT}&page=2") == "/cases/"
    assert redact_uri(f"/api/v1/tasks/?target={ACCOUNT}") == "/api/v1/tasks/"
    assert redact_uri("/cases/?status=open&cursor=abc") == "/cases/?status=open&cursor=abc"
    assert ACCOUNT not in redact_uri(f"/cases/{ACCOUNT}/")


def _environ(uri: str, referer: str = "-") -> dict:
    path, _, query = uri.partition("?")
    return {
        "REQUEST_METHOD": "GET",
        "RAW_URI": uri,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": referer,
        "HTTP_USER_AGENT": "partner/1.0",
    }


class _Response:
    status = "200 OK"
    sent = 42
    headers = [("Content-Type", "application/json")]


def test_gunicorn_access_log_has_no_identifier(capsys):
    """The line gunicorn writes for a GET lookup and a search page: paths only."""
    cfg = Config()
    cfg.set("accesslog", "-")
    logger = AccessLogger(cfg)
    lookup = f"/api/v1/identifiers/lookup/?kind=bank_account&value={ACCOUNT}"
    search = f"http://127.0.0.1:8000/cases/?q={PHONE}"
    environ = _environ(lookup, referer=search)
    logger.access(_Response(), [("REFERER", search)], environ, timedelta(milliseconds=3))
    environ = _environ(f"/cases/{ACCOUNT}/")
    logger.access(_Response(), [], environ, timedelta(milliseconds=3))
    out = capsys.readouterr().out
    assert "GET /api/v1/identifiers/lookup/ HTTP/1.1" in out
    assert '"http://127.0.0.1:8000/cases/"' in out
    assert ACCOUNT not in out and PHONE not in out
    assert "/cases/6217***********5678/" in out
    assert not [h for h in logging.getLogger("gunicorn.access").handlers if h not in _masked()]


def _masked():
    loggers = (logging.getLogger("gunicorn.access"), logging.getLogger("gunicorn.error"))
    return [h for log in loggers for h in log.handlers if any(isinstance(f, MaskPersonalData) for f in h.filters)]


def test_every_handler_has_the_filter():
    """Django's own handlers (django.server, mail_admins) got it in AppConfig.ready."""
    assert logging.getLogger("django.server").handlers
    assert unmasked_handlers() == []


@pytest.fixture
def production_logs():
    """``settings.LOGGING`` as deployed, its console writing to a buffer; restored after."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    buffer = io.StringIO()
    config = copy.deepcopy(production.LOGGING)
    config["handlers"]["console"]["stream"] = buffer
    logging.config.dictConfig(config)
    mask_every_handler()
    try:
        assert unmasked_handlers() == []
        yield buffer
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)


@pytest.mark.django_db
def test_a_flow_with_personal_numbers_logs_them_masked(client, analyst, production_logs):
    """A phone typed as a user name, an account in a path, a traceback naming an ID."""
    client.post(reverse("login"), {"username": PHONE, "password": "wrong-password"})
    client.force_login(analyst)
    client.get(f"/cases/{ACCOUNT}/")  # 404: Django logs "Not Found: <path>"
    try:
        raise ValueError(f"bad resident ID {RESIDENT_ID}")
    except ValueError:
        logging.getLogger("cases").exception("intake failed for %s", PHONE)
    out = production_logs.getvalue()
    assert "AXES" in out and "Not Found" in out and "Traceback" in out, out
    for value in (PHONE, ACCOUNT, RESIDENT_ID):
        assert value not in out, out
    assert "139****5678" in out and "6217***********5678" in out and "510*************3X" in out
