// Sanitizer builds only. There the fibers use Boost.Context's ucontext back end, the one that
// tells AddressSanitizer about stack switches; Debian's libboost_context is built for fcontext
// and so lacks that back end's single out-of-line piece: the calling thread's current
// activation record, which starts as a record for the thread's own (top-level) context.
#include <boost/context/fiber.hpp>

namespace boost::context::detail {

fiber_activation_record*& fiber_activation_record::current() noexcept {
  thread_local fiber_activation_record toplevel;
  thread_local fiber_activation_record* current_record = &toplevel;
  return current_record;
}

}  // namespace boost::context::detail
