"""Small real model kinds and a tiny imported store for the import, pipeline, registry
and reload tests."""

from pathlib import Path

from engine.bootstrap import bootstrap
from engine.core.artifact_io import pack, unpack
from engine.core.contract import TrainResult
from models.migrate import upgrade
from models.store import Store


class CountKind:
    """A tiny real model: per-handle post counts; its quality is configurable."""

    depends_on = ()

    def __init__(self, kind: str, quality: float = 0.5, fail: bool = False) -> None:
        self.kind, self.quality, self.fail = kind, quality, fail

    def train(self, data, ctx):
        if self.fail:
            raise RuntimeError("boom")
        counts = data.posts.groupby("handle").size()
        payload = pack({"handles": counts.index.to_numpy(dtype=str), "n": counts.to_numpy()})
        return TrainResult(payload, {"quality": self.quality}, {"p": 1}, "quality", model=counts)

    def load(self, payload):
        arrays, _ = unpack(payload)
        return dict(zip(arrays["handles"].tolist(), arrays["n"].tolist(), strict=True))


# A tiny store imported through the real importer (three influencers, three posts, two
# songs with the quirks real exports have: a BOM, "@" and capitals in handles, accents
# and "#" in hashtags, local times), for the import, pipeline, daily and reload tests.
SONGS = "song_id,title,artist,release,year\ns1,Sunny,The Band,Sunny EP,2024\ns2,Rain,Other,,\n"
INFLUENCERS = (
    "handle,name,followers,following,posts_count,bio,language,country\n"
    "@Chef.Ana,Ana,12000,300,40,Cooking,es,ES\n"
    "runner_bo,Bo,540000,10,900,,en,US\n"
)
POSTS = (
    "handle,post_id,posted_at,caption,hashtags,likes,comments,image,song_id\n"
    "chef.ana,p1,2026-10-01,Paella night #Comida #Cocína,food|Recipes,500,20,img/a.jpg,s1\n"
    "chef.ana,p2,2026-10-02T18:30:00+02:00,No tags here,#foodie,300,5,https://cdn.example.com/b.jpg,\n"
    "new_person,p3,2026-10-03,Morning run,run,10,0,,\n"
)


def write(tmp: Path, name: str, text: str, bom: bool = False) -> Path:
    path = tmp / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def load_all(url: str, tmp: Path) -> Store:
    """Migrate `url` and import the tiny store into it; the files are written under `tmp`."""
    upgrade(url)
    bootstrap(url).import_file(write(tmp, "songs.csv", SONGS), "songs")
    bootstrap(url).import_file(write(tmp, "influencers.csv", INFLUENCERS, bom=True), "influencers")
    bootstrap(url).import_file(write(tmp, "posts.csv", POSTS), "posts")
    return Store(url)
