/* The board's non-volatile state: a folder given by `vboard` in VBOARD_DIR. */
#ifndef BOARD_H
#define BOARD_H

#include <stddef.h>

/* Returns 0 when the board folder is known. */
int xBoardInit( int argc, char ** argv );
/* Path of a file in the board folder: "<dir>/<name>". */
const char * pcBoardPath( const char * pcName );
/* Write a file in the board's flash atomically (temp file + rename). 0 on success. */
int xBoardWriteFile( const char * pcName, const unsigned char * pucData, size_t xLength );
/* Fault knob set by vboard: reset the board after printing this many key rows (0: never). */
int xBoardResetAfterKeyRows( void );
/* Exit status that tells vboard the board reset itself. */
#define boardEXIT_SPONTANEOUS_RESET    86

#endif /* BOARD_H */
