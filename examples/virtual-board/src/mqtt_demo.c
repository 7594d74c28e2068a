/*
 * TLS 1.2 to the broker named in aws_clientcredential.h, verifying it against the root CA,
 * presenting keyCLIENT_CERTIFICATE_PEM (+ keyJITR_DEVICE_CERTIFICATE_AUTHORITY_PEM) and
 * the key stored on the board; MQTT CONNECT with the thing name as client id; PUBLISH
 * QoS 1 to keyprov/<thing>/hello (outside the default AWS IoT policy's <thing>/...: the
 * example keyprov.config.yaml adds it with aws.topicPrefixes). Every failure is one log
 * line that names its cause.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/error.h"
#include "mbedtls/net_sockets.h"
#include "mbedtls/pk.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"

#include "aws_clientcredential.h"
#include "aws_clientcredential_keys.h"
#include "vboard_config.h"

#include "aws_dev_mode_key_provisioning.h"
#include "board.h"
#include "logging.h"
#include "mqtt_demo.h"
#include "mqtt_lite.h"

#ifndef keyJITR_DEVICE_CERTIFICATE_AUTHORITY_PEM
#define keyJITR_DEVICE_CERTIFICATE_AUTHORITY_PEM    NULL
#endif

#define demoPREFIX            "MQTT mutual-auth demo: "
#define demoTIMEOUT_MS        10000
#define demoPACKET_ID         1

typedef struct
{
    mbedtls_net_context xNet;
    mbedtls_ssl_context xSsl;
    mbedtls_ssl_config xConfig;
    mbedtls_x509_crt xRootCa;
    mbedtls_x509_crt xClientChain;
    mbedtls_pk_context xKey;
    mbedtls_entropy_context xEntropy;
    mbedtls_ctr_drbg_context xDrbg;
} DemoTls_t;

static int prvIsSet( const char * pcValue )
{
    return pcValue != NULL && pcValue[ 0 ] != '\0';
}

static const char * prvErrorText( int xError )
{
    static char cText[ 200 ];

    mbedtls_strerror( xError, cText, sizeof( cText ) );
    return cText;
}

static const char * prvAlertName( unsigned char ucAlert )
{
    switch( ucAlert )
    {
        case 40: return "handshake_failure";
        case 42: return "bad_certificate";
        case 43: return "unsupported_certificate";
        case 44: return "certificate_revoked";
        case 45: return "certificate_expired";
        case 46: return "certificate_unknown";
        case 48: return "unknown_ca";
        case 49: return "access_denied";
        case 50: return "decode_error";
        case 51: return "decrypt_error";
        case 70: return "protocol_version";
        case 80: return "internal_error";
        case 116: return "certificate_required";
        default: return "unknown alert";
    }
}

/* PEM parsing needs the terminating NUL in the length. */
static int prvParsePem( mbedtls_x509_crt * pxChain, const char * pcPem )
{
    return mbedtls_x509_crt_parse( pxChain, ( const unsigned char * ) pcPem, strlen( pcPem ) + 1 );
}

static int prvLoadRootCa( DemoTls_t * pxTls )
{
    const char * pcRootCa = vboardBROKER_ROOT_CA_PEM;
    int xResult;

    if( prvIsSet( pcRootCa ) )
    {
        xResult = prvParsePem( &pxTls->xRootCa, pcRootCa );
    }
    else
    {
        xResult = mbedtls_x509_crt_parse_file( &pxTls->xRootCa, pcBoardPath( "root-ca.pem" ) );
    }

    if( xResult != 0 )
    {
        configPRINTF( ( demoPREFIX "no usable broker root CA (%s): -0x%04x %s\r\n",
                        prvIsSet( pcRootCa ) ? "vboardBROKER_ROOT_CA_PEM" : "root-ca.pem in the board folder",
                        ( unsigned ) -xResult, prvErrorText( xResult ) ) );
    }

    return xResult;
}

/* The client certificate chain and the key; a missing certificate is not fatal here:
 * the handshake then goes ahead without one and the broker refuses it. */
