from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from customers.services import gateway_identity_create


class Command(BaseCommand):
    help = "Create (or reuse) a gateway identity NAME and print a new token for it, once, on the last line."

    def add_arguments(self, parser):
        parser.add_argument("name")

    def handle(self, *args, name: str, **options):
        try:
            token, value = gateway_identity_create(name=name)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stderr.write(f"Gateway token for {token.user.username} (shown once; store it now):")
        self.stdout.write(value)
