/* Developer-mode key provisioning, modelled on FreeRTOS's aws_dev_mode_key_provisioning. */
#ifndef AWS_DEV_MODE_KEY_PROVISIONING_H
#define AWS_DEV_MODE_KEY_PROVISIONING_H

/* Where the device key pair lives: a file in the board's flash (the board folder). */
#define keyprovisioningDEVICE_KEY_FILE    "flash/device-key.der"

/* Make sure the board holds a key pair, print its public key, warn about a missing
 * certificate. Returns 0 when a key pair is available afterwards. */
int vDevModeKeyProvisioning( void );

#endif /* AWS_DEV_MODE_KEY_PROVISIONING_H */
