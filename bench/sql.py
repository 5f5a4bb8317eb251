"""The SQL of `bench.duckdb_reconcile`: the engine's card rules (DESIGN 4), restated in DuckDB.

`INPUTS` turns the raw text tables into typed ones and resolves the maps (4.1, 4.2); `CARDS`
builds the cards (4.3 to 4.8) with their CSV text. Strings compare byte-wise (DuckDB's default
collation), as Polars compares them.
"""

INPUTS = r"""
CREATE MACRO normalised(name) AS lower(trim(regexp_replace(name, '\s+', ' ', 'g')));
CREATE MACRO flag(text) AS coalesce(lower(trim(text)) IN ('true', '1', 'yes', 'y', 't'), false);
CREATE MACRO months(cycle) AS CASE lower(trim(cycle))
    WHEN 'monthly' THEN 1 WHEN 'quarterly' THEN 3
    WHEN 'semi-annual' THEN 6 WHEN 'semiannual' THEN 6
    WHEN 'annual' THEN 12 WHEN 'annually' THEN 12 WHEN 'yearly' THEN 12 END;

-- One row per PSA contract line.
CREATE TABLE psa AS SELECT account_id, account_name, contract_id, product_id, product_name,
    line_id, quantity::DECIMAL(18, 4) AS quantity, unit_price::DECIMAL(18, 4) AS unit_price,
    months(billing_cycle) AS months
FROM psa_raw;

-- One row per usage line; a line whose status is given and is not active counts 0 but stays,
-- so that its vendor still has data.
CREATE TABLE usage AS SELECT vendor, account_id, account_name, product_id, product_name,
    CASE WHEN status IS NULL OR lower(trim(status)) IN ('active', '') THEN quantity
         ELSE '0' END::DECIMAL(18, 4) AS quantity
FROM usage_raw;

-- One row per catalogue product: the first price and cycle given for it, in file order.
CREATE TABLE catalog_prices AS SELECT product_id,
    arg_min(unit_price::DECIMAL(18, 4), rowid) FILTER (WHERE unit_price IS NOT NULL) AS price,
    arg_min(months(billing_cycle), rowid) FILTER (WHERE months(billing_cycle) IS NOT NULL) AS months
FROM catalog_raw GROUP BY product_id;

-- One row per PSA account / PSA product, with its name: the smallest on its lines; for a
-- product the catalogue's name wins.
CREATE TABLE psa_accounts AS
SELECT account_id, min(account_name) AS name FROM psa GROUP BY account_id;
CREATE TABLE psa_products AS
SELECT product_id, coalesce(c.name, l.name) AS name
FROM (SELECT product_id, min(product_name) AS name FROM psa GROUP BY product_id) AS l
FULL JOIN (SELECT product_id, min(product_name) AS name FROM catalog_raw GROUP BY product_id) AS c
    USING (product_id);

-- One row per map row, explicit ones in file order, then the auto-maps (4.1): a vendor item
-- without a map row whose normalised name is that of exactly one PSA item.
CREATE TABLE account_maps AS
SELECT vendor, vendor_account_id AS vendor_id, psa_account_id AS psa_id,
    flag(excluded) AS excluded, rowid AS position
FROM account_map_raw;
INSERT INTO account_maps
SELECT v.vendor, v.account_id, p.psa_id, false, 1000000000000000 + row_number() OVER ()
FROM (SELECT vendor, account_id, min(account_name) AS name FROM usage GROUP BY ALL) AS v
JOIN (SELECT normalised(name) AS key, any_value(account_id) AS psa_id FROM psa_accounts
      WHERE normalised(name) IS NOT NULL GROUP BY key HAVING count(*) = 1) AS p
    ON normalised(v.name) = p.key
WHERE NOT EXISTS (SELECT 1 FROM account_maps AS m
                  WHERE m.vendor = v.vendor AND m.vendor_id = v.account_id);

CREATE TABLE product_maps AS
SELECT vendor, vendor_product_id AS vendor_id, psa_product_id AS psa_id,
    flag(excluded) AS excluded, rowid AS position
FROM product_map_raw;
INSERT INTO product_maps
SELECT v.vendor, v.product_id, p.psa_id, false, 1000000000000000 + row_number() OVER ()
FROM (SELECT vendor, product_id, min(product_name) AS name FROM usage GROUP BY ALL) AS v
JOIN (SELECT normalised(name) AS key, any_value(product_id) AS psa_id FROM psa_products
      WHERE normalised(name) IS NOT NULL GROUP BY key HAVING count(*) = 1) AS p
    ON normalised(v.name) = p.key
WHERE NOT EXISTS (SELECT 1 FROM product_maps AS m
                  WHERE m.vendor = v.vendor AND m.vendor_id = v.product_id);

-- Usage through the maps (4.2): the first map row of a vendor item decides; excluded maps to
-- nothing. One row per usage line that reaches a card.
CREATE TABLE mapped_usage AS
WITH account_lookup AS (
    SELECT vendor, vendor_id, CASE WHEN excluded THEN NULL ELSE psa_id END AS psa_id
    FROM account_maps QUALIFY row_number() OVER (PARTITION BY vendor, vendor_id
                                                 ORDER BY position) = 1
), product_lookup AS (
    SELECT vendor, vendor_id, CASE WHEN excluded THEN NULL ELSE psa_id END AS psa_id
    FROM product_maps QUALIFY row_number() OVER (PARTITION BY vendor, vendor_id
                                                 ORDER BY position) = 1
)
SELECT u.vendor, a.psa_id AS account_id, p.psa_id AS product_id, u.quantity
FROM usage AS u
JOIN account_lookup AS a ON a.vendor = u.vendor AND a.vendor_id = u.account_id
JOIN product_lookup AS p ON p.vendor = u.vendor AND p.vendor_id = u.product_id
WHERE a.psa_id IS NOT NULL AND p.psa_id IS NOT NULL;

-- One row per vendor and PSA account (product) it maps something to; as for usage, the first
-- map row of a vendor item decides, and an excluded one maps to nothing.
CREATE TABLE account_pairs AS SELECT DISTINCT vendor, psa_id FROM (
    FROM account_maps
    QUALIFY row_number() OVER (PARTITION BY vendor, vendor_id ORDER BY position) = 1)
WHERE NOT excluded AND psa_id IS NOT NULL;
CREATE TABLE product_pairs AS SELECT DISTINCT vendor, psa_id FROM (
    FROM product_maps
    QUALIFY row_number() OVER (PARTITION BY vendor, vendor_id ORDER BY position) = 1)
WHERE NOT excluded AND psa_id IS NOT NULL;
"""

