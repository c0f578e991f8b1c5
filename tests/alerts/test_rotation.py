"""Signatures as in protocol v1.1: the key is the signed delivery_id, and secrets rotate with an overlap.

Pushes go over real HTTP to the demo partner on 127.0.0.1 (allow-listed by its
port). Time is moved forward for the platform (``timezone.now``) past the
overlap window; the partner's clock, which checks the signature's ``t``, is real.
"""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import httpx
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from agencies.actions import set_endpoint
from agencies.models import Agency
from alerts import tasks
from alerts.choices import DeliveryState
from alerts.models import Delivery
from alerts.signing import signature_header
from cases import actions
from coordination.models import AuditRecord
from simulator import serve_in_thread, sign

from ..conftest import agency, make_case

OLD, NEW = "old-secret-0123456789abcdef", "new-secret-0123456789abcdef"


@pytest.fixture
def partner(settings):
    """The demo partner for CCB, results off; it holds whichever secrets a test gives it."""
    sim = serve_in_thread({"agencies": {}}, "http://127.0.0.1:9", result_delay=0.0)
    sim.set_results(enabled=False)
    settings.PUSH_ALLOWED_HOSTS = [f"127.0.0.1:{sim.port}"]
    tasks._client = None

    def holds(*secrets: str) -> None:
        sim.set_config({"agencies": {"CCB": {"secrets": list(secrets), "token": "", "sector": "bank"}}})

    sim.holds = holds
    yield sim
    sim.stop()
    tasks._client = None


def _push(analyst, callbacks) -> Delivery:
    case = make_case(analyst)
    [task] = actions.issue_stop_payments(case, acting_user=analyst, approve=False)
    with callbacks(execute=False):
        actions.approve_task(task, acting_user=analyst)
    delivery = Delivery.objects.get(task=task)
    tasks.push_delivery(str(delivery.pk))
    delivery.refresh_from_db()
    return delivery


@pytest.fixture
def signatures(monkeypatch):
    """The X-Signature headers the platform sent, in order."""
    sent: list[str] = []
    real = tasks.signature_header

    def spy(secrets, body, t=None):
        header = real(secrets, body, t)
        sent.append(header)
        return header

    monkeypatch.setattr(tasks, "signature_header", spy)
    return sent


@pytest.mark.django_db
def test_rotation_signs_with_both_secrets_in_the_window_and_drops_the_old_one_after(
    partner, signatures, analyst, monkeypatch, django_capture_on_commit_callbacks
):
    ccb = agency("CCB")
    set_endpoint(ccb, url=partner.endpoint("CCB"), secret=OLD, acting_user=None)
    before = timezone.now()
    ccb, secret = set_endpoint(ccb, url=partner.endpoint("CCB"), secret=NEW, acting_user=None)
    assert secret == NEW and ccb.live_secrets() == [NEW, OLD]
    assert timedelta(hours=23, minutes=59) < ccb.endpoint_old_secret_until - before <= timedelta(hours=24, seconds=5)

    # In the window: a partner that has not switched yet, and one that has, both verify.
    partner.holds(OLD)
    delivery = _push(analyst, django_capture_on_commit_callbacks)
    assert delivery.state == DeliveryState.DELIVERED
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}", signatures[-1])
    partner.holds(NEW)
    assert _push(analyst, django_capture_on_commit_callbacks).state == DeliveryState.DELIVERED
    assert [r["verified"] for r in partner.received("CCB")] == [True, True]

    # 24 hours and a minute later the old secret signs nothing.
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(hours=24, minutes=1))
    assert Agency.objects.get(code="CCB").live_secrets() == [NEW]
    assert _push(analyst, django_capture_on_commit_callbacks).state == DeliveryState.DELIVERED
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", signatures[-1])
    partner.holds(OLD)
    refused = _push(analyst, django_capture_on_commit_callbacks)
    assert refused.state == DeliveryState.FAILED and refused.last_status == 401
    assert partner.received("CCB")[-1]["signature_error"] == "mismatch"


@pytest.mark.django_db
def test_overlap_zero_stops_the_old_secret_at_once_and_a_second_rotation_keeps_one_previous(partner):
    ccb, _ = set_endpoint(agency("CCB"), url=partner.endpoint("CCB"), secret=OLD, acting_user=None)
    ccb, _ = set_endpoint(ccb, url=partner.endpoint("CCB"), secret=NEW, acting_user=None, overlap=timedelta(0))
    assert ccb.live_secrets() == [NEW] and ccb.endpoint_old_secret == ""
    ccb, third = set_endpoint(ccb, url=partner.endpoint("CCB"), secret=None, acting_user=None)
    assert ccb.live_secrets() == [third, NEW]
    ccb, fourth = set_endpoint(ccb, url=partner.endpoint("CCB"), secret=None, acting_user=None)
    assert ccb.live_secrets() == [fourth, third]
    # The same secret again (a new address only) keeps the window as it was.
    until = ccb.endpoint_old_secret_until
    ccb, _ = set_endpoint(ccb, url=partner.endpoint("CCB") + "v2/", secret=fourth, acting_user=None)
    assert ccb.live_secrets() == [fourth, third] and ccb.endpoint_old_secret_until == until
    # No secret, new or old, in the audit trail.
    for record in AuditRecord.objects.filter(action="agency.set_endpoint"):
        text = json.dumps([record.before, record.after])
        assert all(s not in text for s in (OLD, NEW, third, fourth))


