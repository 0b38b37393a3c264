#include "checksum.h"

uint16_t hello_fletcher16(const uint8_t* data, size_t length) {
  uint16_t a = 0, b = 0;
  for (size_t i = 0; i < length; i++) {
    a = (uint16_t)((a + data[i]) % 255);
    b = (uint16_t)((b + a) % 255);
  }
  return (uint16_t)((b << 8) | a);
}