CARDS = r"""
-- 4.4 and 4.5: one row per (account, product) of a reconciled product with PSA lines: the
-- sum over its lines and its target line (largest quantity, then smallest contract and line
-- id as text, a missing id being the empty text).
CREATE TABLE psa_cards AS
SELECT account_id, product_id, psa_quantity, nullif(contract_id, '') AS contract_id,
    nullif(line_id, '') AS line_id, unit_price, months
FROM (
    SELECT *, sum(quantity) OVER (PARTITION BY account_id, product_id) AS psa_quantity
    FROM psa
    WHERE product_id IN (SELECT psa_id FROM product_pairs)
    QUALIFY row_number() OVER (
        PARTITION BY account_id, product_id
        ORDER BY quantity DESC NULLS FIRST, coalesce(contract_id, ''), coalesce(line_id, '')
    ) = 1
);

-- 4.3 and 4.6: one row per (account, product) some vendor could count: its mapped usage, and
-- a 0 from every vendor mapping both the account and the product of a PSA card. A vendor has
-- data when it appears in the usage files.
CREATE TABLE vendor_cards AS
WITH side AS (
    SELECT vendor, account_id, product_id, quantity FROM mapped_usage
    UNION ALL
    SELECT a.vendor, c.account_id, c.product_id, 0::DECIMAL(18, 4)
    FROM psa_cards AS c JOIN account_pairs AS a ON a.psa_id = c.account_id
    WHERE EXISTS (SELECT 1 FROM product_pairs AS p
                  WHERE p.vendor = a.vendor AND p.psa_id = c.product_id)
), with_data AS (SELECT DISTINCT vendor, true AS has_data FROM usage)
SELECT account_id, product_id, bool_or(coalesce(has_data, false)) AS known,
    sum(quantity) FILTER (WHERE has_data) AS vendor_quantity
FROM side LEFT JOIN with_data USING (vendor)
GROUP BY account_id, product_id;

-- 4.7 and 4.8: one row per card, its numbers as the cards CSV writes them.
CREATE MACRO plain(q) AS regexp_replace(regexp_replace(q::DECIMAL(18, 4)::VARCHAR, '0+$', ''),
                                        '\.$', '');
CREATE MACRO price_text(p) AS regexp_replace(p::DECIMAL(18, 4)::VARCHAR,
                                             '(\.\d\d\d*?)0+$', '\1');
CREATE MACRO units(d) AS (d::DECIMAL(38, 4) * 10000)::HUGEINT;
-- change × price ÷ months, rounded half away from zero to cents: change and price in 1/10000
-- make the product in 1/10^8; cents are that ÷ (10^6 × months).
CREATE MACRO cents(change, price, months) AS
    sign(units(change) * units(price))
    * ((abs(units(change) * units(price)) + 500000 * coalesce(months, 1))
       // (1000000 * coalesce(months, 1)));
CREATE MACRO money_text(c) AS CASE WHEN c IS NOT NULL THEN
    CASE WHEN c < 0 THEN '-' ELSE '' END || (abs(c) // 100)::VARCHAR || '.'
    || lpad((abs(c) % 100)::VARCHAR, 2, '0') END;

CREATE TABLE cards AS
WITH joined AS (
    SELECT coalesce(p.account_id, v.account_id) AS account_id,
        coalesce(p.product_id, v.product_id) AS product_id,
        p.psa_quantity IS NOT NULL AS has_line,
        coalesce(v.known, false) AS known,
        coalesce(p.psa_quantity, 0) AS psa_quantity,
        CASE WHEN v.known THEN v.vendor_quantity END AS vendor_quantity,
        p.contract_id, p.line_id,
        CASE WHEN p.psa_quantity IS NOT NULL THEN p.unit_price ELSE c.price END AS unit_price,
        CASE WHEN p.psa_quantity IS NOT NULL THEN p.months ELSE c.months END AS months
    FROM psa_cards AS p
    FULL JOIN vendor_cards AS v USING (account_id, product_id)
    LEFT JOIN catalog_prices AS c ON c.product_id = coalesce(p.product_id, v.product_id)
), typed AS (
    SELECT *, vendor_quantity - psa_quantity AS change,
        CASE WHEN NOT has_line THEN 'new_revenue'
             WHEN NOT known THEN 'no_vendor_data'
             WHEN vendor_quantity = psa_quantity THEN 'unchanged'
             WHEN vendor_quantity > psa_quantity THEN 'increase'
             WHEN vendor_quantity = 0 THEN 'removal'
             ELSE 'decrease' END AS card_type
    FROM joined
    WHERE has_line OR (known AND vendor_quantity > 0)
)
SELECT t.account_id, a.name AS account_name, t.product_id, p.name AS product_name,
    t.contract_id, t.line_id, plain(t.psa_quantity) AS psa_quantity,
    plain(t.vendor_quantity) AS vendor_quantity, plain(t.change) AS change, t.card_type,
    price_text(t.unit_price) AS unit_price,
    money_text(cents(t.change, t.unit_price, t.months)) AS monthly_value
FROM typed AS t
LEFT JOIN psa_accounts AS a USING (account_id)
LEFT JOIN psa_products AS p USING (product_id);
"""
