"""System checks of a production set-up (``manage.py check --deploy``), also logged when a web
process starts (sdgscore/wsgi.py), so that a deployment missing one is told where it runs."""

import logging

from django.conf import settings
from django.core import checks

logger = logging.getLogger("sdgscore.startup")

PER_PROCESS_CACHE = checks.Warning(
    "REDIS_URL is not set: each process keeps its own cache, so an API key's rate limit is "
    "counted per process (a 3/minute key gets 3 a minute from each worker), and cached answers "
    "and key lookups are not shared.",
    hint="Set REDIS_URL to a Redis all web processes share (docs/deploy.md).",
    id="sdgscore.W001",
)


@checks.register(checks.Tags.caches, deploy=True)
def shared_cache(app_configs=None, **kwargs):
    """Rate limits, the read cache and the page cache need one cache shared by every process."""
    if settings.DEBUG or settings.REDIS_URL:
        return []
    return [PER_PROCESS_CACHE]


def log_startup_warnings() -> None:
    for warning in shared_cache():
        logger.warning("%s (%s) %s", warning.msg, warning.id, warning.hint)
