from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from engine.models import ApiToken


class Command(BaseCommand):
    help = (
        "Issue a new engine API token for USERNAME (created, without a usable password, "
        "if missing). The token is printed as the last line."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="A label to recognise the token by.")

    def handle(self, *args, username: str, name: str, **options) -> None:
        User = get_user_model()
        user, created = User.objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            self.stderr.write(f"Created user {username} (no password: it cannot sign in).")
        token, raw = ApiToken.issue(user, name or "command line")
        self.stderr.write(
            f"Token {token.prefix}… for {username}; store it now, it is not shown again."
        )
        self.stdout.write(raw)
