"""Storage: SQLAlchemy Core over aiosqlite (PostgreSQL-ready), Alembic migrations, backups."""

from bot.db.engine import Database, utcnow

__all__ = ["Database", "utcnow"]
