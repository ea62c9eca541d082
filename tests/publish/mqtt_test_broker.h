// Test helpers for MQTT publishing: a real mosquitto broker process on a free
// 127.0.0.1 port (stopped and restarted at will, on the same port), and a
// libmosquitto subscriber that collects what arrives. No mocks.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <string>
#include <vector>

#include "publish/mqtt_client.h"
#include "test_support.h"

struct mosquitto;
struct mosquitto_message;

namespace advad::mqtttest {

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then closed).
int free_port();

// Throwaway TLS material made at run time with the openssl command line (EC
// prime256v1 keys, valid 2 days): a CA, and a server certificate signed by it.
struct TlsFiles {
  std::string ca_file;    // the CA's certificate (PEM): what a client trusts
  std::string cert_file;  // the server's certificate
  std::string key_file;   // the server's private key
};
// A self-signed CA "<name>.pem" (+ "<name>.key") in dir; returns the .pem path.
std::string make_ca(const advad::test::TempDir& dir, const std::string& name);
// make_ca(dir, name) and a server certificate "<name>-server.pem" signed by it
// whose subjectAltName is `san` (default: the broker's 127.0.0.1 and localhost).
TlsFiles make_server_tls(const advad::test::TempDir& dir, const std::string& name = "ca",
                         const std::string& san = "IP:127.0.0.1,DNS:localhost");

class Broker {
 public:
  struct Options {
    std::string password_file;  // non-empty: logins checked against it (mosquitto_passwd), no anonymous
    int port = 0;               // 0 = free_port()
  };
  // Starts /usr/sbin/mosquitto and waits (at most 5 s) until it accepts
  // connections. It keeps sessions on disk (persistence; saved when it is
  // stopped with SIGTERM), so a subscriber's session and the messages queued
  // for it survive a restart.
  // With tls.cert_file, the listener speaks TLS only (no client certificates asked for).
  explicit Broker(Options options, const TlsFiles& tls = {});
  Broker() : Broker(Options{}) {}
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  void start();                   // (again) on the same port; fails the test if it does not come up
  void stop(int sig = SIGTERM);   // and waits for the process to end
  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string log() const;        // what the broker printed

 private:
  advad::test::TempDir dir_{"mqtt"};
  int port_ = 0;
  pid_t pid_ = -1;
};

// Writes a mosquitto password file with one user (mosquitto_passwd -b -c).
std::string make_password_file(const advad::test::TempDir& dir, const std::string& user, const std::string& password);

struct Received {
  std::string topic;
  std::string payload;
};

// Subscribes to `filter` at QoS 1 with a persistent session (fixed client id,
// clean session off), so messages published while it reconnects after a
// broker restart are kept for it. Connected and subscribed (SUBACK) when the
// constructor returns; reconnects on its own (libmosquitto's thread).
// With ca_file it connects over TLS, checking the broker against that CA.
class Subscriber {
 public:
  Subscriber(int port, const std::string& filter, const std::string& ca_file = "");
  ~Subscriber();
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  std::vector<Received> messages() const;
  std::size_t count() const;
  // Waits until at least n messages arrived (or timeout_s); true if they did.
  bool wait_for(std::size_t n, double timeout_s) const;

 private:
  static void on_connect(mosquitto*, void*, int);
  static void on_subscribe(mosquitto*, void*, int, int, const int*);
  static void on_message(mosquitto*, void*, const mosquitto_message*);
  std::string filter_;
  mosquitto* mosq_ = nullptr;
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  bool subscribed_ = false;
  std::vector<Received> messages_;
};

// The integers of `values` in first-arrival order with repeats removed, and how many repeats there were.
struct Deduped {
  std::vector<long long> first;
  std::size_t repeats = 0;
};
Deduped dedupe(const std::vector<long long>& values);

// A client's events, for the test thread to wait on.
struct ClientEvents {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<MqttClient::Event> list;
  MqttClient::EventHandler handler() {
    return [this](const MqttClient::Event& e) {
      std::lock_guard<std::mutex> lock(mutex);
      list.push_back(e);
      cv.notify_all();
    };
  }
  // The text of the last event of `kind` within timeout_s, "" if none.
  std::string wait(MqttClient::Event::Kind kind, double timeout_s) {
    std::unique_lock<std::mutex> lock(mutex);
    std::string text;
    cv.wait_for(lock, std::chrono::duration<double>(timeout_s), [&] {
      for (const auto& e : list)
        if (e.kind == kind) text = e.text;
      return !text.empty();
    });
    return text;
  }
  // The first event within timeout_s; kind Connected with empty text if none.
  MqttClient::Event first(double timeout_s) {
    std::unique_lock<std::mutex> lock(mutex);
    if (!cv.wait_for(lock, std::chrono::duration<double>(timeout_s), [&] { return !list.empty(); }))
      return {MqttClient::Event::Kind::Connected, ""};
    return list.front();
  }
};

}  // namespace advad::mqtttest
