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
    serial: { ...config?.serial, ...entry?.serial },
    flash: { ...config?.flash, ...entry?.flash, options: { ...config?.flash?.options, ...entry?.flash?.options } },
    entry,
  };
}
