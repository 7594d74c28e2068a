/* The few MQTT 3.1.1 packets the demo needs, encoded into caller buffers. */
#ifndef MQTT_LITE_H
#define MQTT_LITE_H

#include <stddef.h>
#include <stdint.h>

/* Each returns the packet length, or 0 when the buffer is too small. */
size_t xMqttEncodeConnect( uint8_t * pucBuffer, size_t xSize, const char * pcClientId, uint16_t usKeepAlive );
size_t xMqttEncodePublishQos1( uint8_t * pucBuffer, size_t xSize, const char * pcTopic,
                               uint16_t usPacketId, const uint8_t * pucPayload, size_t xPayloadLength );
size_t xMqttEncodeDisconnect( uint8_t * pucBuffer, size_t xSize );

/* Remaining-length field (1..4 bytes): returns bytes consumed, 0 if incomplete, -1 if bad. */
int xMqttDecodeRemainingLength( const uint8_t * pucData, size_t xLength, size_t * pxValue );

#define mqttCONNACK    0x20
#define mqttPUBACK     0x40

/* Text for a CONNACK return code. */
const char * pcMqttConnackReason( uint8_t ucCode );

#endif /* MQTT_LITE_H */
