"""Rate limits for DRF: each API key has its own rate; clients without a key share a lower one per
address (projects.api.rates counts them). A request the read cache (projects.api.cache) already
counted is not counted again: projects.api.access decides once per request."""

from rest_framework.throttling import BaseThrottle

from . import access


class PartnerRateThrottle(BaseThrottle):
    def __init__(self):
        self.wait_seconds = None

    def allow_request(self, request, view):
        self.wait_seconds = access.admit(request)
        return self.wait_seconds is None

    def wait(self):
        return self.wait_seconds
