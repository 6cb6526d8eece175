"""How the answers read (issue 24a): lookalike and topic scores, reasons and short lists
on the 599 real accounts of ../shared/data/instagram-600, and hashtag answers on the
demo, through the Recommender (the path Slack and the CLI take).

Reported on the real accounts, for every creator's top-10 lookalikes:
- the median displayed match (0-100) of the top-1 and of the 10th result, and the
  spread between them (a score that says nothing is flat);
- the same for each creator's own other half (its posts split alternately: the one
  creator known to be alike, so its match is what a good pick should read like), and
  for a random other creator (what a non-match should read like);
- the share of reasons that name nothing ("similar overall vocabulary"), of results
  whose reason is left out (nothing shared to name), and of reasons naming shared
  hashtags/words or a similar audience;
- how many answers come back short of 10, and with `followers:500k+` (a quarter of them).
On the demo: `/lookalike @ana.reception followers:1m+` (how many results, how many at
match <= 1) and `/hashtags #wedding 5` (whether 5 is read as k; the creators behind
each suggested tag and the share the biggest one holds).

    .venv/bin/python -m benchmarks.bench_answers [--demo small|default] [--label before]

benchmarks/results/answers.json is the default demo run on the shipped code;
answers_before.json the same benchmark run (`--demo default --label before`) on a
copy of commit e131ac7, before issue 24a changed the answers.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from benchmarks.report import print_table, write_results
from engine.bootstrap import scratch
from engine.core.filters import parse_filters
from engine.core.settings import Settings
from engine.demo.generate import demo_dir, generate, is_complete
from engine.service import Recommender

VAGUE = "similar overall vocabulary"


def real_store(tmp: Path, shared: Path) -> tuple[Recommender, dict[str, int]]:
    """instagram-600 as published, plus each creator with 6+ posts split again into two
    halves `h__a`/`h__b` (a second copy, so the halves can find each other)."""
    ig = shared / "data/instagram-600"
    with (ig / "posts.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    seen: dict[str, int] = {}
    for r in rows:
        seen[r["handle"]] = seen.get(r["handle"], 0) + 1
    rec = scratch(f"sqlite:///{tmp}/real.db")
    rec.import_file(ig / "influencers.csv", "influencers")
    rec.import_file(ig / "posts.csv", "posts")
    report = rec.train(kinds=["lookalike"], log=lambda m: None)
    assert report.ok, report.table()
    return rec, seen


def twin_store(tmp: Path, shared: Path) -> tuple[Recommender, list[str]]:
    """The real posts split alternately into halves h__a / h__b (creators with 6+
    posts), trained alone: a half's twin is the one match known to be real."""
    ig = shared / "data/instagram-600"
    with (ig / "posts.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    seen: dict[str, int] = {}
    for r in rows:
        i = seen.get(r["handle"], 0)
        seen[r["handle"]] = i + 1
        r["handle"] = f"{r['handle']}__{'ab'[i % 2]}"
    path = tmp / "halves.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    rec = scratch(f"sqlite:///{tmp}/halves.db")
    rec.import_file(path, "posts")
    report = rec.train(kinds=["lookalike"], log=lambda m: None)
    assert report.ok, report.table()
    return rec, [f"{h}__a" for h, n in seen.items() if n >= 6]


def lookalike_rows(rec: Recommender, handles: list[str], filters: str | None = None) -> dict:
    """Displayed scores, reasons and lengths of every handle's top-10 answer."""
    parsed = parse_filters(dict([filters.split(":", 1)])) if filters else None
    top1, top10, whys, lengths = [], [], [], []
    t0 = time.perf_counter()
    for h in handles:
        res = rec.lookalike(h, k=10, filters=parsed).results
        lengths.append(len(res))
        whys += [r.why for r in res]
        if res:
            top1.append(res[0].score)
        if len(res) >= 10:
            top10.append(res[9].score)
    n = max(len(whys), 1)
    return {
        "queries": len(handles),
        "filters": filters or "",
        "median top-1 match": float(np.median(top1)) if top1 else None,
        "median 10th match": float(np.median(top10)) if top10 else None,
        "median spread top-1 - 10th": (
            float(np.median(np.array(top1[: len(top10)]) - np.array(top10))) if top10 else None
        ),
        "vague reasons %": 100.0 * sum(w == VAGUE for w in whys) / n,
        "reasons left out %": 100.0 * sum(not w for w in whys) / n,
        "reasons naming shared words %": 100.0 * sum(w.startswith("shares") for w in whys) / n,
        "reasons naming audience %": 100.0 * sum("similar audience" in w for w in whys) / n,
        "answers short of 10": int(sum(x < 10 for x in lengths)),
        "empty answers": int(sum(x == 0 for x in lengths)),
        "mean results": float(np.mean(lengths)) if lengths else 0.0,
        "ms/query": 1000 * (time.perf_counter() - t0) / max(len(handles), 1),
    }


def twin_rows(rec: Recommender, queries: list[str]) -> dict:
    """The match a creator's own other half reads (when it is in the top MAX_K), next
    to the match at rank 10 and at rank MAX_K of the same answers (out of about 1,200
    halves, rank MAX_K is far from alike: what a non-match should read like)."""
    from engine.core.filters import MAX_K

    twin, found, tenth, last = [], 0, [], []
    for h in queries:
        res = rec.lookalike(h, k=MAX_K).results
        ids = [r.id for r in res]
        mate = h[:-1] + "b"
        if mate in ids:
            twin.append(res[ids.index(mate)].score)
            found += ids.index(mate) < 10
        if len(res) >= 10:
            tenth.append(res[9].score)
        if len(res) == MAX_K:
            last.append(res[-1].score)
    return {
        "queries": len(queries),
        "twin in top 10 %": 100.0 * found / max(len(queries), 1),
        "median twin match": float(np.median(twin)) if twin else None,
        "p10 twin match": float(np.percentile(twin, 10)) if twin else None,
        "median 10th match": float(np.median(tenth)) if tenth else None,
        f"median match at rank {MAX_K}": float(np.median(last)) if last else None,
    }


def demo_rows(size: str) -> dict:
    """`/lookalike @ana.reception followers:1m+` and `/hashtags #wedding 5` on the demo."""
    settings = Settings.from_env()
    folder = demo_dir(settings.data_dir, size, 42)
    if not is_complete(folder):
        generate(folder, size=size, seed=42)
    out: dict = {"demo": size}
    with tempfile.TemporaryDirectory() as tmp:
        rec = scratch(f"sqlite:///{tmp}/demo.db", folder)
        report = rec.train(kinds=["tags", "lookalike"], log=lambda m: None)
        assert report.ok, report.table()
        handle = "ana.reception"
        try:
            ans = rec.lookalike(handle, k=10, filters=parse_filters({"followers": "1m+"}))
            out["lookalike"] = {
                "query": f"@{handle} followers:1m+",
                "results": len(ans.results),
                "at match <= 1": sum(r.score <= 1 for r in ans.results),
                "under match 5": sum(r.score < 5 for r in ans.results),
                "scores": [r.score for r in ans.results],
                "notes": list(ans.notes),
            }
        except Exception as err:  # noqa: BLE001 - a demo without the handle says so
            out["lookalike"] = {"error": str(err)}
        out["hashtags"] = hashtag_rows(rec)
        rec.close()
    return out


def hashtag_rows(rec: Recommender) -> dict:
    """`#wedding 5` as Slack passes it (the text after the command), and `#wedding`
    at k=20: per tag, the creators using it and the biggest creator's share of its
    uses."""
    from engine.bootstrap import assemble

    try:  # as `engine hashtags "#wedding 5"` and Slack read it (a trailing count is k)
        from engine.tags.query import split_count

        query, count = split_count("#wedding 5")
        five = rec.related_tags(query, k=20 if count is None else count)
    except ImportError:  # before issue 24a the text went to the model as it was typed
        five = rec.related_tags("#wedding 5")
    as_typed = {
        "results": len(five.results),
        "tags": [r.label for r in five.results],
        "notes": list(five.notes),
    }
    ans = rec.related_tags("#wedding", k=20)
    admin = assemble(rec.settings.database_url).admin
    posts = admin.dataset().posts
    admin.close()
    uses: dict[str, dict[str, int]] = {}
    for h, tags in zip(posts["handle"], posts["hashtags"], strict=True):
        for t in tags if tags is not None else []:
            per = uses.setdefault(str(t), {})
            per[h] = per.get(h, 0) + 1
    tags = []
    for r in ans.results:
        per = uses.get(r.id, {})
        total = sum(per.values()) or 1
        tags.append(
            {
                "tag": r.label,
                "match": r.score,
                "creators": len(per),
                "biggest creator share %": 100.0 * max(per.values(), default=0) / total,
            }
        )
    concentrated = [t for t in tags if t["biggest creator share %"] >= 50]
    wedding = len(uses.get("wedding", {}))
    few = [t for t in tags if t["creators"] < 0.1 * wedding]
    return {
        "#wedding 5": as_typed,
        "#wedding top 20": tags,
        "shown": len(tags),
        "notes": list(ans.notes),
        "concentrated tags": len(concentrated),
        "#wedding creators": wedding,
        "tags used by < 10% of #wedding's creators": [t["tag"] for t in few],
        "topic #wedding": topic_row(rec),
    }


def topic_row(rec: Recommender) -> dict:
    """`/topic #wedding`: the displayed match of its top-1 and 10th creator."""
    res = rec.topic("#wedding", k=10).results
    return {
        "top-1 match": res[0].score if res else None,
        "10th match": res[9].score if len(res) >= 10 else None,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--demo", default="small", choices=["small", "default", "none"])
    ap.add_argument("--label", default="", help="a name for this run in the JSON")
    ap.add_argument("--shared", type=Path, default=Settings.from_env().shared_dir)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore", RuntimeWarning)  # the trust badges' NaN peers
    payload: dict = {"label": args.label}
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        rec, seen = real_store(tmp, args.shared)
        handles = sorted(seen)
        rows = [lookalike_rows(rec, handles), lookalike_rows(rec, handles, "followers:500k+")]
        rec.close()
        print_table("lookalike on instagram-600 (599 accounts, top 10)", rows)
        halves, queries = twin_store(tmp, args.shared)
        twins = twin_rows(halves, queries)
        halves.close()
        print_table("a creator's own other half vs a random creator", [twins])
    payload["real"] = {"lookalike": rows, "twins": twins}
    if args.demo != "none":
        demo = demo_rows(args.demo)
        print_table("demo: /lookalike @ana.reception followers:1m+", [demo["lookalike"]])
        print_table("demo: /hashtags #wedding (top 20)", demo["hashtags"]["#wedding top 20"])
        tags = demo["hashtags"]
        print(f"\n/hashtags #wedding 5 -> {tags['#wedding 5']}")
        print(f"/hashtags #wedding notes: {tags['notes']}")
        print(
            f"few-creator tags shown: {tags['tags used by < 10% of #wedding' + chr(39) + 's creators']}"
        )
        print(f"/topic #wedding: {tags['topic #wedding']}")
        payload["demo"] = demo
    write_results(f"answers{'_' + args.label if args.label else ''}", payload)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
