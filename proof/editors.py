"""The analyst and the reviewer of the load proof: service writes as the admin makes them, beside the API.

    python -m proof.editors analyst|reviewer --run RUN --slugs a,b --out FILE --stop FILE

Run by proof.load_faults as two processes with the server's settings (same DATABASE_URL), each
until the stop file appears. The analyst (demo-analyst, channel "shell") changes ratings and
summaries of the reserved projects through the models and services the admin uses, each change
starting with a ``[published-ok <run> a<n>]`` marker. The reviewer (demo-reviewer, channel
"shell") previews a reserved project (the markers its draft shows and ``draft_digest``), then
publishes it with that digest: a draft that moved in between is refused (PreviewOutdated). It
notes the markers of every attempt *before* publishing, so that whatever becomes of the attempt
(the database may terminate the connection at the commit), a marker the public sees was in an
attempted publication of what was previewed. Every line of FILE is one JSON event.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import traceback
from pathlib import Path

from proof.markers import published_marker, published_markers_in

PAUSE = {"analyst": (0.1, 0.4), "reviewer": (0.4, 0.9)}  # seconds between two changes
LIMIT = 600.0  # seconds: an editor never outlives a proof that forgot to stop it


def draft_text(project) -> str:
    """Everything a publication of the project now would show that an analyst writes: its working
    facts and its ratings' evidence."""
    from projects.models import Assessment, Project

    facts = Project.objects.get(pk=project.pk).apply_pending().facts()
    evidence = Assessment.objects.filter(project_id=project.pk).order_by("pk").values_list("justification")
    return json.dumps([facts, list(evidence)], default=str, ensure_ascii=False)


class Editor:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(f"{args.seed}-{args.role}")  # noqa: S311 (load, not secrets)
        self.out = Path(args.out).open("a", encoding="utf-8")  # noqa: SIM115 (closed in run)
        self.slugs = args.slugs.split(",")

    def emit(self, **event) -> None:
        self.out.write(json.dumps(event) + "\n")
        self.out.flush()

    def run(self) -> int:
        from django.contrib.auth import get_user_model
        from django.db import InterfaceError, OperationalError, connections

        from projects import actors

        user = get_user_model().objects.get(username=f"demo-{self.args.role}")
        step = self.edit if self.args.role == "analyst" else self.publish
        until = time.monotonic() + LIMIT
        number = 0
        try:
            while not Path(self.args.stop).exists() and time.monotonic() < until:
                number += 1
                try:
                    with actors.acting(user, actors.Channel.SHELL):
                        step(number)
                except (OperationalError, InterfaceError) as exc:
                    # The proof terminates backends at random: this one's connection is gone.
                    self.emit(number=number, outcome="database error", error=type(exc).__name__)
                    connections.close_all()
                time.sleep(self.rng.uniform(*PAUSE[self.args.role]))
        except Exception:
            self.emit(crash=traceback.format_exc(limit=5))
            return 1
        finally:
            self.out.close()
        return 0

    def edit(self, number: int) -> None:
        """One analyst change of a reserved project: a rating or its summary, marked."""
        from django.db import transaction

        from projects.models import Project
        from projects.selectors import criteria_of, methodology_current
        from projects.services.projects import assessment_set
        from projects.services.scoring import project_rescore, rescoring_deferred

        marker = published_marker(self.args.run, number)
        slug = self.rng.choice(self.slugs)
        self.emit(number=number, slug=slug, outcome="attempt")
        if self.rng.random() < 0.7:
            criterion = self.rng.choice(list(criteria_of(methodology_current())))
            level = self.rng.randint(0, 4)
            item = {
                "rating": level,
                "not_applicable": False,
                "evidence": f"{marker} Re-assessed by the analyst: level {level}.",
                "evidence_grade": self.rng.choice("ABCD"),
                "source_url": "https://example.org/proof-evidence",  # grades A and B need one
            }
            with transaction.atomic(), rescoring_deferred():
                project = Project.objects.get(slug=slug)
                assessment_set(project=project, criterion=criterion, item=item)
                project_rescore(project_id=project.pk)
            what = f"rating {criterion.code}"
        else:
            project = Project.objects.get(slug=slug).apply_pending()
            project.summary = f"{marker} Summary revised by the analyst."
            project.save()
            what = "summary"
        self.emit(number=number, slug=slug, outcome="saved", what=what)

    def publish(self, number: int) -> None:
        """Preview a reserved project and publish exactly that, as a reviewer would."""
        from projects.models import Project
        from projects.services.publication import (
            NothingToPublish,
            PreviewOutdated,
            PublicationRefused,
            draft_digest,
            project_publish,
        )

        slug = self.rng.choice(self.slugs)
        project = Project.objects.get(slug=slug)
        before = published_markers_in(draft_text(project), self.args.run)
        digest = draft_digest(project)
        if published_markers_in(draft_text(project), self.args.run) != before:
            self.emit(number=number, slug=slug, outcome="moved while previewed")
            return
        # Noted before publishing: a publication whose answer is lost may still have committed.
        self.emit(number=number, slug=slug, outcome="attempt", markers=sorted(before))
        time.sleep(self.rng.uniform(0.0, 0.2))  # reading the preview, while the analyst goes on
        try:
            publication = project_publish(
                project=project, note="Reviewed during the load proof.", digest=digest
            )
        except PreviewOutdated:
            outcome = "outdated"
        except NothingToPublish:
            outcome = "nothing to publish"
        except PublicationRefused as exc:
            outcome = f"refused: {exc}"
        else:
            outcome = f"published #{publication.number}"
        self.emit(number=number, slug=slug, outcome=outcome)


def read_events(path: Path) -> list[dict]:
    """The events an editor wrote (a line cut by a crash is skipped)."""
    events = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                events.append(json.loads(line))
            except ValueError:
                continue
    return events


def published_markers(events: list[dict]) -> set[int]:
    """The analyst's markers that a publication may have made public: those of every attempt
    that was not refused (published, or with its outcome lost to a database error)."""
    attempts: dict[int, set[int]] = {}
    refused: set[int] = set()
    for event in events:
        if event.get("outcome") == "attempt" and "markers" in event:
            attempts[event["number"]] = set(event["markers"])
        elif event.get("outcome") in {"outdated", "nothing to publish"} or str(
            event.get("outcome", "")
        ).startswith("refused"):
            refused.add(event["number"])
    return set().union(*(markers for n, markers in attempts.items() if n not in refused))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m proof.editors")
    parser.add_argument("role", choices=["analyst", "reviewer"])
    parser.add_argument("--run", required=True)
    parser.add_argument("--slugs", required=True, help="the reserved projects, comma-separated")
    parser.add_argument("--out", required=True)
    parser.add_argument("--stop", required=True, help="stop once this file exists")
    parser.add_argument("--seed", default="0")
    args = parser.parse_args(argv)
    import django

    django.setup()
    return Editor(args).run()


if __name__ == "__main__":
    sys.exit(main())
