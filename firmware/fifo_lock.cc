// SPDX-License-Identifier: Apache-2.0
#include "firmware/fifo_lock.h"

#include <algorithm>

namespace iommusim {

// A waiting process's queue node, on its own stack. Its destructor also runs
// when the thread is killed or reset while it waits (SystemC unwinds the
// thread's stack with sc_unwind_exception), so an ended waiter never stays in
// the queue nor keeps a lock handed to it.
struct FifoLock::Waiter {
  FifoLock& lock;
  sc_core::sc_process_b* process;
  sc_core::sc_event* event;
  bool acquired = false;

  Waiter(FifoLock& l, sc_core::sc_process_b* p) : lock(l), process(p), event(l.take_event()) {
    lock.queue_.push_back(this);
  }
  ~Waiter() {
    if (!acquired) {
      if (lock.owner_ == process) {
        lock.hand_over();
      } else {
        auto it = std::find(lock.queue_.begin(), lock.queue_.end(), this);
        if (it != lock.queue_.end()) lock.queue_.erase(it);
      }
    }
    lock.free_events_.push_back(event);
  }
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;
};

sc_core::sc_event* FifoLock::take_event() {
  if (free_events_.empty()) {
    events_.push_back(std::make_unique<sc_core::sc_event>());
    return events_.back().get();
  }
  sc_core::sc_event* e = free_events_.back();
  free_events_.pop_back();
  return e;
}

int FifoLock::lock() {
  sc_core::sc_process_b* me = sc_core::sc_get_current_process_b();
  if (owner_ == me) return 0;
  // The queue is never left waiting on a free lock: unlock hands it over.
  if (!owner_) {
    owner_ = me;
    return 0;
  }
  Waiter w(*this, me);
  while (owner_ != me) {
    sc_core::wait(*w.event);
    ++wakeups_;
  }
  w.acquired = true;
  return 0;
}

int FifoLock::trylock() {
  sc_core::sc_process_b* me = sc_core::sc_get_current_process_b();
  if (owner_ == me) return 0;
  if (owner_) return -1;
  owner_ = me;
  return 0;
}

int FifoLock::unlock() {
  if (!owner_ || owner_ != sc_core::sc_get_current_process_b()) return -1;
  hand_over();
  return 0;
}

void FifoLock::hand_over() {
  if (queue_.empty()) {
    owner_ = nullptr;
    return;
  }
  Waiter* next = queue_.front();
  queue_.pop_front();
  owner_ = next->process;
  next->event->notify();
}

}  // namespace iommusim
