"""The agency manager's page (the audit trail's page is ``coordination.views.AuditView``)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from coordination import hooks
from coordination.views import ScopedView

from . import actions, roles
from .choices import Role
from .forms import EndpointForm, LiaisonForm
from .models import Agency, User


class MyAgencyView(ScopedView):
    """A manager's agency: its liaisons, its endpoint (secret rotation) and its performance.

    The performance card belongs to ``cases`` (its tasks): it comes through the
    ``agency_page_panels`` hook.
    """

    def allowed(self, user):
        return roles.can(user, "manages_agency") and bool(user.agency_id)

    def agency(self):
        return self.get_scoped(Agency, "change", pk=self.request.user.agency_id)

    def get(self, request):
        return self.show(self.agency())

    def show(self, agency, *, endpoint_form=None, liaison_form=None, new_secret="", status=200):
        request = self.request
        panels = hooks.panels("agency_page_panels", self, agency)
        people = list(self.scoped(User).filter(agency_id=agency.pk).order_by("username"))
        return render(
            request,
            "agencies/my_agency.html",
            {
                "agency": agency,
                "people": people,
                "panels": panels,
                "endpoint_form": endpoint_form or EndpointForm(initial=self.endpoint_initial(agency)),
                "old_secret_live": agency.old_secret_live(),
                "liaison_form": liaison_form or LiaisonForm(),
                "new_secret": new_secret,
                "nav": "agency",
            },
            status=status,
        )

    @staticmethod
    def endpoint_initial(agency) -> dict:
        return {
            "endpoint_url": agency.endpoint_url,
            "overlap_hours": round(actions.default_overlap().total_seconds() / 3600),
        }

    def post(self, request):
        agency = self.agency()
        do = request.POST.get("do")
        if do in ("endpoint", "rotate"):
            data = request.POST
            if do == "rotate":
                # The same address, a new secret: only the overlap comes from the form.
                data = {"endpoint_url": agency.endpoint_url, "overlap_hours": request.POST.get("overlap_hours", "")}
            form = EndpointForm(data)
            if not form.is_valid():
                return self.show(agency, endpoint_form=form, status=400)
            try:
                agency, secret = actions.set_endpoint(
                    agency,
                    url=form.cleaned_data["endpoint_url"],
                    secret=None,
                    acting_user=request.user,
                    overlap=form.overlap(),
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages)
                return self.show(agency, endpoint_form=form, status=400)
            # Shown once, in this answer only; never stored in the page again.
            messages.success(request, _("A new secret was generated. Copy it now: it will not be shown again."))
            return self.show(agency, new_secret=secret)
        if do == "clear":
            actions.clear_endpoint(agency, acting_user=request.user)
            messages.success(request, _("The endpoint was removed: tasks now wait in the inbox."))
            return redirect("my-agency")
        if do == "liaison":
            form = LiaisonForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                # User names are unique platform-wide: the check must see every agency's
                # people, and it reveals nothing but "taken".
                if User.objects.filter(username=data["username"]).exists():
                    form.add_error("username", _("This user name is taken."))
                else:
                    try:
                        actions.create_user(
                            username=data["username"],
                            agency=agency,
                            role=Role.LIAISON,
                            acting_user=request.user,
                            password=data["password"],
                            first_name=data["first_name"],
                            email=data["email"],
                        )
                    except ValidationError as exc:
                        form.add_error(None, exc.messages)
                    else:
                        messages.success(request, _("Liaison %(name)s added.") % {"name": data["username"]})
                        return redirect("my-agency")
            return self.show(agency, liaison_form=form, status=400)
        return redirect("my-agency")
