// The source patcher: public surface used by the CLI and the pipeline.
export { applyPhase, phaseCflags, type ApplyPhaseOptions, type ApplyPhaseResult, type PatchChange, type PatchMode } from './apply.js';
export { restoreAll, restoreAllSync, type RestoreResult, type RestoredFile } from './restore.js';
export { pendingPatch, readJournal, type Journal, type JournalEntry } from './journal.js';
export { guardCflags, type Phase } from './guard.js';
export { discoverDefinitions, listCFiles, type Discovery } from './find.js';
export { findDefinitions, type MacroDefinition } from './definitions.js';
export { loadCParser } from './parser.js';
export { DELAY_MACRO } from './select.js';
