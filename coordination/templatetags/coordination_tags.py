"""Template helpers of every app: masking, money, countdowns, audit labels, panels.

Masking goes through ``coordination.masking.mask``. Role checks read the user's
policy (``agencies.roles``) directly: ``{% if user.policy.creates_cases %}``.
"""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils import timezone

from coordination.choices import AuditAction
from coordination.masking import mask, mask_contact

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
    return mask(user, task.target.kind, task.target.value, own_task_target=own)


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
    return mask_contact(user, contact, own_task=own)


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
    try:
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

    if item is None:
        return ""
    if (get_language() or "").startswith("en") and getattr(item, "name_en", ""):
        return item.name_en
    return item.name


@register.simple_tag(takes_context=True)
def panel(context, panel):
    """A ``coordination.hooks.Panel`` drawn in place: its template with the page's context and its own."""
    with context.push(**panel.context):
        return context.template.engine.get_template(panel.template).render(context)


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


@register.filter
def changes(record) -> str:
    """An audit row's change, only what differs: ``state: dispatched → accepted; ...``."""
    before, after = record.before or {}, record.after or {}
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return f"{before} → {after}"
    if not before:
        return "; ".join(f"{k}: {v}" for k, v in after.items() if v not in ("", None, [], {}))
    keys = [k for k in after if before.get(k) != after.get(k)] + [k for k in before if k not in after]
    return "; ".join(f"{k}: {before.get(k)} → {after.get(k)}" for k in keys)
