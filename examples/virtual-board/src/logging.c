/*
 * The console is the board's UART: stdout, set up by `vboard reset`. Every message is
 * written with one write() under a lock, as FreeRTOS's logging task drains its queue one
 * message at a time; so lines of two tasks never mix inside a line, but may land between
 * the rows of the public key.
 */
#include "logging.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t xConsoleLock = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t xTaskNameKey;
static struct timespec xBootTime;
static unsigned long ulMessageNumber = 0;

void vLoggingInit( void )
{
    clock_gettime( CLOCK_MONOTONIC, &xBootTime );
    pthread_key_create( &xTaskNameKey, NULL );
}

void vLoggingSetTaskName( const char * pcName )
{
    pthread_setspecific( xTaskNameKey, pcName );
}

uint32_t ulTickCount( void )
{
    struct timespec xNow;

    clock_gettime( CLOCK_MONOTONIC, &xNow );
    return ( uint32_t ) ( ( xNow.tv_sec - xBootTime.tv_sec ) * 1000L +
                          ( xNow.tv_nsec - xBootTime.tv_nsec ) / 1000000L );
}

void vTaskDelayMs( uint32_t ulMs )
{
    struct timespec xDelay;

    xDelay.tv_sec = ulMs / 1000;
    xDelay.tv_nsec = ( long ) ( ulMs % 1000 ) * 1000000L;

    while( nanosleep( &xDelay, &xDelay ) != 0 && errno == EINTR )
    {
    }
}

/* Write everything or die: a board whose UART bridge went away has lost power. */
static void prvWriteConsole( const char * pcData, size_t xLength )
{
    while( xLength > 0 )
    {
        ssize_t xWritten = write( STDOUT_FILENO, pcData, xLength );

        if( xWritten < 0 )
        {
            if( errno == EINTR )
            {
                continue;
            }

            _exit( 0 );
        }

        pcData += xWritten;
        xLength -= ( size_t ) xWritten;
    }
}

void vLoggingPrintf( const char * pcFormat, ... )
{
    char cBuffer[ 1024 ];
    const char * pcTask = pthread_getspecific( xTaskNameKey );
    int iLength;
    int iMore;
    va_list xArgs;

    pthread_mutex_lock( &xConsoleLock );
    ulMessageNumber++;
    iLength = snprintf( cBuffer, sizeof( cBuffer ), "%lu %lu [%s] ", ulMessageNumber,
                        ( unsigned long ) ulTickCount(), pcTask != NULL ? pcTask : "" );
    va_start( xArgs, pcFormat );
    iMore = vsnprintf( cBuffer + iLength, sizeof( cBuffer ) - ( size_t ) iLength, pcFormat, xArgs );
    va_end( xArgs );

    if( iMore > ( int ) ( sizeof( cBuffer ) - ( size_t ) iLength ) - 1 )
    {
        iMore = ( int ) ( sizeof( cBuffer ) - ( size_t ) iLength ) - 1;
    }

    prvWriteConsole( cBuffer, ( size_t ) ( iLength + iMore ) );
    pthread_mutex_unlock( &xConsoleLock );
}

void vLoggingPrint( const char * pcText )
{
    pthread_mutex_lock( &xConsoleLock );
    prvWriteConsole( pcText, strlen( pcText ) );
    pthread_mutex_unlock( &xConsoleLock );
}
