// MqttClient against a real mosquitto broker on 127.0.0.1: order, a broker
// restart mid-stream (QoS 1: nothing lost, repeats only of the messages in
// flight at the stop; QoS 0: what was queued while away arrives in order),
// overflow while away, unreachable broker, refused login.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <algorithm>
#include <numeric>
#include <thread>

#include "core/error.h"
#include "mqtt_test_broker.h"
#include "publish/credentials.h"
#include "publish/mqtt_client.h"

namespace advad {
namespace {

using mqtttest::Broker;
using mqtttest::Subscriber;

using Events = mqtttest::ClientEvents;

MqttClient::Options options(const Broker& b, int qos) {
  MqttClient::Options o;
  o.address = BrokerAddress{"127.0.0.1", b.port()};
  o.qos = qos;
  o.reconnect_min_s = 0.1;
  o.reconnect_max_s = 0.4;  // short, so the tests do not wait for the back-off
  return o;
}

std::vector<long long> numbers(const Subscriber& s) {
  std::vector<long long> v;
  for (const auto& m : s.messages()) v.push_back(std::stoll(m.payload));
  return v;
}

std::vector<long long> range(long long from, long long to) {
  std::vector<long long> v(static_cast<size_t>(to - from));
  std::iota(v.begin(), v.end(), from);
  return v;
}

// Waits until n different messages arrived.
bool wait_distinct(const Subscriber& s, size_t n, double timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (mqtttest::dedupe(numbers(s)).first.size() < n) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

bool wait_connected(MqttClient& c, double timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (c.stats().state != MqttClient::State::Connected) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

class MqttClientTest : public ::testing::TestWithParam<int> {};

TEST_P(MqttClientTest, MessagesArriveInOrder) {
  Broker broker;
  Subscriber sub(broker.port(), "t/#");
  Events ev;
  MqttClient c(options(broker, GetParam()), ev.handler());
  for (int i = 0; i < 500; ++i) c.publish("t/" + std::to_string(i % 3), std::to_string(i));
  ASSERT_TRUE(sub.wait_for(500, 10)) << sub.count() << " of 500 arrived";
  EXPECT_EQ(numbers(sub), range(0, 500));
  EXPECT_EQ(sub.messages()[4].topic, "t/1");
  EXPECT_TRUE(c.wait_drained(5));
  EXPECT_EQ(c.stop(1), 0u);
  EXPECT_EQ(c.stats().delivered, 500u);
  EXPECT_FALSE(ev.wait(MqttClient::Event::Kind::Connected, 0).empty());
}

TEST_P(MqttClientTest, MessagesQueuedWhileTheBrokerIsAwayArriveInOrderAfterItsRestart) {
  Broker broker;
  Subscriber sub(broker.port(), "t");
  Events ev;
  MqttClient c(options(broker, GetParam()), ev.handler());
  for (int i = 0; i < 20; ++i) c.publish("t", std::to_string(i));
  ASSERT_TRUE(sub.wait_for(20, 5));
  ASSERT_TRUE(c.wait_drained(5));
  broker.stop();
  const std::string lost = ev.wait(MqttClient::Event::Kind::Lost, 5);
  EXPECT_NE(lost.find(broker.address()), std::string::npos) << lost;
  EXPECT_NE(lost.find("retrying"), std::string::npos) << lost;
  for (int i = 20; i < 60; ++i) c.publish("t", std::to_string(i));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a few failed reconnects
  EXPECT_EQ(c.stats().queued, 40u) << "kept while the broker is away";
  EXPECT_NE(c.stats().state, MqttClient::State::Connected);
  broker.start();
  // The broker re-sends its persisted session to the subscriber after the
  // restart, so the subscriber may see some of 0..19 again; the client resent
  // nothing (it had nothing in flight at the stop).
  ASSERT_TRUE(wait_distinct(sub, 60, 10));
  const auto got = numbers(sub);
  EXPECT_EQ(mqtttest::dedupe(got).first, range(0, 60)) << "no loss, first arrivals in order";
  for (size_t i = 20; i < got.size(); ++i) {
    const long long v = got[i];
    if (std::count(got.begin(), got.begin() + static_cast<long>(i), v)) {
      EXPECT_LT(v, 20) << "a repeat of a message sent after the stop";
    }
  }
  EXPECT_EQ(c.stats().connects, 2u);
}

TEST_P(MqttClientTest, OverflowWhileAwayKeepsTheNewestAndCountsTheDropped) {
  Broker broker;
  Subscriber sub(broker.port(), "t");
  auto o = options(broker, GetParam());
  o.max_queued = 10;
  MqttClient c(o, nullptr);
  ASSERT_TRUE(wait_connected(c, 5));
  broker.stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  for (int i = 0; i < 30; ++i) EXPECT_EQ(c.publish("t", std::to_string(i)), i >= 10) << i;
  EXPECT_EQ(c.stats().dropped, 20u);
  broker.start();
  ASSERT_TRUE(sub.wait_for(10, 10));
  EXPECT_TRUE(c.wait_drained(5));
  EXPECT_EQ(numbers(sub), range(20, 30)) << "the oldest were dropped";
}

INSTANTIATE_TEST_SUITE_P(Qos, MqttClientTest, ::testing::Values(0, 1),
                         [](const auto& info) { return "qos" + std::to_string(info.param); });

// The broker stops (SIGTERM) while messages stream at ~1 per ms and comes
// back 0.5 s later on the same port. QoS 1: every message arrives, first
// arrivals in order; repeats only of messages in flight at the stop.
TEST(MqttClientRestart, Qos1MidStreamLosesNothingAndKeepsOrder) {
  Broker broker;
  Subscriber sub(broker.port(), "t");
  MqttClient c(options(broker, 1), nullptr);
  const int n = 1500;
  std::thread producer([&] {
    for (int i = 0; i < n; ++i) {
      c.publish("t", std::to_string(i));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  ASSERT_TRUE(sub.wait_for(200, 5));
  broker.stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  broker.start();
  producer.join();
  EXPECT_TRUE(c.wait_drained(10)) << c.stats().queued << " left";
  ASSERT_TRUE(wait_distinct(sub, n, 5));
  const auto all = mqtttest::dedupe(numbers(sub));
  EXPECT_EQ(all.first, range(0, n)) << "all arrive, first arrivals in order";
  EXPECT_LE(all.repeats, 20u) << "repeats only of the in-flight window (max_inflight 20)";
  std::printf("[ measured ] QoS 1 restart: %d messages, %zu lost, %zu repeated\n", n,
              n - all.first.size(), all.repeats);
}

// QoS 0 across the same restart: at most once. What arrives is in order
// without repeats; all messages published after the restart arrive.
TEST(MqttClientRestart, Qos0MidStreamKeepsOrderWithoutRepeats) {
  Broker broker;
  Subscriber sub(broker.port(), "t");
  MqttClient c(options(broker, 0), nullptr);
  const int n = 1500;
  std::thread producer([&] {
    for (int i = 0; i < n; ++i) {
      c.publish("t", std::to_string(i));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  ASSERT_TRUE(sub.wait_for(200, 5));
  broker.stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  broker.start();
  producer.join();
  EXPECT_TRUE(c.wait_drained(10));
  for (int i = 0; i < 500 && (numbers(sub).empty() || numbers(sub).back() != n - 1); ++i)  // the last one, 5 s at most
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const auto got = numbers(sub);
  ASSERT_FALSE(got.empty());
  EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
  EXPECT_EQ(std::adjacent_find(got.begin(), got.end()), got.end()) << "no repeats at QoS 0";
  EXPECT_EQ(got.back(), n - 1) << "publishing resumed after the restart";
  std::printf("[ measured ] QoS 0 restart: %d messages, %zu lost, 0 repeated\n", n, n - got.size());
}

TEST(MqttClientErrors, AnUnreachableBrokerIsReportedOnceWithItsAddressAndRetried) {
  const int port = mqtttest::free_port();  // nobody listens there
  MqttClient::Options o;
  o.address = BrokerAddress{"127.0.0.1", port};
  o.reconnect_min_s = 0.05;
  o.reconnect_max_s = 0.1;
  Events ev;
  MqttClient c(o, ev.handler());
  c.publish("t", "0");
  const std::string text = ev.wait(MqttClient::Event::Kind::Unreachable, 5);
  EXPECT_NE(text.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << text;
  EXPECT_NE(text.find("not reachable"), std::string::npos) << text;
  EXPECT_NE(text.find("retrying"), std::string::npos) << text;
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // several more attempts
  {
    std::lock_guard<std::mutex> lock(ev.mutex);
    EXPECT_EQ(ev.list.size(), 1u) << "one report per outage, not one per attempt";
  }
  EXPECT_EQ(c.stats().state, MqttClient::State::Retrying);
  EXPECT_EQ(c.stop(0.1), 1u) << "the unsent message is counted";
}

TEST(MqttClientErrors, AWrongPasswordIsARefusedLoginNamingBrokerAndCredentialsFile) {
  test::TempDir dir;
  Broker broker(Broker::Options{mqtttest::make_password_file(dir, "cam", "right"), 0});
  const std::string creds = dir.write("creds", "cam:wrong\n");
  MqttClient::Options o;
  o.address = BrokerAddress{"127.0.0.1", broker.port()};
  o.credentials = read_credentials(creds);
  o.credentials_file = creds;
  Events ev;
  MqttClient c(o, ev.handler());
  c.publish("t", "0");
  const std::string text = ev.wait(MqttClient::Event::Kind::Refused, 5);
  EXPECT_NE(text.find(broker.address()), std::string::npos) << text;
  EXPECT_NE(text.find(creds), std::string::npos) << text;
  EXPECT_NE(text.find("refused the login"), std::string::npos) << text;
  EXPECT_EQ(text.find("wrong"), std::string::npos) << "never the password: " << text;
  EXPECT_EQ(c.stats().state, MqttClient::State::Refused);
  EXPECT_FALSE(c.wait_drained(5)) << "returns at once after a refusal";

  // The right password is accepted (the login path works).
  o.credentials = read_credentials(dir.write("good", "cam:right\n"));
  MqttClient ok(o, nullptr);
  ok.publish("t", "1");
  EXPECT_TRUE(ok.wait_drained(5));
  EXPECT_EQ(ok.stats().delivered, 1u);
}

TEST(MqttClientErrors, AnUnreadableCaFileIsAnErrorNamingIt) {
  MqttClient::Options o;
  o.address = BrokerAddress{"127.0.0.1", 1};
  o.ca_file = "/no/such/ca.pem";
  test::expect_error<InputError>([&] { MqttClient c(o, nullptr); }, {"/no/such/ca.pem"});
}

}  // namespace
}  // namespace advad
