ALTER TABLE bot_status DROP COLUMN metrics;
DROP TRIGGER fills_count_delete ON fills;
DROP TRIGGER fills_count_insert ON fills;
DROP FUNCTION baskets_count_fills_deleted();
DROP FUNCTION baskets_count_fills_inserted();
ALTER TABLE baskets DROP COLUMN fills_count;
