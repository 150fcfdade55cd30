"""manage.py backup FILE: the whole database as gzip'd JSON, for `manage.py restore FILE`.

Built on dumpdata. Left out, because `migrate` rebuilds them or they must not come back:
content types and permissions (made by migrate; rows that point at them are written with
natural keys, so they find the new rows whatever their ids), sessions (a restore signs everyone
out rather than bring back sign-ins) and the cache table (not a model). The admin's change
history (admin.LogEntry) is kept: it is the record of what moderators corrected by hand.
Primary keys are kept too (no natural primary keys), because they are in public addresses
such as /resources/42/.
"""

import datetime
import gzip
import os
from pathlib import Path

from django.core import serializers
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.core.management.commands import dumpdata
from django.core.serializers import json as json_serializer
from django.db import DEFAULT_DB_ALIAS, connections, transaction

# Shared with restore: what a backup leaves out.
EXCLUDED = ("contenttypes", "auth.permission", "sessions")
FORMAT = "backup-json"


class FullPrecisionEncoder(json_serializer.DjangoJSONEncoder):
    """Django's JSON encoder cuts times to milliseconds; a backup keeps the microseconds."""

    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            return o.isoformat()
        return super().default(o)


class Serializer(json_serializer.Serializer):
    """Plain Django JSON that `loaddata` reads as it is, with times to the microsecond."""

    def _init_options(self):
        super()._init_options()
        self.json_kwargs["cls"] = FullPrecisionEncoder


Deserializer = json_serializer.Deserializer


class Command(BaseCommand):
    help = "Write the whole database to FILE as gzip'd JSON (read it back with restore)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Where to write the backup, e.g. var/backup.json.gz")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, file: str, database: str, **options):
        target = Path(file)
        if not target.parent.is_dir():
            raise CommandError(f"{target.parent} is not a folder.")
        # This module doubles as the serializer module of its own format (see Serializer).
        serializers.register_serializer(FORMAT, __name__)
        # Written beside the target and renamed at the end: an interrupted backup never
        # leaves a truncated file under the name of a good one.
        partial = target.with_name(f".{target.name}.partial")
        try:
            with gzip.open(partial, "wt", encoding="utf-8") as stream:
                self._dump(stream, database, options["verbosity"])
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        if options["verbosity"]:
            self.stdout.write(f"Wrote {target} ({target.stat().st_size:,} bytes).")

    def _dump(self, stream, database: str, verbosity: int) -> None:
        connection = connections[database]
        command = dumpdata.Command(stdout=stream)
        # dumpdata writes the JSON in pieces to its stdout; no line ending after each piece.
        command.stdout.ending = ""
        # One transaction, so that the models are read as they were at one moment: a vote
        # cast during the backup cannot point at a resource the backup does not hold.
        with transaction.atomic(using=database):
            # Only the first statement of a transaction may set its isolation level; inside
            # an outer transaction (a test's) the snapshot is that transaction's anyway.
            if connection.vendor == "postgresql" and len(connection.atomic_blocks) == 1:
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            call_command(
                command,
                format=FORMAT,
                exclude=list(EXCLUDED),
                natural_foreign=True,
                database=database,
                verbosity=verbosity,
            )
