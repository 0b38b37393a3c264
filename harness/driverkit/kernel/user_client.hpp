#pragma once
// The application's end of an IOServiceOpen connection to a dext, simulated: what a test or a
// scenario uses to exercise a dext's IOUserClient the way an app would (IOConnectCallMethod,
// IOConnectCallAsyncMethod, IOConnectMapMemory, IOServiceClose). Every operation runs on the
// kernel's thread in simulated time; its result is filled in when the dext has answered, so the
// caller runs the simulation and then reads it.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <DriverKit/IOReturn.h>

#include "harness/sim/time.hpp"

class IOUserClient;
class IOMemoryDescriptor;

namespace dexthil::driverkit {

class Kernel;

struct MethodCall {
  std::uint64_t selector = 0;
  std::vector<std::uint64_t> scalar_input;
  std::vector<std::uint8_t> structure_input;
  std::uint32_t scalar_output_count = 0;       // room the app gives (at most 16)
  std::uint64_t structure_output_maximum = 0;  // bytes the app accepts
  bool async = false;                          // IOConnectCallAsyncMethod: the dext gets a completion

  // Filled in when the dext has returned.
  std::optional<kern_return_t> result;
  std::vector<std::uint64_t> scalar_output;
  std::vector<std::uint8_t> structure_output;
};

// What a dext delivered with AsyncCompletion.
struct AsyncResult {
  IOReturn status = kIOReturnSuccess;
  std::vector<std::uint64_t> data;
  sim::SimTime at = 0;
};

class UserClientConnection {
 public:
  explicit UserClientConnection(Kernel& kernel);
  ~UserClientConnection();

  // The application's entitlements, as its code signature carries them; what the dext's
  // CopyClientEntitlements returns. Set them before the dext looks (e.g. right after opening).
  using EntitlementValue = std::variant<bool, std::string, std::uint64_t>;
  void set_entitlements(std::vector<std::pair<std::string, EntitlementValue>> entitlements) {
    entitlements_ = std::move(entitlements);
  }
  const std::vector<std::pair<std::string, EntitlementValue>>& entitlements() const { return entitlements_; }

  // IOServiceOpen's result: nullopt until the dext answered NewUserClient.
  const std::optional<kern_return_t>& open_result() const { return open_result_; }
  IOUserClient* client() const { return client_; }

  // IOConnectCallMethod / IOConnectCallAsyncMethod. Fails with kIOReturnNotOpen on a connection
  // that is not (or no longer) open.
  std::shared_ptr<MethodCall> call(MethodCall call);
  // IOConnectMapMemory: the dext's CopyClientMemoryForType(type). `result` is filled in; the
  // mapping is then readable (and writable unless the dext said kIOUserClientMemoryReadOnly).
  struct Mapping {
    std::optional<kern_return_t> result;
    std::uint64_t options = 0;
    IOMemoryDescriptor* memory = nullptr;  // retained by the connection until close
  };
  std::shared_ptr<Mapping> map_memory(std::uint64_t type);
  std::vector<std::uint8_t> read(const Mapping& mapping, std::uint64_t offset, std::uint64_t length) const;
  bool write(const Mapping& mapping, std::uint64_t offset, const std::vector<std::uint8_t>& bytes);
  // IOServiceClose: the user client is stopped and released.
  void close();
  bool closed() const { return closed_; }

  const std::vector<AsyncResult>& async_results() const { return async_results_; }

  // Kernel side.
  void opened(kern_return_t result, IOUserClient* client);
  void release_objects();  // the mapped memory, in the dext's process at close
  void async_completion(IOReturn status, const std::uint64_t* data, std::uint32_t count);

 private:
  Kernel& kernel_;
  std::optional<kern_return_t> open_result_;
  IOUserClient* client_ = nullptr;
  std::vector<std::pair<std::string, EntitlementValue>> entitlements_;
  std::vector<std::shared_ptr<Mapping>> mappings_;
  std::vector<AsyncResult> async_results_;
  bool closed_ = false;
};

}  // namespace dexthil::driverkit
