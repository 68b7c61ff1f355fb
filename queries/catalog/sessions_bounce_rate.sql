-- name: sessions_bounce_rate
-- description: Sessions (sources with pageviews), bounces (sessions of one pageview) and bounce rate per site.
-- param: from timestamp (default -24h) Start of the event-time range (inclusive).
-- param: to timestamp (default now) End of the event-time range (exclusive).
-- Partitions are hours of arrival: scan from one hour before 'from' (future skew) to two after 'to' (late arrivals).
-- The archive is at-least-once, so events are deduplicated by eventid first.
WITH e AS (
  SELECT eventid, arbitrary(source) AS source, arbitrary(element_at(dims, 'site')) AS site
  FROM events
  WHERE dt BETWEEN date_format({{from}} - INTERVAL '1' HOUR, '%Y-%m-%d-%H')
              AND date_format({{to}} + INTERVAL '2' HOUR, '%Y-%m-%d-%H')
    AND ts >= {{from}} AND ts < {{to}}
    AND type = 'pageview'
  GROUP BY eventid
),
s AS (SELECT source, coalesce(arbitrary(site), '') AS site, count(*) AS pageviews FROM e GROUP BY source)
SELECT site, count(*) AS sessions,
       sum(CASE WHEN pageviews = 1 THEN 1 ELSE 0 END) AS bounces,
       CAST(sum(CASE WHEN pageviews = 1 THEN 1 ELSE 0 END) AS DOUBLE) / count(*) AS bounce_rate,
       CAST(sum(pageviews) AS DOUBLE) / count(*) AS pages_per_session
FROM s
GROUP BY site
ORDER BY site
