"""Portal users (``/portal/users/``, admin only): the customer's logins; invite by e-mail,
change a role, switch a login off or on (customers.services decides what is allowed), and
the invitation page where an invited user chooses a password."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from common.admin_forms import errors_onto_form
from customers import services
from customers.access import MANAGE_ROLES
from customers.models import PortalUser
from portal.access import portal_view
from portal.views.auth import active_user_only


def invitation_link(request, user) -> str:
    """The absolute link of InvitationView for an invited ``user`` (customers.services makes the token)."""
    return request.build_absolute_uri(reverse("portal:invitation", kwargs=services.invitation_kwargs(user)))


class InviteForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("E-mail"))
    # Least privilege: an invitation is for a developer unless the administrator says otherwise.
    role = forms.ChoiceField(
        label=gettext_lazy("Role"), choices=PortalUser.Role.choices, initial=PortalUser.Role.DEVELOPER
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=PortalUser.Role.choices)


class ActiveForm(forms.Form):
    is_active = forms.TypedChoiceField(
        label=gettext_lazy("Active"), choices=[("1", "1"), ("0", "0")], coerce=lambda v: v == "1"
    )


def _members(customer):
    return customer.portal_users.select_related("user").order_by("user__username")


def _page(request, *, invite: InviteForm | None = None, failed: tuple[int, forms.Form] | None = None, status=200):
    """The users page; ``failed`` = (member pk, its role or active form with the error)."""
    rows = []
    for member in _members(request.portal.customer):
        form = failed[1] if failed and failed[0] == member.pk else None
        role_form = form if isinstance(form, RoleForm) else RoleForm(initial={"role": member.role})
        role_form.auto_id = f"id_user{member.pk}_%s"  # one role select per row, each its own id
        rows.append(
            {
                "member": member,
                "role_form": role_form,
                "active_form": form if isinstance(form, ActiveForm) else None,
                "is_self": member.pk == request.portal.pk,
            }
        )
    return render(request, "portal/users.html", {"rows": rows, "invite": invite or InviteForm()}, status=status)


@require_http_methods(["GET", "POST"])
@portal_view(MANAGE_ROLES)
def users(request):
    """GET: the customer's portal users. POST: invite one (``email``, ``role``)."""
    if request.method == "GET":
        return _page(request)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            member = services.portal_user_invite(
                customer=request.portal.customer,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                link_for=lambda user: invitation_link(request, user),
            )
        except ValidationError as exc:
            errors_onto_form(form, exc, fields={"username": "email"})
        else:
            messages.success(
                request,
                _("An invitation was sent to %(email)s; they choose their password from its link.")
                % {"email": member.user.email},
            )
            return redirect("portal:users")
    return _page(request, invite=form)


def _change(request, pk: int, form_class, field: str):
    member = get_object_or_404(_members(request.portal.customer), pk=pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            services.portal_user_change(member=member, by=request.portal, **{field: form.cleaned_data[field]})
        except ValidationError as exc:
            errors_onto_form(form, exc)
        else:
            messages.success(request, _("%(user)s is changed.") % {"user": member.user.username})
            return redirect("portal:users")
    return _page(request, failed=(member.pk, form))


@require_POST
@portal_view(MANAGE_ROLES)
def user_role(request, pk: int):
    return _change(request, pk, RoleForm, "role")


@require_POST
@portal_view(MANAGE_ROLES)
def user_active(request, pk: int):
    return _change(request, pk, ActiveForm, "is_active")


class InvitationView(auth_views.PasswordResetConfirmView):
    """The link of the invitation e-mail: Django's set-password page (its token, its form)
    in the portal's frame; the new user is signed in and lands on the overview. The link of
    an invitee who has been deactivated is dead."""

    template_name = "portal/invitation.html"
    post_reset_login = True
    # django-axes adds its own backend; the new user signs in as with a password.
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("portal:home")

    def get_user(self, uidb64):
        return active_user_only(super().get_user(uidb64))
