// SPDX-License-Identifier: Apache-2.0
// FifoLock: waiters get the lock in arrival order (as a queued spinlock's MCS
// queue, kernel/locking/qspinlock.c), a release wakes exactly one waiter, the
// sc_mutex_if return codes, and no lock lost when a waiting thread ends.
#define SC_INCLUDE_DYNAMIC_PROCESSES  // sc_spawn
#include <gtest/gtest.h>

#include <vector>
#include <systemc>

#include "firmware/fifo_lock.h"

using iommusim::FifoLock;
using sc_core::sc_time;
using sc_core::SC_NS;

namespace {

// A thread that asks for the lock after `arrive_ns`, notes `tag` in `order`
// once it holds it, and releases it at once.
sc_core::sc_process_handle spawn_taker(FifoLock& lock, std::vector<char>& order, char tag, int arrive_ns) {
  return sc_core::sc_spawn([&lock, &order, tag, arrive_ns] {
    sc_core::wait(arrive_ns, SC_NS);
    lock.lock();
    order.push_back(tag);
    lock.unlock();
  });
}

// A thread that holds the lock from 0 to `hold_ns`.
void spawn_holder(FifoLock& lock, int hold_ns) {
  sc_core::sc_spawn([&lock, hold_ns] {
    lock.lock();
    sc_core::wait(hold_ns, SC_NS);
    lock.unlock();
  });
}

// The holder takes the lock at 0 and keeps it 100 ns; waiter i arrives at
// (n - i) ns, so the spawn order (which the scheduler runs first) is the
// reverse of the arrival order. Each holds it 10 ns.
TEST(FifoLock, WaitersGetTheLockInArrivalOrder) {
  constexpr int n = 8;
  FifoLock lock;
  std::vector<int> order;
  std::vector<sc_time> got(n);
  spawn_holder(lock, 100);
  for (int i = 0; i < n; ++i)
    sc_core::sc_spawn([&, i] {
      sc_core::wait(n - i, SC_NS);
      lock.lock();
      order.push_back(i);
      got[i] = sc_core::sc_time_stamp();
      sc_core::wait(10, SC_NS);
      lock.unlock();
    });
  sc_core::sc_start();
  ASSERT_EQ(order.size(), size_t(n));
  for (int k = 0; k < n; ++k) {
    EXPECT_EQ(order[k], n - 1 - k) << "position " << k;
    EXPECT_EQ(got[order[k]], sc_time(100 + 10 * k, SC_NS)) << "position " << k;  // no time lost at a hand-over
  }
  EXPECT_FALSE(lock.locked());
  EXPECT_EQ(lock.waiting(), 0u);
}

// Waiters arriving in one delta cycle queue in the order they ask.
TEST(FifoLock, SameInstantArrivalsKeepTheirOrder) {
  FifoLock lock;
  std::vector<int> order;
  spawn_holder(lock, 5);
  for (int i = 0; i < 4; ++i)
    sc_core::sc_spawn([&, i] {
      sc_core::wait(1, SC_NS);
      for (int d = 0; d < 3 - i; ++d) sc_core::wait(sc_core::SC_ZERO_TIME);  // 3 asks first, 0 last
      lock.lock();
      order.push_back(i);
      lock.unlock();
    });
  sc_core::sc_start();
  EXPECT_EQ(order, (std::vector<int>{3, 2, 1, 0}));
}

// One release wakes exactly one waiter: with 6 waiting, the first unlock
// resumes one process; the whole run resumes each waiter once.
TEST(FifoLock, OneReleaseWakesExactlyOneWaiter) {
  constexpr int n = 6;
  FifoLock lock;
  uint64_t after_first_release = ~0ull;
  sc_core::sc_spawn([&] {
    lock.lock();
    sc_core::wait(50, SC_NS);
    EXPECT_EQ(lock.waiting(), size_t(n));
    lock.unlock();
    sc_core::wait(1, SC_NS);  // the new owner holds it 10 ns: nothing else runs
    after_first_release = lock.wakeups();
  });
  for (int i = 0; i < n; ++i)
    sc_core::sc_spawn([&, i] {
      sc_core::wait(1 + i, SC_NS);
      lock.lock();
      sc_core::wait(10, SC_NS);
      lock.unlock();
    });
  sc_core::sc_start();
  EXPECT_EQ(after_first_release, 1u);
  EXPECT_EQ(lock.wakeups(), uint64_t(n));
}

// The releaser asking again goes behind those already waiting (no barging).
TEST(FifoLock, ReleaserAskingAgainQueuesBehindTheWaiters) {
  FifoLock lock;
  std::vector<char> order;
  sc_core::sc_spawn([&] {
    lock.lock();
    sc_core::wait(10, SC_NS);
    lock.unlock();
    lock.lock();
    order.push_back('a');
    lock.unlock();
  });
  spawn_taker(lock, order, 'b', 1);
  sc_core::sc_start();
  EXPECT_EQ(order, (std::vector<char>{'b', 'a'}));
}

// sc_mutex_if's return codes: trylock 0 / -1, unlock by a non-owner -1 with
// nothing changed, lock by the owner 0 without nesting.
TEST(FifoLock, TrylockAndUnlockByANonOwnerReturnTheirCodes) {
  FifoLock lock;
  int try_free = 9, try_own = 9, try_other = 9, unlock_other = 9, unlock_free = 9, relock = 9, unlock_twice = 9;
  bool other_done = false;
  sc_core::sc_spawn([&] {
    unlock_free = lock.unlock();
    try_free = lock.trylock();
    try_own = lock.trylock();
    relock = lock.lock();
    sc_core::wait(10, SC_NS);
    EXPECT_TRUE(lock.locked());  // the other's unlock changed nothing
    EXPECT_EQ(lock.unlock(), 0);
    unlock_twice = lock.unlock();
  });
  sc_core::sc_spawn([&] {
    sc_core::wait(1, SC_NS);
    try_other = lock.trylock();
    unlock_other = lock.unlock();
    EXPECT_EQ(lock.lock(), 0);
    other_done = true;
    lock.unlock();
  });
  sc_core::sc_start();
  EXPECT_EQ(unlock_free, -1);
  EXPECT_EQ(try_free, 0);
  EXPECT_EQ(try_own, 0);
  EXPECT_EQ(relock, 0);
  EXPECT_EQ(try_other, -1);
  EXPECT_EQ(unlock_other, -1);
  EXPECT_EQ(unlock_twice, -1);
  EXPECT_TRUE(other_done);
  EXPECT_FALSE(lock.locked());
}

// A waiter killed while it waits leaves the queue: the next one gets the lock.
TEST(FifoLock, KilledWaiterLeavesTheQueue) {
  FifoLock lock;
  std::vector<char> order;
  spawn_holder(lock, 10);
  sc_core::sc_process_handle b = spawn_taker(lock, order, 'b', 1);
  spawn_taker(lock, order, 'c', 2);
  sc_core::sc_spawn([&, b]() mutable {
    sc_core::wait(5, SC_NS);
    EXPECT_EQ(lock.waiting(), 2u);
    b.kill();
    EXPECT_EQ(lock.waiting(), 1u);
  });
  sc_core::sc_start();
  EXPECT_EQ(order, (std::vector<char>{'c'}));
  EXPECT_FALSE(lock.locked());
}

// A waiter killed after the lock was handed to it, before it ran, passes the
// lock on to the next waiter.
TEST(FifoLock, WaiterKilledAfterTheHandOverPassesTheLockOn) {
  FifoLock lock;
  std::vector<char> order;
  sc_core::sc_process_handle b = spawn_taker(lock, order, 'b', 1);
  sc_core::sc_spawn([&] {
    lock.lock();
    sc_core::wait(10, SC_NS);
    lock.unlock();  // handed to b, which has not run yet
    b.kill();
    EXPECT_TRUE(lock.locked());  // passed on to c
  });
  spawn_taker(lock, order, 'c', 2);
  sc_core::sc_start();
  EXPECT_EQ(order, (std::vector<char>{'c'}));
  EXPECT_FALSE(lock.locked());
  EXPECT_EQ(lock.waiting(), 0u);
}

}  // namespace
