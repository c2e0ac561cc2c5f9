"""A project's published columns: what the public lists, rankings and feeds read of its last
publication straight off its row (``Project.publication``, ``published_score``, ``published_net``
and ``published_at``). Every path that moves them (a reviewer's publication or withdrawal, the
automatic republication under a new method, a backup's restore, the synthetic benchmark data)
takes their values from ``published_columns``; the bulk writers write them in
``PUBLISHED_COLUMNS`` order."""

from projects.models.scores import card_columns

PUBLISHED_COLUMNS = ("publication_id", "published_score_id", "published_net", "published_at")


def published_columns(*, publication_id: int, card_id: int, card: dict, shown_at) -> dict:
    """The published columns of a project whose last publication is ``publication_id``, showing
    the score card ``card_id`` (whose figures are ``card``): the rankings' sort key is that
    card's net score. ``shown_at``: when what the public sees was published (the publication's
    own moment; for a withdrawal, that of the publication it withdrew)."""
    values = (publication_id, card_id, card_columns(card)["net_score"], shown_at)
    return dict(zip(PUBLISHED_COLUMNS, values, strict=True))
