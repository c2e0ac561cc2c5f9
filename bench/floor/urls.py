from django.http import HttpResponse
from django.urls import path


def floor(request):
    """The same constant answer as sdgscore's /bench/floor."""
    return HttpResponse(b"ok\n", content_type="text/plain")


urlpatterns = [path("bench/floor", floor)]
