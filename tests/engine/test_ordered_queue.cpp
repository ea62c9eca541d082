// OrderedQueue: items leave in arrival order whatever the worker does, the
// producer blocks at the bounds, and flushing discards and wakes everyone.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "engine/ordered_queue.h"

namespace advad {
namespace {

using namespace std::chrono_literals;

TEST(OrderedQueue, ItemsLeaveInArrivalOrderWhileTheWorkerWorks) {
  OrderedQueue<int> q(8, 2);
  std::vector<int> worked, out;
  std::thread worker([&] {
    while (q.wait_open()) {
      int* it = q.take_work();
      if (!it) continue;
      std::this_thread::sleep_for(2ms);  // slower than the producer
      worked.push_back(*it);
      *it += 1000;
      q.finish_work(it);
    }
  });
  std::thread consumer([&] {
    while (q.wait_open()) {
      auto v = q.pop_ready();
      if (v) out.push_back(*v);
      if (v) q.finish_pop();
    }
  });
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(q.push(i, i % 3 == 0));  // every third needs work
  ASSERT_TRUE(q.wait_drained());
  q.close();
  worker.join();
  consumer.join();
  ASSERT_EQ(out.size(), 30u);
  for (int i = 0; i < 30; ++i) EXPECT_EQ(out[i], i % 3 == 0 ? i + 1000 : i) << "position " << i;
  EXPECT_EQ(worked.size(), 10u);
}

TEST(OrderedQueue, ProducerBlocksWhenTwoItemsAwaitWork) {
  OrderedQueue<int> q(64, 2);
  ASSERT_TRUE(q.push(1, true));
  ASSERT_TRUE(q.push(2, true));
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    pushed = q.push(3, true);
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(pushed) << "a third item to score must wait";
  EXPECT_TRUE(q.push(4, false)) << "an item without work still fits";
  int* it = q.take_work();
  ASSERT_NE(it, nullptr);
  EXPECT_EQ(*it, 1);
  q.finish_work(it);
  producer.join();
  EXPECT_TRUE(pushed);
  EXPECT_EQ(q.size(), 4u);
}

TEST(OrderedQueue, ProducerBlocksAtMaxItems) {
  OrderedQueue<int> q(3, 2);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(q.push(i, false));
  std::atomic<bool> done{false};
  std::thread producer([&] {
    q.push(9, false);
    done = true;
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(done);
  EXPECT_EQ(*q.pop_ready(), 0);
  producer.join();
  EXPECT_TRUE(done);
}

TEST(OrderedQueue, FlushingDiscardsWakesAndTheItemInWorkIsDroppedWhenFinished) {
  OrderedQueue<int> q(8, 2);
  ASSERT_TRUE(q.push(1, true));
  ASSERT_TRUE(q.push(2, true));
  int* in_work = q.take_work();
  ASSERT_NE(in_work, nullptr);
  std::atomic<bool> returned{false}, result{true};
  std::thread producer([&] {
    result = q.push(3, true);  // blocked: two items await work
    returned = true;
  });
  std::this_thread::sleep_for(30ms);
  EXPECT_FALSE(returned);
  q.set_flushing(true);
  producer.join();
  EXPECT_FALSE(result) << "a push during flushing is refused";
  EXPECT_FALSE(q.pop_ready().has_value());
  EXPECT_EQ(q.take_work(), nullptr);
  EXPECT_EQ(q.size(), 1u) << "only the item in work is left";
  q.finish_work(in_work);
  EXPECT_EQ(q.size(), 0u);
  q.set_flushing(false);
  EXPECT_TRUE(q.push(4, false));
  EXPECT_EQ(*q.pop_ready(), 4);
}

TEST(OrderedQueue, DrainedOnlyOnceThePoppedItemIsHandedOn) {
  OrderedQueue<int> q(4, 1);
  ASSERT_TRUE(q.push(1, false));
  auto v = q.pop_ready();
  ASSERT_TRUE(v.has_value());
  std::atomic<bool> drained{false};
  std::thread waiter([&] { drained = q.wait_drained(); });
  std::this_thread::sleep_for(30ms);
  EXPECT_FALSE(drained) << "popped but not yet handed on (e.g. pushed downstream)";
  q.finish_pop();
  waiter.join();
  EXPECT_TRUE(drained);
}

TEST(OrderedQueue, CloseEndsWaitOpen) {
  OrderedQueue<int> q(4, 1);
  std::atomic<int> loops{0};
  std::thread t([&] {
    while (q.wait_open()) {
      ++loops;
      q.pop_ready();
    }
  });
  std::this_thread::sleep_for(20ms);
  q.close();
  t.join();
  EXPECT_GE(loops.load(), 1);
  q.open();
  EXPECT_TRUE(q.push(1, false));
}

}  // namespace
}  // namespace advad
