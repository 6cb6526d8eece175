"""The one place that assembles Scout: it reads the settings, opens the one Store and
hands it to the Recommender facade, the workspace state, import and training. The CLI,
the bot, the benchmarks and the tests all start here, so a process holds one connection
pool and a test can hand the facade any store it likes."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from engine.core.settings import Settings
from engine.service import Recommender

DEMO_FILES = ("songs", "influencers", "posts")  # import order: posts refer to both others


def bootstrap(
    database_url: str | None = None,
    *,
    settings: Settings | None = None,
    background_reload: bool = False,
) -> Recommender:
    """The facade over the store named by `settings` (default: the environment, with
    `database_url` overriding DATABASE_URL, as `--db` does). `background_reload`: for a
    long-running server (engine.service.Recommender)."""
    from models.store import Store
    from models.workspace import Workspace

    settings = settings or Settings.from_env(database_url)
    store = Store(settings.database_url)
    return Recommender(
        store, settings, workspace=Workspace(store), background_reload=background_reload
    )


def bootstrap_existing(database_url: str | None = None) -> Recommender:
    """The facade for a read-only command: a SQLite file that does not exist is an
    error, not a new empty file (a typo in --db must not create one)."""
    from engine.core.errors import ScoutError
    from models.store import sqlite_file

    settings = Settings.from_env(database_url)
    path = sqlite_file(settings.database_url)
    if path is not None and not Path(path).exists():
        raise ScoutError(
            f"no database file at {path}; check --db / DATABASE_URL (create a store with "
            f"`python -m models migrate --db sqlite:///{path}` and import data)"
        )
    return bootstrap(settings=settings)


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


def bootstrap_prepared(database_url: str | None = None) -> Recommender:
    """The facade over a store brought to the newest migration first (commands that
    write: import, demo, train, models)."""
    rec = bootstrap(database_url)
    prepare(rec.settings.database_url)
    return rec


def scratch(
    database_url: str,
    folder: Path | None = None,
    *,
    kinds: Iterable[str] = DEMO_FILES,
    settings: Settings | None = None,
    progress: bool = False,
) -> Recommender:
    """A migrated store with `folder`'s import files (songs, influencers, posts .csv)
    loaded through the ordinary import path: the set-up every benchmark, the test
    fixtures and `engine demo` share."""
    prepare(database_url)
    base = settings or Settings.from_env()
    rec = bootstrap(settings=Settings(**{**base.__dict__, "database_url": database_url}))
    if folder is not None:
        for kind in kinds:
            path = Path(folder) / f"{kind}.csv"
            if path.is_file():
                rec.import_file(path, kind, progress=progress)
    return rec
