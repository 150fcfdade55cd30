from django.core.management.base import BaseCommand, CommandError

from roadmap.content import DEFAULT_CONTENT_FILE, ContentError
from roadmap.services import load_roadmap


class Command(BaseCommand):
    help = "Create or update the roadmap's sections and resources from its Markdown file."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default=str(DEFAULT_CONTENT_FILE))

    def handle(self, *args, file, **options):
        try:
            report = load_roadmap(path=file)
        except FileNotFoundError as error:
            raise CommandError(f"{file}: no such file") from error
        except ContentError as error:
            raise CommandError(f"{file}: {error}") from error
        self.stdout.write(self.style.SUCCESS(f"Loaded {file}: {report}"))
