"""Scraper datasets: the Instagram and TikTok scrapers' item formats as JSON, JSONL and
CSV exports (flattened keys, `304.9K` counts, `00:31` durations, spreadsheet float ids),
and a dataset read page by page from a loopback fake of the items endpoint."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from engine.ingest.sources import (
    DatasetSource,
    ExportError,
    ManualClock,
    SourceSettings,
    map_items,
    parse_export,
    read_files,
)
from engine.ingest.sources.values import to_count, to_id, to_seconds
from tests.fake_graph import Call, LoopbackJSON

IG_ITEM = {
    "id": "3301234567890123456",
    "type": "Video",
    "shortCode": "C9xYz12AbCd",
    "caption": "Pasta night with @chef.luigi #Pasta #homemade",
    "hashtags": ["pasta", "homemade"],
    "mentions": ["chef.luigi"],
    "url": "https://www.instagram.com/p/C9xYz12AbCd/",
    "commentsCount": 42,
    "likesCount": 1234,
    "timestamp": "2026-05-20T18:30:00.000Z",
    "displayUrl": "https://scontent.cdninstagram.com/v/t51/abc.jpg",
    "ownerFullName": "Ana Cooks",
    "ownerUsername": "Ana.Cooks",
    "productType": "clips",
    "videoPlayCount": 56789,
    "videoDuration": 31.2,
    "coauthorProducers": [{"username": "chef.luigi"}, {"username": "ana.cooks"}],
    "musicInfo": {"artist_name": "Dua Lipa", "song_name": "Houdini", "audio_id": "1234567890"},
}
TT_ITEM = {
    "id": "7506832745952218113",
    "text": "street food tour #foodtok #fyp @bestfriend",
    "createTimeISO": "2026-05-21T09:15:00.000Z",
    "authorMeta": {
        "name": "NomNomTom",
        "nickName": "Tom",
        "fans": 304900,
        "following": 120,
        "signature": "I eat",
    },
    "musicMeta": {
        "musicId": "7300000000000000001",
        "musicName": "original sound",
        "musicAuthor": "NomNomTom",
        "musicOriginal": True,
    },
    "webVideoUrl": "https://www.tiktok.com/@nomnomtom/video/7506832745952218113",
    "videoMeta": {"coverUrl": "https://p16-sign.tiktokcdn.com/cover.jpg", "duration": 31},
    "diggCount": 1400000,
    "shareCount": 2100,
    "playCount": 9800000,
    "commentCount": 3300,
    "hashtags": [{"name": "foodtok"}, {"name": "fyp"}],
}
WHEN = datetime(2026, 6, 1, tzinfo=UTC)


def test_values_as_spreadsheets_write_them():
    assert to_count("304.9K") == 304_900 and to_count("1.4M") == 1_400_000
    assert to_count("1,234") == 1234 and to_count("12.0") == 12 and to_count(7) == 7
    assert to_count("") is None and to_count("n/a") is None and to_count(-1) is None
    assert to_seconds("00:31") == 31 and to_seconds("1:02:03") == 3723 and to_seconds("x") is None
    # precision was already lost by the spreadsheet: the digits are kept as given
    assert to_id("7.506832745952218e+18") == "7506832745952218000"
    assert to_id(7.506832745952218e18) == "7506832745952218000"
    assert to_id("7506832745952218113") == "7506832745952218113" and to_id("42.0") == "42"


def test_instagram_json_export():
    batch = map_items(parse_export(json.dumps([IG_ITEM]).encode(), "ig.json"), WHEN)
    (post,) = batch.posts
    assert (
        post.platform == "instagram"
        and post.post_id == "C9xYz12AbCd"
        and post.handle == "ana.cooks"
    )
    assert post.likes == 1234 and post.comments == 42 and post.views == 56789
    assert post.hashtags == ("pasta", "homemade") and post.mentions == ("chef.luigi",)
    assert post.coauthors == ("chef.luigi",)  # the owner is not their own co-author
    assert post.media_type == "VIDEO" and post.product_type == "clips" and post.duration_s == 31.2
    assert (
        post.song.song_id == "1234567890"
        and post.song.title == "Houdini"
        and post.song.artist == "Dua Lipa"
    )
    assert post.posted_at == datetime(2026, 5, 20, 18, 30, tzinfo=UTC)
    assert batch.creators[("instagram", "ana.cooks")].name == "Ana Cooks"


def test_tiktok_jsonl_export_with_a_song_and_the_creator():
    lines = (
        json.dumps(TT_ITEM) + "\n\n" + json.dumps({**TT_ITEM, "id": "7506832745952218114"}) + "\n"
    )
    batch = map_items(parse_export(lines.encode(), "tt.jsonl"), WHEN)
    assert [p.post_id for p in batch.posts] == ["7506832745952218113", "7506832745952218114"]
    post = batch.posts[0]
    assert (
        post.likes == 1_400_000
        and post.views == 9_800_000
        and post.shares == 2100
        and post.comments == 3300
    )
    assert post.hashtags == ("foodtok", "fyp") and post.mentions == ("bestfriend",)
    assert post.image_url.endswith("cover.jpg") and post.duration_s == 31
    assert post.song.song_id == "7300000000000000001" and post.song.original is True
    creator = batch.creators[("tiktok", "nomnomtom")]
    assert creator.followers == 304_900 and creator.following == 120 and creator.bio == "I eat"


TIKTOK_CSV = (
    "authorMeta/name;authorMeta/fans;authorMeta.following;text;diggCount;playCount;commentCount;"
    "createTimeISO;hashtags/0/name;hashtags/1/name;id;musicMeta/musicId;musicMeta/musicName;"
    "musicMeta/musicAuthor;musicMeta/musicOriginal;videoMeta/duration;webVideoUrl\n"
    "nomnomtom;304.9K;1.2K;best ramen #ramen;1.4M;12M;3.3K;2026-05-21T09:15:00.000Z;ramen;"
    "foodtok;7.506832745952218e+18;7.3e+18;Ramen Song;DJ Noodle;false;00:31;https://t/1\n"
    ";10;1;no author here;1;1;1;2026-05-21T09:15:00.000Z;;;123;;;;;;\n"
)


def test_tiktok_csv_with_flattened_keys_k_m_counts_float_ids_and_durations():
    raw = b"\xef\xbb\xbf" + TIKTOK_CSV.encode()  # Excel's UTF-8 with BOM and ';'
    batch = map_items(parse_export(raw, "tt.csv"), WHEN)
    (post,) = batch.posts
    assert post.post_id == "7506832745952218000" and post.likes == 1_400_000
    assert post.views == 12_000_000 and post.comments == 3300 and post.duration_s == 31
    assert post.hashtags == ("ramen", "foodtok")
    assert post.song.song_id == "7300000000000000000" and post.song.original is False
    assert batch.creators[("tiktok", "nomnomtom")].followers == 304_900
    assert batch.creators[("tiktok", "nomnomtom")].following == 1200
    (problem,) = batch.problems  # the row without an author, by its line; the rest kept
    assert problem.message == "tt.csv:3: tiktok item without its author"


def test_instagram_csv_with_dotted_keys_and_a_json_cell(tmp_path):
    path = tmp_path / "ig.csv"
    path.write_text(
        "ownerUsername,shortCode,caption,likesCount,commentsCount,timestamp,hashtags,"
        "musicInfo.song_name,musicInfo.artist_name,musicInfo.audio_id,coauthorProducers/0/username\n"
        'ana.cooks,ABC,"hi, #Soup",2.5K,12,2026-05-20T18:30:00.000Z,"[""soup""]",Song,Artist,99,bob\n',
        encoding="cp1252",
    )
    batch = read_files([path], ManualClock(WHEN))
    (post,) = batch.posts
    assert post.likes == 2500 and post.hashtags == ("soup",) and post.coauthors == ("bob",)
    assert post.song.title == "Song" and post.song.song_id == "99" and post.caption == "hi, #Soup"


def test_not_an_export_is_one_line():
    with pytest.raises(ExportError, match=r"^x.json: not valid JSON$"):
        parse_export(b"[{oops", "x.json")
    with pytest.raises(ExportError, match=r"^x.jsonl:2: not a JSON object$"):
        parse_export(b'{"id": 1}\n{bad\n', "x.jsonl")
    batch = map_items(parse_export(b'[{"foo": 1}]', "odd.json"), WHEN)
    assert batch.posts == [] and "neither an Instagram nor a TikTok" in batch.problems[0].message


class FakeDatasets(LoopbackJSON):
    """The scraping platform's dataset items endpoint: offset/limit paging, a token."""

    def __init__(self, items: list[dict], token: str = "apify_api_fake") -> None:
        super().__init__()
        self.items, self.token, self.limit_next = items, token, 0

    def answer(self, path, params):
        self.calls.append(Call(path, params, WHEN))
        if params.get("token") != self.token:
            return 401, {}, {"error": {"type": "token-not-valid", "message": "Token is not valid"}}
        if self.limit_next:
            self.limit_next -= 1
            return 429, {}, {"error": {"type": "rate-limit-exceeded"}}
        if path != "/v2/datasets/ds1/items" or params.get("format") != "json":
            return 404, {}, {"error": {"type": "record-not-found"}}
        offset, limit = int(params["offset"]), int(params["limit"])
        return 200, {}, self.items[offset : offset + limit]


