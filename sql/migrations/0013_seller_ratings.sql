-- Migration 0013: seller ratings
-- Generated from migrations/versions/0013_seller_ratings.py by
--   flask --app auction db migration-sql
-- Apply to a MariaDB database at revision 0012:
--   mariadb -u USER -p DBNAME < sql/migrations/0013_seller_ratings.sql

-- Running upgrade 0012 -> 0013

CREATE TABLE seller_ratings (
    id INTEGER NOT NULL AUTO_INCREMENT,
    order_id INTEGER NOT NULL,
    seller_id INTEGER NOT NULL,
    buyer_id INTEGER NOT NULL,
    stars SMALLINT NOT NULL,
    comment VARCHAR(1000) NOT NULL,
    reply VARCHAR(1000),
    replied_at DATETIME(6),
    created_at DATETIME(6) NOT NULL,
    CONSTRAINT pk_seller_ratings PRIMARY KEY (id),
    CONSTRAINT fk_seller_ratings_buyer_id_users FOREIGN KEY(buyer_id) REFERENCES users (id),
    CONSTRAINT fk_seller_ratings_order_id_orders FOREIGN KEY(order_id) REFERENCES orders (id),
    CONSTRAINT fk_seller_ratings_seller_id_users FOREIGN KEY(seller_id) REFERENCES users (id),
    CONSTRAINT uq_seller_ratings_order_id UNIQUE (order_id)
)CHARSET=utf8mb4 ENGINE=InnoDB COLLATE utf8mb4_unicode_ci;

CREATE INDEX ix_seller_ratings_seller_id_created_at ON seller_ratings (seller_id, created_at);

UPDATE alembic_version SET version_num='0013' WHERE alembic_version.version_num = '0012';
