"""Shared fixtures: reference data, one user per role, and objects built through actions."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from agencies.actions import create_user
from agencies.models import Agency, User
from cases import actions
from cases.models import Channel, District, FraudType

# --- the platform's own database role (coordination.dbroles, docs/adr/0008) ------------

# (owner, app) role names once the session restricted itself; None if it could not.
RESTRICTED_ROLES: tuple[str, str] | None = None
# The superuser's URL (its database name is replaced by the test database's), when there is one.
SUPERUSER_URL: str | None = None


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """The test databases are made and migrated by the owner role; the tests then run as the app role.

    ``DATABASE_OWNER_URL`` set: its role is the owner, ``DATABASE_URL``'s the app role.
    Else, with ``DATABASE_URL`` a superuser's (this machine, CI, the embedded server), the
    two roles of its database are made here (``dbroles.provision``). Either way the
    suite runs as the restricted role, as the platform does.
    """
    global RESTRICTED_ROLES, SUPERUSER_URL
    from django.conf import settings
    from django.db import connections

    from coordination import dbroles

    connection = connections["default"]
    config = connection.settings_dict
    if settings.DATABASE_OWNER.get("USER"):
        owner, app = settings.DATABASE_OWNER["USER"], config["USER"]
    else:
        url = _url_of(config, config["NAME"])
        if not dbroles.is_superuser(url):
            return  # one role, not a superuser: nothing to restrict (the role tests fail)
        dbroles.provision(url, adopt=False)
        SUPERUSER_URL = url
        owner, app = dbroles.role_names(config["NAME"])
        settings.DATABASE_OWNER = {
            "USER": owner,
            "PASSWORD": config.get("PASSWORD", ""),
            "HOST": config.get("HOST", ""),
            "PORT": config.get("PORT", ""),
        }
        _drop_foreign_test_database(url, connection.creation._get_test_db_name(), owner)
    settings.DATABASE_APP_ROLE = app
    config["USER"] = owner
    config["PASSWORD"] = settings.DATABASE_OWNER.get("PASSWORD", config.get("PASSWORD", ""))
    RESTRICTED_ROLES = (owner, app)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's, then the connection switched to the app role until the databases are dropped."""
    from django.conf import settings
    from django.db import connections

    if RESTRICTED_ROLES is None:
        yield
        return
    owner, app = RESTRICTED_ROLES
    config = connections["default"].settings_dict
    owner_password = config.get("PASSWORD", "")
    with django_db_blocker.unblock():
        connections["default"].close()
    config["USER"] = app
    yield
    with django_db_blocker.unblock():
        connections["default"].close()
    config["USER"], config["PASSWORD"] = owner, owner_password
    assert app == settings.DATABASE_APP_ROLE


@pytest.fixture
def superuser_sql(django_db_blocker):
    """A psycopg connection (autocommit) to the test database as the superuser: the attacker with every right."""
    import psycopg
    from django.db import connection

    from coordination.dbroles import _libpq

    if SUPERUSER_URL is None:
        pytest.skip("DATABASE_URL is not a superuser's")
    with django_db_blocker.unblock():
        conn = psycopg.connect(_libpq(SUPERUSER_URL, connection.settings_dict["NAME"]), autocommit=True)
    yield conn
    conn.close()


def _url_of(config: dict, name: str) -> str:
    from urllib.parse import quote

    auth = quote(config.get("USER") or "postgres", safe="")
    if config.get("PASSWORD"):
        auth += ":" + quote(config["PASSWORD"], safe="")
    return f"postgres://{auth}@{config.get('HOST') or '127.0.0.1'}:{config.get('PORT') or 5432}/{quote(name)}"


