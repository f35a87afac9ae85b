// SPDX-License-Identifier: Apache-2.0
// The endpoint kinds the kernel-model platforms know (`<ep>.kind`):
//
//   workload  a minimal DMA engine driven directly by a kernel workload (fw::Workload)
//   tg        TrafficGenerator on a long-lived IOVA window the kernel maps (fw::TgDriver)
//   nic       Nic driven by the kernel's network driver (fw::NicDriver)
//   svm       SvmAccelerator driven by fw::AccelDriver; it takes ATS Invalidate
//             Requests and PRG Responses from its unit on its message socket
//   rtl-dma   the Verilated RTL DMA engine of rtl/dma/ (platforms/rtl_dma_endpoint.h)
//
// Each is one Endpoint (platforms/endpoint_kind.h) and one line of
// endpoint_kinds(). Their typed accessors are for tests and tools.
#pragma once

#include <memory>
#include <string>

#include "firmware/pci_drivers.h"
#include "firmware/workloads.h"
#include "pci_endpoint/nic.h"
#include "pci_endpoint/svm_accel.h"
#include "pci_endpoint/traffic_generator.h"
#include "platforms/endpoint_kind.h"

namespace iommusim {

class WorkloadEndpoint : public Endpoint {
public:
  using Endpoint::Endpoint;
  void declare(ParamList& section, uint16_t rid) override;
  uint16_t requester_id() const override { return static_cast<uint16_t>(params_.requester_id); }
  IoasPlacement ioas_placement() const override;
  std::string validate(uint64_t system_seed) override;
  std::string check_limits(const EndpointLimits& limits) const override;
  void create(const EndpointContext& ctx) override;
  EndpointPorts ports() override;
  void done_events(std::vector<const sc_core::sc_event*>* out) const override;
  uint64_t transactions() const override { return workload_->completed(); }
  bool finished() const override { return workload_->done(); }
  std::string failure() const override { return workload_->failure(); }
  std::string summary_row() const override;
  static std::string summary_header();

  fw::Workload& workload() { return *workload_; }

private:
  fw::WorkloadParams params_;
  std::unique_ptr<fw::Workload> workload_;
};

// A device model with a kernel driver of its own (tg, nic, svm): the driver
// decides when the endpoint is done and what failed.
class DrivenEndpoint : public Endpoint {
public:
  using Endpoint::Endpoint;
  IoasPlacement ioas_placement() const override { return placement_; }
  void done_events(std::vector<const sc_core::sc_event*>* out) const override;
  bool finished() const override { return driver_->done(); }
  std::string failure() const override { return driver_->failure(); }
  fw::PciDriverBase& driver() { return *driver_; }

protected:
  // Its driver's failure as a note line under its summary row, or "".
  std::string failure_note() const;
  IoasPlacement placement_;
  std::unique_ptr<fw::PciDriverBase> driver_;
};

class TgEndpoint : public DrivenEndpoint {
public:
  using DrivenEndpoint::DrivenEndpoint;
  void declare(ParamList& section, uint16_t rid) override;
  void take_host_defaults(const HostEndpointDefaults& host) override;
  uint16_t requester_id() const override { return static_cast<uint16_t>(params_.requester_id); }
  std::string validate(uint64_t system_seed) override;
  std::string check_limits(const EndpointLimits& limits) const override;
  void create(const EndpointContext& ctx) override;
  EndpointPorts ports() override;
  fw::PciDriverBase* create_driver(const EndpointContext& ctx) override;
  void done_events(std::vector<const sc_core::sc_event*>* out) const override;
  uint64_t transactions() const override { return generator_->completed(); }
  bool finished() const override;
  std::string summary_row() const override;
  static std::string summary_header();

  TrafficGenerator& generator() { return *generator_; }

private:
  TrafficGenParams params_;
  uint64_t mapped_size_ = 0;  // bytes of the window the kernel maps (0: all of it)
  bool warm_window_ = false;  // the driver reads the window from the CPU before the run
  std::unique_ptr<TrafficGenerator> generator_;
};

// A PCI function the CPU programs through config space and BAR0 (nic, svm).
class ProgrammableEndpoint : public DrivenEndpoint {
public:
  using DrivenEndpoint::DrivenEndpoint;
  bool programmable() const override { return true; }
  EndpointPorts ports() override;

protected:
  // Its link parameters, when the link is modeled ("" or a message naming the endpoint).
  std::string validate_link(const PcieEndpointParams& p) const;
  PcieEndpoint* function_ = nullptr;
};

// A programmable device model and its kernel driver, as nic and svm pair them:
// the model's parameters (with the requester id), then the driver's, then
// the IOAS placement, all in the endpoint's section.
template <typename Model, typename ModelParams, typename Driver, typename DriverParams>
class DevicePlusDriver : public ProgrammableEndpoint {
public:
  using ProgrammableEndpoint::ProgrammableEndpoint;
  void declare(ParamList& section, uint16_t rid) override {
    model_params_.ep.requester_id = rid;
    model_params_.declare(section);
    driver_params_.declare(section);
    placement_.declare(section);
  }
  void take_host_defaults(const HostEndpointDefaults& host) override {
    model_params_.ep.link.latency_ns = host.link_latency_ns;
    model_params_.ep.link.rc_posted_ns = host.link_rc_posted_ns;
  }
  uint16_t requester_id() const override { return static_cast<uint16_t>(model_params_.ep.requester_id); }
  void create(const EndpointContext& ctx) override {
    model_ = std::make_unique<Model>(name().c_str(), model_params_, &ctx.stats, &ctx.trace);
    function_ = model_.get();
  }
  fw::PciDriverBase* create_driver(const EndpointContext& ctx) override {
    driver_ = std::make_unique<Driver>(("kdrv_" + name()).c_str(), name(), driver_params_, ctx.function, requester_id(),
                                       ctx.dma, ctx.vtd, ctx.alloc, ctx.cpu, ctx.kernel_stats);
    return driver_.get();
  }

protected:
  const Driver& kernel_driver() const { return static_cast<const Driver&>(*driver_); }
  ModelParams model_params_;
  DriverParams driver_params_;
  std::unique_ptr<Model> model_;
};

class NicEndpoint : public DevicePlusDriver<Nic, NicParams, fw::NicDriver, fw::NicDriverParams> {
public:
  using DevicePlusDriver::DevicePlusDriver;
  std::string validate(uint64_t system_seed) override;
  std::string check_limits(const EndpointLimits& limits) const override;
  unsigned msi_vectors() const override { return 2 * model_params_.queues; }  // TX and RX per queue (fw::NicDriver)
  fw::PciDriverBase* create_driver(const EndpointContext& ctx) override;
  uint64_t transactions() const override { return model_->tx_packets() + model_->rx_packets(); }
  std::string summary_row() const override;
  static std::string summary_header();

  Nic& nic() { return *model_; }
};

class SvmEndpoint : public DevicePlusDriver<SvmAccelerator, SvmAccelParams, fw::AccelDriver, fw::AccelDriverParams> {
public:
  using DevicePlusDriver::DevicePlusDriver;
  std::string validate(uint64_t system_seed) override;
  std::string check_limits(const EndpointLimits& limits) const override;
  unsigned msi_vectors() const override { return 1; }  // job completion (fw::AccelDriver)
  EndpointPorts ports() override;
  uint64_t transactions() const override { return model_->jobs(); }
  std::string summary_row() const override;
  static std::string summary_header();

  SvmAccelerator& accelerator() { return *model_; }
};

}  // namespace iommusim
