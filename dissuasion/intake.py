"""Taking in warning clues (protocol v1.1 ``POST /api/v1/warnings/``), a batch at a time.

A batch of up to 1,000 clues is checked clue by clue (a bad clue gets its field
errors, the others go on), then written in a fixed number of statements whatever
its size: one ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` for the clues (the
unique ``(sender, source_reference)`` makes a clue sent twice, or by two requests
at once, one row), one ``bulk_create`` for their ``victim_warning`` tasks, one
``UPDATE`` tying them, one for the links to known cases and one for the tasks'
audit rows. docs/warnings.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, User
from agencies.seed import station_for_address
from cases import task_types
from cases.choices import CaseStatus, IdentifierKind, TaskEvent, TaskState, TaskType
from cases.models import CaseIdentifier, District, Identifier, Task
from cases.validators import normalise_identifier, validate_identifier, validate_resident_id, validate_victim_phone
from coordination.choices import AuditAction
from coordination.models import AuditRecord
from coordination.validators import parse_amount

from .choices import RAISED, Level, Outcome
from .models import Warning

MAX_BATCH = 1000
CLUE_FIELDS = (
    "source_reference",
    "phone",
    "name",
    "id_number",
    "district",
    "address",
    "level",
    "reason",
    "identifier",
    "amount",
)
HOLD_TYPES = (TaskType.EMERGENCY_STOP_PAYMENT, TaskType.FREEZE)


def deadline_for(level: str) -> timedelta:
    """How long the unit has to reach the person: ``WARNING_DEADLINE_MINUTES`` by level."""
    return timedelta(minutes=settings.WARNING_DEADLINE_MINUTES[level])


@dataclass
class Clean:
    """One clue as checked: the row's values, or its errors."""

    index: int
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)


def _text(raw: dict, key: str, limit: int, errors: dict, required: bool = False) -> str:
    value = raw.get(key)
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[key] = [_("Send text.")]
        return ""
    value = value.strip()
    if "\x00" in value:
        errors[key] = [_("Send text.")]
        return ""
    if required and not value:
        errors[key] = [_("This field is required.")]
    elif len(value) > limit:
        errors[key] = [_("At most %(n)d characters.") % {"n": limit}]
    return value


def check_clue(index: int, raw: Any, districts: dict[str, District]) -> Clean:
    """The clue's values, validated at the edge (the same validators as cases'), or its errors."""
    clean = Clean(index)
    errors = clean.errors
    if not isinstance(raw, dict):
        errors["non_field_errors"] = [_("Send each clue as a JSON object.")]
        return clean
    unknown = sorted(set(raw) - set(CLUE_FIELDS))
    if unknown:
        errors["non_field_errors"] = [_("Unknown fields: %(names)s.") % {"names": ", ".join(map(str, unknown))}]
    v = clean.values
    v["source_reference"] = _text(raw, "source_reference", 64, errors, required=True)
    v["name"] = _text(raw, "name", 100, errors)
    v["address"] = _text(raw, "address", 255, errors)
    v["reason"] = _text(raw, "reason", 500, errors)
    phone = _text(raw, "phone", 24, errors)
    if phone and "phone" not in errors:
        try:
            validate_victim_phone(phone)
            phone = normalise_identifier("phone", phone)
        except ValidationError as exc:
            errors["phone"] = exc.messages
    v["phone"] = phone
    id_number = _text(raw, "id_number", 18, errors)
    if id_number and "id_number" not in errors:
        id_number = id_number.upper()
        try:
            validate_resident_id(id_number)
        except ValidationError as exc:
            errors["id_number"] = exc.messages
    v["id_number"] = id_number
    district = _text(raw, "district", 40, errors, required=True)
    if district and "district" not in errors:
        if district not in districts:
            errors["district"] = [_("Unknown district code (see /api/v1/reference/).")]
        elif districts[district].police_agency_id is None:
            errors["district"] = [_("This district has no police sub-bureau to warn.")]
    v["district"] = districts.get(district)
    level = raw.get("level")
    if level not in Level.values:
        errors["level"] = [_("One of high, medium, low.")]
    v["level"] = level
    if not phone and not v["address"] and "phone" not in errors:
        errors["phone"] = [_("Give a phone number or an address: the police must be able to reach the person.")]
    identifier = raw.get("identifier")
    v["identifier_kind"], v["identifier_value"] = "", ""
    if identifier is not None:
        kind = identifier.get("kind") if isinstance(identifier, dict) else None
        value = identifier.get("value") if isinstance(identifier, dict) else None
        if kind not in IdentifierKind.values or not isinstance(value, str) or not value.strip():
            errors["identifier"] = [_("Send {kind, value}, kind one of the identifier kinds.")]
        else:
            try:
                validate_identifier(kind, value)
                v["identifier_kind"], v["identifier_value"] = kind, normalise_identifier(kind, value)
            except ValidationError as exc:
                errors["identifier"] = exc.messages
    amount = raw.get("amount")
    v["amount"] = None
    if amount is not None:
        try:
            v["amount"] = parse_amount(amount)
        except ValidationError as exc:
            errors["amount"] = exc.messages
    return clean


