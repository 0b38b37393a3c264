// --x-initial unique: registers power on with values drawn from the model's seed, so a missing
// reset would make a run depend on the seed. For each shared RTL block: before reset the state
// does differ between seeds (the randomisation is real), and after reset everything the block
// shows the outside is the same for every seed (nothing was left unreset).
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "Vdma_port.h"
#include "Vsync_fifo.h"
#include "models/common/verilated_clock.hpp"
#include "models/common/verilated_top.hpp"

namespace dexthil::models {
namespace {

constexpr std::array<std::uint64_t, 3> kSeeds = {1, 2, 99};

template <class Top, class Observe>
void expect_reset_hides_the_seed(Observe observe, const char* name) {
  std::vector<std::vector<std::uint64_t>> before, after;
  for (std::uint64_t seed : kSeeds) {
    std::unique_ptr<VerilatedContext> context;
    auto top = make_verilated_top<Top>(context, seed, name);
    top->rst_n = 1;
    top->clk = 0;
    top->eval();
    before.push_back(observe(*top));
    reset_cycles(*top);
    after.push_back(observe(*top));
    top->final();
  }
  EXPECT_TRUE(before[0] != before[1] || before[1] != before[2]) << name << ": power-on state did not depend on the seed";
  EXPECT_EQ(after[0], after[1]) << name;
  EXPECT_EQ(after[1], after[2]) << name;
}

TEST(PowerOn, SyncFifoResetsEverythingItShows) {
  expect_reset_hides_the_seed<Vsync_fifo>(
      [](Vsync_fifo& f) {
        // pop_data is the memory at the read pointer: undefined while empty, as in any FIFO.
        return std::vector<std::uint64_t>{f.full, f.empty, f.count, f.overflow, f.underflow};
      },
      "fifo");
}

TEST(PowerOn, DmaPortResetsEverythingItShows) {
  expect_reset_hides_the_seed<Vdma_port>(
      [](Vdma_port& p) {
        // Requests and responses fall through the port, so nothing is offered on its inputs.
        p.dev_req_valid = p.dev_wdata_valid = p.host_rsp_valid = 0;
        p.eval();
        return std::vector<std::uint64_t>{p.dev_req_ready, p.dev_wdata_ready, p.dev_rsp_valid, p.host_req_valid,
                                          p.host_wdata_valid, p.host_rsp_ready, p.outstanding, p.busy, p.error};
      },
      "port");
}

}  // namespace
}  // namespace dexthil::models
