-- Migration 0012: ending soon stages
-- Generated from migrations/versions/0012_ending_soon_stages.py by
--   flask --app auction db migration-sql
-- Apply to a MariaDB database at revision 0011:
--   mariadb -u USER -p DBNAME < sql/migrations/0012_ending_soon_stages.sql

-- Running upgrade 0011 -> 0012

ALTER TABLE auctions ADD COLUMN ending_soon_stage SMALLINT NOT NULL DEFAULT 0;

UPDATE auctions SET ending_soon_stage = 100 WHERE ending_soon_sent = 1;

ALTER TABLE auctions DROP COLUMN ending_soon_sent;

UPDATE alembic_version SET version_num='0012' WHERE alembic_version.version_num = '0011';
