"""Photo tags that read right (issue 24): a cat photo gets cat tags, a golden retriever
dog tags, a mountain no one's #bookworm, and the "Copy all" line holds only tags the
nearest pictures agree on (used by 2+ of the k nearest, match 30+), or says there are
none instead of padding. Asked as a person asks: photos uploaded in the console and
`engine hashtags --photo` on the trained small demo, with real photos from ../shared;
the rule itself on a hand-built corpus; the demo's pictures carry tags that fit them."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest

from bot import blocks as bk
from engine.cli import main
from engine.demo.topics import TOPICS
from engine.photos.model import MIN_TAG_MATCH, MIN_TAG_PICTURES, PhotoCorpus, fit
from tests.bot_harness import console_session

PETS = next(t for t in TOPICS if t.name == "pets")
CAT_TAGS = set(next(s.tags for s in PETS.subjects if s.name == "cat"))
DOG_TAGS = set(next(s.tags for s in PETS.subjects if s.name == "dog"))
SAMPLE = "photos/imagenet-sample"
LISTED = re.compile(r"^`#(\S+)` match (\d+) — (.*)$")


def _answers(out: str) -> dict[str, dict]:
    """Console output -> per uploaded file name: listed (tag, match, why), copy-all tags
    (None when there is no Copy all line) and the text."""
    found = {}
    for chunk in out.split("scout> ")[1:]:
        first, _, body = chunk.partition("\n")
        if not first.startswith("upload "):
            continue
        lines = body.splitlines()
        listed = [m.groups() for m in map(LISTED.match, lines) if m]
        copy = None
        if "Copy all:" in lines:
            copy = lines[lines.index("Copy all:") + 1].split()
        found[Path(first.split(maxsplit=1)[1]).name] = {
            "listed": [(tag, int(score), why) for tag, score, why in listed],
            "copy": copy,
            "text": body,
        }
    return found


@pytest.fixture(scope="module")
def uploads(copy_db, shared_dir) -> dict[str, dict]:
    """Five real photos uploaded in one console session on the trained small demo."""
    photos = [
        shared_dir / "photos/cat.bmp",
        shared_dir / SAMPLE / "n02123394_Persian_cat.JPEG",  # a cat breed the demo never shows
        shared_dir / SAMPLE / "n02099601_golden_retriever.JPEG",
        shared_dir / SAMPLE / "n09193705_alp.JPEG",
        shared_dir / "photos/grace_hopper.bmp",  # no post picture is like her
    ]
    out = console_session(copy_db, [f"upload {p}" for p in photos], timeout=240)
    answers = _answers(out)
    assert set(answers) == {p.name for p in photos}, out
    return answers


@pytest.fixture(scope="module")
def copy_db(trained_demo_db, tmp_path_factory) -> str:
    import shutil

    target = tmp_path_factory.mktemp("photo-tags") / "copy.db"
    shutil.copy(trained_demo_db, target)
    return f"sqlite:///{target}"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cat.bmp", "n02123394_Persian_cat.JPEG"])
def test_a_cat_photo_gets_cat_tags_and_no_dog_tags(uploads, name):
    got = uploads[name]
    tags = [tag for tag, _, _ in got["listed"]]
    assert tags and tags[0] in CAT_TAGS | {"pets"}, got["text"]
    assert "cat" in tags[:3], got["text"]
    assert not DOG_TAGS & set(tags), got["text"]  # was: #dog at 73 above #cat


@pytest.mark.slow
def test_a_golden_retriever_gets_dog_tags_and_no_cat_tags(uploads):
    got = uploads["n02099601_golden_retriever.JPEG"]
    tags = [tag for tag, _, _ in got["listed"]]
    assert tags and tags[0] in DOG_TAGS | {"pets"} and "dog" in tags[:3], got["text"]
    assert len(DOG_TAGS & set(tags)) >= 2, got["text"]
    assert not CAT_TAGS & set(tags), got["text"]  # was: #kitten 72, #cat 29


@pytest.mark.slow
def test_copy_all_holds_only_tags_the_nearest_pictures_agree_on(uploads):
    for name in ("cat.bmp", "n02099601_golden_retriever.JPEG", "n09193705_alp.JPEG"):
        got = uploads[name]
        assert got["copy"] == ["#" + tag for tag, _, _ in got["listed"]], got["text"]
        for tag, score, why in got["listed"]:
            assert score >= MIN_TAG_MATCH, (name, tag, score)
            pictures = int(re.match(r"on (\d+) of the 10 nearest pictures", why).group(1))
            assert pictures >= MIN_TAG_PICTURES, (name, tag, why)
    alp = uploads["n09193705_alp.JPEG"]
    nature = set(next(t.tags for t in TOPICS if t.name == "nature"))
    assert set(alp["copy"]) <= {"#" + t for t in nature}, alp["text"]
    assert not {"#makeup", "#bookworm", "#catsofinstagram"} & set(alp["copy"])
    assert " sure: the other " in alp["text"]  # the short list says why it is short


@pytest.mark.slow
def test_a_photo_nothing_resembles_still_abstains(uploads):
    got = uploads["grace_hopper.bmp"]
    assert got["listed"] == [] and got["copy"] is None, got["text"]
    assert "Nothing in the data looks like this photo" in got["text"]


@pytest.mark.slow
def test_cli_json_results_carry_the_agreement(copy_db, shared_dir, capsys):
    photo = shared_dir / SAMPLE / "n09193705_alp.JPEG"
    code = main(["hashtags", "--photo", str(photo), "--db", copy_db, "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    answer = json.loads(out.out)
    assert set(answer) == {"results", "details"}
    assert 3 <= len(answer["results"]) < 30
    assert all(r["score"] >= MIN_TAG_MATCH for r in answer["results"])
    assert answer["details"]["meta"]["tags_left_out"] > 0


# ----------------------------------------------------------- the rule, by hand
def _corpus(post_tags: list[list[str]]) -> PhotoCorpus:
    """Five pictures in a row along one axis, the query at the first: one post each."""
    feats = np.array([[1.0, 0.1 * i, 0.0] for i in range(5)] + [[0, 0, 1]], np.float32)
    tags = [*post_tags, ["far", "away"]]
    return PhotoCorpus(feats, list(range(6)), tags, [100] * 6, "test:1")


def test_a_stray_tag_of_the_closest_picture_is_left_out():
    """The closest picture alone carries #dog (most of the weight, 1 of 5 pictures): one
    picture is no agreement, so #dog is not suggested while the #beach all five share is,
    and the #sea of the next two."""
    model = fit(
        _corpus([["beach", "dog"], ["beach", "sea"], ["beach", "sea"], ["beach"], ["beach"]])
    )
    answer = model.photo_hashtags(np.array([1, 0, 0], np.float32), k_similar=5)
    tags = [r.id for r in answer.results]
    assert tags[0] == "beach" and "dog" not in tags and "sea" in tags
    assert " sure: the other " in answer.notes[0] and answer.meta["tags_left_out"] == 1


