// SPDX-License-Identifier: Apache-2.0
#include "platforms/simple.h"

#include <ostream>

#include "platforms/config.h"
#include "platforms/summary.h"

namespace iommusim {

void SimplePlatform::declare_structure(ParamList& p, unsigned round) {
  if (round > 0) return;
  ParamList sys = p.scope("system");
  declare_param(sys, "endpoints", &endpoint_list_,
                instance_list({"system", "mem", "router"}, "at least one endpoint is needed"), "",
                "Traffic-generator endpoints to instantiate, one config section each",
                "one generator: the smallest system");
}

void SimplePlatform::declare(ParamList& p) {
  parse_instance_list(endpoint_list_, {}, &endpoint_names_);
  ParamList mem = p.scope("mem");
  mem_params_.declare(mem);
  ParamList router = p.scope("router");
  declare_param(router, "map", &router_map_, accepts::any_text(), "",
                "Address map 'name@BASE+SIZE,...' of the targets (only 'mem' here); empty = mem at 0 "
                "covering mem.size",
                "memory from address 0, as a host's DRAM");
  tg_params_.assign(endpoint_names_.size(), TrafficGenParams{});
  for (size_t i = 0; i < endpoint_names_.size(); ++i) {
    // Endpoints sit on bus 1 as devices 0, 1, ...: distinct requester ids.
    tg_params_[i].requester_id = DmaExtension::bdf(1, static_cast<unsigned>(i), 0);
    ParamList tg = p.scope(endpoint_names_[i]);
    const size_t declared_before = p.specs().size();
    tg_params_[i].declare(tg);
    // Every generator declares as many parameters as the first: room for the
    // rest at once, instead of moving every declaration each time the list
    // grows (thousands of endpoints, tens of thousands of declarations).
    if (i == 0) {
      const size_t each = p.specs().size() - declared_before;
      p.specs().reserve(p.specs().size() + each * (endpoint_names_.size() - 1));
    }
  }
}

std::string SimplePlatform::check(const SystemParams& sys) {
  const bool bounded = sys.time_limit_ns > 0 || sys.max_transactions > 0;
  for (size_t i = 0; i < endpoint_names_.size(); ++i) {
    const std::string& n = endpoint_names_[i];
    tg_params_[i].seed = mix_seed(sys.seed, tg_params_[i].seed, n);
    std::string err = tg_params_[i].validate();
    if (!err.empty()) return n + ": " + err;
    if (!bounded && tg_params_[i].endless())
      return endless_run_error(n + ".count = 0 and " + n + ".duration_ns = 0 never stop the generator");
  }
  routes_.clear();
  const std::string map_text = router_map_.empty() ? "mem@0x0+" + std::to_string(mem_params_.size) : router_map_;
  std::string err = parse_route_list(map_text, [](const std::string& n) { return n == "mem" ? 0 : -1; }, &routes_);
  if (!err.empty()) return "router.map: " + err;
  for (size_t i = 0; i < endpoint_names_.size(); ++i)
    if (std::string e = check_window(i); !e.empty()) return e;
  return "";
}

std::string SimplePlatform::elaborate(const SystemParams& sys, StatGroup& stats, TraceWriter& trace) {
  if (std::string err = check(sys); !err.empty()) return err;
  memory_ = std::make_unique<Memory>("mem", mem_params_, &stats);
  router_ = std::make_unique<Router>("router", &stats);
  const unsigned mem = router_->add_target(memory_->socket);
  for (RouteEntry r : routes_) {
    r.target = mem;
    if (std::string err = router_->map(0, r); !err.empty()) return "router.map: " + err;
  }
  std::vector<const sc_core::sc_event*> done;
  for (size_t i = 0; i < endpoint_names_.size(); ++i) {
    generators_.push_back(std::make_unique<TrafficGenerator>(endpoint_names_[i].c_str(),
                                                             tg_params_[i], &stats, &trace));
    router_->add_initiator(generators_.back()->socket);
    done.push_back(&generators_.back()->done_event());
  }
  monitor_ = std::make_unique<WorkloadMonitor>("monitor", done);
  return "";
}

// Every address of generator i's window reaches memory: one route covers it,
// and what the route hands memory lies below mem.size.
std::string SimplePlatform::check_window(size_t i) const {
  const TrafficGenParams& t = tg_params_[i];
  for (const RouteEntry& r : routes_) {
    if (t.window_base < r.base || t.window_base + t.window_size - 1 > r.end()) continue;
    const uint64_t end = (r.relative ? t.window_base - r.base : t.window_base) + t.window_size;
    if (end <= mem_params_.size) return "";
  }
  const std::string& n = endpoint_names_[i];
  return n + ".window_base = " + format_hex(t.window_base) + " + " + n + ".window_size = " + format_hex(t.window_size) +
         " reaches beyond memory (mem.size = " + format_hex(mem_params_.size) +
         (router_map_.empty() ? "" : ", router.map = '" + shown_text(router_map_) + "'") +
         "); put the window inside the memory the router maps, or raise mem.size";
}

uint64_t SimplePlatform::transactions_completed() const {
  uint64_t n = 0;
  for (const auto& g : generators_) n += g->completed();
  return n;
}

uint64_t SimplePlatform::transactions_expected() const {
  uint64_t n = 0;
  for (const auto& g : generators_) {
    if (g->params().count == 0) return 0;
    n += g->params().count;
  }
  return n;
}

bool SimplePlatform::finished() const {
  for (const auto& g : generators_)
    if (!g->done()) return false;
  return true;
}

void SimplePlatform::print_summary(std::ostream& os) const {
  std::vector<const TrafficGenerator*> gens;
  for (const auto& g : generators_) gens.push_back(g.get());
  print_tables(os, {traffic_generator_table(gens)});
  os << "memory: " << memory_->storage().pages_allocated() << " pages touched\n";
}

} // namespace iommusim
