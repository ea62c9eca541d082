// src/publish without a network: topic templates, the bounded queue that
// drops the oldest, the publish policy, broker addresses and credentials files.
#include <gtest/gtest.h>

#include <thread>

#include "core/error.h"
#include "publish/broker_address.h"
#include "publish/credentials.h"
#include "publish/message_queue.h"
#include "publish/publish_policy.h"
#include "publish/topic.h"
#include "test_support.h"

namespace advad {
namespace {

using test::expect_error;

TEST(Topic, PlaceholdersAreFilledAndWildcardsInValuesReplaced) {
  const TopicTemplate t("plant/{source}/{category}/result");
  EXPECT_EQ(t.expand("cam-1", "can"), "plant/cam-1/can/result");
  EXPECT_EQ(t.expand("a+b#c", ""), "plant/a_b_c/unknown/result");
  EXPECT_EQ(TopicTemplate("fixed/topic").expand("x", "y"), "fixed/topic");
  EXPECT_EQ(TopicTemplate("{source}").expand("line/3", "y"), "line/3") << "'/' in a value adds topic levels";
}

TEST(Topic, AnUnknownPlaceholderIsAnErrorNamingIt) {
  expect_error<InputError>([] { TopicTemplate("advad/{camera}"); }, {"advad/{camera}", "{camera}", "{source}"});
  expect_error<InputError>([] { TopicTemplate("advad/{source"); }, {"not closed"});
  expect_error<InputError>([] { TopicTemplate("advad/}"); }, {"'}'"});
  expect_error<InputError>([] { TopicTemplate("advad/#"); }, {"wildcard '#'"});
  expect_error<InputError>([] { TopicTemplate("a/+/b"); }, {"wildcard '+'"});
  expect_error<InputError>([] { TopicTemplate(""); }, {"empty"});
}

TEST(MessageQueue, OverflowDropsTheOldestAndCountsIt) {
  MessageQueue q(3);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(q.push("t", std::to_string(i)), i >= 3) << i;
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.dropped(), 2u);
  EXPECT_EQ(q.added(), 5u);
  auto m = q.next_after(0);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload, "2") << "the newest messages are kept";
  EXPECT_EQ(m->seq, 3u);
  m = q.next_after(m->seq);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload, "3");
  EXPECT_TRUE(q.remove(4));  // acknowledged out of order: removed from the middle
  m = q.next_after(3);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload, "4");
  EXPECT_FALSE(q.remove(1)) << "a dropped message is gone";
  EXPECT_TRUE(q.remove(3));
  EXPECT_TRUE(q.remove(5));
  EXPECT_EQ(q.size(), 0u);
  EXPECT_FALSE(q.next_after(0));
}

TEST(MessageQueue, ConcurrentPushAndRemoveKeepOrderAndCount) {
  MessageQueue q(100);
  std::thread producer([&] {
    for (int i = 0; i < 20000; ++i) q.push("t", std::to_string(i));
  });
  std::uint64_t last = 0, removed = 0;
  long long last_value = -1;
  bool ordered = true;
  while (removed + q.dropped() < 20000) {
    if (auto m = q.next_after(last)) {
      ordered &= std::stoll(m->payload) > last_value;
      last_value = std::stoll(m->payload);
      last = m->seq;
      removed += q.remove(m->seq);
    }
  }
  producer.join();
  EXPECT_TRUE(ordered);
  EXPECT_EQ(removed + q.dropped(), 20000u) << "every message is either taken or counted as dropped";
}

TEST(PublishPolicy, DefectsAllEveryN) {
  PublishPolicy p;
  p.mode = PublishPolicy::Mode::All;
  EXPECT_TRUE(p.wants(3, std::nullopt));
  p.mode = PublishPolicy::Mode::Defects;
  EXPECT_TRUE(p.wants(3, true));
  EXPECT_FALSE(p.wants(3, false));
  EXPECT_FALSE(p.wants(3, std::nullopt)) << "no verdict is no defect";
  p.mode = PublishPolicy::Mode::EveryN;
  p.n = 4;
  std::vector<int> picked;
  for (int i = 0; i < 10; ++i)
    if (p.wants(i, false)) picked.push_back(i);
  EXPECT_EQ(picked, (std::vector<int>{0, 4, 8}));
}

TEST(BrokerAddress, ParsesHostAndPortAndNamesBadText) {
  auto a = parse_broker_address("127.0.0.1:1883");
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 1883);
  a = parse_broker_address("[::1]:8883");
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.text(), "[::1]:8883");
  expect_error<InputError>([] { parse_broker_address("broker:mqtt"); }, {"'broker:mqtt'", "not a number", "host:port"});
  expect_error<InputError>([] { parse_broker_address("broker"); }, {"'broker'", "no port"});
  expect_error<InputError>([] { parse_broker_address("broker:70000"); }, {"'broker:70000'", "1..65535"});
  expect_error<InputError>([] { parse_broker_address(":1883"); }, {"no host"});
  expect_error<InputError>([] { check_resolvable(parse_broker_address("no-such-host.invalid:1883")); },
                           {"'no-such-host.invalid'", "does not resolve"});
  check_resolvable(parse_broker_address("127.0.0.1:1"));  // no throw
}

TEST(Credentials, FirstLineUserColonPasswordAndErrorsNameTheFile) {
  test::TempDir dir;
  const auto c = read_credentials(dir.write("ok", "line-3:pa:ss\r\nignored\n"));
  EXPECT_EQ(c.username, "line-3");
  EXPECT_EQ(c.password, "pa:ss") << "only the first ':' separates";
  const std::string bad = dir.write("bad", "no colon here\n");
  expect_error<InputError>([&] { read_credentials(bad); }, {bad, "username:password"});
  const std::string missing = dir.file("missing");
  expect_error<InputError>([&] { read_credentials(missing); }, {missing, "cannot be read"});
}

}  // namespace
}  // namespace advad
