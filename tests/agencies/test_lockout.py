"""Login lockout: per account whatever the address, per address across accounts, audited once."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from coordination.models import AuditRecord
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "pw-12345678"


def attempt(client, username, password="wrong-password", ip="10.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_an_account_locks_whatever_the_address(client, analyst):
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, analyst.username, ip=f"10.0.0.{n + 1}")  # a new address every time
    refused = attempt(client, analyst.username, PASSWORD, ip="10.9.9.9")
    assert refused.status_code == 429
    body = refused.content.decode()
    assert "登录失败次数过多" in body and "此账户" in body
    assert "_auth_user_id" not in client.session
    # Another account from the same addresses still logs in.
    other = make_user("t_other", "AFC", "analyst")
    assert attempt(client, other.username, PASSWORD, ip="10.0.0.1").status_code == 302


def test_an_address_locks_across_accounts(client, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 6
    users = [make_user(f"t_guess{n}", "CCB", "liaison") for n in range(4)]
    # Two guesses at each of three accounts: no account reaches its limit of 5, but the
    # address's sixth failure locks it...
    codes = [attempt(client, user.username, ip="10.1.1.1").status_code for user in users[:3] for _ in range(2)]
    assert codes == [200] * 5 + [429]
    # ...and even a right password for a fourth account is refused from it.
    refused = attempt(client, users[3].username, PASSWORD, ip="10.1.1.1")
    assert refused.status_code == 429
    assert "网络地址" in refused.content.decode()
    # The same account from elsewhere is not held back.
    assert attempt(client, users[3].username, PASSWORD, ip="10.2.2.2").status_code == 302


def test_below_the_limits_the_form_says_what_is_wrong(client, analyst):
    response = attempt(client, analyst.username)
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()


def test_a_success_clears_only_that_account(client, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 5
    mine = make_user("t_mine", "CCB", "liaison")
    victim = make_user("t_victim", "CCB", "liaison")
    for _ in range(4):
        attempt(client, victim.username, ip="10.3.3.3")
    # Logging in to one's own account does not wipe the address's count of guesses at others.
    assert attempt(client, mine.username, PASSWORD, ip="10.3.3.3").status_code == 302
    client.logout()
    attempt(client, victim.username, ip="10.3.3.3")
    assert attempt(client, mine.username, PASSWORD, ip="10.3.3.3").status_code == 429


def test_each_lock_is_audited_once(client, analyst, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT + 3):
        attempt(client, analyst.username, ip="10.4.4.4")
    rows = list(AuditRecord.objects.filter(action="auth.lockout"))
    assert len(rows) == 1
    row = rows[0]
    assert row.user_name == "system" and row.object_type == "agencies.user" and row.object_id == analyst.pk
    assert row.after["scope"] == "account"
    assert row.after["username"] == analyst.username and row.after["ip_address"] == "10.4.4.4"
    assert row.after["minutes"] == 15


def test_the_lockout_page_speaks_english(client, analyst):
    client.cookies["django_language"] = "en"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, analyst.username)
    body = attempt(client, analyst.username, PASSWORD).content.decode()
    assert "This account is locked for 15 minutes" in body
