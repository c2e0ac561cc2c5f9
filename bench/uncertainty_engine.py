"""The uncertainty engine alone (projects.scoring.uncertainty, the method's §8): time and peak
memory for N synthetic rated projects × K scenarios, without a database.

    .venv/bin/python -m bench.uncertainty_engine [--sizes 1000 100000] [--scenarios 1000]

Each size runs in a fresh process (so its peak resident memory is its own, from getrusage).
Projects: every criterion of method 1.0, levels uniform 0–4, evidence grades A–D in equal
shares, 5% of ratings missing and 5% not applicable (at least one applicable criterion per
dimension). Targets (issue 15): 100,000 × 1,000 in ≤ 60 s and ≤ 1 GB; 1,000 in ≤ 2 s.
Figures go to stdout and bench/results/uncertainty-engine.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = {1_000: (2.0, None), 100_000: (60.0, 1024.0)}  # seconds, MB


def synthetic(method, count: int, seed: int = 7):
    import numpy as np

    from projects.scoring.uncertainty import MISSING, MOVE_CHANCE, NOT_APPLICABLE, Encoded

    generator = np.random.default_rng(seed)
    width = len(method.criteria)
    levels = generator.integers(0, 5, size=(count, width), dtype=np.int8)
    chances = np.array(list(MOVE_CHANCE.values()), dtype=np.float32)
    moves = chances[generator.integers(0, len(chances), size=(count, width))]
    draw = generator.random((count, width))
    levels[draw < 0.05] = MISSING
    levels[(draw >= 0.05) & (draw < 0.10)] = NOT_APPLICABLE
    first = {}
    for position, criterion in enumerate(method.criteria):
        first.setdefault(criterion.dimension, position)
    for position in first.values():  # one applicable, assessed criterion per dimension
        levels[:, position] = generator.integers(0, 5, size=count, dtype=np.int8)
    moves[levels < 0] = 0
    return Encoded(levels=levels, moves=moves)


def one(count: int, scenarios: int) -> dict:
    """Run the engine once in this process; return its figures."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from projects.scoring import Method
    from projects.scoring.uncertainty import uncertainty

    method = Method.from_dict(
        json.loads((Path(__file__).resolve().parent.parent / "projects/methodology/1.0.json").read_text())
    )
    encoded = synthetic(method, count)
    grades = ["C"] * count  # the official grades matter only for "stable"
    started = time.perf_counter()
    figures = uncertainty(method, encoded, grades, scenarios=scenarios)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert figures.net.shape == (count, 3)
    return {"projects": count, "scenarios": scenarios, "seconds": round(seconds, 2), "peak_mb": round(peak)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--scenarios", type=int, default=1000)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.one:
        print(json.dumps(one(arguments.one, arguments.scenarios)))
        return
    results = []
    for size in arguments.sizes:
        command = [sys.executable, "-m", "bench.uncertainty_engine", "--one", str(size)]
        command += ["--scenarios", str(arguments.scenarios)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603 (our own module)
        figures = json.loads(output.strip().splitlines()[-1])
        seconds_target, memory_target = TARGETS.get(size, (None, None))
        figures["within_target"] = (seconds_target is None or figures["seconds"] <= seconds_target) and (
            memory_target is None or figures["peak_mb"] <= memory_target
        )
        results.append(figures)
        print(
            f"{size:>7,} projects × {figures['scenarios']:,} scenarios: {figures['seconds']:6.2f} s, "
            f"peak {figures['peak_mb']:,} MB"
            + ("" if seconds_target is None else f" (target ≤ {seconds_target:g} s")
            + ("" if memory_target is None else f", ≤ {memory_target:g} MB")
            + ("" if seconds_target is None else ")")
            + ("" if figures["within_target"] else "  OVER TARGET")
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "uncertainty-engine.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
