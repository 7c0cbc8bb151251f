-- `edit_config`: a paused basket's config changed from the dashboard (the
-- worker validates it against the symbol's live rules and records the change
-- in a `config_changed` event).
ALTER TABLE commands DROP CONSTRAINT commands_kind_check;
ALTER TABLE commands ADD CONSTRAINT commands_kind_check
    CHECK (kind IN ('close_all', 'close_basket', 'pause', 'resume', 'reanchor', 'create_basket', 'edit_config'));

-- The newest basket of a symbol: the rules the dashboard knows for it (the
-- "New basket" form's preview), one index range.
CREATE INDEX idx_baskets_symbol ON baskets (symbol, id DESC);
