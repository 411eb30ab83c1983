"""Deterministic sample end users in the seed's schema, shaped like a real Wootric account."""

from __future__ import annotations

import enum
import gc
import itertools
import random
import time
from collections.abc import Iterator

DAY = 86_400
YEAR_DAYS = 365
FIRST_ID = 1_000_001


class Profile(enum.StrEnum):
    """How created/updated timestamps are spread over time."""

    ACCOUNT = "account"  # a few years, quiet and busy days, bulk imports, a bulk property sync
    DENSE = "dense"  # everything within a few days: many rows share a second
    SPARSE = "sparse"  # three years, a few a day
    BURSTY = "bursty"  # mostly sparse plus bulk-import bursts where thousands share one second


_FIRST = (
    "anna", "ben", "carla", "david", "emma", "farid", "grace", "hiro", "ines", "jamal", "kate",
    "liam", "maria", "noah", "olga", "pedro", "quinn", "rosa", "sam", "tariq", "uma", "victor",
    "wei", "xena", "yusuf", "zoe", "aisha", "bruno", "chloe", "dmitri", "elena", "felix",
)
_LAST = (
    "smith", "garcia", "nguyen", "mueller", "rossi", "kim", "patel", "silva", "cohen", "ito",
    "novak", "khan", "larsen", "dubois", "okafor", "jensen", "moreau", "schulz", "tanaka",
    "obrien", "kowalski", "haddad", "andersen", "ferreira", "lopez", "wright", "fischer", "zhang",
    "murphy", "singh", "yamamoto", "berg",
)
_UNICODE_LOCAL = (
    "josé.garcía", "zoë.brontë", "łukasz.wójcik", "jürgen.müller", "søren.kierkegård",
    "françois.lefèvre", "ana.núñez", "björk.guðmundsdóttir", "测试", "ユーザー",
    "иван.петров", "γιάννης",
)
_COMPANIES = (
    ("Acme Corp", "acme.com"), ("Globex", "globex.io"), ("Initech", "initech.net"),
    ("Umbrella Health", "umbrella-health.com"), ("Stark Industries", "stark.co"),
    ("Wayne Enterprises", "wayne.enterprises"), ("Hooli", "hooli.xyz"),
    ("Pied Piper", "piedpiper.com"), ("Soylent", "soylent.org"), ("Tyrell", "tyrell.ai"),
    ("Cyberdyne", "cyberdyne.systems"), ("Vandelay Industries", "vandelay.com"),
    ("Wonka", "wonka.co.uk"), ("Aperture Science", "aperture.science"),
    ("Gringotts", "gringotts.bank"), ("Oceanic Airlines", "oceanic-air.com"),
    ("Dunder Mifflin", "dundermifflin.com"), ("Nakatomi Trading", "nakatomi.co.jp"),
    ("Bluth Company", "bluth.com"), ("Monsters Inc", "monsters.inc"),
)
_FREE_MAIL = ("gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com", "gmx.de")
_SUBDOMAINS = ("mail.eu", "corp", "us.mail", "staff", "ops.internal")
_PUNYCODE = ("xn--mnchen-3ya.de", "xn--bcher-kva.example", "xn--caf-dma.fr", "xn--80ak6aa92e.com",
             "xn--fiqs8s.cn", "xn--r8jz45g.jp")
_PLANS = ("Free", "Starter", "Pro", "Pro", "Business", "Enterprise")
_ROLES = ("Admin", "Owner", "Developer", "Marketing", "Support", "Sales", "Finance", "Viewer")
_REGIONS = ("NA", "EMEA", "APAC", "LATAM")
_FEATURES = ("dashboards", "exports", "sso", "api", "webhooks", "surveys", "segments", "alerts")

# Email shapes and their share (out of 64 slots): the cache and the UI must cope with all of them.
_SHAPE_SLOTS = tuple(
    itertools.chain.from_iterable(
        itertools.repeat(shape, count)
        for shape, count in (
            ("plain", 20), ("short", 9), ("plus", 7), ("subdomain", 6), ("upper", 5),
            ("unicode", 4), ("long", 3), ("punycode", 3), ("freemail", 7),
        )
    )
)


