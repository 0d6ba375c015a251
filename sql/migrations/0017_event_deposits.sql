-- Migration 0017: event deposits: buying power, caução held and admin approval of registrations
-- Generated from migrations/versions/0017_event_deposits.py by
--   flask --app auction db migration-sql
-- Apply to a MariaDB database at revision 0016:
--   mariadb -u USER -p DBNAME < sql/migrations/0017_event_deposits.sql

-- Running upgrade 0016 -> 0017

ALTER TABLE event_registrations ADD COLUMN status VARCHAR(16) NOT NULL DEFAULT 'approved';

ALTER TABLE event_registrations ADD COLUMN buying_power BIGINT;

ALTER TABLE event_registrations ADD COLUMN deposit BIGINT NOT NULL DEFAULT 0;

ALTER TABLE event_registrations ADD COLUMN decided_by INTEGER;

ALTER TABLE event_registrations ADD COLUMN decided_at DATETIME(6);

ALTER TABLE event_registrations ADD CONSTRAINT fk_event_registrations_decided_by_users FOREIGN KEY(decided_by) REFERENCES users (id);

ALTER TABLE sale_events ADD COLUMN deposit_minimum BIGINT;

ALTER TABLE sale_events ADD COLUMN requires_approval BOOL NOT NULL DEFAULT 0;

UPDATE alembic_version SET version_num='0017' WHERE alembic_version.version_num = '0016';
