"""Deterministic sample survey responses and declines for the sample end users.

Shaped like a real account's history: about three responses per end user on average (none for
about a third of them, a dozen for a few), spread between the person's creation and now;
scores drawn per plan so segments differ (Free near 0, Business near +50, the account about
+25..+35), a region nudge on top; comments in English, German, French, Spanish, Portuguese and
Japanese, about half empty; tags a team would put on them; a few responses excluded from
calculations, a few incomplete; declines, some people declining again and again; and email
campaign bursts, where hundreds of responses share one second (at most 1,200 each, so every
row stays reachable within one `created[eq]` filter's 30 pages of 50).

Everything follows from (seed, the end users, now): ids grow with created_at, as a database
sequence would. A later start (a later `now`) moves every timestamp by the same amount and
changes nothing else, so the demo shows the same answers on every start.
"""

from __future__ import annotations

import bisect
import random
from array import array
from collections.abc import Iterable, Iterator
from typing import Any

from desktop_app.emulator.response_store import (
    CHANNELS,
    COMPLETED,
    EXCLUDED,
    SURVEY_IDS,
    TAG_SEPARATOR,
    ResponseStore,
)
from desktop_app.emulator.sample_data import DAY

PER_USER = 3.0  # responses per end user, on average (the benchmark's 3,000,000 for 1,000,000)
MAX_PER_USER = 10.0  # a person answers at most 14 times (the packed keys' room): keep the mean well below
MAX_BURST = 1_200
_PLANS = ("Free", "Starter", "Pro", "Business", "Enterprise")
_REGIONS = ("NA", "EMEA", "APAC", "LATAM")
# how many responses an end user gave, by 6 random bits: mean exactly 3.0
_COUNTS = tuple([0] * 19 + [1] * 8 + [2] * 7 + [3] * 6 + [4] * 6 + [5] * 5 + [6] * 4 + [7] * 3
                + [8] * 3 + [10] + [12] * 2)
