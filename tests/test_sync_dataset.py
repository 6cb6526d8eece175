"""`engine sync --url URL`: a scraper dataset on the scraping platform, read page by
page from a loopback fake of its items endpoint with SCOUT_DATASET_TOKEN, written as a
sync writes a creator (songs inline, snapshots), and a second read adds nothing."""

from __future__ import annotations

import json

import pytest

from engine.cli import main
from engine.ingest.sources import dataset_ref
from tests.test_source_scrapers import IG_ITEM, TT_ITEM, FakeDatasets
from tests.test_sync import parts, table_counts

TOKEN = "apify_api_fake"


def test_a_dataset_reference_is_an_id_or_the_platforms_url():
    base = "https://api.apify.com/v2"
    assert dataset_ref("ds1", base) == (base, "ds1")
    assert dataset_ref("http://127.0.0.1:9/v2/datasets/ds1/items?format=json", base) == (
        "http://127.0.0.1:9/v2",
        "ds1",
    )
    with pytest.raises(ValueError, match="names no dataset"):
        dataset_ref("https://api.apify.com/v2/actors/x", base)
    with pytest.raises(ValueError, match="neither a dataset id"):
        dataset_ref("a/b", base)


@pytest.mark.slow
def test_sync_url_reads_the_dataset_with_the_token(sqlite_url, monkeypatch, capsys):
    items = [{**TT_ITEM, "id": str(7506832745952218000 + i)} for i in range(1203)]
    items.append(IG_ITEM)
    monkeypatch.setenv("SCOUT_DISCOVERY_PER_DAY", "0")
    with FakeDatasets(items, token=TOKEN) as fake:
        url = f"{fake.url}/v2/datasets/ds1/items?format=json"
        monkeypatch.setenv("SCOUT_DATASET_TOKEN", TOKEN)
        assert main(["sync", "--db", sqlite_url, "--url", url, "--json"]) == 0
        (run,) = json.loads(capsys.readouterr().out)["results"]
        assert run["id"] == "scraper_dataset" and run["score"] == 2  # two creators
        assert "1204 new posts, 2 calls" in run["why"]  # pages of 1000
        assert [c.params["offset"] for c in fake.calls] == ["0", "1000"]
        counts = table_counts(parts(sqlite_url))
        assert counts["posts"] == 1204 and counts["influencers"] == 2
        assert counts["post_snapshots"] == 1204 and counts["creator_snapshots"] == 2

        monkeypatch.setenv("SCOUT_DATASET_URL", fake.url + "/v2")
        assert main(["sync", "--db", sqlite_url, "--dataset", "ds1", "--json"]) == 0
        (again,) = json.loads(capsys.readouterr().out)["results"]
        assert "0 new posts" in again["why"]
        assert table_counts(parts(sqlite_url)) == counts  # the same dataset again: nothing new

        monkeypatch.setenv("SCOUT_DATASET_TOKEN", "wrong")
        assert main(["sync", "--db", sqlite_url, "--url", url, "--json"]) == 0
        (bad,) = json.loads(capsys.readouterr().out)["results"]
        assert "stopped" in bad["why"] and "SCOUT_DATASET_TOKEN" in bad["why"]
        assert "wrong" not in bad["why"] and table_counts(parts(sqlite_url)) == counts


def test_sync_url_without_a_token_says_which_setting(sqlite_url, monkeypatch, capsys):
    monkeypatch.delenv("SCOUT_DATASET_TOKEN", raising=False)
    assert (
        main(["sync", "--db", sqlite_url, "--url", "http://127.0.0.1:9/v2/datasets/x/items"]) != 0
    )
    captured = capsys.readouterr()
    assert captured.out == "" and "SCOUT_DATASET_TOKEN" in captured.err
    assert "Traceback" not in captured.err