static int prvLoadClientCredentials( DemoTls_t * pxTls, int * pxHaveCertificate )
{
    const char * pcCertificate = keyCLIENT_CERTIFICATE_PEM;
    const char * pcJitrCa = keyJITR_DEVICE_CERTIFICATE_AUTHORITY_PEM;
    int xResult;

    *pxHaveCertificate = 0;

    if( !prvIsSet( pcCertificate ) )
    {
        configPRINTF( ( demoPREFIX "keyCLIENT_CERTIFICATE_PEM is not set: connecting without a client certificate\r\n" ) );
        return 0;
    }

    xResult = prvParsePem( &pxTls->xClientChain, pcCertificate );

    if( xResult != 0 )
    {
        configPRINTF( ( demoPREFIX "keyCLIENT_CERTIFICATE_PEM does not parse: -0x%04x %s\r\n",
                        ( unsigned ) -xResult, prvErrorText( xResult ) ) );
        return xResult;
    }

    if( prvIsSet( pcJitrCa ) )
    {
        xResult = prvParsePem( &pxTls->xClientChain, pcJitrCa );

        if( xResult != 0 )
        {
            configPRINTF( ( demoPREFIX "keyJITR_DEVICE_CERTIFICATE_AUTHORITY_PEM does not parse: -0x%04x %s\r\n",
                            ( unsigned ) -xResult, prvErrorText( xResult ) ) );
            return xResult;
        }
    }

    xResult = mbedtls_pk_parse_keyfile( &pxTls->xKey, pcBoardPath( keyprovisioningDEVICE_KEY_FILE ), NULL );

    if( xResult != 0 )
    {
        configPRINTF( ( demoPREFIX "no private key on the board: -0x%04x %s\r\n",
                        ( unsigned ) -xResult, prvErrorText( xResult ) ) );
        return xResult;
    }

    /* An image flashed to the wrong board carries another board's certificate: say so
     * plainly, then go on so that the broker's rejection shows as well. */
    if( mbedtls_pk_check_pair( &pxTls->xClientChain.pk, &pxTls->xKey ) != 0 )
    {
        configPRINTF( ( demoPREFIX "keyCLIENT_CERTIFICATE_PEM does not match the key pair stored on this board (certificate for another board?): the broker will reject the handshake\r\n" ) );
    }

    *pxHaveCertificate = 1;
    return 0;
}

static int prvReadExactly( DemoTls_t * pxTls, unsigned char * pucBuffer, size_t xLength )
{
    size_t xDone = 0;

    while( xDone < xLength )
    {
        int xRead = mbedtls_ssl_read( &pxTls->xSsl, pucBuffer + xDone, xLength - xDone );

        if( xRead <= 0 )
        {
            return xRead == 0 ? MBEDTLS_ERR_SSL_CONN_EOF : xRead;
        }

        xDone += ( size_t ) xRead;
    }

    return 0;
}

/* One MQTT packet: returns the type byte (>0) and the body, or a negative mbedTLS error. */
static int prvReadPacket( DemoTls_t * pxTls, unsigned char * pucBody, size_t xSize, size_t * pxBodyLength )
{
    unsigned char ucHeader[ 5 ];
    size_t xHave = 1;
    int xUsed = 0;
    int xResult = prvReadExactly( pxTls, ucHeader, 1 );

    while( xResult == 0 && xUsed == 0 && xHave < 5 )
    {
        xResult = prvReadExactly( pxTls, ucHeader + xHave, 1 );
        xHave++;
        xUsed = xResult == 0 ? xMqttDecodeRemainingLength( ucHeader + 1, xHave - 1, pxBodyLength ) : 0;

        if( xUsed < 0 || ( xUsed > 0 && *pxBodyLength > xSize ) )
        {
            return MBEDTLS_ERR_SSL_BAD_INPUT_DATA;
        }
    }

    if( xResult == 0 )
    {
        xResult = prvReadExactly( pxTls, pucBody, *pxBodyLength );
    }

    return xResult == 0 ? ucHeader[ 0 ] : xResult;
}

static int prvWriteAll( DemoTls_t * pxTls, const unsigned char * pucData, size_t xLength )
{
    while( xLength > 0 )
    {
        int xWritten = mbedtls_ssl_write( &pxTls->xSsl, pucData, xLength );

        if( xWritten < 0 )
        {
            return xWritten;
        }

        pucData += xWritten;
        xLength -= ( size_t ) xWritten;
    }

    return 0;
}

