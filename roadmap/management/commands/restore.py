"""manage.py restore FILE: load a `manage.py backup` file into an empty, migrated database.

Everything happens in one transaction: a file that cannot be loaded whole changes nothing.
A database that already holds content is refused unless --force says to replace it. Everyone is
signed out (sessions are not part of a backup) and the cache is emptied, so that no page
cached from the data before the restore is served after it.
"""

import io
import shutil
import tempfile
import warnings
from pathlib import Path

from django.apps import apps
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.core.management.commands import loaddata
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from roadmap.management.commands.backup import EXCLUDED

# Rows that `migrate` itself creates on an empty database (resources/migrations/0003 makes the
# Moderators group). They are not content: the backup's own copies replace them.
MADE_BY_MIGRATIONS = frozenset({"auth.group"})
MAX_ERROR_LENGTH = 500


def backed_up_models() -> list:
    """Every table a backup holds, many-to-many tables included."""
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed
        and not model._meta.proxy
        and model._meta.app_label not in EXCLUDED
        and model._meta.label_lower not in EXCLUDED
    ]


class Command(BaseCommand):
    help = "Load a backup written by `manage.py backup` into an empty, migrated database."

    def add_arguments(self, parser):
        parser.add_argument("file", help="A file written by manage.py backup")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace whatever the database holds with the backup's content.",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, file: str, force: bool, database: str, **options):
        source = Path(file)
        if not source.is_file():
            raise CommandError(f"{source} is not a file.")
        models = backed_up_models()
        with transaction.atomic(using=database):
            if not force and (content := _content(models, database)):
                raise CommandError(
                    f"The database already holds {content}. Restore into an empty, migrated "
                    "database, or pass --force to replace everything in it with the backup."
                )
            _empty([*models, Session], database)
            loaded = self._load(source, database)
        cache.clear()
        if options["verbosity"]:
            self.stdout.write(f"Restored {loaded:,} rows from {source}. Everyone is signed out.")

    def _load(self, source: Path, database: str) -> int:
        # Quiet: this command reports the outcome, loaddata's own messages would repeat it.
        command = loaddata.Command(stdout=io.StringIO(), stderr=io.StringIO())
        try:
            with tempfile.TemporaryDirectory() as folder:
                # loaddata tells the format from the name; a backup may be called anything.
                fixture = Path(folder) / "backup.json.gz"
                shutil.copyfile(source, fixture)
                with warnings.catch_warnings():
                    # An empty file is only a warning to loaddata; it is refused below.
                    warnings.simplefilter("ignore", RuntimeWarning)
                    call_command(command, str(fixture), database=database, verbosity=0)
        except Exception as error:  # noqa: BLE001 - any failure to load is the file's fault
            message = " ".join(str(error).split())[:MAX_ERROR_LENGTH]
            raise CommandError(
                f"{source} could not be restored, so nothing was changed: {message}"
            ) from None
        if not command.loaded_object_count:
            raise CommandError(f"{source} holds no rows: it is not a backup of this site.")
        return command.loaded_object_count


def _content(models: list, database: str) -> str:
    """What the database holds besides what migrate makes, e.g. "3 users, 1 section"."""
    found = []
    for model in models:
        if model._meta.auto_created or model._meta.label_lower in MADE_BY_MIGRATIONS:
            continue
        count = model._base_manager.using(database).count()
        if count:
            name = model._meta.verbose_name if count == 1 else model._meta.verbose_name_plural
            found.append(f"{count} {name}")
    return ", ".join(found)


def _empty(models: list, database: str) -> None:
    """Delete every row of these tables. Foreign keys are checked when the transaction
    commits, by which time the backup's rows are in."""
    connection = connections[database]
    tables = sorted({model._meta.db_table for model in models})
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")  # noqa: S608
