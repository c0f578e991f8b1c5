"""A bank statement (流水) in as an account query's result, exactly as a posted result would be.

The file's columns are read through a bank's layout (``columns.BANK_LAYOUTS``: its
headers to our fields; the generic headers of ``STATEMENT_COLUMNS`` always work too).
Money out of the account to another account (a debit with a counterparty account) is an
onward transfer; the holder's name and the last balance complete the result. The result
then goes through ``cases.actions.submit_result`` (``from_statement=True``): the type's
fields and the v1.1 rules (``clean_task_result``), identifiers and money-flow edges for
the onward accounts, follow-up proposals for the next layer, the same digest (the same
statement twice changes nothing; a different one after a result is a conflict).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation

from agencies.models import Agency, User
from cases.actions import submit_result
from cases.actions.common import NoChange
from cases.choices import ResultStatus, TaskState, TaskType
from cases.models import Task
from cases.result_rules import clean_task_result
from cases.validators import normalise_account, validate_bank_account
from coordination import audit
from coordination.choices import AuditAction
from coordination.exceptions import Conflict

from . import parsing
from .cases_import import RowError
from .columns import BANK_LAYOUTS, BANK_NAMES, STATEMENT_COLUMNS

MAX_ONWARD = 200


class StatementError(Exception):
    """The statement as a whole is refused (wrong task, unreadable file, a rule of the result)."""

    def __init__(self, zh: str, en: str):
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en


@dataclass
class StatementReport:
    rows: int = 0
    onward: int = 0
    errors: list[dict] = field(default_factory=list)
    result: dict = field(default_factory=dict)
    changed: bool = False


def layout_positions(headers: list[str], bank: str) -> dict[str, int]:
    layout = BANK_LAYOUTS.get(bank or "generic")
    if layout is None:
        raise StatementError(f"未知的银行格式：{bank}", f"Unknown bank layout: {bank}")
    by_header = {parsing.clean_header(h): f for h, f in layout["columns"].items()}
    for column in STATEMENT_COLUMNS:
        by_header.setdefault(parsing.clean_header(column.zh), column.field)
        by_header.setdefault(parsing.clean_header(column.en), column.field)
    positions: dict[str, int] = {}
    for index, header in enumerate(headers):
        name = by_header.get(header)
        if name and name not in positions:
            positions[name] = index
    if "at" not in positions or not ({"debit"} <= set(positions) or {"amount", "direction"} <= set(positions)):
        raise StatementError(
            "找不到交易时间和支出金额列：请选择正确的银行格式。",
            "No transaction time and debit columns found: choose the bank's layout.",
        )
    return positions


def _bank_codes() -> dict[str, str]:
    codes = {}
    for code, name, name_en in Agency.objects.values_list("code", "name", "name_en"):
        for key in (code, name, name_en):
            if key:
                codes.setdefault(parsing.clean_header(key), code)
    return codes


def _read_row(values, positions, markers, banks) -> tuple[dict | None, list[tuple[str, str]], dict]:
    """One statement row: ``(onward transfer or None, errors, extras)`` in the active language."""
    errors: list[tuple[str, str]] = []

    def raw(name):
        index = positions.get(name)
        if index is None or index >= len(values):
            return None
        value = values[index]
        return None if (isinstance(value, str) and not value.strip()) else value

    at = None
    try:
        at = parsing.parse_moment(raw("at")).isoformat()
    except ValidationError as exc:
        errors.extend(("at", str(m)) for m in exc.messages)
    out = None
    if "debit" in positions:
        if raw("debit") is not None:
            try:
                out = parsing.parse_money(raw("debit"), allow_zero=True)
            except ValidationError as exc:
                errors.extend(("debit", str(m)) for m in exc.messages)
    else:
        direction = parsing.cell_text(raw("direction")).upper()
        if direction and any(direction.startswith(m.upper()) for m in markers):
            try:
                out = parsing.parse_money(raw("amount"))
            except ValidationError as exc:
                errors.extend(("amount", str(m)) for m in exc.messages)
    extras = {"holder_name": parsing.cell_text(raw("holder_name"))[:100]}
    if raw("balance") is not None:
        try:
            extras["balance"] = f"{parsing.parse_money(raw('balance'), allow_zero=True)}"
        except ValidationError as exc:
            errors.extend(("balance", str(m)) for m in exc.messages)
    account = parsing.digits_text(raw("counterparty_account"))
    if not out or not account:
        return None, errors, extras
    try:
        validate_bank_account(account)
    except ValidationError as exc:
        errors.extend(("counterparty_account", str(m)) for m in exc.messages)
        return None, errors, extras
    bank_name = parsing.clean_header(parsing.cell_text(raw("counterparty_bank")))
    bank = banks.get(bank_name, "")
    if not bank and bank_name:
        # A branch's name ("中国建设银行成都分行") names its bank: the longest known name it starts with.
        for name in sorted(BANK_NAMES, key=len, reverse=True):
            if bank_name.startswith(name) and BANK_NAMES[name] in banks.values():
                bank = BANK_NAMES[name]
                break
    return (
        {
            "account_number": normalise_account(account),
            "bank": bank,
            "holder_name": parsing.cell_text(raw("counterparty_name"))[:100],
            "amount": f"{out}",
            "at": at,
        },
        errors,
        extras,
    )


def read_statement(content: bytes, file_name: str, bank: str) -> StatementReport:
    """The statement's rows as an account query's result, and every row's errors (both languages)."""
    try:
        table = parsing.read_table(content, file_name)
    except parsing.FileError as exc:
        with translation.override("zh-hans"):
            zh = str(exc)
        with translation.override("en"):
            en = str(exc)
        raise StatementError(zh, en) from None
    positions = layout_positions(table.headers, bank)
    markers = BANK_LAYOUTS[bank or "generic"].get("debit_markers") or BANK_LAYOUTS["generic"]["debit_markers"]
    banks = _bank_codes()
    report = StatementReport()
    onward: list[tuple[int, dict]] = []
    holder, balance, last_at = "", None, None
    for number, values in table.rows:
        report.rows += 1
        with translation.override("zh-hans"):
            transfer, errors, extras = _read_row(values, positions, markers, banks)
        if errors:
            with translation.override("en"):
                _t, errors_en, _e = _read_row(values, positions, markers, banks)
            for index, (name, message) in enumerate(errors):
                english = errors_en[index][1] if index < len(errors_en) else message
                report.errors.append(RowError(number, name, message, english).as_dict())
            continue
        holder = holder or extras.get("holder_name", "")
        if "balance" in extras:
            at = parsing.parse_moment(values[positions["at"]])
            if last_at is None or at >= last_at:
                balance, last_at = extras["balance"], at
        if transfer is not None:
            onward.append((number, transfer))
    if len(onward) > MAX_ONWARD:
        raise StatementError(
            f"流水中有 {len(onward)} 笔转出，一个结果最多 {MAX_ONWARD} 笔：请按时间拆分文件。",
            f"The statement has {len(onward)} outgoing transfers, a result at most {MAX_ONWARD}: "
            "split the file by time.",
        )
    result: dict = {}
    if holder:
        result["holder_name"] = holder
    if balance is not None:
        result["balance"] = balance
    if onward:
        result["onward_transfers"] = [t for _n, t in onward]
    report.onward = len(onward)
    report.result = result
    report._rows_of_onward = [n for n, _t in onward]  # type: ignore[attr-defined]
    return report


