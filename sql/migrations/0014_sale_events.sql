-- Migration 0014: sale events: a catalogue of lots closing one after another
-- Generated from migrations/versions/0014_sale_events.py by
--   flask --app auction db migration-sql
-- Apply to a MariaDB database at revision 0013:
--   mariadb -u USER -p DBNAME < sql/migrations/0014_sale_events.sql

-- Running upgrade 0013 -> 0014

CREATE TABLE sale_events (
    id INTEGER NOT NULL AUTO_INCREMENT,
    organizer_id INTEGER NOT NULL,
    title VARCHAR(120) NOT NULL,
    description TEXT NOT NULL,
    terms TEXT NOT NULL,
    terms_version INTEGER NOT NULL DEFAULT 1,
    first_close_at DATETIME(6) NOT NULL,
    lot_interval_seconds INTEGER NOT NULL,
    soft_close_seconds INTEGER NOT NULL,
    premium_bps INTEGER NOT NULL DEFAULT 0,
    deposit_bps INTEGER,
    created_at DATETIME(6) NOT NULL,
    CONSTRAINT pk_sale_events PRIMARY KEY (id),
    CONSTRAINT fk_sale_events_organizer_id_users FOREIGN KEY(organizer_id) REFERENCES users (id)
)CHARSET=utf8mb4 ENGINE=InnoDB COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_sale_events_organizer_id ON sale_events (organizer_id);

ALTER TABLE auctions ADD COLUMN event_id INTEGER;

ALTER TABLE auctions ADD COLUMN lot_number INTEGER;

ALTER TABLE auctions ADD CONSTRAINT uq_auctions_event_lot UNIQUE (event_id, lot_number);

ALTER TABLE auctions ADD CONSTRAINT fk_auctions_event_id_sale_events FOREIGN KEY(event_id) REFERENCES sale_events (id);

UPDATE alembic_version SET version_num='0014' WHERE alembic_version.version_num = '0013';
