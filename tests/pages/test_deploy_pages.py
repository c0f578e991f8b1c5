"""The platform as a deployment serves it: error pages, one product name, the reader's language and zone.

Error pages are rendered with DEBUG off (``override_settings``), as ``make run``
and production serve them, in both languages and with the site's layout.
"""

from __future__ import annotations

import ast
import csv
import io
import re
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from agencies.models import Agency
from agencies.seed import seed_agencies
from cases import actions
from tests.pages.test_forms import intake_data

ROOT = Path(__file__).resolve().parents[2]
ZH, EN = settings.PRODUCT_NAME["zh-hans"], settings.PRODUCT_NAME["en"]
# CJK ideographs: what an English page must not show outside the data people typed.
HAN = re.compile(r"[\u4e00-\u9fff]")


def _lang(client, code: str):
    client.cookies.load({settings.LANGUAGE_COOKIE_NAME: code})
    return client


def _text(response) -> str:
    return response.content.decode()


# --- error pages ------------------------------------------------------------------


@override_settings(DEBUG=False)
@pytest.mark.parametrize(
    ("code", "lang", "words"),
    [("zh-hans", "zh-Hans", ("404 · 未找到", ZH)), ("en", "en", ("404 · Not found", EN))],
)
def test_404_is_ours_in_both_languages(client, analyst, code, lang, words):
    client.force_login(analyst)
    response = _lang(client, code).get("/no-such-page/")
    body = _text(response)
    assert response.status_code == 404
    assert f'<html lang="{lang}">' in body
    assert all(word in body for word in words)
    assert 'class="brand"' in body and "<nav" in body  # the site's layout, menu included
    assert "URLconf" not in body and "Page not found" not in body  # not Django's technical page


@override_settings(DEBUG=False)
def test_403_page_for_a_role_without_the_page(client, icbc_liaison):
    client.force_login(icbc_liaison)
    zh = client.get(reverse("audit"))
    assert zh.status_code == 403 and "403 · " in _text(zh) and ZH in _text(zh)
    en = _lang(client, "en").get(reverse("audit"))
    assert en.status_code == 403 and "403 · Not allowed" in _text(en) and EN in _text(en)


