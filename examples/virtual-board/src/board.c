#include "board.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char * pcBoardDir = NULL;

int xBoardInit( int argc, char ** argv )
{
    int i;

    for( i = 1; i + 1 < argc; i++ )
    {
        if( strcmp( argv[ i ], "--board" ) == 0 )
        {
            pcBoardDir = argv[ i + 1 ];
        }
    }

    if( pcBoardDir == NULL )
    {
        pcBoardDir = getenv( "VBOARD_DIR" );
    }

    if( pcBoardDir == NULL || pcBoardDir[ 0 ] == '\0' )
    {
        return -1;
    }

    /* The flash region; vboard creates it, a board run by hand may not have it yet. */
    ( void ) mkdir( pcBoardPath( "flash" ), 0755 );
    return 0;
}

const char * pcBoardPath( const char * pcName )
{
    /* One caller at a time (the provisioning task, then the demo in the same task). */
    static char cPath[ 4096 ];

    snprintf( cPath, sizeof( cPath ), "%s/%s", pcBoardDir, pcName );
    return cPath;
}

int xBoardWriteFile( const char * pcName, const unsigned char * pucData, size_t xLength )
{
    char cFinal[ 4096 ];
    char cTemp[ 4200 ];
    FILE * pxFile;
    int xOk;

    snprintf( cFinal, sizeof( cFinal ), "%s", pcBoardPath( pcName ) );
    snprintf( cTemp, sizeof( cTemp ), "%s.tmp", cFinal );
    pxFile = fopen( cTemp, "wb" );

    if( pxFile == NULL )
    {
        return -1;
    }

    xOk = fwrite( pucData, 1, xLength, pxFile ) == xLength;
    xOk = ( fflush( pxFile ) == 0 ) && xOk;
    xOk = ( fsync( fileno( pxFile ) ) == 0 ) && xOk;
    xOk = ( fclose( pxFile ) == 0 ) && xOk;
    chmod( cTemp, 0600 );

    if( !xOk || rename( cTemp, cFinal ) != 0 )
    {
        remove( cTemp );
        return -1;
    }

    return 0;
}

int xBoardResetAfterKeyRows( void )
{
    const char * pcValue = getenv( "VBOARD_FAULT_RESET_AFTER_KEY_ROWS" );

    return pcValue != NULL ? atoi( pcValue ) : 0;
}
