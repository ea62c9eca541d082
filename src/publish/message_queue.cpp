#include "publish/message_queue.h"

#include <algorithm>

namespace advad {

MessageQueue::MessageQueue(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}

bool MessageQueue::push(std::string topic, std::string payload) {
  std::lock_guard<std::mutex> lock(mutex_);
  bool dropped = false;
  if (items_.size() >= capacity_) {
    items_.pop_front();
    ++dropped_;
    dropped = true;
  }
  items_.push_back(QueuedMessage{next_seq_++, std::move(topic), std::move(payload)});
  return dropped;
}

std::optional<QueuedMessage> MessageQueue::next_after(std::uint64_t after) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = std::upper_bound(items_.begin(), items_.end(), after,
                             [](std::uint64_t s, const QueuedMessage& m) { return s < m.seq; });
  if (it == items_.end()) return std::nullopt;
  return *it;
}

bool MessageQueue::remove(std::uint64_t seq) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!items_.empty() && items_.front().seq == seq) {  // the usual case: acknowledged in order
    items_.pop_front();
    return true;
  }
  auto it = std::lower_bound(items_.begin(), items_.end(), seq,
                             [](const QueuedMessage& m, std::uint64_t s) { return m.seq < s; });
  if (it == items_.end() || it->seq != seq) return false;
  items_.erase(it);
  return true;
}

std::size_t MessageQueue::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return items_.size();
}

std::uint64_t MessageQueue::dropped() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return dropped_;
}

std::uint64_t MessageQueue::added() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return next_seq_ - 1;
}

}  // namespace advad