def test_no_agreement_says_so_and_copy_all_is_not_padded():
    model = fit(_corpus([["a1", "a2"], ["b1"], ["c1"], ["d1"], ["e1"]]))
    answer = model.photo_hashtags(np.array([1, 0, 0], np.float32), k_similar=5)
    assert answer.results == [] and answer.meta["no_agreement"]
    assert "do not agree on any hashtag" in answer.notes[0]
    reply = bk.photo(answer, "similar", "F1")
    shown = json.dumps(reply.blocks)
    assert "Copy all" not in shown and "do not agree" in shown
    assert reply.text.startswith("Hashtags for your photo: The pictures most like")


# ------------------------------------------------------------ the demo's pictures
@pytest.mark.slow
def test_demo_cat_pictures_carry_cat_tags_and_dog_pictures_dog_tags(demo_small_dir):
    truth = json.loads((demo_small_dir / "truth.json").read_text(encoding="utf-8"))
    subject_of = truth["image_subject"]
    assert {"cat", "dog"} <= set(subject_of.values())
    seen = {"cat": 0, "dog": 0}
    with (demo_small_dir / "posts.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            subject = subject_of.get(row["image"])
            if subject is None:
                continue
            tags = set(re.findall(r"#(\w+)", row["hashtags"] + " " + row["caption"]))
            other = DOG_TAGS if subject == "cat" else CAT_TAGS
            assert not tags & other, (row["post_id"], subject, tags)
            seen[subject] += 1
    assert min(seen.values()) >= 20, seen
