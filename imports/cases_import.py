"""Historical cases in: check every row (dry run), then write them in batches.

``check_rows`` is pure but for the reference data it reads once: each row goes through
the platform's own validators (``coordination.validators.parse_amount`` and
``check_instant``, ``cases.validators``: resident ID, phone, account, ``check_case_times``;
``cases.actions.closure_errors``) and comes out as a ``CaseRow`` or as errors naming the row,
the column and the message in Chinese and English.

``write_batch`` writes a batch of checked rows in the caller's transaction with bulk
inserts: the cases (references from ``case_reference_seq`` as at intake), victims,
identifiers (stored once, normalised; an identifier already known links the new case to
the earlier ones exactly as ``cases.actions.add_identifier`` does: the same
``earlier_cases`` query, ``case_count`` for the suspect roles), the money-flow edges,
the historical stop-payments and freezes as completed tasks, the provenance row
(``ImportedCase``: external reference, file hash, row) and one ``case.import`` audit row
per case that names the file, the row and every record created. A reference already
imported is skipped: re-importing a file changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone, translation

from agencies.models import Agency, User
from cases import holdings, search, task_types
from cases.actions.cases import closure_errors
from cases.actions.identifiers import SUSPECT_ROLES, earlier_cases
from cases.actions.results import result_digest
from cases.choices import (
    CaseOutcome,
    CaseStatus,
    IdentifierRole,
    ResultStatus,
    TargetKind,
    TaskState,
    TaskType,
    TransferSource,
)
from cases.models import Case, CaseIdentifier, Channel, District, FraudType, Identifier, Task, Transfer, Victim
from cases.validators import (
    check_case_times,
    normalise_identifier,
    validate_bank_account,
    validate_resident_id,
    validate_victim_phone,
)
from coordination.choices import AuditAction
from coordination.models import AuditRecord
from coordination.validators import CLOCK_SKEW, check_instant

from . import parsing
from .columns import CASE_COLUMNS, column_labels, header_index
from .copying import copy_insert
from .models import ImportedCase

BATCH_SIZE = 1000
MAX_STORED_ERRORS = 2000


@dataclass
class RowError:
    row: int
    field: str
    message_zh: str
    message_en: str = ""

    def as_dict(self) -> dict:
        zh, en = column_labels(self.field)
        return {
            "row": self.row,
            "field": self.field,
            "column_zh": zh,
            "column_en": en,
            "message_zh": self.message_zh,
            "message_en": self.message_en or self.message_zh,
        }


@dataclass
class CaseRow:
    row: int
    reference: str
    reported_at: datetime
    occurred_at: datetime | None
    fraud_type_id: int
    channel_id: int
    district_id: int
    loss_amount: Decimal
    summary: str
    victim_name: str
    victim_id_number: str
    victim_phone: str
    from_account: str = ""
    from_bank_id: int | None = None
    to_account: str = ""
    to_bank_id: int | None = None
    transfer_amount: Decimal | None = None
    transfer_at: datetime | None = None
    stopped_amount: Decimal | None = None
    stopped_at: datetime | None = None
    frozen_amount: Decimal | None = None
    frozen_at: datetime | None = None
    returned_amount: Decimal | None = None
    returned_at: datetime | None = None
    outcome: str = ""
    closed_at: datetime | None = None
    closure_summary: str = ""


@dataclass
class Reference:
    """Reference data by every name a file may use: code, Chinese name, English name (case-folded)."""

    fraud_types: dict[str, int]
    channels: dict[str, int]
    districts: dict[str, int]
    banks: dict[str, int]
    bank_sectors: dict[int, str]
    outcomes: dict[str, str] = field(default_factory=dict)
    now: datetime = field(default_factory=timezone.now)
    # Values already checked (an account or phone on many rows is checked once): value -> messages.
    seen: dict[tuple[str, str], list] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)

    def key(self, value) -> str:
        """A reference cell as matched (``clean_header``), remembered: the same few names fill every row."""
        text = parsing.cell_text(value)
        found = self.keys.get(text)
        if found is None:
            found = self.keys[text] = parsing.clean_header(text)
        return found

    def check(self, kind: str, value: str, validator) -> list[str]:
        """``validator(value)``'s messages in the active language (``[]`` when valid), remembered for the value.

        The lazy messages are kept, so a row checked again in the other language reads them in it.
        """
        key = (kind, value)
        found = self.seen.get(key)
        if found is None:
            try:
                validator(value)
                found = []
            except ValidationError as exc:
                found = [(e.message, e.params) for e in exc.error_list]
            if len(self.seen) > 200_000:
                self.seen.clear()
            self.seen[key] = found
        return [str(m) % p if p else str(m) for m, p in found]

    @classmethod
    def load(cls) -> Reference:
        def names(rows):
            found = {}
            for pk, code, name, name_en in rows:
                for key in (code, name, name_en):
                    if key:
                        found.setdefault(parsing.clean_header(key), pk)
            return found

        agencies = list(Agency.objects.values_list("pk", "code", "name", "name_en", "sector"))
        outcomes = {}
        for value, label in CaseOutcome.choices:
            outcomes[parsing.clean_header(value)] = value
            for language in ("zh-hans", "en"):
                with translation.override(language):
                    outcomes[parsing.clean_header(str(label))] = value
        return cls(
            outcomes=outcomes,
            fraud_types=names(FraudType.objects.values_list("pk", "code", "name", "name_en")),
            channels=names(Channel.objects.values_list("pk", "code", "name", "name_en")),
            districts=names(District.objects.values_list("pk", "code", "name", "name_en")),
            banks=names((pk, code, name, name_en) for pk, code, name, name_en, _s in agencies),
            bank_sectors={pk: sector for pk, _c, _n, _e, sector in agencies},
        )


@dataclass
class CheckReport:
    """What a pass over a file found: rows, valid rows, rows already imported, errors."""

    total: int = 0
    valid: int = 0
    already: int = 0
    error_rows: int = 0
    errors: list[dict] = field(default_factory=list)

    def add_errors(self, errors: list[RowError]) -> None:
        self.error_rows += 1
        for error in errors:
            if len(self.errors) < MAX_STORED_ERRORS:
                self.errors.append(error.as_dict())


def open_file(content: bytes, file_name: str):
    """The table of a case file and the column positions, or a ``FileError`` naming missing columns."""
    table = parsing.read_table(content, file_name)
    positions, missing = header_index(table.headers, CASE_COLUMNS, parsing.clean_header)
    if missing:
        names_zh = "、".join(column_labels(f)[0] for f in missing)
        names_en = ", ".join(column_labels(f)[1] for f in missing)
        raise parsing.FileError(f"缺少必填列：{names_zh} / Required columns missing: {names_en}")
    return table, positions


def _messages(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def _check(values: list, positions: dict[str, int], row: int, ref: Reference) -> tuple[CaseRow | None, list]:
    """One row against the validators, in the active language: ``(CaseRow, [])`` or ``(None, [(field, message)])``."""
    errors: list[tuple[str, str]] = []

    def raw(name):
        index = positions.get(name)
        if index is None or index >= len(values):
            return None
        value = values[index]
        return None if (isinstance(value, str) and not value.strip()) else value

    def text(name, limit):
        value = parsing.cell_text(raw(name))
        if len(value) > limit:
            errors.append((name, str(translation.gettext("At most %(n)d characters.") % {"n": limit})))
            return value[:limit]
        if "\x00" in value:
            errors.append((name, translation.gettext("Control characters are not allowed.")))
        return value

    def required(name):
        if raw(name) is None:
            errors.append((name, translation.gettext("This column is required.")))
            return False
        return True

    def money(name, need=False):
        if raw(name) is None:
            if need:
                errors.append((name, translation.gettext("This column is required.")))
            return None
        try:
            return parsing.parse_money(raw(name))
        except ValidationError as exc:
            errors.extend((name, m) for m in _messages(exc))
            return None

    def moment(name, need=False):
        if raw(name) is None:
            if need:
                errors.append((name, translation.gettext("This column is required.")))
            return None
        try:
            value = parsing.parse_moment(raw(name))
            check_instant(value)
            return value
        except ValidationError as exc:
            errors.extend((name, m) for m in _messages(exc))
            return None

    def lookup(name, table):
        if not required(name):
            return None
        found = table.get(ref.key(raw(name)))
        if found is None:
            errors.append((name, translation.gettext("Unknown value: use a code or a name from the reference list.")))
        return found

    def bank(name):
        if raw(name) is None:
            return None
        found = ref.banks.get(ref.key(raw(name)))
        if found is None:
            errors.append((name, translation.gettext("Unknown bank: use its code (e.g. CCB) or its name.")))
        return found

    def account(name):
        value = parsing.digits_text(raw(name))
        if not value:
            return ""
        messages = ref.check("account", value, validate_bank_account)
        if messages:
            errors.extend((name, str(m)) for m in messages)
            return ""
        return normalise_identifier(TargetKind.BANK_ACCOUNT, value)

    reference = text("reference", 64)
    required("reference")
    reported_at = moment("reported_at", need=True)
    occurred_at = moment("occurred_at")
    fraud_type = lookup("fraud_type", ref.fraud_types)
    channel = lookup("channel", ref.channels)
    district = lookup("district", ref.districts)
    loss = money("loss_amount", need=True)
    summary = text("summary", 20000)
    victim_name = text("victim_name", 100)
    required("victim_name")
    id_number = parsing.digits_text(raw("victim_id_number")).upper()
    if id_number:
        errors.extend(("victim_id_number", str(m)) for m in ref.check("id", id_number, validate_resident_id))
    phone = parsing.digits_text(raw("victim_phone"))
    if phone:
        errors.extend(("victim_phone", str(m)) for m in ref.check("phone", phone, validate_victim_phone))
        phone = normalise_identifier("phone", phone)
    from_account, to_account = account("from_account"), account("to_account")
    from_bank, to_bank = bank("from_bank"), bank("to_bank")
    transfer_amount, transfer_at = money("transfer_amount"), moment("transfer_at")
    transfer_given = [raw(n) is not None for n in ("from_account", "to_account", "transfer_amount", "transfer_at")]
    if any(transfer_given) and not all(transfer_given):
        for name, given in zip(
            ("from_account", "to_account", "transfer_amount", "transfer_at"), transfer_given, strict=True
        ):
            if not given:
                errors.append((name, translation.gettext("A transfer needs both accounts, its amount and its time.")))
    stopped, stopped_at = money("stopped_amount"), moment("stopped_at", need=raw("stopped_amount") is not None)
    frozen, frozen_at = money("frozen_amount"), moment("frozen_at", need=raw("frozen_amount") is not None)
    returned, returned_at = money("returned_amount"), moment("returned_at", need=raw("returned_amount") is not None)
    for name, type_code in (("stopped_amount", TaskType.EMERGENCY_STOP_PAYMENT), ("frozen_amount", TaskType.FREEZE)):
        if raw(name) is None:
            continue
        if not to_account or to_bank is None:
            errors.append(
                (name, translation.gettext("A stop-payment or freeze needs the receiving account and its bank."))
            )
        elif ref.bank_sectors.get(to_bank) not in task_types.get(type_code).sectors:
            errors.append((name, translation.gettext("The receiving bank is not an agency that holds money.")))
    outcome = parsing.cell_text(raw("outcome"))
    closure_summary = text("closure_summary", 20000)
    closed_at = moment("closed_at", need=bool(outcome))
    if outcome:
        # Outcome by code or by its name in either language.
        outcome = ref.outcomes.get(parsing.clean_header(outcome), outcome)
        for name, messages in closure_errors(summary=closure_summary, outcome=outcome).items():
            errors.extend(("closure_summary" if name == "summary" else name, str(m)) for m in messages)
    elif closure_summary or raw("closed_at") is not None:
        errors.append(("outcome", translation.gettext("Choose how the case ended.")))
    if reported_at is not None:
        times = [("transfer_at", transfer_at)] if transfer_at is not None else []
        for name, messages in check_case_times(
            reported_at=reported_at, occurred_at=occurred_at, transfer_times=times, now=ref.now
        ).items():
            errors.extend((name, str(m)) for m in messages)
        latest = ref.now + CLOCK_SKEW
        for name, value in (
            ("stopped_at", stopped_at),
            ("frozen_at", frozen_at),
            ("returned_at", returned_at),
            ("closed_at", closed_at),
        ):
            if value is None:
                continue
            if value < reported_at:
                errors.append((name, translation.gettext("This time is before the case was reported.")))
            elif value > latest:
                errors.append((name, translation.gettext("This time is in the future.")))
    if errors:
        return None, errors
    return (
        CaseRow(
            row=row,
            reference=reference,
            reported_at=reported_at,
            occurred_at=occurred_at,
            fraud_type_id=fraud_type,
            channel_id=channel,
            district_id=district,
            loss_amount=loss,
            summary=summary,
            victim_name=victim_name,
            victim_id_number=id_number,
            victim_phone=phone,
            from_account=from_account,
            from_bank_id=from_bank,
            to_account=to_account,
            to_bank_id=to_bank,
            transfer_amount=transfer_amount,
            transfer_at=transfer_at,
            stopped_amount=stopped,
            stopped_at=stopped_at,
            frozen_amount=frozen,
            frozen_at=frozen_at,
            returned_amount=returned,
            returned_at=returned_at,
            outcome=outcome,
            closed_at=closed_at,
            closure_summary=closure_summary,
        ),
        [],
    )


def check_row(values: list, positions: dict[str, int], row: int, ref: Reference) -> tuple[CaseRow | None, list]:
    """A row checked in Chinese; a row with errors is checked again in English for the second message."""
    parsed, errors = _check(values, positions, row, ref)
    if not errors:
        return parsed, []
    with translation.override("zh-hans"):
        _parsed, errors_zh = _check(values, positions, row, ref)
    with translation.override("en"):
        _parsed, errors_en = _check(values, positions, row, ref)
    errors = []
    for index, (name, message) in enumerate(errors_zh):
        english = errors_en[index][1] if index < len(errors_en) else message
        errors.append(RowError(row=row, field=name, message_zh=message, message_en=english))
    return None, errors


def checked_rows(
    rows: Iterable[tuple[int, list]],
    positions: dict[str, int],
    ref: Reference,
    report: CheckReport,
    seen: dict[str, int] | None = None,
) -> Iterator[CaseRow]:
    """The valid rows of a file, in order; errors (and duplicates within the file) go to ``report``.

    ``seen`` (reference -> row) carries the file's references from one batch to the next.
    """
    seen = {} if seen is None else seen
    for number, values in rows:
        report.total += 1
        parsed, errors = check_row(values, positions, number, ref)
        if parsed is not None and parsed.reference in seen:
            first = seen[parsed.reference]
            errors = [
                RowError(
                    number,
                    "reference",
                    f"此外部编号已在第 {first} 行出现。",
                    f"This external reference already appears in row {first}.",
                )
            ]
            parsed = None
        if parsed is None:
            report.add_errors(errors)
            continue
        seen[parsed.reference] = number
        report.valid += 1
        yield parsed


def already_imported(references: Iterable[str]) -> set[str]:
    return set(ImportedCase.objects.filter(reference__in=list(references)).values_list("reference", flat=True))


def dry_run(content: bytes, file_name: str) -> CheckReport:
    """Every row's errors, and how many rows are already imported; nothing is written."""
    table, positions = open_file(content, file_name)
    report = CheckReport()
    ref = Reference.load()
    batch: list[str] = []
    for parsed in checked_rows(table.rows, positions, ref, report):
        batch.append(parsed.reference)
        if len(batch) >= BATCH_SIZE:
            report.already += len(already_imported(batch))
            batch = []
    if batch:
        report.already += len(already_imported(batch))
    return report