@pytest.mark.django_db
def test_the_managers_page_rotates_with_the_overlap_chosen(partner, client, ccb_manager):
    set_endpoint(agency("CCB"), url=partner.endpoint("CCB"), secret=OLD, acting_user=None)
    client.force_login(ccb_manager)
    page = client.get(reverse("my-agency")).content.decode()
    assert 'name="overlap_hours"' in page
    response = client.post(reverse("my-agency"), {"do": "rotate", "overlap_hours": "2"})
    assert response.status_code == 200
    ccb = Agency.objects.get(code="CCB")
    new = response.context["new_secret"]
    assert ccb.live_secrets() == [new, OLD]
    assert timedelta(hours=1, minutes=59) < ccb.endpoint_old_secret_until - timezone.now() <= timedelta(hours=2)
    assert 'id="old-secret"' in response.content.decode() and OLD[-4:] in response.content.decode()
    for bad in ("-1", "169", "two"):
        refused = client.post(reverse("my-agency"), {"do": "rotate", "overlap_hours": bad})
        assert refused.status_code == 400
    assert Agency.objects.get(code="CCB").endpoint_secret == new
    client.post(reverse("my-agency"), {"do": "rotate", "overlap_hours": "0"})
    assert len(Agency.objects.get(code="CCB").live_secrets()) == 1


@pytest.mark.django_db
def test_set_endpoint_command_takes_the_overlap(partner, capsys):
    call_command("set_endpoint", "CCB", partner.endpoint("CCB"), "--secret", OLD)
    call_command("set_endpoint", "CCB", partner.endpoint("CCB"), "--secret", NEW, "--overlap-hours", "6")
    out = capsys.readouterr().out
    assert "previous secret …" + OLD[-4:] in out and OLD not in out
    ccb = Agency.objects.get(code="CCB")
    assert ccb.live_secrets() == [NEW, OLD]
    assert ccb.endpoint_old_secret_until - timezone.now() <= timedelta(hours=6)
    call_command("set_endpoint", "CCB", partner.endpoint("CCB"), "--overlap-hours", "0")
    assert len(Agency.objects.get(code="CCB").live_secrets()) == 1
    call_command("set_endpoint", "CCB", "--clear")
    ccb = Agency.objects.get(code="CCB")
    assert ccb.live_secrets() == [] and ccb.endpoint_old_secret == ""


@pytest.mark.django_db
def test_the_idempotency_key_is_the_signed_delivery_id(partner, analyst, django_capture_on_commit_callbacks):
    set_endpoint(agency("CCB"), url=partner.endpoint("CCB"), secret=NEW, acting_user=None)
    partner.holds(NEW)
    delivery = _push(analyst, django_capture_on_commit_callbacks)
    [push] = partner.received("CCB")
    assert push["status"] == 202 and push["idempotency_key"] == push["body"]["delivery_id"] == str(delivery.pk)


def test_the_partner_refuses_a_key_that_differs_from_the_signed_delivery_id(partner):
    """A captured push replayed under a new Idempotency-Key is recognised (v1.1)."""
    partner.holds(NEW)
    body = json.dumps({"delivery_id": "d-1", "task_id": 1, "type": "freeze"}).encode()

    def post(key: str | None, signature: str):
        headers = {"Content-Type": "application/json", "X-Signature": signature}
        if key is not None:
            headers["Idempotency-Key"] = key
        return httpx.post(partner.endpoint("CCB"), content=body, headers=headers, timeout=5, trust_env=False)

    header = signature_header([NEW], body)
    assert post("d-1", header).status_code == 202
    replayed = post("replayed-under-a-new-key", header)
    assert replayed.status_code == 400 and replayed.json()["error"] == "idempotency_key_mismatch"
    assert post("d-1", header).status_code == 409  # the same delivery: acted on once
    assert post(None, header).status_code == 400
    # Either v1 may match a secret the partner holds; none matching is refused.
    two = signature_header(["unknown-secret-0123456789", NEW], body)
    assert post("d-1", two).status_code == 409
    assert post("d-1", sign("unknown-secret-0123456789", body, int(time.time()))).status_code == 401
