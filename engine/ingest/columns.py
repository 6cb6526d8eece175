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
from urllib.parse import urlsplit

from engine.core.errors import ScoutError
from engine.ingest.readers import HeaderError

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

# Names that plainly say what they hold, beyond the aliases (a scraper's or a person's
# own prefix): a column whose name ends in one of these feeds the field, when the
# field's own name, --map and the aliases gave it none. Two such columns for one
# field are refused by name, never picked between.
ENDINGS: dict[str, dict[str, tuple[str, ...]]] = {
    "influencers": {
        "handle": ("username", "handle"),
        "name": ("fullname", "displayname"),
        "followers": ("followers", "followerscount", "followercount"),
        "following": ("following", "followingcount", "followscount"),
        "posts_count": ("postscount", "postcount", "mediacount"),
        "bio": ("biography", "bio"),
    },
    "posts": {
        "handle": ("username", "handle"),
        "likes": ("likes", "likescount", "likecount"),
        "comments": ("comments", "commentscount", "commentcount"),
        "views": ("views", "viewcount", "viewscount", "playcount"),
        "caption": ("caption", "captiontext"),
    },
}
# A flattened nested key (`latestComments/0/ownerUsername`) is not the row's own field.
_NESTED = re.compile(r"[/.\[\]0-9]")
# Links: a profile link gives the handle, a post link the post's id (a shortcode).
_PROFILE_LINK = re.compile(r"^(instagram|tiktok|youtube|account|profile|user)*(url|link)$")
_POST_LINK = re.compile(
    r"^(instagram|tiktok|youtube)?(post|media|reel|video)?(url|link)$|^permalink$"
)
LINKS: dict[str, tuple[str, re.Pattern[str], str]] = {
    "influencers": ("handle", _PROFILE_LINK, "profile"),
    "posts": ("post_id", _POST_LINK, "post"),
}


def norm(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


def _folder(value: Any) -> Any:
    if value is None or not str(value).strip():
        return None
    parts = PurePosixPath(str(value).strip().replace("\\", "/")).parts
    return parts[-2] if len(parts) >= 2 else None


TRANSFORMS["folder"] = _folder


def _link_parts(value: Any) -> tuple[str, list[str], str] | None:
    """(host, path segments, query) of a web link; None for anything else."""
    s = "" if value is None else str(value).strip()
    if not s.lower().startswith(("http://", "https://", "www.")):
        return None
    link = urlsplit(s if "://" in s else f"https://{s}")
    host = (link.hostname or "").removeprefix("www.").removeprefix("m.")
    return host, [p for p in link.path.split("/") if p], link.query


def _profile(value: Any) -> Any:
    """`https://www.instagram.com/<handle>/` (or tiktok.com/@handle, youtube.com/@handle)
    -> the handle. Any other link is passed on whole, so the handle check names it
    (an explore page such as /popular/street-photographer/ is no creator)."""
    parts = _link_parts(value)
    if parts is None:
        return value
    _host, segments, _query = parts
    if len(segments) == 1:
        return segments[0].lstrip("@") or value
    return value


def _post(value: Any) -> Any:
    """A post's link -> its id: instagram.com/p/<code>/ (reel/, tv/), tiktok's
    /@handle/video/<id>, youtube's /shorts/<id> or watch?v=<id>; else the cell as is."""
    parts = _link_parts(value)
    if parts is None:
        return value
    _host, segments, query = parts
    for i, part in enumerate(segments[:-1]):
        if part.lower() in ("p", "reel", "reels", "tv", "video", "shorts"):
            return segments[i + 1]
    found = dict(q.partition("=")[::2] for q in query.split("&") if q)
    return found.get("v") or value


TRANSFORMS["profile"] = _profile
TRANSFORMS["post"] = _post


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
    """Assign each field at most one source column (own name > --map > alias > a name
    that plainly says it); the columns that feed no field are `ignored`. Two plain-name
    columns for a field no better column feeds are refused (HeaderError), by name."""
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
    for name, col, transform in _plain(kind, header, set(fields) - taken, set(cmap.targets)):
        cmap.targets.setdefault(col, []).append((name, TRANSFORMS.get(transform)))
    cmap.ignored = [c for c in header if c not in cmap.targets]
    return cmap


def _plain(
    kind: str, header: list[str], free: set[str], used: set[str]
) -> list[tuple[str, str, str]]:
    """(field, column, transform) for the fields still `free`, from the columns no field
    reads yet whose names end in what the field holds (`AccountUsername` -> handle) or
    are a profile or post link (`InstagramLink` -> handle, `url` -> post_id)."""
    candidates: dict[str, list[tuple[str, str]]] = {}
    link_field, link_name, link_transform = LINKS.get(kind, ("", None, ""))
    for col in header:
        n = norm(col)
        if col in used or not n or _NESTED.search(col):
            continue
        for name, endings in ENDINGS.get(kind, {}).items():
            if name in free and n.endswith(endings):
                candidates.setdefault(name, []).append((col, ""))
        if link_name is not None and link_field in free and link_name.match(n):
            candidates.setdefault(link_field, []).append((col, link_transform))
    out = []
    for name, found in candidates.items():
        plain = [c for c in found if not c[1]] or found  # a name beats a link
        if len(plain) > 1:
            shown = " and ".join(repr(c) for c, _ in plain)
            raise HeaderError(
                f"columns {shown} could each be {name}; say which with --map SOURCE={name}"
            )
        out.append((name, *plain[0]))
    return out
