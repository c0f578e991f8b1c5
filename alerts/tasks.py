"""Background jobs: pushing deliveries, sweeping lost ones, watchers, notification email.

A push is three steps, and no database transaction stays open across the HTTP
call (docs/deliveries.md, docs/adr/0005):

1. claim: a short transaction takes the row with ``SELECT ... FOR UPDATE SKIP
   LOCKED``, checks the agency's in-flight limit, and writes a lease
   (``locked_until``, ``lease_token``);
2. the signed POST, with connect and read timeouts;
3. record: a second short transaction writes the attempt and, if it still holds
   the lease, the outcome the protocol's answer table decides.

A worker killed between 1 and 3 leaves a lease that runs out; the sweeper then
publishes the job again. The partner deduplicates on ``Idempotency-Key``.
"""

from __future__ import annotations

import json
import logging
import random
import ssl
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation

from agencies.endpoints import BlockedEndpoint, check_scheme
from cases.actions import flag_task, mark_dispatched
from cases.choices import TaskEvent
from cases.models import Task

from . import digests
from .choices import AttemptFailure, DeliveryState, http_failure
from .models import Delivery, Notification
from .payloads import push_body
from .signing import signature_header
from .transport import push_client

log = logging.getLogger(__name__)

DONE = frozenset(range(200, 300)) | {409}
PERMANENT = frozenset({400, 401, 403, 404, 410, 422})
# Namespace of the advisory lock that serialises claims of one agency's deliveries.
AGENCY_LOCK_NS = 4_0401
# The task's flag when the endpoint's address is not allowed (alerts.kinds reads it back).
BLOCKED_REASON = "push blocked: the endpoint's address is not allowed"
SWEEP_BATCH = 500

# One connection pool per worker process: keep-alive to partners saves a handshake per push.
_client: httpx.Client | None = None


def _http() -> httpx.Client:
    global _client
    if _client is None:
        # Connects only to checked addresses, follows no redirect (alerts.transport).
        _client = push_client()
    return _client


def lease_seconds() -> float:
    """Longer than one attempt can last, so a live worker never loses its claim."""
    return settings.DELIVERY_CONNECT_TIMEOUT + settings.DELIVERY_READ_TIMEOUT + settings.DELIVERY_LEASE_MARGIN


def backoff_seconds(attempt: int, retry_after: float | None = None) -> float:
    """Exponential back-off with jitter (half fixed, half random); ``Retry-After`` wins if longer."""
    ceiling = min(settings.DELIVERY_BACKOFF_MAX, settings.DELIVERY_BACKOFF_BASE * 2 ** min(max(attempt - 1, 0), 20))
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    return max(delay, retry_after or 0.0)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.now().astimezone().tzinfo)
    return max(0.0, (when - (now or timezone.now())).total_seconds())


@dataclass
class Claim:
    delivery_id: str
    token: uuid.UUID
    agency_code: str
    url: str
    secrets: list[str]  # every live secret, the newest first (v1.1 rotation)
    body: bytes
    # From the claim's row, so the record need not read the delivery again.
    attempts: int = 0
    give_up_at: datetime | None = None
    task_id: int | None = None


@dataclass
class Outcome:
    """What one attempt came to: the status or the failure class, and what the partner said."""

    status: int | None
    failure: str  # an AttemptFailure code, or "" for a success
    reason: str  # the partner's stated reason of a refusal (centre only), never our detail
    retry_after: float | None
    duration_ms: int


CLAIM_SQL = "SELECT * FROM alerts_claim_deliveries(%s, %s, %s, make_interval(secs => %s), interval '1 second', %s)"


