import time

from django.core.management.base import BaseCommand, CommandError

from resources.related import MIN_SHARED_READERS, NEIGHBOURS, recompute_related


class Command(BaseCommand):
    help = (
        "Recompute every approved resource's related resources from readers' up-votes and "
        "finished resources (cosine over shared readers), falling back to the same section "
        "and shared tags. Run it periodically, like check_links."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--neighbours",
            type=int,
            default=NEIGHBOURS,
            help=f"Neighbours kept per resource (default {NEIGHBOURS}).",
        )
        parser.add_argument(
            "--min-shared",
            type=int,
            default=MIN_SHARED_READERS,
            help=f"Readers two resources must share to count (default {MIN_SHARED_READERS}).",
        )

    def handle(self, *args, neighbours, min_shared, **options):
        if neighbours < 1 or min_shared < 1:
            raise CommandError("--neighbours and --min-shared must be at least 1.")
        started = time.perf_counter()
        result = recompute_related(neighbours=neighbours, min_shared=min_shared)
        self.stdout.write(
            f"{result.resources} resources: {result.by_readers} neighbours from shared readers "
            f"({result.pairs} pairs with at least {min_shared} shared), {result.by_topic} from "
            f"the same section and tags, in {time.perf_counter() - started:.1f} s."
        )
