/*
 * Default client credentials of the virtual board: nothing set.
 * keyprov renders a replacement into a generated include folder that comes first on the
 * include path (make GENERATED_DIR=... / cmake -DKEYPROV_GENERATED_DIR=...).
 */
#ifndef __AWS_CLIENTCREDENTIAL__H__
#define __AWS_CLIENTCREDENTIAL__H__

/* MQTT broker endpoint: "" means not configured (the demo does not connect). */
#define clientcredentialMQTT_BROKER_ENDPOINT    ""

/* Thing name: the MQTT client id and the name the certificate is issued for. */
#define clientcredentialIOT_THING_NAME          ""

/* Port of the broker's MQTT-over-TLS listener. */
#define clientcredentialMQTT_BROKER_PORT        8883

/* Present for compatibility with FreeRTOS boards; the virtual board has no Wi-Fi. */
#define clientcredentialGREENGRASS_DISCOVERY_PORT    8443
#define clientcredentialWIFI_SSID                    ""
#define clientcredentialWIFI_PASSWORD                ""
#define clientcredentialWIFI_SECURITY                eWiFiSecurityWPA2

#endif /* ifndef __AWS_CLIENTCREDENTIAL__H__ */
