// SPDX-License-Identifier: Apache-2.0
// A FIFO hand-over lock for the firmware models' SystemC threads, in place of
// sc_core::sc_mutex where the modelled kernel lock is a spinlock.
//
// sc_mutex::unlock notifies one event every waiter waits on: each release
// wakes all N waiters, one wins and N-1 go back to sleep, so a release costs
// O(N) and which waiter wins depends on the scheduler's order. On x86 a
// contended Linux spinlock is a queued spinlock (kernel/locking/qspinlock.c:
// an MCS queue, each waiter spinning on its own node, the lock passed to the
// queue's head), so waiters get the lock in arrival order. This lock does the
// same: each waiter waits on an event of its own, and unlock hands the lock to
// the queue's head and wakes only it. The hand-over is an immediate
// notification, the same timing as sc_mutex::unlock's (SystemC 2.3.4 notifies
// its event immediately): the new owner runs in the same evaluation phase.
//
// Interface and return codes as sc_mutex_if: lock() 0 (also when the caller
// holds it already, which does not nest: one unlock releases it); trylock() 0
// when taken, -1 when another process holds it; unlock() 0, or -1 when the
// caller does not hold it (nothing changes then). A waiter whose thread ends
// (killed or reset while it waits) leaves the queue; if the lock was handed
// to it before it could run, it passes the lock on to the next waiter.
// Must be called from SC_THREADs (lock() waits), as sc_mutex.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>
#include <systemc>

namespace iommusim {

class FifoLock : public sc_core::sc_mutex_if {
 public:
  FifoLock() = default;
  FifoLock(const FifoLock&) = delete;
  FifoLock& operator=(const FifoLock&) = delete;

  int lock() override;
  int trylock() override;
  int unlock() override;

  bool locked() const { return owner_ != nullptr; }
  size_t waiting() const { return queue_.size(); }
  // Times a waiting process resumed from its wait: one per hand-over.
  uint64_t wakeups() const { return wakeups_; }

 private:
  struct Waiter;
  void hand_over();
  sc_core::sc_event* take_event();

  sc_core::sc_process_b* owner_ = nullptr;
  std::deque<Waiter*> queue_;
  // Waiters' events, reused: a contended lock costs no event construction.
  std::vector<std::unique_ptr<sc_core::sc_event>> events_;
  std::vector<sc_core::sc_event*> free_events_;
  uint64_t wakeups_ = 0;
};

}  // namespace iommusim
