"""The influencer map: a PNG that decodes, at the asked size, with the centre drawn and
labelled and the neighbours' labels not piled on each other; and the whole path from a
trained demo store through the facade and `python -m engine map`."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from engine.core.errors import BadQuery, UnknownHandle
from engine.topics.map import MapStyle, draw_map, nearest_rows


def clustered(n_per: int = 25, k: int = 4, d: int = 16, seed: int = 1):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, d))
    labels = np.repeat(np.arange(k), n_per)
    x = centres[labels] + 0.3 * rng.normal(size=(len(labels), d))
    handles = [f"creator{i}" for i in range(len(labels))]
    return handles, x.astype(np.float32), labels


def test_nearest_rows_matches_brute_force() -> None:
    _, x, _ = clustered()
    rows, sims = nearest_rows(x, 7, 10)
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    brute = np.argsort(-(xn @ xn[7]))[:11]
    assert rows[0] == 7 and sims[0] == pytest.approx(1.0)
    assert set(rows[1:].tolist()) == set(brute[brute != 7][:10].tolist())
    assert np.all(np.diff(sims[1:]) <= 1e-6)


@pytest.mark.slow
def test_png_decodes_at_size_with_centre_drawn_and_labelled() -> None:
    handles, x, labels = clustered()
    rows, sims = nearest_rows(x, 0, 60)
    names = {0: "food", 1: "travel", 2: "cars", 3: "pets"}
    style = MapStyle(width_px=900, height_px=700, labelled=15)
    drawing = draw_map(
        [handles[i] for i in rows], x[rows], labels[rows], names, sims=sims, style=style
    )
    img = Image.open(io.BytesIO(drawing.png))
    assert img.format == "PNG" and img.size == (900, 700)
    assert drawing.labelled[0] == "creator0"
    assert len(drawing.labelled) >= 8  # most of the nearest 15 found a free spot
    # The centre star is filled with its topic's colour: not the white background.
    r, g, b = img.convert("RGB").getpixel(drawing.centre_px)
    assert (r, g, b) != (255, 255, 255)
    assert len(drawing.png) < 500_000
    # No label overlaps another one or the centre's star.
    boxes = [drawing.star_box, *drawing.label_boxes]
    for i, a in enumerate(boxes):
        for b2 in boxes[i + 1 :]:
            assert a[2] <= b2[0] or b2[2] <= a[0] or a[3] <= b2[1] or b2[3] <= a[1]


@pytest.mark.slow
def test_a_topic_keeps_its_colour_from_one_map_to_the_next() -> None:
    handles, x, labels = clustered()
    names = {0: "food", 1: "travel", 2: "cars", 3: "pets"}
    a = draw_map(handles[:40], x[:40], labels[:40], names)
    rows = np.arange(15, 60)  # another neighbourhood, other topic proportions
    b = draw_map([handles[i] for i in rows], x[rows], labels[rows], names)
    shared = set(a.colours) & set(b.colours)
    assert shared and all(a.colours[t] == b.colours[t] for t in shared)
    assert len(set(a.colours.values())) == len(a.colours)  # distinct topics, distinct colours


@pytest.mark.slow
def test_map_groups_topics_together() -> None:
    """t-SNE keeps planted clusters apart: each point's nearest 2-D neighbour shares its
    cluster almost always."""
    handles, x, labels = clustered()
    drawing = draw_map(handles, x, labels, {0: "a", 1: "b", 2: "c", 3: "d"})
    d2 = ((drawing.xy[:, None, :] - drawing.xy[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d2, np.inf)
    assert np.mean(labels[d2.argmin(axis=1)] == labels) > 0.95


def test_tiny_neighbourhoods_and_bad_input() -> None:
    handles, x, labels = clustered()
    for n in (1, 2, 4):
        png = draw_map(handles[:n], x[:n], labels[:n], {0: "a"}).png
        assert Image.open(io.BytesIO(png)).size == (1400, 1000)
    with pytest.raises(BadQuery):
        draw_map([], x[:0], [], {})
    with pytest.raises(BadQuery):
        draw_map(handles[:3], x[:2], labels[:3], {})


@pytest.mark.slow
def test_facade_and_cli_on_trained_demo(trained_demo_db, tmp_path) -> None:
    from engine.bootstrap import bootstrap
    from engine.cli import main

    url = f"sqlite:///{trained_demo_db}"
    rec = bootstrap(url)
    topics = rec.topics(k=5)
    assert 1 <= len(topics.results) <= 5
    assert all(r.why.startswith("top tags: #") for r in topics.results)
    handle = rec.model("topics").handles[0]
    png = rec.influencer_map("@" + handle.upper(), n=40)
    assert Image.open(io.BytesIO(png)).size == (1400, 1000)
    with pytest.raises(UnknownHandle):
        rec.influencer_map("@nobody_at_all_here")
    out = tmp_path / "map.png"
    assert main(["map", handle, "--out", str(out), "-n", "30", "--db", url]) == 0
    assert Image.open(out).format == "PNG"
    assert main(["map", "nobody_at_all_here", "--out", str(out), "--db", url]) == 2
