"""The Recommender facade: the only thing bot/ and the CLI call.

It loads the latest published artifact of each kind from the store (lazily, then
re-checks the registry every `reload_seconds`), swaps models atomically (a query keeps
the model object it started with; a serving process loads and warms a new version in a
background thread and keeps answering from the old one until it is ready, so nobody's
query waits for a reload), and turns store rows into the inputs the pure
algorithm modules need (fold-in of influencers imported after the last training).
Writes go through it too (import, training). Digest, outbox and feedback state is
engine.workspace_ops.WorkspaceOps and the admin commands are engine.admin.Admin: the
three are separate parts over one store, handed out by engine.bootstrap.assemble, and
none reaches the others. It is handed its store (engine.bootstrap builds the real one),
so a test can give it a fake.

The answer and error types the bot renders are re-exported here: bot/ imports this
module and engine.bootstrap, nothing else of the engine.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.core.errors import (
    BadImage,
    BadQuery,
    ModelNotTrained,
    ScoutError,
    UnknownHandle,
    close_matches,
)
from engine.core.filters import (
    FILTER_KEYS,
    MAX_K,
    Filters,
    check_k,
    parse_count,
    parse_filters,
    parse_language,
)
from engine.core.recommendation import Answer, Recommendation, as_match
from engine.core.settings import Settings
from engine.core.text import parse_handle

__all__ = [
    "FILTER_KEYS",
    "MAX_K",
    "Answer",
    "BadImage",
    "BadQuery",
    "CreatorCard",
    "Filters",
    "ModelInfo",
    "ModelNotTrained",
    "Recommendation",
    "Recommender",
    "ScoutError",
    "check_k",
    "parse_count",
    "parse_filters",
    "parse_handle",
    "parse_language",
]

log = logging.getLogger(__name__)
DATA_AGE_TTL_S = 60.0  # how long Recommender.data_age trusts its last read


@dataclass(frozen=True)
class ModelInfo:
    kind: str
    version: int
    created_at: datetime
    metrics: dict[str, Any]
    params: dict[str, Any]
    summary: str


@dataclass(frozen=True)
class TrainingFailure:
    """A kind whose newest training crashed: what it still serves (None: nothing yet)."""

    kind: str
    serving: int | None
    failed_at: datetime
    reason: str


@dataclass(frozen=True)
class CreatorCard:
    """What a pasted profile link shows (bot.unfurl): the stored facts of one creator,
    the hashtags they use most, and the /vet quality when it can be computed, so the
    bot renders a card without reading the store or scoring anything itself."""

    handle: str
    platform: str | None
    name: str | None
    followers: int | None
    er: float | None  # average engagement rate in percent (None: no posts or followers)
    posts: int
    top_hashtags: list[tuple[str, int]]  # (tag, posts using it), most used first
    quality: float | None  # the /vet quality 0-100 (None: not computable here)
    quality_confidence: float | None
    er_hidden: bool = False  # every recent post hides its likes, so no ER


@dataclass
class _Loaded:
    version: int
    model: Any
    info: ModelInfo


class Recommender:
    def __init__(
        self,
        store: Any,
        settings: Settings,
        *,
        background_reload: bool = False,
    ) -> None:
        """`store` is a models.store.Store (or a fake with the same reads).
        `background_reload` (the bot's servers): a newer version is loaded and warmed in a
        thread while the current one keeps answering; otherwise (the CLI, tests) the
        query that notices it waits for it."""
        self.settings = settings
        self._store = store  # private: engine.bootstrap hands the same store to Admin
        self.background_reload = background_reload
        self._loaded: dict[str, _Loaded] = {}
        self._checked_at: dict[str, float] = {}
        self._lock = threading.Lock()
        self._reloading: dict[str, threading.Thread] = {}
        self._trust: Any = None  # engine.trust.TrustCache, made on first use
        self._synced: tuple[float, datetime | None] | None = None  # (read at, newest sync)
        self._imported: datetime | None = None  # the last import, read when none synced

    def close(self) -> None:
        """Release the store's connections (a CLI command's last step)."""
        self._store.dispose()

    # ------------------------------------------------------------------ writes
    def import_file(
        self,
        path: Path | str,
        kind: str,
        *,
        progress: bool = False,
        column_map: list[str] | None = None,
        skip_invalid: bool = False,
    ) -> Any:
        """Validate and write one export file (all rows or none); an ImportReport.
        `column_map`: `SOURCE=FIELD` specs for columns the known aliases miss;
        `skip_invalid`: write the valid rows and list the invalid lines instead."""
        from engine.ingest.importer import import_file

        return import_file(
            path,
            kind,
            self._store,
            progress=progress,
            column_map=column_map,
            skip_invalid=skip_invalid,
        )

    def train(self, **options: Any) -> Any:
        """Fit, gate and publish every kind (engine.training.pipeline); a TrainReport.
        Training settings come from the settings, so they reach each kind's fingerprint."""
        from engine.training.pipeline import run_training

        options.setdefault("config", self.settings.training_config())
        if options.get("backend") is None:
            options["backend"] = self.settings.train_backend
        options.setdefault("spark_master", self.settings.spark_master)
        options.setdefault("spark_jdbc_jar", self.settings.spark_jdbc_jar)
        return run_training(self._store, **options)

    def train_if_due(self, now: datetime | None = None, **options: Any) -> Any:
        """Today's retrain if its hour has come and no other clock has claimed it."""
        from engine.training.daily import train_if_due

        options.setdefault("config", self.settings.training_config())
        options.setdefault("backend", self.settings.train_backend)
        options.setdefault("spark_master", self.settings.spark_master)
        options.setdefault("spark_jdbc_jar", self.settings.spark_jdbc_jar)
        return train_if_due(self._store, now, at=self.settings.train_at, **options)

    def rollback(self, kind: str, version: int) -> int:
        """Serve `version` of `kind` again, pinned: the next training on the same data keeps
        it (new data or --force retrains). Returns the new version number."""
        from engine.core.kinds import kind_by_name
        from engine.training.pipeline import data_fingerprint, fingerprint_of

        configs = self.settings.training_config()
        data = data_fingerprint(self._store, self.settings.train_backend, configs)
        pin = fingerprint_of(kind_by_name(kind), data, configs.get(kind, {}))
        try:
            return self._store.registry.rollback(kind, version, pin=pin)
        except (LookupError, ValueError) as err:
            raise ScoutError(str(err).strip("'\"")) from None

    def slack_installation_store(self, client_id: str | None) -> Any:
        """slack_sdk's OAuth installation store, in Scout's own database."""
        from models.slack import installation_store

        return installation_store(self._store, client_id)

    def slack_state_store(self, expiration_seconds: int = 600) -> Any:
        """slack_sdk's OAuth state store (CSRF), in Scout's own database."""
        from models.slack import state_store

        return state_store(self._store, expiration_seconds)

    # ------------------------------------------------------------------ models
    def model(self, kind: str) -> Any:
        """The newest published model of `kind`; raises ModelNotTrained if none."""
        loaded = self._current(kind)
        if loaded is None:
            raise ModelNotTrained(kind, self._skip_reason(kind))
        return loaded.model

    def _skip_reason(self, kind: str) -> str | None:
        """Why the last training skipped `kind` (its newest registry row, recorded by
        engine.training.pipeline), so an answer says that instead of 'run train'."""
        listing = getattr(self._store.registry, "list", None)  # in-memory stores have none
        rows = listing(kind) if listing is not None else []
        if rows and rows[0].status == "skipped" and rows[0].reason:
            return rows[0].reason.rstrip(".")
        return None

    def model_version(self, kind: str) -> int | None:
        loaded = self._current(kind)
        return loaded.version if loaded else None

    def _stamp(self, answer: Answer, kind: str, scale: str | None = None) -> None:
        """Say which model answered and when it was trained (shown under every reply),
        and put the scores on the 0-100 scale every surface shows (core.as_match)."""
        if scale is not None:
            answer.results[:] = as_match(answer.results, scale)
        loaded = self._current(kind)
        if loaded is not None:
            answer.meta["model_version"] = loaded.version
            answer.meta["trained_at"] = f"{loaded.info.created_at:%Y-%m-%d %H:%M} UTC"
        synced = self.data_age()
        if synced is not None:
            answer.meta["data_synced_at"] = f"{synced:%Y-%m-%dT%H:%M:%S}"
        elif self._imported is not None:  # never synced: the last import's time instead
            answer.meta["data_imported_at"] = f"{self._imported:%Y-%m-%dT%H:%M:%S}"

    def data_age(self) -> datetime | None:
        """When a source last finished a sync (naive UTC), None if none ever did. Every
        answer's footer says how old its data is, so the time is read at most once a
        minute, not once per answer; a store without the sync tables says nothing."""
        now = time.monotonic()
        if self._synced is not None and now - self._synced[0] < DATA_AGE_TTL_S:
            return self._synced[1]
        from models import history, watchlist

        newest = None
        try:
            with self._store.session() as s:
                times = [st.last_sync_finished_at for st in watchlist.all_states(s)]
                newest = max((t for t in times if t is not None), default=None)
                self._imported = history.last_import(s) if newest is None else None
        except Exception as err:  # noqa: BLE001 - the answer matters more than its age
            log.warning("data age unavailable: %s", str(err).splitlines()[0] if str(err) else err)
        self._synced = (now, newest)
        return newest

    def _current(self, kind: str) -> _Loaded | None:
        now = time.monotonic()
        loaded = self._loaded.get(kind)
        if (
            loaded is not None
            and now - self._checked_at.get(kind, 0.0) < self.settings.reload_seconds
        ):
            return loaded
        with self._lock:
            loaded = self._loaded.get(kind)
            if (
                loaded is not None
                and now - self._checked_at.get(kind, 0.0) < self.settings.reload_seconds
            ):
                return loaded
            self._checked_at[kind] = now
            latest = self._store.registry.latest_version(kind)
            if latest is None:
                return loaded
            if loaded is not None and loaded.version == latest:
                return loaded
            if loaded is not None and self.background_reload:
                self._reload_later(kind, latest, loaded)
                return loaded
            return self._swap_in(kind, latest, loaded)

    def _swap_in(self, kind: str, version: int, loaded: _Loaded | None) -> _Loaded | None:
        """Load `version` and make it the one served; a failed load keeps `loaded`
        serving and says why. The swap is one assignment: readers hold their own
        reference, so it needs no lock (a background load swaps in a rolled-back, older
        version the same way)."""
        try:
            fresh = self._load(kind, version)
        except Exception:
            log.exception(
                "loading %s v%s failed; keeping v%s",
                kind,
                version,
                loaded.version if loaded else None,
            )
            return loaded
        self._loaded[kind] = fresh
        return fresh

    def _reload_later(self, kind: str, version: int, serving: _Loaded) -> None:
        """_swap_in in a thread, at most one per kind (called under self._lock)."""
        running = self._reloading.get(kind)
        if running is not None and running.is_alive():
            return
        thread = threading.Thread(
            target=self._swap_in,
            args=(kind, version, serving),
            name=f"scout-reload-{kind}",
            daemon=True,
        )
        self._reloading[kind] = thread
        thread.start()

    def wait_for_reloads(self, timeout: float | None = None) -> None:
        """Join the loader threads in flight (tests, benchmarks, a clean shutdown)."""
        for thread in list(self._reloading.values()):
            thread.join(timeout)

    def _load(self, kind: str, version: int) -> _Loaded:
        from engine.core.kinds import kind_by_name

        artifact = self._store.registry.get(kind, version)
        started = time.perf_counter()
        model = kind_by_name(kind).load(artifact.payload)
        loaded_s = time.perf_counter() - started
        warm = getattr(model, "warm", None)  # lazily built search structures, built now
        if warm is not None:
            warm()
        log.info(
            "loaded %s v%d in %.2fs (warmed in %.2fs)",
            kind,
            version,
            loaded_s,
            time.perf_counter() - started - loaded_s,
        )
        info = ModelInfo(
            kind,
            version,
            artifact.created_at,
            artifact.metrics or {},
            artifact.params or {},
            artifact.summary or "",
        )
        return _Loaded(version, model, info)

    def model_status(self) -> list[ModelInfo]:
        """Freshness of every published kind (for the App Home and `models list`)."""
        return [
            ModelInfo(
                a.kind, a.version, a.created_at, a.metrics or {}, a.params or {}, a.summary or ""
            )
            for a in self._store.registry.latest_all()
        ]

    def loaded_versions(self) -> dict[str, int]:
        """kind -> the version this process has in memory (what it serves now), without
        loading anything: readiness (bot.web's /readyz) reports it beside the registry."""
        return {kind: loaded.version for kind, loaded in dict(self._loaded).items() if loaded}

    def training_failures(self) -> list[TrainingFailure]:
        """Kinds whose newest registry row is a failed training (engine.training.pipeline
        records one per crash), for the App Home: a later publish or rejection clears it."""
        newest: dict[str, Any] = {}
        for row in self._store.registry.list():  # newest version first within a kind
            newest.setdefault(row.kind, row)
        serving = {i.kind: i.version for i in self._store.registry.latest_all()}
        return [
            TrainingFailure(r.kind, serving.get(r.kind), r.created_at, r.reason or "")
            for r in newest.values()
            if r.status == "failed"
        ]

    # ------------------------------------------------------------ influencers
    def resolve_handle(self, handle: str) -> str:
        """A handle as typed or pasted (`@Foo`, `foo`, a profile URL, `@foo,`) to the
        stored one, or UnknownHandle with the closest known handles."""
        clean = parse_handle(handle)
        if not clean:
            raise ScoutError("Give a handle, e.g. `@some_creator`.")
        found = self._store.find_handle(clean)
        if found is not None:
            return found
        candidates = self._store.handles_like(clean)
        raise UnknownHandle(clean, close_matches(clean.lower(), candidates))

    def influencer_profile(self, handle: str) -> dict[str, Any]:
        """Display facts (followers, ER %, language, post count). The ER is the engine's
        one robust formula (engine.core.engagement: median of the recent posts, hidden
        likes left out) over the creator's posts, so a profile agrees with /vet and the
        answers; None without posts or followers, and `er_hidden` True where every recent
        post hides its likes. A store without posts frames gives raw averages instead; one
        that still reports `er` itself is taken as it is."""
        from engine.core.engagement import creator_engagement, engagement_rate_or_none

        profile = dict(self._store.influencer_profile(self.resolve_handle(handle)))
        if profile and "er" not in profile:
            likes, comments = profile.get("avg_likes"), profile.get("avg_comments")
            profile["er"] = (
                None
                if likes is None and comments is None
                else engagement_rate_or_none(likes, comments, profile.get("followers"))
            )
            if hasattr(self._store, "posts_frame") and profile.get("posts"):
                import numpy as np
                import pandas as pd

                h = profile["handle"]
                posts = self._store.posts_frame(handles=[h])
                followers = pd.Series({h: profile.get("followers")}, dtype="float64")
                er, hidden = creator_engagement(posts, followers).at([h])
                profile["er"] = None if np.isnan(er[0]) else float(er[0])
                profile["er_hidden"] = bool(hidden[0])
        return profile

    def creator_card(self, handle: str, top: int = 5) -> CreatorCard:
        """The card of a pasted profile link: influencer_profile's facts, the `top`
        hashtags by the number of the creator's posts using them, and the trust card's
        quality (the /vet score) where the store can give the frames it needs. An
        unknown creator raises UnknownHandle, as every query does."""
        from collections import Counter

        found = self.resolve_handle(handle)
        profile = self.influencer_profile(found)
        counts: Counter[str] = Counter()
        if hasattr(self._store, "posts_frame"):
            for tags in self._store.posts_frame(handles=[found])["hashtags"]:
                counts.update({str(t).lstrip("#").lower() for t in tags or ()})
        facts = self._trust_cache().facts([found]).get(found)
        return CreatorCard(
            handle=found,
            platform=profile.get("platform"),
            name=profile.get("name"),
            followers=profile.get("followers"),
            er=profile.get("er"),
            posts=int(profile.get("posts") or 0),
            top_hashtags=counts.most_common(top),
            quality=None if facts is None else facts.quality,
            quality_confidence=None if facts is None else facts.confidence,
            er_hidden=bool(profile.get("er_hidden")),
        )

    # --------------------------------------------------------- domain queries
    # Each engine issue fills in its own method; the signatures are the contract the
    # bot and the CLI are written against.
    def lookalike(
        self,
        handle: str,
        k: int = 10,
        *,
        filters: Filters | None = None,
        method: str = "auto",
        exclude: tuple[str, ...] = (),
    ) -> Answer:
        """Creators most like `handle` (issue: lookalike). `method`: sparse (caption and
        hashtag words plus character n-grams, exact cosine), ppmi (the same words through
        a 128-dim SVD), tags (thematic vectors from the tags model), blend (ppmi and tags
        averaged) or auto (the measured best, see engine.lookalike.query.AUTO_METHOD)."""
        from engine.lookalike.query import AUTO_METHOD, lookalike

        model = self.model("lookalike")
        found = self.resolve_handle(handle)
        tags_model = None
        if method in ("tags", "blend") or (method == "auto" and AUTO_METHOD in ("tags", "blend")):
            try:
                tags_model = self.model("tags")
            except ModelNotTrained:
                if method != "auto":
                    raise ScoutError(
                        f"method={method} needs the tags model, which is not trained yet; "
                        "use method=ppmi or run `python -m engine train`."
                    ) from None
        posts = None if found in model else self._store.posts_frame(handles=[found])
        wanted, filters = _growth_split(k, filters)
        answer = lookalike(
            model,
            found,
            k if wanted is None else MAX_K,
            filters=filters if wanted is None else filters.without_growth(),
            method=method,
            exclude=exclude,
            tags_model=tags_model,
            posts=posts,
            shown=k,
        )
        self._stamp(answer, "lookalike", "similarity")
        answer.meta["handle"] = found
        answer = self._with_growth(self._with_trust(answer, filters, wanted), filters, wanted)
        return self._badged(answer)

    def related_tags(self, query: str, k: int = 20) -> Answer:
        """Nearest hashtags to a weighted tag query like '#apple #iphone:-1' (issue: tags)."""
        from engine.tags.query import parse_topic
        from engine.topics.query import positive_topic

        parsed = positive_topic(parse_topic(query))  # fails before any model is loaded
        answer = self.model("tags").related_tags(parsed, k=check_k(k, "hashtags"))
        self._stamp(answer, "tags", "similarity")
        return answer

    def tag_vocabulary(self) -> frozenset[str]:
        """The tag model's hashtags: plain-language requests (engine.chat) turn words
        into hashtags only through these, so a word the data never used is not made up.
        Empty while no tag model is trained (a request still reads, without hashtags)."""
        try:
            model = self.model("tags")
        except ModelNotTrained:
            return frozenset()
        cached = getattr(self, "_vocabulary", None)
        if cached is not None and cached[0] is model:
            return cached[1]
        vocabulary = frozenset(getattr(model, "tags", None) or ())
        self._vocabulary = (model, vocabulary)  # one set per loaded model, not per request
        return vocabulary

    def understand(self, text: str) -> Any:
        """A request in plain words read as the command it means (engine.chat.Reading),
        or the question to ask when it is unclear; the bot and `engine ask` both call it."""
        from engine.chat import understand

        return understand(text, self.tag_vocabulary())

    def topic(self, query: str, k: int = 10, *, filters: Filters | None = None) -> Answer:
        """Creators whose content fits a weighted tag query (issue: tags)."""
        from engine.tags.query import parse_topic
        from engine.topics.query import positive_topic

        parsed = positive_topic(parse_topic(query))
        k = check_k(k, "creators")
        wanted, filters = _growth_split(k, filters)
        answer = self.model("tags").bloggers_for_topic(
            parsed,
            k=k if wanted is None else MAX_K,
            filters=filters if wanted is None else filters.without_growth(),
        )
        self._stamp(answer, "tags", "similarity")
        answer = self._with_growth(self._with_trust(answer, filters, wanted), filters, wanted)
        return self._badged(answer)

    # ------------------------------------------------------------ history
    def growth(self, handles: list[str]) -> dict[str, dict[str, float | None]]:
        """Follower growth in percent over 7 and 30 days per handle, from the sync's
        daily snapshots (`{"7d": …, "30d": …}`, None where the history is too short).
        A store without history (an in-memory fake) knows no growth."""
        from datetime import timedelta

        if not handles or not hasattr(self._store, "session"):
            return {}
        from models import history

        since = datetime.now().date() - timedelta(days=400)
        with self._store.session() as s:
            series = history.followers_by_day(s, handles, since)
        return {
            h: {f"{d}d": growth_percent(series.get(h, []), d) for d in (7, 30)} for h in handles
        }

    # ------------------------------------------------------------ trust card
    def vet(self, handle: str) -> Any:
        """The trust card of one creator (engine.vet.VetCard): engagement against tier
        peers, bought engagement, audience authenticity from an imported follower sample,
        sponsored share, brand safety and the 0-100 quality made of them."""
        return self._trust_cache().card(self.resolve_handle(handle))

    def _trust_cache(self) -> Any:
        from engine.trust import TrustCache

        if self._trust is None:
            with self._lock:
                if self._trust is None:
                    self._trust = TrustCache(
                        self._store,
                        self._vet_classifier,
                        lambda: (self.model_version("lookalike"), self.model_version("vet")),
                        self.settings.reload_seconds,
                    )
        return self._trust

    def _vet_classifier(self) -> Any:
        """The published follower classifier, or None before `engine train` made one (the
        card then says the audience part is unknown)."""
        try:
            return self.model("vet")
        except ModelNotTrained:
            return None

    def _with_trust(self, answer: Answer, filters: Filters | None, wanted: int | None) -> Answer:
        """The `quality:`/`sponsored:`/`safe` filters applied to what the model found (it
        asked for MAX_K). A card reads every tier peer, so creators are vetted best match
        first, TRUST_BATCH at a time, until `wanted` pass (all when growth filters too)."""
        if filters is None or not filters.has_trust:
            return answer
        enough = None if filters.has_growth else wanted
        results: list[Recommendation] = []
        pending = list(answer.results)
        while pending and (enough is None or len(results) < enough):
            batch, pending = pending[:TRUST_BATCH], pending[TRUST_BATCH:]
            facts = self._trust_cache().facts([r.id for r in batch])
            batch = [_with_facts(r, facts.get(r.id)) for r in batch]
            keep = filters.trust_mask(
                [r.extra.get("quality") for r in batch],
                [r.extra.get("sponsored_percent") for r in batch],
                [r.extra.get("safe") for r in batch],
            )
            results += [r for r, ok in zip(batch, keep, strict=True) if ok]
        if not results:
            answer.notes.append(
                "No creator matched the quality/sponsored/safe filters; "
                "`/vet @handle` shows why a creator scores what they do."
            )
        answer.results[:] = results if enough is None else results[:enough]
        return answer

    def _badged(self, answer: Answer) -> Answer:
        """Each creator's quality badge (`Q 82`), sponsored share and safety as display
        facts of the answer as it is finally cut (each creator vetted once per data)."""
        if answer.results:
            facts = self._trust_cache().facts([r.id for r in answer.results])
            answer.results[:] = [_with_facts(r, facts.get(r.id)) for r in answer.results]
        return answer

    def _with_growth(self, answer: Answer, filters: Filters | None, wanted: int | None) -> Answer:
        """Each creator's growth as a display fact, and the growth filter applied to
        what the model found (it asked for MAX_K, so `wanted` are left after it)."""
        growth = self.growth([r.id for r in answer.results])
        if not growth and wanted is None:
            return answer
        results = [
            replace(r, extra={**r.extra, "growth_7d": g["7d"], "growth_30d": g["30d"]})
            if (g := growth.get(r.id))
            else r
            for r in answer.results
        ]
        if wanted is not None and filters is not None:
            chosen = [
                g.get("30d") if g.get("30d") is not None else g.get("7d")
                for g in (growth.get(r.id, {}) for r in results)
            ]
            keep = filters.growth_mask(chosen)
            results = [r for r, ok in zip(results, keep, strict=True) if ok][:wanted]
            if not results and filters.has_growth:
                answer.notes.append(
                    "No creator matched the growth filter: growth needs a week of daily syncs "
                    "(`python -m engine sync`)."
                )
        answer.results[:] = results
        return answer

    def photo_hashtags(
        self, image: bytes, *, n: int = 30, mode: str = "similar", k_similar: int | None = None
    ) -> Answer:
        """Hashtags that similar, well-liked posts used (issue: photos). The image is
        decoded and checked before the network runs; a model built by another extractor
        than the configured one is refused (its features live in another space)."""
        from engine.photos.features import extractor_id_for
        from engine.photos.images import decode_image
        from engine.photos.model import DEFAULT_K_SIMILAR

        model = self.model("photos")
        version = self.model_version("photos")
        if model.n_images == 0:
            answer = model.photo_hashtags(None, n=n, mode=mode)
            self._stamp(answer, "photos")
            return answer
        configured = extractor_id_for(self.settings.mobilenet)
        if model.extractor_id != configured:
            raise ScoutError(
                f"The photo model (v{version}) was built with image features from "
                f"{model.extractor_id[:24]}, but SCOUT_MOBILENET now gives {configured[:24]}; "
                "mixing them would compare unrelated features. Run `python -m engine train` "
                "(the extractor is part of the photo model's fingerprint, so it retrains) "
                "or set SCOUT_MOBILENET back."
            )
        pixels = decode_image(image, name="The photo")
        feature = self._photo_extractor().featurize([pixels])[0]
        answer = model.photo_hashtags(
            feature, n=n, mode=mode, k_similar=k_similar or DEFAULT_K_SIMILAR
        )
        self._stamp(answer, "photos")
        return answer

    _extractor_lock = threading.Lock()  # not self._lock: building takes seconds (TensorFlow)

    def _photo_extractor(self) -> Any:
        """The configured MobileNetV2, built once per Recommender on first use."""
        extractor = getattr(self, "_extractor", None)
        if extractor is None:
            with self._extractor_lock:
                extractor = getattr(self, "_extractor", None)
                if extractor is None:
                    from engine.photos.features import make_extractor

                    extractor = self._extractor = make_extractor(self.settings.mobilenet)
        return extractor

    def songs_for(self, handle: str, k: int = 10, method: str = "auto") -> Answer:
        """Songs for a creator's next reel (issue: songs)."""
        k = check_k(k, "songs")
        model = self.model("songs")
        found = self.resolve_handle(handle)
        answer = model.songs_for(found, k=k, method=method)
        self._stamp(answer, "songs", "relative")
        answer.meta["handle"] = found
        return answer

    def trending(self, days: int = 7, k: int = 10, topic: str | None = None) -> Answer:
        """Songs whose use and engagement rose most lately (issue: songs). When the sync
        has written dated post snapshots, momentum is what the reels' likes, comments and
        views gained between them (issue 23, "from daily counts"); without them, reels
        are counted by post date as the trained index does ("from post dates")."""
        k = check_k(k, "songs")
        model = self.model("songs")
        index = model.trending
        deltas = self._snapshot_deltas(days)
        if deltas is not None:
            return self._trending_from_counts(index, deltas, days, k, topic)
        if index is None or not index.as_of:
            return Answer([], ["No reels with a song in the data yet, so nothing is trending."])
        results = index.top(window_days=days, k=k, topic=topic)
        notes = (
            []
            if results
            else [
                f"No song had {index.min_support}+ reels in the {days} days to "
                f"{str(index.as_of)[:10]}" + (f" among #{topic} creators" if topic else "") + "."
            ]
        )
        meta = {"as_of": index.as_of, "days": days, "method": "from post dates"}
        answer = Answer(results, notes, {**meta, "trending_source": "post_dates"})
        self._stamp(answer, "songs", "relative")
        return answer

    def _snapshot_deltas(self, days: int) -> Any:
        """The store's snapshot rows of song reels over two windows (models.history), or
        None when they cannot answer (no snapshots, only a first sync's baseline, a store
        without history): trending then counts by post date. Snapshots move once a sync
        (daily), so a window's rows are read at most once a minute, not per digest."""
        from engine.songs.trending import has_daily_counts

        if not hasattr(self._store, "session") or not 1 <= days <= 366:
            return None
        cache = self.__dict__.setdefault("_deltas_cache", {})  # days -> (read at, rows)
        now = time.monotonic()
        if days in cache and now - cache[days][0] < DATA_AGE_TTL_S:
            return cache[days][1]
        from models import history

        try:
            with self._store.session() as s:
                deltas = history.song_post_deltas(s, 2 * days)
        except Exception as err:  # noqa: BLE001 - post dates still answer
            log.warning("snapshots unavailable: %s", str(err).splitlines()[0] if str(err) else err)
            return None
        cache[days] = (now, deltas if has_daily_counts(deltas, days) else None)
        return cache[days][1]

    def _trending_from_counts(
        self, index: Any, deltas: Any, days: int, k: int, topic: str | None
    ) -> Answer:
        from engine.songs.trending import top_by_counts

        results = top_by_counts(index, deltas, window_days=days, k=k, topic=topic)
        as_of = str(max(deltas["day"]))[:10]
        support = index.min_support if index is not None else 3
        notes = (
            []
            if results
            else [
                f"No song had {support}+ reels gaining likes, comments or views in the {days} "
                f"days to {as_of}" + (f" among #{topic} creators" if topic else "") + "."
            ]
        )
        meta = {"as_of": as_of, "days": days, "method": "from daily counts"}
        answer = Answer(results, notes, {**meta, "trending_source": "daily_counts"})
        self._stamp(answer, "songs", "relative")
        return answer

    def topics(self, k: int = MAX_K) -> Answer:
        """The fixed topics (clustered tag vectors), largest first (issue 8: topics)."""
        from engine.topics.query import topics_answer

        k = check_k(k, "topics")
        answer = topics_answer(self.model("topics"), k)
        self._stamp(answer, "topics")
        return answer

    def influencer_map(self, handle: str, n: int = 300) -> bytes:
        """PNG of `handle` and its `n` nearest creators in 2-D (t-SNE), coloured by topic
        (issue 8: influencer map). Vectors come from the lookalike model when it is
        trained and knows the creator, else from the tags model's blogger vectors."""
        from engine.topics.map import draw_map
        from engine.topics.map_data import MAX_NEIGHBOURS, map_data

        if not 1 <= n <= MAX_NEIGHBOURS:  # before any model is loaded
            raise ScoutError(f"A map shows between 1 and {MAX_NEIGHBOURS} neighbours.")
        found = self.resolve_handle(handle)
        topics = self.model("topics")
        data = map_data(found, n, self._trained("lookalike", "tags"), topics)
        return draw_map(
            data.handles, data.vectors, data.labels, data.names, sims=data.sims, title=data.title
        ).png

    def _trained(self, *kinds: str) -> Iterator[tuple[str, Any]]:
        """(kind, model) of each of `kinds` that has a published model, loaded only when
        the caller gets that far."""
        for kind in kinds:
            try:
                yield kind, self.model(kind)
            except ModelNotTrained:
                continue


