"""Public page URLs, mounted under a language prefix (/en/, /ja/) by sdgscore/urls.py."""

app_name = "web"
urlpatterns: list = []
