#pragma once
// Umbrella header, as DriverKit's.
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <DriverKit/IOBufferMemoryDescriptor.h>
#include <DriverKit/IODataQueueDispatchSource.h>
#include <DriverKit/IODMACommand.h>
#include <DriverKit/IODispatchQueue.h>
#include <DriverKit/IODispatchSource.h>
#include <DriverKit/IOInterruptDispatchSource.h>
#include <DriverKit/IOLib.h>
#include <DriverKit/IOMemoryDescriptor.h>
#include <DriverKit/IOService.h>
#include <DriverKit/IOServiceNotificationDispatchSource.h>
#include <DriverKit/IOTimerDispatchSource.h>
#include <DriverKit/IOUserClient.h>
#include <DriverKit/IOTypes.h>
#include <DriverKit/OSAction.h>
#include <DriverKit/OSCollections.h>
#include <DriverKit/OSObject.h>

}  // extern "C++"
