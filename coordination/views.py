"""The one view mixin every page goes through, and the friendly error pages.

``ScopedViewMixin`` is to pages what ``coordination.viewsets.BaseViewSet`` is to
the API: every queryset a page shows comes from ``scoped()`` (that is,
``Model.objects.visible_to(user, action)``), an object outside the user's scope
answers 404 exactly like a missing one, and a role that may see an object but not
act on it gets 403.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseServerError
from django.shortcuts import redirect, render
from django.template import loader
from django.views import View

from coordination.exceptions import ActionNotAllowed, Conflict, InvalidTransition

log = logging.getLogger(__name__)


class ScopedViewMixin(LoginRequiredMixin):
    """Login required; querysets narrowed by ``visible_to``; role checks answer 403.

    ``allowed(user)`` decides whether the page is for this role at all (403 when
    not); ``scoped(Model, action)`` is the only way a page reads rows.
    """

    raise_exception = False  # anonymous users go to the login page

    def allowed(self, user) -> bool:
        return True

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            if getattr(request, "htmx", False):
                # A poll after the session lapsed: send the whole page to the login form
                # rather than swapping the login page into a table.
                from django.contrib.auth.views import redirect_to_login
                from django_htmx.http import HttpResponseClientRedirect

                page = request.htmx.current_url_abs_path or "/"
                return HttpResponseClientRedirect(redirect_to_login(page).url)
            return self.handle_no_permission()
        if not self.allowed(request.user):
            raise PermissionDenied
        try:
            return super().dispatch(request, *args, **kwargs)
        except ActionNotAllowed as exc:
            raise PermissionDenied(str(exc)) from exc

    def scoped(self, model, action: str = "view"):
        """The rows of ``model`` this user may see (or change)."""
        return model.objects.visible_to(self.request.user, action)

    def get_scoped(self, model_or_qs, action: str = "view", **lookup):
        """One visible object, or 404 with the same page as a missing one."""
        qs = self.scoped(model_or_qs, action) if isinstance(model_or_qs, type) else model_or_qs
        obj = qs.filter(**lookup).first()
        if obj is None:
            raise Http404
        return obj

    def run_action(self, func, *args, success: str | None = None, **kwargs):
        """Call an action; refusals of state or validity become messages, not 500s.

        Returns the action's result, or ``None`` when it was refused.
        """
        try:
            result = func(*args, **kwargs)
        except (InvalidTransition, Conflict) as exc:
            messages.error(self.request, str(exc))
            return None
        except ValidationError as exc:
            messages.error(self.request, " ".join(exc.messages))
            return None
        if success:
            messages.success(self.request, success)
        return result


class ScopedView(ScopedViewMixin, View):
    """A plain view with the mixin."""


def redirect_back(request, fallback: str):
    """Back to the page the form was on (same host only), else ``fallback``."""
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or request.META.get("HTTP_REFERER", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback)


def error_403(request, exception=None):
    return render(request, "403.html", status=403)


def error_404(request, exception=None):
    return render(request, "404.html", status=404)


def error_500(request):
    # The request may be half-broken: render without context processors if need be.
    try:
        return render(request, "500.html", status=500)
    except Exception:
        log.exception("500 page failed to render")
        return HttpResponseServerError(loader.get_template("500.html").render({}))


def csv_cell(value) -> str:
    """A text cell that a spreadsheet will not run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
