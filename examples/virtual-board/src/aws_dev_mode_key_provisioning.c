/*
 * Developer-mode key provisioning for the virtual board.
 *
 * Behaves as the FreeRTOS original: the key pair persists in the board's flash; a new
 * ECDSA P-256 pair is generated when forced (below) or when none is stored; its public
 * key is printed on the console as DER in hex rows, for the developer (or keyprov) to
 * turn into a certificate.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ecp.h"
#include "mbedtls/entropy.h"
#include "mbedtls/pk.h"
#include "mbedtls/sha256.h"

#include "aws_clientcredential.h"
#include "aws_clientcredential_keys.h"
#include "vboard_config.h"

#include "aws_dev_mode_key_provisioning.h"
#include "board.h"
#include "logging.h"

/* Developer convenience override, for lab testing purposes, for generating
 * a new default key pair, regardless of whether an existing key pair is present. */
#ifndef keyprovisioningFORCE_GENERATE_NEW_KEY_PAIR
#define keyprovisioningFORCE_GENERATE_NEW_KEY_PAIR    0
#endif

/* Older header sets have no private key macro: not set. */
#ifndef keyCLIENT_PRIVATE_KEY_PEM
#define keyCLIENT_PRIVATE_KEY_PEM    NULL
#endif

#define BYTES_TO_DISPLAY_PER_ROW    16

/* NULL and "" both mean "not set". */
static int prvIsSet( const char * pcValue )
{
    return pcValue != NULL && pcValue[ 0 ] != '\0';
}

/* Header with the log prefix, then rows without prefix: 16 bytes a row, two-byte groups
 * of lowercase hex, each group followed by a space, CRLF. Each row is queued on its
 * own, so the other task's messages can land between rows. */
static void prvWriteHexBytesToConsole( const char * pcDescription,
                                       const unsigned char * pucData,
                                       size_t xDataLength )
{
    char cRow[ 1 + ( BYTES_TO_DISPLAY_PER_ROW * 2 ) + ( BYTES_TO_DISPLAY_PER_ROW / 2 ) + 4 ];
    char * pcNext = cRow;
    size_t xIndex;
    int xRows = 0;
    int xResetAfter = xBoardResetAfterKeyRows();
    const char * pcEnd = vboardNEWER_RELEASE ? "\r\n\r\n" : "\r\n";

    configPRINTF( ( "%s, %d bytes:%s", pcDescription, ( int ) xDataLength, pcEnd ) );

    for( xIndex = 0; xIndex < xDataLength; xIndex++ )
    {
        snprintf( pcNext, sizeof( cRow ) - ( size_t ) ( pcNext - cRow ), "%02x", pucData[ xIndex ] );
        pcNext += 2;

        if( 0 == ( ( xIndex + 1 ) % 2 ) )
        {
            *pcNext++ = ' ';
        }

        if( ( 0 == ( ( xIndex + 1 ) % BYTES_TO_DISPLAY_PER_ROW ) ) || ( xIndex + 1 == xDataLength ) )
        {
            strcpy( pcNext, pcEnd );
            vLoggingPrint( cRow );
            pcNext = cRow;
            xRows++;

            if( xResetAfter > 0 && xRows == xResetAfter && xIndex + 1 < xDataLength )
            {
                /* Fault knob: brown-out in the middle of the key. */
                _Exit( boardEXIT_SPONTANEOUS_RESET );
            }

            /* The logging task drains one message per tick or so. */
            vTaskDelayMs( 3 );
        }
    }
}

static int prvSeedRng( mbedtls_entropy_context * pxEntropy, mbedtls_ctr_drbg_context * pxDrbg )
{
    static const char cPersonal[] = "vboard-keygen";

    mbedtls_entropy_init( pxEntropy );
    mbedtls_ctr_drbg_init( pxDrbg );
    return mbedtls_ctr_drbg_seed( pxDrbg, mbedtls_entropy_func, pxEntropy,
                                  ( const unsigned char * ) cPersonal, sizeof( cPersonal ) - 1 );
}

/* Store the key in flash as DER; mbedtls writes DER at the END of the buffer. */
static int prvStoreKey( mbedtls_pk_context * pxKey )
{
    unsigned char ucDer[ 512 ];
    int xLength = mbedtls_pk_write_key_der( pxKey, ucDer, sizeof( ucDer ) );

    if( xLength <= 0 )
    {
        return -1;
    }

    return xBoardWriteFile( keyprovisioningDEVICE_KEY_FILE, ucDer + sizeof( ucDer ) - xLength, ( size_t ) xLength );
}