def claim_deliveries(delivery_id: str | None, extra: int = 0) -> tuple[Claim | str, list[Claim]]:
    """Take the lease on ``delivery_id`` and on up to ``extra`` other due deliveries: one statement.

    Returns what came of the wanted one (a :class:`Claim`, or why not: "skipped",
    "claimed", "not due", "cancelled", "busy", "no endpoint") and the other leases
    taken. The SQL function (migration ``alerts/0007``) keeps the per-agency
    in-flight limit under the agency's advisory lock, as the claim always did.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            CLAIM_SQL, [delivery_id, extra, settings.DELIVERY_AGENCY_CONCURRENCY, lease_seconds(), timezone.now()]
        )
        rows = cursor.fetchall()
    wanted: Claim | str = "skipped"  # done, failed, or another job holds the row this instant
    others: list[Claim] = []
    for did, outcome, token, body, code, url, secret, old_secret, attempts, give_up_at, task_id in rows:
        did = str(did)
        if outcome != "leased":
            if did == delivery_id:
                wanted = outcome
            continue
        claim = Claim(
            delivery_id=did,
            token=token,
            agency_code=code,
            url=url,
            secrets=[secret, *([old_secret] if old_secret else [])],
            body=body.encode() if body else _legacy_body(did),
            attempts=attempts,
            give_up_at=give_up_at,
            task_id=task_id,
        )
        if did == delivery_id:
            wanted = claim
        else:
            others.append(claim)
    return wanted, others


def claim_delivery(delivery_id: str) -> Claim | str:
    """Take the lease on a due delivery, or say why not (one statement)."""
    return claim_deliveries(delivery_id)[0]


def _legacy_body(delivery_id: str) -> bytes:
    """The body of a delivery written before bodies were prepared at approval."""
    delivery = Delivery.objects.select_related(
        "task__case__fraud_type", "task__case__district", "task__target__bank"
    ).get(pk=delivery_id)
    return push_body(delivery)


def send(claim: Claim) -> Outcome:
    """POST the signed body once; what came of it, with the failure as a class only.

    The agency reads attempts (API, task page): an attempt names the class of
    failure, never an address or an exception's text. The detail goes to this
    module's log for operators (no body, no personal data).
    """
    body_key = json.loads(claim.body)["delivery_id"]
    headers = {
        "Content-Type": "application/json",
        # v1.1: always the signed body's delivery_id; a partner refuses a push where they differ.
        "Idempotency-Key": body_key,
        # Signed at send time, so a delayed retry never carries a stale timestamp.
        "X-Signature": signature_header(claim.secrets, claim.body),
    }
    started = time.monotonic()
    status, failure, reason, retry_after, detail = None, "", "", None, ""
    try:
        check_scheme(claim.url)
        response = _http().post(claim.url, content=claim.body, headers=headers)
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        failure = http_failure(status)
        if status >= 400:
            reason = partner_reason(response)
    except BlockedEndpoint as exc:
        failure, detail = AttemptFailure.BLOCKED, str(exc)
    except httpx.HTTPError as exc:
        failure, detail = network_failure(exc), f"{type(exc).__name__}: {exc}"
    duration = int((time.monotonic() - started) * 1000)
    if detail:
        log.warning("delivery %s to %s: %s (%s)", claim.delivery_id, claim.agency_code, failure, detail[:300])
    return Outcome(status, failure, reason, retry_after, duration)


def network_failure(exc: BaseException) -> str:
    """The class of a transport error: timeout, refused, TLS, or another network error."""
    if isinstance(exc, httpx.TimeoutException):
        return AttemptFailure.TIMEOUT
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, ssl.SSLError):
            return AttemptFailure.TLS
        if isinstance(cause, ConnectionRefusedError):
            return AttemptFailure.REFUSED
        cause = cause.__cause__ or cause.__context__
    text = str(exc)
    if "CERTIFICATE" in text or "SSL" in text or "TLS" in text:
        return AttemptFailure.TLS
    if "refused" in text.lower():
        return AttemptFailure.REFUSED
    return AttemptFailure.NETWORK


def partner_reason(response) -> str:
    """What a partner's refusal says: its JSON ``detail`` (or ``error``), else the start of its text.

    Shown to the centre beside the failed push (the queues, the task page); a
    partner's text, so it is cut short and stripped of control characters (the
    templates escape it).
    """
    text = ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("detail", "reason", "error", "message"):
            if isinstance(body.get(key), str) and body[key].strip():
                text = body[key]
                break
    if not text and response.headers.get("Content-Type", "").startswith("text/plain"):
        text = response.text[:500]
    return "".join(ch if ch.isprintable() else " " for ch in text).strip()[:300]


# The attempt and, if the lease is still ours, the delivery's new state: one statement. The
# attempt is written whatever the lease says (a data-modifying CTE always runs).
RECORD_SQL = """
WITH outcome AS (
    UPDATE alerts_delivery
       SET state = %(state)s, attempts = attempts + 1, last_status = %(status)s, last_error = %(failure)s,
           partner_reason = %(reason)s, locked_until = NULL, lease_token = NULL,
           delivered_at = coalesce(%(delivered_at)s, delivered_at),
           next_attempt_at = coalesce(%(next_at)s, next_attempt_at),
           queued_at = coalesce(%(queued_at)s, queued_at)
     WHERE id = %(id)s AND lease_token = %(token)s AND state = 'pending'
 RETURNING attempts
), attempt AS (
    INSERT INTO alerts_deliveryattempt (delivery_id, at, status_code, error, duration_ms)
    VALUES (%(id)s, %(now)s, %(status)s, %(failure)s, %(duration)s)
)
SELECT attempts FROM outcome
"""


def _decide(claim: Claim, result: Outcome, now: datetime) -> tuple[str, str, dict]:
    """The answer table: the delivery's next state, the outcome's name, and the columns it sets."""
    status, attempts = result.status, claim.attempts + 1
    columns = {"delivered_at": None, "next_at": None, "queued_at": None}
    if status in DONE:
        return DeliveryState.DELIVERED, "delivered", {**columns, "delivered_at": now}
    if status in PERMANENT or result.failure == AttemptFailure.BLOCKED:
        # A blocked address is the endpoint's fault, not a passing one: fix it, then re-send.
        return DeliveryState.FAILED, "failed", columns
    give_up_at = claim.give_up_at
    if give_up_at is None or now >= give_up_at:
        return DeliveryState.DEAD, "dead", columns
    wait = backoff_seconds(attempts, result.retry_after)
    # One last attempt at the edge of the window rather than none.
    next_at = min(now + timedelta(seconds=wait), give_up_at)
    return DeliveryState.PENDING, "retry", {**columns, "next_at": next_at, "queued_at": now}


def record_outcome(claim: Claim, result: Outcome) -> tuple[str, float]:
    """Write the attempt and, if the lease is still ours, what the answer table decides.

    One statement writes the attempt and the delivery (conditioned on our lease
    token: no re-read, no row lock taken first); a delivered push then marks the
    task dispatched through ``cases.actions.mark_dispatched`` (its audit row
    sealed by the chain's trigger at commit), all in one transaction.
    """
    from . import events

    now = timezone.now()
    state, outcome, columns = _decide(claim, result, now)
    params = {
        "id": claim.delivery_id,
        "token": claim.token,
        "state": state,
        "status": result.status,
        "failure": result.failure,
        "reason": result.reason,
        "duration": result.duration_ms,
        "now": now,
        **columns,
    }
    wait = 0.0
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(RECORD_SQL, params)
            row = cursor.fetchone()
        if row is None:
            # Our lease ran out and another job took over: the attempt is on record, the outcome is theirs.
            return "lease lost", wait
        task = Task(pk=claim.task_id)  # change_row locks and reads the task itself
        occurrence = f"{claim.delivery_id}:{row[0]}"
        if outcome == "delivered":
            # Inside this transaction already: the undecorated action, without a savepoint of its own.
            mark_dispatched.__wrapped__(task, at=now)
        elif outcome == "failed":
            reason = BLOCKED_REASON if result.status is None else f"push refused with HTTP {result.status}"
            flag_task(task, reason=reason)
            transaction.on_commit(lambda: events.task_event(TaskEvent.DELIVERY_FAILED, task.pk, occurrence=occurrence))
        elif outcome == "dead":
            delivery = Delivery.objects.select_related("task").get(pk=claim.delivery_id)
            flag_task(task, reason=dead_letter_reason(delivery))
            transaction.on_commit(lambda: events.task_event(TaskEvent.DELIVERY_FAILED, task.pk, occurrence=occurrence))
        else:
            wait = max(0.0, (columns["next_at"] - now).total_seconds())
            delivery_id = claim.delivery_id
            # A long Retry-After is not put on the broker as a countdown beyond the back-off
            # cap: Redis would re-deliver an ETA message older than its visibility timeout.
            # An early job finds the row "not due"; the sweeper publishes it when it is.
            countdown = min(wait, settings.DELIVERY_BACKOFF_MAX)
            transaction.on_commit(lambda: publish_push(delivery_id, countdown=countdown))
    return outcome, wait


def dead_letter_reason(delivery) -> str:
    from .actions import legal_lapse

    lapse = legal_lapse(delivery.task)
    if lapse is not None and delivery.give_up_at >= lapse:
        return "push dead-lettered: the stop-payment's legal window is over; re-issue it"
    return "push dead-lettered after the retry window"


def publish_push(delivery_id: str, countdown: float = 0.0) -> bool:
    """Publish a push job; on a broker error leave it to the sweeper (``queued_at`` cleared)."""
    if countdown and push_delivery.app.conf.task_always_eager:
        # Eager Celery (test settings only) would run a delayed retry at once, recursively.
        return True
    try:
        push_delivery.apply_async(args=[delivery_id], countdown=countdown or None)
    except Exception:
        log.warning("broker unavailable; delivery %s left for the sweeper", delivery_id, exc_info=True)
        Delivery.objects.filter(pk=delivery_id, state=DeliveryState.PENDING).update(queued_at=None)
        return False
    return True


@shared_task(name="alerts.push_delivery", acks_late=True, ignore_result=True)
def push_delivery(delivery_id: str) -> str:
    """Send one delivery, and the burst waiting behind it: claim, sign, POST, record. Idempotent.

    The claim (one statement) also leases up to ``DELIVERY_BATCH - 1`` other due,
    unclaimed deliveries within every agency's in-flight limit; all of them are
    sent at once over the process's keep-alive pool and recorded one by one as
    their answers come. Their own jobs, when they arrive, find them leased or
    delivered and do nothing; if this process dies, their leases run out and the
    sweeper publishes them again, as for a single push.
    """
    # The process's client is made before the claim: building it (the CA bundle) can take most
    # of a second on a loaded machine, time better not spent holding a lease with nothing sent.
    _http()
    claim, others = claim_deliveries(delivery_id, extra=max(settings.DELIVERY_BATCH - 1, 0))
    if claim == "busy":
        # The agency is at its in-flight limit: step aside so this worker serves other agencies.
        Delivery.objects.filter(pk=delivery_id, state=DeliveryState.PENDING).update(queued_at=timezone.now())
        publish_push(delivery_id, countdown=random.uniform(0.2, 0.6))
    claims = ([claim] if isinstance(claim, Claim) else []) + others
    for leased, result, (outcome, wait) in send_and_record(claims):
        log.info(
            "delivery %s to %s: %s in %d ms -> %s%s",
            leased.delivery_id,
            leased.agency_code,
            result.status or result.failure,
            result.duration_ms,
            outcome,
            f" (next in {wait:.1f}s)" if outcome == "retry" else "",
        )
        if leased is claim:
            claim_outcome = outcome
    if isinstance(claim, Claim):
        return claim_outcome
    return "deferred" if claim == "busy" else claim


def send_and_record(claims: list[Claim]):
    """Send every leased push at once (threads share the keep-alive pool); record each as it answers."""
    if len(claims) == 1:
        result = send(claims[0])
        yield claims[0], result, record_outcome(claims[0], result)
        return
    if not claims:
        return
    pool = _senders()
    futures = {pool.submit(send, claim): claim for claim in claims}
    for future in as_completed(futures):
        claim = futures[future]
        result = future.result()  # send never raises for the network: it returns the class
        yield claim, result, record_outcome(claim, result)


_pool: ThreadPoolExecutor | None = None


def _senders() -> ThreadPoolExecutor:
    """The process's sending threads (HTTP only: they never touch the database)."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=max(settings.DELIVERY_BATCH, 1), thread_name_prefix="push")
    return _pool


def stale_deliveries(now: datetime | None = None):
    """Pending deliveries that are due, not claimed, and whose job has not shown up in time."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.DELIVERY_REQUEUE_AFTER)
    return (
        Delivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=stale, next_attempt_at__lt=stale))
    )


@shared_task(name="alerts.sweep_deliveries", ignore_result=True)
def sweep_deliveries() -> int:
    """Publish again every delivery whose job was lost; the row, not the broker, is the record.

    Covers a process that died between commit and publish, a broker restarted or
    flushed, a retry's ETA message held by a worker that died, and a worker killed
    mid-push (once its lease runs out). Does not wait for the broker's visibility
    timeout. A spurious re-publish is harmless: the claim lets one job act.
    """
    total = 0
    while True:
        now = timezone.now()
        with transaction.atomic():
            ids = list(
                stale_deliveries(now)
                .select_for_update(skip_locked=True)
                .order_by("next_attempt_at")
                .values_list("pk", flat=True)[:SWEEP_BATCH]
            )
            if ids:
                Delivery.objects.filter(pk__in=ids).update(queued_at=now)
        for delivery_id in ids:
            if not publish_push(str(delivery_id)):
                return total
        total += len(ids)
        if len(ids) < SWEEP_BATCH:
            break
    if total:
        log.warning("sweeper re-queued %d deliveries", total)
    return total


@shared_task(name="alerts.send_notification_emails", ignore_result=True)
def send_notification_emails(dedupe_key: str) -> int:
    """Email the notifications of one event to the people who chose email; each once."""
    sent = 0
    rows = Notification.objects.filter(
        dedupe_key=dedupe_key, emailed_at__isnull=True, user__notify_by_email=True
    ).select_related("user", "task__agency", "case")
    for note in rows:
        if not note.user.email:
            continue
        # Claim before sending: a concurrent run of this job does not send the same email.
        if not Notification.objects.filter(pk=note.pk, emailed_at__isnull=True).update(emailed_at=timezone.now()):
            continue
        try:
            # People choose no language of their own yet: email in the site's (Simplified Chinese).
            with translation.override(settings.LANGUAGE_CODE):
                title, body = note.text
            send_mail(title, body or title, settings.DEFAULT_FROM_EMAIL, [note.user.email])
        except Exception:
            # Give the claim back so the next run of this job tries again.
            Notification.objects.filter(pk=note.pk).update(emailed_at=None)
            raise
        sent += 1
    return sent


@shared_task(name="alerts.watch_overdue", ignore_result=True)
def watch_overdue() -> int:
    """Escalate tasks past their deadline (see ``watchers.overdue``)."""
    from . import watchers

    return watchers.overdue()


@shared_task(name="alerts.watch_warnings", ignore_result=True)
def watch_warnings() -> int:
    """Escalate victim warnings not reached in time (see ``watchers.warning_escalations``)."""
    from . import watchers

    return watchers.warning_escalations()


@shared_task(name="alerts.watch_lapses", ignore_result=True)
def watch_lapses() -> int:
    """Warn before stop-payments lapse and expire lapsed measures."""
    from . import watchers

    return watchers.lapse_warnings() + watchers.expire_lapsed()


@shared_task(name="alerts.watch_renewals", ignore_result=True)
def watch_renewals() -> int:
    """Remind renewal of freezes that expire within 15 days."""
    from . import watchers

    return watchers.renewal_reminders()


@shared_task(name="alerts.send_digests", ignore_result=True)
def send_digests(at: str | None = None) -> int:
    """Beat: one digest per person with undone notifications, fanned out in batches of user ids."""
    moment = digests.parse_moment(at)
    batches = 0
    for ids in digests.recipients(batch=digests.BATCH):
        # Each batch is its own job (ids, not objects); eager in tests, a message in production.
        digest_users.delay(ids, moment.isoformat())
        batches += 1
    return batches


@shared_task(name="alerts.digest_users", ignore_result=True)
def digest_users(user_ids: list[int], at: str | None = None) -> int:
    """The digest of each of ``user_ids`` for the day of ``at``: idempotent, one row per person and day."""
    moment = digests.parse_moment(at)
    written = 0
    for user_id in user_ids:
        if digests.digest_for(user_id, moment) is not None:
            written += 1
    return written