def _email_prefix(shape: str, first: str, last: str, variant: int) -> str:
    """The part of the local name before the uniquifying number."""
    if shape == "short":
        return f"{first[0]}{last}"
    if shape in ("subdomain", "punycode"):
        return first
    if shape == "upper":
        return f"{first.title()}.{last.title()}"
    if shape == "unicode":
        return _UNICODE_LOCAL[variant % len(_UNICODE_LOCAL)]
    if shape == "long":
        return f"{first}.{last}.customer-success.operations.emea-team"[:54]
    if shape == "freemail":
        return f"{first}{last[0]}"
    return f"{first}.{last}"  # plain, plus


def _email_suffix(shape: str, domain: str, variant: int) -> str:
    """Everything after the uniquifying number."""
    if shape == "plus":
        return f"+nps@{domain}"
    if shape in ("subdomain", "long"):
        return f"@{_SUBDOMAINS[variant % len(_SUBDOMAINS)]}.{domain}"
    if shape == "upper":
        return f"@{domain.upper()}"
    if shape == "punycode":
        return f"@{_PUNYCODE[variant % len(_PUNYCODE)]}"
    if shape == "freemail":
        return f"@{_FREE_MAIL[variant % len(_FREE_MAIL)]}"
    return f"@{domain}"


def _day_weights(rnd: random.Random, days: int) -> list[float]:
    """Cumulative weights per day: growth, weekends, campaign days and quiet spells."""
    cum: list[float] = []
    total = 0.0
    quiet_until = -1
    for day in range(days):
        weight = 0.3 + day / days  # the account grew
        if day % 7 in (2, 3):  # two weekend days per week
            weight *= 0.25
        roll = rnd.random()
        if roll < 0.02:
            weight *= 8.0  # a campaign or a launch
        elif roll < 0.03:
            quiet_until = day + rnd.randint(3, 14)  # holidays, an outage of the integration
        if day <= quiet_until:
            weight *= 0.05
        total += weight
        cum.append(total)
    return cum


