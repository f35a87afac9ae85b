// SPDX-License-Identifier: Apache-2.0
// The banks of the DRAM behind a host LLC: where a line lives (channel, rank,
// bank) and when its bank can open a row for it. A random line opens a new row
// nearly every time, which holds its bank for tRC (ACTIVATE to ACTIVATE in one
// bank); a rank opens rows no closer than tRRD and at most four per tFAW
// (JESD79-4, DDR4 SDRAM, 4.x "Activate command" timing). An idle DRAM never
// waits here, so the idle miss latency stays the host's llc.miss_latency; a
// loaded one queues misses behind the rows their banks are still cycling.
// Pure logic on times in ns: Memory (memory.h) asks it for each LLC read miss.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/params.h"

namespace iommusim {

#define IOMMUSIM_DRAM_BANK_PARAMS(P)                                                                          \
  P(uint32_t, channels, "channels", 0, in_range(0, 64), "channels",                                           \
    "memory channels behind the LLC, each with its ranks and banks; 0 = no bank model (every LLC read miss "  \
    "costs llc.miss_latency, whatever the load)",                                                             \
    "0: off; a host profile sets its DRAM's organization (configs/machines/)")                               \
  P(uint32_t, ranks, "ranks", 1, in_range(1, 16), "ranks", "ranks per channel (DIMMs x ranks per DIMM)",      \
    "one single-rank DIMM per channel, the smallest population")                                             \
  P(uint32_t, banks, "banks", 16, in_range(1, 64), "banks", "banks per rank",                               \
    "JESD79-4: DDR4 x4/x8 devices have 16 banks in 4 bank groups")                                           \
  P(double, trc_ns, "trc", 47.06, in_range(0, 1e4), "ns",                                                     \
    "how long a row miss holds its bank (ACTIVATE to ACTIVATE in one bank, tRC)",                             \
    "JESD79-4 speed bin DDR4-2133P (15-15-15): tRC = tRAS 33 ns + tRP 14.06 ns")                              \
  P(double, trrd_ns, "trrd", 3.75, in_range(0, 1e4), "ns",                                                    \
    "least time between two ACTIVATEs in one rank (tRRD_S)",                                                  \
    "JESD79-4 DDR4-2133, 1 KB page (x8): tRRD_S = max(4 nCK, 3.7 ns) = 4 x 0.938 ns")                        \
  P(double, tfaw_ns, "tfaw", 21.0, in_range(0, 1e4), "ns", "window holding at most four ACTIVATEs of one rank", \
    "JESD79-4 DDR4-2133, 1 KB page (x8): tFAW = 21 ns")                                                       \
  P(uint64_t, interleave, "interleave", 64, in_range(64, 1ull << 30), "bytes",                                \
    "bytes that stay on one channel and bank before the next: consecutive granules go to the next channel, "  \
    "then the next bank, then the next rank",                                                                 \
    "assumption: line interleave (random lines spread evenly over the banks under any interleave)")

struct DramBankParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_DRAM_BANK_PARAMS)
  void declare(ParamList& p) { IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_DRAM_BANK_PARAMS, *this, p); }
  bool enabled() const { return channels > 0; }
};

class DramBanks {
public:
  explicit DramBanks(const DramBankParams& p);
  bool enabled() const { return p_.enabled(); }

  // A row activation for the line at `addr`, asked for at `t_ns`: returns the
  // time (>= t_ns) its bank and rank let it start, and books the bank for tRC
  // from then on. Requests may come out of time order (temporal decoupling):
  // one that fits wholly before its bank's latest booking does not wait for it.
  double activate(uint64_t addr, double t_ns);

  struct Counters {
    uint64_t activations = 0;
    uint64_t bank_conflicts = 0;   // found the bank still cycling an earlier row
    uint64_t rank_waits = 0;       // waited for tRRD or tFAW only
    double wait_ns = 0.0;          // total time activations waited
  };
  const Counters& counters() const { return counters_; }

private:
  struct Bank {
    double from = -1e300, until = -1e300;  // the latest booking [from, until)
  };
  struct Rank {
    std::array<double, 4> acts{{-1e300, -1e300, -1e300, -1e300}};  // the latest four ACTIVATEs
  };
  double bank_ready(const Bank& b, double t) const;
  double rank_ready(const Rank& r, double t) const;

  DramBankParams p_;
  std::vector<Bank> banks_;  // channel-major: [channel][rank][bank]
  std::vector<Rank> ranks_;  // [channel][rank]
  Counters counters_;
};

}  // namespace iommusim
