-- Migration 0009: alerts by e-mail and push
-- Generated from migrations/versions/0009_alerts_by_e_mail_and_push.py by
--   flask --app auction db migration-sql
-- Apply to a MariaDB database at revision 0008:
--   mariadb -u USER -p DBNAME < sql/migrations/0009_alerts_by_e_mail_and_push.sql

-- Running upgrade 0008 -> 0009

CREATE TABLE alert_preferences (
    user_id INTEGER NOT NULL,
    kind VARCHAR(32) NOT NULL,
    channel VARCHAR(8) NOT NULL,
    enabled BOOL NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    CONSTRAINT pk_alert_preferences PRIMARY KEY (user_id, kind, channel),
    CONSTRAINT fk_alert_preferences_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
)CHARSET=utf8mb4 ENGINE=InnoDB COLLATE utf8mb4_unicode_ci;

CREATE TABLE alert_settings (
    user_id INTEGER NOT NULL,
    locale VARCHAR(8) NOT NULL,
    while_watching BOOL NOT NULL DEFAULT 0,
    updated_at DATETIME(6) NOT NULL,
    CONSTRAINT pk_alert_settings PRIMARY KEY (user_id),
    CONSTRAINT fk_alert_settings_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
)CHARSET=utf8mb4 ENGINE=InnoDB COLLATE utf8mb4_unicode_ci;

CREATE TABLE push_subscriptions (
    id INTEGER NOT NULL AUTO_INCREMENT,
    user_id INTEGER NOT NULL,
    endpoint_hash VARCHAR(64) NOT NULL,
    endpoint TEXT NOT NULL,
    p256dh VARCHAR(200) NOT NULL,
    auth VARCHAR(64) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    CONSTRAINT pk_push_subscriptions PRIMARY KEY (id),
    CONSTRAINT fk_push_subscriptions_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT uq_push_subscriptions_endpoint_hash UNIQUE (endpoint_hash)
)CHARSET=utf8mb4 ENGINE=InnoDB COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_push_subscriptions_user_id ON push_subscriptions (user_id);

CREATE TABLE alert_deliveries (
    id INTEGER NOT NULL AUTO_INCREMENT,
    user_id INTEGER NOT NULL,
    kind VARCHAR(32) NOT NULL,
    channel VARCHAR(8) NOT NULL,
    auction_id INTEGER,
    message VARCHAR(500) NOT NULL,
    path VARCHAR(200) NOT NULL,
    status VARCHAR(8) NOT NULL DEFAULT 'pending',
    note VARCHAR(300),
    attempts INTEGER NOT NULL DEFAULT 0,
    due_at DATETIME(6) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    sent_at DATETIME(6),
    CONSTRAINT pk_alert_deliveries PRIMARY KEY (id),
    CONSTRAINT fk_alert_deliveries_auction_id_auctions FOREIGN KEY(auction_id) REFERENCES auctions (id) ON DELETE SET NULL,
    CONSTRAINT fk_alert_deliveries_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
)CHARSET=utf8mb4 ENGINE=InnoDB COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_alert_deliveries_status_due_at ON alert_deliveries (status, due_at);

CREATE INDEX ix_alert_deliveries_user_id_kind_auction_id ON alert_deliveries (user_id, kind, auction_id);

ALTER TABLE notifications ADD COLUMN alert_pending BOOL NOT NULL DEFAULT 0;

CREATE INDEX ix_notifications_alert_pending ON notifications (alert_pending);

UPDATE alembic_version SET version_num='0009' WHERE alembic_version.version_num = '0008';
