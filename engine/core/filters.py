"""The one filter type every creator query takes, the one limit on how many results a
query may ask for, and the parsing of the numbers people type (`10k-100k`, `>2`, `1.5m`),
shared by the CLI, the bot and the importer so all accept exactly the same spellings."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from engine.core.errors import BadQuery

MAX_K = 100  # results per query, everywhere: console, Slack, CLI and the facade


def check_k(k: Any, what: str = "results") -> int:
    """`k` as a whole number in 1..MAX_K, or BadQuery saying the accepted range."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= MAX_K:
        raise BadQuery(f"Ask for between 1 and {MAX_K} {what} (got {k!r}).")
    return int(k)


@dataclass(frozen=True)
class Filters:
    """Audience filters on creators: follower range, minimum engagement rate (percent,
    2.0 means ER >= 2%), language code and follower growth (percent over 30 days, 7
    when the history is shorter). A creator whose value is unknown fails a filter on
    that value (NaN compares false), so a filter never lets unknowns through. Growth
    comes from the sync's history, not from a model, so `mask` leaves it to the facade
    (`growth_mask`), which applies it to what the models found."""

    followers_min: int | None = None
    followers_max: int | None = None
    min_er: float | None = None
    language: str | None = None
    growth_min: float | None = None
    growth_max: float | None = None
    # The trust card's numbers (issue 25): quality 0-100, sponsored share in percent of
    # posts, `safe` = no brand-safety flag. Like growth, the facade applies them.
    quality_min: float | None = None
    quality_max: float | None = None
    sponsored_min: float | None = None
    sponsored_max: float | None = None
    safe: bool = False

    def __bool__(self) -> bool:
        return (
            any(
                v is not None and v != ""
                for v in (
                    self.followers_min,
                    self.followers_max,
                    self.min_er,
                    self.language,
                    self.growth_min,
                    self.growth_max,
                )
            )
            or self.has_trust
        )

    @property
    def has_trust(self) -> bool:
        return self.safe or any(
            v is not None
            for v in (self.quality_min, self.quality_max, self.sponsored_min, self.sponsored_max)
        )

    def trust_mask(
        self,
        quality: Sequence[float | None],
        sponsored: Sequence[float | None],
        safe: Sequence[bool | None],
    ) -> np.ndarray:
        """Boolean mask over creators given their quality (0-100), sponsored share
        (percent of posts) and brand safety; an unknown value fails its filter."""
        q = np.array([np.nan if v is None else v for v in quality], dtype=np.float64)
        sp = np.array([np.nan if v is None else v for v in sponsored], dtype=np.float64)
        keep = np.ones(len(q), dtype=bool)
        for values, low, high in (
            (q, self.quality_min, self.quality_max),
            (sp, self.sponsored_min, self.sponsored_max),
        ):
            if low is not None:
                keep &= values >= low
            if high is not None:
                keep &= values <= high
        if self.safe:
            keep &= np.array([v is True for v in safe], dtype=bool)
        return keep

    @property
    def has_growth(self) -> bool:
        return self.growth_min is not None or self.growth_max is not None

    def without_growth(self) -> Filters:
        return replace(self, growth_min=None, growth_max=None)

    def growth_mask(self, growth: Sequence[float | None]) -> np.ndarray:
        """Boolean mask over creators given their growth in percent (None: unknown)."""
        values = np.array([np.nan if g is None else g for g in growth], dtype=np.float64)
        keep = np.ones(len(values), dtype=bool)
        if self.growth_min is not None:
            keep &= values >= self.growth_min
        if self.growth_max is not None:
            keep &= values <= self.growth_max
        return keep

    def mask(
        self, followers: np.ndarray, er: np.ndarray, language: Sequence[str] | np.ndarray
    ) -> np.ndarray:
        """Boolean mask over creators given their followers, ER (percent) and language."""
        followers = np.asarray(followers, dtype=np.float64)
        keep = np.ones(len(followers), dtype=bool)
        if self.followers_min is not None:
            keep &= followers >= self.followers_min
        if self.followers_max is not None:
            keep &= followers <= self.followers_max
        if self.min_er is not None:
            keep &= np.asarray(er, dtype=np.float64) >= self.min_er
        if self.language:
            wanted = self.language.lower()
            keep &= np.array([str(lg or "").lower() == wanted for lg in language], dtype=bool)
        return keep

    def hidden_er_left_out(
        self, followers: np.ndarray, language: Sequence[str] | np.ndarray, hidden: np.ndarray
    ) -> int:
        """How many creators the `er:` filter leaves out only because their likes are
        hidden (their ER is unknown, engine.core.engagement): they pass every other
        filter, so a marketer is told they exist rather than shown a list without them."""
        if self.min_er is None:
            return 0
        rest = replace(self, min_er=None).mask(followers, np.zeros(len(followers)), language)
        return int((rest & np.asarray(hidden, dtype=bool)).sum())

    def hidden_er_note(self, count: int) -> str | None:
        """`3 creators with hidden likes left out of er:>2`, None when there are none."""
        if not count or self.min_er is None:
            return None
        who = "creator" if count == 1 else "creators"
        return f"{count} {who} with hidden likes left out of er:>{self.min_er:g}"

    def language_note(self, language: Sequence[str] | np.ndarray) -> str | None:
        """What to say when `lang:` asks of data that has no language at all (every
        creator's is unknown): the filter cannot work, widening the others will not help."""
        if not self.language or any(str(lg or "").strip() for lg in language):
            return None
        return "this data has no languages, so lang: cannot filter it"


