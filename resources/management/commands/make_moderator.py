from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from resources.moderation import (
    MODERATORS_GROUP,
    ModerationError,
    grant_moderator,
    revoke_moderator,
)


class Command(BaseCommand):
    help = (
        f"Make a user with a verified email address staff and a member of {MODERATORS_GROUP}, "
        "or with --remove take that away again."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--remove", action="store_true", help=f"Remove the user from {MODERATORS_GROUP}."
        )

    def handle(self, *args, username, remove, **options):
        User = get_user_model()
        try:
            user = User.objects.get_by_natural_key(username)
        except User.DoesNotExist:
            raise CommandError(f"There is no user named {username!r}.") from None
        if remove:
            revoke_moderator(user=user)
            staff = "still staff" if user.is_staff else "no longer staff"
            self.stdout.write(self.style.SUCCESS(f"{username} is no longer a moderator ({staff})."))
            return
        try:
            grant_moderator(user=user)
        except ModerationError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            self.style.SUCCESS(f"{username} is now a moderator and can sign in to the admin.")
        )
