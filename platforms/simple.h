// SPDX-License-Identifier: Apache-2.0
// The first platform: traffic-generator endpoints -> router -> memory, no IOMMU.
// It measures the memory and link path alone, the baseline every IOMMU study
// compares against.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/memory.h"
#include "common/router.h"
#include "pci_endpoint/traffic_generator.h"
#include "platforms/platform.h"
#include "platforms/workload_monitor.h"

namespace iommusim {

class SimplePlatform : public Platform {
public:
  void declare_structure(ParamList& p, unsigned round) override;
  void declare(ParamList& p) override;
  std::string check(const SystemParams& sys) override;
  std::string elaborate(const SystemParams& sys, StatGroup& stats, TraceWriter& trace) override;
  uint64_t transactions_completed() const override;
  uint64_t transactions_expected() const override;
  bool finished() const override;
  const sc_core::sc_event& progress_event() const override { return monitor_->progress(); }
  void print_summary(std::ostream& os) const override;

private:
  std::string check_window(size_t i) const;

  std::string endpoint_list_ = "tg0";
  std::vector<std::string> endpoint_names_;
  MemoryParams mem_params_;
  std::string router_map_;
  std::vector<TrafficGenParams> tg_params_;
  std::vector<RouteEntry> routes_;  // router.map, parsed by check()

  std::unique_ptr<Memory> memory_;
  std::unique_ptr<Router> router_;
  std::vector<std::unique_ptr<TrafficGenerator>> generators_;
  std::unique_ptr<WorkloadMonitor> monitor_;
};

} // namespace iommusim
