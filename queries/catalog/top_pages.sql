-- name: top_pages
-- description: Most viewed pages (dims.page of pageview events) with their distinct visitors.
-- param: from timestamp (default -24h) Start of the event-time range (inclusive).
-- param: to timestamp (default now) End of the event-time range (exclusive).
-- param: limit integer (default 10) Pages to return.
-- Partitions are hours of arrival: scan from one hour before 'from' (future skew) to two after 'to' (late arrivals).
-- The archive is at-least-once, so events are deduplicated by eventid first.
WITH e AS (
  SELECT eventid, arbitrary(source) AS source, arbitrary(element_at(dims, 'page')) AS page
  FROM events
  WHERE dt BETWEEN date_format({{from}} - INTERVAL '1' HOUR, '%Y-%m-%d-%H')
              AND date_format({{to}} + INTERVAL '2' HOUR, '%Y-%m-%d-%H')
    AND ts >= {{from}} AND ts < {{to}}
    AND type = 'pageview'
  GROUP BY eventid
)
SELECT coalesce(page, '') AS page, count(*) AS views, approx_distinct(source) AS visitors
FROM e
GROUP BY 1
ORDER BY views DESC, page
LIMIT {{limit}}
