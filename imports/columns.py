"""The case template's columns (Chinese and English headers) and the banks' statement layouts.

Both are data: docs/imports.md prints them, the template download is written from
``CASE_COLUMNS``, and a bank's layout is a dict of its statement headers to our fields.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Column:
    field: str
    zh: str
    en: str
    required: bool = False
    example: str = ""


CASE_COLUMNS: tuple[Column, ...] = (
    Column("reference", "外部编号", "External reference", True, "HIST-2023-0001"),
    Column("reported_at", "报案时间", "Reported at", True, "2023-05-04 10:30"),
    Column("occurred_at", "发案时间", "Occurred at", False, "2023-05-04 09:10"),
    Column("fraud_type", "诈骗类型", "Fraud type", True, "刷单返利"),
    Column("channel", "报案渠道", "Channel", True, "110报警"),
    Column("district", "辖区", "District", True, "锦江区"),
    Column("loss_amount", "损失金额", "Amount lost", True, "52,000.00"),
    Column("summary", "简要案情", "Summary", False, "受害人被诱导刷单"),
    Column("victim_name", "受害人姓名", "Victim name", True, "李某某"),
    Column("victim_id_number", "受害人身份证号", "Victim ID number", False, "11010519491231002X"),
    Column("victim_phone", "受害人电话", "Victim phone", False, "13912345678"),
    Column("from_account", "转出账号", "From account", False, "6222020200000000001"),
    Column("from_bank", "转出银行", "From bank", False, "ICBC"),
    Column("to_account", "收款账号", "To account", False, "6217000010000000002"),
    Column("to_bank", "收款银行", "To bank", False, "CCB"),
    Column("transfer_amount", "转账金额", "Transfer amount", False, "52,000.00"),
    Column("transfer_at", "转账时间", "Transfer time", False, "2023-05-04 09:20"),
    Column("stopped_amount", "止付金额", "Amount stopped", False, "30,000.00"),
    Column("stopped_at", "止付时间", "Stopped at", False, "2023-05-04 11:00"),
    Column("frozen_amount", "冻结金额", "Amount frozen", False, "30,000.00"),
    Column("frozen_at", "冻结时间", "Frozen at", False, "2023-05-05 15:00"),
    Column("returned_amount", "返还金额", "Amount returned", False, "30,000.00"),
    Column("returned_at", "返还时间", "Returned at", False, "2023-08-01"),
    Column("outcome", "结案结果", "Outcome", False, "partly_returned"),
    Column("closed_at", "结案时间", "Closed at", False, "2023-08-02"),
    Column("closure_summary", "结案摘要", "Closure summary", False, "返还部分资金"),
)
COLUMNS_BY_FIELD = {c.field: c for c in CASE_COLUMNS}

# Labels of fields that are not template columns (errors of a whole row, a statement's fields).
OTHER_LABELS = {
    "row": ("整行", "Whole row"),
    "file": ("文件", "File"),
}


def header_index(headers: list[str], columns, clean) -> tuple[dict[str, int], list[str]]:
    """Column positions by field from a header row in Chinese or English; the required columns missing."""
    by_header = {}
    for column in columns:
        by_header[clean(column.zh)] = column.field
        by_header[clean(column.en)] = column.field
        by_header[clean(column.field)] = column.field
    positions: dict[str, int] = {}
    for index, header in enumerate(headers):
        field = by_header.get(header)
        if field and field not in positions:
            positions[field] = index
    missing = [c.field for c in columns if c.required and c.field not in positions]
    return positions, missing


def column_labels(field: str) -> tuple[str, str]:
    column = COLUMNS_BY_FIELD.get(field) or STATEMENT_COLUMNS_BY_FIELD.get(field)
    if column is not None:
        return column.zh, column.en
    return OTHER_LABELS.get(field, (field, field))


# A statement's fields (what a statement row means to us), with generic headers in both languages.
STATEMENT_COLUMNS: tuple[Column, ...] = (
    Column("at", "交易时间", "Transaction time", True),
    Column("debit", "支出金额", "Debit amount"),
    Column("credit", "收入金额", "Credit amount"),
    Column("amount", "交易金额", "Amount"),
    Column("direction", "借贷标志", "Debit/credit"),
    Column("balance", "余额", "Balance"),
    Column("counterparty_account", "对方账号", "Counterparty account"),
    Column("counterparty_name", "对方户名", "Counterparty name"),
    Column("counterparty_bank", "对方行名", "Counterparty bank"),
    Column("holder_name", "户名", "Account holder"),
    Column("summary", "摘要", "Description"),
)
STATEMENT_COLUMNS_BY_FIELD = {c.field: c for c in STATEMENT_COLUMNS}

# The big banks' statement layouts: their header -> our field. Headers are matched as
# ``parsing.clean_header`` folds them (no spaces, full-width folded, case-insensitive). A
# header not listed is ignored; ``generic`` takes the headers of ``STATEMENT_COLUMNS``.
# Debit markers: the values of ``direction`` that mean money left the account.
BANK_LAYOUTS: dict[str, dict] = {
    "generic": {"label": _("Generic (template headers)"), "columns": {}, "debit_markers": ["借", "支出", "D", "DR"]},
    "ICBC": {
        "label": _("ICBC (Industrial and Commercial Bank of China)"),
        "columns": {
            "交易日期": "at",
            "交易时间": "at",
            "借方发生额": "debit",
            "贷方发生额": "credit",
            "余额": "balance",
            "对方账号": "counterparty_account",
            "对方户名": "counterparty_name",
            "对方行名": "counterparty_bank",
            "户名": "holder_name",
            "摘要": "summary",
        },
        "debit_markers": [],
    },
    "ABC": {
        "label": _("ABC (Agricultural Bank of China)"),
        "columns": {
            "交易时间": "at",
            "交易金额": "amount",
            "借贷标志": "direction",
            "账户余额": "balance",
            "对方账号": "counterparty_account",
            "对方户名": "counterparty_name",
            "对方开户行": "counterparty_bank",
            "账户名称": "holder_name",
            "交易摘要": "summary",
        },
        "debit_markers": ["借", "D"],
    },
    "BOC": {
        "label": _("BOC (Bank of China)"),
        "columns": {
            "交易日期": "at",
            "支出金额": "debit",
            "收入金额": "credit",
            "余额": "balance",
            "对方账号": "counterparty_account",
            "对方户名": "counterparty_name",
            "对方开户行名": "counterparty_bank",
            "客户名称": "holder_name",
            "交易附言": "summary",
        },
        "debit_markers": [],
    },
    "CCB": {
        "label": _("CCB (China Construction Bank)"),
        "columns": {
            "交易时间": "at",
            "借方发生额（支取）": "debit",
            "贷方发生额（收入）": "credit",
            "借方发生额": "debit",
            "贷方发生额": "credit",
            "余额": "balance",
            "对方账号": "counterparty_account",
            "对方户名": "counterparty_name",
            "对方行名": "counterparty_bank",
            "账户名称": "holder_name",
            "摘要": "summary",
        },
        "debit_markers": [],
    },
}

# How statements name the counterparty's bank (a branch's name starts with its bank's): name -> agency code.
# A name that matches no agency leaves the transfer's bank empty (no follow-up is proposed for it).
BANK_NAMES: dict[str, str] = {
    "中国工商银行": "ICBC",
    "工商银行": "ICBC",
    "工行": "ICBC",
    "中国农业银行": "ABC",
    "农业银行": "ABC",
    "农行": "ABC",
    "中国银行": "BOC",
    "中行": "BOC",
    "中国建设银行": "CCB",
    "建设银行": "CCB",
    "建行": "CCB",
    "交通银行": "BOCOM",
    "招商银行": "CMB",
    "中国邮政储蓄银行": "PSBC",
    "邮储银行": "PSBC",
    "成都银行": "BOCD",
}
