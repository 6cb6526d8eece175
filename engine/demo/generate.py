"""A deterministic, realistic demo data set in the import format, with its planted truth.

Everything a benchmark scores against is planted here on purpose: each creator's topic
(with a secondary topic for some), favourite tags repeated on most posts, spam tags
everywhere, an ambiguous tag (`apple`: tech and food), like-earning tags, songs whose
popularity rises, falls or — for a few — jumps in the last week, and reels whose
engagement depends on how well the song fits the creator. Pictures are composed from
real photos per topic so image features mean something. Pure: no store, no bot.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

from engine.core.settings import Settings
from engine.demo.topics import (
    EMOJIS,
    FIRST_NAMES,
    GENERIC_WORDS,
    LANGUAGE_WEIGHTS,
    LANGUAGES,
    SPAM_TAGS,
    TOPICS,
    Topic,
)

AS_OF = date(2026, 11, 1)
DAYS = 180
TREND_DAYS = 7


@dataclass(frozen=True)
class Size:
    influencers: int
    mean_posts: int
    songs: int
    trending: int
    pool: int  # images per topic


SIZES = {
    "small": Size(150, 26, 80, 6, 24),
    "default": Size(2000, 30, 500, 18, 60),
    "large": Size(20000, 30, 2000, 40, 60),
}


@dataclass(frozen=True)
class DemoFiles:
    dir: Path
    influencers: Path
    posts: Path
    songs: Path
    truth: Path


def demo_dir(data_dir: Path, size: str, seed: int) -> Path:
    return Path(data_dir) / "demo" / f"{size}-{seed}"


def load_truth(directory: Path) -> dict:
    return json.loads((Path(directory) / "truth.json").read_text(encoding="utf-8"))


def is_complete(directory: Path) -> bool:
    return (Path(directory) / "truth.json").is_file()


def generate(
    out_dir: Path,
    size: str = "default",
    seed: int = 42,
    shared_dir: Path | None = None,
    pool: int | None = None,
) -> DemoFiles:
    """Write influencers.csv, songs.csv, posts.csv, images/ and truth.json (last, so its
    presence means the set is complete). `pool` overrides the size's pictures per topic:
    posts reuse pictures because featurising each one costs ~20 ms downstream."""
    if size not in SIZES:
        raise ValueError(f"unknown demo size {size!r}; expected one of {', '.join(SIZES)}")
    if pool is not None and pool < 1:
        raise ValueError(f"pool must be at least 1 picture per topic, not {pool}")
    spec = SIZES[size] if pool is None else replace(SIZES[size], pool=pool)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "truth.json").unlink(missing_ok=True)
    rng = np.random.default_rng(seed)
    shared = shared_dir or Settings.from_env().shared_dir
    images = _make_images(out, spec.pool, rng, shared)
    creators = _make_creators(spec, rng)
    songs = _make_songs(spec, rng)
    posts = _make_posts(spec, creators, songs, images, rng)
    _write_csv(
        out / "influencers.csv",
        [
            "handle",
            "name",
            "followers",
            "following",
            "posts_count",
            "bio",
            "language",
            "country",
            "platform",
        ],
        [
            [
                c["handle"],
                c["name"],
                c["followers"],
                c["following"],
                c["posts_count"],
                c["bio"],
                c["language"],
                c["country"],
                "instagram",
            ]
            for c in creators
        ],
    )
    _write_csv(
        out / "songs.csv",
        ["song_id", "title", "artist", "release", "year"],
        [[s["song_id"], s["title"], s["artist"], s["release"], s["year"]] for s in songs],
    )
    _write_csv(
        out / "posts.csv",
        [
            "handle",
            "post_id",
            "posted_at",
            "caption",
            "hashtags",
            "likes",
            "comments",
            "image",
            "song_id",
        ],
        posts,
    )
    truth = {
        "seed": seed,
        "size": size,
        "as_of": AS_OF.isoformat(),
        "topics": [t.name for t in TOPICS],
        "influencer_topic": {c["handle"]: c["topic"] for c in creators},
        "influencer_secondary_topic": {
            c["handle"]: c["secondary"] for c in creators if c["secondary"]
        },
        "topic_tags": {t.name: list(t.tags) for t in TOPICS},
        "good_tags": {t.name: list(t.good) for t in TOPICS},
        "spam_tags": list(SPAM_TAGS),
        "ambiguous_tags": {"apple": ["tech", "food"], "jaguar": ["cars", "wildlife"]},
        "trending_songs": [s["song_id"] for s in songs if s["curve"] == "trending"],
        "song_topic": {s["song_id"]: s["topic"] for s in songs},
        "song_curve": {s["song_id"]: s["curve"] for s in songs},
        "image_topic": images["topic_of"],
        "image_subject": images["subject_of"],
    }
    (out / "truth.json").write_text(
        json.dumps(truth, indent=1, ensure_ascii=False), encoding="utf-8"
    )
    return DemoFiles(
        out, out / "influencers.csv", out / "posts.csv", out / "songs.csv", out / "truth.json"
    )


# ----------------------------------------------------------------------- images
def _make_images(out: Path, pool: int, rng: np.random.Generator, shared: Path) -> dict:
    """`pool` pictures per topic: crops of that topic's real photos, flipped and
    colour-jittered, with a translucent shape in the topic's colour. A topic with
    subjects (pets: cats, dogs) takes turns between them, so each subject has pictures
    and `subject_of` says what each picture shows (the class is in the file name)."""
    sample_dir = shared / "photos" / "imagenet-sample"
    by_topic: dict[str, list[str]] = {}
    by_subject: dict[str, dict[str, list[str]]] = {}
    topic_of: dict[str, str] = {}
    subject_of: dict[str, str] = {}
    for topic in TOPICS:
        groups = [(s.name, s.photos) for s in topic.subjects] or [(None, topic.photos)]
        # Decode each photo once: a pool cycles through a topic's few photos many times.
        decoded = [
            (name, [_load_rgb(p) for p in _sample_photos(sample_dir, stems)])
            for name, stems in groups
        ]
        decoded = [(name, images) for name, images in decoded if images]
        paths: list[str] = []
        by_topic[topic.name] = paths
        if not decoded:
            # No photo looks like this topic (wedding): its posts carry no picture rather
            # than a drawn placeholder that a flat or blank upload would match.
            continue
        folder = out / "images" / topic.name
        folder.mkdir(parents=True, exist_ok=True)
        for k in range(pool):
            rel = f"images/{topic.name}/{k:03d}.jpg"
            name, images = decoded[k % len(decoded)]
            img = _compose(topic, images[(k // len(decoded)) % len(images)], rng)
            img.save(out / rel, "JPEG", quality=85)
            paths.append(rel)
            topic_of[rel] = topic.name
            if name is not None:
                subject_of[rel] = name
                by_subject.setdefault(topic.name, {}).setdefault(name, []).append(rel)
    return {
        "by_topic": by_topic,
        "by_subject": by_subject,
        "topic_of": topic_of,
        "subject_of": subject_of,
    }


def _sample_photos(sample_dir: Path, stems: tuple[str, ...]) -> list[Path]:
    """The imagenet-sample files of these classes (`n02124075_Egyptian_cat.JPEG`)."""
    if not sample_dir.is_dir():
        return []
    return sorted(p for stem in stems for p in sample_dir.glob(f"n*_{stem}.JPEG"))


def _load_rgb(path: Path) -> Image.Image:
    with Image.open(path) as im:
        return ImageOps.exif_transpose(im).convert("RGB")


def _compose(topic: Topic, source: Image.Image, rng: np.random.Generator) -> Image.Image:
    w, h = source.size
    frac = rng.uniform(0.6, 1.0)
    cw, ch = int(w * frac), int(h * frac)
    x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    img = source.crop((x, y, x + cw, y + ch)).resize((224, 224), Image.Resampling.BILINEAR)
    if rng.random() < 0.5:
        img = ImageOps.mirror(img)
    img = ImageEnhance.Color(img).enhance(rng.uniform(0.7, 1.3))
    img = ImageEnhance.Brightness(img).enhance(rng.uniform(0.8, 1.2))
    draw = ImageDraw.Draw(img, "RGBA")
    for _ in range(int(rng.integers(1, 3))):
        x0, y0 = rng.integers(0, 180, size=2)
        r = int(rng.integers(15, 45))
        draw.ellipse((int(x0), int(y0), int(x0) + r, int(y0) + r), fill=(*topic.colour, 90))
    return img


# --------------------------------------------------------------------- creators
def _make_creators(spec: Size, rng: np.random.Generator) -> list[dict]:
    creators = []
    seen: set[str] = set()
    n_topics = len(TOPICS)
    for i in range(spec.influencers):
        t = TOPICS[i % n_topics]
        secondary = TOPICS[int(rng.integers(n_topics))].name if rng.random() < 0.25 else None
        if secondary == t.name:
            secondary = None
        lang = LANGUAGES[int(rng.choice(len(LANGUAGES), p=LANGUAGE_WEIGHTS))]
        first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
        handle = f"{first}.{t.words[int(rng.integers(len(t.words)))]}"
        while handle in seen:
            handle = (
                f"{first}.{t.words[int(rng.integers(len(t.words)))]}{int(rng.integers(10, 1000))}"
            )
        seen.add(handle)
        followers = int(np.clip(rng.lognormal(math.log(12000), 1.5), 600, 8_000_000))
        if rng.random() < 0.01:
            followers = int(rng.integers(1_000_000, 5_000_000))  # a few celebrities
        # A pets creator has a cat or a dog (taking turns), and tags accordingly. Tags
        # are drawn as before and then made to fit, so the random stream (and with it
        # every handle, follower count and post of the demo) stays what it was.
        subject = t.subjects[(i // n_topics) % len(t.subjects)].name if t.subjects else None
        favourites = list(rng.choice(t.tags[:10], size=int(rng.integers(2, 4)), replace=False))
        shown = list(dict.fromkeys(t.fit_tag(str(x), subject) for x in favourites))
        favourites.append(f"{first}{t.name}")  # a personal brand tag
        creators.append(
            {
                "handle": handle,
                "name": f"{first.title()} {t.name.title()}",
                "topic": t.name,
                "secondary": secondary,
                "subject": subject,
                "language": lang,
                "followers": followers,
                "following": int(rng.integers(50, 2000)),
                "favourites": favourites,
                "quality": float(rng.normal(0, 0.25)),
                "country": {
                    "en": "US",
                    "es": "ES",
                    "fr": "FR",
                    "de": "DE",
                    "it": "IT",
                    "pt": "BR",
                    "ru": "RU",
                }[lang],
                "bio": f"{t.name} | {' '.join('#' + x for x in shown[:2])}",
                "n_posts": max(5, int(rng.negative_binomial(6, 6 / (6 + spec.mean_posts)))),
            }
        )
        creators[-1]["posts_count"] = creators[-1]["n_posts"] + int(rng.integers(0, 200))
    return creators


# ------------------------------------------------------------------------ songs
SONG_WORDS = [
    "summer",
    "night",
    "dance",
    "fire",
    "heart",
    "city",
    "lights",
    "dream",
    "gold",
    "river",
    "wild",
    "echo",
    "neon",
    "rain",
    "sunrise",
    "ocean",
    "velvet",
    "thunder",
    "paper",
    "moon",
]
ARTISTS = [
    "Luna Vega",
    "The Static",
    "Kofi Rivers",
    "Mira Sol",
    "Northbound",
    "DJ Paloma",
    "Electric Fern",
    "Sasha Blue",
    "Los Primos",
    "Atlas Grey",
    "Nova Kid",
    "Le Chat Noir",
]


def _song_weight(curve: str, day: np.ndarray) -> np.ndarray:
    """Relative popularity on day index (0 = first day, DAYS-1 = as_of)."""
    x = day / (DAYS - 1)
    if curve == "rising":
        return 0.2 + 1.6 * x
    if curve == "falling":
        return 1.8 - 1.6 * x
    if curve == "trending":
        return np.where(day >= DAYS - TREND_DAYS, 12.0, 0.25)
    return np.ones_like(x)


def _make_songs(spec: Size, rng: np.random.Generator) -> list[dict]:
    songs = []
    curves = ["trending"] * spec.trending + list(
        rng.choice(["steady", "rising", "falling"], size=spec.songs - spec.trending)
    )
    for i, curve in enumerate(curves):
        topic = TOPICS[i % len(TOPICS)].name
        words = rng.choice(SONG_WORDS, size=2, replace=False)
        year = int(rng.integers(2015, 2027))
        songs.append(
            {
                "song_id": f"song{i:04d}",
                "title": f"{words[0].title()} {words[1].title()}",
                "artist": ARTISTS[int(rng.integers(len(ARTISTS)))],
                "release": f"{words[0].title()} ({year})",
                "year": year,
                "topic": topic,
                "curve": str(curve),
            }
        )
    return songs


# ------------------------------------------------------------------------ posts
def _make_posts(
    spec: Size, creators: list[dict], songs: list[dict], images: dict, rng: np.random.Generator
) -> list[list]:
    topics = {t.name: t for t in TOPICS}
    days = np.arange(DAYS)
    song_topics = np.array([s["topic"] for s in songs])
    weights = np.stack([_song_weight(s["curve"], days) for s in songs])  # songs x days
    trending = np.array([s["curve"] == "trending" for s in songs])
    # A creator picks songs of their own topic six times as often as others.
    affinity = {t.name: np.where(song_topics == t.name, 6.0, 1.0) for t in TOPICS}
    by_topic_handles: dict[str, list[str]] = {}
    for c in creators:
        by_topic_handles.setdefault(c["topic"], []).append(c["handle"])
    start = datetime.combine(AS_OF - timedelta(days=DAYS - 1), datetime.min.time())
    zipf = {t.name: _zipf(len(t.tags)) for t in TOPICS}
    rows: list[list] = []
    pid = 0
    for c in creators:
        base_er = float(np.clip(0.08 * (c["followers"] / 1000) ** -0.2, 0.004, 0.09))
        post_days = np.sort(rng.integers(0, DAYS, size=c["n_posts"]))
        for day in post_days:
            t = (
                topics[c["secondary"]]
                if c["secondary"] and rng.random() < 0.15
                else topics[c["topic"]]
            )
            # What the picture shows decides which of the topic's tags fit it: the
            # creator's own pet, or (a secondary-topic post) cats and dogs in turn.
            subject = _post_subject(t, c, pid)
            core = list(
                rng.choice(t.tags, size=int(rng.integers(3, 7)), replace=False, p=zipf[t.name])
            )
            tags = core + [f for f in c["favourites"] if rng.random() < 0.8]
            if rng.random() < 0.6:
                tags += list(rng.choice(SPAM_TAGS, size=int(rng.integers(1, 4)), replace=False))
            if rng.random() < 0.05:
                other = TOPICS[int(rng.integers(len(TOPICS)))]
                tags.append(other.tags[int(rng.integers(len(other.tags)))])
            tags = list(dict.fromkeys(tags))
            # A cat picture's #dog becomes #cat, a cat owner's favourite #dog too (after
            # the draws, which stay as they were).
            home = topics[c["topic"]]
            fitted = [t.fit_tag(home.fit_tag(str(x), c["subject"]), subject) for x in tags]
            n_good = sum(1 for g in dict.fromkeys(fitted) if g in t.good)
            # Reels: a song chosen by topic affinity and its popularity that day.
            song_id = ""
            boost = 0.0
            if rng.random() < 0.35:
                w = weights[:, day] * affinity[c["topic"]]
                s = int(rng.choice(len(songs), p=w / w.sum()))
                song_id = songs[s]["song_id"]
                fit = songs[s]["topic"] == c["topic"]
                boost = 0.35 if fit else -0.25
                if trending[s] and day >= DAYS - TREND_DAYS:
                    boost += 0.5
            er = base_er * math.exp(c["quality"] + 0.18 * n_good + boost + rng.normal(0, 0.25))
            likes = int(c["followers"] * er * rng.uniform(0.9, 1.0))
            comments = int(likes * rng.uniform(0.01, 0.05))
            inline = list(dict.fromkeys(x for x in fitted if rng.random() < 0.3))
            column = list(dict.fromkeys(x for x in fitted if x not in inline))
            caption = _caption(c, t, inline, by_topic_handles, rng)
            when = start + timedelta(days=int(day), seconds=int(rng.integers(6 * 3600, 23 * 3600)))
            pool = images["by_topic"][t.name]
            rows.append(
                [
                    c["handle"],
                    f"dp{pid:07d}",
                    when.isoformat(),
                    caption,
                    " ".join("#" + x for x in column),
                    likes,
                    comments,
                    _picture(images, t, subject, int(rng.integers(len(pool)))) if pool else "",
                    song_id,
                ]
            )
            pid += 1
    return rows


def _picture(images: dict, t: Topic, subject: str | None, drawn: int) -> str:
    """The topic's picture number `drawn`, or if it shows another subject, one of the
    subject's pictures (the pool takes turns between subjects, so `drawn // n` is one)."""
    pool = images["by_topic"][t.name]
    own = images["by_subject"].get(t.name, {}).get(subject)
    if not own or images["subject_of"].get(pool[drawn]) == subject:
        return pool[drawn]
    return own[(drawn // len(t.subjects)) % len(own)]


def _post_subject(t: Topic, creator: dict, pid: int) -> str | None:
    """What a post's picture shows: None for a topic without subjects."""
    if not t.subjects:
        return None
    if t.name == creator["topic"]:
        return creator["subject"]
    return t.subjects[pid % len(t.subjects)].name


def _zipf(n: int) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** 0.8
    return w / w.sum()


def _caption(c: dict, t: Topic, inline: list[str], handles: dict, rng: np.random.Generator) -> str:
    generic = GENERIC_WORDS[c["language"]]
    words = list(rng.choice(generic, size=int(rng.integers(3, 6)))) + list(
        rng.choice(t.words, size=int(rng.integers(3, 6)))
    )
    rng.shuffle(words)
    text = " ".join(words).capitalize()
    if rng.random() < 0.15:
        peers = handles[c["topic"]]
        text += f" with @{peers[int(rng.integers(len(peers)))]}"
    if rng.random() < 0.05:
        text += f" https://example.com/{c['handle'].replace('.', '-')}"
    if rng.random() < 0.5:
        text += " " + EMOJIS[int(rng.integers(len(EMOJIS)))]
    if inline:
        text += " " + " ".join("#" + x for x in inline)
    return text


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