def _burst_sizes(rnd: random.Random, n: int, share: float) -> list[int]:
    """Sizes of bulk imports: thousands each once the account is big enough."""
    budget = int(n * share)
    if budget < 2:
        return []
    low, high = (1_600, 4_000) if n >= 10_000 else (max(2, n // 40), max(3, n // 15))
    sizes: list[int] = []
    while budget > low:
        size = min(budget, rnd.randint(low, high))
        sizes.append(size)
        budget -= size
    return sizes


def _created_times(
    rnd: random.Random, n: int, profile: Profile, now: int
) -> tuple[list[int], set[int]]:
    """Sorted created_at of n rows (ids follow creation order) and the bulk-import seconds."""
    span_days = 3 if profile is Profile.DENSE else 3 * YEAR_DAYS
    start = now - span_days * DAY
    burst_share = {Profile.ACCOUNT: 0.15, Profile.BURSTY: 0.4}.get(profile, 0.0)
    bursts = _burst_sizes(rnd, n, burst_share)
    spread = n - sum(bursts)
    getrandbits = rnd.getrandbits
    if profile is Profile.ACCOUNT:
        cum = _day_weights(rnd, span_days)
        days = rnd.choices(range(span_days), cum_weights=cum, k=spread)
        # business hours are busier: the sum of two uniform draws peaks mid-day
        created = [
            start + d * DAY + ((getrandbits(16) + getrandbits(16)) * DAY >> 17) for d in days
        ]
    else:
        width = now - start
        created = [start + (getrandbits(40) * width >> 40) for _ in range(spread)]
    moments: set[int] = set()
    for size in bursts:
        # a bulk import: every row created (and last updated) in one second
        moment = start + (getrandbits(40) * (now - start - DAY) >> 40)
        moments.add(moment)
        created.extend(itertools.repeat(moment, size))
    created.sort()
    return created, moments


PoolEntry = tuple[dict[str, object], tuple[str, ...]]  # properties, features_array items


def _property_pool(rnd: random.Random, size: int = 4096) -> list[PoolEntry]:
    """Property combinations to draw from (without the per-row company and signup_date).

    Drawing from a pool keeps a million rows within seconds; not every key is present.
    """
    pool: list[PoolEntry] = []
    for _ in range(size):
        bits = rnd.getrandbits(64)
        props: dict[str, object] = {}
        if bits & 15 < 14:
            props["plan"] = _PLANS[(bits >> 30) % len(_PLANS)]
        if bits >> 4 & 15 < 10:
            props["role"] = _ROLES[(bits >> 33) & 7]
        if bits >> 8 & 15 < 8:
            cents = (bits >> 36) & 0xFFFFF
            props["revenue_amount"] = cents // 100 if cents & 1 else cents / 100
        if bits >> 12 & 15 < 8:
            props["seats_count"] = 1 + ((bits >> 49) & 255)
        if bits >> 16 & 15 < 11:
            props["region"] = _REGIONS[(bits >> 57) & 3]
        if bits >> 20 & 15 < 5:
            props["is_trial"] = bool((bits >> 59) & 1)
        features: tuple[str, ...] = ()
        if bits >> 24 & 15 < 6:
            first = (bits >> 46) & 7
            features = tuple(_FEATURES[(first + k) & 7] for k in range(1 + ((bits >> 44) & 3)))
        pool.append((props, features))
    return pool


# Survey settings of the odd end user, by the code a record carries (0: every channel on).
def _settings(email: bool, mobile: bool, web: bool, opted_out: bool) -> dict[str, bool]:
    return {"email_nps": email, "mobile_nps": mobile, "web_nps": web,
            "surveys_disabled_by_end_user": opted_out}


SAMPLE_SETTINGS: tuple[dict[str, bool] | None, ...] = (
    None,
    _settings(False, False, False, False),  # ~3%: an admin switched every channel off
    _settings(True, True, True, True),  # ~2%: the end user opted out themself
    _settings(False, True, True, False),  # ~2%: only email surveys off; still surveyable
)

# A sample record is a plain tuple, the cheapest thing to make a million of:
# (id, email, external_id, external_created_at, last_surveyed, created_at, updated_at,
#  properties, settings code: an index into SAMPLE_SETTINGS)
SampleRecord = tuple[int, str, str | None, int | None, int | None, int, int, dict[str, object], int]


def iter_records(
    n: int, seed: int = 0, profile: str = "account", now: int | float | None = None,
    first_id: int = FIRST_ID,
) -> Iterator[SampleRecord]:
    """Yield `n` sample records; `iter_end_users` turns them into seed dicts."""
    kind = Profile(profile)
    now_s = int(time.time() if now is None else now)
    rnd = random.Random(f"wootric-desk:{seed}:{kind.value}")
    getrandbits = rnd.getrandbits
    created_times, import_moments = _created_times(rnd, n, kind, now_s)
    pool = _property_pool(rnd, 4096 if n > 4096 else 256)  # a big pool costs a small account
    pool_size = len(pool)
    untouched_below = 205 if kind is Profile.SPARSE else 128  # out of 256
    synced: set[int] = set()
    sync_moment = now_s - getrandbits(24) % (60 * DAY) - DAY
    if kind is Profile.ACCOUNT and n >= 20:
        # a nightly property sync touched a few thousand older users in one second
        synced = set(rnd.sample(range(n), min(n // 10, 3_000)))
    shape_ids = {shape: index for index, shape in enumerate(dict.fromkeys(_SHAPE_SLOTS))}
    slots = tuple((shape, shape_ids[shape]) for shape in _SHAPE_SLOTS)
    prefixes: dict[int, str] = {}
    suffixes: dict[int, str] = {}
    companies = len(_COMPANIES)
    next_id = first_id
    for i, created_at in enumerate(created_times):
        bits = getrandbits(64)
        draw = getrandbits(64)
        # email: a shape, a name, a company, a variant, and `i` to make it unique
        shape, shape_id = slots[bits & 63]
        variant = bits >> 16 & 7
        key = shape_id << 13 | (bits >> 6 & 1023) << 3 | variant
        prefix = prefixes.get(key)
        if prefix is None:
            prefix = prefixes[key] = _email_prefix(
                shape, _FIRST[bits >> 6 & 31], _LAST[bits >> 11 & 31], variant
            )
        company = (bits >> 19) % companies
        skey = shape_id << 8 | company << 3 | variant
        suffix = suffixes.get(skey)
        if suffix is None:
            suffix = suffixes[skey] = _email_suffix(shape, _COMPANIES[company][1], variant)
        base, features = pool[(bits >> 27) % pool_size]
        props = {**base}
        if features:
            props["features_array"] = list(features)
        if draw & 15 < 13:
            props["company"] = _COMPANIES[company][0]
        if draw >> 4 & 15 < 10:
            props["signup_date"] = created_at - (draw >> 8 & 0xFFFFFF)
        if created_at in import_moments:
            updated_at = created_at
        elif i in synced and created_at < sync_moment:
            updated_at = sync_moment
        elif draw >> 32 & 255 < untouched_below:
            updated_at = created_at
        else:
            # touched later, more often recently: the larger of two uniform draws
            frac = max(draw >> 40 & 0xFFFF, bits >> 48)
            updated_at = created_at + ((now_s - created_at) * frac >> 16)
        fine = draw >> 56  # 0..255 for the rarer events
        # last surveyed somewhere between creation and now, for about 60%
        surveyed = created_at + ((now_s - created_at) * (bits >> 40 & 0xFFFF) >> 16)
        yield (
            next_id,
            f"{prefix}{i}{suffix}",
            (f"cus_{next_id:x}" if fine & 1 else f"CRM-{i + 1:07d}") if fine < 218 else None,
            created_at - (draw >> 8 & 0xFFFFF) if fine >= 20 else None,
            surveyed if fine >> 1 & 7 < 5 else None,
            created_at,
            updated_at,
            props,
            1 if fine < 8 else 2 if fine < 13 else 3 if fine < 18 else 0,
        )
        next_id += 1 + (bits >> 62 == 3)  # ids have the odd gap, like a real sequence


def record_to_seed(record: SampleRecord) -> dict[str, object]:
    """A sample record as a seed dict (with `settings` only when not every channel is on)."""
    end_user_id, email, external_id, external_created_at, last_surveyed = record[:5]
    code = record[8]
    row: dict[str, object] = {
        "id": end_user_id,
        "email": email,
        "created_at": record[5],
        "updated_at": record[6],
        "surveys_disabled": code in (1, 2),
        "properties": record[7],
    }
    if external_id is not None:
        row["external_id"] = external_id
    if external_created_at is not None:
        row["external_created_at"] = external_created_at
    if last_surveyed is not None:
        row["last_surveyed"] = last_surveyed
    settings = SAMPLE_SETTINGS[code]
    if settings is not None:
        row["settings"] = dict(settings)
    return row


def iter_end_users(
    n: int, seed: int = 0, profile: str = "account", now: int | float | None = None,
    first_id: int = FIRST_ID,
) -> Iterator[dict[str, object]]:
    """Yield `n` seed-schema end users; see `generate_end_users`."""
    return map(record_to_seed, iter_records(n, seed, profile, now, first_id))


def generate_end_users(
    n: int, seed: int = 0, profile: str = "account", now: int | float | None = None,
    first_id: int = FIRST_ID,
) -> list[dict[str, object]]:
    """`n` end users as seed-schema dicts, deterministic for (`n`, `seed`, `profile`, `now`).

    Beyond the seed's keys a row may carry `settings` (only when not all channels are on, e.g.
    an end user who opted out). Ids grow with `created_at` from `first_id`; `now` defaults to
    the wall clock, so pass it when two runs must be identical.
    """
    collecting = gc.isenabled()
    gc.disable()  # a million young dicts make the cyclic collector rescan everything repeatedly
    try:
        return list(iter_end_users(n, seed, profile, now, first_id))
    finally:
        if collecting:
            gc.enable()
