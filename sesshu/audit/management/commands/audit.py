from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from sesshu.audit.models import AuditEvent
from sesshu.audit.services import verify_chain


class Command(BaseCommand):
    help = "`audit verify`: check the hash chain; prints 'ok N events' or the first broken link."

    def add_arguments(self, parser):
        parser.add_argument("operation", choices=["verify"])
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, operation: str, no_progress: bool, **options):
        total = AuditEvent.objects.count()
        with tqdm(total=total, unit="ev", disable=no_progress or total < 10000, file=self.stderr) as bar:
            result = verify_chain(progress=bar.update)
        if not result.ok:
            raise CommandError(str(result))
        self.stdout.write(str(result))