def hot_identifiers(identifier_ids: set[int], now) -> tuple[dict[int, list[int]], set[int]]:
    """Cases each identifier is in, and which identifiers are hot (docs/warnings.md, "Hot").

    Hot: in a case that is not closed and either holds a live stop-payment or freeze
    on that identifier, or was reported within ``WARNING_HOT_DAYS`` days.
    """
    cases: dict[int, list[int]] = {}
    hot: set[int] = set()
    if not identifier_ids:
        return cases, hot
    since = now - timedelta(days=settings.WARNING_HOT_DAYS)
    rows = CaseIdentifier.objects.filter(identifier_id__in=identifier_ids).values_list(
        "identifier_id", "case_id", "case__status", "case__reported_at"
    )
    for identifier_id, case_id, status, reported_at in rows:
        cases.setdefault(identifier_id, []).append(case_id)
        if status != CaseStatus.CLOSED and reported_at >= since:
            hot.add(identifier_id)
    live = Task.objects.filter(
        target_id__in=identifier_ids, type__in=HOLD_TYPES, case__status__in=(CaseStatus.OPEN, CaseStatus.FILED)
    ).filter(
        Q(state__in=(TaskState.APPROVED, TaskState.DISPATCHED, TaskState.ACCEPTED))
        | Q(state=TaskState.COMPLETED, lapses_at__gt=now)
    )
    hot.update(live.values_list("target_id", flat=True))
    return cases, hot


INSERT = """
INSERT INTO dissuasion_warning
    (sender_id, source_reference, created_by_id, name, phone, id_number, district_id, address, level,
     sent_level, reason, identifier_kind, identifier_value, identifier_id, is_hot, amount, bureau_id,
     unit_id, created_at, deadline, outcome, contact_method)
VALUES {values}
ON CONFLICT ON CONSTRAINT warning_source_uniq DO NOTHING
RETURNING id, source_reference
"""
ROW = "(" + ", ".join(["%s"] * 21) + ", '')"


@dataclass
class Entry:
    """One answer of the batch, in the clue's place."""

    source_reference: str | None = None
    warning: int | None = None
    created: bool = False
    errors: dict[str, list[str]] | None = None

    def as_dict(self) -> dict:
        if self.errors is not None:
            return {"source_reference": self.source_reference, "errors": self.errors}
        return {"source_reference": self.source_reference, "warning": self.warning, "created": self.created}


