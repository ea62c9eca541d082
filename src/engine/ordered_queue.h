// OrderedQueue: frames in, frames out in the same order, with some of them
// worked on by another thread in between. Three parties use it:
//  - the producer (a streaming thread) pushes items, blocking while the
//    queue holds max_items items or max_work items that still need work;
//  - the worker takes the oldest item that needs work, works on it without
//    the lock held, and marks it finished;
//  - the consumer pops the head once it needs no more work, hands it on, and
//    calls finish_pop() — only then does the item count as gone (drained).
// Flushing wakes everyone, discards every item that is not being worked on
// (the one in work is discarded when its work finishes) and makes the calls
// return empty until flushing is turned off again.
// Header-only so any item type works; no GStreamer types here.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <list>
#include <mutex>
#include <optional>

namespace advad {

template <class T>
class OrderedQueue {
 public:
  OrderedQueue(size_t max_items, size_t max_work)
      : max_items_(max_items < 1 ? 1 : max_items), max_work_(max_work < 1 ? 1 : max_work) {}

  // Returns false (the item is dropped) when the queue is flushing.
  bool push(T item, bool needs_work) {
    std::unique_lock<std::mutex> lock(mutex_);
    space_.wait(lock, [&] {
      return flushing_ || (entries_.size() < max_items_ && (!needs_work || pending_work_ < max_work_));
    });
    if (flushing_) return false;
    entries_.push_back(Entry{std::move(item), needs_work ? State::Waiting : State::Ready});
    if (needs_work) ++pending_work_;
    changed_.notify_all();
    return true;
  }

  // The worker's next item: a pointer that stays valid until finish_work().
  // Null when flushing.
  T* take_work() {
    std::unique_lock<std::mutex> lock(mutex_);
    Entry* found = nullptr;
    changed_.wait(lock, [&] {
      if (flushing_) return true;
      for (auto& e : entries_)
        if (e.state == State::Waiting) {
          found = &e;
          return true;
        }
      return false;
    });
    if (flushing_ || !found) return nullptr;
    found->state = State::Working;
    return &found->value;
  }

  // Ends the work on `item` (from take_work); it may now leave the queue.
  void finish_work(T* item) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (&it->value != item) continue;
      --pending_work_;
      if (it->discard)
        entries_.erase(it);
      else
        it->state = State::Ready;
      break;
    }
    changed_.notify_all();
    space_.notify_all();
  }

  // The head once it is ready; empty when flushing. Call finish_pop() when
  // the item has been handed on.
  std::optional<T> pop_ready() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return flushing_ || (!entries_.empty() && entries_.front().state == State::Ready); });
    if (flushing_) return std::nullopt;
    std::optional<T> out(std::move(entries_.front().value));
    entries_.pop_front();
    ++handing_on_;
    space_.notify_all();
    return out;
  }
  void finish_pop() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (handing_on_ > 0) --handing_on_;
    drained_.notify_all();
  }

  // Blocks until every item has left and been handed on, or the queue
  // flushes. Returns false when it stopped because of flushing.
  bool wait_drained() {
    std::unique_lock<std::mutex> lock(mutex_);
    drained_.wait(lock, [&] { return flushing_ || (entries_.empty() && handing_on_ == 0); });
    return !flushing_;
  }

  void set_flushing(bool flushing) {
    std::lock_guard<std::mutex> lock(mutex_);
    flushing_ = flushing;
    if (flushing) {
      for (auto it = entries_.begin(); it != entries_.end();) {
        if (it->state == State::Working) {
          it->discard = true;
          ++it;
        } else {
          if (it->state == State::Waiting) --pending_work_;
          it = entries_.erase(it);
        }
      }
    }
    changed_.notify_all();
    space_.notify_all();
    drained_.notify_all();
  }

  // close(): flush for good (threads waiting in wait_open() get false and
  // end); open(): start empty and unflushed (a new run).
  void close() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closed_ = true;
    }
    set_flushing(true);
  }
  void open() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = false;
    flushing_ = false;
    changed_.notify_all();
  }
  // Blocks while the queue flushes; false once it is closed.
  bool wait_open() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return closed_ || !flushing_; });
    return !closed_;
  }

  bool flushing() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return flushing_;
  }
  size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_.size();
  }

 private:
  enum class State { Waiting, Working, Ready };
  struct Entry {
    T value;
    State state;
    bool discard = false;
  };
  const size_t max_items_, max_work_;
  mutable std::mutex mutex_;
  std::condition_variable changed_, space_, drained_;
  std::list<Entry> entries_;  // a list: the worker's pointer survives pushes and pops
  size_t pending_work_ = 0;   // entries Waiting or Working
  size_t handing_on_ = 0;     // popped, not yet finish_pop()
  bool flushing_ = false;
  bool closed_ = false;
};

}  // namespace advad
