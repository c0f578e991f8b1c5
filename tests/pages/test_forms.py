"""Forms keep what was typed and say what is wrong; exports; search; lockout; languages."""

from __future__ import annotations

import csv
import io

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from agencies.models import Agency
from cases.models import Case, FollowUpProposal, Task
from cases.views import cases as case_views
from tests.conftest import RECEIVING_ACCOUNT, agency, make_case

pytestmark = pytest.mark.django_db


def intake_data(**overrides):
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    ccb, icbc = Agency.objects.get(code="CCB"), Agency.objects.get(code="ICBC")
    from cases.models import Channel, District, FraudType

    data = {
        "victim_name": "王五",
        "victim_id_number": "51010719900101123X",
        "victim_phone": "13800000000",
        "fraud_type": FraudType.objects.get(code="fake_investment").pk,
        "channel": Channel.objects.get(code="hotline_96110").pk,
        "district": District.objects.get(code="wuhou").pk,
        "reported_at": now,
        "loss_amount": "",
        "summary": "受害人称接到自称客服的电话",
        "transfers-TOTAL_FORMS": "2",
        "transfers-INITIAL_FORMS": "0",
        "transfers-MIN_NUM_FORMS": "0",
        "transfers-MAX_NUM_FORMS": "50",
        "transfers-0-from_account": "6222020200112233445",
        "transfers-0-from_bank": icbc.pk,
        "transfers-0-to_account": "6217000010012345678",
        "transfers-0-to_bank": ccb.pk,
        "transfers-0-amount": "30000.00",
        "transfers-0-at": now,
        "transfers-1-from_account": "6222020200112233445",
        "transfers-1-from_bank": icbc.pk,
        "transfers-1-to_account": "6217000010087654321",
        "transfers-1-to_bank": ccb.pk,
        "transfers-1-amount": "22000.00",
        "transfers-1-at": now,
    }
    data.update(overrides)
    return data


def test_intake_records_case_with_two_transfers(client, analyst):
    client.force_login(analyst)
    # The victim's card number fails its Luhn check: flagged as a likely typo, nothing stored...
    response = client.post(reverse("case-create"), intake_data())
    assert response.status_code == 400
    body = response.content.decode()
    assert "该号码看似银行卡号，但校验位不正确" in body
    assert 'name="confirm_accounts"' in body
    assert not Case.objects.exists()
    # ...until the analyst confirms the numbers as typed.
    response = client.post(reverse("case-create"), intake_data(confirm_accounts="on"))
    assert response.status_code == 302
    case = Case.objects.get()
    assert response["Location"] == reverse("case-detail", args=[case.pk])
    assert case.transfers.count() == 2
    assert str(case.loss_amount) == "52000.00"  # the transfers' sum when no loss is given


def test_intake_errors_keep_input_and_speak_chinese(client, analyst):
    client.force_login(analyst)
    data = intake_data(**{"victim_id_number": "510107199001011234", "transfers-1-to_account": "12AB"})
    response = client.post(reverse("case-create"), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "身份证号码的校验码不正确。" in body  # the check character is wrong
    assert "账号应为12至30位数字。" in body
    # What was typed is still there.
    assert 'value="510107199001011234"' in body
    assert 'value="12AB"' in body
    assert "受害人称接到自称客服的电话" in body
    assert not Case.objects.exists()


def test_intake_removed_row_is_ignored(client, analyst):
    client.force_login(analyst)
    data = intake_data(**{"transfers-1-DELETE": "on", "transfers-1-to_account": "bad", "confirm_accounts": "on"})
    assert client.post(reverse("case-create"), data).status_code == 302
    assert Case.objects.get().transfers.count() == 1


def test_card_numbers_with_a_right_luhn_digit_need_no_confirmation(client, analyst):
    client.force_login(analyst)
    data = intake_data(
        **{
            "transfers-TOTAL_FORMS": "1",
            "transfers-0-from_account": "6222020200112233446",
            "transfers-0-to_account": "110020003000400050006",  # a corporate account: no Luhn digit
        }
    )
    assert client.post(reverse("case-create"), data).status_code == 302


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reported_at", "3026-11-24T09:12"),
        ("occurred_at", "3026-11-24T09:12"),
        ("transfers-0-at", "1989-12-31T23:59"),
        ("transfers-0-amount", "٣٠٠٠٠"),
        ("transfers-0-amount", "3e4"),
        ("victim_phone", "12345"),
        ("victim_id_number", "440524198001010014"),
    ],
)
def test_intake_refuses_implausible_input(client, analyst, field, value):
    client.force_login(analyst)
    response = client.post(reverse("case-create"), intake_data(confirm_accounts="on", **{field: value}))
    assert response.status_code == 400
    assert not Case.objects.exists()


