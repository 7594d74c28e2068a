#!/usr/bin/env bash
# The manual developer-mode key provisioning procedure of DESIGN.md, with plain tools,
# against the virtual board. Run by manual-procedure.test.ts; every input is an
# environment variable, every output a file in $WORK.
#   VBOARD   the vboard tool          FW_SRC  examples/virtual-board
#   BOARD    a served board folder    WORK    scratch folder
#   CA_PEM, CA_KEY  the lab (device) CA      ENDPOINT, PORT, THING  the broker and the thing
set -euo pipefail
cd "$WORK"

# A small reader: the console is only seen while the port is open, so open it first.
read_console() { # $1 = output file, $2 = regex that ends the capture
  : > "$1"
  cat "$BOARD/tty" > "$1" & local reader=$!
  sleep 0.3
  "$VBOARD" reset --board "$BOARD"
  for _ in $(seq 1 150); do grep -qE "$2" "$1" && break; sleep 0.1; done
  kill "$reader"; wait "$reader" 2>/dev/null || true
}

# 1. Keygen build: set the define to 1 in (a copy of) the source, build, flash.
cp -r "$FW_SRC/src" "$FW_SRC/include" "$FW_SRC/Makefile" .
sed -i 's/^#define keyprovisioningFORCE_GENERATE_NEW_KEY_PAIR    0/#define keyprovisioningFORCE_GENERATE_NEW_KEY_PAIR    1/' src/aws_dev_mode_key_provisioning.c
grep -q '^#define keyprovisioningFORCE_GENERATE_NEW_KEY_PAIR    1' src/aws_dev_mode_key_provisioning.c
make -s OUT=keygen-build
"$VBOARD" flash --board "$BOARD" keygen-build/vboard-firmware

# 2. The board boots, generates a key pair and prints the public key.
read_console console-keygen.txt 'Warning: the client certificate'

# 3. Copy the key rows, DER with xxd, PEM with openssl.
tr -d '\r' < console-keygen.txt | grep -E '^([0-9a-f]{2,4} ?)+$' > DevicePublicKeyAsciiHex.txt
xxd -r -ps DevicePublicKeyAsciiHex.txt DevicePublicKeyDer.bin
openssl ec -inform der -in DevicePublicKeyDer.bin -pubin -pubout -outform pem -out DevicePublicKey.pem

# 4. The lab CA issues the device certificate for that key (the CSR key is a throwaway).
openssl genrsa -out tempCsrSigner.key 2048 2>/dev/null
openssl req -new -key tempCsrSigner.key -subj "/CN=$THING" -out deviceCert.csr
openssl x509 -req -in deviceCert.csr -CA "$CA_PEM" -CAkey "$CA_KEY" -CAcreateserial -out deviceCert.pem \
  -days 500 -sha256 -force_pubkey DevicePublicKey.pem 2>/dev/null

# 5. The define goes back to 0.
sed -i 's/^#define keyprovisioningFORCE_GENERATE_NEW_KEY_PAIR    1/#define keyprovisioningFORCE_GENERATE_NEW_KEY_PAIR    0/' src/aws_dev_mode_key_provisioning.c

# 6. Headers, by a few lines of shell: PEM lines become C string literals.
c_string() { sed -e 's/^/"/' -e 's/$/\\n" \\/' "$1" | sed '$ s/ \\$//'; }
mkdir -p generated
cat > generated/aws_clientcredential.h <<H
#ifndef __AWS_CLIENTCREDENTIAL__H__
#define __AWS_CLIENTCREDENTIAL__H__
#define clientcredentialMQTT_BROKER_ENDPOINT "$ENDPOINT"
#define clientcredentialIOT_THING_NAME "$THING"
#define clientcredentialMQTT_BROKER_PORT $PORT
#endif
H
{
  echo '#ifndef AWS_CLIENT_CREDENTIAL_KEYS_H'
  echo '#define AWS_CLIENT_CREDENTIAL_KEYS_H'
  echo '#define keyCLIENT_CERTIFICATE_PEM \'
  c_string deviceCert.pem
  echo '#define keyJITR_DEVICE_CERTIFICATE_AUTHORITY_PEM \'
  c_string "$CA_PEM"
  echo '#define keyCLIENT_PRIVATE_KEY_PEM NULL'
  echo '#endif'
} > generated/aws_clientcredential_keys.h

# 7. Credential build, flash, reset: the mutual-auth demo connects.
make -s OUT=credential-build GENERATED_DIR=generated
"$VBOARD" flash --board "$BOARD" credential-build/vboard-firmware
read_console console-credential.txt 'MQTT mutual-auth demo: (connected as|.*failed)'
