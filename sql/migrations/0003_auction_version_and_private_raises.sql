-- Migration 0003: auction version and private raises
-- Generated from migrations/versions/0003_auction_version_and_private_raises.py by
--   flask --app auction db migration-sql
-- Apply to a MariaDB database at revision 0002:
--   mariadb -u USER -p DBNAME < sql/migrations/0003_auction_version_and_private_raises.sql

-- Running upgrade 0002 -> 0003

ALTER TABLE auctions ADD COLUMN version INTEGER NOT NULL DEFAULT 0;

ALTER TABLE bids ADD COLUMN is_raise BOOL NOT NULL DEFAULT 0;

UPDATE alembic_version SET version_num='0003' WHERE alembic_version.version_num = '0002';
