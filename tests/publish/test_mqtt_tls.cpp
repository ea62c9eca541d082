// MqttClient over TLS against a real mosquitto broker on 127.0.0.1 whose TLS
// listener uses a throwaway CA and server certificate made by the test
// (openssl command line): messages arrive in order with ca_file = that CA; a
// different CA, or a certificate not issued for 127.0.0.1, fails the
// handshake with a warning naming the broker, the reason and the ca_file, and
// nothing is delivered; a plain TCP client gets a clear warning, not a hang,
// and so does a TLS client against a plain listener.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "mqtt_test_broker.h"
#include "publish/mqtt_client.h"

namespace advad {
namespace {

using mqtttest::Broker;
using mqtttest::Subscriber;

using TlsEvents = mqtttest::ClientEvents;

MqttClient::Options tls_options(const Broker& b, const std::string& ca_file) {
  MqttClient::Options o;
  o.address = BrokerAddress{"127.0.0.1", b.port()};
  o.ca_file = ca_file;
  o.reconnect_min_s = 0.1;
  o.reconnect_max_s = 0.4;
  o.connect_timeout_s = 2;  // a handshake that hangs would show as "no answer" within the tests' waits
  return o;
}

class MqttTls : public ::testing::Test {
 protected:
  test::TempDir dir{"mqtt-tls"};
  const mqtttest::TlsFiles tls = mqtttest::make_server_tls(dir);
};

TEST_F(MqttTls, WithTheBrokersCaMessagesArriveInOrder) {
  Broker broker(Broker::Options{}, tls);
  Subscriber sub(broker.port(), "t/#", tls.ca_file);
  TlsEvents ev;
  MqttClient c(tls_options(broker, tls.ca_file), ev.handler());
  const int n = 200;
  for (int i = 0; i < n; ++i) c.publish("t/" + std::to_string(i % 2), std::to_string(i));
  ASSERT_TRUE(sub.wait_for(n, 10)) << sub.count() << " of " << n << " arrived; broker log:\n" << broker.log();
  const auto msgs = sub.messages();
  for (int i = 0; i < n; ++i) EXPECT_EQ(msgs[static_cast<size_t>(i)].payload, std::to_string(i)) << "in order";
  EXPECT_EQ(msgs[3].topic, "t/1");
  EXPECT_TRUE(c.wait_drained(5));
  EXPECT_EQ(c.stop(1), 0u);
  EXPECT_EQ(c.stats().delivered, static_cast<std::uint64_t>(n));
  EXPECT_EQ(c.stats().connects, 1u);
  const auto e = ev.first(0);
  EXPECT_EQ(e.kind, MqttClient::Event::Kind::Connected) << e.text;
}

// A wrong CA, and a certificate from the right CA that does not name the
// host the client connects to: both fail the handshake ("certificate verify
// failed"); one warning per outage, then retries; nothing is delivered.
void expect_untrusted(const Broker& broker, const Subscriber& sub, const std::string& ca_file) {
  TlsEvents ev;
  MqttClient c(tls_options(broker, ca_file), ev.handler());
  c.publish("t", "0");
  const auto e = ev.first(5);
  const std::string& text = e.text;
  std::printf("[ event    ] %s\n", text.c_str());
  EXPECT_EQ(e.kind, MqttClient::Event::Kind::Unreachable) << text;
  EXPECT_NE(text.find("TLS handshake with MQTT broker " + broker.address() + " failed"), std::string::npos) << text;
  EXPECT_NE(text.find("certificate verify failed"), std::string::npos) << text;
  EXPECT_NE(text.find("not trusted"), std::string::npos) << text;
  EXPECT_NE(text.find("ca-file '" + ca_file + "'"), std::string::npos) << text;
  EXPECT_NE(text.find("retrying"), std::string::npos) << text;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // more failed attempts
  const auto s = c.stats();
  EXPECT_EQ(s.state, MqttClient::State::Retrying);
  EXPECT_NE(s.last_error.find("certificate verify failed"), std::string::npos) << s.last_error;
  EXPECT_EQ(s.connects, 0u);
  EXPECT_EQ(s.delivered, 0u);
  {
    std::lock_guard<std::mutex> lock(ev.mutex);
    EXPECT_EQ(ev.list.size(), 1u) << "one report per outage";
  }
  EXPECT_EQ(c.stop(0.1), 1u) << "the message was not delivered";
  EXPECT_EQ(sub.count(), 0u);
}

TEST_F(MqttTls, AnotherCaIsAnUntrustedCertificateNamingBrokerAndCaFile) {
  Broker broker(Broker::Options{}, tls);
  Subscriber sub(broker.port(), "t", tls.ca_file);
  expect_untrusted(broker, sub, mqtttest::make_ca(dir, "other-ca"));
}

TEST_F(MqttTls, ACertificateNotIssuedForTheBrokersAddressIsUntrusted) {
  // Signed by the CA the client trusts, but for another host only.
  const auto elsewhere = mqtttest::make_server_tls(dir, "ca2", "DNS:broker.example");
  Broker broker(Broker::Options{}, elsewhere);
  TlsEvents ev;
  MqttClient c(tls_options(broker, elsewhere.ca_file), ev.handler());
  c.publish("t", "0");
  const auto e = ev.first(5);
  std::printf("[ event    ] %s\n", e.text.c_str());
  EXPECT_NE(e.text.find("TLS handshake with MQTT broker " + broker.address() + " failed"), std::string::npos) << e.text;
  EXPECT_NE(e.text.find("certificate verify failed"), std::string::npos) << e.text;
  EXPECT_NE(e.text.find("not issued for host '127.0.0.1'"), std::string::npos) << e.text;
  EXPECT_EQ(c.stats().connects, 0u);
  EXPECT_EQ(c.stop(0.1), 1u);
}

TEST_F(MqttTls, APlainTcpClientAgainstTheTlsListenerIsAClearWarningNotAHang) {
  Broker broker(Broker::Options{}, tls);
  Subscriber sub(broker.port(), "t", tls.ca_file);
  TlsEvents ev;
  const auto t0 = std::chrono::steady_clock::now();
  MqttClient c(tls_options(broker, ""), ev.handler());
  c.publish("t", "0");
  const auto e = ev.first(5);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ event    ] %s (after %.2f s)\n", e.text.c_str(), s);
  EXPECT_EQ(e.kind, MqttClient::Event::Kind::Unreachable) << e.text;
  EXPECT_NE(e.text.find("MQTT broker " + broker.address()), std::string::npos) << e.text;
  EXPECT_NE(e.text.find("set ca-file"), std::string::npos) << e.text;
  EXPECT_LT(s, 3) << "reported promptly";
  EXPECT_EQ(c.stats().connects, 0u);
  EXPECT_EQ(c.stop(0.1), 1u);
  EXPECT_EQ(sub.count(), 0u);
}

TEST_F(MqttTls, ATlsClientAgainstAPlainListenerIsAWarningNamingTheCaFile) {
  Broker broker;
  TlsEvents ev;
  MqttClient c(tls_options(broker, tls.ca_file), ev.handler());
  c.publish("t", "0");
  const auto e = ev.first(5);
  std::printf("[ event    ] %s\n", e.text.c_str());
  EXPECT_EQ(e.kind, MqttClient::Event::Kind::Unreachable) << e.text;
  EXPECT_NE(e.text.find(broker.address()), std::string::npos) << e.text;
  EXPECT_NE(e.text.find("TLS handshake with MQTT broker"), std::string::npos) << e.text;
  EXPECT_NE(e.text.find("ca-file '" + tls.ca_file + "'"), std::string::npos) << e.text;
  EXPECT_NE(e.text.find("speaks TLS"), std::string::npos) << e.text;
  EXPECT_EQ(c.stats().connects, 0u);
  EXPECT_EQ(c.stop(0.1), 1u);
}

}  // namespace
}  // namespace advad
