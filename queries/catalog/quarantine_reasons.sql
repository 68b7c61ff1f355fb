-- name: quarantine_reasons
-- description: Quarantined records by reason (distinct by shard, sequence and sub-sequence), with a sample detail.
-- param: from timestamp (required) Start of the arrival-time range (inclusive).
-- param: to timestamp (default now) End of the arrival-time range (exclusive).
-- A replayed batch may quarantine a record twice; records are counted once. Partitions: hours of quarantining.
SELECT reason,
       count(DISTINCT concat(shardid, ':', sequencenumber, ':', CAST(subsequencenumber AS varchar))) AS records,
       min(from_iso8601_timestamp(approximatearrivaltimestamp)) AS first_arrival,
       max(from_iso8601_timestamp(approximatearrivaltimestamp)) AS last_arrival,
       min(detail) AS sample_detail
FROM quarantine
WHERE dt BETWEEN date_format({{from}}, '%Y-%m-%d-%H') AND date_format({{to}} + INTERVAL '2' HOUR, '%Y-%m-%d-%H')
  AND from_iso8601_timestamp(approximatearrivaltimestamp) >= {{from}}
  AND from_iso8601_timestamp(approximatearrivaltimestamp) < {{to}}
GROUP BY reason
ORDER BY records DESC, reason
