#pragma once
// Fixed-format sense data (SPC), as DriverKit's storage headers lay it out: one byte per field.
#include <stdint.h>

typedef struct SCSI_Sense_Data {
  uint8_t VALID_RESPONSE_CODE;  // bit 7 valid; 0x70 current, 0x71 deferred
  uint8_t SEGMENT_NUMBER;
  uint8_t SENSE_KEY;            // bits 3:0
  uint8_t INFORMATION_1;
  uint8_t INFORMATION_2;
  uint8_t INFORMATION_3;
  uint8_t INFORMATION_4;
  uint8_t ADDITIONAL_SENSE_LENGTH;
  uint8_t COMMAND_SPECIFIC_INFORMATION_1;
  uint8_t COMMAND_SPECIFIC_INFORMATION_2;
  uint8_t COMMAND_SPECIFIC_INFORMATION_3;
  uint8_t COMMAND_SPECIFIC_INFORMATION_4;
  uint8_t ADDITIONAL_SENSE_CODE;
  uint8_t ADDITIONAL_SENSE_CODE_QUALIFIER;
  uint8_t FIELD_REPLACEABLE_UNIT_CODE;
  uint8_t SKSV_SENSE_KEY_SPECIFIC_MSB;
  uint8_t SENSE_KEY_SPECIFIC_MID;
  uint8_t SENSE_KEY_SPECIFIC_LSB;
} SCSI_Sense_Data;
