-- Every cycle renews each held basket's lease (UPDATE of lease_until, which no
-- index covers). A baskets row is ~2 kB (config, rules, state JSONB), so a full
-- page leaves no room for the new row version and every renewal was a non-HOT
-- update: dead tuples and index entries piled up faster than autovacuum ran,
-- and cycles slowed down over time. Half-empty pages let renewals be HOT
-- updates, which page pruning reclaims without vacuum.
ALTER TABLE baskets SET (fillfactor = 50);
