"""The operator commands of the partner protocol: create_api_user and set_endpoint."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from agencies.models import Agency, User
from coordination.models import AuditRecord

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


def test_create_api_user_prints_the_same_token_on_rerun(client):
    key = run("create_api_user", "ccb-core", "--agency", "CCB", "--role", "liaison")
    assert key == Token.objects.get(user__username="ccb-core").key
    assert run("create_api_user", "ccb-core", "--agency", "CCB", "--role", "liaison") == key
    user = User.objects.get(username="ccb-core")
    assert (user.agency.code, user.role, user.has_usable_password()) == ("CCB", "liaison", False)
    assert AuditRecord.objects.filter(action="user.token_created", object_id=user.pk).count() == 1
    # The token works against the API and sees what a CCB liaison sees.
    response = client.get("/api/v1/tasks/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200


def test_create_api_user_refuses_bad_input():
    with pytest.raises(CommandError, match="No agency"):
        run("create_api_user", "x", "--agency", "NOPE", "--role", "liaison")
    with pytest.raises(CommandError):
        run("create_api_user", "x", "--agency", "CCB", "--role", "analyst")  # centre role outside AFC
    with pytest.raises(CommandError):
        run("create_api_user", "x", "--agency", "CCB", "--role", "king")
    assert not User.objects.filter(username="x").exists()


def test_set_endpoint_with_secret_prints_no_secret():
    out = run("set_endpoint", "CCB", "https://bank.example/hook", "--secret", "s3cr3t-value")
    assert "s3cr3t-value" not in out
    agency = Agency.objects.get(code="CCB")
    assert (agency.endpoint_url, agency.endpoint_secret) == ("https://bank.example/hook", "s3cr3t-value")


def test_set_endpoint_generates_and_prints_the_secret_once():
    out = run("set_endpoint", "CCB", "https://bank.example/hook")
    secret = Agency.objects.get(code="CCB").endpoint_secret
    assert len(secret) >= 32
    assert out.count(secret) == 1
    # Audit rows never carry the secret.
    record = AuditRecord.objects.filter(action="agency.set_endpoint").latest("id")
    assert secret not in str(record.after) and secret not in str(record.before)
    # A second run without --secret rotates it.
    run("set_endpoint", "CCB", "https://bank.example/hook")
    assert Agency.objects.get(code="CCB").endpoint_secret != secret


def test_set_endpoint_clear():
    run("set_endpoint", "CCB", "https://bank.example/hook", "--secret", "abc")
    assert "removed" in run("set_endpoint", "CCB", "--clear")
    agency = Agency.objects.get(code="CCB")
    assert (agency.endpoint_url, agency.endpoint_secret) == ("", "")
    assert AuditRecord.objects.filter(action="agency.clear_endpoint").exists()


def test_set_endpoint_refuses_bad_input():
    with pytest.raises(CommandError, match="No agency"):
        run("set_endpoint", "NOPE", "https://x.example/")
    with pytest.raises(CommandError):
        run("set_endpoint", "CCB")
    with pytest.raises(CommandError):
        run("set_endpoint", "CCB", "https://x.example/", "--clear")
    with pytest.raises(CommandError):
        run("set_endpoint", "CCB", "not a url")
    assert Agency.objects.get(code="CCB").endpoint_url == ""
