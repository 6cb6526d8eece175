"""The tables. Alembic migrations (migrations/) are the only way this schema reaches a
database; tests check that these models and the migrations agree."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Influencer(Base):
    __tablename__ = "influencers"
    __table_args__ = (
        UniqueConstraint("platform", "handle", name="uq_influencers_platform_handle"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), default="instagram")
    handle: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    followers: Mapped[int | None] = mapped_column(BigInteger)
    following: Mapped[int | None] = mapped_column(BigInteger)
    posts_count: Mapped[int | None] = mapped_column(Integer)
    bio: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    country: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime, server_default=func.now(), default=func.now(), onupdate=func.now()
    )

    posts: Mapped[list[Post]] = relationship(back_populates="influencer")


class Song(Base):
    __tablename__ = "songs"

    song_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    title: Mapped[str | None] = mapped_column(String(300))
    artist: Mapped[str | None] = mapped_column(String(300))
    release: Mapped[str | None] = mapped_column(String(300))
    year: Mapped[int | None] = mapped_column(Integer)


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("platform", "post_id", name="uq_posts_platform_post_id"),
        Index("ix_posts_influencer_posted", "influencer_id", "posted_at"),
        # posts with a song only: what its readers ask for (migration 0011)
        Index(
            "ix_posts_song_id",
            "song_id",
            sqlite_where=text("song_id IS NOT NULL"),
            postgresql_where=text("song_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), default="instagram")
    post_id: Mapped[str] = mapped_column(String(100))
    influencer_id: Mapped[int] = mapped_column(ForeignKey("influencers.id", ondelete="CASCADE"))
    posted_at: Mapped[datetime | None] = mapped_column(DateTime)  # no index: 0011
    caption: Mapped[str | None] = mapped_column(Text)
    likes: Mapped[int] = mapped_column(BigInteger, default=0)
    comments: Mapped[int] = mapped_column(BigInteger, default=0)
    image: Mapped[str | None] = mapped_column(Text)
    song_id: Mapped[str | None] = mapped_column(ForeignKey("songs.song_id", ondelete="SET NULL"))
    # plays as the export counts them (TikTok playCount, Instagram videoPlayCount,
    # YouTube viewCount); None when unknown. TikTok and YouTube ER is per view.
    views: Mapped[int | None] = mapped_column(BigInteger)

    influencer: Mapped[Influencer] = relationship(back_populates="posts")
    hashtags: Mapped[list[PostHashtag]] = relationship(
        cascade="all, delete-orphan", order_by="PostHashtag.position"
    )


class PostAuthor(Base):
    """Every author of a post: an Instagram collab post has several, under one post id.
    posts.influencer_id stays the primary (first imported) author, for the code and
    indexes that want one; this table is what the training frames read."""

    __tablename__ = "post_authors"
    # SQLite: the rows live in the primary key's B-tree alone (migration 0010)
    __table_args__ = {"sqlite_with_rowid": False}

    post_pk: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    influencer_id: Mapped[int] = mapped_column(
        ForeignKey("influencers.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class PostHashtag(Base):
    __tablename__ = "post_hashtags"
    # SQLite: the rows live in the primary key's B-tree alone; no index by tag, which
    # nothing reads by (migration 0010)
    __table_args__ = {"sqlite_with_rowid": False}

    post_pk: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(SmallInteger, default=0)


class Artifact(Base):
    """One published (or rejected) version of one model kind. `payload` is compact
    pickle-free bytes (engine.core.artifact_io); `status` is 'published' or 'rejected'."""

    __tablename__ = "artifacts"
    __table_args__ = (UniqueConstraint("kind", "version", name="uq_artifacts_kind_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="published")
    created_at: Mapped[datetime] = mapped_column(
        DateTime, server_default=func.now(), default=func.now()
    )
    params: Mapped[dict | None] = mapped_column(JSON)
    metrics: Mapped[dict | None] = mapped_column(JSON)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    payload: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)


class FeatureCacheEntry(Base):
    """Image features keyed by the sha256 of the image bytes and the extractor that made
    them, so a daily retrain only featurises new images."""

    __tablename__ = "feature_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    extractor: Mapped[str] = mapped_column(String(120), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(
        DateTime, server_default=func.now(), default=func.now()
    )


class DigestSubscription(Base):
    __tablename__ = "digest_subscriptions"
    __table_args__ = (
        UniqueConstraint("team_id", "channel_id", name="uq_digest_subscriptions_team_channel"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    local_time: Mapped[str] = mapped_column(String(5), default="09:00")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    window_days: Mapped[int] = mapped_column(Integer, default=7)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(
        DateTime, server_default=func.now(), default=func.now()
    )
    disabled_reason: Mapped[str | None] = mapped_column(Text)


class DigestDelivery(Base):
    """One row per (subscription, local date): the unique constraint is what makes a
    digest go out exactly once across restarts and overlapping clocks."""

    __tablename__ = "digest_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "local_date", name="uq_digest_deliveries_sub_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("digest_subscriptions.id", ondelete="CASCADE")
    )
    local_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="claimed")
    message_ts: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime, server_default=func.now(), default=func.now()
    )


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_kind_item", "kind", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    query: Mapped[str | None] = mapped_column(Text)
    item_id: Mapped[str] = mapped_column(String(200))
    vote: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(
        DateTime, server_default=func.now(), default=func.now()
    )


class SlackDelivery(Base):
    """A Slack event (by `event_id`) or a message (by channel and ts) that some process
    has taken on: the primary key makes the claim one atomic insert shared by every
    worker and process, so a retried or doubly delivered event is answered once.
    `lease_until` is how long the claimer may take; NULL once it answered. A lapsed
    lease is a worker that died mid-answer: Slack's retry may then claim the key again,
    so a crash is answered late rather than never."""

    __tablename__ = "slack_deliveries"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)


class PendingAnswer(Base):
    """An answer owed to a response_url, kept until Slack took it, so that rate limiting
    or a process restart does not lose it. `lease_until` is how long the process sending
    it holds it (each attempt extends it past the whole HTTP timeout) and `owner` names
    that process; a row whose lease ran out is resumed by another process, never by
    its own live owner."""

    __tablename__ = "pending_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_url: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    lease_until: Mapped[datetime] = mapped_column(DateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(80))


class SlackCallSlot(Base):
    """When a rate-limited Slack method (conversations.history/replies: one call a
    minute for apps outside the Marketplace) may next be called for a workspace; every
    process takes its turn from this row, so two workers never spend the same minute."""

    __tablename__ = "slack_call_slots"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    next_at: Mapped[datetime] = mapped_column(DateTime)


def _add_slack_oauth_tables() -> None:
    """slack_sdk's OAuth installation and state stores keep their rows in our database;
    declaring their tables on our metadata lets Alembic own them like every other table
    (the stores' own create_tables() is never called in production)."""
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    SQLAlchemyInstallationStore.build_installations_table(
        Base.metadata, SQLAlchemyInstallationStore.default_installations_table_name
    )
    SQLAlchemyInstallationStore.build_bots_table(
        Base.metadata, SQLAlchemyInstallationStore.default_bots_table_name
    )
    SQLAlchemyOAuthStateStore.build_oauth_states_table(
        Base.metadata, SQLAlchemyOAuthStateStore.default_table_name
    )


class JobRun(Base):
    """One row per (job, day): the clock claims a day's run by inserting it, so two
    clocks (or a restarted one) never run the daily training twice."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "run_date", name="uq_job_runs_job_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(50))
    run_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    message: Mapped[str | None] = mapped_column(Text)


_add_slack_oauth_tables()


class WatchedCreator(Base):
    """A creator (or, with a handle starting '#', a hashtag) a workspace keeps fresh.
    Each workspace's watchlist is its own (`team_id`; the CLI's is 'cli'); the sync
    fetches each (platform, handle) once however many workspaces watch it. `origin`
    says where it came from: manual, coauthor, mention or hashtag:#tag."""

    __tablename__ = "watchlist"
    __table_args__ = (
        UniqueConstraint("team_id", "platform", "handle", name="uq_watchlist_team_platform_handle"),
        Index("ix_watchlist_due", "platform", "next_due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    platform: Mapped[str] = mapped_column(String(32))
    handle: Mapped[str] = mapped_column(String(100))
    added_by: Mapped[str | None] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(140), default="manual")
    status: Mapped[str] = mapped_column(String(16), default="active")
    reason: Mapped[str | None] = mapped_column(Text)
    added_at: Mapped[datetime] = mapped_column(DateTime)
    last_synced_at: Mapped[datetime | None] = mapped_column(DateTime)
    next_due_at: Mapped[datetime | None] = mapped_column(DateTime)


class SourceState(Base):
    """One data source's standing between syncs: its token, what it spent today, its
    errors by kind and the counters its adapter persists (YouTube's quota meter, the
    Graph API's hashtag-search budget), so a second sync the same day continues the
    first one's budget instead of starting from zero."""

    __tablename__ = "source_state"

    source: Mapped[str] = mapped_column(String(50), primary_key=True)
    token_state: Mapped[str] = mapped_column(String(16), default="unknown")
    token_message: Mapped[str | None] = mapped_column(Text)
    day: Mapped[date | None] = mapped_column(Date)
    calls_today: Mapped[int] = mapped_column(Integer, default=0)
    quota_used: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[dict | None] = mapped_column(JSON)
    counters: Mapped[dict | None] = mapped_column(JSON)
    last_sync_started_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_sync_finished_at: Mapped[datetime | None] = mapped_column(DateTime)


class CreatorSnapshot(Base):
    """A creator's counts on one day (one row per creator per day, upserted): the
    history growth is computed from."""

    __tablename__ = "creator_snapshots"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    handle: Mapped[str] = mapped_column(String(100), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    followers: Mapped[int | None] = mapped_column(BigInteger)
    following: Mapped[int | None] = mapped_column(BigInteger)
    media_count: Mapped[int | None] = mapped_column(Integer)


class PostSnapshot(Base):
    """A post's counts on a day they changed (none is written when nothing moved)."""

    __tablename__ = "post_snapshots"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    post_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    likes: Mapped[int | None] = mapped_column(BigInteger)
    comments: Mapped[int | None] = mapped_column(BigInteger)
    views: Mapped[int | None] = mapped_column(BigInteger)


class FollowerSample(Base):
    """One sampled follower of a creator (issue 25): the profile counts the trust card's
    fake-follower classifier reads. Keyed by (creator, follower), so importing the same
    sample again updates it instead of counting a follower twice."""

    __tablename__ = "follower_samples"

    handle: Mapped[str] = mapped_column(String(100), primary_key=True)
    follower: Mapped[str] = mapped_column(String(100), primary_key=True)
    followers: Mapped[int] = mapped_column(BigInteger)
    following: Mapped[int] = mapped_column(BigInteger)
    posts: Mapped[int] = mapped_column(Integer)
    has_profile_pic: Mapped[bool] = mapped_column(Boolean)
    is_private: Mapped[bool] = mapped_column(Boolean)
    bio_length: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(
        DateTime, server_default=func.now(), default=func.now(), onupdate=func.now()
    )


class Shortlist(Base):
    """A named list of creators a workspace collects for a campaign (issue 26). Per
    workspace (`team_id`; the console's is its own team): one team's `/list show X`
    never finds another team's X, even under the same name."""

    __tablename__ = "shortlists"
    __table_args__ = (UniqueConstraint("team_id", "name", name="uq_shortlists_team_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(80))
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ShortlistMember(Base):
    """A creator on a shortlist, who added it and why (the answer's reason and the
    command it came from), with the display facts the answer showed at the time
    (`facts`: followers, er, quality) for an export when the store no longer knows
    the creator."""

    __tablename__ = "shortlist_members"
    __table_args__ = (
        UniqueConstraint("list_id", "handle", name="uq_shortlist_members_list_handle"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("shortlists.id", ondelete="CASCADE"))
    handle: Mapped[str] = mapped_column(String(100))
    platform: Mapped[str | None] = mapped_column(String(32))
    added_by: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    facts: Mapped[dict | None] = mapped_column(JSON)
    added_at: Mapped[datetime] = mapped_column(DateTime)


class ShortlistCurrent(Base):
    """Which list a person's 'Add to list' button adds to: the one they last made or
    opened (`/list new`, `/list show`, `/list use`)."""

    __tablename__ = "shortlist_current"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("shortlists.id", ondelete="CASCADE"))


class ThreadContext(Base):
    """What Scout last answered in a Slack thread (issue 26): the command, what it was
    asked and the ids (and reasons) of its results, so a reply in the thread ("more
    like the second one", "why #3?") acts on that answer. Rows lapse at `expires_at`
    (SCOUT_THREAD_TTL_DAYS) and are purged as new ones are written."""

    __tablename__ = "thread_contexts"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    thread_ts: Mapped[str] = mapped_column(String(32), primary_key=True)
    command: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    result_ids: Mapped[list | None] = mapped_column(JSON)
    result_whys: Mapped[list | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
