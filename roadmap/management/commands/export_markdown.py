from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from roadmap.markdown_io import export_markdown


class Command(BaseCommand):
    help = (
        "Write the approved roadmap as an awesome-list README; the result is itself a valid "
        "content file for load_roadmap."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", "-o", metavar="FILE", help="write to FILE instead of standard output"
        )

    def handle(self, *args, output=None, **options):
        text = export_markdown()
        if output is None:
            self.stdout.write(text, ending="")
            return
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as error:
            raise CommandError(f"{output}: cannot write ({error.strerror or error})") from error
        self.stdout.write(self.style.SUCCESS(f"Wrote the roadmap to {output}"))
