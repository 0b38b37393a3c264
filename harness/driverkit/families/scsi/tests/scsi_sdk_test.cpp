// SCSIControllerDriverKit's structures as a dext compiles them: each field where Apple's
// declaration puts it (offsets and sizes worked out by hand from the field order and natural
// alignment, docs/research/scsicontrollerdriverkit-api.md section 3), the constants' values, and
// a controller class that implements nothing answering kIOReturnUnsupported, as the family's
// pure methods would fail.
#include <gtest/gtest.h>

#include <cstddef>

#include <DriverKit/IOKitKeys.h>
#include <SCSIControllerDriverKit/IOUserSCSIParallelInterfaceController.h>

namespace {

TEST(ScsiControllerSdk, TheTaskHasAppleLayout) {
  EXPECT_EQ(sizeof(SCSIUserParallelTask), 128u);
  EXPECT_EQ(offsetof(SCSIUserParallelTask, version), 0u);
  EXPECT_EQ(offsetof(SCSIUserParallelTask, fTargetID), 8u);
  EXPECT_EQ(offsetof(SCSIUserParallelTask, fSCSIParallelFeatureRequest), 16u);
  EXPECT_EQ(offsetof(SCSIUserParallelTask, fSCSIParallelFeatureRequestCount), 40u);
  EXPECT_EQ(offsetof(SCSIUserParallelTask, fControllerTaskIdentifier), 48u);
  EXPECT_EQ(offsetof(SCSIUserParallelTask, fRequestedTransferCount), 56u);
  EXPECT_EQ(offsetof(SCSIUserParallelTask, fBufferIOVMAddr), 64u);
  EXPECT_EQ(offsetof(SCSIUserParallelTask, fTaskAttribute), 72u);
  EXPECT_EQ(offsetof(SCSIUserParallelTask, fTaskTagIdentifier), 80u);
  EXPECT_EQ(offsetof(SCSIUserParallelTask, fLogicalUnitBytes), 88u);
  EXPECT_EQ(offsetof(SCSIUserParallelTask, fCommandDescriptorBlock), 96u);
  EXPECT_EQ(offsetof(SCSIUserParallelTask, fCommandSize), 112u);
  EXPECT_EQ(offsetof(SCSIUserParallelTask, fTransferDirection), 113u);
  EXPECT_EQ(offsetof(SCSIUserParallelTask, fTimeoutInMilliSec), 116u);
  EXPECT_EQ(offsetof(SCSIUserParallelTask, reserved), 120u);
}

TEST(ScsiControllerSdk, TheResponseHasAppleLayout) {
  EXPECT_EQ(sizeof(SCSIUserParallelResponse), 384u);
  EXPECT_EQ(offsetof(SCSIUserParallelResponse, fTargetID), 8u);
  EXPECT_EQ(offsetof(SCSIUserParallelResponse, fSCSIParallelFeatureResult), 16u);
  EXPECT_EQ(offsetof(SCSIUserParallelResponse, fSCSIParallelFeatureRequestResultCount), 40u);
  EXPECT_EQ(offsetof(SCSIUserParallelResponse, fControllerTaskIdentifier), 48u);
  EXPECT_EQ(offsetof(SCSIUserParallelResponse, fCompletionStatus), 56u);
  EXPECT_EQ(offsetof(SCSIUserParallelResponse, fServiceResponse), 60u);
  EXPECT_EQ(offsetof(SCSIUserParallelResponse, fBytesTransferred), 64u);
  EXPECT_EQ(offsetof(SCSIUserParallelResponse, fSenseLength), 72u);
  EXPECT_EQ(offsetof(SCSIUserParallelResponse, fSenseBuffer), 73u);
  EXPECT_EQ(offsetof(SCSIUserParallelResponse, reserved), 329u);
  EXPECT_EQ(sizeof(SCSI_Sense_Data), 18u);
  EXPECT_EQ(sizeof(DMAOutputSegmentType), 2u);
}

TEST(ScsiControllerSdk, ConstantsHaveAppleValues) {
  EXPECT_EQ(kScsiUserParallelTaskCurrentVersion1, 1);
  EXPECT_EQ(kScsiUserParallelTaskResponseCurrentVersion1, 1);
  EXPECT_EQ(kMaxSenseBufferSize, 256);
  EXPECT_EQ(kMaxBundledParallelTasks, 32);
  EXPECT_EQ(kSCSIParallelFeature_TotalFeatureCount, 5);
  EXPECT_EQ(kSCSITaskStatus_TASK_SET_FULL, 0x28);
  EXPECT_EQ(kSCSIServiceResponse_TASK_COMPLETE, 2);
  EXPECT_EQ(kSCSIDataTransfer_FromTargetToInitiator, 0x02);
  EXPECT_STREQ(kIOMinimumHBADataAlignmentMaskKey, "HBA Data Alignment");
  EXPECT_STREQ(kIOMaximumSegmentAddressableBitCountKey, "IOMaximumSegmentAddressableBitCount");
}

TEST(ScsiControllerSdk, AControllerThatImplementsNothingAnswersUnsupportedAndDeclaresAuxiliaryQueue) {
  IOUserSCSIParallelInterfaceController* hba = OSTypeAlloc(IOUserSCSIParallelInterfaceController);
  ASSERT_NE(hba, nullptr);
  uint32_t count = 0;
  // Straight to the class's own default (as SUPERDISPATCH reaches it), no kernel running.
  EXPECT_EQ(hba->UserReportMaximumTaskCount(&count, (OSDispatchMethod)&IOUserSCSIParallelInterfaceController::_Dispatch),
            kIOReturnUnsupported);
  EXPECT_EQ(hba->UserReportHBAConstraints(nullptr), kIOReturnUnsupported);  // no kernel half
  EXPECT_TRUE(hba->_DeclaresQueue("AuxiliaryQueue"));
  EXPECT_FALSE(hba->_DeclaresQueue("InterruptQueue"));
  hba->release();
}

}  // namespace