def batches(iterator: Iterable, size: int = BATCH_SIZE) -> Iterator[list]:
    batch = []
    for item in iterator:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _references(reported: list[datetime]) -> list[str]:
    """``CD-<year>-<serial>`` for each case, from the intake's sequence in one query."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('case_reference_seq') FROM generate_series(1, %s)", [len(reported)])
        serials = [row[0] for row in cursor.fetchall()]
    return [f"CD-{timezone.localtime(at).year}-{serial:06d}" for at, serial in zip(reported, serials, strict=True)]


def _identifiers(keys: dict[tuple[str, str], int | None]) -> dict[tuple[str, str], Identifier]:
    """Every (kind, value) found or created once, filling a missing bank as ``add_identifier`` does."""
    values = {value for _kind, value in keys}
    found = {(i.kind, i.value): i for i in Identifier.objects.filter(value__in=values) if (i.kind, i.value) in keys}
    missing = [k for k in keys if k not in found]
    if missing:
        Identifier.objects.bulk_create(
            [Identifier(kind=kind, value=value, bank_id=keys[(kind, value)]) for kind, value in missing],
            ignore_conflicts=True,
            batch_size=BATCH_SIZE,
        )
        for identifier in Identifier.objects.filter(value__in={v for _k, v in missing}):
            if (identifier.kind, identifier.value) in keys:
                found[(identifier.kind, identifier.value)] = identifier
    fill = [i.pk for key, i in found.items() if i.bank_id is None and keys[key] is not None]
    for key, identifier in found.items():
        if identifier.pk in fill:
            Identifier.objects.filter(pk=identifier.pk, bank__isnull=True).update(bank_id=keys[key])
    return found


def write_batch(rows: list[CaseRow], *, acting_user: User, file_name: str, file_sha256: str, job=None) -> dict:
    """Write checked rows (in the caller's transaction); rows already imported are skipped.

    Returns ``{"created": n, "skipped": n, "case_ids": [...]}``.
    """
    known = already_imported(r.reference for r in rows)
    rows = [r for r in rows if r.reference not in known]
    if not rows:
        return {"created": 0, "skipped": len(known), "case_ids": []}
    now = timezone.now()
    ident_keys: dict[tuple[str, str], int | None] = {}
    for r in rows:
        if r.from_account:
            ident_keys.setdefault((TargetKind.BANK_ACCOUNT, r.from_account), r.from_bank_id)
            ident_keys[(TargetKind.BANK_ACCOUNT, r.from_account)] = (
                ident_keys[(TargetKind.BANK_ACCOUNT, r.from_account)] or r.from_bank_id
            )
        if r.to_account:
            key = (TargetKind.BANK_ACCOUNT, r.to_account)
            ident_keys[key] = ident_keys.get(key) or r.to_bank_id
    identifiers = _identifiers(ident_keys) if ident_keys else {}

    references = _references([r.reported_at for r in rows])
    cases = []
    for r, reference in zip(rows, references, strict=True):
        pairs = []
        if r.from_account:
            pairs.append((TargetKind.BANK_ACCOUNT, r.from_account))
        if r.to_account and r.to_account != r.from_account:
            pairs.append((TargetKind.BANK_ACCOUNT, r.to_account))
        full, masked = search.search_texts([(r.victim_name, r.victim_phone)], pairs)
        closed = bool(r.outcome)
        cases.append(
            Case(
                reference=reference,
                fraud_type_id=r.fraud_type_id,
                channel_id=r.channel_id,
                district_id=r.district_id,
                reported_at=r.reported_at,
                occurred_at=r.occurred_at,
                loss_amount=r.loss_amount,
                summary=r.summary,
                status=CaseStatus.CLOSED if closed else CaseStatus.OPEN,
                outcome=r.outcome,
                closure_summary=r.closure_summary,
                closed_at=r.closed_at if closed else None,
                amount_returned=r.returned_amount or Decimal("0.00"),
                created_by=acting_user,
                search_text=full,
                search_masked=masked,
            )
        )
    copy_insert(Case, cases, now=now)
    victims = [
        Victim(case=c, name=r.victim_name, id_number=r.victim_id_number, phone=r.victim_phone)
        for c, r in zip(cases, rows, strict=True)
    ]
    copy_insert(Victim, victims, now=now)

    links, transfers, tasks = [], [], []
    link_roles: dict[int, list[tuple[int, str]]] = {}
    suspect_counts: dict[int, int] = {}
    for case, r in zip(cases, rows, strict=True):
        roles: dict[int, str] = {}
        if r.from_account:
            roles[identifiers[(TargetKind.BANK_ACCOUNT, r.from_account)].pk] = IdentifierRole.VICTIM_ACCOUNT
        if r.to_account:
            # As at intake: a suspect role wins over the victim's own.
            roles[identifiers[(TargetKind.BANK_ACCOUNT, r.to_account)].pk] = IdentifierRole.RECEIVING_ACCOUNT
        for identifier_id, role in roles.items():
            links.append(CaseIdentifier(case=case, identifier_id=identifier_id, role=role))
            if role in SUSPECT_ROLES:
                suspect_counts[identifier_id] = suspect_counts.get(identifier_id, 0) + 1
        link_roles[case.pk] = list(roles.items())
        if r.transfer_amount is not None:
            transfers.append(
                Transfer(
                    case=case,
                    from_identifier=identifiers[(TargetKind.BANK_ACCOUNT, r.from_account)],
                    to_identifier=identifiers[(TargetKind.BANK_ACCOUNT, r.to_account)],
                    amount=r.transfer_amount,
                    at=r.transfer_at,
                    source=TransferSource.VICTIM_REPORT,
                )
            )
        for type_code, amount, at in (
            (TaskType.EMERGENCY_STOP_PAYMENT, r.stopped_amount, r.stopped_at),
            (TaskType.FREEZE, r.frozen_amount, r.frozen_at),
        ):
            if amount is None:
                continue
            tasks.append(_historical_task(case, r, type_code, amount, at, identifiers, acting_user, file_name))
    copy_insert(CaseIdentifier, links, now=now)
    copy_insert(Transfer, transfers, now=now)
    copy_insert(Task, tasks, now=now)
    if suspect_counts:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE cases_identifier AS i SET case_count = i.case_count + v.n, last_seen_at = %s "
                "FROM unnest(%s::bigint[], %s::int[]) AS v(id, n) WHERE i.id = v.id",
                [now, list(suspect_counts), list(suspect_counts.values())],
            )
    # The stored stopped and frozen totals by the one rule (cases.holdings: live holdings only).
    with_tasks = sorted({t.case_id for t in tasks})
    if with_tasks:
        totals = holdings.case_totals(with_tasks, now)
        changed = [
            Case(pk=pk, amount_stopped=t.amount_stopped, amount_frozen=t.amount_frozen)
            for pk, t in totals.items()
            if t.amount_stopped or t.amount_frozen
        ]
        Case.objects.bulk_update(changed, ["amount_stopped", "amount_frozen"], batch_size=BATCH_SIZE)
    # Linkage as at intake: the earlier cases that name each identifier.
    earlier = earlier_cases({i for pairs in link_roles.values() for i, _r in pairs}, exclude={c.pk for c in cases})
    copy_insert(
        ImportedCase,
        [
            ImportedCase(
                reference=r.reference,
                case=c,
                job=job,
                file_name=file_name[:255],
                file_sha256=file_sha256,
                row_number=r.row,
            )
            for c, r in zip(cases, rows, strict=True)
        ],
        now=now,
    )
    victims_by_case = {v.case_id: v.pk for v in victims}
    transfers_by_case: dict[int, list[int]] = {}
    for t in transfers:
        transfers_by_case.setdefault(t.case_id, []).append(t.pk)
    tasks_by_case: dict[int, list[int]] = {}
    for t in tasks:
        tasks_by_case.setdefault(t.case_id, []).append(t.pk)
    user_name = acting_user.get_username()
    agency_code = getattr(getattr(acting_user, "agency", None), "code", "") or ""
    copy_insert(
        AuditRecord,
        [
            AuditRecord(
                at=now,
                user_id=acting_user.pk,
                user_name=user_name,
                agency_code=agency_code,
                action=AuditAction.CASE_IMPORT,
                object_type="cases.case",
                object_id=c.pk,
                object_repr=str(c)[:200],
                case_id=c.pk,
                after={
                    "imported": True,
                    "file": file_name[:255],
                    "file_sha256": file_sha256,
                    "row": r.row,
                    "external_reference": r.reference,
                    "reference": c.reference,
                    "reported_at": r.reported_at.isoformat(),
                    "loss_amount": f"{r.loss_amount}",
                    "status": c.status,
                    "outcome": c.outcome,
                    "amount_returned": f"{c.amount_returned}",
                    "returned_at": r.returned_at.isoformat() if r.returned_at else None,
                    "victim": victims_by_case.get(c.pk),
                    "transfers": transfers_by_case.get(c.pk, []),
                    "tasks": tasks_by_case.get(c.pk, []),
                    "identifiers": [
                        {"id": i, "role": role, "linked_case_ids": earlier.get(i, [])}
                        for i, role in link_roles.get(c.pk, [])
                    ],
                    "job": job.pk if job is not None else None,
                },
            )
            for c, r in zip(cases, rows, strict=True)
        ],
        now=now,
    )
    return {"created": len(cases), "skipped": len(known), "case_ids": [c.pk for c in cases]}


def _historical_task(case, r: CaseRow, type_code, amount, at, identifiers, acting_user, file_name) -> Task:
    """A stop-payment or freeze done before the platform: completed at its date, holding its amount."""
    spec = task_types.get(type_code)
    target = identifiers[(TargetKind.BANK_ACCOUNT, r.to_account)]
    result = {"amount_held": f"{amount}"}
    lapses = at + spec.holding.lapses_after if spec.holding else None
    return Task(
        case=case,
        type=type_code,
        agency_id=r.to_bank_id,
        target_kind=TargetKind.BANK_ACCOUNT,
        target=target,
        amount=amount,
        note=f"历史记录导入 / imported: {file_name[:150]} #{r.row}",
        state=TaskState.COMPLETED,
        deadline=at,
        created_by=acting_user,
        approved_by=acting_user,
        approved_at=at,
        dispatched_at=at,
        finished_at=at,
        executed_at=at,
        result_status=ResultStatus.COMPLETED,
        result=result,
        result_digest=result_digest(ResultStatus.COMPLETED, at.isoformat(), None, result),
        amount_held=amount,
        lapses_at=lapses,
    )
