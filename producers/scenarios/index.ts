export type { Emitter, EmitterOptions } from './emitter.ts';
export { createEmitter } from './emitter.ts';
export type { IotOptions, Site } from './iot.ts';
export { iotScenario, MODELS, SITES } from './iot.ts';
export type { Rng } from './prng.ts';
export { createRng } from './prng.ts';
export type { Emission, Scenario } from './types.ts';
export type { WebOptions } from './web.ts';
export { PAGES, webScenario } from './web.ts';
