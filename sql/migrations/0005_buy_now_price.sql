-- Migration 0005: buy it now price
-- Generated from migrations/versions/0005_buy_now_price.py by
--   flask --app auction db migration-sql
-- Apply to a MariaDB database at revision 0004:
--   mariadb -u USER -p DBNAME < sql/migrations/0005_buy_now_price.sql

-- Running upgrade 0004 -> 0005

ALTER TABLE auctions ADD COLUMN buy_now_price BIGINT;

UPDATE alembic_version SET version_num='0005' WHERE alembic_version.version_num = '0004';
