#pragma once
// Byte-order helpers with libkern's names. The simulated Mac is little-endian (Apple silicon),
// so host order is little-endian; PCI registers are little-endian and network/SCSI fields big.
#include <stdint.h>

#define OSSwapInt16(x) ((uint16_t)__builtin_bswap16((uint16_t)(x)))
#define OSSwapInt32(x) ((uint32_t)__builtin_bswap32((uint32_t)(x)))
#define OSSwapInt64(x) ((uint64_t)__builtin_bswap64((uint64_t)(x)))
#define OSSwapConstInt16(x) OSSwapInt16(x)
#define OSSwapConstInt32(x) OSSwapInt32(x)
#define OSSwapConstInt64(x) OSSwapInt64(x)

#define OSSwapHostToLittleInt16(x) ((uint16_t)(x))
#define OSSwapHostToLittleInt32(x) ((uint32_t)(x))
#define OSSwapHostToLittleInt64(x) ((uint64_t)(x))
#define OSSwapLittleToHostInt16(x) ((uint16_t)(x))
#define OSSwapLittleToHostInt32(x) ((uint32_t)(x))
#define OSSwapLittleToHostInt64(x) ((uint64_t)(x))
#define OSSwapHostToBigInt16(x) OSSwapInt16(x)
#define OSSwapHostToBigInt32(x) OSSwapInt32(x)
#define OSSwapHostToBigInt64(x) OSSwapInt64(x)
#define OSSwapBigToHostInt16(x) OSSwapInt16(x)
#define OSSwapBigToHostInt32(x) OSSwapInt32(x)
#define OSSwapBigToHostInt64(x) OSSwapInt64(x)
#define OSSwapHostToLittleConstInt16(x) OSSwapHostToLittleInt16(x)
#define OSSwapHostToLittleConstInt32(x) OSSwapHostToLittleInt32(x)
#define OSSwapHostToLittleConstInt64(x) OSSwapHostToLittleInt64(x)
#define OSSwapHostToBigConstInt16(x) OSSwapHostToBigInt16(x)
#define OSSwapHostToBigConstInt32(x) OSSwapHostToBigInt32(x)
#define OSSwapHostToBigConstInt64(x) OSSwapHostToBigInt64(x)

// Unaligned reads and writes at base + offset, in the named byte order.
#define DEXTHIL_OS_READ(bits, conv) \
  static inline uint##bits##_t OSRead##conv##Int##bits(const volatile void* base, uintptr_t offset) { \
    uint##bits##_t v; \
    __builtin_memcpy(&v, (const char*)base + offset, sizeof v); \
    return OSSwap##conv##ToHostInt##bits(v); \
  } \
  static inline void OSWrite##conv##Int##bits(volatile void* base, uintptr_t offset, uint##bits##_t data) { \
    uint##bits##_t v = OSSwapHostTo##conv##Int##bits(data); \
    __builtin_memcpy((char*)base + offset, &v, sizeof v); \
  }
DEXTHIL_OS_READ(16, Little)
DEXTHIL_OS_READ(32, Little)
DEXTHIL_OS_READ(64, Little)
DEXTHIL_OS_READ(16, Big)
DEXTHIL_OS_READ(32, Big)
DEXTHIL_OS_READ(64, Big)
#undef DEXTHIL_OS_READ
