#include "mqtt_lite.h"

#include <string.h>

static size_t prvRemainingLength( uint8_t * pucOut, size_t xValue )
{
    size_t xCount = 0;

    do
    {
        uint8_t ucByte = ( uint8_t ) ( xValue % 128 );

        xValue /= 128;
        pucOut[ xCount++ ] = ( uint8_t ) ( ucByte | ( xValue > 0 ? 0x80 : 0 ) );
    } while( xValue > 0 && xCount < 4 );

    return xCount;
}

static uint8_t * prvString( uint8_t * pucOut, const char * pcText, size_t xLength )
{
    *pucOut++ = ( uint8_t ) ( xLength >> 8 );
    *pucOut++ = ( uint8_t ) ( xLength & 0xFF );
    memcpy( pucOut, pcText, xLength );
    return pucOut + xLength;
}

/* Fixed header + body: body is built after a 5-byte gap, then moved into place. */
static size_t prvFinish( uint8_t * pucBuffer, uint8_t ucType, size_t xBodyLength )
{
    uint8_t ucLength[ 4 ];
    size_t xLengthBytes = prvRemainingLength( ucLength, xBodyLength );

    memmove( pucBuffer + 1 + xLengthBytes, pucBuffer + 5, xBodyLength );
    pucBuffer[ 0 ] = ucType;
    memcpy( pucBuffer + 1, ucLength, xLengthBytes );
    return 1 + xLengthBytes + xBodyLength;
}

size_t xMqttEncodeConnect( uint8_t * pucBuffer, size_t xSize, const char * pcClientId, uint16_t usKeepAlive )
{
    size_t xIdLength = strlen( pcClientId );
    size_t xBody = 10 + 2 + xIdLength;
    uint8_t * p = pucBuffer + 5;

    if( xSize < 5 + xBody || xIdLength > 65535 )
    {
        return 0;
    }

    p = prvString( p, "MQTT", 4 );
    *p++ = 4;    /* protocol level 3.1.1 */
    *p++ = 0x02; /* clean session, no will, no username/password */
    *p++ = ( uint8_t ) ( usKeepAlive >> 8 );
    *p++ = ( uint8_t ) ( usKeepAlive & 0xFF );
    prvString( p, pcClientId, xIdLength );
    return prvFinish( pucBuffer, 0x10, xBody );
}

size_t xMqttEncodePublishQos1( uint8_t * pucBuffer, size_t xSize, const char * pcTopic,
                               uint16_t usPacketId, const uint8_t * pucPayload, size_t xPayloadLength )
{
    size_t xTopicLength = strlen( pcTopic );
    size_t xBody = 2 + xTopicLength + 2 + xPayloadLength;
    uint8_t * p = pucBuffer + 5;

    if( xSize < 5 + xBody || xTopicLength > 65535 )
    {
        return 0;
    }

    p = prvString( p, pcTopic, xTopicLength );
    *p++ = ( uint8_t ) ( usPacketId >> 8 );
    *p++ = ( uint8_t ) ( usPacketId & 0xFF );
    memcpy( p, pucPayload, xPayloadLength );
    return prvFinish( pucBuffer, 0x32, xBody ); /* PUBLISH, QoS 1 */
}

size_t xMqttEncodeDisconnect( uint8_t * pucBuffer, size_t xSize )
{
    if( xSize < 2 )
    {
        return 0;
    }

    pucBuffer[ 0 ] = 0xE0;
    pucBuffer[ 1 ] = 0;
    return 2;
}

int xMqttDecodeRemainingLength( const uint8_t * pucData, size_t xLength, size_t * pxValue )
{
    size_t xValue = 0;
    size_t xMultiplier = 1;
    size_t i;

    for( i = 0; i < 4; i++ )
    {
        if( i >= xLength )
        {
            return 0;
        }

        xValue += ( pucData[ i ] & 0x7F ) * xMultiplier;
        xMultiplier *= 128;

        if( ( pucData[ i ] & 0x80 ) == 0 )
        {
            *pxValue = xValue;
            return ( int ) i + 1;
        }
    }

    return -1;
}

const char * pcMqttConnackReason( uint8_t ucCode )
{
    static const char * const pcReasons[] =
    {
        "accepted",
        "unacceptable protocol version",
        "identifier rejected",
        "server unavailable",
        "bad user name or password",
        "not authorized"
    };

    return ucCode < 6 ? pcReasons[ ucCode ] : "unknown";
}
