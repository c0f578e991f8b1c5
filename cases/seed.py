"""Reference data (product brief): fraud types, channels, districts, task types (from their registry).

Idempotent: missing codes are created, edited ones left as the administrator set them.
"""

from __future__ import annotations

from django.utils import translation

from agencies.models import Agency
from agencies.seed import DISTRICT_BUREAUS, bureau_code

from . import task_types
from .choices import DistrictKind
from .legal_documents import DEFAULT_DESCRIPTION, DEFAULT_PATTERN
from .models import Channel, District, FraudType, LegalDocumentFormat, TaskTypeConfig

FRAUD_TYPES = [
    ("order_brushing", "刷单返利", "Order-brushing rebates"),
    ("fake_investment", "虚假投资理财", "Fake investment and wealth management"),
    ("fake_loan", "虚假网络贷款", "Fake loans"),
    ("fake_customer_service", "冒充电商物流客服", "Impersonating e-commerce or logistics customer service"),
    ("impersonating_authorities", "冒充公检法", "Impersonating police, prosecutors or courts"),
    ("fake_credit_repair", "虚假征信", "Fake credit repair"),
    ("fake_shopping", "虚假购物服务", "Fake shopping and services"),
    ("impersonating_acquaintance", "冒充领导熟人", "Impersonating leaders or acquaintances"),
    ("fake_game_trading", "网络游戏虚假交易", "Fake game-item trading"),
    ("romance_scam", "网络婚恋交友", "Online romance and dating scams"),
    ("other", "其他", "Other"),
]
CHANNELS = [
    ("call_110", "110报警", "110 call"),
    ("hotline_96110", "96110反诈专线", "96110 anti-fraud hotline"),
    ("police_station", "派出所报案", "Police station"),
    ("anti_fraud_app", "国家反诈中心APP", "National anti-fraud app"),
    ("bank_referral", "银行移交", "Bank referral"),
    ("other", "其他", "Other"),
]
_KINDS = {"市": DistrictKind.CITY, "县": DistrictKind.COUNTY, "区": DistrictKind.DISTRICT}
ZONES = {"gaoxin", "tianfu"}


def seed_reference() -> int:
    """Create missing reference rows; returns how many were created."""
    created = 0
    for order, (code, name, name_en) in enumerate(FRAUD_TYPES):
        created += FraudType.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "sort_order": order}
        )[1]
    for order, (code, name, name_en) in enumerate(CHANNELS):
        created += Channel.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "sort_order": order}
        )[1]
    bureaus = {a.code: a for a in Agency.objects.filter(code__startswith="PSB-")}
    for order, (code, name, name_en) in enumerate(DISTRICT_BUREAUS):
        kind = DistrictKind.ZONE if code in ZONES else _KINDS[name[-1]]
        created += District.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "sort_order": order,
                "kind": kind,
                "police_agency": bureaus.get(bureau_code(code)),
            },
        )[1]
    # Task types: the administrator's row of each registered type, with its default deadline.
    for order, spec in enumerate(task_types.registry):
        with translation.override("en"):
            name_en = str(spec.label)
        created += TaskTypeConfig.objects.get_or_create(
            code=spec.code,
            defaults={
                "name": spec.name_zh,
                "name_en": name_en,
                "deadline_minutes": spec.deadline_minutes,
                "sort_order": order,
            },
        )[1]
    # The usual shape of a legal document number, once: the administrator edits it or adds others.
    if not LegalDocumentFormat.objects.exists():
        LegalDocumentFormat.objects.create(
            name="机关代字〔年份〕序号号", pattern=DEFAULT_PATTERN, description=DEFAULT_DESCRIPTION
        )
        created += 1
    return created