def test_intake_refuses_occurrence_and_transfers_after_the_report(client, analyst):
    client.force_login(analyst)
    earlier = (timezone.localtime() - timezone.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    data = intake_data(confirm_accounts="on", reported_at=earlier)
    response = client.post(reverse("case-create"), data)
    assert response.status_code == 400
    assert "转账时间不能晚于报案时间。" in response.content.decode()
    assert not Case.objects.exists()


def test_field_check_warns_of_a_likely_card_typo(client, analyst):
    client.force_login(analyst)
    url = reverse("field-check")
    body = client.post(url, {"field": "transfers-0-from_account", "transfers-0-from_account": "6222020200112233445"})
    assert "field-warning" in body.content.decode()
    body = client.post(url, {"field": "transfers-0-from_account", "transfers-0-from_account": "6222020200112233446"})
    assert "field-warning" not in body.content.decode()


def test_result_form_refuses_more_held_than_asked(client, stop_task, ccb_liaison):
    client.force_login(ccb_liaison)
    data = {
        "status": "completed",
        "amount_held": str(stop_task.amount + 1),
        "onward-TOTAL_FORMS": "0",
        "onward-INITIAL_FORMS": "0",
    }
    response = client.post(reverse("task-detail", args=[stop_task.pk]), data)
    assert response.status_code == 400
    stop_task.refresh_from_db()
    assert stop_task.state == "dispatched" and stop_task.result_digest == ""


def test_field_check_flags_known_identifier(client, analyst):
    make_case(analyst)
    client.force_login(analyst)
    url = reverse("field-check")
    body = client.post(url, {"field": "transfers-0-to_account", "transfers-0-to_account": RECEIVING_ACCOUNT}).content
    assert "已在 1 起案件中出现" in body.decode()
    fresh = client.post(url, {"field": "transfers-0-to_account", "transfers-0-to_account": "6217000010000000001"})
    assert "known" not in fresh.content.decode()
    bad = client.post(url, {"field": "victim_phone", "victim_phone": "12"}).content.decode()
    assert "field-error" in bad


def test_result_form_error_keeps_input(client, stop_task, ccb_liaison):
    client.force_login(ccb_liaison)
    data = {
        "status": "completed",
        "amount_held": "",
        "reason": "部分冻结",
        "onward-TOTAL_FORMS": "0",
        "onward-INITIAL_FORMS": "0",
    }
    response = client.post(reverse("task-detail", args=[stop_task.pk]), data)
    assert response.status_code == 400
    assert "部分冻结" in response.content.decode()
    stop_task.refresh_from_db()
    assert stop_task.state == "dispatched"


def test_result_with_onward_transfer_proposes_follow_up(client, stop_task, ccb_liaison):
    client.force_login(ccb_liaison)
    at = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    abc = Agency.objects.get(code="ABC")
    data = {
        "status": "completed",
        "amount_held": "31000.00",
        "reason": "",
        "onward-TOTAL_FORMS": "1",
        "onward-INITIAL_FORMS": "0",
        "onward-0-account_number": "6228480010000000001",
        "onward-0-bank": abc.pk,
        "onward-0-holder_name": "赵六",
        "onward-0-amount": "21000.00",
        "onward-0-at": at,
    }
    response = client.post(reverse("task-detail", args=[stop_task.pk]), data)
    assert response.status_code == 302
    stop_task.refresh_from_db()
    assert stop_task.state == "completed" and str(stop_task.amount_held) == "31000.00"
    assert FollowUpProposal.objects.filter(case=stop_task.case, agency=abc).count() == 1


def test_reject_needs_reason(client, stop_task, ccb_liaison):
    client.force_login(ccb_liaison)
    response = client.post(reverse("task-action", args=[stop_task.pk, "reject"]), {"reason": ""})
    assert response.status_code == 400
    stop_task.refresh_from_db()
    assert stop_task.state == "dispatched"


def test_dashboard_csv(client, stop_task, analyst):
    client.force_login(analyst)
    response = client.get(reverse("dashboard-csv"))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    # The review's figures (cases/review.py), the completion rate among them; the last: the window's start, +08:00.
    assert len(rows[0]) == 9
    ccb = [r for r in rows[1:] if r[0] == "CCB"]
    assert ccb and ccb[0][2] == "1"


def test_audit_csv_and_filter(client, case, auditor):
    client.force_login(auditor)
    response = client.get(reverse("audit"), {"format": "csv", "case": case.reference})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:4] == ["time", "user", "agency", "action"]
    actions = {r[3] for r in rows[1:]}
    assert "case.create" in actions
    assert all(r[7] == str(case.pk) for r in rows[1:])


