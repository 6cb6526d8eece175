"""Block Kit for every answer, and a plain-text rendering of the same blocks for the
console, so that what a terminal user sees is what Slack shows."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from engine.service import Answer, Recommendation, data_age_line

MAX_TEXT = 2900  # Slack rejects section text over 3000 characters


@dataclass
class Reply:
    """What a command answers: fallback `text` (notifications, screen readers) and blocks."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    ephemeral: bool = False
    file: tuple[str, bytes] | None = None  # (filename, content) uploaded beside the answer


def esc(text: Any) -> str:
    """Data as Slack shows it, never as markup: `&`, `<` and `>` escaped, so a song
    title like `<!channel>` or `<https://evil.example|Verify>` can neither mention a
    channel nor disguise a link. Every piece of data-derived text goes through here,
    in blocks and in fallback text alike."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(text: Any) -> str:
    """Data as inline code: escaped, and its backticks swapped for a look-alike so a
    file name like ``a`*b*`` cannot close the code span and format the rest."""
    return "`" + esc(text).replace("`", "\u02cb") + "`"


def _md(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text[:MAX_TEXT]}


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:150], "emoji": True}}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _md(text)}


def context(*texts: str) -> dict[str, Any]:
    return {"type": "context", "elements": [_md(t) for t in texts if t][:10]}


def divider() -> dict[str, Any]:
    return {"type": "divider"}


def button(text: str, action_id: str, value: Any, style: str | None = None) -> dict[str, Any]:
    b = {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action_id,
        "value": value
        if isinstance(value, str)
        else json.dumps(value, separators=(",", ":"))[:2000],
    }
    if style:
        b["style"] = style
    return b


def actions(*elements: dict[str, Any], block_id: str | None = None) -> dict[str, Any]:
    block = {"type": "actions", "elements": list(elements)}
    if block_id:
        block["block_id"] = block_id
    return block


def message(text: str, *extra_notes: str) -> Reply:
    return Reply(text, [section(text), *([context(*extra_notes)] if extra_notes else [])])


SHARE = "share_answer"


def with_share_button(reply: Reply, command: str, text: str) -> Reply:
    """An ephemeral answer to a slash command with a 'Share in channel' button: a
    marketer explores in private, then posts the answer they like (bot.app re-asks the
    same command and posts it once per answer)."""
    share = button("Share in channel", SHARE, {"c": command, "t": text[:1500]}, style="primary")
    return Reply(reply.text, [*reply.blocks, actions(share, block_id="share")], True, reply.file)


def error_reply(text: str) -> Reply:
    return Reply(text, [section(f":warning: {text}")], ephemeral=True)


