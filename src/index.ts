// Public API: re-exports only.
export * from './errors.js';
export { Logger, memoryLogger } from './log.js';
export { loadConfigFile, findConfigFile, CONFIG_NAMES, type LoadedConfig } from './config/load.js';
export { configSchema, type KeyprovConfig, type BoardConfig } from './config/schema.js';
export { resolveBoard, expandThingName, type ResolvedBoard } from './config/boards.js';
export { projectRoot, stateDir, boardStateDir } from './project.js';
export { writeFileAtomic, writeIfChanged } from './util/fs-atomic.js';
export { renderHeaders, type RenderOptions, type RenderResult, type RenderedFile } from './render/render.js';
export { restoreRenderedHeaders, type RestoreResult } from './render/backup.js';
export { cStringLiteral, cPemLiteral, cStringChunks, normalisePem } from './render/c-string.js';