def test_case_search_and_keyset_pages(client, analyst, monkeypatch):
    cases = [make_case(analyst, to_account=f"62170000100000000{i}") for i in range(3)]
    client.force_login(analyst)
    found = client.get(reverse("case-list"), {"q": "62170000100000000 1"}).content.decode()
    assert cases[1].reference in found and cases[0].reference not in found
    by_ref = client.get(reverse("case-list"), {"q": cases[2].reference.lower()}).content.decode()
    assert cases[2].reference in by_ref and cases[1].reference not in by_ref
    by_name = client.get(reverse("case-list"), {"q": "张三"}).content.decode()
    assert all(c.reference in by_name for c in cases)
    monkeypatch.setattr(case_views, "PAGE_SIZE", 2)
    first = client.get(reverse("case-list"))
    body = first.content.decode()
    assert cases[2].reference in body and cases[1].reference in body and cases[0].reference not in body
    next_url = first.context["next_url"]
    second = client.get(reverse("case-list") + next_url).content.decode()
    assert cases[0].reference in second and cases[1].reference not in second


def test_lockout_after_repeated_failures(client, analyst):
    url = reverse("login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(url, {"username": analyst.username, "password": "wrong"})
    response = client.post(url, {"username": analyst.username, "password": "pw-12345678"})
    assert response.status_code in (403, 429)
    assert "登录失败次数过多" in response.content.decode()


def test_login_then_home_by_role(client, ccb_liaison):
    response = client.post(reverse("login"), {"username": ccb_liaison.username, "password": "pw-12345678"})
    assert response.status_code == 302
    assert client.get(reverse("home"))["Location"] == reverse("inbox")


def test_chinese_by_default_english_on_switch(client, analyst):
    client.force_login(analyst)
    body = client.get(reverse("case-list")).content.decode()
    assert "案件" in body and 'lang="zh-Hans"' in body
    client.post(reverse("set_language"), {"language": "en", "next": "/cases/"})
    body = client.get(reverse("case-list")).content.decode()
    assert "Cases" in body and 'lang="en"' in body
    assert "Not found" in client.get("/cases/999999/").content.decode()


def test_new_secret_shown_once(client, ccb_manager):
    client.force_login(ccb_manager)
    response = client.post(reverse("my-agency"), {"do": "endpoint", "endpoint_url": "https://ccb.example.invalid/afc"})
    secret = Agency.objects.get(code="CCB").endpoint_secret
    assert secret in response.content.decode()
    assert secret not in client.get(reverse("my-agency")).content.decode()
    rotated = client.post(reverse("my-agency"), {"do": "rotate"})
    new = Agency.objects.get(code="CCB").endpoint_secret
    assert new != secret and new in rotated.content.decode()


def test_approval_queue_approves_many_oldest_first(client, analyst, supervisor):
    from cases import actions

    case = make_case(analyst)
    # Number traces: a type the supervisor approves (stop-payments are the analyst's, never queued).
    pending = [
        actions.create_task(
            case, acting_user=analyst, type="number_trace", agency=agency("CMCC"), target_kind="phone", target_value=p
        )
        for p in ("13800000001", "13800000002", "13800000003")
    ]
    client.force_login(supervisor)
    body = client.get(reverse("approvals")).content.decode()
    positions = [body.index(f'id="task-{t.pk}"') for t in pending]
    assert positions == sorted(positions)
    response = client.post(reverse("approvals"), {"do": "approve", "task": [t.pk for t in pending[:2]]})
    assert response.status_code == 302
    states = dict(Task.objects.filter(pk__in=[t.pk for t in pending]).values_list("pk", "state"))
    assert [states[t.pk] for t in pending] == ["dispatched", "dispatched", "pending_approval"]


def test_friendly_error_pages_in_both_languages(client, rf, analyst, ccb_liaison):
    from django.utils import translation

    from coordination.views import error_500

    client.force_login(ccb_liaison)
    forbidden = client.get(reverse("case-list"))
    assert forbidden.status_code == 403 and "无权操作" in forbidden.content.decode()
    client.post(reverse("set_language"), {"language": "en"})
    forbidden = client.get(reverse("case-list"))
    assert "Not allowed" in forbidden.content.decode()
    request = rf.get("/")
    request.user = analyst
    with translation.override("zh-hans"):
        response = error_500(request)
    body = response.content.decode()
    # In the reader's language only, with the site's layout (the header's product name).
    assert response.status_code == 500 and "出现错误" in body and 'class="brand"' in body
    assert "Something went wrong" not in body


def test_task_page_lets_centre_approve_or_return(client, analyst, supervisor):
    from cases import actions

    case = make_case(analyst)
    [task] = actions.issue_stop_payments(case, acting_user=analyst, approve=False)
    client.force_login(supervisor)
    body = client.get(reverse("task-detail", args=[task.pk])).content.decode()
    assert 'id="approve"' in body
    client.post(reverse("task-action", args=[task.pk, "return"]), {"reason": "金额有误"})
    task.refresh_from_db()
    assert task.state == "cancelled" and task.reason == "金额有误"


def test_audit_keyset_pages_do_not_overlap(client, case, auditor, monkeypatch):
    from coordination import views as audit_views

    monkeypatch.setattr(audit_views, "AUDIT_PAGE", 3)
    client.force_login(auditor)
    first = client.get(reverse("audit"), {"case": case.reference})
    second = client.get(reverse("audit") + first.context["next_url"])
    ids_first = [r.pk for r in first.context["rows"]]
    ids_second = [r.pk for r in second.context["rows"]]
    assert len(ids_first) == 3 and ids_second
    assert not set(ids_first) & set(ids_second)
    assert max(ids_second) < min(ids_first)  # newest first, continuing where page one stopped


def test_poll_after_session_lapsed_redirects_whole_page(client):
    response = client.get(reverse("inbox"), HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/inbox/")
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("login") + "?next=/inbox/"


def test_audit_page_shows_only_what_changed(client, stop_task, ccb_liaison, auditor):
    from cases import actions

    actions.accept_task(stop_task, acting_user=ccb_liaison)
    client.force_login(auditor)
    body = client.get(reverse("audit"), {"action": "task.accept"}).content.decode()
    assert "状态: 已下发 → 已签收" in body  # field and states in the reader's words
    assert "时限:" not in body  # unchanged fields are left out


def test_csv_cells_are_not_formulas(client, auditor):
    from coordination.views import csv_cell
    from tests.conftest import make_user

    assert csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and csv_cell("CCB") == "CCB"
    make_user("+1-cmd", "CCB", "liaison")  # user names may start with + - @
    client.force_login(auditor)
    response = client.get(reverse("audit"), {"format": "csv", "action": "user.create"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert any(r[6] == "'+1-cmd" for r in rows[1:])


def test_field_check_reveals_no_counts_to_agencies(client, analyst, icbc_liaison):
    make_case(analyst)
    client.force_login(icbc_liaison)
    data = {"field": "onward-0-account_number", "onward-0-account_number": RECEIVING_ACCOUNT}
    body = client.post(reverse("field-check"), data).content.decode()
    assert "known" not in body and "案件" not in body


def test_case_search_by_post_keeps_the_account_out_of_urls(client, analyst):
    """The search form posts; its pages are forms posting the same filters and the position."""
    from tests.conftest import RECEIVING_ACCOUNT, make_case

    found = [make_case(analyst) for _ in range(3)]  # every one names RECEIVING_ACCOUNT
    other = make_case(analyst, to_account="6217000010099999999")
    client.force_login(analyst)
    page = client.get(reverse("case-list")).content.decode()
    assert 'method="post" action="/cases/" class="card filters" role="search"' in page
    from cases.views import cases as case_views

    original = case_views.PAGE_SIZE
    case_views.PAGE_SIZE = 2
    try:
        first = client.post(reverse("case-list"), {"q": RECEIVING_ACCOUNT})
        body = first.content.decode()
        assert first.status_code == 200
        assert f"?q={RECEIVING_ACCOUNT}" not in body and "q=6217" not in body  # no link carries it
        assert body.count(f'name="q" value="{RECEIVING_ACCOUNT}"') >= 2  # the form, and the next page's
        fields = dict(first.context["next_fields"])
        assert fields["q"] == RECEIVING_ACCOUNT and fields["after"]
        second = client.post(reverse("case-list"), fields).content.decode()
    finally:
        case_views.PAGE_SIZE = original
    shown = [c.reference for c in found if c.reference in body or c.reference in second]
    assert sorted(shown) == sorted(c.reference for c in found)
    assert other.reference not in body + second
    # GET keeps working, as before.
    assert other.reference not in client.get(reverse("case-list"), {"q": RECEIVING_ACCOUNT}).content.decode()


def test_seen_in_other_cases_posts_the_identifier_not_a_link(client, analyst):
    """The case page's "seen in N cases" is a form posting the account: no URL carries it."""
    from tests.conftest import RECEIVING_ACCOUNT, make_case

    first, second = make_case(analyst), make_case(analyst)
    other = make_case(analyst, to_account="6217000010099999999")
    client.force_login(analyst)
    page = client.get(reverse("case-detail", args=[first.pk])).content.decode()
    assert f"q={RECEIVING_ACCOUNT}" not in page and "?q=" not in page
    assert f'<input type="hidden" name="q" value="{RECEIVING_ACCOUNT}">' in page
    found = client.post(reverse("case-list"), {"q": RECEIVING_ACCOUNT}).content.decode()
    assert first.reference in found and second.reference in found and other.reference not in found
