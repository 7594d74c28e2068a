/* The coreMQTT mutual-authentication demo, reduced to CONNECT + one QoS 1 PUBLISH. */
#ifndef MQTT_DEMO_H
#define MQTT_DEMO_H

/* Returns 0 when the board connected and the broker acknowledged the hello. */
int xRunMqttMutualAuthDemo( void );

#endif /* MQTT_DEMO_H */
