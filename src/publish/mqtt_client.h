// MqttClient: delivers queued messages to one MQTT broker from its own thread,
// so whoever calls publish() (the video thread) never waits for the network.
//
// Delivery: messages leave in the order they were added. A message stays in
// the client's queue until libmosquitto took it (QoS 0: written to the
// socket) or the broker acknowledged it (QoS 1 and 2: PUBACK / PUBCOMP).
// When the connection drops, the client reconnects with exponential back-off
// (reconnect_min_s doubling up to reconnect_max_s) on a fresh, clean session
// and sends again, from the oldest, everything not yet taken/acknowledged:
//  * QoS 1/2: at least once, in order. The messages that were in flight
//    (sent, not acknowledged; at most max_inflight) when the link broke are
//    sent again, so the broker can see them twice (QoS 2 too: sessions are
//    clean, so the broker cannot recognise a resend).
//  * QoS 0: at most once. Messages written to a socket the broker had
//    already lost are gone; those queued while the broker was away are sent,
//    in order, after the reconnect.
// The queue holds at most max_queued messages; beyond that publish() drops
// the oldest (counted in dropped()).
// A refused login (CONNACK "not authorised" / "bad user name or password")
// stops the client: it is a configuration fault that retrying cannot fix.
// TLS (ca_file set): libmosquitto checks the broker's certificate against the
// CAs in ca_file and the host name / IP address the client connects to; no
// client certificate is sent. A failed handshake is reported like an
// unreachable broker (one event per outage, then retries), with OpenSSL's
// reason and the ca_file named.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "publish/broker_address.h"
#include "publish/credentials.h"
#include "publish/message_queue.h"

struct mosquitto;

namespace advad {

class MqttClient {
 public:
  struct Options {
    BrokerAddress address;
    std::string client_id;                  // "" = default_client_id()
    std::optional<Credentials> credentials;  // none = anonymous
    std::string credentials_file;           // named in the refused-login message
    std::string ca_file;                    // "" = plain TCP; else TLS, the broker checked against these CAs
    int qos = 1;                            // 0..2
    std::size_t max_queued = 1000;
    std::size_t max_inflight = 20;          // QoS >= 1: sent and not yet acknowledged
    int keepalive_s = 30;
    double reconnect_min_s = 0.25;
    double reconnect_max_s = 10.0;
    double connect_timeout_s = 10.0;        // no CONNACK by then: the attempt failed
  };
  enum class State { Connecting, Connected, Retrying, Refused, Stopped };
  struct Event {
    enum class Kind {
      Connected,    // CONNACK accepted (also after an outage)
      Unreachable,  // the first failed attempt of an outage that began before any connection
      Lost,         // a working connection broke (first failure of the outage)
      Refused       // login refused; the client stops
    };
    Kind kind;
    std::string text;  // a sentence naming the broker (and the credentials file)
  };
  using EventHandler = std::function<void(const Event&)>;
  struct Stats {
    State state = State::Connecting;
    std::string last_error;
    std::size_t queued = 0;        // not yet taken / acknowledged
    std::uint64_t delivered = 0;   // taken (QoS 0) or acknowledged (QoS >= 1)
    std::uint64_t dropped = 0;     // dropped by the full queue
    std::uint64_t connects = 0;    // successful connections
  };

  // Starts the sending thread. Throws InputError for options that can never
  // work (qos outside 0..2, an unreadable ca_file). `on_event` runs on the
  // sending thread; it must not call back into the client.
  MqttClient(Options options, EventHandler on_event);
  ~MqttClient();  // stop(0)
  MqttClient(const MqttClient&) = delete;
  MqttClient& operator=(const MqttClient&) = delete;

  // Queues one message; true when the oldest queued message was dropped for it.
  bool publish(std::string topic, std::string payload);
  // Waits up to timeout_s for the queue to empty; false if it did not (or the login was refused).
  bool wait_drained(double timeout_s);
  // wait_drained(flush_timeout_s), then disconnects and ends the thread.
  // Returns how many messages were never taken / acknowledged.
  std::size_t stop(double flush_timeout_s);
  Stats stats() const;

  // "advad-<pid>-<n>", n counting the clients made in this process.
  static std::string default_client_id();

 private:
  void run();
  bool begin_connect(std::string* error);
  void send_more();
  void went_down(std::string reason);  // by value: callers pass down_reason_, which it clears
  void set_state(State s, const std::string& error);
  std::string describe(int rc) const;
  static void on_connect(mosquitto*, void* self, int rc);
  static void on_disconnect(mosquitto*, void* self, int rc);
  static void on_publish(mosquitto*, void* self, int mid);
  static void on_log(mosquitto*, void* self, int level, const char* text);

  const Options o_;
  const EventHandler on_event_;
  MessageQueue queue_;
  std::thread thread_;

  mutable std::mutex mutex_;  // guards the members below up to the thread-only ones; wake_ waits on it
  std::condition_variable wake_;
  bool stop_ = false;
  State state_ = State::Connecting;
  std::string last_error_;
  std::atomic<std::uint64_t> delivered_{0}, connects_{0};

  // Only the sending thread (and libmosquitto's callbacks, which run on it) touch these.
  mosquitto* mosq_ = nullptr;
  bool connected_ = false;                         // CONNACK accepted on mosq_
  std::optional<std::string> down_reason_;         // set by a callback; handled after mosquitto_loop
  bool refused_ = false;
  std::string tls_error_;                          // OpenSSL's first error on mosq_ (from libmosquitto's log)
  std::unordered_map<int, std::uint64_t> inflight_;  // message id -> queue seq (QoS >= 1)
  std::uint64_t handed_upto_ = 0;                  // highest seq given to libmosquitto on this connection
  bool outage_reported_ = false;
  bool ever_connected_ = false;
  double delay_s_ = 0;
};

const char* mqtt_state_name(MqttClient::State s);

}  // namespace advad
