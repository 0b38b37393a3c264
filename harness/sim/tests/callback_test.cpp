// sim::Callback: what it runs, what it keeps alive and for how long, inline or on the heap.
#include "harness/sim/callback.hpp"

#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <memory>

namespace dexthil::sim {
namespace {

TEST(Callback, RunsWhatItHoldsAndReleasesCapturesWhenResetOrDestroyed) {
  auto token = std::make_shared<int>(0);
  {
    Callback c = [token] { ++*token; };  // a shared_ptr: inline
    EXPECT_EQ(token.use_count(), 2);
    c();
    c();
    EXPECT_EQ(*token, 2);
    c = nullptr;
    EXPECT_FALSE(c);
    EXPECT_EQ(token.use_count(), 1);
    c = [token] { *token += 10; };
  }
  EXPECT_EQ(token.use_count(), 1);  // destroyed with the callback, never run
  EXPECT_EQ(*token, 2);
}

TEST(Callback, MovingTakesTheCallableAlongInlineAndOnTheHeap) {
  auto token = std::make_shared<int>(0);
  std::array<char, 200> big{};  // too large to keep inline
  big[0] = 5;
  Callback small = [token] { ++*token; };
  Callback large = [token, big] { *token += big[0]; };
  EXPECT_EQ(token.use_count(), 3);
  Callback a = std::move(small);
  Callback b;
  b = std::move(large);
  EXPECT_FALSE(small);  // NOLINT: moved from, and empty
  EXPECT_FALSE(large);  // NOLINT
  a();
  b();
  EXPECT_EQ(*token, 6);
  EXPECT_EQ(token.use_count(), 3);
  a = std::move(b);  // a's old callable goes, b's moves in
  EXPECT_EQ(token.use_count(), 2);
  a();
  EXPECT_EQ(*token, 11);
}

TEST(Callback, HoldsAStdFunctionAndAMutableLambda) {
  int calls = 0;
  std::function<void()> f = [&calls] { ++calls; };
  Callback from_function = f;  // copied: f stays usable
  from_function();
  f();
  EXPECT_EQ(calls, 2);
  Callback counter = [n = 0, &calls]() mutable { calls += ++n; };
  counter();
  counter();
  EXPECT_EQ(calls, 5);  // 2 + 1 + 2: its state lives in the callback
}

TEST(Callback, CallingAnEmptyOneThrowsAsStdFunctionDoes) {
  Callback empty;
  EXPECT_THROW(empty(), std::bad_function_call);
  Callback moved = [] {};
  Callback taker = std::move(moved);
  EXPECT_THROW(moved(), std::bad_function_call);  // NOLINT: moved from
  EXPECT_NO_THROW(taker());
}

}  // namespace
}  // namespace dexthil::sim
