// SPDX-License-Identifier: Apache-2.0
// Approximately-timed transport for an initiator's threads: one blocking call
// that runs the four-phase base protocol (IEEE 1666-2011 15.2: BEGIN_REQ,
// END_REQ, BEGIN_RESP, END_RESP) over the initiator's socket and returns when
// the response has arrived, so a thread written for b_transport issues AT
// transactions instead.
//
// Several threads of one initiator share its socket: the request exclusion
// rule (15.2.6: no BEGIN_REQ until the previous request's END_REQ) is kept
// here, threads queue for the request channel in the order they call. The
// response is taken at once (the bw call returns TLM_COMPLETED for
// BEGIN_RESP), so the target is never held by this initiator's responses.
//
// The owning module registers its socket's nb_transport_bw and forwards it to
// nb_transport_bw() below. Every payload sent through transport() must carry
// this class's Waiter extension (attach() adds it once; the payload owns it).
#pragma once

#include <systemc>
#include <tlm>

namespace iommusim {

class AtInitiator {
public:
  // Per-payload state of one transaction in flight.
  class Waiter : public tlm::tlm_extension<Waiter> {
  public:
    tlm::tlm_extension_base* clone() const override { return new Waiter; }
    void copy_from(const tlm::tlm_extension_base&) override {}

  private:
    friend class AtInitiator;
    bool end_req = false, responded = false;
    sc_core::sc_time response_at;
    sc_core::sc_event changed;
  };

  explicit AtInitiator(sc_core::sc_port_b<tlm::tlm_fw_transport_if<>>& socket) : socket_(socket) {}

  // Gives `trans` the extension transport() needs (once per payload).
  static void attach(tlm::tlm_generic_payload& trans) {
    if (!trans.get_extension<Waiter>()) trans.set_extension(new Waiter);
  }

  // Sends `trans` at absolute time `at` (not before now) and waits for its
  // response. Returns the time the response arrived; the payload holds it.
  // From an SC_THREAD only.
  sc_core::sc_time transport(tlm::tlm_generic_payload& trans, const sc_core::sc_time& at) {
    Waiter& w = *trans.get_extension<Waiter>();
    w.end_req = w.responded = false;
    while (request_busy_) sc_core::wait(request_free_);
    request_busy_ = true;
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    sc_core::sc_time delay = at > now ? at - now : sc_core::SC_ZERO_TIME;
    tlm::tlm_phase phase = tlm::BEGIN_REQ;
    const tlm::tlm_sync_enum s = socket_->nb_transport_fw(trans, phase, delay);
    if (s == tlm::TLM_COMPLETED || (s == tlm::TLM_UPDATED && phase == tlm::BEGIN_RESP)) {
      respond(w, delay);
      if (s == tlm::TLM_UPDATED) end_response(trans);
    } else if (s == tlm::TLM_UPDATED && phase == tlm::END_REQ) {
      end_request(w, delay);
    }
    while (!w.end_req) sc_core::wait(w.changed);
    while (!w.responded) sc_core::wait(w.changed);
    if (w.response_at > sc_core::sc_time_stamp()) sc_core::wait(w.response_at - sc_core::sc_time_stamp());
    return w.response_at;
  }

  // The socket's backward path.
  tlm::tlm_sync_enum nb_transport_bw(tlm::tlm_generic_payload& trans, tlm::tlm_phase& phase,
                                     sc_core::sc_time& delay) {
    Waiter* w = trans.get_extension<Waiter>();
    if (!w) return tlm::TLM_ACCEPTED;  // not one of ours: nothing to do
    if (phase == tlm::END_REQ) {
      end_request(*w, delay);
      return tlm::TLM_ACCEPTED;
    }
    if (phase == tlm::BEGIN_RESP) {
      respond(*w, delay);
      return tlm::TLM_COMPLETED;
    }
    return tlm::TLM_ACCEPTED;
  }

private:
  // END_REQ (given or implied by a response): the request channel is free.
  void end_request(Waiter& w, const sc_core::sc_time& delay) {
    if (w.end_req) return;
    w.end_req = true;
    request_busy_ = false;
    request_free_.notify(delay);
    w.changed.notify(sc_core::SC_ZERO_TIME);
  }
  void respond(Waiter& w, const sc_core::sc_time& delay) {
    end_request(w, delay);
    w.responded = true;
    w.response_at = sc_core::sc_time_stamp() + delay;
    w.changed.notify(delay);
  }
  // A response returned on the forward path is ended on the forward path.
  void end_response(tlm::tlm_generic_payload& trans) {
    tlm::tlm_phase phase = tlm::END_RESP;
    sc_core::sc_time zero = sc_core::SC_ZERO_TIME;
    socket_->nb_transport_fw(trans, phase, zero);
  }

  sc_core::sc_port_b<tlm::tlm_fw_transport_if<>>& socket_;
  bool request_busy_ = false;
  sc_core::sc_event request_free_;
};

}  // namespace iommusim
