// The WebCrypto provider for @peculiar/x509, which needs reflect-metadata loaded before it.
// Heavy (~0.3 s to load): import it only where x509 objects are used (DN parsing, PKCS #11).
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);
export { x509 };
