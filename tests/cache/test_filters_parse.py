"""The filter language as people type it: what each form parses to, and the errors they see."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from desktop_app.cache.filters.language import (
    FIELD_NAMES,
    Age,
    And,
    Between,
    CalendarSpan,
    CompileContext,
    Compare,
    Equals,
    FieldKind,
    FilterError,
    FreeText,
    Has,
    MatchAll,
    Not,
    Number,
    Op,
    Or,
    PropertyField,
    SeedField,
    State,
    StateIs,
    Text,
    compile_filter,
    describe_syntax,
    like_pattern,
    parse_filter,
)

EMAIL = SeedField("email", FieldKind.TEXT)
CREATED = SeedField("created_at", FieldKind.DATE)
SURVEYED = SeedField("last_surveyed", FieldKind.DATE)
PLAN = PropertyField("plan")


def words(*parts: str) -> Text:
    return Text(parts)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", MatchAll()),
        ("   ", MatchAll()),
        ("acme", FreeText(words("acme"))),
        ('"two words"', FreeText(words("two words"))),
        ('"say \\"hi\\""', FreeText(words('say "hi"'))),
        ("bob*acme", FreeText(words("bob", "acme"))),
        ("plan:pro", Equals(PLAN, (words("pro"),))),
        ("plan:=pro", Equals(PLAN, (words("pro"),))),
        ("Plan:pro", Equals(PropertyField("Plan"), (words("pro"),))),  # property keys are exact
        ("EMAIL:a@b.c", Equals(EMAIL, (words("a@b.c"),))),  # field names are not
        ('plan:"two words"', Equals(PLAN, (words("two words"),))),
        ('plan:"*"', Equals(PLAN, (words("*"),))),  # quoted: no wildcard
        ("email:*@acme.com", Equals(EMAIL, (words("", "@acme.com"),))),
        ("plan:pro|team", Equals(PLAN, (words("pro"), words("team")))),
        ("prop.email:x", Equals(PropertyField("email"), (words("x"),))),
        ('prop."a b":x', Equals(PropertyField("a b"), (words("x"),))),
        ('"revenue amount":>=5', Compare(PropertyField("revenue amount"), Op.GE, Number(5.0))),
        ("revenue_amount:>=1000", Compare(PropertyField("revenue_amount"), Op.GE, Number(1000.0))),
        ("seats_count:<10", Compare(PropertyField("seats_count"), Op.LT, Number(10.0))),
        ("seats_count:10..50", Between(PropertyField("seats_count"), Number(10.0), Number(50.0))),
        ("seats_count:..50", Between(PropertyField("seats_count"), None, Number(50.0))),
        ("seats_count:2024", Equals(PropertyField("seats_count"), (words("2024"),))),
        ("last_surveyed:<30d", Compare(SURVEYED, Op.LT, Age(30, "d"))),
        ("last_surveyed:>1y", Compare(SURVEYED, Op.GT, Age(1, "y"))),
        ("created:2024-01..2024-06", Between(CREATED, CalendarSpan(2024, 1), CalendarSpan(2024, 6))),
        ("created:2024", Between(CREATED, CalendarSpan(2024), CalendarSpan(2024))),
        ("created_at:>=2024-03-05", Compare(CREATED, Op.GE, CalendarSpan(2024, 3, 5))),
        ("created:1700000000", Equals(CREATED, (Number(1700000000.0),))),
        ("signup_date:>=2023-05-01", Compare(PropertyField("signup_date"), Op.GE, CalendarSpan(2023, 5, 1))),
        ("signup_date:2023", Between(PropertyField("signup_date"), CalendarSpan(2023), CalendarSpan(2023))),
        ("renewal:2024-02", Between(PropertyField("renewal"), CalendarSpan(2024, 2), CalendarSpan(2024, 2))),
        ("id:42", Equals(SeedField("id", FieldKind.INTEGER), (Number(42.0),))),
        ("has:external_id", Has(SeedField("external_id", FieldKind.TEXT))),
        ("has:plan", Has(PLAN)),
        ("has:prop.email", Has(PropertyField("email"))),
        ("surveys:disabled", StateIs(State.SURVEYS_DISABLED)),
        ("surveys:enabled", StateIs(State.SURVEYS_ENABLED)),
        ("disabled_by:admin", StateIs(State.DISABLED_BY_ADMIN)),
        ("disabled_by:admin|end_user",
         Or((StateIs(State.DISABLED_BY_ADMIN), StateIs(State.DISABLED_BY_END_USER)))),
        ("is:pending", StateIs(State.PENDING)),
        ("is:conflict", StateIs(State.CONFLICT)),
        ("is:deleted", StateIs(State.DELETED)),
        ("-plan:free", Not(Equals(PLAN, (words("free"),)))),
        ("NOT plan:free", Not(Equals(PLAN, (words("free"),)))),
        ("not acme", Not(FreeText(words("acme")))),
        ('"or"', FreeText(words("or"))),  # a quoted keyword is a word
        ("a b", And((FreeText(words("a")), FreeText(words("b"))))),
        ("a AND b", And((FreeText(words("a")), FreeText(words("b"))))),
        ("a OR b c", Or((FreeText(words("a")), And((FreeText(words("b")), FreeText(words("c"))))))),
        ("(a OR b) c", And((Or((FreeText(words("a")), FreeText(words("b")))), FreeText(words("c"))))),
        ("-(a b)", Not(And((FreeText(words("a")), FreeText(words("b")))))),
        ("x-ray", FreeText(words("x-ray"))),  # a dash inside a word is the word's
    ],
)
def test_parses(text: str, expected: object) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("revenue_amount:=>1000", 15, "Unknown operator '=>' — did you mean '>='?"),
        ("seats_count:=<5", 12, "did you mean '<='?"),
        ("plan:!=free", 5, "put '-' before a condition"),
        ("plan:==pro", 5, "write field:value"),
        ("(plan:pro", 0, "Missing ')'"),
        ("plan:pro)", 8, "Unexpected ')'"),
        ("()", 0, "Empty parentheses"),
        ('plan:"pro', 5, "Missing closing quote"),
        ("OR plan:pro", 0, "OR needs a condition on both sides"),
        ("plan:pro OR", 9, "OR needs a condition on both sides"),
        ("a OR OR b", 2, "OR needs a condition on both sides"),
        ("AND a", 0, "AND needs a condition"),
        ("a NOT", 2, "NOT needs a condition"),
        ("a -)", 2, "'-' needs a condition"),
        ("plan:", 5, "A value is missing"),
        ("plan:pro|", 9, "A value is missing"),
        (":pro", 0, "field name is missing"),
        ("prop.:x", 0, "property name is missing"),
        ("created:2024-13", 8, "is not a date"),
        ("created:2024-02-30", 8, "is not a date"),
        ("created:soon", 8, "is not a date"),
        ("last_surveyed:30d", 14, "Say last_surveyed:<30d"),
        ("last_surveyed:<30x", 17, "Unknown time unit 'x'"),
        ("last_surveyed:<99999y", 15, "too far back"),
        ("revenue_amount:>=lots", 17, "is not a number or a date"),
        ('revenue_amount:>"5"', 16, "is not a number or a date"),
        ("id:abc", 3, "is not a whole number"),
        ("id:>1.5", 4, "is not a whole number"),
        ("email:>b", 6, "email can't be compared with '>'"),
        ("is:pendng", 3, "did you mean 'pending'?"),
        ("surveys:maybe", 8, "use disabled, enabled, off or on"),
        ("disabled_by:robot", 12, "Unknown value 'robot' for disabled_by:"),
        ("seats_count:..", 12, "A range needs at least one end"),
        ("seats_count:>1..5", 12, "either a comparison or a range"),
    ],
)
def test_errors_point_at_the_problem(text: str, position: int, fragment: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter(text)
    assert fragment in caught.value.message
    assert caught.value.position == position
    assert str(caught.value) == caught.value.message


def test_calendar_spans_and_ages_resolve_in_the_zone() -> None:
    utc, pacific = timezone.utc, ZoneInfo("America/Los_Angeles")
    assert CalendarSpan(2024, 2).start(utc) == int(datetime(2024, 2, 1, tzinfo=utc).timestamp())
    assert CalendarSpan(2024, 2).end(utc) == int(datetime(2024, 3, 1, tzinfo=utc).timestamp())
    assert CalendarSpan(2024, 12).end(utc) == int(datetime(2025, 1, 1, tzinfo=utc).timestamp())
    assert CalendarSpan(2024).end(utc) == int(datetime(2025, 1, 1, tzinfo=utc).timestamp())
    assert CalendarSpan(2024, 2, 29).end(utc) == int(datetime(2024, 3, 1, tzinfo=utc).timestamp())
    # A day across the spring-forward change is 23 hours long in Pacific time.
    day = CalendarSpan(2024, 3, 10)
    assert day.end(pacific) - day.start(pacific) == 23 * 3600
    now = datetime(2024, 3, 31, 12, 0, tzinfo=utc).timestamp()
    assert Age(30, "d").cutoff(now, utc) == now - 30 * 86400
    assert Age(2, "h").cutoff(now, utc) == now - 7200
    assert Age(1, "w").cutoff(now, utc) == now - 7 * 86400
    assert Age(1, "m").cutoff(now, utc) == datetime(2024, 2, 29, 12, 0, tzinfo=utc).timestamp()
    assert Age(1, "y").cutoff(now, utc) == datetime(2023, 3, 31, 12, 0, tzinfo=utc).timestamp()


def test_every_value_is_a_bound_parameter() -> None:
    context = CompileContext(now=1_700_000_000)
    hostile = "'); DROP TABLE everyone; --"
    for text in (f'"{hostile}"', f'plan:"{hostile}"', f'email:"{hostile}"', f'prop."{hostile}":x',
                 f'has:"{hostile}"', f'prop."{hostile}":>=5'):
        compiled = compile_filter(parse_filter(text), context)
        assert "DROP" not in compiled.where, text
        assert any(hostile in str(v) for v in compiled.params.values()), text


def test_like_patterns_escape_what_people_type() -> None:
    assert like_pattern(Text(("50%_off\\",))) == "50\\%\\_off\\\\"
    assert like_pattern(Text(("", "acme", "")), substring=False) == "%acme%"
    assert like_pattern(Text(("acme",)), substring=True) == "%acme%"


def test_field_names_and_help() -> None:
    for name in ("email", "external_id", "id", "created", "updated", "last_surveyed",
                 "external_created_at", "phone", "has", "is", "surveys", "disabled_by"):
        assert name in FIELD_NAMES
        parse_filter(f"has:{name}" if name not in ("has", "is", "surveys", "disabled_by") else "")
    help_text = describe_syntax()
    for example in ("plan:pro", "revenue_amount:>=1000", "last_surveyed:<30d", "has:external_id",
                    "is:pending", "surveys:disabled", "disabled_by:admin", "OR", "NOT"):
        assert example in help_text
        parse_filter(example) if ":" in example else None


def test_limits_keep_sql_within_sqlite_limits() -> None:
    parse_filter(" OR ".join(f"plan:v{n}" for n in range(200)))
    with pytest.raises(FilterError, match="Too many conditions"):
        parse_filter(" OR ".join(f"plan:v{n}" for n in range(201)))
    parse_filter("(" * 40 + "a" + ")" * 40)
    with pytest.raises(FilterError, match="Nested too deeply"):
        parse_filter("(" * 60 + "a" + ")" * 60)
    with pytest.raises(FilterError, match="Nested too deeply"):
        parse_filter("NOT " * 60 + "a")
