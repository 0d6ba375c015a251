"""The database: SQL helpers (`sql.py`), the engine for either backend (`engine.py`), and the unit-of-work
runner (`runner.py`). Everything the rest of the site uses is importable from `auction.db`."""

from .engine import MARIADB_TIMEOUTS, OSThreadQueuePool, build_engine, rollback_if_open, safe_url
from .runner import (
    MAX_ATTEMPTS,
    MAX_DUPLICATE_RETRIES,
    Database,
    DatabaseUnavailable,
    Offload,
    is_duplicate_key,
    is_retryable,
    is_unavailable,
)
from .sql import MYSQL_OPTIONS, NAMING_CONVENTION, UTCDateTime, lock_existing, lock_row, table_args, upsert

__all__ = [
    "MARIADB_TIMEOUTS",
    "MAX_ATTEMPTS",
    "MAX_DUPLICATE_RETRIES",
    "MYSQL_OPTIONS",
    "NAMING_CONVENTION",
    "Database",
    "DatabaseUnavailable",
    "OSThreadQueuePool",
    "Offload",
    "UTCDateTime",
    "build_engine",
    "is_duplicate_key",
    "is_retryable",
    "is_unavailable",
    "lock_existing",
    "lock_row",
    "rollback_if_open",
    "safe_url",
    "table_args",
    "upsert",
]
