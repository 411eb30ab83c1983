"""Filters in words, as bulk confirmations show them: what the parsed filter does."""

from __future__ import annotations

import pytest

from desktop_app.cache.filters.parse import FilterError
from desktop_app.cache.filters.words import describe_filter


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "everyone"),
        ("i", "email or external id containing “i”"),
        ("is:pending", "with local edits not yet sent"),
        ("plan:pro surveys:enabled", "plan is “pro” and with surveys on"),
        ("plan:pro|team", "plan is “pro” or “team”"),
        ("-is:pending", "not (with local edits not yet sent)"),
        ("a b OR c", "(email or external id containing “a” and email or external id containing “b”)"
                     " or email or external id containing “c”"),
        ("last_surveyed:<30d", "last surveyed within the last 30 days"),
        ("last_surveyed:>1y", "last surveyed more than 1 year ago"),
        ("created:2024", "created in 2024"),
        ("created:2024-01..2024-06", "created from January 2024 to June 2024"),
        ("revenue_amount:>=1000", "revenue_amount at least 1,000"),
        ("has:plan", "plan is set"),
        ("disabled_by:end_user", "who opted out of surveys themselves"),
    ],
)
def test_a_filter_reads_as_words(text: str, words: str) -> None:
    assert describe_filter(text) == words


def test_a_filter_with_an_error_has_no_words() -> None:
    with pytest.raises(FilterError):
        describe_filter("is:pendng")