_NUMBER = re.compile(r"^(\d+(?:\.\d+)?)([kKmMbB]?)$")
_SCALE = {"": 1, "k": 1_000, "m": 1_000_000, "b": 1_000_000_000}
# Past any real audience or like count: a number above it is a typo (or a probe), and
# refusing it here keeps int(inf) and float(10**400) overflows out of every caller.
MAX_COUNT = 10**15


def parse_count(text: str | int | float) -> int:
    """A count as people and exports write it: 500, 12,345, 12 345, 1.2k, 3.4M, 1b.
    Fractions of one, negatives, words and implausibly large numbers are refused with
    BadQuery, not guessed."""
    if isinstance(text, bool):
        raise BadQuery(f"expected a whole number >= 0, got {text!r}")
    if isinstance(text, int | np.integer):
        value: float | int = int(text)
    elif isinstance(text, float | np.floating):
        if not float(text).is_integer():
            raise BadQuery(f"expected a whole number >= 0, got {text!r}")
        value = float(text)
    else:
        value = _count_text(str(text))
    if value < 0:
        raise BadQuery(f"must be >= 0, got {text}")
    if value > MAX_COUNT:
        raise BadQuery(f"implausibly large: {str(text)[:40]}")
    return int(round(value))


def _count_text(raw: str) -> float:
    raw = raw.strip()
    cleaned = re.sub(r"[,_\s\u00a0\u202f']", "", raw)
    if cleaned.startswith("-") and _NUMBER.match(cleaned[1:]):
        raise BadQuery(f"must be >= 0, got {raw[:40]}")
    m = _NUMBER.match(cleaned)
    if not m:
        raise BadQuery(f"expected a whole number >= 0 (500, 12,345, 1.2k), got {raw[:40]!r}")
    value = float(m.group(1)) * _SCALE[m.group(2).lower()]  # inf past 1e308: refused later
    if not m.group(2) and not value.is_integer() and math.isfinite(value):
        raise BadQuery(f"expected a whole number >= 0, got {raw[:40]!r}")
    return value


def parse_percent(text: str) -> float:
    """An engagement rate in percent: `2`, `2.5`, `2%`; finite and >= 0."""
    value = float(str(text).strip().rstrip("%"))
    if not math.isfinite(value) or value < 0:
        raise BadQuery(f"expected a percentage >= 0, got {text!r}")
    return value


