-- name: events_per_minute
-- description: Events per minute of event time, by type.
-- param: from timestamp (default -24h) Start of the event-time range (inclusive).
-- param: to timestamp (default now) End of the event-time range (exclusive).
-- param: type string (default *) Only this event type ('*' for all).
-- Partitions are hours of arrival: scan from one hour before 'from' (future skew) to two after 'to' (late arrivals).
-- The archive is at-least-once, so events are deduplicated by eventid first.
WITH e AS (
  SELECT eventid, arbitrary(type) AS type, arbitrary(ts) AS ts
  FROM events
  WHERE dt BETWEEN date_format({{from}} - INTERVAL '1' HOUR, '%Y-%m-%d-%H')
              AND date_format({{to}} + INTERVAL '2' HOUR, '%Y-%m-%d-%H')
    AND ts >= {{from}} AND ts < {{to}}
  GROUP BY eventid
)
SELECT date_trunc('minute', ts) AS minute, type, count(*) AS events
FROM e
WHERE {{type}} = '*' OR type = {{type}}
GROUP BY 1, 2
ORDER BY 1, 2
