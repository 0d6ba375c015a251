-- Migration 0007: payment movements
-- Generated from migrations/versions/0007_payment_movements.py by
--   flask --app auction db migration-sql
-- Apply to a MariaDB database at revision 0006:
--   mariadb -u USER -p DBNAME < sql/migrations/0007_payment_movements.sql

-- Running upgrade 0006 -> 0007

ALTER TABLE payments ADD COLUMN movements INTEGER NOT NULL DEFAULT 0;

UPDATE payments SET movements = (SELECT count(*) FROM ledger_transactions WHERE ledger_transactions.payment_id = payments.id);

UPDATE alembic_version SET version_num='0007' WHERE alembic_version.version_num = '0006';
