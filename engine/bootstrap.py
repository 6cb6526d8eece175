"""The one place that assembles Scout: `assemble` reads the settings, opens the one Store
and returns the named parts a process needs (ScoutParts: the recommender for queries,
the workspace operations for digests and the outbox, the admin part for models, demo,
export, import and training). The store itself stays private to the engine. The CLI,
the bot, the benchmarks and the tests all start here, so a process holds one connection
pool and a test can hand the facade any store it likes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from engine.admin import Admin
from engine.core.settings import Settings
from engine.service import Recommender
from engine.workspace_ops import WorkspaceOps

DEMO_FILES = ("songs", "influencers", "posts")  # import order: posts refer to both others


@dataclass(frozen=True)
class ScoutParts:
    """What a process gets from `assemble`: one store behind all three parts, none
    reached through another (the bot hands `workspace_ops` to its router and clock;
    a bot over a fake engine and no store has none)."""

    recommender: Recommender
    workspace_ops: WorkspaceOps | None
    admin: Admin

    def close(self) -> None:
        self.recommender.close()


def assemble(
    database_url: str | None = None,
    *,
    settings: Settings | None = None,
    background_reload: bool = False,
    must_exist: bool = False,
    migrate: bool = False,
) -> ScoutParts:
    """The parts over the store named by `settings` (default: the environment, with
    `database_url` overriding DATABASE_URL, as `--db` does). `must_exist` (read-only
    commands): a SQLite file that does not exist is an error, not a new empty file (a
    typo in --db must not create one). `migrate` (commands that write): bring the
    database to the newest migration first. `background_reload`: for a long-running
    server (engine.service.Recommender)."""
    from models.store import Store
    from models.workspace import Workspace

    settings = settings or Settings.from_env(database_url)
    if must_exist:
        _check_exists(settings.database_url)
    if migrate:
        prepare(settings.database_url)
    store = Store(settings.database_url)
    rec = Recommender(store, settings, background_reload=background_reload)
    admin = Admin(rec, store)
    return ScoutParts(
        recommender=rec, workspace_ops=WorkspaceOps(Workspace(store), admin), admin=admin
    )


def bootstrap(
    database_url: str | None = None,
    *,
    settings: Settings | None = None,
    background_reload: bool = False,
) -> Recommender:
    """Just the recommender of `assemble` (the bot, benchmarks and tests that only
    query)."""
    return assemble(
        database_url, settings=settings, background_reload=background_reload
    ).recommender


def _check_exists(database_url: str) -> None:
    from engine.core.errors import ScoutError
    from models.store import sqlite_file

    path = sqlite_file(database_url)
    if path is not None and not Path(path).exists():
        raise ScoutError(
            f"no database file at {path}; check --db / DATABASE_URL (create a store with "
            f"`python -m models migrate --db sqlite:///{path}` and import data)"
        )


def database_error(err: BaseException, database_url: str | None = None) -> str | None:
    """One line saying what is wrong with the database behind `err`, or None if `err`
    is not a database error (for the CLI and the bot, which show no tracebacks)."""
    from models.store import database_problem

    return database_problem(err, database_url)


def prepare(database_url: str) -> None:
    """Bring the database to the newest migration (a fresh file or server database
    becomes a ready, empty store) so the first command a new user types just works."""
    from models.migrate import is_current, upgrade

    if not is_current(database_url):
        upgrade(database_url)


def scratch(
    database_url: str,
    folder: Path | None = None,
    *,
    kinds: Iterable[str] = DEMO_FILES,
    settings: Settings | None = None,
    progress: bool = False,
) -> Recommender:
    """A test and benchmark helper over `assemble`: a migrated store with `folder`'s
    import files (songs, influencers, posts .csv) loaded through the ordinary import
    path, and its recommender."""
    base = settings or Settings.from_env()
    rec = assemble(
        settings=Settings(**{**base.__dict__, "database_url": database_url}), migrate=True
    ).recommender
    if folder is not None:
        for kind in kinds:
            path = Path(folder) / f"{kind}.csv"
            if path.is_file():
                rec.import_file(path, kind, progress=progress)
    return rec