def dataset_source(fake: FakeDatasets, token: str = "apify_api_fake", **kw) -> DatasetSource:
    settings = SourceSettings.from_env(
        {"SCOUT_DATASET_URL": fake.url + "/v2", "SCOUT_DATASET_TOKEN": token}
    )
    return DatasetSource(settings, clock=ManualClock(WHEN), **kw)


def test_a_dataset_is_read_page_by_page():
    items = [{**TT_ITEM, "id": str(i)} for i in range(25)] + [{**IG_ITEM, "shortCode": "S1"}]
    with FakeDatasets(items) as fake:
        fake.limit_next = 1
        src = dataset_source(fake, page=10)
        batch = src.read("ds1")
    assert len(batch.posts) == 26 and batch.problems == []
    assert [c.params["offset"] for c in fake.calls] == ["0", "0", "10", "20"]
    assert src.clock.sleeps == [10.0]  # the 429, waited on the injected clock
    assert set(batch.creators) == {("tiktok", "nomnomtom"), ("instagram", "ana.cooks")}


def test_a_bad_token_or_a_missing_dataset_is_a_problem():
    with FakeDatasets([]) as fake:
        bad = dataset_source(fake, token="wrong").read("ds1")
        missing = dataset_source(fake).read("nope")
    assert bad.problems[0].kind == "token_invalid" and "wrong" not in bad.problems[0].message
    assert missing.problems[0].kind == "handle_unavailable" and missing.problems[0].handle == "nope"
    assert bad.posts == [] and missing.posts == []