def _rule_errors(exc: ValidationError, rows_of_onward: list[int]) -> list[dict]:
    """The result rules' errors (``result.onward_transfers.3.at``) as row errors of the file."""
    found = []
    for key, messages in exc.message_dict.items():
        parts = key.split(".")
        row, name = 0, parts[-1]
        if "onward_transfers" in parts:
            index = parts.index("onward_transfers") + 1
            if index < len(parts) and parts[index].isdigit() and int(parts[index]) < len(rows_of_onward):
                row = rows_of_onward[int(parts[index])]
                name = {"account_number": "counterparty_account", "amount": "debit"}.get(name, name)
        for message in messages:
            found.append(RowError(row, name if row else "file", str(message), str(message)).as_dict())
    return found


RESULT_STATES = (TaskState.APPROVED, TaskState.DISPATCHED, TaskState.ACCEPTED)


def check_task(task: Task) -> None:
    if task.type != TaskType.ACCOUNT_QUERY:
        raise StatementError("只有账户查询任务可以导入流水。", "Only an account query takes a bank statement.")
    if task.state not in RESULT_STATES and not task.result_digest:
        raise StatementError(
            "这个任务在当前状态下不能记录结果（须已批准且未结束）。",
            "This task cannot take a result in its state (it must be approved and not finished).",
        )


def import_statement(
    task: Task, *, content: bytes, file_name: str, bank: str, acting_user: User, dry_run: bool = False
) -> StatementReport:
    """Read the statement and (unless ``dry_run`` or with row errors) record it as the task's result."""
    check_task(task)
    report = read_statement(content, file_name, bank)
    rows_of_onward = report._rows_of_onward  # type: ignore[attr-defined]
    try:
        with translation.override("zh-hans"):
            clean_task_result(task, status=ResultStatus.COMPLETED, result=report.result)
    except ValidationError as exc:
        with translation.override("en"):
            try:
                clean_task_result(task, status=ResultStatus.COMPLETED, result=report.result)
                english = []
            except ValidationError as exc_en:
                english = _rule_errors(exc_en, rows_of_onward)
        zh = _rule_errors(exc, rows_of_onward)
        for index, error in enumerate(zh):
            if index < len(english):
                error["message_en"] = english[index]["message_en"]
        report.errors.extend(zh)
    if dry_run or report.errors:
        return report
    try:
        with transaction.atomic():
            task, changed = submit_result(
                task, acting_user=acting_user, status=ResultStatus.COMPLETED, result=report.result, from_statement=True
            )
            if changed:
                audit.record(
                    user=acting_user,
                    action=AuditAction.STATEMENT_IMPORT,
                    obj=task,
                    case_id=task.case_id,
                    after={
                        "imported": True,
                        "file": file_name[:255],
                        "file_sha256": parsing.sha256(content),
                        "bank": bank or "generic",
                        "rows": report.rows,
                        "onward_transfers": report.onward,
                    },
                )
    except NoChange:
        changed = False
    except Conflict as exc:
        raise StatementError(
            "这个任务已经记录了不同的结果。", "A different result was already recorded for this task."
        ) from exc
    report.changed = changed
    return report


def amount_out(report: StatementReport) -> Decimal:
    return sum((Decimal(t["amount"]) for t in report.result.get("onward_transfers", [])), Decimal("0.00"))
