"""Reading an import file: CSV (UTF-8, UTF-8 with BOM, GBK) or XLSX, and its cells.

Pure functions: nothing here touches the database. What a cell must be is the
platform's own validators' business (``coordination.validators``,
``cases.validators``); this module only turns what a spreadsheet holds (a
``datetime`` cell, an Excel serial number, ``1,234.50``, ``２０２４年3月5日``)
into the text and instants those validators take. See docs/imports.md.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coordination.validators import parse_amount

# Excel's day 0 (the 1900 leap-year bug included: serials after 60 count from 1899-12-30).
EXCEL_EPOCH = datetime(1899, 12, 30)
# Serials between these are plausible dates (1990-01-01 .. 2099-12-31); others are refused.
EXCEL_SERIAL_RANGE = (32874, 73415)
MAX_FILE_BYTES = 200 * 1024 * 1024


class FileError(Exception):
    """The file as a whole cannot be read (not CSV/XLSX, no header row, unknown encoding)."""


@dataclass
class Table:
    headers: list[str]
    rows: Iterator[tuple[int, list]]  # (row number in the file, 1-based as a spreadsheet shows it; cells)
    encoding: str = ""


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def decode_csv(content: bytes) -> tuple[str, str]:
    """The text of a CSV file and the encoding found: a BOM first, then UTF-8, then GB18030 (a superset of GBK)."""
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8"), "utf-8-sig"
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        raise FileError(_("The file is neither UTF-8 nor GBK text.")) from None


def is_xlsx(content: bytes, file_name: str = "") -> bool:
    return content[:4] == b"PK\x03\x04" or file_name.lower().endswith((".xlsx", ".xlsm"))


def read_table(content: bytes, file_name: str = "") -> Table:
    """The header row and an iterator of the data rows (blank rows skipped) of a CSV or XLSX file."""
    if len(content) > MAX_FILE_BYTES:
        raise FileError(_("The file is larger than 200 MB."))
    if is_xlsx(content, file_name):
        return _read_xlsx(content)
    text, encoding = decode_csv(content)
    reader = csv.reader(io.StringIO(text, newline=""))
    headers = None
    for row in reader:
        if any(cell.strip() for cell in row):
            headers = [clean_header(c) for c in row]
            break
    if headers is None:
        raise FileError(_("The file has no header row."))

    def rows():
        for row in reader:
            if any(cell.strip() for cell in row):
                yield reader.line_num, row

    return Table(headers=headers, rows=rows(), encoding=encoding)


def _read_xlsx(content: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise FileError(_("The file is not a readable XLSX workbook.")) from exc
    sheet = workbook.worksheets[0]
    iterator = sheet.iter_rows(values_only=True)
    headers = None
    number = 0
    for values in iterator:
        number += 1
        if any(v not in (None, "") for v in values):
            headers = [clean_header("" if v is None else str(v)) for v in values]
            break
    if headers is None:
        workbook.close()
        raise FileError(_("The file has no header row."))
    start = number

    def rows():
        n = start
        try:
            for values in iterator:
                n += 1
                if any(v not in (None, "") for v in values):
                    yield n, list(values)
        finally:
            workbook.close()

    return Table(headers=headers, rows=rows(), encoding="xlsx")


def clean_header(value: str) -> str:
    """A header as matched: NFKC (full-width letters), no spaces, case-folded; ``*`` marks of required dropped."""
    value = unicodedata.normalize("NFKC", value or "")
    return re.sub(r"[\s*＊]", "", value).casefold()


def cell_text(value) -> str:
    """A cell as text: numbers without a trailing ``.0`` (an account typed as a number), stripped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def digits_text(value) -> str:
    """An account, ID or phone cell: full-width digits folded (NFKC), a leading apostrophe (Excel text) dropped."""
    text = unicodedata.normalize("NFKC", cell_text(value)).strip()
    return text[1:] if text.startswith("'") else text


_SEPARATORS = re.compile(r"(?<=\d),(?=\d{3}(?:\D|$))")


