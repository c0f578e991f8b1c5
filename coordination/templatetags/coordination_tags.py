"""Template helpers of every app: masking, money, countdowns, audit labels, panels.

Masking goes through ``coordination.masking.mask``. Role checks read the user's
policy (``agencies.roles``) directly: ``{% if user.policy.creates_cases %}``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django import template
from django.apps import apps
from django.db.models import DateTimeField
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from coordination import context_processors
from coordination.choices import AuditAction
from coordination.masking import kind_of, mask, mask_contact, mask_data

register = template.Library()


@register.simple_tag(takes_context=True)
def masked(context, value, kind: str, own_target: bool = False):
    """``value`` as the current user may see it (the one masking function)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return mask(user, kind, value or "", own_task_target=bool(own_target))


@register.simple_tag(takes_context=True)
def masked_target(context, task):
    """A task's target: in full for its own agency and the centre, masked elsewhere."""
    if task.target_id is None:
        return ""
    user = context["request"].user
    own = bool(getattr(user, "agency_id", None)) and user.agency_id == task.agency_id
    return mask(
        user, task.target.kind, task.target.value, own_task_target=own, of=("cases.task", task.pk, task.case_id)
    )


@register.simple_tag(takes_context=True)
def masked_holder(context, task):
    """A task's target's holder name, by the same rule as the target (``masked_target``)."""
    if task.target_id is None or not task.target.holder_name:
        return ""
    user = context["request"].user
    own = bool(getattr(user, "agency_id", None)) and user.agency_id == task.agency_id
    of = ("cases.task", task.pk, task.case_id)
    return mask(user, "name", task.target.holder_name, own_task_target=own, of=of)


@register.simple_tag(takes_context=True)
def warning_contact(context, task):
    """A victim warning's person to reach: in full for the centre and the assigned station, masked elsewhere.

    ``{% warning_contact task as person %}``: ``person.name``, ``.phone``, ``.address``; empty when none.
    """
    if not getattr(task, "contact_name", ""):
        return {}
    user = context["request"].user
    own = bool(getattr(user, "agency_id", None)) and user.agency_id == task.agency_id
    contact = {"name": task.contact_name, "phone": task.contact_phone, "address": task.contact_address}
    return mask_contact(user, contact, own_task=own, of=("cases.task", task.pk, task.case_id))


@register.simple_tag(name="product_name")
def product_name_tag() -> str:
    """The product's name in the active language, where no context processor ran (500 page)."""
    return context_processors.product_name()


@register.filter
def yuan(value):
    """Money as ¥52,000.00 (Decimal in, never float)."""
    if value in (None, ""):
        return "—"
    try:  # defensive: a stored value is shown as it is rather than failing the page
        return f"¥{Decimal(value).quantize(Decimal('0.01')):,}"
    except (ArithmeticError, ValueError, TypeError):
        return str(value)


@register.filter
def iso(value):
    """An instant for ``<time datetime>`` and scripts, in the platform's zone with its offset."""
    try:
        if isinstance(value, datetime) and timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.isoformat() if value else ""
    except (AttributeError, OverflowError, ValueError):
        return str(value)


@register.filter
def seconds_left(deadline):
    if not deadline:
        return ""
    try:
        return int((deadline - timezone.now()).total_seconds())
    except (OverflowError, TypeError):
        return ""


@register.filter
def duration(seconds):
    """Seconds as h:mm:ss (dashboard figures)."""
    if seconds is None:
        return "—"
    seconds = int(seconds)
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    return f"{sign}{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


@register.filter
def agency_name(agency):
    """The agency's name in the current language."""
    from django.utils.translation import get_language

    if agency is None:
        return ""
    if (get_language() or "").startswith("en") and agency.name_en:
        return agency.name_en
    return agency.name


@register.filter
def ref_name(item):
    """A reference item's (fraud type, district...) name in the current language."""
    from django.utils.translation import get_language

    if item is None or not hasattr(item, "name"):
        return ""  # nothing there (a task without a case: a warning from a clue)
    if (get_language() or "").startswith("en") and getattr(item, "name_en", ""):
        return item.name_en
    return item.name


@register.simple_tag(takes_context=True)
def panel(context, panel):
    """A ``coordination.hooks.Panel`` drawn in place: its template with the page's context and its own."""
    with context.push(**panel.context):
        return context.template.engine.get_template(panel.template).render(context)


@register.filter
def actor(record) -> str:
    """Who wrote an audit row: the user's name, or "the platform" in words for its own jobs."""
    if record.user_id is None and record.user_name == "system":  # ``audit.record`` with no user
        return str(_("Platform"))
    return record.user_name


