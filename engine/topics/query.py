"""Topic queries: the check every weighted tag query passes before a model is asked,
and the list of fixed topics as an Answer (largest first)."""

from __future__ import annotations

from typing import Any

from engine.core.errors import BadQuery
from engine.core.recommendation import Answer, Recommendation


def positive_topic(query: Any) -> Any:
    """A topic needs something to be about: weights that are all negative would rank
    every creator by how little they post about those tags, which reads as noise.
    `query` is a parsed topic (engine.tags.query.TopicQuery: `.terms` of (tag, weight))."""
    if query.terms and all(w <= 0 for _, w in query.terms):
        shown = " ".join(f"#{t}" for t, _ in query.terms)
        raise BadQuery(
            f"A topic needs at least one hashtag with a positive weight: `{query}` only says "
            f"what to avoid. Add what you want, e.g. `#dinner {query}`, or ask for "
            f"`/hashtags {shown}` to see what sits near it."
        )
    return query


def topics_answer(model: Any, k: int) -> Answer:
    """The topic model's topics, largest first; the score is a topic's share of the
    creators in percent, so a marketer sees how big each theme is."""
    total = sum(t.creators for t in model.topics) or 1
    results = [
        Recommendation(
            id=str(t.id),
            label=t.name,
            score=round(100.0 * t.creators / total, 1),
            why=f"top tags: {' '.join('#' + x for x in t.top_tags[:5])}; "
            f"{t.creators} creators ({100.0 * t.creators / total:.0f}%), {t.n_tags} tags",
            extra={"cohesion": t.cohesion, "top_tags": list(t.top_tags)},
        )
        for t in sorted(model.topics, key=lambda t: (-t.creators, t.id))[:k]
    ]
    notes = [] if results else ["No topics yet: the tags are too few or too mixed to cluster."]
    return Answer(results, notes, {"method": model.method, "topics": len(model.topics)})