# ------------------------------------------------------------------ formatting
def fmt_count(n: Any) -> str:
    if n is None:
        return "?"
    n = float(n)
    for unit, size in (("m", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.1f}".rstrip("0").rstrip(".") + unit
    return f"{n:.0f}"


def fmt_er(er: Any, hidden: Any = False) -> str:
    """The engine's robust ER as a person reads it; a creator whose recent posts all hide
    their likes has no ER, and is told apart from one whose followers are unknown."""
    if hidden:
        return "ER unknown — likes hidden"
    return "ER ?" if er is None else f"ER {float(er):.1f}%"


def _meta_line(answer: Answer) -> str:
    bits = []
    if "model_version" in answer.meta and answer.meta["model_version"] is not None:
        trained = answer.meta.get("trained_at")
        bits.append(
            f"model v{answer.meta['model_version']}" + (f", trained {trained}" if trained else "")
        )
    for key in ("method", "as_of"):
        if answer.meta.get(key):
            bits.append(f"{key.replace('_', ' ')} {esc(answer.meta[key])}")
    age = data_age_line(answer.meta)
    if age:
        bits.append(age)
    return " · ".join(bits)


def notes_block(answer: Answer) -> list[dict[str, Any]]:
    texts = [*(f":information_source: {esc(n)}" for n in answer.notes)]
    meta = _meta_line(answer)
    if meta:
        texts.append(meta)
    return [context(*texts)] if texts else []


# --------------------------------------------------------------------- answers
PROFILE_URLS = {
    "instagram": "https://www.instagram.com/{}/",
    "tiktok": "https://www.tiktok.com/@{}",
    "youtube": "https://www.youtube.com/@{}",
}


def profile_link(handle: str, platform: str | None = None) -> str:
    """`@handle` as a link to the creator's profile on their platform (Instagram when
    the answer does not say), so a marketer opens it in one click. The handle is
    percent-quoted in the URL and escaped in the label: neither can break the link."""
    h = str(handle).lstrip("@")
    url = PROFILE_URLS.get((platform or "instagram").lower(), PROFILE_URLS["instagram"])
    return f"<{url.format(quote(h, safe='._-'))}|@{esc(h)}>"


def influencer_line(rank: int, r: Recommendation) -> str:
    facts = [
        fmt_count(r.extra.get("followers")) + " followers",
        fmt_er(r.extra.get("er"), r.extra.get("er_hidden")),
    ]
    if r.extra.get("quality_badge"):  # the trust card's quality (`/vet @handle` says why)
        facts.append(esc(r.extra["quality_badge"]))
    if r.extra.get("language"):
        facts.append(esc(r.extra["language"]))
    link = profile_link(r.id, r.extra.get("platform"))
    why = f"\n_{esc(r.why)}_" if r.why else ""  # a reason that names nothing is left out
    return f"*{rank}. {link}*  {' · '.join(facts)} · match {r.score:.0f}{why}"


LIST_ADD = "list_add"


def list_button(r: Recommendation, asked: str) -> dict[str, Any]:
    """'Add to list' (issue 26, bot/shortlists.py): the creator, the answer's reason and
    the command it answered, and the facts shown, which the shortlist keeps."""
    facts = {
        k: round(float(r.extra[k]), 2)
        for k in ("followers", "er", "quality")
        if hasattr(r.extra.get(k), "__float__")  # numbers, numpy ones too; never None
    }
    value = {"h": r.id, "p": r.extra.get("platform"), "w": (r.why or "")[:300], "c": asked[:200]}
    return button("➕ Add to list", LIST_ADD, {**value, "f": facts})


def influencers(
    title: str, answer: Answer, kind: str, query: str, *, more_like: bool = True
) -> Reply:
    """Ranked creators, each with 'More like #N' and 👍/👎 buttons."""
    blocks: list[dict[str, Any]] = [header(title)]
    if not answer.results and not answer.notes:  # a note says why better (no languages...)
        blocks.append(section("No creators matched. Loosen the filters or try another query."))
    for rank, r in enumerate(answer.results, 1):
        blocks.append(section(influencer_line(rank, r)))
        vote = {"k": kind, "q": query[:300], "i": r.id}
        elements = [button(f"More like #{rank}", "more_like", r.id)] if more_like else []
        elements += [
            button("👍", "vote_up", vote),
            button("👎", "vote_down", vote),
            list_button(r, f"{kind} {query}"),
        ]
        blocks.append(actions(*elements, block_id=f"res_{rank}"))
    if answer.results:
        blocks.append(
            actions(button("⬇ CSV", "export_csv", {"k": kind, "q": query[:300]}), block_id="export")
        )
    blocks += notes_block(answer)
    text = f"{esc(title)}: " + ", ".join("@" + esc(r.id.lstrip("@")) for r in answer.results[:10])
    return Reply(text, blocks)


def tags_line(answer: Answer, show: int | None = None) -> str:
    return " ".join("#" + esc(r.id.lstrip("#")) for r in answer.results[:show])


def hashtags(title: str, answer: Answer, *, show: int = 15) -> list[dict[str, Any]]:
    """Listed tags, each with its 0-100 match, and a copy-all line with exactly those
    tags."""
    blocks: list[dict[str, Any]] = [header(title)]
    if not answer.results:
        if not answer.notes:
            blocks.append(section("No related hashtags found."))
        return blocks + notes_block(answer)
    lines = [
        f"`#{esc(r.id.lstrip('#'))}` match {r.score:.0f} — {esc(r.why)}"
        for r in answer.results[:show]
    ]
    blocks.append(section("\n".join(lines)))
    blocks.append(section("Copy all:\n```" + tags_line(answer, show) + "```"))
    return blocks + notes_block(answer)


def songs(title: str, answer: Answer) -> Reply:
    blocks: list[dict[str, Any]] = [header(title)]
    if not answer.results:
        blocks.append(section("No songs to suggest."))
    lines = [
        f"*{i}. {esc(r.label)}*  match {r.score:.0f}\n_{esc(r.why)}_"
        for i, r in enumerate(answer.results, 1)
    ]
    if lines:
        blocks.append(section("\n".join(lines)))
    blocks += notes_block(answer)
    return Reply(f"{esc(title)}: " + "; ".join(esc(r.label) for r in answer.results[:10]), blocks)


PHOTO_MODES = {"similar": "most similar", "likes": "optimised for likes"}


def photo(answer: Answer, mode: str, file_id: str) -> Reply:
    other = "likes" if mode == "similar" else "similar"
    blocks = hashtags(f"Hashtags for your photo ({PHOTO_MODES[mode]})", answer)
    blocks.append(
        actions(
            button(f"Switch to {PHOTO_MODES[other]}", "photo_mode", {"f": file_id, "m": other}),
            block_id="photo_mode",
        )
    )
    text = tags_line(answer, 15) or (esc(answer.notes[0]) if answer.notes else "no hashtags")
    return Reply(f"Hashtags for your photo: {text}", blocks)


def vet_card(item: dict[str, Any], label: str) -> Reply:
    """The trust card (`/vet @handle`, engine.vet's `to_details()`): the score, then every
    part with its value, reason, weight and confidence; posts whose likes the comments did
    not follow are called anomalies (a sign to look, not a verdict)."""
    handle = esc(item["handle"])
    blocks: list[dict[str, Any]] = [
        header(f"Can I trust @{item['handle']}?"),
        section(
            f"*Quality {item['quality']:.0f}/100* · confidence {item['confidence']:.0%}"
            " _(confidence drops with few posts or no follower sample)_"
        ),
    ]
    lines = []
    for p in item["parts"]:
        value = "unknown" if p["value"] is None else f"{p['value']:.0f}/100"
        lines.append(
            f"*{esc(p['name'].replace('_', ' '))}* {value} — weight {p['weight']:.0%}, "
            f"{p['contribution']:.1f} points, confidence {p['confidence']:.0%}\n_{esc(p['reason'])}_"
        )
    blocks.append(section("\n".join(lines)))
    spikes = [
        f"• {'anomaly' if s['inflated'] else 'legitimate'}: `{esc(s['post_id'])}` — {esc(s['reason'])}"
        for s in item["spikes"]
    ]
    if spikes:
        blocks.append(section("*Like spikes*\n" + "\n".join(spikes[:15])))
    flags = [
        f"• *{esc(cat)}*: {esc(', '.join(f['words']))} in {len(f['posts'])} post(s)"
        for cat, f in item["brand_safety"].items()
    ]
    if flags:
        blocks.append(section("*Brand safety*\n" + "\n".join(flags)))
    blocks.append(
        context("Anomalies are signs to check, not proof of fraud. `/vet` reads the stored posts.")
    )
    return Reply(f"@{handle}: {esc(label)}", blocks)


# ----------------------------------------------------------------- console
_EMOJI = {
    ":warning:": "⚠",
    ":white_check_mark:": "✔",
    ":information_source:": "ℹ",
    ":thinking_face:": "🤔",
    ":eyes:": "👀",
    ":mag:": "🔍",
}
# any other emoji code a terminal cannot show is dropped: a whole word `:name:` only
_OTHER_EMOJI = re.compile(r"(?<!\S):[a-z][a-z0-9_+-]*:(?!\S) ?")


def _strip_mrkdwn(text: str) -> str:
    text = re.sub(r"<https?://[^|>\s]+\|([^>]+)>", r"\1", text)  # a link shows its label
    text = text.replace("```", "")
    for code, char in _EMOJI.items():
        text = text.replace(code, char)
    text = _OTHER_EMOJI.sub("", text)
    text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?!\w)", r"\1", text)
    text = re.sub(r"(?<![\w_])_([^_\n]+)_(?!\w)", r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def to_text(blocks: list[dict[str, Any]]) -> str:
    """The blocks as a terminal shows them: headers underlined, buttons in brackets."""
    out: list[str] = []
    for b in blocks:
        kind = b.get("type")
        if kind == "header":
            title = b["text"]["text"]
            out += [title, "=" * len(title)]
        elif kind == "section":
            if b.get("text"):
                out.append(_strip_mrkdwn(b["text"]["text"]))
            for f in b.get("fields", []):
                out.append("  " + _strip_mrkdwn(f["text"]))
        elif kind == "context":
            out.append(
                "  (" + " | ".join(_strip_mrkdwn(e.get("text", "")) for e in b["elements"]) + ")"
            )
        elif kind == "actions":
            out.append("    " + " ".join(f"[{e['text']['text']}]" for e in b["elements"]))
        elif kind == "divider":
            out.append("-" * 40)
    return "\n".join(out)


def ranked(title: str, answer: Answer) -> Reply:
    """A plain ranked list (topics): label in bold, its reason underneath."""
    body = [header(title)]
    for rank, r in enumerate(answer.results, 1):
        body.append(section(f"*{rank}. {esc(r.label)}*\n{esc(r.why)}"))
    body += notes_block(answer)
    return Reply(esc(title), body)
