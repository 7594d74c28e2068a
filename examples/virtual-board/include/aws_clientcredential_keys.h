/*
 * Default keys of the virtual board: nothing set. NULL and "" both mean "not set".
 * With the key generated on the board, keyCLIENT_PRIVATE_KEY_PEM stays NULL: a private
 * key given here replaces (destroys) the key stored on the board.
 */
#ifndef AWS_CLIENT_CREDENTIAL_KEYS_H
#define AWS_CLIENT_CREDENTIAL_KEYS_H

/* PEM of the device certificate, one C string literal per line. */
#ifndef keyCLIENT_CERTIFICATE_PEM
#define keyCLIENT_CERTIFICATE_PEM                   NULL
#endif

/* PEM of the CA that issued the device certificate (sent in the chain, for JITR). */
#ifndef keyJITR_DEVICE_CERTIFICATE_AUTHORITY_PEM
#define keyJITR_DEVICE_CERTIFICATE_AUTHORITY_PEM    NULL
#endif

/* PEM of the device private key: leave NULL when the board generates its key. */
#ifndef keyCLIENT_PRIVATE_KEY_PEM
#define keyCLIENT_PRIVATE_KEY_PEM                   NULL
#endif

#endif /* AWS_CLIENT_CREDENTIAL_KEYS_H */
