// The messages a publisher has not delivered yet: a bounded FIFO, shared by
// the thread that adds (the video thread, which must never wait for the
// network) and the thread that sends. When full, adding drops the OLDEST
// message (the newest results matter most) and counts it. A message stays
// until the sender removes it, so it can be sent again after a reconnect.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

namespace advad {

struct QueuedMessage {
  std::uint64_t seq = 0;  // 1, 2, 3, ... in the order added
  std::string topic;
  std::string payload;
};

class MessageQueue {
 public:
  explicit MessageQueue(std::size_t capacity);  // capacity >= 1

  // Appends; true when the oldest message had to be dropped for it. Never blocks on I/O.
  bool push(std::string topic, std::string payload);
  // A copy of the oldest message with seq > after (0 = from the oldest).
  std::optional<QueuedMessage> next_after(std::uint64_t after) const;
  // Removes the message `seq` (delivered); false when it is gone already (dropped).
  bool remove(std::uint64_t seq);

  std::size_t size() const;
  std::size_t capacity() const { return capacity_; }
  std::uint64_t dropped() const;  // messages dropped by overflow, in total
  std::uint64_t added() const;

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::deque<QueuedMessage> items_;  // ascending seq
  std::uint64_t next_seq_ = 1;
  std::uint64_t dropped_ = 0;
};

}  // namespace advad
