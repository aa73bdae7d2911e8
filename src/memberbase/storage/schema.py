"""Creating, upgrading and checking the schema with Alembic (the truth of the schema)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from memberbase.storage.database import async_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Alembic reads the URL back through ConfigParser: escape '%' (e.g. in passwords).
    url = async_url(database_url).render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(database_url: str) -> None:
    """Create the schema, or bring it to the newest migration. Safe to run at every start."""
    command.upgrade(alembic_config(database_url), "head")


def check(database_url: str) -> None:
    """Raise when the tables in code and the migrations disagree."""
    command.check(alembic_config(database_url))
