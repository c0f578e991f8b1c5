"""Template helpers: masking through ``coordination.masking.mask``, money, countdowns, roles."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases import permissions
from coordination.masking import mask

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
def can(context, rule: str, obj=None):
    """Whether the current user may do ``rule`` (names of ``cases.permissions``)."""
    user = context["request"].user
    if rule == "act_for_agency":
        return permissions.can_act_for_agency(user, obj)
    return getattr(permissions, f"can_{rule}")(user)


ACTION_LABELS = {
    "case.create": _("Case recorded"),
    "case.update": _("Case corrected"),
    "case.file": _("Case filed"),
    "case.close": _("Case closed"),
    "case.share": _("Case shared"),
    "case.unshare": _("Share withdrawn"),
    "case.follow_ups_proposed": _("Follow-ups proposed"),
    "identifier.link": _("Identifier linked"),
    "transfer.create": _("Transfer recorded"),
    "task.create": _("Task created"),
    "task.approve": _("Task approved"),
    "task.dispatch": _("Task delivered to the agency"),
    "task.accept": _("Task accepted by the agency"),
    "task.reject": _("Task rejected by the agency"),
    "task.result": _("Result reported"),
    "task.cancel": _("Task withdrawn"),
    "task.expire": _("Measure lapsed"),
    "task.flag": _("Flagged for attention"),
    "task.unflag": _("Flag cleared"),
    "task.overdue": _("Task overdue"),
    "delivery.resend": _("Delivery re-sent"),
}


@register.filter
def action_label(code: str) -> str:
    """An audit action code in words (the code itself when it has no label)."""
    return ACTION_LABELS.get(code, code)


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
