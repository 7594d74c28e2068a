// What keyprov registered in AWS IoT, per board and for the CA. The interface is what the
// rest of keyprov uses; the state store implements it (records-store.ts). The JSON file
// implementation below is the format of keyprov's first versions (`.keyprov/aws-records.json`),
// kept to import such a file once into the store.
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
  /** When keyprov first recorded this board (the store keeps it across re-registrations). */
  registeredAt?: string;
  updatedAt: string;
}

export interface CaAwsRecord {
  certificateId: string;
  certificateArn: string;
  mode: 'DEFAULT' | 'SNI_ONLY';
  autoRegistration: boolean;
  jitp: boolean;
  /** As AWS IoT last reported it (ACTIVE, INACTIVE, ...). */
  status?: string;
  region?: string;
  registeredAt?: string;
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

export interface RecordsFile {
  version: 1;
  endpoint?: string;
  ca?: CaAwsRecord;
  boards: Record<string, BoardAwsRecord>;
}

export function awsRecordsPath(root: string): string {
  return path.join(stateDir(root), 'aws-records.json');
}

/** The whole JSON file; undefined when it does not exist. */
export async function readAwsRecordsFile(file: string): Promise<RecordsFile | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const data = JSON.parse(text) as RecordsFile;
    return { ...data, boards: data.boards ?? {} };
  } catch {
    throw new UsageError('AWS_RECORDS_CORRUPT', `${file} is not valid JSON`, { hint: 'fix or delete the file; `keyprov aws register` records the boards again from AWS' });
  }
}

/** Changes to one file are serialized within the process (boards registered in parallel must not lose each other's records). */
const queues = new Map<string, Promise<unknown>>();
function serialized<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const run = (queues.get(file) ?? Promise.resolve()).then(fn, fn);
  queues.set(file, run.catch(() => undefined));
  return run;
}

/** Records kept in one JSON file, rewritten atomically on every change (the old format; see openAwsRecords). */
export function jsonFileAwsRecords(file: string): AwsRecords {
  const read = async (): Promise<RecordsFile> => (await readAwsRecordsFile(file)) ?? { version: 1, boards: {} };
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
