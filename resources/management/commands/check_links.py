from django.core.management.base import BaseCommand, CommandError

from resources.linkcheck import (
    DEFAULT_CONCURRENCY,
    DEFAULT_TIMEOUT,
    CheckSummary,
    LinkResult,
    check_resources,
)
from resources.models import Resource


class Command(BaseCommand):
    help = (
        "Visit the links of approved resources, remember each answer, and flag a link for "
        "moderators when it has failed twice in a row. Links never checked go first, then "
        "those checked longest ago."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit", type=int, default=None, help="Check at most this many resources."
        )
        parser.add_argument(
            "--concurrency",
            type=int,
            default=DEFAULT_CONCURRENCY,
            help=f"Links checked at the same time (default {DEFAULT_CONCURRENCY}).",
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=DEFAULT_TIMEOUT,
            help=f"Seconds to wait for each connection and read (default {DEFAULT_TIMEOUT:g}).",
        )
        parser.add_argument(
            "--ids", type=int, nargs="+", default=None, help="Check only these resources."
        )

    def handle(self, *args, limit, concurrency, timeout, ids, **options):
        if limit is not None and limit < 0:
            raise CommandError("--limit cannot be negative.")
        if concurrency < 1:
            raise CommandError("--concurrency must be at least 1.")
        if timeout <= 0:
            raise CommandError("--timeout must be more than 0 seconds.")
        resources = Resource.objects.due_for_link_check().only("id", "url", "title")
        if ids:
            resources = resources.filter(pk__in=ids)
        if limit is not None:
            resources = resources[:limit]
        summary = check_resources(
            list(resources),
            concurrency=concurrency,
            timeout=timeout,
            on_result=self._report if options["verbosity"] >= 2 else None,
        )
        self._summarise(summary)

    def _report(self, resource: Resource, result: LinkResult, flagged: bool) -> None:
        outcome = "ok" if result.ok else "FAILED"
        line = f"{outcome:6} #{resource.pk} {resource.url}: {result.describe()}"
        if result.final_url and result.final_url != resource.url:
            line += f" -> {result.final_url}"
        if flagged:
            line += " (flagged for moderators)"
        self.stdout.write(line)

    def _summarise(self, summary: CheckSummary) -> None:
        style = self.style.SUCCESS if summary.failed == 0 else self.style.WARNING
        self.stdout.write(
            style(
                f"Checked {summary.checked} link{'s' if summary.checked != 1 else ''}: "
                f"{summary.ok} ok, {summary.failed} failed, {summary.flagged} flagged."
            )
        )
