// The whole configuration file, assembled from one module per section.
import { z } from '../util/zod.js';
import type { SchemaContext } from './sections/common.js';
import { firmwareSection } from './sections/firmware.js';
import { buildSection } from './sections/build.js';
import { flashSection } from './sections/flash.js';
import { serialSection } from './sections/serial.js';
import { credentialsSection } from './sections/credentials.js';
import { pkiSection } from './sections/pki.js';
import { awsSection } from './sections/aws.js';
import { renderSection } from './sections/render.js';
import { boardSection } from './sections/boards.js';
import { provisionSection } from './sections/provision.js';
import { fleetSection } from './sections/fleet.js';

export function configSchema(ctx: SchemaContext) {
  return z
    .strictObject({
      $schema: z.string().optional(),
      firmware: firmwareSection(ctx).optional(),
      build: buildSection(ctx).optional(),
      flash: flashSection(ctx).optional(),
      serial: serialSection(ctx).optional(),
      credentials: credentialsSection(ctx).optional(),
      pki: pkiSection(ctx).optional(),
      aws: awsSection(ctx).optional(),
      render: renderSection(ctx).optional(),
      provision: provisionSection(ctx).optional(),
      fleet: fleetSection(ctx).optional(),
      boards: z.array(boardSection(ctx)).optional(),
    })
    .superRefine((cfg, zctx) => {
      const seen = new Map<string, number>();
      (cfg.boards ?? []).forEach((b, i) => {
        if (seen.has(b.id)) zctx.addIssue({ code: 'custom', path: ['boards', i, 'id'], message: `duplicate board id "${b.id}" (also boards[${seen.get(b.id)}])` });
        seen.set(b.id, i);
      });
    });
}

export type KeyprovConfig = z.output<ReturnType<typeof configSchema>>;
export type BoardConfig = NonNullable<KeyprovConfig['boards']>[number];
