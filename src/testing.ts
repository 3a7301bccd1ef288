/**
 * `stepwise-engine/testing`: the Messages API emulator and helpers for testing
 * workflows without a model or an API key, and the store conformance suite
 * (`storeSpec`) a store of one's own must pass. Nothing here imports a test
 * runner: `storeSpec` takes the runner's functions as its first argument.
 */
export { startEmulator, parseFaults, faultProfiles, faultNames, fillFromSchema } from './emulator/index.js';
export type { Emulator, EmulatorOptions, FaultSpec, FaultName, FaultProfileName, EmulatorStats } from './emulator/index.js';
export { ManualClock } from './engine/clock.js';
export { createMemoryStore } from './store/memory.js';
export { failingTool, slowTool, downTool, flakyTool, ToolFault, type FaultyTool } from './testing/tool-faults.js';
export { storeSpec, type StoreFixture, type StoreSpecTest, type StoreSpecAssertion } from './testing/store-spec.js';
