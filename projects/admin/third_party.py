"""Texts of other apps' admin pages that those apps do not translate into Japanese.

django-axes (login lockouts, which administrators now unlock) marks its texts for translation but
ships no Japanese catalogue. Listing the texts here puts them in our catalogue (``make messages``
keeps only what our code names), and Django looks up LOCALE_PATHS before the apps' own catalogues,
so the lockout pages an administrator opens read in Japanese too. Nothing imports this module.
"""

from django.utils.translation import gettext_noop

AXES = [
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    gettext_noop("Access Attempt"),
    gettext_noop("Access lock out"),
    gettext_noop("Attempt Time"),
    gettext_noop("Expires At"),
    gettext_noop("Failed Logins"),
    gettext_noop("GET Data"),
    gettext_noop("POST Data"),
    gettext_noop("HTTP Accept"),
    gettext_noop("IP Address"),
    gettext_noop("Logout Time"),
    gettext_noop("Path"),
    gettext_noop("User Agent"),
    gettext_noop("Username"),
    gettext_noop("Locked Out"),
    gettext_noop("Form Data"),
    gettext_noop("Meta Data"),
    gettext_noop("Clean up expired attempts"),
    gettext_noop("Not set"),
    gettext_noop("Attempt Remaining"),
]

# django-tasks' database backend marks its model names but ships no Japanese.
TASKS = [
    gettext_noop("Task Result"),
    gettext_noop("Task Results"),
]
