"""Rate limits: each API key has its own rate; clients without a key share a lower one per address."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from .permissions import api_key_of


class PartnerRateThrottle(SimpleRateThrottle):
    def __init__(self):  # the rate is per request (per key), not per class
        pass

    def allow_request(self, request, view):
        api_key = api_key_of(request)
        if api_key is not None:
            self.rate, ident = api_key.throttle_rate, f"key:{api_key.pk}"
        else:
            self.rate, ident = settings.API_ANONYMOUS_RATE, f"anon:{self.get_ident(request)}"
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.key = f"throttle:{ident}:{self.rate}"
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            return self.throttle_failure()
        return self.throttle_success()

    def get_cache_key(self, request, view):  # pragma: no cover - allow_request sets self.key
        return self.key