def take_clues(sender: Agency, user: User, clues: list[Any]) -> list[Entry]:
    """Check and store a batch; one ``Entry`` per clue, in order (nothing done twice)."""
    districts = {d.code: d for d in District.objects.filter(is_active=True)}
    checked = [check_clue(i, raw, districts) for i, raw in enumerate(clues)]
    entries = [
        Entry(source_reference=c.values.get("source_reference") or None, errors=c.errors or None) for c in checked
    ]
    good = [c for c in checked if not c.errors]
    if not good:
        return entries
    with transaction.atomic():
        ids = _store(sender, user, good)
    for clean in good:
        warning_id, created = ids[clean.values["source_reference"]]
        entry = entries[clean.index]
        entry.warning, entry.created = warning_id, created
    # A reference twice in one batch: the first is the clue, the second changes nothing.
    seen: set[str] = set()
    for clean in good:
        ref = clean.values["source_reference"]
        if ref in seen:
            entries[clean.index].created = False
        seen.add(ref)
    return entries


def _store(sender: Agency, user: User, good: list[Clean]) -> dict[str, tuple[int, bool]]:
    now = timezone.now()
    wanted = {(c.values["identifier_kind"], c.values["identifier_value"]) for c in good if c.values["identifier_kind"]}
    known: dict[tuple[str, str], int] = {}
    if wanted:
        query = Q()
        for kind in {k for k, _v in wanted}:
            query |= Q(kind=kind, value__in=[v for k, v in wanted if k == kind])
        known = {(k, v): pk for pk, k, v in Identifier.objects.filter(query).values_list("pk", "kind", "value")}
    linked, hot = hot_identifiers(set(known.values()), now)
    station_codes = {
        code for c in good if (code := station_for_address(c.values["district"].code, c.values["address"])) is not None
    }
    stations = {a.code: a for a in Agency.objects.filter(code__in=station_codes, is_active=True)}
    rows: dict[str, list] = {}
    for clean in good:
        v = clean.values
        if v["source_reference"] in rows:
            continue
        identifier_id = known.get((v["identifier_kind"], v["identifier_value"]))
        is_hot = identifier_id in hot
        level = RAISED[v["level"]] if is_hot else v["level"]
        bureau_id = v["district"].police_agency_id
        station = stations.get(station_for_address(v["district"].code, v["address"]) or "")
        unit_id = station.pk if station is not None and station.parent_id == bureau_id else bureau_id
        v.update(level_final=level, identifier_id=identifier_id, is_hot=is_hot, unit_id=unit_id)
        rows[v["source_reference"]] = [
            sender.pk,
            v["source_reference"],
            user.pk,
            v["name"],
            v["phone"],
            v["id_number"],
            v["district"].pk,
            v["address"],
            level,
            v["level"],
            v["reason"],
            v["identifier_kind"],
            v["identifier_value"],
            identifier_id,
            is_hot,
            v["amount"],
            bureau_id,
            unit_id,
            now,
            now + deadline_for(level),
            Outcome.PENDING,
        ]
    args = [value for row in rows.values() for value in row]
    with connection.cursor() as cursor:
        cursor.execute(INSERT.format(values=", ".join([ROW] * len(rows))), args)
        created = {ref: pk for pk, ref in cursor.fetchall()}
    result = {ref: (pk, True) for ref, pk in created.items()}
    old = [ref for ref in rows if ref not in created]
    if old:
        for pk, ref in Warning.objects.filter(sender=sender, source_reference__in=old).values_list(
            "pk", "source_reference"
        ):
            result[ref] = (pk, False)
    if created:
        _raise_tasks(sender, user, {ref: rows[ref] for ref in created}, created, linked, now)
    return result


