/* Checks written in C, as some dexts keep their hardware helpers: they must compile as C. */
#ifndef SDKPROBE_CHECKS_H
#define SDKPROBE_CHECKS_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
/* The byte-order and error-number helpers, seen from C: 1 when every answer is right. */
int sdkprobe_c_helpers_ok(void);
#ifdef __cplusplus
}
#endif
#endif