_DECLINES = tuple([0] * 11 + [1] * 3 + [2] + [3])  # by 4 bits: a few decline again and again
# (detractor, passive, promoter) shares per plan; the last one is "no plan property"
_SHARES = {
    "Free": (0.36, 0.30, 0.34), "Starter": (0.25, 0.33, 0.42), "Pro": (0.16, 0.30, 0.54),
    "Business": (0.12, 0.28, 0.60), "Enterprise": (0.22, 0.30, 0.48), None: (0.20, 0.35, 0.45),
}
_DETRACTOR_SCORES = (0, 1, 2, 3, 3, 4, 4, 4, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6)
_CHANNEL_SLOTS = (0,) * 9 + (1,) * 7 + (2,) * 2 + (3,) * 2  # out of 20: web, email, ios, android
_ORIGINS = {0: (0, 1, 2, 3), 1: (4,), 2: (5,), 3: (6,)}  # by channel, into SAMPLE_ORIGINS
_NETWORKS = (0xCB007100, 0xC6336400, 0xC0000200)  # 203.0.113/24, 198.51.100/24, 192.0.2/24
_LANGUAGE_SLOTS = ("en",) * 10 + ("de",) * 3 + ("fr",) * 2 + ("es",) * 2 + ("pt",) * 1 + ("ja",) * 2
_TOPICS = ("billing", "onboarding", "performance", "support", "pricing", "reporting")
# (negative, positive) comments per topic and language
_COMMENTS: dict[str, dict[str, tuple[str, str]]] = {
    "billing": {
        "en": ("I was charged twice this month and nobody explained why.", "Invoices are clear and billing just works."),
        "de": ("Die Rechnung war diesen Monat doppelt, das ist ärgerlich.", "Die Abrechnung ist übersichtlich und korrekt."),
        "fr": ("J'ai été facturé deux fois ce mois-ci.", "La facturation est simple et claire."),
        "es": ("Me cobraron dos veces este mes.", "La facturación es clara y sencilla."),
        "pt": ("Fui cobrado duas vezes este mês.", "A cobrança é clara e simples."),
        "ja": ("今月は二重に請求されました。", "請求書が分かりやすくて助かります。"),
    },
    "onboarding": {
        "en": ("Setting up our team took far too long.", "Onboarding was smooth, we were live in a day."),
        "de": ("Die Einrichtung hat viel zu lange gedauert.", "Der Einstieg war einfach, nach einem Tag lief alles."),
        "fr": ("La mise en route a été trop longue.", "Prise en main très facile, opérationnels en un jour."),
        "es": ("La configuración inicial fue demasiado lenta.", "El onboarding fue muy fácil."),
        "pt": ("A configuração inicial demorou demais.", "A integração foi rápida e fácil."),
        "ja": ("初期設定に時間がかかりすぎました。", "導入がとてもスムーズでした。"),
    },
    "performance": {
        "en": ("The dashboard is too slow, reports time out.", "Fast, even with our big account."),
        "de": ("Das Dashboard ist zu langsam, Berichte brechen ab.", "Schnell, auch bei vielen Daten."),
        "fr": ("Trop lent, les rapports n'aboutissent pas.", "Rapide, même avec beaucoup de données."),
        "es": ("Demasiado lento, los informes fallan.", "Rápido incluso con muchos datos."),
        "pt": ("Muito lento, os relatórios não carregam.", "Rápido mesmo com muitos dados."),
        "ja": ("ダッシュボードが遅すぎます。", "データが多くても速いです。"),
    },
    "support": {
        "en": ("Support took a week to answer my ticket.", "Great support, they answered within the hour!"),
        "de": ("Der Support hat eine Woche für eine Antwort gebraucht.", "Toller Support, sehr schnelle Antworten!"),
        "fr": ("Le support a mis une semaine à répondre.", "Support au top, réponse en une heure !"),
        "es": ("El soporte tardó una semana en responder.", "¡Excelente soporte, muy rápidos!"),
        "pt": ("O suporte demorou uma semana para responder.", "Suporte excelente, responderam rápido!"),
        "ja": ("サポートの返信に一週間かかりました。", "サポートの対応が早くて素晴らしい！"),
    },
    "pricing": {
        "en": ("Too expensive for what it does.", "Worth every cent."),
        "de": ("Zu teuer für den Funktionsumfang.", "Jeden Cent wert."),
        "fr": ("Trop cher pour ce que c'est.", "Excellent rapport qualité-prix."),
        "es": ("Demasiado caro para lo que ofrece.", "Vale cada centavo."),
        "pt": ("Caro demais pelo que oferece.", "Vale cada centavo."),
        "ja": ("機能の割に高すぎます。", "価格以上の価値があります。"),
    },
    "reporting": {
        "en": ("I can't export the reports my boss asks for.", "The reports save us hours every week."),
        "de": ("Die Berichte lassen sich nicht richtig exportieren.", "Die Berichte sparen uns jede Woche Stunden."),
        "fr": ("Impossible d'exporter les rapports dont j'ai besoin.", "Les rapports nous font gagner des heures."),
        "es": ("No puedo exportar los informes que necesito.", "Los informes nos ahorran horas cada semana."),
        "pt": ("Não consigo exportar os relatórios de que preciso.", "Os relatórios economizam horas toda semana."),
        "ja": ("必要なレポートがエクスポートできません。", "レポートのおかげで毎週何時間も節約できます。"),
    },
}
_PASSIVE_JOINS = {"en": " But: ", "de": " Aber: ", "fr": " Mais : ", "es": " Pero: ", "pt": " Mas: ", "ja": " ただ、"}


