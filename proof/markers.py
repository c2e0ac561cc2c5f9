"""Draft markers: text only drafts carry, so that a public answer showing one is a leak.

Every draft write of the load proof carries a marker naming its run. Writes through the API
(ratings, new projects, PUT/PATCH of facts) carry ``[draft-marker <run> ...]`` and go only to
projects that nobody publishes during the run: a public answer may never show one. The analyst
process (proof.editors) writes ``[published-ok <run> a<n>]`` into the projects the reviewer
process publishes: one may show publicly only once a publication that included it was made.
Markers stand at the start of the text they mark, so that a page shortening the text keeps them.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, field

DRAFT = "draft-marker"
PUBLISHED = "published-ok"


def draft_marker(run_id: str, writer: int, seq: int) -> str:
    """The marker (and tag) of one API write: names its run, writer and sequence number."""
    return f"[{DRAFT} {run_id} w{writer}-s{seq}]"


def published_marker(run_id: str, number: int) -> str:
    """The marker of the analyst's n-th edit."""
    return f"[{PUBLISHED} {run_id} a{number}]"


def draft_markers_in(text: str, run_id: str) -> int:
    """How many draft markers of this run the text shows (the prefix is enough: a cut marker counts)."""
    return text.count(f"{DRAFT} {run_id}")


def published_markers_in(text: str, run_id: str) -> set[int]:
    """The numbers of the analyst's markers of this run that the text shows whole."""
    return {int(n) for n in re.findall(rf"\[{PUBLISHED} {re.escape(run_id)} a(\d+)\]", text)}


@dataclass
class LeakCheck:
    """Every public answer, checked for markers that only drafts may show (thread-safe)."""

    run_id: str
    checked: Counter = field(default_factory=Counter)  # client kind -> answers checked
    leaks: list[str] = field(default_factory=list)  # draft markers in public answers
    published_seen: dict[int, str] = field(default_factory=dict)  # analyst marker -> first answer
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def check(self, client: str, path: str, body: bytes) -> None:
        text = body.decode("utf-8", errors="replace")
        drafts = draft_markers_in(text, self.run_id)
        published = published_markers_in(text, self.run_id)
        with self.lock:
            self.checked[client] += 1
            if drafts:
                self.leaks.append(f"{client} GET {path}: {drafts} draft marker(s) in a public answer")
            for number in published:
                self.published_seen.setdefault(number, f"{client} GET {path}")

    @property
    def reads(self) -> int:
        return sum(self.checked.values())

    def unpublished_shown(self, published: set[int]) -> list[str]:
        """The analyst's markers seen publicly though no publication ever included them."""
        return [
            f"{where}: {published_marker(self.run_id, number)} shown, but no publication included it"
            for number, where in sorted(self.published_seen.items())
            if number not in published
        ]
