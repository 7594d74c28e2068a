// What keyprov registered in AWS IoT, per board and for the CA. A JSON file in the state
// folder for now (`.keyprov/aws-records.json`); the interface is what the rest of keyprov
// uses, so moving it into the SQLite state store changes only the implementation.
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { stateDir } from '../project.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { UsageError } from '../errors.js';

export interface BoardAwsRecord {
  thingName: string;
  thingArn: string;
  certificateArn: string;
  certificateId: string;
  policyName: string;
  /** The account's iot:Data-ATS endpoint, when keyprov looked it up. */
  endpoint?: string;
  region?: string;
  updatedAt: string;
}

export interface CaAwsRecord {
  certificateId: string;
  certificateArn: string;
  mode: 'DEFAULT' | 'SNI_ONLY';
  autoRegistration: boolean;
  jitp: boolean;
  region?: string;
  updatedAt: string;
}

export interface AwsRecords {
  getBoard(boardId: string): Promise<BoardAwsRecord | undefined>;
  putBoard(boardId: string, record: BoardAwsRecord): Promise<void>;
  deleteBoard(boardId: string): Promise<void>;
  getCa(): Promise<CaAwsRecord | undefined>;
  putCa(record: CaAwsRecord): Promise<void>;
  /** The last data endpoint looked up (for rendering `clientcredentialMQTT_BROKER_ENDPOINT`). */
  getEndpoint(): Promise<string | undefined>;
}

interface RecordsFile {
  version: 1;
  endpoint?: string;
  ca?: CaAwsRecord;
  boards: Record<string, BoardAwsRecord>;
}

export function awsRecordsPath(root: string): string {
  return path.join(stateDir(root), 'aws-records.json');
}

/** Changes to one file are serialized within the process (boards registered in parallel must not lose each other's records). */
const queues = new Map<string, Promise<unknown>>();
function serialized<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const run = (queues.get(file) ?? Promise.resolve()).then(fn, fn);
  queues.set(file, run.catch(() => undefined));
  return run;
}

/** Records kept in one JSON file, rewritten atomically on every change. */
export function jsonFileAwsRecords(file: string): AwsRecords {
  const read = async (): Promise<RecordsFile> => {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, boards: {} };
      throw e;
    }
    try {
      const data = JSON.parse(text) as RecordsFile;
      return { ...data, boards: data.boards ?? {} };
    } catch {
      throw new UsageError('AWS_RECORDS_CORRUPT', `${file} is not valid JSON`, { hint: 'fix or delete the file; `keyprov aws register` rebuilds it from AWS' });
    }
  };
  const write = async (data: RecordsFile) => {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, JSON.stringify(data, null, 2) + '\n');
  };
  return {
    async getBoard(id) {
      return (await read()).boards[id];
    },
    putBoard: (id, record) =>
      serialized(file, async () => {
        const data = await read();
        data.boards[id] = record;
        if (record.endpoint) data.endpoint = record.endpoint;
        await write(data);
      }),
    deleteBoard: (id) =>
      serialized(file, async () => {
        const data = await read();
        if (!(id in data.boards)) return;
        delete data.boards[id];
        await write(data);
      }),
    async getCa() {
      return (await read()).ca;
    },
    putCa: (record) =>
      serialized(file, async () => {
        const data = await read();
        data.ca = record;
        await write(data);
      }),
    async getEndpoint() {
      return (await read()).endpoint;
    },
  };
}
