"""Webhooks (issue 17): signed deliveries of what is published to partners' endpoints.

``signing``: the Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature v1).
``transport``: one POST to a partner's endpoint that cannot be turned against the service's own
network (the address is checked when connecting, not only when resolving), with no redirects
followed and every wait bounded.
``schedule``: when a failed delivery is tried again (exponential backoff, full jitter, a day at
most) and when a subscription that keeps failing is disabled.

Subscriptions, events and their delivery by task workers are still to come.
"""
