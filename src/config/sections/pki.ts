import { z } from '../../util/zod.js';
import { pathField, type SchemaContext } from './common.js';

/** The lab CA that issues device certificates. */
export const pkiSection = (ctx: SchemaContext) =>
  z.strictObject({
    ca: z
      .strictObject({
        backend: z.enum(['file', 'pkcs11']).optional(),
        /** CA certificate (default: .keyprov/ca.pem). */
        cert: pathField(ctx).optional(),
        /** CA private key for the file backend (default: .keyprov/ca.key). */
        key: pathField(ctx).optional(),
        /** Name of the environment variable holding the CA key passphrase. */
        passphraseEnv: z.string().optional(),
        pkcs11: z
          .strictObject({
            module: pathField(ctx),
            tokenLabel: z.string().optional(),
            slot: z.number().int().nonnegative().optional(),
            /** The PIN; use ${env:NAME}. */
            pin: z.string().optional(),
            keyLabel: z.string().optional(),
          })
          .optional(),
      })
      .optional(),
    /** Device certificate validity in days (default 500). */
    days: z.number().int().positive().optional(),
    /** Device key types accepted (default: ec-p256 only). */
    deviceKeyAlgorithms: z.array(z.enum(['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072'])).optional(),
  });
