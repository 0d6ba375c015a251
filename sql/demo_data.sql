-- Demo users, wallets and auctions (the same set as `flask --app auction demo load`).
-- Generated from auction/demo.py by `flask --app auction db schema-sql`; do not edit by hand.
--
-- Load after sql/schema.sql:  mariadb -u root -p auction < sql/demo_data.sql
-- Users alice, bob, carol (seller) and admin (an admin), password for all: demo-password
-- Wallet credits, written as ledger transactions (so `flask --app auction wallet audit` passes): alice R$ 500.00, bob R$ 500.00.
-- Auctions end relative to the time of loading. Running it again adds nothing.

SET NAMES utf8mb4;
START TRANSACTION;
-- Times are naive UTC, like everything the app stores.
SET @now = UTC_TIMESTAMP(6);

-- The platform's settlement account: money in from payments is taken from it.
INSERT INTO wallets (kind, code, available, held, updated_at)
SELECT 'settlement', 'settlement', 0, 0, @now FROM DUAL
WHERE NOT EXISTS (SELECT 1 FROM wallets WHERE code = 'settlement');

INSERT INTO users (username, email, password_hash, cpf_cnpj, is_admin, created_at, email_verified_at)
SELECT 'alice', 'alice@demo.example', 'scrypt:32768:8:1$demoalicesalt$b7756b55df6c71aa756cc5ef890d203102616701d7af0e365baf1f16171980a2eed1f2862e346c6b2406ed353a4bc0455525fa86ec929a69dd47efd7ad1e05d8',
       '52998224725', 0, @now, @now FROM DUAL
WHERE NOT EXISTS (SELECT 1 FROM users WHERE username = 'alice');
INSERT INTO wallets (user_id, kind, available, held, updated_at)
SELECT u.id, 'user', 0, 0, @now FROM users u WHERE u.username = 'alice'
  AND NOT EXISTS (SELECT 1 FROM wallets w WHERE w.user_id = u.id);

INSERT INTO users (username, email, password_hash, cpf_cnpj, is_admin, created_at, email_verified_at)
SELECT 'bob', 'bob@demo.example', 'scrypt:32768:8:1$demobobsalt$3bdab908f5b03cb79ca8b5459d3ff909b1d4f379994af8ac6365bd092aa3dad84231ad464cc012deb4f5d5035fba81cf76fcf3d338f9258c248e94d60e766ac7',
       '11144477735', 0, @now, @now FROM DUAL
WHERE NOT EXISTS (SELECT 1 FROM users WHERE username = 'bob');
INSERT INTO wallets (user_id, kind, available, held, updated_at)
SELECT u.id, 'user', 0, 0, @now FROM users u WHERE u.username = 'bob'
  AND NOT EXISTS (SELECT 1 FROM wallets w WHERE w.user_id = u.id);

INSERT INTO users (username, email, password_hash, cpf_cnpj, is_admin, created_at, email_verified_at)
SELECT 'carol', 'carol@demo.example', 'scrypt:32768:8:1$democarolsalt$3aa8fb8c14cabedfb67e23a2e41398319f467f66fc1123099359a58e8a5e124b384b2b6a794b272c96358cfdf4fac384be9219961035e93ce2a0c0665f6b0358',
       '39053344705', 0, @now, @now FROM DUAL
WHERE NOT EXISTS (SELECT 1 FROM users WHERE username = 'carol');
INSERT INTO wallets (user_id, kind, available, held, updated_at)
SELECT u.id, 'user', 0, 0, @now FROM users u WHERE u.username = 'carol'
  AND NOT EXISTS (SELECT 1 FROM wallets w WHERE w.user_id = u.id);

INSERT INTO users (username, email, password_hash, cpf_cnpj, is_admin, created_at, email_verified_at)
SELECT 'admin', 'admin@demo.example', 'scrypt:32768:8:1$demoadminsalt$0f1e75736faed9568d0bb0c6cec1a0feb59c831e494aa27ae872793893b16208460169b998635bfac50f2250c00c6bd090261625f73880362835b7e1de969422',
       '15350946056', 1, @now, @now FROM DUAL
WHERE NOT EXISTS (SELECT 1 FROM users WHERE username = 'admin');
INSERT INTO wallets (user_id, kind, available, held, updated_at)
SELECT u.id, 'user', 0, 0, @now FROM users u WHERE u.username = 'admin'
  AND NOT EXISTS (SELECT 1 FROM wallets w WHERE w.user_id = u.id);

INSERT INTO ledger_transactions (idempotency_key, kind, reason, amount, wallet_id, created_debt, created_at)
SELECT CONCAT('demo-credit-', u.id), 'credit', 'demo_credit', 50000, w.id, 0, @now
FROM users u JOIN wallets w ON w.user_id = u.id WHERE u.username = 'alice'
  AND NOT EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.idempotency_key = CONCAT('demo-credit-', u.id));
