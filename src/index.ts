// Public API: re-exports only.
export * from './errors.js';
export { Logger, memoryLogger } from './log.js';
export { loadConfigFile, findConfigFile, CONFIG_NAMES, type LoadedConfig } from './config/load.js';
export { configSchema, type KeyprovConfig, type BoardConfig } from './config/schema.js';
export { resolveBoard, expandThingName, type ResolvedBoard } from './config/boards.js';
export { projectRoot, stateDir, boardStateDir } from './project.js';
export { writeFileAtomic, writeIfChanged } from './util/fs-atomic.js';
export { applyPhase, phaseCflags, restoreAll, restoreAllSync, pendingPatch, guardCflags, type ApplyPhaseOptions, type ApplyPhaseResult, type RestoreResult } from './source/index.js';
