/*
 * Options of the virtual board that a real board would fix in its BSP. Each can be set
 * with -D (make VBOARD_DEFINES=..., or the named make/CMake options in the README).
 */
#ifndef VBOARD_CONFIG_H
#define VBOARD_CONFIG_H

/* 1: behave like the newer FreeRTOS release: print the public key on every boot, wait
 * before generating a key pair, and add a blank line after the header and each row. */
#ifndef vboardNEWER_RELEASE
#define vboardNEWER_RELEASE              0
#endif

/* Seconds the newer release waits before generating a key pair. */
#ifndef vboardKEYGEN_DELAY_SECONDS
#define vboardKEYGEN_DELAY_SECONDS       180
#endif

/* 1: the key lives in a secure element that recommends a certificate subject name. */
#ifndef vboardSECURE_ELEMENT
#define vboardSECURE_ELEMENT             0
#endif

/* Root CA (PEM) the board verifies the broker against. NULL: read root-ca.pem from the
 * board folder (installed with `vboard serve --root-ca FILE`), as if it were stored in
 * the board's flash. */
#ifndef vboardBROKER_ROOT_CA_PEM
#define vboardBROKER_ROOT_CA_PEM         NULL
#endif

/* Printed at boot so a test can tell which image is running. */
#ifndef vboardIMAGE_TAG
#define vboardIMAGE_TAG                  "unnamed"
#endif

#endif /* VBOARD_CONFIG_H */
