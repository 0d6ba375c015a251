-- Migration 0010: listing facts
-- Generated from migrations/versions/0010_listing_facts.py by
--   flask --app auction db migration-sql
-- Apply to a MariaDB database at revision 0009:
--   mariadb -u USER -p DBNAME < sql/migrations/0010_listing_facts.sql

-- Running upgrade 0009 -> 0010

ALTER TABLE auctions ADD COLUMN item_condition VARCHAR(16);

ALTER TABLE auctions ADD COLUMN delivery VARCHAR(8);

ALTER TABLE auctions ADD COLUMN shipping_cost BIGINT;

ALTER TABLE auctions ADD COLUMN city VARCHAR(80);

ALTER TABLE auctions ADD COLUMN uf VARCHAR(2);

UPDATE alembic_version SET version_num='0010' WHERE alembic_version.version_num = '0009';
