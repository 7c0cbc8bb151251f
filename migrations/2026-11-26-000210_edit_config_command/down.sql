DROP INDEX idx_baskets_symbol;

-- The older schema has no such kind: its rows go with it.
DELETE FROM commands WHERE kind = 'edit_config';
ALTER TABLE commands DROP CONSTRAINT commands_kind_check;
ALTER TABLE commands ADD CONSTRAINT commands_kind_check
    CHECK (kind IN ('close_all', 'close_basket', 'pause', 'resume', 'reanchor', 'create_basket'));
