"""Scout's store: SQLAlchemy 2 models, sessions and the artifact registry."""
