import { z } from '../../util/zod.js';
import { type SchemaContext } from './common.js';

/** `keyprov fleet`: a rack of boards (boards[]) provisioned in parallel. */
export const fleetSection = (_ctx: SchemaContext) =>
  z.strictObject({
    /** Boards worked on at once (default 4; --parallel wins). */
    parallel: z.number().int().positive().optional(),
    /**
     * Per-board build folder, exported to build.command as KEYPROV_BUILD_DIR; `{{id}}` is the
     * board id; relative to the project root (default .keyprov/boards/{{id}}/build).
     */
    buildDir: z.string().min(1).optional(),
    /**
     * The image a per-board build writes; `{{buildDir}}` and `{{id}}` expand. When set, credential
     * builds run in parallel out of tree; when unset they run one at a time in the tree (build.image).
     */
    image: z.string().min(1).optional(),
  });
