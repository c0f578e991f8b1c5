"""Realistic import files built in the tests: Chinese or English headers, GBK / UTF-8 BOM CSV, XLSX."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from django.utils import timezone

from imports.columns import CASE_COLUMNS

ZH = [c.zh for c in CASE_COLUMNS]
EN = [c.en for c in CASE_COLUMNS]


def past(days: float) -> datetime:
    """Beijing wall-clock time ``days`` ago, naive (as a spreadsheet holds it), to the minute."""
    return timezone.localtime(timezone.now() - timedelta(days=days)).replace(tzinfo=None, second=0, microsecond=0)


def case_row(n: int, *, days: float = 400, to_account: str | None = None, **overrides) -> dict:
    """One historical case: a victim, a transfer to a CCB account, a stop-payment and a freeze, closed."""
    reported = past(days)
    row = {
        "reference": f"HIST-{n:06d}",
        "reported_at": reported.strftime("%Y-%m-%d %H:%M"),
        "occurred_at": (reported - timedelta(hours=1)).strftime("%Y/%m/%d %H:%M"),
        "fraud_type": "刷单返利",
        "channel": "110报警",
        "district": "锦江区",
        "loss_amount": "1,234.50",
        "summary": "受害人被诱导刷单",
        "victim_name": "张三",
        "victim_id_number": "51010719900101123X",
        "victim_phone": "13800000000",
        "from_account": "6222020200112233445",
        "from_bank": "ICBC",
        "to_account": to_account or f"62170000{n:011d}",
        "to_bank": "CCB",
        "transfer_amount": "1,234.50",
        "transfer_at": (reported - timedelta(minutes=50)).strftime("%Y-%m-%d %H:%M:%S"),
        "stopped_amount": "1,000.00",
        "stopped_at": (reported + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
        "frozen_amount": "",
        "frozen_at": "",
        "returned_amount": "800.00",
        "returned_at": (reported + timedelta(days=30)).strftime("%Y年%m月%d日"),
        "outcome": "partly_returned",
        "closed_at": (reported + timedelta(days=31)).strftime("%Y-%m-%d"),
        "closure_summary": "返还部分资金",
    }
    row.update(overrides)
    return row


def csv_bytes(rows: list[dict], *, headers: str = "zh", encoding: str = "utf-8-sig") -> bytes:
    names = ZH if headers == "zh" else EN
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(names)
    for row in rows:
        writer.writerow([row.get(c.field, "") for c in CASE_COLUMNS])
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[dict], *, headers: str = "zh", dates_as_cells: bool = True) -> bytes:
    """An XLSX workbook (openpyxl); dates as real datetime cells, amounts as numbers where plain."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(ZH if headers == "zh" else EN)
    for row in rows:
        values = []
        for column in CASE_COLUMNS:
            value = row.get(column.field, "")
            if isinstance(value, str) and dates_as_cells and column.field.endswith("_at") and value:
                for fmt in ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y年%m月%d日", "%Y-%m-%d"):
                    try:
                        value = datetime.strptime(value, fmt)
                        break
                    except ValueError:
                        continue
            values.append(value if value != "" else None)
        sheet.append(values)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
