"""How many examples a property test tries.

The counts written in the tests are the thorough ones, and CI runs them (``.ci/run`` sets
``HYPOTHESIS_EXAMPLES=full``). ``make test`` on its own tries a sixth of each (at least 3),
so that the whole suite stays a quick local run. Hypothesis keeps every failing example it finds
in its example database (``.hypothesis/``) and tries it first next time, whichever count runs.
"""

import os

FULL = os.environ.get("HYPOTHESIS_EXAMPLES", "").lower() == "full"


def examples(count: int) -> int:
    """``count`` under CI, a sixth of it (at least 3) otherwise."""
    return count if FULL else max(3, count // 6)
