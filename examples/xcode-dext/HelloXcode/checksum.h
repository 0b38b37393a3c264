#pragma once
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
// A Fletcher-16 checksum, in C as a vendor's helper library might be.
uint16_t hello_fletcher16(const uint8_t* data, size_t length);
#ifdef __cplusplus
}
#endif
