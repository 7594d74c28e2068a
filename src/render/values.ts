// Value sets shared by the config schema and the renderer, kept free of zod so that the
// render path stays cheap to load.

/** The eWiFiSecurity identifiers of FreeRTOS's iot_wifi.h. */
export const WIFI_SECURITY = ['eWiFiSecurityOpen', 'eWiFiSecurityWEP', 'eWiFiSecurityWPA', 'eWiFiSecurityWPA2', 'eWiFiSecurityWPA2_ent', 'eWiFiSecurityWPA3'] as const;
export type WifiSecurity = (typeof WIFI_SECURITY)[number];

export const DEFAULT_MQTT_PORT = 8883;
export const DEFAULT_GREENGRASS_PORT = 8443;
export const DEFAULT_WIFI_SECURITY: WifiSecurity = 'eWiFiSecurityWPA2';