INSERT INTO ledger_entries (transaction_id, wallet_id, bucket, amount)
SELECT t.id, s.id, 'available', -50000
FROM users u JOIN ledger_transactions t ON t.idempotency_key = CONCAT('demo-credit-', u.id)
JOIN wallets s ON s.code = 'settlement' WHERE u.username = 'alice'
  AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.transaction_id = t.id)
UNION ALL
SELECT t.id, t.wallet_id, 'available', 50000
FROM users u JOIN ledger_transactions t ON t.idempotency_key = CONCAT('demo-credit-', u.id)
WHERE u.username = 'alice'
  AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.transaction_id = t.id);

INSERT INTO ledger_transactions (idempotency_key, kind, reason, amount, wallet_id, created_debt, created_at)
SELECT CONCAT('demo-credit-', u.id), 'credit', 'demo_credit', 50000, w.id, 0, @now
FROM users u JOIN wallets w ON w.user_id = u.id WHERE u.username = 'bob'
  AND NOT EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.idempotency_key = CONCAT('demo-credit-', u.id));
INSERT INTO ledger_entries (transaction_id, wallet_id, bucket, amount)
SELECT t.id, s.id, 'available', -50000
FROM users u JOIN ledger_transactions t ON t.idempotency_key = CONCAT('demo-credit-', u.id)
JOIN wallets s ON s.code = 'settlement' WHERE u.username = 'bob'
  AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.transaction_id = t.id)
UNION ALL
SELECT t.id, t.wallet_id, 'available', 50000
FROM users u JOIN ledger_transactions t ON t.idempotency_key = CONCAT('demo-credit-', u.id)
WHERE u.username = 'bob'
  AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.transaction_id = t.id);

-- The users' cached balances are what their ledger entries sum to (what the wallet audit checks);
-- the settlement account keeps no cached balance (its entries are its balance).
UPDATE wallets w SET
  available = (SELECT COALESCE(SUM(e.amount), 0) FROM ledger_entries e
               WHERE e.wallet_id = w.id AND e.bucket = 'available'),
  updated_at = @now
WHERE w.user_id IN (SELECT id FROM users WHERE username IN ('alice', 'bob', 'carol', 'admin'));

INSERT INTO auctions (seller_id, title, description, starting_price, item_condition, delivery,
                      shipping_cost, city, uf, starts_at, ends_at, status, created_at)
SELECT u.id, 'Vintage film camera', 'A 1970s 35 mm rangefinder, working shutter, light wear.', 5000, 'used', 'ship', 2500, 'São Paulo', 'SP',
       @now, @now + INTERVAL 30 MINUTE, 'open', @now
FROM users u WHERE u.username = 'carol'
  AND NOT EXISTS (SELECT 1 FROM auctions a WHERE a.seller_id = u.id AND a.title = 'Vintage film camera');

INSERT INTO auctions (seller_id, title, description, starting_price, item_condition, delivery,
                      shipping_cost, city, uf, starts_at, ends_at, status, created_at)
SELECT u.id, 'Mechanical keyboard', 'Tenkeyless, brown switches, barely used.', 12000, 'like_new', 'ship', 0, 'Belo Horizonte', 'MG',
       @now, @now + INTERVAL 90 MINUTE, 'open', @now
FROM users u WHERE u.username = 'carol'
  AND NOT EXISTS (SELECT 1 FROM auctions a WHERE a.seller_id = u.id AND a.title = 'Mechanical keyboard');

INSERT INTO auctions (seller_id, title, description, starting_price, item_condition, delivery,
                      shipping_cost, city, uf, starts_at, ends_at, status, created_at)
SELECT u.id, 'Road bicycle', 'Aluminium frame, 54 cm, new tyres.', 60000, 'used', 'pickup', NULL, 'Curitiba', 'PR',
       @now, @now + INTERVAL 1440 MINUTE, 'open', @now
FROM users u WHERE u.username = 'carol'
  AND NOT EXISTS (SELECT 1 FROM auctions a WHERE a.seller_id = u.id AND a.title = 'Road bicycle');

INSERT INTO auctions (seller_id, title, description, starting_price, item_condition, delivery,
                      shipping_cost, city, uf, starts_at, ends_at, status, created_at)
SELECT u.id, 'First-edition novel', 'Signed by the author; small tear on the jacket.', 20000, 'used', 'ship', 1800, 'Recife', 'PE',
       @now, @now + INTERVAL 4320 MINUTE, 'open', @now
FROM users u WHERE u.username = 'carol'
  AND NOT EXISTS (SELECT 1 FROM auctions a WHERE a.seller_id = u.id AND a.title = 'First-edition novel');

COMMIT;
