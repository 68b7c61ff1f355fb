-- name: metric_summary_by_source
-- description: Count, min, avg and max of a metric per source.
-- param: from timestamp (default -24h) Start of the event-time range (inclusive).
-- param: to timestamp (default now) End of the event-time range (exclusive).
-- param: metric string (default temperature) Metric to summarize.
-- param: limit integer (default 100) Rows to return.
-- Partitions are hours of arrival: scan from one hour before 'from' (future skew) to two after 'to' (late arrivals).
-- The archive is at-least-once, so events are deduplicated by eventid first.
WITH e AS (
  SELECT eventid, arbitrary(source) AS source, arbitrary(element_at(metrics, {{metric}})) AS value
  FROM events
  WHERE dt BETWEEN date_format({{from}} - INTERVAL '1' HOUR, '%Y-%m-%d-%H')
              AND date_format({{to}} + INTERVAL '2' HOUR, '%Y-%m-%d-%H')
    AND ts >= {{from}} AND ts < {{to}}
  GROUP BY eventid
)
SELECT source, count(value) AS n, min(value) AS min, avg(value) AS avg, max(value) AS max
FROM e
WHERE value IS NOT NULL
GROUP BY source
ORDER BY source
LIMIT {{limit}}
