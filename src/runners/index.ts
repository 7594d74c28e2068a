// The runners area's public surface (re-exported from src/index.ts).
export { runTool, requireTool, shellQuote, formatCommand, errorLine, type RunToolOptions, type RunToolResult, type ToolInfo, type ExitCodeMeaning } from './exec.js';
export { type RunnerCaps, type RunnerCommand, type RunnerDef, type Invocation } from './base.js';
export { RUNNERS, RUNNER_EXECUTABLES, getRunner } from './registry.js';
export { planRunner, runRunner, runnerToolVersion, flashBoard, resetBoard, eraseBoard, parseRunnerOptions, boardFlashOptions, DEFAULT_FLASH_TIMEOUT_S, type BoardTarget, type RunnerPlan, type RunnerPlanOptions, type RunnerRunOptions, type RunnerRunResult } from './run.js';
export { runBuild, BUILD_PHASES, DEFAULT_BUILD_TIMEOUT_S, type BuildPhase, type BuildOptions, type BuildResult, type BuildSettings } from './build.js';
export { NRFJPROG_EXIT_CODES } from './nrfjprog.js';
