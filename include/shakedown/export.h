/* shakedown — symbol visibility. The library is built with
 * -fvisibility=hidden; only what is marked SD_API is exported. */
#ifndef SHAKEDOWN_EXPORT_H
#define SHAKEDOWN_EXPORT_H
#if defined(SD_BUILDING_LIBRARY) && defined(__GNUC__)
#define SD_API __attribute__((visibility("default")))
#else
#define SD_API
#endif
#endif
