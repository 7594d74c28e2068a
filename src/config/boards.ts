// One board's effective settings: the top-level sections with the board's overrides on top.
import { UsageError } from '../errors.js';
import type { KeyprovConfig, BoardConfig } from './schema.js';

export const DEFAULT_BOARD_ID = 'default';

export interface ResolvedBoard {
  id: string;
  thingName?: string;
  serial: NonNullable<KeyprovConfig['serial']>;
  flash: NonNullable<KeyprovConfig['flash']>;
  /** The board's entry in boards[], when it has one. */
  entry?: BoardConfig;
}

/** Expand `{{id}}` in a thing-name template. */
export function expandThingName(template: string | undefined, boardId: string): string | undefined {
  return template?.replace(/\{\{\s*id\s*\}\}/g, boardId);
}

type Serial = NonNullable<KeyprovConfig['serial']>;
const usbId = (s: Serial | undefined) => !!(s?.serialNumber || s?.vendorId || s?.productId);

/**
 * A USB identification (serialNumber, vendorId, productId) without a port means `port: auto`
 * (find the adapter that matches). A board's own identification beats a port it would only inherit.
 */
function boardSerial(top: Serial | undefined, own: Serial | undefined): Serial {
  const serial: Serial = { ...top, ...own };
  if ((usbId(own) && !own?.port) || (!serial.port && usbId(serial))) serial.port = 'auto';
  return serial;
}

export function resolveBoard(config: KeyprovConfig | undefined, boardId?: string): ResolvedBoard {
  const boards = config?.boards ?? [];
  let entry: BoardConfig | undefined;
  if (boardId !== undefined) {
    entry = boards.find((b) => b.id === boardId);
    if (!entry && boards.length > 0) {
      throw new UsageError('BOARD_UNKNOWN', `no board "${boardId}" in the config`, { hint: `known boards: ${boards.map((b) => b.id).join(', ')}` });
    }
  } else if (boards.length === 1) {
    entry = boards[0];
  } else if (boards.length > 1) {
    throw new UsageError('BOARD_REQUIRED', `the config lists ${boards.length} boards and no --board was given`, { hint: `pass --board with one of: ${boards.map((b) => b.id).join(', ')}` });
  }
  const id = entry?.id ?? boardId ?? DEFAULT_BOARD_ID;
  return {
    id,
    thingName: expandThingName(entry?.thingName ?? config?.credentials?.thingName, id),
    serial: boardSerial(config?.serial, entry?.serial),
    flash: { ...config?.flash, ...entry?.flash, options: { ...config?.flash?.options, ...entry?.flash?.options } },
    entry,
  };
}