static void prvReportTlsFailure( const char * pcWhere, int xResult, DemoTls_t * pxTls )
{
    char cDetail[ 512 ] = "";

    if( xResult == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED )
    {
        char cInfo[ 400 ];
        uint32_t ulFlags = mbedtls_ssl_get_verify_result( &pxTls->xSsl );
        size_t xLength;

        mbedtls_x509_crt_verify_info( cInfo, sizeof( cInfo ), "", ulFlags );
        xLength = strlen( cInfo );

        /* One line: the verify info uses newlines between reasons. */
        while( xLength > 0 && cInfo[ xLength - 1 ] == '\n' )
        {
            cInfo[ --xLength ] = '\0';
        }

        for( size_t i = 0; i < xLength; i++ )
        {
            if( cInfo[ i ] == '\n' )
            {
                cInfo[ i ] = ';';
            }
        }

        snprintf( cDetail, sizeof( cDetail ), " (broker certificate: %s)", cInfo );
    }
    else if( xResult == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE && pxTls->xSsl.in_msg != NULL )
    {
        snprintf( cDetail, sizeof( cDetail ), " (broker sent alert %u: %s)",
                  pxTls->xSsl.in_msg[ 1 ], prvAlertName( pxTls->xSsl.in_msg[ 1 ] ) );
    }

    else if( ( xResult == MBEDTLS_ERR_NET_CONN_RESET ) || ( xResult == MBEDTLS_ERR_SSL_CONN_EOF ) )
    {
        snprintf( cDetail, sizeof( cDetail ), " (the broker closed the connection: it rejected the handshake, e.g. the client certificate)" );
    }

    configPRINTF( ( demoPREFIX "%s failed: -0x%04x %s%s\r\n", pcWhere, ( unsigned ) -xResult,
                    prvErrorText( xResult ), cDetail ) );
}

static int prvMqttExchange( DemoTls_t * pxTls, const char * pcThing )
{
    unsigned char ucBuffer[ 1024 ];
    unsigned char ucBody[ 64 ];
    char cTopic[ 300 ];
    char cPayload[ 400 ];
    size_t xLength;
    size_t xBodyLength = 0;
    int xResult;

    xLength = xMqttEncodeConnect( ucBuffer, sizeof( ucBuffer ), pcThing, 60 );
    xResult = prvWriteAll( pxTls, ucBuffer, xLength );
    xResult = xResult == 0 ? prvReadPacket( pxTls, ucBody, sizeof( ucBody ), &xBodyLength ) : xResult;

    if( xResult < 0 )
    {
        prvReportTlsFailure( "MQTT CONNECT", xResult, pxTls );
        return xResult;
    }

    if( ( xResult & 0xF0 ) != mqttCONNACK || xBodyLength != 2 )
    {
        configPRINTF( ( demoPREFIX "expected CONNACK, got packet type 0x%02x\r\n", ( unsigned ) xResult ) );
        return -1;
    }

    if( ucBody[ 1 ] != 0 )
    {
        configPRINTF( ( demoPREFIX "broker refused CONNECT: CONNACK return code %u (%s)\r\n",
                        ucBody[ 1 ], pcMqttConnackReason( ucBody[ 1 ] ) ) );
        return -1;
    }

    configPRINTF( ( demoPREFIX "MQTT connection established with %s as %s\r\n", clientcredentialMQTT_BROKER_ENDPOINT, pcThing ) );

    snprintf( cTopic, sizeof( cTopic ), "keyprov/%s/hello", pcThing );
    snprintf( cPayload, sizeof( cPayload ), "{\"thing\":\"%s\",\"message\":\"hello from the virtual board\",\"image\":\"%s\"}",
              pcThing, vboardIMAGE_TAG );
    xLength = xMqttEncodePublishQos1( ucBuffer, sizeof( ucBuffer ), cTopic, demoPACKET_ID,
                                      ( const uint8_t * ) cPayload, strlen( cPayload ) );
    xResult = prvWriteAll( pxTls, ucBuffer, xLength );
    xResult = xResult == 0 ? prvReadPacket( pxTls, ucBody, sizeof( ucBody ), &xBodyLength ) : xResult;

    if( xResult < 0 )
    {
        prvReportTlsFailure( "MQTT PUBLISH", xResult, pxTls );
        return xResult;
    }

    if( ( xResult & 0xF0 ) != mqttPUBACK || xBodyLength != 2 || ucBody[ 0 ] != 0 || ucBody[ 1 ] != demoPACKET_ID )
    {
        configPRINTF( ( demoPREFIX "expected PUBACK for packet %d, got packet type 0x%02x\r\n", demoPACKET_ID, ( unsigned ) xResult ) );
        return -1;
    }

    configPRINTF( ( demoPREFIX "connected as %s, published to %s\r\n", pcThing, cTopic ) );
    xLength = xMqttEncodeDisconnect( ucBuffer, sizeof( ucBuffer ) );
    ( void ) prvWriteAll( pxTls, ucBuffer, xLength );
    ( void ) mbedtls_ssl_close_notify( &pxTls->xSsl );
    return 0;
}

