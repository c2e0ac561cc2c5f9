"""API URLs: /api/v1/... and the interactive docs at /api/docs/."""

app_name = "api"
urlpatterns: list = []
