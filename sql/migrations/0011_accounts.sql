-- Migration 0011: accounts
-- Generated from migrations/versions/0011_accounts.py by
--   flask --app auction db migration-sql
-- Apply to a MariaDB database at revision 0010:
--   mariadb -u USER -p DBNAME < sql/migrations/0011_accounts.sql

-- Running upgrade 0010 -> 0011

CREATE TABLE used_tokens (
    id INTEGER NOT NULL AUTO_INCREMENT,
    nonce VARCHAR(43) NOT NULL,
    purpose VARCHAR(20) NOT NULL,
    used_at DATETIME(6) NOT NULL,
    CONSTRAINT pk_used_tokens PRIMARY KEY (id),
    CONSTRAINT uq_used_tokens_nonce UNIQUE (nonce)
)CHARSET=utf8mb4 ENGINE=InnoDB COLLATE utf8mb4_unicode_ci;

CREATE TABLE consents (
    id INTEGER NOT NULL AUTO_INCREMENT,
    user_id INTEGER NOT NULL,
    document VARCHAR(16) NOT NULL,
    version VARCHAR(16) NOT NULL,
    accepted_at DATETIME(6) NOT NULL,
    CONSTRAINT pk_consents PRIMARY KEY (id),
    CONSTRAINT fk_consents_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
)CHARSET=utf8mb4 ENGINE=InnoDB COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_consents_user_id ON consents (user_id);

CREATE TABLE recovery_codes (
    id INTEGER NOT NULL AUTO_INCREMENT,
    user_id INTEGER NOT NULL,
    code_hash VARCHAR(64) NOT NULL,
    used_at DATETIME(6),
    CONSTRAINT pk_recovery_codes PRIMARY KEY (id),
    CONSTRAINT fk_recovery_codes_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
)CHARSET=utf8mb4 ENGINE=InnoDB COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_recovery_codes_user_id ON recovery_codes (user_id);

ALTER TABLE login_sessions ADD COLUMN user_agent VARCHAR(255);

ALTER TABLE login_sessions ADD COLUMN ip_address VARCHAR(45);

ALTER TABLE login_sessions ADD COLUMN device_hash VARCHAR(64);

ALTER TABLE users ADD COLUMN email_verified_at DATETIME(6);

ALTER TABLE users ADD COLUMN locale VARCHAR(5);

ALTER TABLE users ADD COLUMN security_changed_at DATETIME(6);

ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;

ALTER TABLE users ADD COLUMN locked_until DATETIME(6);

ALTER TABLE users ADD COLUMN totp_secret VARCHAR(64);

ALTER TABLE users ADD COLUMN totp_enabled_at DATETIME(6);

ALTER TABLE users ADD COLUMN deleted_at DATETIME(6);

UPDATE alembic_version SET version_num='0011' WHERE alembic_version.version_num = '0010';