@override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver"])
@pytest.mark.parametrize(("code", "words"), [("zh-hans", ZH), ("en", "400 · Bad request")])
def test_400_bad_host_is_ours(client, code, words):
    response = _lang(client, code).get("/accounts/login/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert words in _text(response) and "<!DOCTYPE html>" in _text(response)


@override_settings(DEBUG=False)
def test_400_under_api_stays_json(client):
    with override_settings(ALLOWED_HOSTS=["testserver"]):
        response = client.get("/api/v1/tasks/", HTTP_HOST="evil.example")
    assert response.status_code == 400 and response["Content-Type"].startswith("application/json")


@override_settings(DEBUG=False)
@pytest.mark.parametrize(("code", "words"), [("zh-hans", "表单已失效"), ("en", "403 · Form expired")])
def test_csrf_refusal_is_ours(analyst, code, words):
    browser = _lang(Client(enforce_csrf_checks=True), code)
    browser.force_login(analyst)
    response = browser.post(reverse("case-create"), {})
    body = _text(response)
    assert response.status_code == 403
    assert words in body and 'class="brand"' in body
    assert "CSRF verification failed" not in body  # Django's own page


@override_settings(DEBUG=False)
@pytest.mark.parametrize(("code", "words"), [("zh-hans", "500 · 出现错误"), ("en", "500 · Something went wrong")])
def test_500_page_in_both_languages(analyst, monkeypatch, code, words):
    from cases.views import cases as case_views

    def boom(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(case_views.CaseListView, "get", boom)
    browser = _lang(Client(raise_request_exception=False), code)
    browser.force_login(analyst)
    response = browser.get(reverse("case-list"))
    assert response.status_code == 500
    assert words in _text(response) and 'class="brand"' in _text(response)


def test_500_fallback_renders_without_a_request():
    from django.template import loader

    body = loader.get_template("500_plain.html").render({})
    assert "500 · " in body and ZH in body


# --- one product name -----------------------------------------------------------


@pytest.mark.parametrize(("code", "name"), [("zh-hans", ZH), ("en", EN)])
def test_product_name_in_title_and_header(client, analyst, code, name):
    client.force_login(analyst)
    body = _text(_lang(client, code).get(reverse("case-list")))
    title = re.search(r"<title>(.*?)</title>", body, re.S).group(1)
    assert title.strip().endswith(f"· {name}")
    assert f'class="brand" href="/">{name}</a>' in body


def test_product_name_everywhere_the_same():
    readme = (ROOT / "README.md").read_text().splitlines()[0]
    assert readme == f"# {ZH} · {EN}"
    assert settings.SPECTACULAR_SETTINGS["TITLE"] == f"{EN} API"
    tree = ast.parse((ROOT / "scripts" / "run.py").read_text())
    names = [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "PRODUCT_NAME_EN"
    ]
    assert [ast.literal_eval(n) for n in names] == [EN]
    # The variants the product had are gone from the pages' strings.
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        assert "Anti-fraud coordination platform" not in text, template
        assert '{% translate "AFC" %}' not in text, template


# --- English pages, Chinese pages -------------------------------------------------


def test_english_pages_show_english_agency_names(client, stop_task, analyst):
    client.force_login(analyst)
    _lang(client, "en")
    case_page = _text(client.get(reverse("case-detail", args=[stop_task.case_id])))
    task_page = _text(client.get(reverse("task-detail", args=[stop_task.pk])))
    for body in (case_page, task_page):
        assert "China Construction Bank Sichuan Branch" in body
        assert "中国建设银行" not in body
    # The timeline: actions and their objects in English.
    timeline = case_page[case_page.index('class="timeline"') :]
    assert "Emergency stop-payment · China Construction Bank Sichuan Branch" in timeline
    assert "Task created" in timeline
    # Nothing Chinese on the English case page but what people typed (names, summary).
    typed = {"张三", "测试案件", "简体中文"}  # and the language switcher's own name
    leftovers = {m for m in re.findall(r"[\u4e00-\u9fff]+", case_page) if m not in typed}
    assert not leftovers, leftovers


def test_chinese_timeline_speaks_chinese(client, stop_task, analyst):
    client.force_login(analyst)
    body = _text(client.get(reverse("case-detail", args=[stop_task.case_id])))
    timeline = body[body.index('class="timeline"') :]
    assert "紧急止付 · 中国建设银行四川省分行" in timeline
    assert "Task created" not in timeline and "Emergency" not in timeline
    assert "平台" in timeline and "system" not in timeline  # the platform's own steps (delivery)


def test_seed_fills_missing_english_names_but_keeps_edited_ones(db):
    Agency.objects.filter(code="CCB").update(name_en="")
    Agency.objects.filter(code="ICBC").update(name_en="ICBC (edited)")
    seed_agencies()
    assert Agency.objects.get(code="CCB").name_en == "China Construction Bank Sichuan Branch"
    assert Agency.objects.get(code="ICBC").name_en == "ICBC (edited)"


@pytest.mark.parametrize("amount", ["1.005", "52,000", "abc"])
def test_chinese_amount_errors_are_ours(client, analyst, amount):
    client.force_login(analyst)
    response = client.post(reverse("case-create"), intake_data(**{"transfers-0-amount": amount}))
    body = _text(response)
    assert response.status_code == 400
    assert "金额最多两位小数。" in body or "请输入金额，例如 52000.00。" in body
    assert "确认" not in body and "确保" not in body  # Django's own wording


# --- the audit list: words, not codes; the platform's zone ---------------------------


def test_audit_list_shows_labels_and_descriptions(client, stop_task, auditor, ccb_liaison):
    actions.accept_task(stop_task, acting_user=ccb_liaison)
    client.force_login(auditor)
    body = _text(client.get(reverse("audit")))
    rows = body[body.index("<tbody>") :]
    assert "单位签收任务" in rows  # task.accept in words
    assert f"#{stop_task.pk} 紧急止付 · 中国建设银行四川省分行" in rows
    assert stop_task.case.reference in rows
    assert ">task.accept<" not in rows and ">cases.task<" not in rows
    # Personal data is masked for the auditor in descriptions and changes alike.
    assert "6217000010012345678" not in rows
    en = _text(_lang(client, "en").get(reverse("audit")))
    assert "Task accepted by the agency" in en and "China Construction Bank Sichuan Branch" in en


def test_audit_times_in_shanghai_on_the_page_and_in_csv(client, case, auditor):
    client.force_login(auditor)
    body = _text(client.get(reverse("audit")))
    stamps = re.findall(r'<time datetime="([^"]+)"', body)
    assert stamps and all(s.endswith("+08:00") for s in stamps)
    assert "UTC+08:00" in body  # the zone said where the column starts
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", body[body.index("<tbody>") :])
    response = client.get(reverse("audit"), {"format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][-3:] == ["action_label", "case", "description"]
    assert all(r[0].endswith("+08:00") for r in rows[1:])
    created = next(r for r in rows[1:] if r[3] == "case.create")
    assert created[10] == "录入案件" and created[11] == case.reference


def test_dashboard_csv_window_in_shanghai(client, stop_task, analyst):
    client.force_login(analyst)
    rows = list(csv.reader(io.StringIO(client.get(reverse("dashboard-csv")).content.decode("utf-8-sig"))))
    assert all(r[-1].endswith("+08:00") for r in rows[1:])


def test_log_lines_carry_the_zone():
    import logging

    from coordination.logs import ZonedFormatter

    formatter = ZonedFormatter("%(asctime)s %(message)s", zone=settings.TIME_ZONE)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    record.created = 0.0  # 1970-01-01 00:00 UTC
    assert formatter.format(record) == "1970-01-01 08:00:00.000+08:00 hello"
    # The production settings' formatter (the test settings keep Django's logging).
    assert '"()": "coordination.logs.ZonedFormatter"' in (ROOT / "coordination" / "settings.py").read_text()


# --- the simulator the banner links to ---------------------------------------------


def test_simulator_index_page():
    from simulator import serve_in_thread

    config = {"agencies": {"CCB": {"secret": "ccb-secret-0123456789", "token": "tok-ccb", "sector": "bank"}}}
    with serve_in_thread(config, "http://127.0.0.1:9") as sim, urllib.request.urlopen(sim.url + "/", timeout=5) as r:
        body = r.read().decode()
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/html")
    assert "Demo partner simulator" in body and "POST /CCB/push" in body
