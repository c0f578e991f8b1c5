"""What the import commands share: the acting user and printing a report's errors."""

from __future__ import annotations

from django.core.management.base import CommandError

from agencies.models import User
from cases import permissions


def acting_user(username: str | None) -> User:
    """The named user, or the first active analyst: imports are recorded as a person's acts."""
    users = User.objects.filter(is_active=True)
    user = users.filter(username=username).first() if username else users.filter(role="analyst").order_by("id").first()
    if user is None or not permissions.can_import_records(user):
        raise CommandError("Name an active analyst or supervisor with --user (可导入的分析员或主管).")
    return user


def print_errors(stdout, errors: list[dict], limit: int = 200) -> None:
    for error in errors[:limit]:
        stdout.write(
            f"row {error['row']:>6}  {error['column_zh']} / {error['column_en']}: "
            f"{error['message_zh']} / {error['message_en']}"
        )
    if len(errors) > limit:
        stdout.write(f"... {len(errors) - limit} more")
