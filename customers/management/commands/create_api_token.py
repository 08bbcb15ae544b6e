from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from customers.access import is_finance, is_presales, portal_membership
from customers.services import api_token_create


class Command(BaseCommand):
    help = (
        "Create an API token for a staff user (finance / presales) or a portal user; prints it once, on the last line."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="A label for the token (where it is used).")

    def handle(self, *args, username: str, name: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not user.is_active:
            raise CommandError(f"The user {username!r} is disabled.")
        if not (is_finance(user) or is_presales(user) or portal_membership(user) is not None):
            raise CommandError(
                f"{username!r} is neither in the finance or presales group nor a customer portal user; "
                "gateways get tokens from create_gateway_token."
            )
        _token, value = api_token_create(user=user, name=name or "cli")
        self.stderr.write(f"Token for {username} (shown once; store it now):")
        self.stdout.write(value)
