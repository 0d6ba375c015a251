-- Migration 0008: mail outbox
-- Generated from migrations/versions/0008_mail_outbox.py by
--   flask --app auction db migration-sql
-- Apply to a MariaDB database at revision 0007:
--   mariadb -u USER -p DBNAME < sql/migrations/0008_mail_outbox.sql

-- Running upgrade 0007 -> 0008

CREATE TABLE mail_outbox (
    id INTEGER NOT NULL AUTO_INCREMENT,
    message_id VARCHAR(191) NOT NULL,
    user_id INTEGER,
    kind VARCHAR(40) NOT NULL,
    to_address VARCHAR(254) NOT NULL,
    subject VARCHAR(255) NOT NULL,
    text_body MEDIUMTEXT NOT NULL,
    html_body MEDIUMTEXT NOT NULL,
    headers TEXT,
    status VARCHAR(8) NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DATETIME(6) NOT NULL,
    last_error VARCHAR(255),
    created_at DATETIME(6) NOT NULL,
    sent_at DATETIME(6),
    CONSTRAINT pk_mail_outbox PRIMARY KEY (id),
    CONSTRAINT fk_mail_outbox_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT uq_mail_outbox_message_id UNIQUE (message_id)
)ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_mail_outbox_status_next_attempt_at ON mail_outbox (status, next_attempt_at);

CREATE INDEX ix_mail_outbox_user_id ON mail_outbox (user_id);

UPDATE alembic_version SET version_num='0008' WHERE alembic_version.version_num = '0007';