def _insert(model, objs: list, returning: bool = True) -> None:
    """One multi-row ``INSERT`` of ``objs`` (their concrete fields as set), ids set from ``RETURNING``.

    ``bulk_create`` spends most of a 1,000-row batch preparing values field by field; these
    rows hold plain values already (JSON fields: a dict or ``None``, sent as ``jsonb``).
    PostgreSQL returns the ids in the order of the ``VALUES`` rows (``bulk_create`` relies on it too).
    """
    fields = [f for f in model._meta.concrete_fields if not f.primary_key and f.attname != "chain_seq"]
    fields = [f for f in fields if f.attname not in ("chain_hash", "chain_prev")]
    json_fields = {f.attname for f in fields if f.get_internal_type() == "JSONField"}
    placeholder = "(" + ", ".join("%s::jsonb" if f.attname in json_fields else "%s" for f in fields) + ")"
    args: list = []
    for obj in objs:
        for f in fields:
            value = getattr(obj, f.attname)
            if f.attname in json_fields:
                value = None if value is None else json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
            args.append(value)
    # Names from the model's own fields, every value a bound parameter.
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = (
        f"INSERT INTO {model._meta.db_table} ({columns}) "  # noqa: S608
        f"VALUES {', '.join([placeholder] * len(objs))}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql + (" RETURNING id" if returning else ""), args)
        if returning:
            for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
                obj.pk = pk
                obj._state.adding = False


def _raise_tasks(sender, user, rows: dict[str, list], created: dict[str, int], linked, now) -> None:
    """One ``victim_warning`` task per new clue, to its unit, waiting for it in its inbox (or pushed)."""
    spec = task_types.get(TaskType.VICTIM_WARNING)
    units = {a.pk: a for a in Agency.objects.filter(pk__in={row[17] for row in rows.values()})}
    tasks = []
    for row in rows.values():
        unit = units[row[17]]
        pushed = unit.has_endpoint
        tasks.append(
            Task(
                case=None,
                type=spec.code,
                agency=unit,
                target_kind="person",
                contact_name=row[3][:100],
                contact_phone=row[4][:20],
                contact_address=row[7][:255],
                amount=row[15],
                note=row[10],
                state=TaskState.APPROVED if pushed else TaskState.DISPATCHED,
                deadline=row[19],
                created_by=user,
                created_at=now,
                approved_at=now,
                dispatched_at=None if pushed else now,
            )
        )
    _insert(Task, tasks)
    pairs = [(created[ref], task.pk) for ref, task in zip(rows, tasks, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE dissuasion_warning AS w SET task_id = v.task FROM (VALUES "  # noqa: S608 - placeholders only
            + ", ".join(["(%s::bigint, %s::bigint)"] * len(pairs))
            + ") AS v(warning, task) WHERE w.id = v.warning",
            [x for pair in pairs for x in pair],
        )
    through = Warning.cases.through
    links = [
        through(warning_id=created[ref], case_id=case_id)
        for ref, row in rows.items()
        for case_id in linked.get(row[13], ())
    ]
    if links:
        through.objects.bulk_create(links, ignore_conflicts=True)
    agency_code = getattr(user.agency, "code", "") if user.agency_id else ""
    label = str(task_types.get(TaskType.VICTIM_WARNING).label)
    _insert(
        AuditRecord,
        [
            AuditRecord(
                at=now,
                user=user,
                user_name=user.get_username(),
                agency_code=agency_code,
                action=AuditAction.TASK_CREATE,
                object_type="cases.task",
                object_id=task.pk,
                object_repr=f"#{task.pk} {label}"[:200],
                case_id=None,
                before=None,
                after={
                    "state": task.state,
                    "deadline": task.deadline.isoformat(),
                    "agency": task.agency.code,
                    "warning": created[ref],
                    "level": rows[ref][8],
                },
            )
            for ref, task in zip(rows, tasks, strict=True)
        ],
        returning=False,
    )
    from cases import signals
    from cases.actions.common import notify

    by_unit: dict[int, Task] = {}
    for task in tasks:
        if task.agency.has_endpoint:
            # Pushed like any approved task (the outbox row commits with the batch).
            signals.task_approved.send(sender=Task, task=task)
        else:
            by_unit.setdefault(task.agency_id, task)
    # One "new task" notification per unit and batch (its inbox holds the rest): a
    # thousand notifications a batch would drown the station.
    for task in by_unit.values():
        notify(TaskEvent.NEW, task)
