"""A small synthetic creators/reels/songs Dataset with known structure, for the song
tests: three topic groups, each with its own songs that perform better for it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.core.dataset import Dataset

TOPICS = ("fitness", "food", "travel")


def song_dataset(
    n_creators: int = 60, songs_per_topic: int = 15, reels_each: int = 8, seed: int = 0
) -> Dataset:
    rng = np.random.default_rng(seed)
    influencers, posts = [], []
    songs = [
        {
            "song_id": f"s{t}_{j}",
            "title": f"Song {t}{j}",
            "artist": f"Artist {t}",
            "release": "",
            "year": 2024,
        }
        for t in range(len(TOPICS))
        for j in range(songs_per_topic)
    ]
    start = pd.Timestamp("2026-01-01")
    for c in range(n_creators):
        topic = c % len(TOPICS)
        handle = f"creator{c}"
        followers = int(rng.integers(5_000, 200_000))
        influencers.append(
            {
                "handle": handle,
                "platform": "instagram",
                "name": handle,
                "followers": followers,
                "following": 100,
                "posts_count": 40,
                "bio": "",
                "language": "en",
                "country": "US",
            }
        )
        base_er = rng.uniform(1.0, 4.0)
        # Each creator favours a few songs of their topic (popular ones more often).
        weights = 1.0 / np.arange(1, songs_per_topic + 1)
        own = rng.choice(
            songs_per_topic,
            size=min(reels_each, songs_per_topic),
            replace=False,
            p=weights / weights.sum(),
        )
        for n in range(20 + reels_each):
            is_reel = n >= 20
            if is_reel:
                j = own[n - 20]
                fits = rng.random() < 0.9
                t = topic if fits else (topic + 1) % len(TOPICS)
                song_id = f"s{t}_{j}"
                er = base_er + (2.0 if fits else -1.0) + rng.normal(0, 0.3)
            else:
                song_id, er = None, base_er + rng.normal(0, 0.3)
            total = max(er, 0.1) / 100 * followers
            posts.append(
                {
                    "post_id": f"{handle}_{n}",
                    "platform": "instagram",
                    "handle": handle,
                    "posted_at": start + pd.Timedelta(days=int(rng.integers(0, 60))),
                    "caption": "",
                    "likes": int(total * 0.9),
                    "comments": int(total * 0.1),
                    "image": None,
                    "song_id": song_id,
                    "hashtags": [TOPICS[topic], "reels"],
                }
            )
    return Dataset(pd.DataFrame(influencers), pd.DataFrame(posts), pd.DataFrame(songs))
