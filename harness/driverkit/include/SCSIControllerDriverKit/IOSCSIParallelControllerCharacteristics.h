#pragma once
// SCSI parallel features a controller negotiates per task, and the two HBA constraint keys that
// are the SCSI family's own (the others are IOKit's, in <DriverKit/IOKitKeys.h>). Names and values:
// docs/research/scsicontrollerdriverkit-api.md, sections 4 and 7.

typedef enum SCSIParallelFeature {
  kSCSIParallelFeature_WideDataTransfer = 0,
  kSCSIParallelFeature_SynchronousDataTransfer = 1,
  kSCSIParallelFeature_QuickArbitrationAndSelection = 2,
  kSCSIParallelFeature_DoubleTransitionDataTransfers = 3,
  kSCSIParallelFeature_InformationUnitTransfers = 4,
  kSCSIParallelFeature_TotalFeatureCount
} SCSIParallelFeature;

typedef enum SCSIParallelFeatureRequest {
  kSCSIParallelFeature_NoNegotiation = 0,
  kSCSIParallelFeature_AttemptNegotiation = 1,
  kSCSIParallelFeature_ClearNegotiation = 2,
} SCSIParallelFeatureRequest;

// Apple's spelling.
typedef enum SCSIParallelFeatureResult {
  kSCSIParallelFeature_NegotitiationUnchanged = 0,
  kSCSIParallelFeature_NegotitiationCleared = 1,
  kSCSIParallelFeature_NegotitiationSuccess = 2,
} SCSIParallelFeatureResult;

// The HBA's data alignment as a mask of the address bits it can drive and must have clear
// (0x0000FFFFFFFFFFFE: 48 bits, 2-byte aligned). Required in UserReportHBAConstraints.
#define kIOMinimumHBADataAlignmentMaskKey "HBA Data Alignment"
// true: the HBA takes SAM's full 8-byte LUNs. Optional.
#define kIOHierarchicalLogicalUnitSupportKey "SCSI Hierarchical Logical Unit Support"
