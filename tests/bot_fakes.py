"""A stand-in Recommender for the Slack-behaviour tests: canned, explained answers, a
handle that makes the engine slow on purpose (`@slowpoke`), and one that crashes
(`@boom`). Served bots load it with SCOUT_RECOMMENDER=tests.bot_fakes:make."""

from __future__ import annotations

import io
import time
from datetime import datetime

from engine.core.errors import BadImage, BadQuery, ModelNotTrained, UnknownHandle
from engine.core.recommendation import Answer, Recommendation
from engine.service import ModelInfo

SLOW_SECONDS = 4.0
HANDLES = ["ana", "bob", "cat", "dan", "eve", "fay"]


class FakeRecommender:
    """Fakes the queries; training and the rest go to the real facade (digests and
    feedback are the bot's workspace part, not the recommender's)."""

    def __init__(self, real=None) -> None:
        self.calls: list[tuple] = []
        self._real = real

    def __getattr__(self, name):
        if name.startswith("_") or self._real is None:
            raise AttributeError(name)
        return getattr(self._real, name)

    def _handle(self, handle: str) -> str:
        handle = handle.lstrip("@").lower()
        if handle == "slowpoke":
            time.sleep(SLOW_SECONDS)
            return handle
        if handle == "boom":
            raise RuntimeError("engine exploded with token xoxb-secret-should-not-leak")
        if handle not in HANDLES and handle != "slowpoke":
            raise UnknownHandle(handle, ["ana"])
        return handle

    def lookalike(self, handle, k=10, *, filters=None, method="auto", exclude=()):
        h = self._handle(handle)
        self.calls.append(("lookalike", h, k, filters))
        results = [
            Recommendation(
                o,
                o,
                0.9 - i / 10,
                f"shares #food #travel with @{h}",
                {"followers": 12000 * (i + 1), "er": 2.5 + i},
            )
            for i, o in enumerate([x for x in HANDLES if x != h][:k])
        ]
        return Answer(results, [], {"model_version": 3, "handle": h})

    def related_tags(self, query, k=20):
        if "#" not in query:
            raise BadQuery("Give hashtags like `#cats`.")
        return Answer(
            [
                Recommendation(t, "#" + t, 0.8, f"used with {query}")
                for t in ["kitten", "pets", "meow"]
            ][:k]
        )

    def topic(self, query, k=10, *, filters=None):
        raise ModelNotTrained("tags")

    def photo_hashtags(self, image, *, n=30, mode="similar", k_similar=None):
        from PIL import Image

        try:
            img = Image.open(io.BytesIO(image))
            img.load()
        except Exception:
            raise BadImage("That file is not an image I can read.") from None
        tags = ["cat", "cute", "pets"] if mode == "similar" else ["likeme", "cat", "viral"]
        why = f"{img.size[0]}x{img.size[1]} {img.format}"
        return Answer(
            [Recommendation(t, "#" + t, 1.0 - i / 10, f"{mode}: {why}") for i, t in enumerate(tags)]
        )

    def songs_for(self, handle, k=10, method="auto"):
        h = self._handle(handle)
        return Answer(
            [Recommendation("s1", "Song One — Artist", 0.7, f"used by 3 creators like @{h}")]
        )

    def trending(self, days=7, k=10, topic=None):
        return Answer(
            [Recommendation("s9", "Rising Song — Band", 2.5, f"+12 reels in {days} days")],
            [],
            {"as_of": "2026-11-22", "days": days},
        )

    def topics(self, k=50):
        return Answer(
            [Recommendation("0", "food · recipe", 120.0, "top tags: #food #recipe; 120 creators")]
        )

    def influencer_map(self, handle, n=300):
        from PIL import Image

        self._handle(handle)
        out = io.BytesIO()
        Image.new("RGB", (40, 30), (200, 100, 50)).save(out, "PNG")
        return out.getvalue()

    def model(self, kind):
        self.calls.append(("model", kind))

    def model_status(self):
        return [
            ModelInfo(
                "songs",
                2,
                datetime(2026, 11, 22, 4, 0),
                {"n_influencers": 300, "n_posts": 4000},
                {},
                "songs auto",
            )
        ]


def make(real=None) -> FakeRecommender:
    return FakeRecommender(real)
