#include <gtest/gtest.h>

#include <DriverKit/OSCollections.h>

#include "harness/driverkit/libkern/object_registry.hpp"

namespace {

using dexthil::driverkit::ObjectRegistry;

// A dext-style class with ivars allocated in init() and freed in free().
struct MyIvars {
  int value;
};
class MyObject : public OSObject {
  DEXTHIL_METACLASS(MyObject, OSObject)

 public:
  bool init() override {
    if (!super::init()) return false;
    ivars = new MyIvars{42};
    return true;
  }
  void free() override {
    delete ivars;
    ivars = nullptr;
    super::free();
  }
  MyIvars* ivars = nullptr;
};
class MyDerived : public MyObject {
  DEXTHIL_METACLASS(MyDerived, MyObject)
};
DEXTHIL_DEFINE_METACLASS(MyObject, OSObject);
DEXTHIL_DEFINE_METACLASS(MyDerived, MyObject);

TEST(OSObject, RetainReleaseFreesAtZero) {
  const std::uint64_t mark = ObjectRegistry::mark();
  MyObject* o = OSTypeAlloc(MyObject);
  ASSERT_TRUE(o->init());
  EXPECT_EQ(o->ivars->value, 42);
  EXPECT_EQ(o->getRetainCount(), 1u);
  o->retain();
  o->release();
  EXPECT_EQ(ObjectRegistry::alive_since(mark).size(), 1u);
  o->release();
  EXPECT_TRUE(ObjectRegistry::alive_since(mark).empty());
}

TEST(OSObject, DynamicCastFollowsTheMetaclassChain) {
  OSSharedPtr<MyDerived> d(OSTypeAlloc(MyDerived), OSNoRetain);
  OSObject* as_object = d.get();
  EXPECT_EQ(OSDynamicCast(MyObject, as_object), d.get());
  EXPECT_EQ(OSDynamicCast(MyDerived, as_object), d.get());
  EXPECT_EQ(OSDynamicCast(OSString, as_object), nullptr);
  EXPECT_EQ(OSDynamicCast(OSString, static_cast<OSObject*>(nullptr)), nullptr);
  EXPECT_STREQ(d->getMetaClass()->getClassName(), "MyDerived");
  EXPECT_STREQ(d->getMetaClass()->getSuperClass()->getClassName(), "MyObject");
  EXPECT_THROW(OSRequiredCast(OSString, as_object), std::logic_error);
}

TEST(OSObject, LeaksAreListedWithClassAndCreationSite) {
  const std::uint64_t mark = ObjectRegistry::mark();
  OSString* kept = OSString::withCString("leaked");
  const int line = __LINE__ - 1;
  OSString* dropped = OSString::withCString("fine");
  OSSafeReleaseNULL(dropped);
  EXPECT_EQ(dropped, nullptr);
  const auto live = ObjectRegistry::alive_since(mark);
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].class_name, "OSString");
  EXPECT_NE(live[0].file.find("osobject_test.cpp"), std::string::npos);
  EXPECT_EQ(live[0].line, static_cast<std::uint32_t>(line));
  EXPECT_EQ(live[0].retain_count, 1u);
  kept->release();
}

TEST(OSSharedPtr, CopiesRetainAndResetReleases) {
  OSSharedPtr<OSString> s(OSString::withCString("x"), OSNoRetain);
  EXPECT_EQ(s->getRetainCount(), 1u);
  OSSharedPtr<OSString> copy = s;
  EXPECT_EQ(s->getRetainCount(), 2u);
  copy.reset();
  EXPECT_EQ(s->getRetainCount(), 1u);
}

TEST(OSCollections, ValuesBehaveAsLibkernsDo) {
  OSSharedPtr<OSString> s(OSString::withCString("IOPCIMatch"), OSNoRetain);
  EXPECT_EQ(s->getLength(), 10u);
  EXPECT_TRUE(s->isEqualTo("IOPCIMatch"));
  OSSharedPtr<OSNumber> n(OSNumber::withNumber(0x1ff, 8), OSNoRetain);
  EXPECT_EQ(n->unsigned64BitValue(), 0xffu);  // kept to 8 bits
  EXPECT_EQ(OSNumber::withNumber(1, 12), nullptr);
  const std::uint8_t bytes[] = {1, 2, 3};
  OSSharedPtr<OSData> d(OSData::withBytes(bytes, 3), OSNoRetain);
  EXPECT_EQ(d->getLength(), 3u);
  EXPECT_EQ(static_cast<const std::uint8_t*>(d->getBytesNoCopy())[2], 3);
  EXPECT_TRUE(kOSBooleanTrue->isTrue());
  EXPECT_TRUE(kOSBooleanFalse->isFalse());
}

TEST(OSCollections, ContainersRetainWhatTheyHoldAndReleaseItWhenFreed) {
  const std::uint64_t mark = ObjectRegistry::mark();
  {
    OSSharedPtr<OSDictionary> dict(OSDictionary::withCapacity(2), OSNoRetain);
    OSSharedPtr<OSArray> array(OSArray::withCapacity(2), OSNoRetain);
    OSSharedPtr<OSNumber> vendor(OSNumber::withNumber(0x1000, 16), OSNoRetain);
    EXPECT_TRUE(dict->setObject("VendorID", vendor.get()));
    EXPECT_TRUE(array->setObject(vendor.get()));
    EXPECT_EQ(vendor->getRetainCount(), 3u);
    EXPECT_EQ(OSDynamicCast(OSNumber, dict->getObject("VendorID"))->unsigned16BitValue(), 0x1000);
    EXPECT_EQ(dict->getObject("DeviceID"), nullptr);
    EXPECT_TRUE(dict->setObject("VendorID", kOSBooleanTrue));  // replacing releases the old value
    EXPECT_EQ(vendor->getRetainCount(), 2u);
    dict->setObject("b", vendor.get());
    dict->setObject("a", vendor.get());
    std::string order;
    dict->iterateObjects([&](const char* key, const OSMetaClassBase*) {
      order += key;
      order += ',';
      return false;
    });
    EXPECT_EQ(order, "VendorID,b,a,");
    dict->removeObject("b");
    EXPECT_EQ(dict->getCount(), 2u);
    EXPECT_EQ(array->getObject(0), vendor.get());
    EXPECT_EQ(array->getObject(5), nullptr);
  }
  EXPECT_TRUE(ObjectRegistry::alive_since(mark).empty());
}

}  // namespace
