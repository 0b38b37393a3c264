#pragma once
// <os/log.h> as dexts use it: os_log and its levels, with the unified log's format extensions
// (%{public}s, %{private}d, %{bool}d, %{errno}d, %.*P ...). Each message is one record in the
// run's log at simulated time, with its type. Values are printed in full, as on a Mac that
// logs private data: a test run is where a developer wants to see them.
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dexthil_os_log_s* os_log_t;

// The record types, with Apple's values.
typedef uint8_t os_log_type_t;
#define OS_LOG_TYPE_DEFAULT ((os_log_type_t)0x00)
#define OS_LOG_TYPE_INFO ((os_log_type_t)0x01)
#define OS_LOG_TYPE_DEBUG ((os_log_type_t)0x02)
#define OS_LOG_TYPE_ERROR ((os_log_type_t)0x10)
#define OS_LOG_TYPE_FAULT ((os_log_type_t)0x11)

extern struct dexthil_os_log_s _os_log_default;
#define OS_LOG_DEFAULT (&_os_log_default)
#define OS_LOG_DISABLED ((os_log_t)0)

// A log with its own subsystem and category, shown with each of its records.
os_log_t os_log_create(const char* subsystem, const char* category);
int os_log_type_enabled(os_log_t log, os_log_type_t type);

// The record's text: the format's os_log extensions are understood, and clang checks the
// arguments against the format as Apple's clang does.
#if defined(__clang__)
#define DEXTHIL_OS_LOG_FORMAT __attribute__((format(os_log, 3, 4)))
#else  // GCC (the harness's own build) has no os_log format checking
#define DEXTHIL_OS_LOG_FORMAT
#endif
void dexthil_os_log_with_type(os_log_t log, os_log_type_t type, const char* format, ...) DEXTHIL_OS_LOG_FORMAT;

#ifdef __cplusplus
}
#endif

// The format must be a string literal, as Apple's macros require.
#define os_log_with_type(log, type, format, ...) dexthil_os_log_with_type((log), (type), "" format "", ##__VA_ARGS__)
#define os_log(log, format, ...) os_log_with_type(log, OS_LOG_TYPE_DEFAULT, format, ##__VA_ARGS__)
#define os_log_info(log, format, ...) os_log_with_type(log, OS_LOG_TYPE_INFO, format, ##__VA_ARGS__)
#define os_log_debug(log, format, ...) os_log_with_type(log, OS_LOG_TYPE_DEBUG, format, ##__VA_ARGS__)
#define os_log_error(log, format, ...) os_log_with_type(log, OS_LOG_TYPE_ERROR, format, ##__VA_ARGS__)
#define os_log_fault(log, format, ...) os_log_with_type(log, OS_LOG_TYPE_FAULT, format, ##__VA_ARGS__)