def _drop_foreign_test_database(admin_url: str, name: str, owner: str) -> None:
    """A test database left by a run before the roles existed belongs to the superuser: the owner could not drop it."""
    import psycopg
    from psycopg import sql

    from coordination.dbroles import _libpq

    with psycopg.connect(_libpq(admin_url, "postgres"), autocommit=True) as conn:
        found = conn.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [name]).fetchone()
        if found and found[0] != owner:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Seed agencies and reference data for every test that touches the database.

    Transactional tests flush tables, so this re-seeds when the roster is gone.
    """
    names = request.fixturenames
    marker = request.node.get_closest_marker("django_db")
    if "transactional_db" in names or "live_server" in names or (marker and marker.kwargs.get("transaction")):
        request.getfixturevalue("transactional_db")
    elif "db" in names or marker:
        request.getfixturevalue("db")
    else:
        return
    from agencies.seed import seed_agencies
    from cases.seed import seed_reference

    if not Agency.objects.filter(code="AFC").exists():
        seed_agencies()
        seed_reference()


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language (Chinese).

    A request through the test client activates its language in the test's thread and
    nothing deactivates it afterwards, so an English page read by one test made the next
    test that renders without a request (the plain 500 page) English.
    """
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttles and lockout counters must not leak between tests.

    Only this process's keys (the test settings give each process its own
    prefix): ``cache.clear()`` is FLUSHDB, which would wipe the counters of a test
    running at that moment in another pytest-xdist worker on the same Redis.
    """
    yield
    from django.conf import settings
    from django.core.cache import cache

    with contextlib.suppress(Exception):  # a test without Redis has nothing to clear
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{settings.CACHES['default']['KEY_PREFIX']}:*", count=1000))
        if keys:
            client.delete(*keys)


# Markers of tests that start real processes, servers, `make run` or a browser.
SERIAL_MARKERS = ("slow", "browser", "make_run")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under ``pytest -n N --dist loadgroup`` (``make test``), one worker runs those in order.

    They start Celery workers, Chromium and whole platforms with timeouts sized for
    one of them at a time; everything else spreads over the other workers, each with
    its own test database (``test_<name>_gw<N>``) and cache prefix. ``tryfirst``:
    xdist reads the group marker in its own hook of the same name.
    """
    for item in items:
        if any(item.get_closest_marker(name) for name in SERIAL_MARKERS):
            item.add_marker(pytest.mark.xdist_group("serial"))


def agency(code: str) -> Agency:
    return Agency.objects.get(code=code)


def make_user(username: str, code: str, role: str) -> User:
    return create_user(username=username, agency=agency(code), role=role, acting_user=None, password="pw-12345678")


@pytest.fixture
def later(monkeypatch):
    """Move the platform's clock forward by ``days`` (``timezone.now`` everywhere it is called)."""
    real = timezone.now

    def move(days: float):
        moved = real() + timedelta(days=days)
        monkeypatch.setattr(timezone, "now", lambda: moved)
        return moved

    return move


@pytest.fixture
def analyst(db):
    return make_user("t_analyst", "AFC", "analyst")


@pytest.fixture
def supervisor(db):
    return make_user("t_supervisor", "AFC", "supervisor")


@pytest.fixture
def auditor(db):
    return make_user("t_auditor", "AFC", "auditor")


@pytest.fixture
def ccb_liaison(db):
    return make_user("t_ccb_liaison", "CCB", "liaison")


@pytest.fixture
def ccb_manager(db):
    return make_user("t_ccb_manager", "CCB", "manager")


@pytest.fixture
def icbc_liaison(db):
    return make_user("t_icbc_liaison", "ICBC", "liaison")


@pytest.fixture
def station_user(db):
    """A named investigator of a district station: sees only what is shared with them."""
    return make_user("t_wuhou", "PSB-WUHOU", "liaison")


@pytest.fixture
def admin_user(db):
    return User.objects.create_superuser("t_admin", "admin@afc.invalid", "pw-12345678", agency=agency("AFC"))


RECEIVING_ACCOUNT = "6217000010012345678"
VICTIM_ACCOUNT = "6222020200112233445"


def make_case(
    user: User,
    *,
    to_account: str = RECEIVING_ACCOUNT,
    to_bank: str = "CCB",
    amount: str = "52000.00",
    extra_transfers: int = 0,
    from_account: str = VICTIM_ACCOUNT,
):
    """A case as the protocol's example: one victim, one transfer to a CCB account."""
    now = timezone.now()
    transfers = [
        actions.TransferData(
            from_account=from_account,
            from_bank=agency("ICBC"),
            to_account=to_account,
            to_bank=agency(to_bank),
            amount=Decimal(amount),
            at=now - timedelta(minutes=30),
        )
    ]
    for index in range(extra_transfers):
        transfers.append(
            actions.TransferData(
                from_account=VICTIM_ACCOUNT,
                from_bank=agency("ICBC"),
                to_account=f"62300000000000{index:04d}",
                to_bank=agency("ABC"),
                amount=Decimal("1000.00"),
                at=now - timedelta(minutes=20),
            )
        )
    return actions.create_case(
        acting_user=user,
        fraud_type=FraudType.objects.get(code="fake_investment"),
        channel=Channel.objects.get(code="hotline_96110"),
        district=District.objects.get(code="wuhou"),
        reported_at=now,
        loss_amount=sum((t.amount for t in transfers), Decimal("0.00")),
        summary="测试案件",
        victims=[actions.VictimData(name="张三", id_number="51010719900101123X", phone="13800000000")],
        transfers=transfers,
    )


@pytest.fixture
def case(analyst):
    return make_case(analyst)


@pytest.fixture
def stop_task(case, analyst):
    """A stop-payment to CCB, approved and dispatched (CCB has no endpoint: pull)."""
    [task] = actions.issue_stop_payments(case, acting_user=analyst)
    return task
