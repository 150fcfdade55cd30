import unicodedata

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from resources.models import Status
from roadmap.markdown_io import (
    CREATED,
    DUPLICATE,
    MAX_FILE_BYTES,
    MAX_ITEMS,
    REPORTED,
    SKIPPED,
    ImportReport,
    TooLarge,
    UnknownSection,
    UnreadableFile,
    import_markdown,
    parse_map_options,
    read_markdown_file,
)


def printable(text: str) -> str:
    """User-supplied text without control characters that could rewrite the terminal."""
    return "".join(char for char in text if unicodedata.category(char) != "Cc")


class Command(BaseCommand):
    help = (
        "Import the links of an awesome-list style Markdown file as one recorded batch: "
        "headings map onto sections (by title, slug, roadmap/content/heading-aliases.toml or "
        "--map), the others become hidden sections; duplicates of resources on the site are "
        "reported as 'same as #N'; every line with a link is created, skipped or reported. "
        f"At most {MAX_FILE_BYTES // 1024 // 1024} MB and {MAX_ITEMS} links per file."
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
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="print how headings map and what would be created, skipped or reported; "
            "write nothing",
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar='"Heading=section-slug"',
            help="map a heading onto an existing section (repeatable)",
        )
        parser.add_argument("--source", help="where the list came from (default: the file name)")
        parser.add_argument("--revision", default="", help="the list's commit or date")
        parser.add_argument("--user", help="the username of the moderator running the import")

    def handle(self, *args, file, section=None, status=Status.PENDING, **options):
        try:
            mapping = parse_map_options(options["map"])
        except ValueError as error:
            raise CommandError(str(error)) from error
        run_by = None
        if options.get("user"):
            run_by = get_user_model().objects.filter(username=options["user"]).first()
            if run_by is None:
                raise CommandError(f"there is no user {options['user']!r}")
        try:
            text = read_markdown_file(file)
            report = import_markdown(
                text=text,
                section_slug=section,
                status=status,
                source=options.get("source") or file,
                revision=options["revision"],
                run_by=run_by,
                dry_run=options["dry_run"],
                mapping=mapping,
                progress=self._progress_bar(),
            )
        except (UnreadableFile, UnknownSection, TooLarge) as error:
            raise CommandError(f"{file}: {error}") from error
        self._write_report(report, verbose=options["verbosity"] >= 1)
        if report.imported_nothing:
            raise CommandError(f"{file}: nothing could be imported")
        counts = report.counts
        sections = report.sections_planned if report.dry_run else report.sections_created
        what = "Dry run, nothing written" if report.dry_run else f"Imported {file}"
        batch = f" as batch #{report.batch.pk}" if report.batch else ""
        resources = len(report.would_create) if report.dry_run else len(report.created)
        self.stdout.write(
            self.style.SUCCESS(
                f"{what}{batch}: {report.link_lines} lines with links = "
                f"{counts[CREATED]} created + {counts[DUPLICATE]} duplicate + "
                f"{counts[SKIPPED]} skipped + {counts[REPORTED]} reported; "
                f"{resources} resources ({status}); {len(sections)} hidden sections "
                f"{'would be ' if report.dry_run else ''}created, "
                f"{len(report.sections_matched)} headings matched existing ones."
            )
        )

    def _progress_bar(self):
        stream = self.stderr._out
        if not getattr(stream, "isatty", lambda: False)():
            return None

        def show(done: int, total: int) -> None:
            width = 40
            filled = width * done // max(total, 1)
            stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} resources")
            if done >= total:
                stream.write("\n")
            stream.flush()

        return show

    def _write_report(self, report: ImportReport, *, verbose: bool) -> None:
        if verbose:
            for line, heading, mapping in report.headings:
                self.stdout.write(f"line {line}: heading {printable(heading)!r} -> {mapping}")
            if report.dry_run:
                for line, title, slug in report.would_create:
                    self.stdout.write(f"line {line}: would create {printable(title)!r} in {slug}")
            for line, resource in report.created:
                note = f" [{resource.review_note}]" if resource.review_note else ""
                self.stdout.write(
                    f"line {line}: created #{resource.pk} {printable(resource.title)!r} "
                    f"in {printable(resource.section.title)}{note}"
                )
            for line, reason, _ in report.duplicates:
                self.stdout.write(f"line {line}: duplicate: {printable(reason)}")
            for line, reason in report.skipped:
                self.stdout.write(f"line {line}: skipped: {printable(reason)}")
        for line, reason in report.unreadable:
            where = f"line {line}" if line else "file"
            self.stderr.write(f"{where}: {printable(reason)}")
