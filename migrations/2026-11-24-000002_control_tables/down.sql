DROP TABLE market_prices;
DROP TABLE bot_status;
DROP TABLE events;
DROP TRIGGER commands_notify ON commands;
DROP TABLE commands;
DROP FUNCTION notify_bot_commands();
