"""python manage.py rescore [--method VERSION] [--jobs N] [--chunk SIZE]

Rescore every project in this process (the same chunks the background job runs), with a
progress bar. ``--jobs 2`` scores chunks in two processes at once (one per core).
"""

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from tqdm import tqdm

from projects.models import Methodology
from projects.selectors import methodology_current
from projects.services.rescoring import ChunkResult, project_id_ranges, rescore_range
from projects.vocabularies import PublicationState


def _worker_start() -> None:
    connections.close_all()  # a forked child opens its own connections


def _run_chunk(methodology_id: int, first_id: int, last_id: int) -> tuple[int, ChunkResult]:
    methodology = Methodology.objects.get(pk=methodology_id)
    result = rescore_range(methodology=methodology, first_id=first_id, last_id=last_id)
    return result.projects, result


class Command(BaseCommand):
    help = "Rescore every project under the current method (or --method VERSION), with a progress bar."

    def add_arguments(self, parser):
        parser.add_argument("--method", dest="version", help="published method version (default: current)")
        parser.add_argument("--jobs", type=int, default=1, help="processes scoring at once (default 1)")
        parser.add_argument("--chunk", type=int, default=None, help="projects per chunk (RESCORE_CHUNK)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (for logs)")

    def handle(self, *args, version, jobs, chunk, no_progress, **options):
        methodology = self._methodology(version)
        chunk = settings.RESCORE_CHUNK if chunk is None else chunk
        if not 1 <= chunk <= 100_000:
            raise CommandError(f"--chunk: give a number from 1 to 100000, not {chunk}.")
        if not 1 <= jobs <= 64:
            raise CommandError(f"--jobs: give a number from 1 to 64, not {jobs}.")
        began = time.monotonic()
        ranges = list(project_id_ranges(chunk))
        total = sum(count for _, _, count in ranges)
        result = ChunkResult()
        bar = tqdm(total=total, unit="project", disable=no_progress, file=self.stderr._out, smoothing=0.1)
        if jobs == 1:
            for first_id, last_id, _ in ranges:
                done = rescore_range(methodology=methodology, first_id=first_id, last_id=last_id)
                result += done
                bar.update(done.projects)
        else:
            connections.close_all()
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_worker_start) as pool:
                futures = [pool.submit(_run_chunk, methodology.pk, first, last) for first, last, _ in ranges]
                for future in as_completed(futures):
                    count, done = future.result()
                    result += done
                    bar.update(count)
        bar.close()
        self.stdout.write(
            f"Rescored {result.projects} projects under method {methodology.version} in "
            f"{time.monotonic() - began:.1f} s: {result.changed} new score cards, "
            f"{result.republished} public cards moved to this method."
        )

    @staticmethod
    def _methodology(version: str | None) -> Methodology:
        if version is None:
            methodology = methodology_current()
            if methodology is None:
                raise CommandError("No published methodology version: nothing can be scored.")
            return methodology
        methodology = Methodology.objects.filter(version=version, state=PublicationState.PUBLISHED).first()
        if methodology is None:
            known = ", ".join(
                Methodology.objects.filter(state=PublicationState.PUBLISHED).values_list("version", flat=True)
            )
            raise CommandError(f"--method: no published method version {version!r}; published: {known}.")
        return methodology
