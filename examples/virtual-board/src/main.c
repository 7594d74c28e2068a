/*
 * The virtual board's firmware: a host process shaped like a FreeRTOS demo. Two "tasks"
 * (threads) log through the same console; the IP task runs developer-mode key
 * provisioning and then the MQTT mutual-auth demo; the SysMon task logs during boot so
 * its lines interleave with the public key rows, as on a real board.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "aws_clientcredential.h"
#include "vboard_config.h"

#include "aws_dev_mode_key_provisioning.h"
#include "board.h"
#include "logging.h"
#include "mqtt_demo.h"

/* Stop when the UART bridge (vboard serve) that powers the board goes away. */
static pid_t xPowerSupply;

static void * prvSysMonTask( void * pvArg )
{
    int i;

    ( void ) pvArg;
    vLoggingSetTaskName( "SysMon" );

    for( i = 0; i < 25; i++ )
    {
        configPRINTF( ( "heap free: %d bytes, stack high water mark: %d words\r\n", 48000 - 16 * i, 310 - i ) );
        vTaskDelayMs( 4 );
    }

    return NULL;
}

static void * prvIpTask( void * pvArg )
{
    ( void ) pvArg;
    vLoggingSetTaskName( "IP-task" );
    configPRINTF( ( "Network up: IP address 10.0.2.15, gateway 10.0.2.2\r\n" ) );

    if( vDevModeKeyProvisioning() == 0 )
    {
        ( void ) xRunMqttMutualAuthDemo();
    }

    configPRINTF( ( "Demo finished; idle.\r\n" ) );
    return NULL;
}

int main( int argc, char ** argv )
{
    pthread_t xSysMon;
    pthread_t xIp;

    xPowerSupply = getppid();
    vLoggingInit();
    vLoggingSetTaskName( "" );

    if( xBoardInit( argc, argv ) != 0 )
    {
        fprintf( stderr, "vboard firmware: no board folder (set VBOARD_DIR or pass --board DIR); run it with `vboard reset`\n" );
        return 2;
    }

    configPRINTF( ( "vboard FreeRTOS-style virtual board, image %s\r\n", vboardIMAGE_TAG ) );
    configPRINTF( ( "Thing name: %s\r\n", clientcredentialIOT_THING_NAME ) );
    pthread_create( &xSysMon, NULL, prvSysMonTask, NULL );
    pthread_create( &xIp, NULL, prvIpTask, NULL );
    pthread_join( xSysMon, NULL );
    pthread_join( xIp, NULL );

    /* The scheduler never returns: idle until reset or power-off. */
    while( getppid() == xPowerSupply )
    {
        vTaskDelayMs( 200 );
    }

    return 0;
}
