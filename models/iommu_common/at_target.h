// SPDX-License-Identifier: Apache-2.0
// The approximately-timed side of a unit's upstream DMA socket: the four-phase
// base protocol (IEEE 1666-2011 15.2: BEGIN_REQ, END_REQ, BEGIN_RESP,
// END_RESP) on nb_transport_fw / nb_transport_bw, served by one SystemC thread
// per translation slot.
//
//  - BEGIN_REQ: taken at once (TLM_UPDATED, END_REQ) while a slot is free. With
//    every slot busy the request is held (TLM_ACCEPTED) and END_REQ goes back
//    on the backward path when a slot frees, in arrival order. The annotated
//    delay of BEGIN_REQ is when the request arrives: its slot starts there.
//  - The slot's thread calls `serve` with the payload; `serve` blocks (its
//    translation runs under TimingPolicy::blocking, its downstream access is
//    waited out) and returns when the response is ready.
//  - BEGIN_RESP then goes back with zero delay, one at a time (the response
//    exclusion rule, 15.2.6): a response the initiator does not complete on
//    the spot waits for its END_RESP before the next BEGIN_RESP.
//
// The threads are spawned at the first BEGIN_REQ, so a unit used only
// through b_transport has none. The loosely-timed path (b_transport) is not
// touched by any of this.
#pragma once

#ifndef SC_INCLUDE_DYNAMIC_PROCESSES
#define SC_INCLUDE_DYNAMIC_PROCESSES  // sc_spawn (include this header before <systemc>)
#endif

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <systemc>
#include <tlm>

namespace iommusim::iommu {

class AtTarget {
public:
  using Serve = std::function<void(tlm::tlm_generic_payload&)>;

  // `bw`: the target socket's backward port (socket.get_base_port()).
  AtTarget(std::string name, sc_core::sc_port_b<tlm::tlm_bw_transport_if<>>& bw, unsigned slots, Serve serve)
      : name_(std::move(name)), bw_(bw), slot_count_(slots == 0 ? 1 : slots), serve_(std::move(serve)) {}

  // The socket's nb_transport_fw.
  tlm::tlm_sync_enum nb_transport_fw(tlm::tlm_generic_payload& trans, tlm::tlm_phase& phase, sc_core::sc_time& delay) {
    if (phase == tlm::END_RESP) {
      response_busy_ = false;
      response_free_.notify(delay);
      return tlm::TLM_COMPLETED;
    }
    if (phase != tlm::BEGIN_REQ) return tlm::TLM_ACCEPTED;  // nothing else reaches a target
    if (!spawned_) spawn_slots();
    const Request r{&trans, sc_core::sc_time_stamp() + delay};
    if (!idle_.empty()) {
      Slot& slot = *slots_[idle_.back()];
      idle_.pop_back();
      slot.request = r;
      slot.wake.notify(delay);  // the slot starts when the request arrives
      phase = tlm::END_REQ;
      return tlm::TLM_UPDATED;
    }
    held_.push_back(r);  // END_REQ when a slot frees
    ++held_requests_;
    return tlm::TLM_ACCEPTED;
  }

  unsigned busy_slots() const { return static_cast<unsigned>(spawned_ ? slots_.size() - idle_.size() : 0); }
  // Requests whose END_REQ was held back because every slot was busy.
  uint64_t held_requests() const { return held_requests_; }

private:
  struct Request {
    tlm::tlm_generic_payload* trans;
    sc_core::sc_time arrives;
  };

  // One per translation slot; each thread waits on its own event, so a
  // request wakes one thread.
  struct Slot {
    Request request{nullptr, sc_core::SC_ZERO_TIME};
    sc_core::sc_event wake;
  };

  void spawn_slots() {
    spawned_ = true;
    for (unsigned i = 0; i < slot_count_; ++i) {
      slots_.push_back(std::make_unique<Slot>());
      idle_.push_back(slot_count_ - 1 - i);  // slot 0 is taken first
      Slot* slot = slots_.back().get();
      sc_core::sc_spawn([this, slot, i] { slot_thread(*slot, i); },
                        sc_core::sc_gen_unique_name((name_ + "_at_slot").c_str()));
    }
  }

  void slot_thread(Slot& slot, unsigned index) {
    for (;;) {
      sc_core::wait(slot.wake);
      while (slot.request.trans) {
        if (slot.request.arrives > sc_core::sc_time_stamp())
          sc_core::wait(slot.request.arrives - sc_core::sc_time_stamp());
        tlm::tlm_generic_payload& trans = *slot.request.trans;
        serve_(trans);
        respond(trans);
        slot.request = next_held();
      }
      idle_.push_back(index);
    }
  }

  void respond(tlm::tlm_generic_payload& trans) {
    while (response_busy_) sc_core::wait(response_free_);
    tlm::tlm_phase phase = tlm::BEGIN_RESP;
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    const tlm::tlm_sync_enum s = bw_->nb_transport_bw(trans, phase, delay);
    if (s == tlm::TLM_ACCEPTED || (s == tlm::TLM_UPDATED && phase == tlm::BEGIN_RESP)) response_busy_ = true;
  }

  // A freed slot takes the oldest held request, whose END_REQ goes back now;
  // none held: {nullptr}, the slot goes idle.
  Request next_held() {
    if (held_.empty()) return Request{nullptr, sc_core::SC_ZERO_TIME};
    Request r = held_.front();
    held_.pop_front();
    tlm::tlm_phase phase = tlm::END_REQ;
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    bw_->nb_transport_bw(*r.trans, phase, delay);
    return r;
  }

  const std::string name_;
  sc_core::sc_port_b<tlm::tlm_bw_transport_if<>>& bw_;
  const unsigned slot_count_;
  const Serve serve_;
  bool spawned_ = false;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<unsigned> idle_;  // free slots, the next one taken at the back
  std::deque<Request> held_;
  bool response_busy_ = false;
  sc_core::sc_event response_free_;
  uint64_t held_requests_ = 0;
};

}  // namespace iommusim::iommu
