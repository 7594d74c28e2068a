// Every AWS call goes through here: it is logged (as the equivalent `aws iot` command,
// with --verbose), and whatever it throws comes back as a KeyprovError naming the IAM
// action. Lists are read page by page to the end.
import type { IoTClient } from '@aws-sdk/client-iot';
import type { Logger } from '../log.js';
import { mapAwsError } from './errors.js';
import { cliCommand } from './dry-run.js';
import { loadSdk, type Sdk } from './sdk.js';

export class IotSession {
  /** Names of the calls made, in order (reported with --verbose and used by tests). */
  readonly calls: string[] = [];

  private constructor(
    readonly client: IoTClient,
    readonly sdk: Sdk,
    readonly log?: Logger,
    readonly region?: string,
  ) {}

  static async open(client: IoTClient, log?: Logger): Promise<IotSession> {
    let region: string | undefined;
    try {
      region = await client.config.region();
    } catch {
      /* reported by the first call */
    }
    return new IotSession(client, await loadSdk(), log, region);
  }

  /** `client.send` with logging and error mapping; same signature, same types. */
  readonly send: IoTClient['send'] = (async (command: { input: object; constructor: { name: string } }) => {
    const name = command.constructor.name.replace(/Command$/, '');
    this.calls.push(name);
    this.log?.debug(`$ ${cliCommand(name, command.input as Record<string, unknown>, { region: this.region })}`);
    try {
      return await this.client.send(command as never);
    } catch (e) {
      throw mapAwsError(e, { action: `iot:${name}`, region: this.region });
    }
  }) as never;

  /** Like send, but a missing resource is `undefined` instead of an error. */
  async find<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (e) {
      if ((e as { details?: { awsError?: string } }).details?.awsError === 'ResourceNotFoundException') return undefined;
      throw e;
    }
  }
}

/** Read every page: `page(token)` fetches one, returning its items and the next token (if any). */
export async function paginate<T>(page: (token: string | undefined) => Promise<{ items: T[] | undefined; next: string | undefined }>): Promise<T[]> {
  const all: T[] = [];
  let token: string | undefined;
  do {
    const r = await page(token);
    all.push(...(r.items ?? []));
    token = r.next || undefined;
  } while (token);
  return all;
}
