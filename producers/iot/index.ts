/** Public surface of the MQTT device side: one device's client and the synthetic fleet over MQTT. */
export {
  DeviceClient,
  type DeviceClientOptions,
  type DeviceClientStats,
  MessageDroppedError,
} from './client.ts';
export {
  type FleetOptions,
  type FleetProgress,
  type FleetReport,
  type FleetResult,
  produceOverMqtt,
} from './fleet.ts';
