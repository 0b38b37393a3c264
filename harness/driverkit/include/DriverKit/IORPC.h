#pragma once
// How iig methods ("messages") are called on the host. What iig generates for a dext class and
// what the host classes (IOService, IOPCIDevice, ...) write by hand both come down to this:
//
//  - Every message has an ID (`Class_Method_ID`). dexthil derives it from the method's name
//    (FNV-1a, 64 bit), so an override shares its base method's ID; the values are not Apple's.
//  - The public wrapper `Method(args..., OSDispatchMethod supermethod = NULL)` calls send():
//    with no supermethod the message is delivered (for a call from the kernel: on the queue the
//    method is routed to; for a call from the dext itself: right here), and `Method_Impl` of the
//    most derived class runs. With SUPERDISPATCH the arguments are packed into an IORPC and the
//    superclass's `_Dispatch` runs its own `Method_Impl` (for host classes: the kernel side).
//  - Each class's static `_Dispatch` serves the IDs it implements and passes the rest to its
//    superclass; OSObject's answers kIOReturnUnsupported.
extern "C++" {  // also when included inside extern "C", as C libraries in dexts do
#include <dexthil/host_std.h>

#include <DriverKit/IOReturn.h>

class OSObject;
class OSMetaClass;

// A message in flight: its ID, its arguments as a std::tuple, and where its result goes.
struct IORPC {
  std::uint64_t msgid;
  void* args;
  void* result;
};

typedef kern_return_t (*OSDispatchMethod)(OSObject* self, const IORPC& rpc);

#define SUPERDISPATCH ((OSDispatchMethod)&super::_Dispatch)

namespace dexthil::iig {

constexpr std::uint64_t message_id(const char* method) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const char* p = method; *p; ++p) h = (h ^ static_cast<unsigned char>(*p)) * 0x100000001b3ull;
  return h;
}

// Runs `body` where a message without supermethod runs. Implemented by the kernel side of the
// harness (driverkit/kernel). Returns kIOReturnSuccess once the body ran, or an error when it
// could not run (the dext crashed, or no kernel is running).
kern_return_t deliver(OSObject* target, std::uint64_t msgid, const char* method, bool sync,
                      const std::function<void()>& body);

template <class R, class Impl, class... A>
R send(OSObject* self, std::uint64_t msgid, const char* method, OSDispatchMethod supermethod, Impl&& impl,
       A... args) {
  if (supermethod) {
    std::tuple<A...> packed{args...};
    if constexpr (std::is_void_v<R>) {
      IORPC rpc{msgid, &packed, nullptr};
      supermethod(self, rpc);
      return;
    } else {
      R result{};
      IORPC rpc{msgid, &packed, &result};
      const kern_return_t status = supermethod(self, rpc);
      if constexpr (std::is_same_v<R, kern_return_t>) {
        if (status != kIOReturnSuccess) return status;
      }
      return result;
    }
  }
  if constexpr (std::is_void_v<R>) {
    deliver(self, msgid, method, false, [&] { impl(); });
  } else {
    R result{};
    const kern_return_t status = deliver(self, msgid, method, true, [&] { result = impl(); });
    if constexpr (std::is_same_v<R, kern_return_t>) {
      if (status != kIOReturnSuccess) return status;
    }
    return result;
  }
}

// Unpacks an IORPC made by send() (or by a dispatch source) and calls `f` with its arguments.
template <class R, class... A, class F>
kern_return_t serve(const IORPC& rpc, F&& f) {
  auto& args = *static_cast<std::tuple<A...>*>(rpc.args);
  if constexpr (std::is_void_v<R>) {
    std::apply(f, args);
  } else {
    *static_cast<R*>(rpc.result) = std::apply(f, args);
  }
  return kIOReturnSuccess;
}

// A dext class the kernel can instantiate by its IOUserClass name. The code iig generates
// registers each class when the dext is loaded.
using ClassFactory = OSObject* (*)();
void register_class(const char* name, const OSMetaClass* meta, ClassFactory factory);
struct ClassRegistration {
  ClassRegistration(const char* name, const OSMetaClass* meta, ClassFactory factory) {
    register_class(name, meta, factory);
  }
};

}  // namespace dexthil::iig

// What every class with messages declares: its metaclass, `super`, its `_Dispatch`, and the
// virtual hook that reaches the most derived `_Dispatch` (for messages sent through OSAction).
#define DEXTHIL_IIG_CLASS(className, superName)                                           \
  DEXTHIL_METACLASS(className, superName)                                                  \
 public:                                                                                   \
  static kern_return_t _Dispatch(OSObject* self, const IORPC& rpc);                        \
  kern_return_t _InvokeMessage(const IORPC& rpc) override { return _Dispatch(this, rpc); } \
                                                                                           \
 private:

}  // extern "C++"
