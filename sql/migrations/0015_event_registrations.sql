-- Migration 0015: event registrations: the terms version each bidder accepted for a sale event (habilitação)
-- Generated from migrations/versions/0015_event_registrations.py by
--   flask --app auction db migration-sql
-- Apply to a MariaDB database at revision 0014:
--   mariadb -u USER -p DBNAME < sql/migrations/0015_event_registrations.sql

-- Running upgrade 0014 -> 0015

CREATE TABLE event_registrations (
    id INTEGER NOT NULL AUTO_INCREMENT,
    event_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    terms_version INTEGER NOT NULL,
    accepted_at DATETIME(6) NOT NULL,
    CONSTRAINT pk_event_registrations PRIMARY KEY (id),
    CONSTRAINT fk_event_registrations_event_id_sale_events FOREIGN KEY(event_id) REFERENCES sale_events (id),
    CONSTRAINT fk_event_registrations_user_id_users FOREIGN KEY(user_id) REFERENCES users (id),
    CONSTRAINT uq_event_registrations_event_user UNIQUE (event_id, user_id)
)CHARSET=utf8mb4 ENGINE=InnoDB COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_event_registrations_user_id ON event_registrations (user_id);

UPDATE alembic_version SET version_num='0015' WHERE alembic_version.version_num = '0014';
