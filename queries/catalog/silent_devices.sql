-- name: silent_devices
-- description: Sources that sent events in the range but none in its last silent_minutes minutes.
-- param: from timestamp (default -24h) Start of the event-time range (inclusive).
-- param: to timestamp (default now) End of the event-time range (exclusive).
-- param: silent_minutes integer (default 10) Minutes without events before 'to' that make a source silent.
-- param: type string (default telemetry) Event type that counts as a sign of life.
-- Partitions are hours of arrival: scan from one hour before 'from' (future skew) to two after 'to' (late arrivals).
-- The archive is at-least-once, so events are deduplicated by eventid first.
WITH e AS (
  SELECT eventid, arbitrary(source) AS source, arbitrary(ts) AS ts
  FROM events
  WHERE dt BETWEEN date_format({{from}} - INTERVAL '1' HOUR, '%Y-%m-%d-%H')
              AND date_format({{to}} + INTERVAL '2' HOUR, '%Y-%m-%d-%H')
    AND ts >= {{from}} AND ts < {{to}}
    AND type = {{type}}
  GROUP BY eventid
)
SELECT source, max(ts) AS last_seen, count(*) AS events, date_diff('second', max(ts), {{to}}) AS silent_seconds
FROM e
GROUP BY source
HAVING max(ts) < {{to}} - {{silent_minutes}} * INTERVAL '1' MINUTE
ORDER BY last_seen, source
