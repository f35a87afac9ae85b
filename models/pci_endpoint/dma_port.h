// SPDX-License-Identifier: Apache-2.0
// An endpoint's upstream DMA path, for use inside its SC_THREADs: memory reads
// and writes split into TLPs and timed on the PCIe link (PcieLinkTiming), ATS
// translation requests, and messages (PRI Page Requests), each performed as
// blocking b_transport calls on the endpoint's initiator socket.
//
// Times are absolute (the calling thread's local time: sc_time_stamp() plus its
// quantum-keeper offset); every call returns the absolute time its result is
// at the device. One DmaPort per thread: it owns the payload and extension it
// reuses, so nothing is allocated per DMA. Several ports may share one link.
//
// Approximately timed (use_at): each transaction is sent with the four-phase
// base protocol through an AtInitiator and the call returns at its response,
// so the thread's local time is the simulation time after every transaction.
// The TLPs of one request then go one after the other (LT issues them as the
// link lets them leave, without waiting for each completion).
#pragma once

#include <cstdint>
#include <vector>

#include <systemc>
#include <tlm>

#include "common/at_initiator.h"
#include "common/dma_extension.h"
#include "common/pcie_messages.h"
#include "pci_endpoint/pcie_link.h"

namespace iommusim {

class DmaPort {
public:
  DmaPort(tlm::tlm_initiator_socket<>& socket, PcieLinkTiming& link);
  ~DmaPort();
  DmaPort(const DmaPort&) = delete;
  DmaPort& operator=(const DmaPort&) = delete;

  // Attributes stamped on the next requests (requester id, PASID, AT field).
  DmaExtension& attributes() { return *ext_; }
  // Approximately timed from now on, through `at` (which serves the socket
  // this port uses); nullptr: loosely timed (b_transport), the default.
  void use_at(AtInitiator* at);

  struct Result {
    sc_core::sc_time done;   // data at the device (read) / last TLP on the wire (posted write)
    bool ok = true;          // every TLP answered TLM_OK_RESPONSE
    tlm::tlm_response_status status = tlm::TLM_OK_RESPONSE;  // first non-OK answer
    sc_core::sc_time accepted;  // write: when memory accepted the last TLP
    sc_core::sc_time sent;      // the last request TLP left the device: a next,
                                // independent request may be issued from here
  };
  // Link disabled: one b_transport for the whole range; its annotated delay is the latency.
  // With the link, a read is served no earlier than the posted writes and
  // messages sent before it through this port reach memory (PCIe ordering).
  Result read(uint64_t addr, uint8_t* data, uint32_t len, const sc_core::sc_time& at);
  Result write(uint64_t addr, const uint8_t* data, uint32_t len, const sc_core::sc_time& at);

  // ATS Translation Request for the page holding `addr` (address type
  // TranslationRequest; the IOMMU fills attributes().ats). A non-posted request
  // upstream and an 8-byte completion downstream. `no_write`: NW bit.
  Result translate(uint64_t addr, bool no_write, const sc_core::sc_time& at, AtsTranslation* out);

  // A posted message upstream (TLM_IGNORE_COMMAND + PcieMessage), e.g. a PRI
  // Page Request (16-byte message header).
  Result message(PcieMessage& msg, const sc_core::sc_time& at);

private:
  // One transaction straight to the target (link model disabled).
  Result direct(uint64_t addr, uint8_t* data, uint32_t len, tlm::tlm_command cmd,
                const sc_core::sc_time& at);
  sc_core::sc_time transport(uint64_t addr, uint8_t* data, uint32_t len, tlm::tlm_command cmd,
                             const sc_core::sc_time& at, tlm::tlm_response_status* st);
  // One MRd TLP for [addr, addr + len) sent at *issue: its tag, its way up
  // behind this port's posted writes, memory, its completions down. Returns
  // when its data is at the device; *issue becomes when it left (the next
  // request may follow), a failure goes to *res.
  sc_core::sc_time read_request(uint64_t addr, uint8_t* data, uint32_t len, sc_core::sc_time* issue, Result* res);

  tlm::tlm_initiator_socket<>& socket_;
  PcieLinkTiming& link_;
  AtInitiator* at_ = nullptr;
  tlm::tlm_generic_payload trans_;
  DmaExtension* ext_;  // owned by trans_
  std::vector<Tlp> tlps_, cpls_;
  uint8_t ats_buf_[8] = {};
  // When the last posted TLP sent through this port reached memory: a later
  // read request is not served before it (PcieLinkTiming::order_behind_posted).
  sc_core::sc_time posted_done_ = sc_core::SC_ZERO_TIME;
};

}  // namespace iommusim