TRUST_BATCH = 10  # creators vetted at a time while a trust filter looks for enough


def _with_facts(r: Recommendation, facts: Any) -> Recommendation:
    """`r` with the trust card's display facts (engine.trust.TrustFacts) in `extra`."""
    if facts is None:
        return r
    return replace(
        r,
        extra={
            **r.extra,
            "quality": facts.quality,
            "quality_badge": facts.badge,
            "sponsored_percent": facts.sponsored_percent,
            "safe": facts.safe,
        },
    )


def _growth_split(k: int, filters: Filters | None) -> tuple[int | None, Filters | None]:
    """(k, filters) when the growth filter is set (the model is then asked for MAX_K
    and growth narrows its answer), else (None, filters)."""
    if filters is not None and (filters.has_growth or filters.has_trust):
        return check_k(k, "creators"), filters
    return None, filters


def growth_percent(series: list[tuple[Any, int]], days: int) -> float | None:
    """Growth from the last snapshot at least `days` before the newest to the newest,
    in percent; None without one that old or with zero followers then."""
    if not series:
        return None
    last_day, last = series[-1]
    base = [f for d, f in series if (last_day - d).days >= days]
    if not base or base[-1] <= 0:
        return None
    return round(100.0 * (last - base[-1]) / base[-1], 2)


def data_age_line(meta: dict[str, Any], now: datetime | None = None) -> str:
    """The footer's age of the data ('data synced 3 h ago') from an answer's
    `data_synced_at` (naive UTC ISO), else 'data imported 2 days ago' from
    `data_imported_at` when no sync ever ran; empty when neither is known. The one wording the
    Slack footer and the CLI table share."""
    raw, verb = meta.get("data_synced_at"), "synced"
    if not raw:  # never synced: how old the last import is
        raw, verb = meta.get("data_imported_at"), "imported"
    if not raw:
        return ""
    try:
        when = datetime.fromisoformat(str(raw))
    except ValueError:
        return ""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    minutes = max(0, int((now - when).total_seconds() // 60))
    if minutes < 1:
        ago = "just now"
    elif minutes < 60:
        ago = f"{minutes} min ago"
    elif minutes < 48 * 60:
        ago = f"{minutes // 60} h ago"
    else:
        ago = f"{minutes // (24 * 60)} days ago"
    return f"data {verb} {ago}"