@register.filter
def action_label(code: str) -> str:
    """An audit action code in words (``coordination.choices.AuditAction``; the code itself otherwise)."""
    return AuditAction(code).label if code in AuditAction.values else code


@register.simple_tag
def render_select(field):
    """A ``<select>`` built in Python: the same markup as Django's widget, a fraction of the cost.

    Django renders every ``<option>`` through the template engine; with a hundred
    agencies in a filter and a bank menu on every transfer row that dominated the
    page's time.
    """
    from django.utils.html import format_html, mark_safe

    current = field.value()
    current = (
        {str(v) for v in current} if isinstance(current, list | tuple) else {"" if current is None else str(current)}
    )
    attrs = dict(field.field.widget.attrs)
    attrs.update({"name": field.html_name, "id": field.auto_id})
    if field.field.required:
        attrs["required"] = True
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}_helptext")
    if field.errors:
        attrs["aria-invalid"] = "true"
        described.append(f"{field.auto_id}_error")
    if described:
        attrs["aria-describedby"] = " ".join(described)
    head = "".join(
        format_html(" {}", key) if value is True else format_html(' {}="{}"', key, value)
        for key, value in attrs.items()
        if value not in (False, None)
    )
    options = []
    for value, label in field.field.choices:
        value = "" if value is None else str(value)
        options.append(
            format_html(
                '<option value="{}"{}>{}</option>', value, mark_safe(" selected") if value in current else "", label
            )
        )
    return mark_safe(f"<select{head}>{''.join(options)}</select>")  # noqa: S308 - every part escaped above


def _field_words(user, record):
    """``(label of a stored key, words for its value)`` for the audit row ``record``.

    Keys are the model's attribute or field names (``snapshot``); on a page they
    read as the field's name and a choice's label in the reader's language,
    instants in the platform's zone, personal values masked for ``user`` (a
    stored ``value`` of a row with a ``kind`` is masked as that kind). A model
    that is gone, or a key it no longer has, is shown as stored.
    """
    try:
        model = apps.get_model(record.object_type) if record.object_type else None
    except (LookupError, ValueError):
        model = None
    fields = {}
    if model is not None:
        for f in model._meta.concrete_fields:
            fields[f.name] = fields[f.attname] = f
    kind = next((d["kind"] for d in (record.after, record.before) if isinstance(d, dict) and d.get("kind")), None)
    of = (record.object_type, record.object_id, record.case_id)

    def key(name: str) -> str:
        field = fields.get(name)
        return str(field.verbose_name) if field is not None else name

    def value(name: str, raw) -> str:
        field = fields.get(name)
        if raw in ("", None):
            return "—"
        if field is not None and field.choices and isinstance(raw, str | int):
            return str(dict(field.flatchoices).get(raw, raw))
        if isinstance(raw, bool):
            return str(_("yes") if raw else _("no"))
        if isinstance(field, DateTimeField) and isinstance(raw, str) and (when := parse_datetime(raw)):
            return date_format(timezone.localtime(when) if timezone.is_aware(when) else when, "Y-m-d H:i:s")
        if name in ("value", "target_value") and kind:
            return mask(user, str(kind), str(raw), of=of)
        if (field_kind := kind_of(name, model=record.object_type)) and isinstance(raw, str):
            return mask(user, field_kind, raw, of=of)
        if isinstance(raw, dict | list | str):
            # A stored document (a result with its onward transfers) or free text: the one rule, key by key.
            return str(mask_data(user, raw, of=of))
        return str(raw)

    def shown(name: str) -> bool:
        # Row ids, foreign keys as bare numbers and creation stamps say nothing to a reader.
        field = fields.get(name)
        if field is None:
            return True
        return not (
            field.primary_key or (field.is_relation and name == field.attname) or getattr(field, "auto_now_add", False)
        )

    return key, value, shown


@register.simple_tag(takes_context=True)
def changes(context, record) -> str:
    """An audit row's change, only what differs: ``状态: 已送达 → 已接受; ...`` in the reader's language."""
    before, after = record.before or {}, record.after or {}
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return f"{before} → {after}"
    request = context.get("request")
    key, value, shown = _field_words(getattr(request, "user", None), record)
    if not before:
        return "; ".join(
            f"{key(k)}: {value(k, v)}" for k, v in after.items() if v not in ("", None, [], {}) and shown(k)
        )
    keys = [k for k in after if before.get(k) != after.get(k)] + [k for k in before if k not in after]
    keys = [k for k in keys if shown(k)]
    return "; ".join(f"{key(k)}: {value(k, before.get(k))} → {value(k, after.get(k))}" for k in keys)
