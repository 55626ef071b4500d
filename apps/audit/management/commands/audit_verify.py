from django.core.management.base import BaseCommand, CommandError

from apps.audit.services import verify_audit_chain


class Command(BaseCommand):
    help = "Verify the hash-chained audit trail; exit non-zero at the first bad event."

    def handle(self, *args: object, **options: object) -> None:
        report = verify_audit_chain()
        if not report.ok:
            raise CommandError(
                f"audit chain BROKEN after {report.checked} good events: {report.problem}"
            )
        self.stdout.write(self.style.SUCCESS(f"audit chain OK: {report.checked} events verified"))
