"""The influencer map (AnyTag's t-SNE picture of influencer vectors): one creator's
neighbourhood drawn in 2-D, coloured by topic, so a marketer sees at a glance which
themes surround a creator and who the closest creators are.

Pure: vectors, handles and topic labels in, PNG bytes out (matplotlib's Agg backend, no
display needed). The caller picks the neighbours (the lookalike model's nearest, or the
tag model's blogger vectors)."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from engine.core.errors import BadQuery

OTHER = "other"


@dataclass(frozen=True)
class MapStyle:
    width_px: int = 1400
    height_px: int = 1000
    dpi: int = 100
    labelled: int = 20  # nearest neighbours labelled with their handle
    legend_topics: int = 20  # largest topics named in the legend (tab20); the rest are "other"


def nearest_rows(vectors: np.ndarray, centre: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The centre row followed by its `n` nearest rows by cosine (exact search: a map is
    a few hundred points, and exact keeps it reproducible)."""
    v = np.asarray(vectors, dtype=np.float32)
    v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    sims = v @ v[centre]
    sims[centre] = np.inf
    order = np.argsort(-sims, kind="stable")[: n + 1]
    sims[centre] = 1.0
    return order, sims[order]


def embed_2d(vectors: np.ndarray, seed: int = 42) -> np.ndarray:
    """t-SNE on cosine distance with a perplexity suited to the number of points (it
    must stay below n/3); PCA for tiny neighbourhoods where t-SNE is meaningless."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    x = np.asarray(vectors, dtype=np.float32)
    n = len(x)
    if n < 8:
        if n < 3:
            return np.column_stack([np.arange(n, dtype=float), np.zeros(n)])
        return PCA(n_components=2, random_state=seed).fit_transform(x)
    perplexity = float(max(2.0, min(30.0, (n - 1) / 3.5)))
    return TSNE(
        n_components=2,
        perplexity=perplexity,
        metric="cosine",
        init="pca",
        random_state=seed,
        max_iter=750,
    ).fit_transform(x)


def topic_colour(topic_id: int) -> tuple:
    """A topic's colour, fixed by its id, so the same topic looks the same on every map
    (60 distinct colours: tab20, tab20b and tab20c)."""
    from matplotlib import colormaps

    palette = [colormaps[name](i) for name in ("tab20", "tab20b", "tab20c") for i in range(20)]
    return palette[topic_id % len(palette)]


def _palette(topic_counts: Counter, names: Mapping[int, str], limit: int) -> dict[int, tuple]:
    shown = [t for t, _ in topic_counts.most_common() if t >= 0 and t in names][:limit]
    return {t: topic_colour(t) for t in shown}


def _legend_dot(colour: tuple, label: str):
    from matplotlib.lines import Line2D

    return Line2D(
        [0],
        [0],
        marker="o",
        linestyle="",
        markersize=8,
        markerfacecolor=colour,
        markeredgewidth=0,
        label=label,
    )


STAR_SIZE = 520  # the centre's marker area, points^2


def _overlaps(box, placed) -> bool:
    return any(box.overlaps(p) for p in placed)


def _star_box(ax, point: np.ndarray, dpi: float):
    """The centre star's extent in display pixels (a square around its marker)."""
    from matplotlib.transforms import Bbox

    x, y = ax.transData.transform(point)
    r = (STAR_SIZE**0.5) / 2 * dpi / 72 + 2
    return Bbox.from_extents(x - r, y - r, x + r, y + r)


@dataclass(frozen=True)
class MapDrawing:
    """The PNG plus where things landed, so tests and callers can check the picture:
    `labelled` handles in drawing order (the centre first), their label boxes and the
    centre's pixel (x right, y down from the top-left, as image libraries count)."""

    png: bytes
    xy: np.ndarray
    labelled: list[str]
    label_boxes: list[tuple[float, float, float, float]]
    centre_px: tuple[int, int]
    star_box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    colours: dict[int, tuple] = field(default_factory=dict)


GREY = (0.72, 0.72, 0.72, 1.0)  # points of topics too small for the legend
LABEL_OFFSETS = [(8, 8), (8, -14), (-8, 8), (-8, -14), (12, 0), (-12, 0), (0, 14), (0, -18)]
# the centre's own label sits clear of its star (radius ~11 pt)
CENTRE_OFFSETS = [(16, 10), (16, -20), (-16, 10), (-16, -20), (0, 20), (0, -26)]


