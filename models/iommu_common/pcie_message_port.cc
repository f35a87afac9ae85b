// SPDX-License-Identifier: Apache-2.0
#include "iommu_common/pcie_message_port.h"

#include "common/tlm_access.h"

namespace iommusim::iommu {

PcieMessagePort::PcieMessagePort(Socket& socket) : socket_(socket) {}

PcieMessagePort::~PcieMessagePort() {
  // The extension is a member: detach it before the payload frees its extensions.
  trans_.clear_extension(&ext_);
}

tlm::tlm_response_status PcieMessagePort::send(const PcieMessage& msg, uint64_t address,
                                               sc_core::sc_time& delay) {
  ext_ = msg;
  prepare_access(trans_, tlm::TLM_IGNORE_COMMAND, address, nullptr, 0);
  trans_.set_extension(&ext_);
  socket_->b_transport(trans_, delay);
  trans_.clear_extension(&ext_);
  return trans_.get_response_status();
}

namespace {
// A message of `type` to `destination`, for one PASID or none.
PcieMessage addressed(PcieMessageType type, uint16_t destination, bool has_pasid, uint32_t pasid) {
  PcieMessage m;
  m.type = type;
  m.destination_id = destination;
  m.has_pasid = has_pasid;
  m.pasid = pasid;
  return m;
}
}  // namespace

tlm::tlm_response_status PcieMessagePort::invalidate(uint16_t destination, bool has_pasid, uint32_t pasid,
                                                     bool global, uint64_t address, uint64_t size,
                                                     sc_core::sc_time& delay) {
  PcieMessage m = addressed(PcieMessageType::InvalidateRequest, destination, has_pasid, pasid);
  m.global = global;
  m.address = address;
  m.size = size;
  return send(m, address, delay);
}

tlm::tlm_response_status PcieMessagePort::prg_response(uint16_t destination, bool has_pasid, uint32_t pasid,
                                                       uint16_t prg_index, PrgResponseCode code,
                                                       sc_core::sc_time& delay) {
  PcieMessage m = addressed(PcieMessageType::PrgResponse, destination, has_pasid, pasid);
  m.prg_index = prg_index;
  m.response_code = code;
  return send(m, 0, delay);
}

}  // namespace iommusim::iommu