int xRunMqttMutualAuthDemo( void )
{
    static const char cPersonal[] = "vboard-mqtt-demo";
    const char * pcEndpoint = clientcredentialMQTT_BROKER_ENDPOINT;
    const char * pcThing = clientcredentialIOT_THING_NAME;
    char cPort[ 16 ];
    int xHaveCertificate = 0;
    int xResult;
    DemoTls_t xTls;

    if( !prvIsSet( pcEndpoint ) || !prvIsSet( pcThing ) )
    {
        configPRINTF( ( demoPREFIX "not started: clientcredentialMQTT_BROKER_ENDPOINT or clientcredentialIOT_THING_NAME is not set in aws_clientcredential.h\r\n" ) );
        return -1;
    }

    snprintf( cPort, sizeof( cPort ), "%d", ( int ) clientcredentialMQTT_BROKER_PORT );

    mbedtls_net_init( &xTls.xNet );
    mbedtls_ssl_init( &xTls.xSsl );
    mbedtls_ssl_config_init( &xTls.xConfig );
    mbedtls_x509_crt_init( &xTls.xRootCa );
    mbedtls_x509_crt_init( &xTls.xClientChain );
    mbedtls_pk_init( &xTls.xKey );
    mbedtls_entropy_init( &xTls.xEntropy );
    mbedtls_ctr_drbg_init( &xTls.xDrbg );

    xResult = mbedtls_ctr_drbg_seed( &xTls.xDrbg, mbedtls_entropy_func, &xTls.xEntropy,
                                     ( const unsigned char * ) cPersonal, sizeof( cPersonal ) - 1 );
    xResult = xResult == 0 ? prvLoadRootCa( &xTls ) : xResult;
    xResult = xResult == 0 ? prvLoadClientCredentials( &xTls, &xHaveCertificate ) : xResult;

    if( xResult == 0 )
    {
        configPRINTF( ( demoPREFIX "connecting to %s:%s as %s\r\n", pcEndpoint, cPort, pcThing ) );
        xResult = mbedtls_net_connect( &xTls.xNet, pcEndpoint, cPort, MBEDTLS_NET_PROTO_TCP );

        if( xResult != 0 )
        {
            configPRINTF( ( demoPREFIX "TCP connect to %s:%s failed: -0x%04x %s\r\n", pcEndpoint, cPort,
                            ( unsigned ) -xResult, prvErrorText( xResult ) ) );
        }
    }

    if( xResult == 0 )
    {
        mbedtls_ssl_config_defaults( &xTls.xConfig, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT );
        mbedtls_ssl_conf_min_version( &xTls.xConfig, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3 );
        mbedtls_ssl_conf_max_version( &xTls.xConfig, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3 );
        mbedtls_ssl_conf_authmode( &xTls.xConfig, MBEDTLS_SSL_VERIFY_REQUIRED );
        mbedtls_ssl_conf_ca_chain( &xTls.xConfig, &xTls.xRootCa, NULL );
        mbedtls_ssl_conf_rng( &xTls.xConfig, mbedtls_ctr_drbg_random, &xTls.xDrbg );
        mbedtls_ssl_conf_read_timeout( &xTls.xConfig, demoTIMEOUT_MS );

        if( xHaveCertificate )
        {
            xResult = mbedtls_ssl_conf_own_cert( &xTls.xConfig, &xTls.xClientChain, &xTls.xKey );
        }

        xResult = xResult == 0 ? mbedtls_ssl_setup( &xTls.xSsl, &xTls.xConfig ) : xResult;
        xResult = xResult == 0 ? mbedtls_ssl_set_hostname( &xTls.xSsl, pcEndpoint ) : xResult;
        mbedtls_ssl_set_bio( &xTls.xSsl, &xTls.xNet, mbedtls_net_send, NULL, mbedtls_net_recv_timeout );

        if( xResult == 0 )
        {
            xResult = mbedtls_ssl_handshake( &xTls.xSsl );
        }

        if( xResult != 0 )
        {
            prvReportTlsFailure( "TLS handshake", xResult, &xTls );
        }
        else
        {
            configPRINTF( ( demoPREFIX "TLS session established (%s, %s)\r\n",
                            mbedtls_ssl_get_version( &xTls.xSsl ), mbedtls_ssl_get_ciphersuite( &xTls.xSsl ) ) );
            xResult = prvMqttExchange( &xTls, pcThing );
        }
    }

    mbedtls_net_free( &xTls.xNet );
    mbedtls_ssl_free( &xTls.xSsl );
    mbedtls_ssl_config_free( &xTls.xConfig );
    mbedtls_x509_crt_free( &xTls.xRootCa );
    mbedtls_x509_crt_free( &xTls.xClientChain );
    mbedtls_pk_free( &xTls.xKey );
    mbedtls_ctr_drbg_free( &xTls.xDrbg );
    mbedtls_entropy_free( &xTls.xEntropy );
    return xResult;
}
