from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from engine.models import ApiToken

STUDIO_USERNAME = "studio"


class Command(BaseCommand):
    help = (
        "Make sure the studio has a live engine token stored in FILE (mode 600), issuing "
        "one for the 'studio' user when the file is missing or its token is not valid."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options) -> None:
        if file.exists():
            raw = file.read_text().strip()
            if ApiToken.objects.for_bearer(raw) is not None:
                return
        User = get_user_model()
        user, created = User.objects.get_or_create(username=STUDIO_USERNAME)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        _, raw = ApiToken.issue(user, "studio (created by make run)")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.touch(mode=0o600, exist_ok=True)
        file.chmod(0o600)
        file.write_text(raw + "\n")
        self.stdout.write(f"Issued the studio's engine token into {file}.")
