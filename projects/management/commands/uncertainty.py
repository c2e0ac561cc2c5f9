"""python manage.py uncertainty [--scenarios K] [--seed N] [--no-progress]

Compute the uncertainty figures (the method's §8) of every rated published project now, with a
progress bar, and make them the ones pages and the API show (projects.services.uncertainty).
"""

import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from projects.scoring.uncertainty import SCENARIOS, SEED
from projects.services.uncertainty import NothingToCompute, uncertainty_compute


class Command(BaseCommand):
    help = "Compute the uncertainty and rank-stability figures of every rated published project."

    def add_arguments(self, parser):
        parser.add_argument("--scenarios", type=int, default=SCENARIOS, help=f"K (default {SCENARIOS})")
        parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (for logs)")

    def handle(self, *args, scenarios, seed, no_progress, **options):
        if not 1_000 <= scenarios <= 100_000:
            raise CommandError(
                f"--scenarios: give a number from 1000 (the method's minimum) to 100000, not {scenarios}."
            )
        if not 0 <= seed < 2**63:
            raise CommandError(f"--seed: give a whole number from 0 to 2**63 - 1, not {seed}.")
        began = time.monotonic()
        bar = tqdm(total=1, unit="step", disable=no_progress, file=self.stderr._out)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        try:
            run = uncertainty_compute(scenarios=scenarios, seed=seed, reason="command", progress=progress)
        except NothingToCompute:
            raise CommandError("No published methodology version: nothing to compute.") from None
        finally:
            bar.close()
        self.stdout.write(
            f"Uncertainty of {run.projects} rated published projects under method {run.methodology.version}: "
            f"{run.scenarios} scenarios, seed {run.seed}, in {time.monotonic() - began:.1f} s."
        )
