"""The engine's ASGI application: only the Openjourney API, with the engine's own settings.

Served on a server of its own (the Procfile's and compose's ``engine``, tests/stack.py's
``engine_apart``): ``uvicorn engine.asgi:application``.
"""

import os

from django.core.asgi import get_asgi_application

# Always the engine's settings: the processes that start this server (`make run`, the tests'
# stack) set DJANGO_SETTINGS_MODULE to the studio's for their other processes.
os.environ["DJANGO_SETTINGS_MODULE"] = "engine.settings"

application = get_asgi_application()