def draw_map(
    handles: Sequence[str],
    vectors: np.ndarray,
    topics: Sequence[int],
    topic_names: Mapping[int, str],
    *,
    sims: Sequence[float] | None = None,
    title: str | None = None,
    style: MapStyle | None = None,
    seed: int = 42,
) -> MapDrawing:
    """Draw the neighbourhood. Row 0 is the centre; the other rows are its neighbours,
    nearest first (`sims` = their cosine to the centre, shown in the labels)."""
    st = style or MapStyle()
    n = len(handles)
    if n == 0 or len(vectors) != n or len(topics) != n:
        raise BadQuery("A map needs at least the centre creator, with one vector and topic each.")
    xy = embed_2d(vectors, seed)
    labels = np.asarray(topics, dtype=np.int64)
    counts = Counter(labels.tolist())
    colours = _palette(counts, topic_names, st.legend_topics)

    fig, ax = _new_figure(st)
    _draw_points(ax, xy, [colours.get(int(t), GREY) for t in labels])
    star = _star_box(ax, xy[0], st.dpi)
    placed, labelled = _place_labels(fig, ax, xy, handles, sims, st.labelled, star)
    _draw_legend(fig, colours, counts, topic_names)
    centre_topic = topic_names.get(int(labels[0]), OTHER)
    fig.suptitle(
        title or f"@{handles[0]} and its {n - 1} nearest creators — @{handles[0]}: {centre_topic}",
        x=0.02,
        y=0.975,
        ha="left",
        fontsize=13,
    )
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=st.dpi)
    cx, cy = ax.transData.transform(xy[0])
    return MapDrawing(
        png=buf.getvalue(),
        xy=xy,
        labelled=labelled,
        label_boxes=[(b.x0, b.y0, b.x1, b.y1) for b in placed[1:]],
        star_box=(star.x0, star.y0, star.x1, star.y1),
        colours={int(t): c for t, c in colours.items()},
        centre_px=(int(round(cx)), int(round(st.height_px - cy))),
    )


def _new_figure(st: MapStyle):
    """A figure on its own Agg canvas, without touching pyplot's global backend (so maps
    can be drawn from several threads), with a bare plot area left of the legend."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(st.width_px / st.dpi, st.height_px / st.dpi), dpi=st.dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.02, 0.03, 0.70, 0.90))
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_color("#dddddd")
    return fig, ax


def _draw_points(ax, xy: np.ndarray, point_colours: list[tuple]) -> None:
    """The neighbours as dots and the centre as a star above everything (labels
    included): the centre is the point of the map."""
    ax.scatter(xy[1:, 0], xy[1:, 1], s=28, c=point_colours[1:], alpha=0.85, linewidths=0)
    ax.scatter(
        [xy[0, 0]],
        [xy[0, 1]],
        s=STAR_SIZE,
        marker="*",
        c=[point_colours[0]],
        edgecolors="black",
        linewidths=1.5,
        zorder=7,
    )


def _place_labels(fig, ax, xy, handles, sims, limit: int, star) -> tuple[list, list[str]]:
    """Label the centre first, then the nearest `limit` neighbours, each at the first of
    a few offsets where it covers neither the star nor a label already drawn (a
    neighbour with no free offset stays unlabelled; the centre always gets its label).
    Returns the boxes placed (the star first) and the handles labelled."""
    renderer = fig.canvas.get_renderer()
    placed = [star]
    labelled: list[str] = []
    for row in range(min(len(handles), limit + 1)):
        centre = row == 0
        text = f"@{handles[row]}"
        if not centre and sims is not None:
            text += f" ({float(sims[row]):.2f})"
        offsets = CENTRE_OFFSETS if centre else LABEL_OFFSETS
        for dx, dy in offsets:
            ann = _annotate(ax, text, xy[row], (dx, dy), centre)
            box = ann.get_window_extent(renderer)
            if not _overlaps(box, placed) or (centre and (dx, dy) == offsets[-1]):
                placed.append(box)
                labelled.append(str(handles[row]))
                break
            ann.remove()
    return placed, labelled


def _annotate(ax, text: str, point, offset: tuple[int, int], centre: bool):
    dx, _ = offset
    return ax.annotate(
        text,
        point,
        xytext=offset,
        textcoords="offset points",
        ha="left" if dx >= 0 else "right",
        fontsize=11 if centre else 7.5,
        fontweight="bold" if centre else "normal",
        zorder=6,
        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.7},
    )


def _draw_legend(fig, colours: dict, counts: Counter, topic_names: Mapping[int, str]) -> None:
    """The named topics with how many creators on the map have them; the rest pooled as
    "other"."""
    dots = [_legend_dot(c, f"{topic_names[t]}  ({counts[t]})") for t, c in colours.items()]
    rest = sum(c for t, c in counts.items() if t not in colours)
    if rest:
        dots.append(_legend_dot(GREY, f"{OTHER}  ({rest})"))
    fig.legend(
        handles=dots,
        loc="upper left",
        bbox_to_anchor=(0.73, 0.93),
        frameon=False,
        fontsize=9,
        title="topics (creators on the map)",
        title_fontsize=10,
        alignment="left",
    )