def _score_table(shares: tuple[float, float, float]) -> tuple[int, ...]:
    """1,024 scores drawn with the plan's bucket shares (a lookup by 10 random bits)."""
    detractors, passives = round(shares[0] * 1024), round(shares[1] * 1024)
    promoters = 1024 - detractors - passives
    table: list[int] = []
    table += [_DETRACTOR_SCORES[k * len(_DETRACTOR_SCORES) // detractors] for k in range(detractors)]
    table += [7 if k < passives * 45 // 100 else 8 for k in range(passives)]
    table += [9 if k < promoters * 45 // 100 else 10 for k in range(promoters)]
    return tuple(table)


_SCORE_TABLES = {plan: _score_table(shares) for plan, shares in _SHARES.items()}
_PLAN_TABLES = tuple(_SCORE_TABLES[plan] for plan in (*_PLANS, None))  # by plan code


class HistoryTap:
    """What the end users' history depends on: id, created_at (ascending), plan and region."""

    def __init__(self) -> None:
        self.ids = array("q")
        self.created = array("q")
        self.segments = bytearray()  # plan code * 5 + region code (len(...) when absent)

    @classmethod
    def of(cls, people: Iterable[tuple[int, int, dict[str, Any]]]) -> HistoryTap:
        """From (id, created_at, properties), ordered by created_at and then id."""
        tap = cls()
        plans: dict[object, int] = {plan: code for code, plan in enumerate(_PLANS)}
        regions: dict[object, int] = {region: code for code, region in enumerate(_REGIONS)}
        none_plan, none_region = len(_PLANS), len(_REGIONS)
        ids, created, segments = tap.ids.append, tap.created.append, tap.segments.append
        for end_user_id, created_at, properties in people:
            plan, region = properties.get("plan"), properties.get("region")
            ids(end_user_id)
            created(created_at)
            segments(plans.get(plan, none_plan) * 5 + regions.get(region, none_region)
                     if isinstance(plan, str | None) and isinstance(region, str | None)
                     else none_plan * 5 + none_region)
        return tap

    def __len__(self) -> int:
        return len(self.ids)


def _bursts(rnd: random.Random, tap: HistoryTap, expected: int, now: int) -> list[tuple[int, list[int]]]:
    """Email campaigns: (second, indexes of the end users who answered in it)."""
    n = len(tap)
    if n < 10 or expected < 100:
        return []
    out: list[tuple[int, list[int]]] = []
    size = min(MAX_BURST, max(40, expected // 60))
    low = max(tap.created[0], now - 2 * 365 * DAY)
    for _ in range(2 + expected // 200_000):
        moment = low + rnd.randrange(max(1, now - DAY - low))
        eligible = bisect.bisect_right(tap.created, moment)
        if eligible >= 2:
            out.append((moment, rnd.sample(range(eligible), min(size, eligible * 3 // 4 or 1))))
    return out


def _moments(rnd: random.Random, tap: HistoryTap, per_user: float, counts: tuple[int, ...],
             now: int) -> list[int]:
    """Sorted packed keys `created_at << 32 | index << 4 | k` of every entry (k < 15; 15 marks
    a campaign burst's response)."""
    keys: list[int] = []
    append = keys.append
    getrandbits = rnd.getrandbits
    mean = sum(counts) / len(counts)
    scale = per_user / mean
    width = (len(counts) - 1).bit_length()
    random_unit = rnd.random
    for index, created_at in enumerate(tap.created):
        count = counts[getrandbits(width)]
        if scale != 1.0:
            count = min(14, int(count * scale + random_unit()))
        span = max(0, now - created_at)
        for k in range(count):
            append((created_at + (span * getrandbits(32) >> 32)) << 32 | index << 4 | k)
    keys.sort()
    return keys


def sample_responses(tap: HistoryTap, seed: int, now: int, per_user: float = PER_USER) -> Iterator[tuple[Any, ...]]:
    """Response rows (SAMPLE_COLUMNS order) for the watched end users, ids from 1 by time."""
    rnd = random.Random(f"wootric-desk:{seed}:responses")
    keys = _moments(rnd, tap, per_user, _COUNTS, now)
    for moment, chosen in _bursts(rnd, tap, len(keys), now):
        keys.extend(moment << 32 | index << 4 | 15 for index in chosen)
    keys.sort()
    getrandbits = rnd.getrandbits
    ids, segments = tap.ids, tap.segments
    email = CHANNELS.index("email")
    for response_id, key in enumerate(keys, 1):
        created_at = key >> 32
        index = (key & 0xFFFFFFFF) >> 4
        in_burst = key & 15 == 15
        bits = getrandbits(64)
        segment = segments[index]
        score = _PLAN_TABLES[segment // 5][bits & 1023]
        region = segment % 5
        if region == 1 and score >= 9 and (bits >> 10) & 7 == 0:
            score -= 2  # EMEA is a little harder to please
        elif region == 2 and score <= 6 and (bits >> 10) & 7 < 2:
            score = min(10, score + 3)  # APAC a little kinder
        channel = email if in_burst else _CHANNEL_SLOTS[(bits >> 13) % 20]
        origins = _ORIGINS[channel]
        completed = (bits >> 18) & 31 != 0  # ~3% left the comment step
        text: str | None = None
        tags: str | None = None
        if completed and (bits >> 23) & 15 < 9:  # a little over half write something
            language = _LANGUAGE_SLOTS[(bits >> 27) % 20]
            topic = _TOPICS[(bits >> 32) % len(_TOPICS)]
            negative, positive = _COMMENTS[topic][language]
            if score <= 6:
                text = negative
            elif score >= 9:
                text = positive
            else:
                other = _COMMENTS[_TOPICS[(bits >> 35) % len(_TOPICS)]][language][0]
                text = positive + _PASSIVE_JOINS[language] + other
            if (bits >> 38) & 7 < 5:  # the team tagged most comments
                tags = topic if (bits >> 41) & 7 else topic + TAG_SEPARATOR + "follow-up"
        elif completed and (bits >> 23) & 15 == 15:
            text = ""  # an empty comment box sent as such
        excluded = (bits >> 44) & 63 == 0  # ~1.5%: test submissions, internal staff
        flags = (COMPLETED if completed else 0) | (EXCLUDED if excluded else 0)
        updated_at = created_at
        if tags is not None or excluded:  # tagging and excluding happen later, in the dashboard
            updated_at = min(now, created_at + ((bits >> 50) & 0x3FFF) * 180)
        yield (
            response_id, ids[index], SURVEY_IDS[channel], score, text, flags,
            _NETWORKS[(bits >> 20) % 3] | (bits >> 56), origins[(bits >> 8) % len(origins)],
            channel, created_at, updated_at, tags,
        )


def sample_declines(tap: HistoryTap, seed: int, now: int) -> Iterator[tuple[Any, ...]]:
    """Decline rows (SAMPLE_COLUMNS order) for the watched end users, ids from 1 by time."""
    rnd = random.Random(f"wootric-desk:{seed}:declines")
    keys = _moments(rnd, tap, sum(_DECLINES) / len(_DECLINES), _DECLINES, now)
    getrandbits = rnd.getrandbits
    ids = tap.ids
    for decline_id, key in enumerate(keys, 1):
        created_at = key >> 32
        bits = getrandbits(32)
        channel = _CHANNEL_SLOTS[bits % 20]
        origins = _ORIGINS[channel]
        yield (
            decline_id, ids[(key & 0xFFFFFFFF) >> 4], SURVEY_IDS[channel],
            _NETWORKS[(bits >> 5) % 3] | (bits >> 24), origins[(bits >> 7) % len(origins)],
            channel, created_at, created_at,
        )


def load_sample_history(store: ResponseStore, seed: int, now: int, per_user: float = PER_USER) -> tuple[int, int]:
    """Generate and load the responses and declines of every end user in the store (the
    emulator's starting population); returns (responses, declines)."""
    if not 0 <= per_user <= MAX_PER_USER:
        raise ValueError(f"responses per user must be from 0 to {MAX_PER_USER:g}")
    if per_user == 0:
        return 0, 0
    tap = HistoryTap.of(store.survey_population())
    if not len(tap):
        return 0, 0
    return store.load_sample_rows(sample_responses(tap, seed, now, per_user),
                                  sample_declines(tap, seed, now))
