-- What an event found, in words, where the outcome alone does not say it
-- (e.g. how many bytes of writes a returning old master had alone).
ALTER TABLE events ADD COLUMN description TEXT;
