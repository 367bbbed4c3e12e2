/* shakedown — symbol visibility. The library is built with
 * -fvisibility=hidden; only what is marked SD_API is exported. */
#ifndef SHAKEDOWN_EXPORT_H
#define SHAKEDOWN_EXPORT_H
/* SD_FREESTANDING: the engine layer alone, for a microcontroller (no OS,
 * no stdio, no malloc, no text records; docs/PORTING-links.md). It implies
 * SD_NO_TEXT: the report and diagnosis records that hold sentences are left
 * out, and results are codes (sd_cause, sd_err). Host builds define neither. */
#if defined(SD_FREESTANDING) && !defined(SD_NO_TEXT)
#define SD_NO_TEXT 1
#endif
#if defined(SD_BUILDING_LIBRARY) && defined(__GNUC__)
#define SD_API __attribute__((visibility("default")))
#else
#define SD_API
#endif
#endif
