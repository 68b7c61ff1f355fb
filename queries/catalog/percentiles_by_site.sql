-- name: percentiles_by_site
-- description: p50, p90 and p99 of a metric per site (dims.site). Approximate on Athena, exact locally.
-- param: from timestamp (default -24h) Start of the event-time range (inclusive).
-- param: to timestamp (default now) End of the event-time range (exclusive).
-- param: metric string (default temperature) Metric to summarize.
-- Partitions are hours of arrival: scan from one hour before 'from' (future skew) to two after 'to' (late arrivals).
-- The archive is at-least-once, so events are deduplicated by eventid first.
WITH e AS (
  SELECT eventid, arbitrary(element_at(dims, 'site')) AS site, arbitrary(element_at(metrics, {{metric}})) AS value
  FROM events
  WHERE dt BETWEEN date_format({{from}} - INTERVAL '1' HOUR, '%Y-%m-%d-%H')
              AND date_format({{to}} + INTERVAL '2' HOUR, '%Y-%m-%d-%H')
    AND ts >= {{from}} AND ts < {{to}}
  GROUP BY eventid
)
SELECT coalesce(site, '') AS site, count(*) AS n, min(value) AS min,
       approx_percentile(value, 0.5) AS p50, approx_percentile(value, 0.9) AS p90,
       approx_percentile(value, 0.99) AS p99, max(value) AS max
FROM e
WHERE value IS NOT NULL
GROUP BY 1
ORDER BY 1
