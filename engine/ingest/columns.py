"""Which column of an export is which field. Names are compared without case, spaces or
punctuation (`Like Count`, `like_count` and `likeCount` are one name); the field's own
name wins, then the user's `--map SOURCE=FIELD`, then the names scrapers and exports
commonly use. `--map SOURCE=handle@folder` takes the handle from the name of the folder
holding a path (exports that keep the account only in `pictures/<account>/1.jpg`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from engine.core.errors import ScoutError

ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "influencers": {
        "handle": (
            "username",
            "user",
            "owner",
            "ownerusername",
            "account",
            "accountname",
            "authormetaname",  # the TikTok scraper's authorMeta.name, flattened
        ),
        "name": ("fullname", "displayname", "profilename", "authormetanickname"),
        "followers": (
            "followerscount",
            "followercount",
            "followedby",
            "numberfollowers",
            "fans",
            "authormetafans",
        ),
        "following": (
            "followingcount",
            "follows",
            "followscount",
            "numberfollowing",
            "authormetafollowing",
        ),
        "posts_count": ("postcount", "mediacount", "numberposts", "posts"),
        "bio": ("biography", "description", "signature", "authormetasignature"),
        "language": ("lang", "locale"),
        "country": ("location", "countrycode"),
    },
    "posts": {
        "handle": (
            "username",
            "user",
            "owner",
            "ownerusername",
            "account",
            "author",
            "authormetaname",
        ),
        "post_id": ("shortcode", "id", "code", "mediaid", "postcode"),
        "caption": ("text", "description", "captiontext", "body"),
        "hashtags": ("tags", "hashtag"),
        "likes": ("likecount", "likescount", "numberlikes", "numlikes", "diggcount"),
        "comments": ("commentcount", "commentscount", "numbercomments", "numcomments"),
        "posted_at": (
            "timestamp",
            "date",
            "takenat",
            "createdat",
            "datetime",
            "publishedat",
            "createtimeiso",
        ),
        "image": ("imageurl", "displayurl", "mediaurl", "thumbnailurl", "picture", "imagepath"),
        "song_id": ("song", "musicid", "audioid", "trackid", "musicmetamusicid"),
        # plays: the TikTok scraper's playCount, Instagram's videoPlayCount, YouTube's viewCount
        "views": ("playcount", "videoplaycount", "plays", "viewcount", "videoviewcount"),
        "platform": ("network",),
    },
    "followers": {  # a follower sample: `handle` is the creator followed
        "handle": ("creator", "influencer", "account"),
        "follower": ("followerusername", "followerhandle", "username"),
        "followers": ("followerscount", "followercount", "followedby"),
        "following": ("followingcount", "followscount", "follows"),
        "posts": ("postscount", "postcount", "mediacount"),
        "has_profile_pic": ("profilepic", "hasprofilepicture"),
        "is_private": ("private", "privateaccount"),
        "bio": ("biography",),
    },
    "songs": {
        "song_id": ("id", "trackid", "audioid", "musicid"),
        "title": ("name", "songname", "track", "trackname", "musicname"),
        "artist": ("artistname", "author", "musicauthor"),
        "release": ("album",),
        "year": ("releaseyear",),
    },
}
TRANSFORMS: dict[str, Callable[[Any], Any]] = {}


def norm(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


def _folder(value: Any) -> Any:
    if value is None or not str(value).strip():
        return None
    parts = PurePosixPath(str(value).strip().replace("\\", "/")).parts
    return parts[-2] if len(parts) >= 2 else None


TRANSFORMS["folder"] = _folder


@dataclass
class ColumnMap:
    """source column name (as in the file) -> [(field, transform or None)]."""

    targets: dict[str, list[tuple[str, Callable[[Any], Any] | None]]] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)

    def apply(self, values: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for src, value in values.items():
            for name, fn in self.targets.get(src, ()):
                out[name] = fn(value) if fn else value
        return out


def parse_map(specs: Iterable[str], fields: Iterable[str]) -> dict[str, list[str]]:
    """`--map SOURCE=FIELD` options -> normalised source name -> [field spec]."""
    known = set(fields)
    out: dict[str, list[str]] = {}
    for spec in specs:
        src, sep, target = spec.partition("=")
        name, _, transform = target.strip().partition("@")
        if not sep or name not in known or (transform and transform not in TRANSFORMS):
            raise ScoutError(
                f"--map {spec!r}: expected SOURCE=FIELD with FIELD one of {', '.join(sorted(known))}"
                f" (optionally FIELD@folder); SOURCE may be empty for an unnamed column"
            )
        out.setdefault(norm(src), []).append(target.strip())
    return out


def resolve(
    kind: str, header: list[str], fields: Iterable[str], user: dict[str, list[str]]
) -> ColumnMap:
    """Assign each field at most one source column (own name > --map > alias); the
    columns that feed no field are `ignored`."""
    fields = list(fields)
    aliases = {norm(a): f for f, names in ALIASES.get(kind, {}).items() for a in names}
    own = {norm(f): f for f in fields}
    taken: set[str] = set()
    cmap = ColumnMap()
    ranked: list[tuple[int, int, str, str]] = []
    for i, col in enumerate(header):
        n = norm(col)
        if n in own:
            ranked.append((0, i, col, own[n]))
        for target in user.get(n, ()):
            ranked.append((1, i, col, target))
        if n in aliases and n not in own:
            ranked.append((2, i, col, aliases[n]))
    for _, _, col, target in sorted(ranked, key=lambda r: (r[0], r[1])):
        name, _, transform = target.partition("@")
        if name in taken:
            continue
        taken.add(name)
        cmap.targets.setdefault(col, []).append((name, TRANSFORMS.get(transform)))
    cmap.ignored = [c for c in header if c not in cmap.targets]
    return cmap
