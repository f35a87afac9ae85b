// SPDX-License-Identifier: Apache-2.0
#include "common/dram_banks.h"

#include <algorithm>

namespace iommusim {

DramBanks::DramBanks(const DramBankParams& p) : p_(p) {
  if (!p_.enabled()) return;
  ranks_.resize(size_t(p_.channels) * p_.ranks);
  banks_.resize(ranks_.size() * p_.banks);
}

inline double DramBanks::bank_ready(const Bank& b, double t) const {
  if (t >= b.until || t + p_.trc_ns <= b.from) return t;  // free then, or done before the booking starts
  return b.until;
}

namespace {

// The rank's limits on an ACTIVATE at t: no closer than tRRD to any of the four
// latest ACTIVATEs `acts`, and at most four in tFAW.
double rank_ready_rounds(const std::array<double, 4>& acts, double t, double trrd, double tfaw) {
  // Each push moves t later, past one of four recorded ACTIVATEs: a few rounds settle it.
  for (int round = 0; round < 8; ++round) {
    double next = t;
    for (double x : acts)
      if (next > x - trrd && next < x + trrd) next = x + trrd;
    const bool window_full = std::all_of(acts.begin(), acts.end(), [&](double x) { return x <= next && x > next - tfaw; });
    if (window_full) next = *std::min_element(acts.begin(), acts.end()) + tfaw;
    if (next == t) break;
    t = next;
  }
  return t;
}

}  // namespace

inline double DramBanks::rank_ready(const Rank& r, double t) const {
  // The usual case, decided without the rounds (whose first round returns t
  // the same way then): t is tRRD or more after every recorded ACTIVATE
  // (x + tRRD <= max + tRRD <= t for each x: no tRRD push), so every x is at
  // or before t, and the tFAW window is full only if the oldest is inside it.
  const auto [lo, hi] = std::minmax_element(r.acts.begin(), r.acts.end());
  if (t >= *hi + p_.trrd_ns && !(*lo > t - p_.tfaw_ns)) return t;
  return rank_ready_rounds(r.acts, t, p_.trrd_ns, p_.tfaw_ns);
}

double DramBanks::activate(uint64_t addr, double t_ns) {
  if (!enabled()) return t_ns;
  // Granule -> channel, then bank, then rank (the interleave parameter's order).
  uint64_t g = addr / p_.interleave;
  const uint64_t channel = g % p_.channels;
  g /= p_.channels;
  const uint64_t bank = g % p_.banks;
  const uint64_t rank = (g / p_.banks) % p_.ranks;
  Rank& r = ranks_[channel * p_.ranks + rank];
  Bank& b = banks_[(channel * p_.ranks + rank) * p_.banks + bank];

  const double bank_free = bank_ready(b, t_ns);
  const bool conflict = bank_free > t_ns;
  double a = t_ns;
  for (int round = 0; round < 8; ++round) {  // the bank's and the rank's limits, until both hold
    const double next = rank_ready(r, round == 0 ? bank_free : bank_ready(b, a));
    if (next == a) break;
    a = next;
  }
  ++counters_.activations;
  if (conflict) ++counters_.bank_conflicts;
  else if (a > t_ns) ++counters_.rank_waits;
  counters_.wait_ns += a - t_ns;
  if (a >= b.from) b = Bank{a, a + p_.trc_ns};  // an earlier one fitted before keeps the latest booking
  double* oldest = std::min_element(r.acts.begin(), r.acts.end());
  if (a > *oldest) *oldest = a;
  return a;
}

}  // namespace iommusim
