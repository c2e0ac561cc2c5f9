"""Settings of proof/worker_kill.py's workers: the production settings with a lease of
RESCORE_LEASE seconds, so that a killed worker's chunk is found within seconds, not a minute."""

import os

from sdgscore.settings import *  # noqa: F403

RESCORE_LEASE = float(os.environ.get("RESCORE_LEASE", "60"))
