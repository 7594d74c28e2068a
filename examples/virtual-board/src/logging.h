/* FreeRTOS-style console logging: "N TICK [task] message" lines and raw rows. */
#ifndef LOGGING_H
#define LOGGING_H

#include <stdint.h>

void vLoggingInit( void );
/* Name of the calling thread ("task") as shown in the prefix; "" is allowed. */
void vLoggingSetTaskName( const char * pcName );
/* One prefixed message; the format supplies its own "\r\n" as in FreeRTOS. */
void vLoggingPrintf( const char * pcFormat, ... );
/* Raw text without prefix (the key rows). */
void vLoggingPrint( const char * pcText );
/* Milliseconds since boot: the tick count. */
uint32_t ulTickCount( void );
/* Let other tasks run, like vTaskDelay(). */
void vTaskDelayMs( uint32_t ulMs );

#define configPRINTF( X )    vLoggingPrintf X

#endif /* LOGGING_H */
