"""Retries of failed webhook deliveries (issue 17): exponential backoff with full jitter, never
beyond a day; a subscription failing for a day is disabled."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projects.webhooks.schedule import (
    BASE,
    CAP,
    DISABLE_AFTER,
    GIVE_UP,
    next_attempt,
    retry_delay,
    should_disable,
)
from tests.support.examples import examples

START = datetime(2026, 12, 6, tzinfo=UTC)


@settings(max_examples=examples(200), deadline=None)
@given(st.integers(1, 200), st.integers(0, 2**32))
def test_each_delay_is_within_its_exponential_ceiling(retry, seed):
    delay = retry_delay(retry, random.Random(seed))
    assert timedelta(0) <= delay <= min(CAP, BASE * 2 ** min(retry - 1, 20))


def test_delays_grow_exponentially_and_are_spread_out():
    draw = random.Random(7)
    means = [sum((retry_delay(n, draw) for _ in range(2000)), timedelta()) / 2000 for n in (1, 2, 3, 4)]
    for n, mean in enumerate(means, start=1):  # full jitter: half the ceiling on average
        assert abs(mean / (BASE * 2 ** (n - 1)) - 0.5) < 0.05
    samples = {retry_delay(5, draw) for _ in range(100)}
    assert len(samples) > 90  # not the same moment for everyone


@settings(max_examples=examples(100), deadline=None)
@given(st.integers(0, 2**32))
def test_a_delivery_is_given_up_within_a_day_of_its_first_attempt(seed):
    draw = random.Random(seed)
    failed_at, retry = START, 1
    while (when := next_attempt(START, failed_at, retry, draw)) is not None:
        assert when - START <= GIVE_UP
        failed_at, retry = when, retry + 1
    assert retry > 5  # it was tried again several times first


def test_retries_are_counted_from_one():
    with pytest.raises(ValueError):
        retry_delay(0)


def test_a_subscription_failing_for_a_day_is_disabled():
    assert not should_disable(None, START)
    assert not should_disable(START, START + DISABLE_AFTER - timedelta(seconds=1))
    assert should_disable(START, START + DISABLE_AFTER)
