import unicodedata

from django.core.management.base import BaseCommand, CommandError

from resources.models import Status
from roadmap.markdown_io import (
    ImportReport,
    UnknownSection,
    UnreadableFile,
    import_markdown,
    read_markdown_file,
)


def printable(text: str) -> str:
    """User-supplied text without control characters that could rewrite the terminal."""
    return "".join(char for char in text if unicodedata.category(char) != "Cc")


class Command(BaseCommand):
    help = (
        "Import the links of an awesome-list style Markdown file as resources: headings become "
        "sections (or match existing ones), duplicates are skipped, unreadable lines reported."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--section",
            metavar="SLUG",
            help="put everything below this existing section; headings become its sub-sections",
        )
        parser.add_argument(
            "--status",
            choices=[Status.PENDING, Status.APPROVED],
            default=Status.PENDING,
            help="pending (the default) waits for a moderator; approved publishes at once",
        )

    def handle(self, *args, file, section=None, status=Status.PENDING, **options):
        try:
            text = read_markdown_file(file)
            report = import_markdown(text=text, section_slug=section, status=status)
        except (UnreadableFile, UnknownSection) as error:
            raise CommandError(f"{file}: {error}") from error
        self._write_report(report, verbose=options["verbosity"] >= 1)
        if report.imported_nothing:
            raise CommandError(f"{file}: nothing could be imported")
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {file}: {len(report.created)} resources created ({status}), "
                f"{len(report.skipped)} skipped, {len(report.unreadable)} lines not read; "
                f"{len(report.sections_created)} sections created, "
                f"{len(report.sections_matched)} matched existing ones."
            )
        )

    def _write_report(self, report: ImportReport, *, verbose: bool) -> None:
        if verbose:
            for section in report.sections_created:
                self.stdout.write(f"section created: {printable(section.title)} ({section.slug})")
            for heading, section in report.sections_matched:
                self.stdout.write(
                    f"section matched: {printable(heading)} -> existing {section.slug}"
                )
            for number, resource in report.created:
                self.stdout.write(
                    f"line {number}: created #{resource.pk} {printable(resource.title)!r} "
                    f"in {printable(resource.section.title)}"
                )
            for number, reason in report.skipped:
                self.stdout.write(f"line {number}: skipped: {printable(reason)}")
        for number, reason in report.unreadable:
            where = f"line {number}" if number else "file"
            self.stderr.write(f"{where}: {printable(reason)}")