static int prvGenerateKeyPair( mbedtls_pk_context * pxKey )
{
    mbedtls_entropy_context xEntropy;
    mbedtls_ctr_drbg_context xDrbg;
    int xResult = prvSeedRng( &xEntropy, &xDrbg );

    if( xResult == 0 )
    {
        xResult = mbedtls_pk_setup( pxKey, mbedtls_pk_info_from_type( MBEDTLS_PK_ECKEY ) );
    }

    if( xResult == 0 )
    {
        xResult = mbedtls_ecp_gen_key( MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec( *pxKey ),
                                       mbedtls_ctr_drbg_random, &xDrbg );
    }

    mbedtls_ctr_drbg_free( &xDrbg );
    mbedtls_entropy_free( &xEntropy );
    return xResult;
}

#if vboardSECURE_ELEMENT
/* A secure element names itself by its serial number (ATECC608-style: 0123...EE). */
static void prvPrintRecommendedSubject( const unsigned char * pucPublicKey, size_t xLength )
{
    unsigned char ucHash[ 32 ];
    char cSerial[ 19 ];
    int i;

    mbedtls_sha256_ret( pucPublicKey, xLength, ucHash, 0 );
    snprintf( cSerial, sizeof( cSerial ), "0123" );

    for( i = 0; i < 6; i++ )
    {
        snprintf( cSerial + 4 + 2 * i, sizeof( cSerial ) - ( size_t ) ( 4 + 2 * i ), "%02X", ucHash[ i ] );
    }

    snprintf( cSerial + 16, 3, "EE" );
    configPRINTF( ( "Recommended certificate subject name: CN=%s\r\n", cSerial ) );
}
#endif

int vDevModeKeyProvisioning( void )
{
    mbedtls_pk_context xKey;
    unsigned char ucDer[ 256 ];
    int xDerLength;
    int xGenerated = 0;
    int xHaveKey;
    const char * pcCertificate = keyCLIENT_CERTIFICATE_PEM;
    const char * pcPrivateKey = keyCLIENT_PRIVATE_KEY_PEM;

    mbedtls_pk_init( &xKey );

    if( prvIsSet( pcPrivateKey ) )
    {
        /* A key supplied in the header replaces (destroys) the key stored on the board. */
        xHaveKey = mbedtls_pk_parse_key( &xKey, ( const unsigned char * ) pcPrivateKey,
                                         strlen( pcPrivateKey ) + 1, NULL, 0 ) == 0 &&
                   prvStoreKey( &xKey ) == 0;
        configPRINTF( ( "Imported the private key from keyCLIENT_PRIVATE_KEY_PEM%s\r\n",
                        xHaveKey ? "" : ": FAILED (does not parse)" ) );
    }
    else
    {
        xHaveKey = mbedtls_pk_parse_keyfile( &xKey, pcBoardPath( keyprovisioningDEVICE_KEY_FILE ), NULL ) == 0;

        if( keyprovisioningFORCE_GENERATE_NEW_KEY_PAIR || !xHaveKey )
        {
            #if vboardNEWER_RELEASE
                configPRINTF( ( "Waiting for %d seconds before generating key-pair\r\n", vboardKEYGEN_DELAY_SECONDS ) );
                vTaskDelayMs( vboardKEYGEN_DELAY_SECONDS * 1000u );
            #endif

            mbedtls_pk_free( &xKey );
            mbedtls_pk_init( &xKey );
            xHaveKey = prvGenerateKeyPair( &xKey ) == 0 && prvStoreKey( &xKey ) == 0;
            xGenerated = xHaveKey;

            if( !xHaveKey )
            {
                configPRINTF( ( "ERROR: Failed to generate a key pair.\r\n" ) );
            }
        }
    }

    if( xHaveKey && ( xGenerated || vboardNEWER_RELEASE ) )
    {
        xDerLength = mbedtls_pk_write_pubkey_der( &xKey, ucDer, sizeof( ucDer ) );

        if( xDerLength > 0 )
        {
            #if vboardNEWER_RELEASE
                configPRINTF( ( "Printing device public key.\r\n" ) );
                configPRINTF( ( "Make sure that provisioned device certificate matches public key on device.\r\n" ) );
            #endif
            prvWriteHexBytesToConsole( "Device public key", ucDer + sizeof( ucDer ) - xDerLength, ( size_t ) xDerLength );
            #if vboardSECURE_ELEMENT
                prvPrintRecommendedSubject( ucDer + sizeof( ucDer ) - xDerLength, ( size_t ) xDerLength );
            #endif
        }
    }

    if( !prvIsSet( pcCertificate ) )
    {
        configPRINTF( ( "Warning: the client certificate should be updated. Please see https://aws.amazon.com/freertos/getting-started/.\r\n" ) );
    }

    mbedtls_pk_free( &xKey );
    return xHaveKey ? 0 : -1;
}
