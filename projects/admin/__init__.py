"""The analysts' UI: operators, projects with their ratings and score cards, method versions."""

from . import api_keys, changes, methodology, operators, projects, webhooks  # noqa: F401  (registers the model admins)
