"""Figures on the pages are written exactly as Django's ``floatformat:1`` writes them, in both
languages, by the pages' own fast formatter (projects.templatetags.web_cells.one_decimal)."""

import pytest
from django.template.defaultfilters import floatformat
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from projects.templatetags.web_cells import one_decimal

figures = st.one_of(
    st.floats(min_value=-2000, max_value=2000, allow_nan=False),
    st.integers(min_value=-2000, max_value=2000),
    st.sampled_from(
        [0.05, 0.15, 0.25, 2.675, 1.45, -0.04, -0.05, 99.95, 100.0, 999.95, float("inf"), float("nan")]
    ),
)


@pytest.mark.parametrize("language", ["en", "ja"])
@given(value=figures)
def test_a_figure_reads_as_floatformat_writes_it(language, value):
    with translation.override(language):
        assert one_decimal(value) == floatformat(value, 1)


def test_a_small_negative_figure_has_no_minus_zero():
    assert one_decimal(-0.04) == "0.0"
