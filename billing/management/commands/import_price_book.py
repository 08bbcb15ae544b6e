from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from billing.pricing.pricebook_file import MAX_BYTES, PriceBookFileError, price_book_file_import


class Command(BaseCommand):
    help = (
        "Load a provider's price list from a CSV or XLSX file (one row per model and price key; see "
        "billing/pricing/pricebook_file.py) as price versions. All or nothing; never changes a version a bill used."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="A .csv or .xlsx file.")

    def handle(self, *args, file: str, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file.")
        if path.stat().st_size > MAX_BYTES:
            raise CommandError(f"{file}: larger than 2 MB; split the list.")
        try:
            report = price_book_file_import(file_name=path.name, content=path.read_bytes())
        except PriceBookFileError as exc:
            raise CommandError("\n".join(exc.messages)) from None
        self.stdout.write(f"price versions: {report.created} created, {report.updated} replaced")
