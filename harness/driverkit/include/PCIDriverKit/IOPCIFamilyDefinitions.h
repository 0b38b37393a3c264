#pragma once
// PCI constants dexts use with IOPCIDevice: matching keys, config space offsets, capability IDs,
// Command/Status bits, PCI power management bits, link speeds, reset types and ASPM bits. Names
// and values are IOPCIFamily's (IOPCIFamilyDefinitions.h), which follow the PCI specifications.
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <dexthil/host_std.h>

#include <DriverKit/IOTypes.h>

// Matching keys.
#define kIOPCIMatchKey "IOPCIMatch"
#define kIOPCIPrimaryMatchKey "IOPCIPrimaryMatch"
#define kIOPCISecondaryMatchKey "IOPCISecondaryMatch"
#define kIOPCIClassMatchKey "IOPCIClassMatch"

// ConfigureInterrupts' interruptType: kIOInterruptTypeLevel (legacy INTx) and
// kIOInterruptTypePCIMessaged (MSI) are IOKit's (<DriverKit/IOInterruptDispatchSource.h>).
#include <DriverKit/IOInterruptDispatchSource.h>
enum {
  kIOInterruptTypePCIMessagedX = 0x00020000,
};

// The Memory* accessors' options (tIOPCIAccessOptions).
typedef enum tIOPCIAccessOptions {
  kIOPCIAccessLatencyTolerantHint = (1 << 0),  // not performance critical: the kernel may do the access
} tIOPCIAccessOptions;

// Type 0 header registers.
enum {
  kIOPCIConfigurationOffsetVendorID = 0x00,
  kIOPCIConfigurationOffsetDeviceID = 0x02,
  kIOPCIConfigurationOffsetCommand = 0x04,
  kIOPCIConfigurationOffsetStatus = 0x06,
  kIOPCIConfigurationOffsetRevisionID = 0x08,
  kIOPCIConfigurationOffsetClassCode = 0x09,
  kIOPCIConfigurationOffsetCacheLineSize = 0x0C,
  kIOPCIConfigurationOffsetLatencyTimer = 0x0D,
  kIOPCIConfigurationOffsetHeaderType = 0x0E,
  kIOPCIConfigurationOffsetBIST = 0x0F,
  kIOPCIConfigurationOffsetBaseAddress0 = 0x10,
  kIOPCIConfigurationOffsetBaseAddress1 = 0x14,
  kIOPCIConfigurationOffsetBaseAddress2 = 0x18,
  kIOPCIConfigurationOffsetBaseAddress3 = 0x1C,
  kIOPCIConfigurationOffsetBaseAddress4 = 0x20,
  kIOPCIConfigurationOffsetBaseAddress5 = 0x24,
  kIOPCIConfigurationOffsetCardBusCISPtr = 0x28,
  kIOPCIConfigurationOffsetSubSystemVendorID = 0x2C,
  kIOPCIConfigurationOffsetSubSystemID = 0x2E,
  kIOPCIConfigurationOffsetExpansionROMBase = 0x30,
  kIOPCIConfigurationOffsetCapabilitiesPtr = 0x34,
  kIOPCIConfigurationOffsetInterruptLine = 0x3C,
  kIOPCIConfigurationOffsetInterruptPin = 0x3D,
  kIOPCIConfigurationOffsetMinimumGrant = 0x3E,
  kIOPCIConfigurationOffsetMaximumLatency = 0x3F,
};

// Type 1 (bridge) header registers.
enum {
  kPCI2PCIOffsetPrimaryBus = 0x18,
  kPCI2PCIOffsetSecondaryBus = 0x19,
  kPCI2PCIOffsetSubordinateBus = 0x1a,
  kPCI2PCIOffsetSecondaryLT = 0x1b,
  kPCI2PCIOffsetIORange = 0x1c,
  kPCI2PCIOffsetMemoryRange = 0x20,
  kPCI2PCIOffsetPrefetchMemoryRange = 0x24,
  kPCI2PCIOffsetPrefetchUpperBase = 0x28,
  kPCI2PCIOffsetPrefetchUpperLimit = 0x2c,
  kPCI2PCIOffsetUpperIORange = 0x30,
  kPCI2PCIOffsetBridgeControl = 0x3e,
};

// Capability list. Extended (PCIe, offset 0x100 on) capability IDs are passed to
// FindPCICapability negated.
enum : uint32_t {
  kIOPCICapabilityIDOffset = 0x00,
  kIOPCINextCapabilityOffset = 0x01,

  kIOPCICapabilityIDPowerManagement = 0x01,
  kIOPCICapabilityIDAGP = 0x02,
  kIOPCICapabilityIDVitalProductData = 0x03,
  kIOPCICapabilityIDSlotID = 0x04,
  kIOPCICapabilityIDMSI = 0x05,
  kIOPCICapabilityIDCPCIHotswap = 0x06,
  kIOPCICapabilityIDPCIX = 0x07,
  kIOPCICapabilityIDLDT = 0x08,
  kIOPCICapabilityIDVendorSpecific = 0x09,
  kIOPCICapabilityIDDebugPort = 0x0a,
  kIOPCICapabilityIDCPCIResourceControl = 0x0b,
  kIOPCICapabilityIDHotplug = 0x0c,
  kIOPCICapabilityIDAGP8 = 0x0e,
  kIOPCICapabilityIDSecure = 0x0f,
  kIOPCICapabilityIDPCIExpress = 0x10,
  kIOPCICapabilityIDMSIX = 0x11,
  kIOPCICapabilityIDFPB = 0x15,

