ALTER TABLE baskets RESET (fillfactor);
