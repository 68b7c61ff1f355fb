-- name: conversion_funnel
-- description: Ordered three-step funnel per source (pageview, then click, then purchase) with step conversion rates.
-- param: from timestamp (default -24h) Start of the event-time range (inclusive).
-- param: to timestamp (default now) End of the event-time range (exclusive).
-- param: step1 string (default pageview) Event type of the first step.
-- param: step2 string (default click) Event type of the second step.
-- param: step3 string (default purchase) Event type of the third step.
-- Partitions are hours of arrival: scan from one hour before 'from' (future skew) to two after 'to' (late arrivals).
-- The archive is at-least-once, so events are deduplicated by eventid first.
WITH e AS (
  SELECT eventid, arbitrary(source) AS source, arbitrary(type) AS type, arbitrary(ts) AS ts
  FROM events
  WHERE dt BETWEEN date_format({{from}} - INTERVAL '1' HOUR, '%Y-%m-%d-%H')
              AND date_format({{to}} + INTERVAL '2' HOUR, '%Y-%m-%d-%H')
    AND ts >= {{from}} AND ts < {{to}}
    AND type IN ({{step1}}, {{step2}}, {{step3}})
  GROUP BY eventid
),
f AS (
  SELECT source,
         min(CASE WHEN type = {{step1}} THEN ts END) AS t1,
         min(CASE WHEN type = {{step2}} THEN ts END) AS t2,
         min(CASE WHEN type = {{step3}} THEN ts END) AS t3
  FROM e
  GROUP BY source
),
c AS (
  SELECT count(t1) AS step1,
         count(CASE WHEN t2 >= t1 THEN 1 END) AS step2,
         count(CASE WHEN t2 >= t1 AND t3 >= t2 THEN 1 END) AS step3
  FROM f
)
SELECT step1, step2, step3,
       CASE WHEN step1 > 0 THEN CAST(step2 AS DOUBLE) / step1 END AS rate_1_2,
       CASE WHEN step2 > 0 THEN CAST(step3 AS DOUBLE) / step2 END AS rate_2_3,
       CASE WHEN step1 > 0 THEN CAST(step3 AS DOUBLE) / step1 END AS rate_1_3
FROM c
