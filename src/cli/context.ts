// What every command receives: parsed options, the logger, and lazy access to the
// config and the project's state folder. Commands never print their result themselves.
import path from 'node:path';
import { Logger } from '../log.js';
import { UsageError } from '../errors.js';
import type { LoadedConfig } from '../config/load.js';
import { projectRoot, stateDir } from '../project.js';

export interface GlobalOptions {
  config?: string;
  json?: boolean;
  verbose?: boolean;
  quiet?: boolean;
  color?: boolean;
  dryRun?: boolean;
}

/** What a command returns: `data` is printed as JSON with --json, `text` otherwise (on stdout). */
export interface CommandResult {
  data?: Record<string, unknown>;
  text?: string;
  /** Non-zero without an error (e.g. `doctor` found problems, `render --check` found a stale header). */
  exitCode?: number;
}

export class CommandContext {
  readonly log: Logger;
  readonly json: boolean;
  readonly dryRun: boolean;
  readonly verbose: boolean;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly configPath?: string;
  private loaded?: Promise<LoadedConfig | undefined>;
  private located?: Promise<string | undefined>;

  constructor(opts: GlobalOptions & { cwd?: string; env?: NodeJS.ProcessEnv; log?: Logger }) {
    this.cwd = opts.cwd ?? process.cwd();
    this.env = opts.env ?? process.env;
    this.json = !!opts.json;
    this.dryRun = !!opts.dryRun;
    this.verbose = !!opts.verbose;
    this.configPath = opts.config ? path.resolve(this.cwd, opts.config) : undefined;
    this.log = opts.log ?? new Logger({ verbose: opts.verbose, quiet: opts.quiet, color: opts.color === false ? false : undefined });
  }

  /** Where the config file is (--config, else the nearest found walking up), without reading it. */
  configFile(): Promise<string | undefined> {
    this.located ??= (async () => {
      if (this.configPath) return this.configPath;
      const { findConfigFile } = await import('../config/find.js');
      return findConfigFile(this.cwd);
    })();
    return this.located;
  }

  /** The config given by --config, else the nearest one found walking up; undefined when there is none. */
  loadConfig(): Promise<LoadedConfig | undefined> {
    this.loaded ??= (async () => {
      const file = await this.configFile();
      if (!file) return undefined;
      const { loadConfigFile } = await import('../config/load.js');
      return loadConfigFile(file, this.env);
    })();
    return this.loaded;
  }

  async requireConfig(): Promise<LoadedConfig> {
    const c = await this.loadConfig();
    if (!c) {
      throw new UsageError('CONFIG_NOT_FOUND', `no keyprov.config.yaml found in ${this.cwd} or any parent folder`, {
        hint: 'run `keyprov init` in the firmware tree, or pass --config FILE',
      });
    }
    return c;
  }

  /** The config's folder, else the git root, else the current directory. Does not read the config (cheap). */
  async projectRoot(): Promise<string> {
    return projectRoot({ configFile: await this.configFile(), cwd: this.cwd });
  }

  /** `.keyprov/` at the project root. */
  async stateDir(): Promise<string> {
    return stateDir(await this.projectRoot());
  }
}
