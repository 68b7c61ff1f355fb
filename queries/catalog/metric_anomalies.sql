-- name: metric_anomalies
-- description: Readings whose z-score against their source's mean over the range is at least a threshold (temperature by default).
-- param: from timestamp (default -24h) Start of the event-time range (inclusive).
-- param: to timestamp (default now) End of the event-time range (exclusive).
-- param: metric string (default temperature) Metric to test.
-- param: threshold number (default 3) Minimum absolute z-score.
-- param: limit integer (default 100) Rows to return.
-- Partitions are hours of arrival: scan from one hour before 'from' (future skew) to two after 'to' (late arrivals).
-- The archive is at-least-once, so events are deduplicated by eventid first.
WITH e AS (
  SELECT eventid, arbitrary(source) AS source, arbitrary(ts) AS ts, arbitrary(element_at(metrics, {{metric}})) AS value
  FROM events
  WHERE dt BETWEEN date_format({{from}} - INTERVAL '1' HOUR, '%Y-%m-%d-%H')
              AND date_format({{to}} + INTERVAL '2' HOUR, '%Y-%m-%d-%H')
    AND ts >= {{from}} AND ts < {{to}}
  GROUP BY eventid
),
v AS (SELECT source, ts, value FROM e WHERE value IS NOT NULL),
s AS (SELECT source, avg(value) AS mean, stddev_samp(value) AS sd, count(*) AS n FROM v GROUP BY source)
SELECT v.source, v.ts, v.value, s.mean, s.sd, (v.value - s.mean) / s.sd AS z
FROM v JOIN s ON v.source = s.source
WHERE s.n >= 3 AND s.sd > 0 AND abs(v.value - s.mean) / s.sd >= {{threshold}}
ORDER BY abs(v.value - s.mean) / s.sd DESC, v.source, v.ts
LIMIT {{limit}}
