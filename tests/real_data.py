"""Real-data import files for the regression tests: instagram-600 as it is published in
Scout's format, plus slices of HARRISON's hashtags and of Last.fm's usage rewritten as
posts and reels of the same creators, so every model kind has real data to learn from.
The files are written under a test's tmp folder; ../shared is only read."""

from __future__ import annotations

import csv
from pathlib import Path


def instagram_handles(shared: Path) -> list[str]:
    with (shared / "data/instagram-600/influencers.csv").open(encoding="utf-8") as fh:
        return [row["handle"] for row in csv.DictReader(fh)]


def write_harrison_posts(shared: Path, out: Path, handles: list[str], n: int = 3000) -> Path:
    """`n` HARRISON posts (hashtags only, no caption, no image), dealt round-robin to
    `handles` as extra posts."""
    tags = (shared / "data/harrison/tag_list.txt").read_text(encoding="utf-8").splitlines()[:n]
    path = out / "harrison_posts.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["handle", "post_id", "posted_at", "hashtags", "likes"])
        for i, line in enumerate(tags):
            day = 1 + i % 28
            w.writerow([handles[i % len(handles)], f"harrison_{i}", f"2026-02-{day:02d}", line, ""])
    return path


def write_lastfm_reels(
    shared: Path, out: Path, handles: list[str], users: int = 120, per_user: int = 12
) -> tuple[Path, Path]:
    """Last.fm users become creators (the first `users` of `handles`), artists become
    songs, and each user's `per_user` most played artists become reels using that song
    (likes = play count). Returns (songs.csv, reels.csv)."""
    rows: dict[str, list[tuple[str, int]]] = {}
    with (shared / "data/lastfm-2k/user_artists.dat").open(encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter="\t")
        next(reader)
        for user, artist, weight in reader:
            rows.setdefault(user, []).append((artist, int(weight)))
    chosen = list(rows)[:users]
    names: dict[str, str] = {}
    with (shared / "data/lastfm-2k/artists.dat").open(encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)
        for cells in reader:
            names[cells[0]] = cells[1]
    used: set[str] = set()
    reels = out / "lastfm_reels.csv"
    with reels.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["handle", "post_id", "posted_at", "song_id", "likes"])
        for j, user in enumerate(chosen):
            top = sorted(rows[user], key=lambda r: -r[1])[:per_user]
            for i, (artist, weight) in enumerate(top):
                used.add(artist)
                w.writerow(
                    [
                        handles[j % len(handles)],
                        f"lfm_{user}_{artist}",
                        f"2026-03-{1 + (i * 2) % 28:02d}T12:00:00",
                        f"lfm_{artist}",
                        weight,
                    ]
                )
    songs = out / "lastfm_songs.csv"
    with songs.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["song_id", "title", "artist"])
        for artist in sorted(used, key=int):
            name = names.get(artist, f"artist {artist}")
            w.writerow([f"lfm_{artist}", name, name])
    return songs, reels
