"""Integer fields of the service's answers (issue 11 item 3): a boolean, a float or a number the
cache cannot hold is a ProtocolError that names the field, never id 1 or SQLite's own text."""

from __future__ import annotations

from typing import Any

import pytest

from desktop_app.api.errors import ProtocolError
from desktop_app.api.wire import end_user_from_wire, response_from_wire
from desktop_app.timestamps import EARLIEST_UNIX, LATEST_UNIX, iso_utc

USER: dict[str, Any] = {
    "id": 1001, "email": "x@y.example", "created_at": "2022-08-10 11:39:50 -0700",
    "updated_at": "2022-08-10 11:39:51 -0700", "external_created_at": None, "last_surveyed": None,
}
RESPONSE: dict[str, Any] = {
    "id": 5, "end_user_id": 1001, "score": 9, "survey_id": 3,
    "created_at": "2022-08-10 11:39:50 -0700",
}
TIME_FIELDS = ("created_at", "updated_at", "external_created_at", "last_surveyed")
HUGE = 2**63  # one past SQLite's largest INTEGER

BAD_INTEGERS = [
    (True, "a boolean"), (False, "a boolean"), (1.0, "floating-point"), (7.5, "floating-point"),
    (1e300, "floating-point"), (float("inf"), "floating-point"), (float("nan"), "floating-point"),
    (HUGE, "out of range"), (-HUGE - 1, "out of range"), (str(HUGE), "out of range"),
    ("1_000", "not an integer"), ("\u0661\u0662", "not an integer"), ("12abc", "not an integer"),
    ([1], "not an integer"), ({"id": 1}, "not an integer"),
]


def _user(**changes: object) -> dict[str, Any]:
    return {**USER, **changes}


@pytest.mark.parametrize(("value", "said"), BAD_INTEGERS)
def test_an_id_that_is_no_integer_is_a_protocol_error_naming_it(value: object, said: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        end_user_from_wire(_user(id=value))
    assert caught.value.message.startswith("unusable id in the service's answer"), caught.value.message
    assert said in caught.value.message


@pytest.mark.parametrize("value", [0, -3, "0"])
def test_ids_start_at_one(value: object) -> None:
    """The service numbers end users from 1; a 0 or a negative id would be a phantom too."""
    with pytest.raises(ProtocolError, match="unusable id"):
        end_user_from_wire(_user(id=value))


@pytest.mark.parametrize("name", TIME_FIELDS)
@pytest.mark.parametrize(("value", "said"), [
    *BAD_INTEGERS,
    (10**20, "beyond the dates"), (LATEST_UNIX + 1, "beyond the dates"),
    (EARLIEST_UNIX - 1, "beyond the dates"), ("99999999999999999999", "beyond the dates"),
    ("0000-01-01 00:00:00 +0000", "not a valid timestamp"),  # year 0: ValueError escaped
    ("2022-02-31 10:00:00 -0800", "not a valid timestamp"),  # taken as 3 March before
    ("2022-02-30T10:00:00Z", "not a valid timestamp"),
    ("yesterday", "not a valid timestamp"),
])
def test_timestamps_refuse_what_is_no_moment(name: str, value: object, said: str) -> None:
    if said == "out of range":  # a date's range is narrower
        said = "beyond the dates"
    elif said == "not an integer":
        said = "not a valid timestamp" if isinstance(value, str) else "not an integer or a timestamp"
    with pytest.raises(ProtocolError) as caught:
        end_user_from_wire(_user(**{name: value}))
    message = caught.value.message
    assert message.startswith(f"unusable {name} in the service's answer (end user 1001)"), message
    assert said in message, message


def test_updated_at_1e300_says_so_in_words() -> None:
    with pytest.raises(ProtocolError) as caught:
        end_user_from_wire(_user(updated_at=1e300))
    assert caught.value.message == ("unusable updated_at in the service's answer (end user 1001): "
                                    "1e+300 is a floating-point number, not an integer or a timestamp")


def test_a_long_value_is_shortened_in_the_message() -> None:
    with pytest.raises(ProtocolError) as caught:
        end_user_from_wire(_user(id="9" * 5000))
    assert len(caught.value.message) < 200


@pytest.mark.parametrize(("value", "unix"), [
    (1_600_000_000, 1_600_000_000), ("1600000000", 1_600_000_000), (" 42 ", 42), (0, 0),
    (-86_400, -86_400), (EARLIEST_UNIX, EARLIEST_UNIX), (LATEST_UNIX, LATEST_UNIX),
    ("2024-02-29 00:00:00 +0000", 1_709_164_800), ("2022-08-31 23:59:59 -0700", 1_662_015_599),
    ("9999-12-30 23:59:59 +0000", LATEST_UNIX), (None, None), ("", None),
])
def test_every_moment_a_date_holds_is_read(value: object, unix: int | None) -> None:
    user = end_user_from_wire(_user(last_surveyed=value))
    assert user.last_surveyed == unix
    if unix is not None:
        assert iso_utc(unix)  # and can be shown


@pytest.mark.parametrize("value", [1001, "1001", " 1001"])
def test_ids_as_integers_or_decimal_text(value: object) -> None:
    assert end_user_from_wire(_user(id=value)).id == 1001


@pytest.mark.parametrize("name", ["id", "end_user_id", "score", "survey_id", "created_at"])
@pytest.mark.parametrize("value", [True, 2.0, HUGE])
def test_survey_response_integers(name: str, value: object) -> None:
    with pytest.raises(ProtocolError, match=f"unusable {name} in the service's answer"):
        response_from_wire({**RESPONSE, name: value})
    assert response_from_wire(RESPONSE).score == 9


def test_a_survey_response_without_a_score_says_which_field() -> None:
    with pytest.raises(ProtocolError, match="without score"):
        response_from_wire({k: v for k, v in RESPONSE.items() if k != "score"})


@pytest.mark.parametrize(("expires_in", "lifetime"), [
    (7200, 7200.0), ("3600", 3600.0), (None, 7200.0), (True, 7200.0), (float("nan"), 7200.0),
    (float("inf"), 7200.0), (-5, 7200.0), ("soon", 7200.0), ([60], 7200.0),
])
def test_a_token_lifetime_that_is_no_number_of_seconds_means_the_documented_two_hours(
    expires_in: object, lifetime: float,
) -> None:
    """`expires_in` is optional (RFC 6749), so a bad one is no sign-in failure; but a `true`
    read as 1 s meant a sign-in before every request, and NaN a token never renewed."""
    from desktop_app.api.account import Credentials
    from desktop_app.api.auth import TokenKeeper
    from desktop_app.clock import SystemClock

    keeper = TokenKeeper(Credentials("http://127.0.0.1:9", client_id="i", client_secret="s"),
                         SystemClock(), lambda form, query: {"access_token": "t" * 40,
                                                             "expires_in": expires_in})
    keeper.authenticate()
    token = keeper.token
    assert token is not None
    assert token.expires_at - SystemClock().now() == pytest.approx(lifetime, abs=5)
