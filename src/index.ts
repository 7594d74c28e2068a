// Public API: re-exports only.
export * from './errors.js';
export { Logger, memoryLogger } from './log.js';
export { loadConfigFile, findConfigFile, CONFIG_NAMES, configSchema, type LoadedConfig } from './config/load.js';
export type { KeyprovConfig, BoardConfig } from './config/schema.js';
export { resolveBoard, expandThingName, type ResolvedBoard } from './config/boards.js';
export { projectRoot, stateDir, boardStateDir } from './project.js';
export { writeFileAtomic, writeIfChanged } from './util/fs-atomic.js';
export { PublicKeyParser, parseConsoleLog, type ConsoleEvent, type PublicKeyParserOptions, type ParserStats } from './serial/public-key-parser.js';
export { parseP256Spki, spkiDerToPem, spkiPemToDer, spkiFingerprint, isOnP256, type P256PublicKey } from './serial/spki.js';
export { listPorts, resolveAutoPort, openPort, type PortInfo, type PortListing, type PortMatch } from './serial/ports.js';
export { resetBoard as resetBoardBySerialLines, RESET_METHODS, type ResetMethod, type ResetOptions } from './serial/reset.js';
export { openConsole, openLogConsole, ConsoleHandle, type ByteFeed, type OpenConsoleOptions } from './serial/console.js';
export {
  captureKey,
  captureFromPort,
  captureFromLog,
  captureFilesIn,
  captureFilesForBoard,
  writeCaptureFiles,
  type CaptureOptions,
  type CaptureResult,
  type CaptureFiles,
  type CaptureFromPortOptions,
  type CaptureFromLogOptions,
} from './serial/capture.js';
export { watchConsole, type WatchOptions, type WatchResult } from './serial/console-watcher.js';
export * from './runners/index.js';
export { applyPhase, phaseCflags, restoreAll, restoreAllSync, pendingPatch, guardCflags, type ApplyPhaseOptions, type ApplyPhaseResult, type RestoreResult } from './source/index.js';
export { loadCa, type LoadCaOptions } from './pki/ca-load.js';
export { createCa, planCa, type CreateCaOptions, type CaPlan } from './pki/ca-create.js';
export { importCa, planCaImport, type ImportCaOptions, type CaImportPlan } from './pki/ca-import.js';
export { SUPPORTED_CA_KEY_ALGORITHMS } from './pki/signers.js';
export { issueDeviceCertificate, DeviceIssuer, type IssueParams, type IssuedCertificate } from './pki/device-cert.js';
export { createVerificationCertificate } from './pki/verification.js';
export { verifyDeviceCertificate, type VerifyResult } from './pki/verify.js';
export { parseDevicePublicKey, type DevicePublicKey } from './pki/public-key.js';
export type { LoadedCa } from './pki/ca.js';
export { openStore, openStoreReadonly, storePath, type Db } from './store/db.js';
export { migrations, type Migration } from './store/migrations.js';
export { CertificateLedger, type IssuedCertificateRecord } from './store/certificates.js';
export { renderHeaders, renderPlan, type RenderOptions, type RenderResult, type RenderedFile } from './render/render.js';
export { restoreRenderedHeaders, type RestoreResult as RenderRestoreResult } from './render/backup.js';
export { cStringLiteral, cPemLiteral, cStringChunks, normalisePem } from './render/c-string.js';
export { buildImages, type ImagesOptions, type ImagesResult, type BoardManifest, type ToolVersions } from './images/images.js';