def amount_text(value) -> str:
    """An amount cell as the text ``parse_amount`` takes.

    Accepted (docs/imports.md): thousands separators (``1,234.50``), full-width digits and
    punctuation (``１２３．４５``, NFKC), a leading ``¥``/``￥``/``RMB``/``CNY`` and a trailing
    ``元``, and numeric cells (an XLSX number; a float is rounded to the cent). Nothing else
    is rewritten: a comma not in thousands position, a sign or letters stay and are refused.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{Decimal(repr(value)).quantize(Decimal('0.01'))}" if value == value else "nan"
    if isinstance(value, Decimal):
        return f"{value:f}"
    text = unicodedata.normalize("NFKC", str(value)).strip()
    text = re.sub(r"^(?:¥|RMB|CNY)\s*", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\s*元$", "", text)
    return _SEPARATORS.sub("", text)


def parse_money(value, *, allow_zero: bool = False) -> Decimal:
    """An amount cell through the API's own ``parse_amount`` (after ``amount_text``)."""
    return parse_amount(amount_text(value), allow_zero=allow_zero)


_DATE_PATTERNS = (
    # 2024-03-05, 2024/3/5, 2024.3.5, 20240305, 2024年3月5日, each optionally followed by a time.
    re.compile(
        r"(?P<y>\d{4})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})日?"
        r"(?:[ T]*(?P<H>\d{1,2})[:时](?P<M>\d{1,2})(?:[:分](?P<S>\d{1,2})(?:\.(?P<f>\d{1,6}))?秒?)?)?"
    ),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?:[ T]?(?P<H>\d{2}):?(?P<M>\d{2}):?(?P<S>\d{2})?)?"),
)
DATE_FORMAT = _("Enter a date such as 2024-03-05 or 2024-03-05 14:30 (Beijing time), or an Excel date.")


def parse_moment(value) -> datetime:
    """A date or time cell as an aware instant: times without a zone are Beijing time (``TIME_ZONE``).

    Takes ``datetime``/``date`` cells (XLSX), Excel serial numbers (a number cell or its
    text, ``45356.5``), ISO 8601 with an offset (the API's form), and the usual written
    forms (``2024-03-05 14:30``, ``2024/3/5``, ``2024年3月5日``, ``20240305``). A date alone
    is midnight. Range checks are the callers' (``check_case_times``, ``check_instant``).
    """
    zone = timezone.get_default_timezone()
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value, zone)
    if isinstance(value, date):
        return timezone.make_aware(datetime.combine(value, time()), zone)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_serial(float(value), zone)
    text = unicodedata.normalize("NFKC", cell_text(value)).strip()
    if not text:
        raise ValidationError(DATE_FORMAT, code="invalid_date")
    if re.fullmatch(r"\d{5}(\.\d+)?", text):
        return _from_serial(float(text), zone)
    if re.search(r"(Z|[+-]\d{2}:?\d{2})$", text) and "T" in text:
        try:
            parsed = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError:
            raise ValidationError(DATE_FORMAT, code="invalid_date") from None
        if parsed.utcoffset() is not None:
            return parsed
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            parts = match.groupdict()
            try:
                moment = datetime(
                    int(parts["y"]),
                    int(parts["m"]),
                    int(parts["d"]),
                    int(parts["H"] or 0),
                    int(parts["M"] or 0),
                    int(parts.get("S") or 0),
                    int((parts.get("f") or "0").ljust(6, "0")),
                )
            except ValueError:
                raise ValidationError(_("This date does not exist."), code="invalid_date") from None
            return timezone.make_aware(moment, zone)
    raise ValidationError(DATE_FORMAT, code="invalid_date")


def _from_serial(serial: float, zone) -> datetime:
    low, high = EXCEL_SERIAL_RANGE
    if not low <= serial <= high:
        raise ValidationError(_("This Excel date is not between 1990 and 2099."), code="invalid_date")
    moment = EXCEL_EPOCH + timedelta(days=serial)
    # Excel keeps seconds as a fraction of a day: round to the second it displays.
    moment = (moment + timedelta(microseconds=500_000)).replace(microsecond=0)
    return timezone.make_aware(moment, zone)
