"""Every read of the database the views, services and commands share, by audience: ``public``
(what anyone may see: published projects and method versions), ``working`` (the working state
too, for readers who see drafts) and ``admin`` (staff tools). The writes are in
projects.services."""

from .admin import project_list_for_export
from .public import (
    criteria_of,
    frozen_ratings,
    methodologies_with_criteria,
    methodology_current,
    methodology_for_page,
    operators_with_projects,
    project_choices,
    project_for_page,
    project_ratings,
    projects_by_slug,
    publication_history,
    published_assessments,
    published_methodologies,
    published_projects,
    ranked_projects,
    ranking_rows_by_id,
    ranking_table_projects,
    score_history,
    synced_projects,
)
from .summaries import public_summary
from .working import (
    listed_operators,
    operator_summary,
    visible_operators,
    visible_projects,
    working_assessment,
    working_assessments,
)

__all__ = [
    "criteria_of",
    "frozen_ratings",
    "listed_operators",
    "methodologies_with_criteria",
    "methodology_current",
    "methodology_for_page",
    "operator_summary",
    "operators_with_projects",
    "project_choices",
    "project_for_page",
    "project_list_for_export",
    "project_ratings",
    "projects_by_slug",
    "public_summary",
    "publication_history",
    "published_assessments",
    "published_methodologies",
    "published_projects",
    "ranked_projects",
    "ranking_rows_by_id",
    "ranking_table_projects",
    "score_history",
    "synced_projects",
    "visible_operators",
    "visible_projects",
    "working_assessment",
    "working_assessments",
]