@dataclass(frozen=True)
class FilterSyntax:
    """How one edge spells a filter, so an error shows the user the form they typed:
    Slack and the console write `followers:10k-100k`, the CLI `--followers 10k-100k`.
    The keys and the values are the same on both."""

    template: str
    examples: Mapping[str, str]  # what to suggest for each key, in a form safe to type

    def spell(self, key: str, value: str | None = None) -> str:
        return self.template.format(key=key, value=self.examples[key] if value is None else value)


SLACK = FilterSyntax(
    "{key}:{value}",
    {
        "followers": "10k-100k",
        "er": ">2",
        "lang": "en",
        "growth": ">5%",
        "quality": ">70",
        "sponsored": "<20%",
    },
)
# `>` and `<` redirect in a shell, so the CLI suggests the forms that need no quotes.
CLI = FilterSyntax(
    "--{key} {value}",
    {
        "followers": "10k-100k",
        "er": "2",
        "lang": "en",
        "growth": "5",
        "quality": "70",
        "sponsored": "0-20",
    },
)
FILTER_KEYS = ("followers", "er", "lang", "growth", "quality", "sponsored", "safe")


def parse_filters(options: Mapping[str, str | None], syntax: FilterSyntax = SLACK) -> Filters:
    """The one parser of filters, for every edge: `followers` a range (`10k-100k`,
    `10k+`, `>10k`, `<1m`, `10k` = at least), `er` a minimum in percent (`>2`, `2+`,
    `2`), `lang` a code or name (`en`, `english`), `growth` a range of follower growth
    in percent (`>5%`, `0-10`, `<1%`), and the trust card's `quality`, `sponsored` and
    `safe` (see _trust_options). Missing or None keys do not filter;
    keys other than these are not read."""
    fmin = fmax = er = lang = None
    followers = options.get("followers")
    if followers is not None:
        fmin, fmax = parse_range(followers, parse_count, "followers", syntax)
    er_text = options.get("er")
    if er_text is not None:
        er, high = parse_range(er_text, parse_percent, "er", syntax)
        if er is None or high is not None:
            raise BadQuery(
                f"`{syntax.spell('er', er_text)}`: `er` takes a minimum engagement rate in "
                f"percent, like `{syntax.spell('er')}`."
            )
    lang_text = options.get("lang")
    if lang_text is not None and lang_text.strip():
        lang = parse_language(lang_text)
    gmin = gmax = None
    growth = options.get("growth")
    if growth is not None:
        gmin, gmax = parse_range(growth, parse_growth, "growth", syntax)
    return Filters(
        followers_min=fmin,
        followers_max=fmax,
        min_er=er,
        language=lang,
        growth_min=gmin,
        growth_max=gmax,
        **_trust_options(options, syntax),
    )


def _trust_options(options: Mapping[str, str | None], syntax: FilterSyntax) -> dict[str, Any]:
    """`quality` a 0-100 range (`>70`), `sponsored` a range in percent of posts
    (`<20%`), `safe` a flag (any value but no/false/0/off turns it on)."""
    out: dict[str, Any] = {}
    quality = options.get("quality")
    if quality is not None:
        out["quality_min"], out["quality_max"] = parse_range(
            quality, parse_score, "quality", syntax
        )
    sponsored = options.get("sponsored")
    if sponsored is not None:
        out["sponsored_min"], out["sponsored_max"] = parse_range(
            sponsored, parse_share, "sponsored", syntax
        )
    safe = options.get("safe")
    if safe is not None:
        out["safe"] = str(safe).strip().lower() not in ("no", "false", "0", "off")
    return out


def parse_score(text: str) -> float:
    """A 0-100 quality score: `70`, `70.5`."""
    value = float(str(text).strip())
    if not math.isfinite(value) or not 0 <= value <= 100:
        raise BadQuery(f"expected a score between 0 and 100, got {text!r}")
    return value


def parse_share(text: str) -> float:
    """A share of posts in percent: `20`, `20%`, between 0 and 100."""
    value = parse_percent(text)
    if value > 100:
        raise BadQuery(f"expected a percentage between 0 and 100, got {text!r}")
    return value


