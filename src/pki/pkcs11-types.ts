// The slice of node-webcrypto-p11 keyprov uses, typed loosely so that the native module
// is only loaded when a token is actually configured.
export interface P11Key extends CryptoKey {
  algorithm: KeyAlgorithm & { label?: string; token?: boolean; sensitive?: boolean };
}

export interface P11Crypto {
  subtle: SubtleCrypto;
  keyStorage: { keys(): Promise<string[]>; getItem(index: string): Promise<P11Key> };
  login(pin: string): void;
  close(): void;
}
