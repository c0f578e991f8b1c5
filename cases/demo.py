"""Demo data that looks like a working centre, built through the real actions.

Deterministic (seeded random) and idempotent: a second run finds the demo
cases and adds nothing.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from agencies.actions import create_user
from agencies.models import Agency, User
from coordination.exceptions import InvalidTransition

from . import actions
from .choices import TaskState, TaskType
from .models import Case, Channel, District, FraudType, Task
from .validators import resident_id_check_digit

DEMO_PASSWORD = "demo12345"
# username, agency code, role, superuser
DEMO_USERS = [
    ("analyst", "AFC", "analyst", False),
    ("supervisor", "AFC", "supervisor", False),
    ("icbc_liaison", "ICBC", "liaison", False),
    ("ccb_liaison", "CCB", "liaison", False),
    ("icbc_manager", "ICBC", "manager", False),
    ("cmcc_liaison", "CMCC", "liaison", False),
    ("wuhou_liaison", "PSB-WUHOU", "liaison", False),
    # Wuhou's police stations (docs/warnings.md): they reach the people the warnings name.
    ("yulin_liaison", "PS-WUHOU-YULIN", "liaison", False),
    ("cuqiao_liaison", "PS-WUHOU-CUQIAO", "liaison", False),
    ("jiangxi_liaison", "PS-WUHOU-JIANGXI", "liaison", False),
    ("auditor", "AFC", "auditor", False),
    ("admin", "AFC", "", True),
]
BANKS = ["ICBC", "ABC", "BOC", "CCB", "BOCOM", "CMB", "PSBC", "BOCD"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超"]
SUMMARIES = [
    "受害人通过社交软件结识网友，被诱导在虚假投资平台充值。",
    "受害人接到自称客服电话，称快递丢失需理赔，按指引转账。",
    "受害人参与刷单返利任务，前几单返利后被要求大额垫付。",
    "受害人接到冒充公安的电话，称其涉嫌洗钱需将资金转入安全账户。",
    "受害人在网络贷款APP申请贷款，被以解冻费、保证金为由多次转账。",
]


def demo_users() -> dict[str, User]:
    users = {}
    agencies = {a.code: a for a in Agency.objects.filter(code__in={u[1] for u in DEMO_USERS})}
    for username, code, role, superuser in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            if superuser:
                user = User.objects.create_superuser(
                    username, f"{username}@afc.invalid", DEMO_PASSWORD, agency=agencies[code]
                )
            else:
                user = create_user(
                    username=username,
                    agency=agencies[code],
                    role=role,
                    acting_user=None,
                    password=DEMO_PASSWORD,
                    email=f"{username}@afc.invalid",
                )
        users[username] = user
    return users


def _id_number(rng: random.Random) -> str:
    first = f"510107{rng.randint(1950, 2004)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    return first + resident_id_check_digit(first)


def _account(rng: random.Random) -> str:
    return "62" + "".join(str(rng.randint(0, 9)) for _ in range(17))


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def seed_demo(cases: int = 300, seed: int = 2016) -> int:
    """Create the demo users and ``cases`` demo cases unless they exist; returns cases created."""
    users = demo_users()
    analyst, supervisor = users["analyst"], users["supervisor"]
    if Case.objects.filter(created_by=analyst).exists():
        return 0
    rng = random.Random(seed)
    fraud_types, channels = list(FraudType.objects.all()), list(Channel.objects.all())
    districts = list(District.objects.all())
    banks = {a.code: a for a in Agency.objects.filter(code__in=BANKS)}
    liaisons = {u.agency.code: u for u in users.values() if u.role == "liaison"}
    for code, bank in banks.items():
        if code not in liaisons:
            liaisons[code] = User.objects.filter(agency=bank, role="liaison").first() or create_user(
                username=f"{code.lower()}_liaison",
                agency=bank,
                role="liaison",
                acting_user=None,
                password=DEMO_PASSWORD,
            )
    mules = [(_account(rng), rng.choice(BANKS)) for _ in range(40)]  # shared mule accounts link cases
    now = timezone.now()
    created = 0
    for index in range(cases):
        with transaction.atomic():
            reported = now - timedelta(minutes=rng.randint(10, 60 * 24 * 28))
            transfers = []
            for _ in range(rng.choice([1, 1, 2, 2, 3])):
                to_account, to_bank = rng.choice(mules) if rng.random() < 0.3 else (_account(rng), rng.choice(BANKS))
                transfers.append(
                    actions.TransferData(
                        from_account=_account(rng),
                        from_bank=banks[rng.choice(BANKS)],
                        to_account=to_account,
                        to_bank=banks[to_bank],
                        amount=_money(rng, 500, 80000),
                        at=reported - timedelta(minutes=rng.randint(5, 300)),
                    )
                )
            loss = sum((t.amount for t in transfers), Decimal("0.00"))
            name = rng.choice(SURNAMES) + rng.choice(GIVEN)
            case = actions.create_case(
                acting_user=analyst,
                fraud_type=rng.choice(fraud_types),
                channel=rng.choice(channels),
                district=rng.choice(districts),
                reported_at=reported,
                loss_amount=loss,
                summary=rng.choice(SUMMARIES),
                victims=[
                    actions.VictimData(
                        name=name,
                        id_number=_id_number(rng),
                        phone=f"1{rng.choice('3589')}{rng.randint(0, 999999999):09d}",
                    )
                ],
                transfers=transfers,
            )
            _demo_tasks(case, rng, analyst, supervisor, liaisons, index)
            created += 1
    with transaction.atomic():
        created += len(_serial_return(analyst, supervisor, liaisons, banks))
    _demo_warnings(rng, users["icbc_liaison"])
    return created


WARNING_ADDRESSES = ["武侯区玉林南路8号", "武侯区簇桥街道锦城社区", "武侯区浆洗街12号", None, "武侯区机投镇"]


def _demo_warnings(rng: random.Random, sender: User) -> None:
    """A bank's risk system's clues for Wuhou: some at its stations by address, some at the sub-bureau."""
    from dissuasion.intake import take_clues

    clues = [
        {
            "source_reference": f"ICBC-RISK-DEMO-{n:04d}",
            "phone": f"139{rng.randint(0, 99999999):08d}",
            "name": rng.choice(SURNAMES) + rng.choice(GIVEN),
            "district": "wuhou",
            "address": WARNING_ADDRESSES[n % len(WARNING_ADDRESSES)],
            "level": ("high", "medium", "low")[n % 3],
            "reason": "向已报案账户转账",
            "amount": f"{rng.randint(1000, 50000)}.00",
        }
        for n in range(12)
    ]
    take_clues(sender.agency, sender, clues)


# Serial cases sharing a frozen mule account: a fund return ready to prepare (docs/fund-return.md).
SERIAL_VICTIMS = [("6222021001000000001", "ICBC", "陈静", "8000.00"), ("6222021001000000002", "BOC", "刘洋", "4000.00")]
SERIAL_FIRST_LAYER = [("6228480000009000011", "ABC"), ("6216610000009000022", "BOC")]
SERIAL_SHARED = ("6217000010009000033", "CCB")  # the second layer both cases reach, frozen
SERIAL_ONWARD = ("6228480000009000044", "ABC")  # where part of it went on


def _serial_return(analyst, supervisor, liaisons, banks) -> list[Case]:
    """Two victims, two first-layer mules, one shared second layer frozen at CCB: 9,000 of 12,000 frozen.

    Traced in the frozen account: the first victim 6,000, the second 3,000 (their money
    mixed there before 3,000 left): the analyst opens the account's fund-return page and
    prepares the return; a supervisor approves it.
    """
    now = timezone.now()
    fraud_type = FraudType.objects.get(code="fake_investment")
    channel, district = Channel.objects.get(code="hotline_96110"), District.objects.get(code="wuhou")
    shared, shared_bank = SERIAL_SHARED
    cases = []
    for index, ((victim_account, victim_bank, name, amount), (mule, mule_bank)) in enumerate(
        zip(SERIAL_VICTIMS, SERIAL_FIRST_LAYER, strict=True)
    ):
        reported = now - timedelta(hours=5 - index)
        case = actions.create_case(
            acting_user=analyst,
            fraud_type=fraud_type,
            channel=channel,
            district=district,
            reported_at=reported,
            loss_amount=Decimal(amount),
            summary="串案：资金经不同一级账户汇入同一二级账户（已冻结），可溯源返还。",
            victims=[actions.VictimData(name=name, phone=f"1390000000{index}")],
            transfers=[
                actions.TransferData(
                    from_account=victim_account,
                    from_bank=banks[victim_bank],
                    to_account=mule,
                    to_bank=banks[mule_bank],
                    amount=Decimal(amount),
                    at=reported - timedelta(minutes=30),
                )
            ],
        )
        stop = actions.create_task(
            case,
            acting_user=analyst,
            type=TaskType.EMERGENCY_STOP_PAYMENT,
            agency=banks[mule_bank],
            target_kind="bank_account",
            target_value=mule,
            amount=Decimal(amount),
        )
        stop = actions.approve_task(stop, acting_user=analyst)
        onward = {
            "account_number": shared,
            "bank": shared_bank,
            "holder_name": "赵某",
            "amount": amount,
            "at": (reported - timedelta(minutes=20)).isoformat(),
        }
        actions.submit_result(
            stop,
            acting_user=liaisons[mule_bank],
            status="completed",
            result={"amount_held": "0.00", "onward_transfers": [onward]},
        )
        cases.append(case)
    first = actions.file_case(cases[0], acting_user=analyst, filing_number="成公立字〔2026〕901号")
    freeze = actions.create_task(
        first,
        acting_user=analyst,
        type=TaskType.FREEZE,
        agency=banks[shared_bank],
        target_kind="bank_account",
        target_value=shared,
        amount=Decimal("12000.00"),
        legal_document_number="成公冻字〔2026〕901号",
    )
    freeze = actions.approve_task(freeze, acting_user=supervisor)
    account, bank = SERIAL_ONWARD
    moved = {
        "account_number": account,
        "bank": bank,
        "holder_name": "孙某",
        "amount": "3000.00",
        "at": (now - timedelta(hours=2)).isoformat(),
    }
    actions.submit_result(
        freeze,
        acting_user=liaisons[shared_bank],
        status="completed",
        result={"amount_held": "9000.00", "onward_transfers": [moved]},
    )
    return cases


def _demo_tasks(case, rng, analyst, supervisor, liaisons, index) -> None:
    """Tasks in every state: the mix a centre has on any given day."""
    approve = rng.random() > 0.08
    tasks = actions.issue_stop_payments(case, acting_user=analyst, approve=approve)
    for task in tasks:
        liaison = liaisons.get(task.agency.code)
        if liaison is None or task.state != TaskState.DISPATCHED:
            continue
        roll = rng.random()
        try:
            if roll < 0.15:
                continue  # waiting in the bank's inbox
            if roll < 0.22:
                actions.reject_task(task, acting_user=liaison, reason="账户信息不符，无法止付")
                continue
            actions.accept_task(task, acting_user=liaison)
            if roll < 0.35:
                continue
            if roll < 0.42:
                actions.submit_result(task, acting_user=liaison, status="failed", reason="账户余额为零", result={})
                continue
            held = (task.amount * Decimal(rng.choice(["0.2", "0.5", "0.8", "1"]))).quantize(Decimal("0.01"))
            onward = []
            if held < task.amount and rng.random() < 0.6:
                onward.append(
                    {
                        "account_number": _account(rng),
                        "bank": rng.choice(BANKS),
                        "holder_name": "李某",
                        "amount": str(task.amount - held),
                        "at": (case.reported_at - timedelta(minutes=3)).isoformat(),
                    }
                )
            actions.submit_result(
                task,
                acting_user=liaison,
                status="completed",
                result={"amount_held": str(held), "onward_transfers": onward},
            )
            if roll > 0.95:
                actions.expire_task(task)
        except InvalidTransition:  # pragma: no cover - demo variety, never fatal
            continue
    if index % 7 == 0 and tasks:
        actions.cancel_task(
            actions.create_task(
                case, acting_user=analyst, type=TaskType.OTHER, agency=tasks[0].agency, note="协助核查开户信息"
            ),
            acting_user=supervisor,
            reason="重复任务",
        )
    if index % 5 == 0:
        # A number shutdown waiting for approval, and a warning to the district station.
        phone = f"1{rng.choice('3578')}{rng.randint(0, 999999999):09d}"
        actions.create_task(
            case,
            acting_user=analyst,
            type=TaskType.NUMBER_SHUTDOWN,
            agency=Agency.objects.get(code=rng.choice(["CMCC", "CUCC", "CTCC"])),
            target_kind="phone",
            target_value=phone,
        )
    if index % 11 == 0 and case.district.police_agency_id:
        warn = actions.create_task(
            case,
            acting_user=analyst,
            type=TaskType.VICTIM_WARNING,
            agency=case.district.police_agency,
            note="联系潜在受害人",
        )
        actions.approve_task(warn, acting_user=analyst)
    # Backdate the demo's clock marks to the case's own time, so dashboards look lived-in.
    # Demo seeding only: real tasks are stamped by the actions at the moment they happen.
    Task.objects.filter(case=case).update(created_at=case.reported_at + timedelta(minutes=2))
