"""API views of cases, tasks, identifiers and proposals.

Every viewset derives from ``coordination.viewsets.BaseViewSet`` (scoping by
``visible_to``, keyset pagination, write throttling); every write calls an
action function in ``cases.actions``.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from agencies import roles
from agencies.choices import SECTOR_NAMES_ZH, Sector
from agencies.models import User
from coordination import reads
from coordination.api import errors
from coordination.choices import AuditAction
from coordination.masking import mask_value
from coordination.models import AuditRecord
from coordination.pagination import AscendingPage, AuditPage, CasePage
from coordination.throttling import LookupRateThrottle
from coordination.viewsets import BaseViewSet, SearchMixin

from .. import actions, permissions
from ..choices import HOLDING_STATES, TaskType
from ..filtersets import CaseFilterSet, ProposalFilterSet, TaskFilterSet
from ..models import (
    Case,
    CaseIdentifier,
    Channel,
    District,
    FollowUpProposal,
    FraudType,
    Identifier,
    Task,
    TaskTypeConfig,
    Transfer,
    Victim,
)
from ..validators import normalise_identifier
from . import serializers as s


def _require(allowed: bool) -> None:
    """Refuse early, before validating a body the role could never send."""
    if not allowed:
        raise exceptions.PermissionDenied()


# --- reference data and lookup -------------------------------------------------------


class ReferenceView(APIView):
    """Every code a client needs: fraud types, districts, channels, task types, sectors."""

    @extend_schema(responses={200: s.ReferenceSerializer, **errors(401)})
    def get(self, request):
        def rows(model):
            return list(model.objects.filter(is_active=True).values("code", "name", "name_en"))

        return Response(
            {
                "fraud_types": rows(FraudType),
                "districts": rows(District),
                "channels": rows(Channel),
                "task_types": list(TaskTypeConfig.objects.values("code", "name", "name_en")),
                "sectors": [
                    {"code": code, "name": SECTOR_NAMES_ZH[code], "name_en": str(label)}
                    for code, label in Sector.choices
                ],
            }
        )


class PingView(APIView):
    """A constant answer behind the same authentication: the ceiling the benchmark compares with."""

    @extend_schema(responses={200: inline_serializer("Ping", {"ok": serializers.BooleanField()}), **errors(401)})
    def get(self, request):
        return Response({"ok": True})


class IdentifierLookupView(APIView):
    """Payment-time check: is this account, phone or URL involved in cases?

    The fastest endpoint of the platform: one query on the unique (kind, value)
    index with the active-hold checks as EXISTS subqueries on ``task_target_idx``,
    plus, for centre roles only, one query for the case references. Agencies
    learn that an identifier is involved, never what the cases contain.

    The main query is a server-side prepared statement: its plan (a couple of
    milliseconds with the task table's many indexes) is made once per pooled
    connection instead of once per call, which is most of this endpoint's cost.
    """

    MAX_REFERENCES = 50
    # Per token, GET and POST together (coordination.throttling.LookupRateThrottle).
    throttle_classes = [LookupRateThrottle]
    throttle_scope = "identifier_lookup"

    DESCRIPTION = (
        "Payment-time check (partner protocol): is this account, phone or URL involved in cases? "
        "Answers how many cases name it as a suspect identifier, when it was first and last seen, and "
        "whether a stop-payment or a freeze holds money on it now. The value is normalised as stored "
        "(spaces, +86, scheme and www. do not matter). Case references only for centre roles. "
        "Limited per token (`API_LOOKUP_RATE`): over it, 429 with `Retry-After`."
    )

    @extend_schema(
        description=DESCRIPTION + " The protocol's form; `POST` with the same fields keeps the value out of URLs.",
        parameters=[
            OpenApiParameter("kind", str, enum=s.IdentifierKind.values, required=True),
            OpenApiParameter("value", str, required=True),
        ],
        responses={200: s.LookupAnswerSerializer, **errors(400, 401, 429)},
    )
    def get(self, request):
        return self._answer(request, request.query_params)

    @extend_schema(
        description=DESCRIPTION + " The same check with `kind` and `value` in a JSON body, so that the "
        "value never appears in a URL, a proxy's log or a browser's history.",
        request=s.LookupQuerySerializer,
        responses={200: s.LookupAnswerSerializer, **errors(400, 401, 429)},
    )
    def post(self, request):
        return self._answer(request, request.data)

    def _answer(self, request, params):
        query = s.LookupQuerySerializer(data=params)
        query.is_valid(raise_exception=True)
        kind = query.validated_data["kind"]
        value = normalise_identifier(kind, query.validated_data["value"])
        row = _lookup_row(kind, value, timezone.now())
        involved = bool(row and row["case_count"])
        answer = {
            "kind": kind,
            "value": value,
            "involved": involved,
            "case_count": row["case_count"] if row else 0,
            "first_seen_at": row["first_seen_at"] if involved else None,
            "last_seen_at": row["last_seen_at"] if involved else None,
            "stop_payment_active": bool(row and row["stop"]),
            "freeze_active": bool(row and row["freeze"]),
        }
        user = request.user
        # Disclosure policy: only the centre learns which cases; the rows still come
        # through the model's one visibility rule.
        if roles.can(user, "sees_case_references"):
            answer["cases"] = (
                list(
                    CaseIdentifier.objects.visible_to(user)
                    .filter(identifier_id=row["pk"])
                    .order_by("-case_id")
                    .values_list("case__reference", flat=True)[: self.MAX_REFERENCES]
                )
                if row
                else []
            )
        # Who asked about which identifier is audited (one row; the value masked as the centre's trail shows it).
        reads.primary(
            request,
            AuditAction.IDENTIFIER_LOOKUP,
            object_type=Identifier._meta.label_lower,
            object_id=row["pk"] if row else None,
            kind=kind,
            value=mask_value(kind, value),
            involved=involved,
        )
        return Response(answer)


LOOKUP_SQL = f"""
SELECT i.id, i.case_count, i.first_seen_at, i.last_seen_at,
       EXISTS (SELECT 1 FROM {Task._meta.db_table} t WHERE t.target_id = i.id AND t.type = %s
               AND t.state = %s AND t.lapses_at > %s),
       EXISTS (SELECT 1 FROM {Task._meta.db_table} t WHERE t.target_id = i.id AND t.type = %s
               AND t.state = %s AND t.lapses_at > %s)
FROM {Identifier._meta.db_table} i
WHERE i.kind = %s AND i.value = %s
"""  # noqa: S608 - table names come from the models, values are bound parameters


def _lookup_row(kind: str, value: str, now) -> dict | None:
    """The identifier's counters and active holds, in one prepared statement."""
    import time

    from django.db import connection
    from psycopg import Cursor

    (held,) = HOLDING_STATES
    params = [TaskType.EMERGENCY_STOP_PAYMENT, held, now, TaskType.FREEZE, held, now, kind, value]
    connection.ensure_connection()
    started = time.monotonic()
    # A plain (server-binding) psycopg cursor: Django's client-binding cursors cannot prepare.
    with Cursor(connection.connection) as cursor:
        cursor.execute(LOOKUP_SQL, params, prepare=True)
        found = cursor.fetchone()
    if connection.queries_logged:  # keep query counts and debug logs honest
        connection.queries_log.append({"sql": LOOKUP_SQL, "time": f"{time.monotonic() - started:.3f}"})
    if found is None:
        return None
    keys = ("pk", "case_count", "first_seen_at", "last_seen_at", "stop", "freeze")
    return dict(zip(keys, found, strict=True))


# --- cases -----------------------------------------------------------------------


def _search_body(name: str, filterset_class) -> serializers.Serializer:
    """The JSON body of a ``search`` action: the list's filters, by the same names."""
    return inline_serializer(
        name,
        {
            field: serializers.CharField(required=False, help_text=str(flt.extra.get("help_text") or ""))
            for field, flt in filterset_class.base_filters.items()
        },
    )


SEARCH_DESCRIPTION = (
    "The list with its filters in a JSON body instead of the query string, so that an identifier or a "
    "search never appears in a URL or an access log. Same scope, filters, order and pages as the list; "
    "`next` carries only the cursor: POST the same body to it. A filter that takes several values takes a list."
)


class CaseViewSet(SearchMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Cases: centre roles and auditors see all; a person sees a case shared with them; agencies none."""

    # Only the columns the serializers read: lists build fewer, lighter objects.
    base_queryset = Case.objects.select_related("fraud_type", "district", "channel").defer(
        "created_by",
        "updated_at",
        *(
            f"{rel}__{f}"
            for rel in ("fraud_type", "district", "channel")
            for f in ("name", "name_en", "sort_order", "is_active")
        ),
    )
    filterset_class = CaseFilterSet
    pagination_class = CasePage

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("victims")
        return queryset

    def get_serializer_class(self):
        if self.action == "retrieve":
            return s.CaseDetailSerializer
        return s.CaseSerializer

    @extend_schema(request=s.CaseCreateSerializer, responses={201: s.CaseCreatedSerializer, **errors(400, 401, 403)})
    def create(self, request):
        _require(permissions.can_create_case(request.user))
        serializer = s.CaseCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        victim = data.get("victim")
        case = actions.create_case(
            acting_user=request.user,
            fraud_type=data["fraud_type"],
            channel=data["channel"],
            district=data["district"],
            reported_at=data["reported_at"],
            occurred_at=data.get("occurred_at"),
            loss_amount=data["loss_amount"],
            summary=data.get("summary", ""),
            victims=[
                actions.VictimData(
                    name=victim["name"], id_number=victim.get("id_number") or "", phone=victim.get("phone") or ""
                )
            ]
            if victim
            else [],
            transfers=[actions.TransferData(**row) for row in data.get("transfers", [])],
            identifiers=[actions.IdentifierData(**row) for row in data.get("identifiers", [])],
        )
        return Response({"id": case.pk, "reference": case.reference}, status=status.HTTP_201_CREATED)

    @extend_schema(
        description=SEARCH_DESCRIPTION,
        request=_search_body("CaseSearch", CaseFilterSet),
        responses={200: s.CaseSerializer(many=True), **errors(400, 401)},
    )
    @action(detail=False, methods=["post"])
    def search(self, request):
        """Cases by the list's filters (``identifier``, ``q``...) sent in the body."""
        return super().search(request)

    def _sub_list(self, queryset, serializer_class, pagination_class=AscendingPage):
        paginator = pagination_class()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        data = serializer_class(page, many=True, context=self.get_serializer_context()).data
        return paginator.get_paginated_response(data)

    @extend_schema(responses={200: s.CaseIdentifierSerializer(many=True), **errors(401, 404)})
    @action(detail=True, methods=["get"])
    def identifiers(self, request, pk=None):
        """The identifiers named in the case (accounts, phones, URLs...), masked by role."""
        case = self.get_object()
        links = CaseIdentifier.objects.visible_to(request.user).filter(case=case).select_related("identifier__bank")
        return self._sub_list(links, s.CaseIdentifierSerializer)

    @extend_schema(responses={200: s.TransferSerializer(many=True), **errors(401, 404)})
    @action(detail=True, methods=["get"])
    def transfers(self, request, pk=None):
        """The money-flow edges of the case, in time order."""
        case = self.get_object()
        rows = (
            Transfer.objects.visible_to(request.user)
            .filter(case=case)
            .select_related("from_identifier__bank", "to_identifier__bank")
        )
        return self._sub_list(rows, s.TransferSerializer)

    MAX_FLOW_EDGES = 2000

    @extend_schema(responses={200: s.MoneyFlowSerializer, **errors(401, 404)})
    @action(detail=True, methods=["get"], url_path="money-flow", pagination_class=None)
    def money_flow(self, request, pk=None):
        """The case's money flow as a graph: accounts as nodes, transfers as edges (for Cytoscape)."""
        case = self.get_object()
        edges = list(
            Transfer.objects.visible_to(request.user)
            .filter(case=case)
            .select_related("from_identifier__bank", "to_identifier__bank")
            .order_by("at", "id")[: self.MAX_FLOW_EDGES + 1]
        )
        truncated = len(edges) > self.MAX_FLOW_EDGES
        edges = edges[: self.MAX_FLOW_EDGES]
        roles = dict(CaseIdentifier.objects.filter(case=case).values_list("identifier_id", "role"))
        nodes = {}
        for edge in edges:
            for ident in (edge.from_identifier, edge.to_identifier):
                nodes.setdefault(
                    ident.pk,
                    {
                        "id": ident.pk,
                        "kind": ident.kind,
                        "value": s.mask(
                            request.user, ident.kind, ident.value, of=("cases.identifier", ident.pk, case.pk)
                        ),
                        "bank": ident.bank.code if ident.bank_id else None,
                        "role": roles.get(ident.pk),
                    },
                )
        return Response(
            {
                "nodes": list(nodes.values()),
                "edges": [
                    {
                        "id": e.pk,
                        "source": e.from_identifier_id,
                        "target": e.to_identifier_id,
                        "amount": f"{e.amount}",
                        "at": s._iso(e.at),
                    }
                    for e in edges
                ],
                "truncated": truncated,
            }
        )

    @extend_schema(responses={200: s.CaseSerializer(many=True), **errors(401, 404)})
    @action(detail=True, methods=["get"])
    def linked(self, request, pk=None):
        """Other cases that share an identifier with this one (串并案), newest first."""
        case = self.get_object()
        linked = (
            Case.objects.visible_to(request.user).linked_to(case).select_related("fraud_type", "district", "channel")
        )
        return self._sub_list(linked, s.CaseSerializer, CasePage)

    @extend_schema(responses={200: s.AuditRecordSerializer(many=True), **errors(401, 403, 404)})
    @action(detail=True, methods=["get"])
    def audit(self, request, pk=None):
        """The case's audit trail, newest first: auditors and centre roles."""
        case = self.get_object()
        _require(roles.can(request.user, "reads_history"))
        records = AuditRecord.objects.visible_to(request.user).filter(case_id=case.pk)
        return self._sub_list(records, s.AuditRecordSerializer, AuditPage)

    @extend_schema(responses={200: s.ProposalSerializer(many=True), **errors(401, 404)})
    @action(detail=True, methods=["get"])
    def proposals(self, request, pk=None):
        """Follow-up stop-payments proposed from partners' onward transfers."""
        case = self.get_object()
        rows = (
            FollowUpProposal.objects.visible_to(request.user).filter(case=case).select_related("identifier", "agency")
        )
        return self._sub_list(rows, s.ProposalSerializer)

    @extend_schema(request=s.FileCaseSerializer, responses={200: s.CaseSerializer, **errors(400, 401, 403, 404, 409)})
    @action(detail=True, methods=["post"])
    def file(self, request, pk=None):
        """Record the formal filing (立案): unlocks freezes and account queries."""
        case = self.get_object()
        _require(permissions.can_edit_case(request.user))
        body = s.FileCaseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case = actions.file_case(case, acting_user=request.user, filing_number=body.validated_data["filing_number"])
        return Response(s.CaseSerializer(case, context=self.get_serializer_context()).data)

    @extend_schema(request=s.CloseCaseSerializer, responses={200: s.CaseSerializer, **errors(400, 401, 403, 404, 409)})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close the case: its outcome and summary; the amount returned follows from the banks' return reports."""
        case = self.get_object()
        _require(permissions.can_edit_case(request.user))
        body = s.CloseCaseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        case = actions.close_case(case, acting_user=request.user, summary=data["summary"], outcome=data["outcome"])
        return Response(s.CaseSerializer(case, context=self.get_serializer_context()).data)

    def _share_target(self, request) -> tuple[Case, User, str]:
        case = self.get_object()
        _require(permissions.can_share(request.user))
        body = s.ShareSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = User.objects.visible_to(request.user).filter(username=body.validated_data["username"]).first()
        if user is None:
            raise exceptions.ValidationError({"username": [_("No such user.")]})
        return case, user, body.validated_data["permission"]

    @extend_schema(request=s.ShareSerializer, responses={204: None, **errors(400, 401, 403, 404)})
    @action(detail=True, methods=["post"])
    def share(self, request, pk=None):
        """Share the case with a named person (supervisor)."""
        case, user, permission = self._share_target(request)
        actions.share_case(case, user=user, acting_user=request.user, action=permission)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.ShareSerializer, responses={204: None, **errors(400, 401, 403, 404)})
    @action(detail=True, methods=["post"])
    def unshare(self, request, pk=None):
        """Revoke a person's share of the case (supervisor)."""
        case, user, permission = self._share_target(request)
        actions.unshare_case(case, user=user, acting_user=request.user, action=permission)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=s.IssueStopPaymentsSerializer,
        responses={201: s.TaskSerializer(many=True), **errors(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"], url_path="stop-payments", pagination_class=None)
    def stop_payments(self, request, pk=None):
        """One call: a stop-payment to the holding bank of every receiving account of the case."""
        case = self.get_object()
        _require(permissions.can_create_task(request.user))
        body = s.IssueStopPaymentsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        tasks = actions.issue_stop_payments(case, acting_user=request.user, approve=body.validated_data["approve"])
        return Response(_tasks_data(tasks, self), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.IssueFollowUpsSerializer,
        responses={201: s.TaskSerializer(many=True), **errors(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"], url_path="follow-ups", pagination_class=None)
    def follow_ups(self, request, pk=None):
        """Issue the proposed follow-up stop-payments (all, or those listed)."""
        case = self.get_object()
        _require(permissions.can_create_task(request.user))
        body = s.IssueFollowUpsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        tasks = actions.issue_follow_ups(
            case,
            acting_user=request.user,
            proposal_ids=body.validated_data.get("proposal_ids"),
            approve=body.validated_data["approve"],
        )
        return Response(_tasks_data(tasks, self), status=status.HTTP_201_CREATED)


def _tasks_data(tasks, view) -> list:
    ids = [t.pk for t in tasks]
    rows = TaskViewSet.base_queryset.filter(pk__in=ids).order_by("id")
    return s.TaskSerializer(rows, many=True, context=view.get_serializer_context()).data


# --- tasks -----------------------------------------------------------------------


class TaskViewSet(SearchMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Tasks: all for the centre and auditors; only its own for an agency (liaison, manager, partner)."""

    # Only the related columns a task's representation reads (see TaskSerializer).
    # A warning from a clue (no case) reads its person from the clue: joined, not one query per row.
    base_queryset = Task.objects.select_related(
        "case__fraud_type", "case__district", "agency", "target__bank", "warning__district"
    ).only(
        *(f.name for f in Task._meta.concrete_fields),
        "warning__name",
        "warning__phone",
        "warning__id_number",
        "warning__address",
        "warning__level",
        "warning__reason",
        "warning__district__code",
        "case__reference",
        "case__reported_at",
        "case__fraud_type__code",
        "case__district__code",
        "agency__code",
        "target__kind",
        "target__value",
        "target__holder_name",
        "target__bank__code",
    )
    serializer_class = s.TaskSerializer
    filterset_class = TaskFilterSet

    @extend_schema(
        description=SEARCH_DESCRIPTION,
        request=_search_body("TaskSearch", TaskFilterSet),
        responses={200: s.TaskSerializer(many=True), **errors(400, 401)},
    )
    @action(detail=False, methods=["post"])
    def search(self, request):
        """Tasks by the list's filters (``target``, ``state``...) sent in the body."""
        return super().search(request)

    def _answer(self, task: Task, code: int = status.HTTP_200_OK) -> Response:
        task = self.base_queryset.get(pk=task.pk)
        return Response(s.TaskSerializer(task, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=s.TaskCreateSerializer, responses={201: s.TaskSerializer, **errors(400, 401, 403)})
    def create(self, request):
        _require(permissions.can_create_task(request.user))
        body = s.TaskCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        target = data.get("target") or {"kind": "none", "value": ""}
        task = actions.create_task(
            data["case"],
            acting_user=request.user,
            type=data["type"],
            agency=data["agency"],
            target_kind=target["kind"],
            target_value=target.get("value") or "",
            amount=data.get("amount"),
            legal_document_number=data.get("legal_document_number") or "",
            note=data.get("note") or "",
            contact=self._contact(data["case"], data.get("person")),
        )
        return self._answer(task, status.HTTP_201_CREATED)

    def _contact(self, case: Case, person: dict | None) -> actions.WarningContact | None:
        if not person:
            return None
        victim = None
        if person.get("victim"):
            victim = Victim.objects.visible_to(self.request.user).filter(case=case, pk=person["victim"]).first()
            if victim is None:
                raise exceptions.ValidationError({"person": {"victim": [_("This victim is not in this case.")]}})
        return actions.WarningContact(
            name=person.get("name", ""), phone=person.get("phone", ""), address=person.get("address", ""), victim=victim
        )

    @extend_schema(request=s.ApproveSerializer, responses={200: s.TaskSerializer, **errors(400, 401, 403, 404, 409)})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve (supervisor; analyst for types that need none); a pushable task is dispatched.

        A ``fund_return`` is approved with ``legal_document_number``, after its public
        notice (``notice_until``) and once every objection is reviewed.
        """
        task = self.get_object()
        body = s.ApproveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        number = body.validated_data.get("legal_document_number", "")
        return self._answer(actions.approve_task(task, acting_user=request.user, legal_document_number=number))

    @extend_schema(
        operation_id="v1_tasks_approve_many",
        request=s.BulkApproveSerializer,
        responses={200: s.BulkApproveAnswerSerializer, **errors(400, 401, 403)},
    )
    @action(detail=False, methods=["post"], url_path="approve", pagination_class=None)
    def approve_many(self, request):
        """Approve many tasks at once; each stands alone, refusals are listed with their reason."""
        _require(permissions.can_create_task(request.user))
        body = s.BulkApproveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ids = body.validated_data["ids"]
        found = {t.pk: t for t in self.get_queryset().filter(pk__in=ids)}
        approved, refused = actions.approve_tasks([found[i] for i in ids if i in found], acting_user=request.user)
        refused.update({i: _("Not found.") for i in ids if i not in found})
        return Response({"approved": [t.pk for t in approved], "refused": {str(k): v for k, v in refused.items()}})

    @extend_schema(request=None, responses={200: s.TaskSerializer, **errors(401, 403, 404, 409)})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """The assigned agency acknowledges the task."""
        return self._answer(actions.accept_task(self.get_object(), acting_user=request.user))

    @extend_schema(request=s.ReasonSerializer, responses={200: s.TaskSerializer, **errors(400, 401, 403, 404, 409)})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """The assigned agency refuses the task, with a reason."""
        task = self.get_object()
        _require(permissions.can_act_for_agency(request.user, task))
        body = s.ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._answer(actions.reject_task(task, acting_user=request.user, reason=body.validated_data["reason"]))

    @extend_schema(request=s.ReasonSerializer, responses={200: s.TaskSerializer, **errors(400, 401, 403, 404, 409)})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """The centre withdraws (returns) the task, with a reason: an empty one is a 400."""
        task = self.get_object()
        _require(permissions.can_cancel(request.user))
        body = s.ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._answer(actions.cancel_task(task, acting_user=request.user, reason=body.validated_data["reason"]))

    @extend_schema(
        request=s.ResultSerializer, responses={200: s.ResultAnswerSerializer, **errors(400, 401, 403, 404, 409)}
    )
    @action(detail=True, methods=["post"])
    def result(self, request, pk=None):
        """Report the outcome; the same result twice is 200 and changes nothing, a different one 409."""
        task = self.get_object()
        _require(permissions.can_act_for_agency(request.user, task))
        serializer = s.ResultSerializer(data=request.data, context={"task": task})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        task, changed = actions.submit_result(
            task,
            acting_user=request.user,
            status=data["status"],
            result=data.get("result"),
            executed_at=data.get("executed_at"),
            reason=data.get("reason"),
        )
        return Response({"id": task.pk, "status": task.state, "changed": changed})

    @extend_schema(responses={200: s.AuditRecordSerializer(many=True), **errors(401, 403, 404)})
    @action(detail=True, methods=["get"])
    def events(self, request, pk=None):
        """The task's history from the audit trail: centre roles and auditors."""
        task = self.get_object()
        _require(roles.can(request.user, "reads_history"))
        records = AuditRecord.objects.visible_to(request.user).filter(object_type="cases.task", object_id=task.pk)
        paginator = AuditPage()
        page = paginator.paginate_queryset(records, request, view=self)
        data = s.AuditRecordSerializer(page, many=True, context=self.get_serializer_context()).data
        return paginator.get_paginated_response(data)


class ProposalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Follow-up stop-payments the platform proposes from partners' onward transfers (centre)."""

    base_queryset = FollowUpProposal.objects.select_related("identifier", "agency")
    serializer_class = s.ProposalSerializer
    filterset_class = ProposalFilterSet
