-- name: late_event_share
-- description: Per hour of arrival, archived events and the share quarantined as late (beyond the allowed lateness).
-- param: from timestamp (required) Start of the arrival-time range (its hour is included).
-- param: to timestamp (default now) End of the arrival-time range (its hour is included).
-- Both tables are read by their dt (arrival hour) partitions; events are distinct by eventid.
WITH a AS (
  SELECT dt, count(DISTINCT eventid) AS archived
  FROM events
  WHERE dt BETWEEN date_format({{from}}, '%Y-%m-%d-%H') AND date_format({{to}}, '%Y-%m-%d-%H')
  GROUP BY dt
),
l AS (
  SELECT date_format(from_iso8601_timestamp(approximatearrivaltimestamp), '%Y-%m-%d-%H') AS dt,
         count(DISTINCT eventid) AS late
  FROM quarantine
  WHERE dt BETWEEN date_format({{from}}, '%Y-%m-%d-%H') AND date_format({{to}} + INTERVAL '2' HOUR, '%Y-%m-%d-%H')
    AND reason = 'late'
  GROUP BY 1
)
SELECT a.dt AS hour, a.archived, coalesce(l.late, 0) AS late,
       CAST(coalesce(l.late, 0) AS DOUBLE) / a.archived AS late_share
FROM a LEFT JOIN l ON a.dt = l.dt
ORDER BY a.dt
