"""Database backends of the project (see :mod:`reexapi.db.postgresql`)."""
