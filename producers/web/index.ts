/**
 * The Shardline web SDK: the browser entry (bundled to an IIFE with the global `Shardline` by
 * {@link ./build.ts}, served by the local ingest endpoint at `/sdk.js`) and its public surface.
 *
 * @example
 * ```html
 * <script src="http://127.0.0.1:4577/sdk.js"></script>
 * <script>
 *   const tracker = Shardline.createTracker({ endpoint: 'http://127.0.0.1:4577/ingest' });
 *   tracker.track('pageview', { dims: { page: location.pathname } });
 * </script>
 * ```
 */
export { buildEnvelope, randomId, type TrackFields, WEB_LIMITS, type WebEnvelope } from './envelope.ts';
export { DeliveryError, TrackerError } from './errors.ts';
export {
  createTracker,
  type SessionStore,
  Tracker,
  type TrackerOptions,
  type TrackerStats,
} from './tracker.ts';
