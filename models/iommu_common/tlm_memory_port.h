// SPDX-License-Identifier: Apache-2.0
// MemoryPort over a TLM initiator socket: every read and write is one
// b_transport of a payload the port owns (set up by prepare_access, so no
// allocation per access), and peek/poke are transport_dbg on the same socket
// (zero time, no timing resource touched).
//
// One port serves one process at a time: a unit whose downstream may wait
// inside b_transport gives each of its processes (DMA path, QI engine, ...)
// its own port over the same socket.
#pragma once

#include <cstdint>
#include <systemc>
#include <tlm>

#include "common/dma_extension.h"
#include "common/tlm_access.h"
#include "iommu_common/memory_port.h"

namespace iommusim::iommu {

class TlmMemoryPort final : public MemoryPort {
public:
  // Any initiator socket (tlm_utils::simple_initiator_socket included) is one.
  using Socket = sc_core::sc_port_b<tlm::tlm_fw_transport_if<>>;

  explicit TlmMemoryPort(Socket& socket) : socket_(socket) {}
  TlmMemoryPort(const TlmMemoryPort&) = delete;
  TlmMemoryPort& operator=(const TlmMemoryPort&) = delete;

  bool read(uint64_t pa, void* buf, unsigned len, sc_core::sc_time& delay) override {
    return transport(tlm::TLM_READ_COMMAND, pa, buf, len, delay);
  }
  bool write(uint64_t pa, const void* buf, unsigned len, sc_core::sc_time& delay) override {
    return transport(tlm::TLM_WRITE_COMMAND, pa, const_cast<void*>(buf), len, delay);
  }
  bool peek(uint64_t pa, void* buf, unsigned len) override {
    return debug(tlm::TLM_READ_COMMAND, pa, buf, len);
  }
  bool poke(uint64_t pa, const void* buf, unsigned len) override {
    return debug(tlm::TLM_WRITE_COMMAND, pa, const_cast<void*>(buf), len);
  }

  // The DMA attributes every access of this port carries from now on (a
  // DmaExtension the port's payload owns and frees): an initiator that tags
  // its accesses (a channel program's subchannel) sets them here. A port
  // never asked carries none, as before.
  DmaExtension& attributes() {
    DmaExtension* a = trans_.get_extension<DmaExtension>();
    if (!a) {
      a = new DmaExtension;
      trans_.set_extension(a);
    }
    return *a;
  }

private:
  bool transport(tlm::tlm_command cmd, uint64_t pa, void* buf, unsigned len, sc_core::sc_time& delay) {
    prepare_access(trans_, cmd, pa, buf, len);
    socket_->b_transport(trans_, delay);
    return trans_.is_response_ok();
  }
  bool debug(tlm::tlm_command cmd, uint64_t pa, void* buf, unsigned len) {
    prepare_access(trans_, cmd, pa, buf, len);
    return socket_->transport_dbg(trans_) == len;
  }

  Socket& socket_;
  tlm::tlm_generic_payload trans_;
};

}  // namespace iommusim::iommu
