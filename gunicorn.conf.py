"""gunicorn's settings for the web servers (compose's web, studio.asgi; its engine, engine.asgi).

gunicorn reads this file from the working folder by itself.
"""

import os

# ASGI web servers keep a pool of database connections on PostgreSQL (studio/settings.py,
# DATABASE_POOL), as the Procfile's do under `make run`.
raw_env = [f"DATABASE_POOL={os.environ.get('DATABASE_POOL', '1')}"]
