#pragma once
// PCI constants dexts use with IOPCIDevice (config space offsets, capability IDs, BAR types,
// interrupt types), with the values the PCI specification and PCIDriverKit give them.
#include <cstdint>

enum {
  kIOPCIConfigurationOffsetVendorID = 0x00,
  kIOPCIConfigurationOffsetDeviceID = 0x02,
  kIOPCIConfigurationOffsetCommand = 0x04,
  kIOPCIConfigurationOffsetStatus = 0x06,
  kIOPCIConfigurationOffsetRevisionID = 0x08,
  kIOPCIConfigurationOffsetClassCode = 0x09,
  kIOPCIConfigurationOffsetHeaderType = 0x0e,
  kIOPCIConfigurationOffsetBaseAddress0 = 0x10,
  kIOPCIConfigurationOffsetSubSystemVendorID = 0x2c,
  kIOPCIConfigurationOffsetSubSystemID = 0x2e,
  kIOPCIConfigurationOffsetCapabilitiesPointer = 0x34,
  kIOPCIConfigurationOffsetInterruptLine = 0x3c,
};

enum {
  kIOPCICommandIOSpace = 0x0001,
  kIOPCICommandMemorySpace = 0x0002,
  kIOPCICommandBusMaster = 0x0004,
  kIOPCICommandInterruptDisable = 0x0400,
};

enum {
  kIOPCICapabilityIDPowerManagement = 0x01,
  kIOPCICapabilityIDMSI = 0x05,
  kIOPCICapabilityIDPCIExpress = 0x10,
  kIOPCICapabilityIDMSIX = 0x11,
};

// GetBARInfo's barType.
enum {
  kPCIBARTypeIO = 0x00,
  kPCIBARTypeM32 = 0x01,
  kPCIBARTypeM32PF = 0x02,
  kPCIBARTypeM64 = 0x03,
  kPCIBARTypeM64PF = 0x04,
};

// ConfigureInterrupts' interruptType.
enum {
  kIOInterruptTypeLevel = 0x00000001,
  kIOInterruptTypePCIMessaged = 0x00010000,
  kIOInterruptTypePCIMessagedX = 0x00020000,
};

// Reset types.
enum {
  kIOPCIDeviceResetTypeFunctionReset = 0x00000000,
  kIOPCIDeviceResetTypeHotReset = 0x00000001,
  kIOPCIDeviceResetTypeWarmReset = 0x00000002,
};

// SetASPMState: the Link Control ASPM bits to allow.
enum {
  kIOPCILinkControlASPMBitsDisabled = 0x0000,
  kIOPCILinkControlASPMBitsL0s = 0x0001,
  kIOPCILinkControlASPMBitsL1 = 0x0002,
  kIOPCILinkControlASPMBitsL0sAndL1 = 0x0003,
};