  kIOPCIExpressCapabilityIDErrorReporting = -0x01U,
  kIOPCIExpressCapabilityIDVirtualChannel = -0x02U,
  kIOPCIExpressCapabilityIDDeviceSerialNumber = -0x03U,
  kIOPCIExpressCapabilityIDPowerBudget = -0x04U,
  kIOPCIExpressCapabilityIDAccessControlServices = -0x0DU,
  kIOPCIExpressCapabilityIDAlternativeRoutingID = -0x0EU,
  kIOPCIExpressCapabilityIDLatencyTolerenceReporting = -0x18U,
  kIOPCIExpressCapabilityIDL1PMSubstates = -0x1EU,
  kIOPCIExpressCapabilityIDPrecisionTimeManagement = -0x1FU,
};

// Command register.
enum {
  kIOPCICommandIOSpace = 0x0001,
  kIOPCICommandMemorySpace = 0x0002,
  kIOPCICommandBusLead = 0x0004,
  kIOPCICommandBusMaster = kIOPCICommandBusLead,  // the older name
  kIOPCICommandSpecialCycles = 0x0008,
  kIOPCICommandMemWrInvalidate = 0x0010,
  kIOPCICommandPaletteSnoop = 0x0020,
  kIOPCICommandParityError = 0x0040,
  kIOPCICommandAddressStepping = 0x0080,
  kIOPCICommandSERR = 0x0100,
  kIOPCICommandFastBack2Back = 0x0200,
  kIOPCICommandInterruptDisable = 0x0400,
};

// Status register.
enum {
  kIOPCIStatusInterrupt = 0x0008,
  kIOPCIStatusCapabilities = 0x0010,
  kIOPCIStatusPCI66 = 0x0020,
  kIOPCIStatusUDF = 0x0040,
  kIOPCIStatusFastBack2Back = 0x0080,
  kIOPCIStatusDevSel0 = 0x0000,
  kIOPCIStatusDevSel1 = 0x0200,
  kIOPCIStatusDevSel2 = 0x0400,
  kIOPCIStatusDevSel3 = 0x0600,
  kIOPCIStatusTargetAbortCapable = 0x0800,
  kIOPCIStatusTargetAbortActive = 0x1000,
  kIOPCIStatusLeadAbortActive = 0x2000,
  kIOPCIStatusMasterAbortActive = kIOPCIStatusLeadAbortActive,  // the older name
  kIOPCIStatusSERRActive = 0x4000,
  kIOPCIStatusParityErrActive = 0x8000,
};

// PCI Bus Power Management: the PMC capabilities register, then the PMCSR control/status bits.
enum {
  kPCIPMCPMESupportFromD3Cold = 0x8000,
  kPCIPMCPMESupportFromD3Hot = 0x4000,
  kPCIPMCPMESupportFromD2 = 0x2000,
  kPCIPMCPMESupportFromD1 = 0x1000,
  kPCIPMCPMESupportFromD0 = 0x0800,
  kPCIPMCD2Support = 0x0400,
  kPCIPMCD1Support = 0x0200,
  kPCIPMCD3Support = 0x0001,
};
enum : uint32_t {
  kPCIPMCSPMEStatus = 0x8000,
  kPCIPMCSPMEEnable = 0x0100,
  kPCIPMCSPowerStateMask = 0x0003,
  kPCIPMCSPowerStateD3 = 0x0003,
  kPCIPMCSPowerStateD2 = 0x0002,
  kPCIPMCSPowerStateD1 = 0x0001,
  kPCIPMCSPowerStateD0 = 0x0000,
  kPCIPMCSDefaultEnableBits = ~uint32_t{0},
  kPCIPMCSPMEDisableInS3 = 0x00010000,
  kPCIPMCSPMEWakeReason = 0x00020000,
};

typedef enum tIOPCILinkSpeed {
  kIOPCILinkSpeed_2_5_GTs = 1,
  kIOPCILinkSpeed_5_GTs,
  kIOPCILinkSpeed_8_GTs,
  kIOPCILinkSpeed_16_GTs,
  kIOPCILinkSpeed_32_GTs,
} tIOPCILinkSpeed;

// Reset's type. A function level reset needs the function to advertise it (Device Capabilities
// bit 28); a hot reset is a Secondary Bus Reset from the upstream bridge; warm resets need a
// platform function (PERST# control).
typedef enum tIOPCIDeviceResetTypes {
  kIOPCIDeviceResetTypeHotReset = 0x00000001,
  kIOPCIDeviceResetTypeWarmReset = 0x00000002,
  kIOPCIDeviceResetTypeWarmResetDisable = 0x00000004,
  kIOPCIDeviceResetTypeWarmResetEnable = 0x00000008,
  kIOPCIDeviceResetTypeFunctionReset = 0x00000010,
} tIOPCIDeviceResetTypes;

// Reset's options.
typedef enum tIOPCIDeviceResetOptions {
  kIOPCIDeviceResetOptionNone = 0x00000000,
  kIOPCIDeviceResetOptionTerminate = 0x00000001,  // terminate the reset nubs and probe the bus again
} tIOPCIDeviceResetOptions;

// SetASPMState: the Link Control ASPM bits to allow.
enum tIOPCILinkControlASPMBits {
  kIOPCILinkControlASPMBitsDisabled = 0,
  kIOPCILinkControlASPMBitsL0s = (1 << 0),
  kIOPCILinkControlASPMBitsL1 = (1 << 1),
  kIOPCILinkControlASPMBitsL0sL1 = kIOPCILinkControlASPMBitsL0s | kIOPCILinkControlASPMBitsL1,
};

}  // extern "C++"
