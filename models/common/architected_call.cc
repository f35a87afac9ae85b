// SPDX-License-Identifier: Apache-2.0
#include "common/architected_call.h"

namespace iommusim {

const char* call_kind_name(CallKind kind) {
  switch (kind) {
    case CallKind::PaprHypercall: return "hcall";
    case CallKind::Rtas: return "rtas";
    case CallKind::ChannelIo: return "channel_io";
  }
  return "unknown";
}

int64_t not_supported_status(CallKind kind) {
  switch (kind) {
    case CallKind::PaprHypercall: return papr::H_FUNCTION;
    case CallKind::Rtas: return rtas::kNotSupported;
    case CallKind::ChannelIo: return css::kCcNotOperational;
  }
  return papr::H_FUNCTION;
}

ArchitectedCall* received_call(tlm::tlm_generic_payload& t) {
  ArchitectedCall* call = t.get_extension<ArchitectedCall>();
  if (!call || t.get_command() != tlm::TLM_IGNORE_COMMAND ||
      static_cast<unsigned>(call->kind) >= kCallKinds) {
    t.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
    return nullptr;
  }
  return call;
}

UnsupportedCallTarget::UnsupportedCallTarget(sc_core::sc_module_name name, StatGroup* parent_stats,
                                             const sc_core::sc_time& latency)
    : sc_module(name),
      socket("socket"),
      latency_(latency),
      stats_(basename(), parent_stats),
      refused_(stats_.counter("refused", "transactions without a call (TLM command error)")) {
  for (unsigned k = 0; k < kCallKinds; ++k) {
    const char* kind = call_kind_name(static_cast<CallKind>(k));
    answered_[k] = &stats_.counter(std::string("unsupported.") + kind,
                                   std::string(kind) + " calls answered \"not supported\"");
  }
  socket.register_b_transport(this, &UnsupportedCallTarget::b_transport);
}

void UnsupportedCallTarget::b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
  ArchitectedCall* call = received_call(t);
  if (!call) {
    ++refused_;
    return;
  }
  call->status = not_supported_status(call->kind);
  call->rets.clear();
  ++*answered_[static_cast<unsigned>(call->kind)];
  delay += latency_;
  t.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace iommusim