def parse_growth(text: str) -> float:
    """A follower growth in percent: `5`, `5%`, `2.5%`; finite (may be negative only
    as a range's bound: `<-1%` reads as at most -1%)."""
    value = float(str(text).strip().rstrip("%"))
    if not math.isfinite(value):
        raise BadQuery(f"expected a percentage, got {text!r}")
    return value


def parse_range(
    text: str,
    parse: Callable[[str], Any],
    name: str,
    syntax: FilterSyntax,
) -> tuple:
    """`a-b`, `>a`, `>=a`, `a+`, `<b`, `<=b` or `a` (a minimum) into (low, high); a
    reversed range is refused, not silently matched against nothing."""
    text = text.strip()
    low, high = _range(text, parse, name, syntax)
    if low is not None and high is not None and low > high:
        lo, hi = text.split("-", 1)
        raise BadQuery(
            f"`{syntax.spell(name, text)}` runs backwards; did you mean "
            f"`{syntax.spell(name, f'{hi}-{lo}')}`?"
        )
    return low, high


def _range(text: str, parse: Callable[[str], Any], name: str, syntax: FilterSyntax) -> tuple:
    try:
        if text.endswith("+") and not text.startswith(("<", ">")):
            return parse(text[:-1]), None
        if text.startswith(">="):
            return parse(text[2:]), None
        if text.startswith(">"):
            return parse(text[1:]), None
        if text.startswith("<="):
            return None, parse(text[2:])
        if text.startswith("<"):
            return None, parse(text[1:])
        if "-" in text:
            lo, hi = text.split("-", 1)
            return parse(lo), parse(hi)
        return parse(text), None
    except (BadQuery, ValueError, OverflowError):
        raise BadQuery(
            f"`{syntax.spell(name, text)}` is not a range; write it like `{syntax.spell(name)}`."
        ) from None


# Language names people type, to the two-letter codes the data uses (ISO 639-1).
LANGUAGES = {
    "english": "en", "spanish": "es", "espanol": "es", "español": "es", "french": "fr",
    "francais": "fr", "français": "fr", "german": "de", "deutsch": "de", "italian": "it",
    "italiano": "it", "portuguese": "pt", "portugues": "pt", "português": "pt",
    "russian": "ru", "dutch": "nl", "polish": "pl", "turkish": "tr", "arabic": "ar",
    "hindi": "hi", "japanese": "ja", "korean": "ko", "chinese": "zh", "indonesian": "id",
    "swedish": "sv", "ukrainian": "uk", "greek": "el", "czech": "cs", "romanian": "ro",
}  # fmt: skip


# Every ISO 639-1 code: a two-letter word outside it (`lang:xx`) is a typo, refused.
_ISO_CODES = (
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs "
    "cu cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha "
    "he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn "
    "ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb "
    "nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd "
    "se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw "
    "ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu"
)
ISO_639_1 = frozenset(_ISO_CODES.split())


def close_languages(word: str, n: int = 4) -> list[str]:
    """Codes one letter away from `word`, the commonly typed ones (LANGUAGES) first."""
    common = list(dict.fromkeys(LANGUAGES.values()))
    others = sorted(ISO_639_1 - set(common))

    def near(code: str) -> bool:
        return len(word) == 2 and sum(a != b for a, b in zip(code, word, strict=True)) == 1

    return [c for c in common + others if near(c)][:n]


def parse_language(text: str) -> str:
    """`en`, `EN`, `english` or `English` to `en`; an unknown code (`xx`) or anything
    else is refused with the close codes and the accepted forms."""
    word = text.strip().lower()
    if word in LANGUAGES:
        return LANGUAGES[word]
    if word in ISO_639_1:
        return word
    if re.fullmatch(r"[a-z]{2}", word):
        close = close_languages(word) or ["en", "es", "fr"]
        raise BadQuery(
            f"`{text.strip()}` is not a language code; did you mean "
            + ", ".join(f"`{c}`" for c in close)
            + "? Use a two-letter ISO 639-1 code or a name like `english`."
        )
    raise BadQuery(
        f"`{text}` is not a language I know; use a two-letter code like `en`, `es`, `fr` "
        "or a name like `english`."
    )
