#include "publish/mqtt_client.h"

#include <mosquitto.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>

#include "core/error.h"

namespace advad {

namespace {
using Clock = std::chrono::steady_clock;

std::chrono::nanoseconds seconds(double s) {
  return std::chrono::nanoseconds(static_cast<long long>(s * 1e9));
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}
}  // namespace

const char* mqtt_state_name(MqttClient::State s) {
  switch (s) {
    case MqttClient::State::Connecting: return "connecting";
    case MqttClient::State::Connected: return "connected";
    case MqttClient::State::Retrying: return "retrying";
    case MqttClient::State::Refused: return "refused";
    case MqttClient::State::Stopped: return "stopped";
  }
  return "?";
}

std::string MqttClient::default_client_id() {
  static std::atomic<unsigned> counter{0};
  return "advad-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
}

MqttClient::MqttClient(Options options, EventHandler on_event)
    : o_(std::move(options)), on_event_(std::move(on_event)), queue_(o_.max_queued) {
  if (o_.qos < 0 || o_.qos > 2) throw InputError("MQTT qos " + std::to_string(o_.qos) + " is not 0, 1 or 2");
  if (!o_.ca_file.empty() && !std::ifstream(o_.ca_file))
    throw InputError("CA file '" + o_.ca_file + "' cannot be read (missing or no permission)");
  static std::once_flag init;
  std::call_once(init, [] { mosquitto_lib_init(); });  // never cleaned up: other clients may live on
  delay_s_ = o_.reconnect_min_s;
  thread_ = std::thread([this] { run(); });
}

MqttClient::~MqttClient() { stop(0); }

bool MqttClient::publish(std::string topic, std::string payload) {
  return queue_.push(std::move(topic), std::move(payload));
}

bool MqttClient::wait_drained(double timeout_s) {
  const auto deadline = Clock::now() + seconds(std::max(timeout_s, 0.0));
  for (;;) {
    if (queue_.size() == 0) return true;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (state_ == State::Refused || state_ == State::Stopped) return false;
    }
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling: nothing else waits on delivery
  }
}

std::size_t MqttClient::stop(double flush_timeout_s) {
  if (thread_.joinable()) {
    wait_drained(flush_timeout_s);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
    set_state(State::Stopped, "");
  }
  return queue_.size();
}

MqttClient::Stats MqttClient::stats() const {
  Stats s;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    s.state = state_;
    s.last_error = last_error_;
  }
  s.queued = queue_.size();
  s.delivered = delivered_;
  s.dropped = queue_.dropped();
  s.connects = connects_;
  return s;
}

void MqttClient::set_state(State s, const std::string& error) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (state_ == State::Refused && s != State::Stopped) return;
  state_ = s;
  if (!error.empty()) last_error_ = error;
}

std::string MqttClient::describe(int rc) const {
  if (!tls_error_.empty() && !connected_) {
    // The handshake failed; OpenSSL logged why ("error:0A000086:SSL routines::certificate verify failed").
    const std::string why = tls_error_.substr(tls_error_.rfind(':') + 1);
    if (why.find("certificate verify failed") != std::string::npos)
      return why + " (the broker's certificate is not trusted: not signed by a CA in ca-file '" + o_.ca_file +
             "', or not issued for host '" + o_.address.host + "')";
    return why + "; check ca-file '" + o_.ca_file + "' and that the broker's listener speaks TLS";
  }
  if (rc == MOSQ_ERR_CONN_LOST && !connected_ && o_.ca_file.empty())
    return "the broker closed the connection without answering the CONNECT; if its listener expects TLS, set ca-file";
  if (rc == MOSQ_ERR_TLS)
    return std::string(mosquitto_strerror(rc)) + " (check ca-file '" + o_.ca_file +
           "' and that the broker's listener speaks TLS)";
  if (rc == MOSQ_ERR_ERRNO) return std::strerror(errno);
  return mosquitto_strerror(rc);
}

void MqttClient::on_connect(mosquitto*, void* obj, int rc) {
  auto* self = static_cast<MqttClient*>(obj);
  const std::string broker = "MQTT broker " + self->o_.address.text();
  if (rc == 0) {
    self->connected_ = true;
    self->ever_connected_ = true;
    self->outage_reported_ = false;
    self->delay_s_ = self->o_.reconnect_min_s;
    ++self->connects_;
    self->set_state(State::Connected, "");
    if (self->on_event_) self->on_event_({Event::Kind::Connected, "connected to " + broker});
    return;
  }
  if (rc == 4 || rc == 5) {  // CONNACK: bad user name or password / not authorised
    self->refused_ = true;
    const std::string text =
        broker + " refused the login (" + mosquitto_connack_string(rc) + ") " +
        (self->o_.credentials ? "for user '" + self->o_.credentials->username + "' from credentials file '" +
                                    self->o_.credentials_file + "'"
                              : std::string("without credentials (set 'credentials' to a username:password file)"));
    self->set_state(State::Refused, text);
    self->down_reason_ = text;
    if (self->on_event_) self->on_event_({Event::Kind::Refused, text});
    return;
  }
  self->down_reason_ = broker + " refused the connection: " + mosquitto_connack_string(rc);
}

void MqttClient::on_disconnect(mosquitto*, void* obj, int rc) {
  auto* self = static_cast<MqttClient*>(obj);
  if (!self->down_reason_)
    self->down_reason_ = rc == 0 ? std::string("disconnected") : self->describe(rc);
}

void MqttClient::on_log(mosquitto*, void* obj, int level, const char* text) {
  auto* self = static_cast<MqttClient*>(obj);
  if (level == MOSQ_LOG_ERR && self->tls_error_.empty() && std::strncmp(text, "OpenSSL Error", 13) == 0)
    self->tls_error_ = text;
}

void MqttClient::on_publish(mosquitto*, void* obj, int mid) {
  auto* self = static_cast<MqttClient*>(obj);
  auto it = self->inflight_.find(mid);
  if (it == self->inflight_.end()) return;  // QoS 0 (counted when taken)
  if (self->queue_.remove(it->second)) ++self->delivered_;  // else dropped by overflow meanwhile
  self->inflight_.erase(it);
}

bool MqttClient::begin_connect(std::string* error) {
  mosq_ = mosquitto_new(o_.client_id.empty() ? default_client_id().c_str() : o_.client_id.c_str(), true, this);
  if (!mosq_) {
    *error = std::string("cannot create an MQTT client: ") + std::strerror(errno);
    return false;
  }
  mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  // libmosquitto's own window equals ours, so it never holds messages the queue does not know about.
  mosquitto_max_inflight_messages_set(mosq_, static_cast<unsigned>(o_.max_inflight));
  mosquitto_connect_callback_set(mosq_, on_connect);
  mosquitto_disconnect_callback_set(mosq_, on_disconnect);
  mosquitto_publish_callback_set(mosq_, on_publish);
  mosquitto_log_callback_set(mosq_, on_log);
  tls_error_.clear();
  if (o_.credentials)
    mosquitto_username_pw_set(mosq_, o_.credentials->username.c_str(), o_.credentials->password.c_str());
  if (!o_.ca_file.empty()) {
    const int rc = mosquitto_tls_set(mosq_, o_.ca_file.c_str(), nullptr, nullptr, nullptr, nullptr);
    if (rc != MOSQ_ERR_SUCCESS) {
      *error = "CA file '" + o_.ca_file + "' cannot be used for TLS: " + describe(rc);
      return false;
    }
  }
  // Non-blocking TCP connect: the loop below sees it finish (or fail).
  const int rc = mosquitto_connect_async(mosq_, o_.address.host.c_str(), o_.address.port, o_.keepalive_s);
  if (rc != MOSQ_ERR_SUCCESS) {
    *error = describe(rc);
    return false;
  }
  return true;
}

void MqttClient::went_down(std::string reason) {
  const bool was_connected = connected_;
  const bool tls_failed = !tls_error_.empty() && !was_connected;
  tls_error_.clear();
  if (mosq_) mosquitto_destroy(mosq_);  // drops libmosquitto's copies: the queue still has every unacknowledged one
  mosq_ = nullptr;
  connected_ = false;
  down_reason_.reset();
  inflight_.clear();
  handed_upto_ = 0;  // send again from the oldest queued message
  if (refused_) return;
  const std::string broker = o_.address.text();
  set_state(State::Retrying, "MQTT broker " + broker + ": " + reason);
  if (!outage_reported_ && on_event_) {
    outage_reported_ = true;
    const std::string text =
        (tls_failed ? "TLS handshake with MQTT broker " + broker + " failed: " + reason
         : was_connected || ever_connected_
             ? "lost the connection to MQTT broker " + broker + " (" + reason + ")"
             : "MQTT broker " + broker + " is not reachable (" + reason + ")") +
        "; retrying with back-off up to " + seconds_text(o_.reconnect_max_s) + " s, keeping up to " +
        std::to_string(o_.max_queued) + " messages (the oldest are dropped beyond that)";
    on_event_({ever_connected_ ? Event::Kind::Lost : Event::Kind::Unreachable, text});
  }
}

void MqttClient::send_more() {
  while (connected_ && (o_.qos == 0 || inflight_.size() < o_.max_inflight)) {
    const std::optional<QueuedMessage> m = queue_.next_after(handed_upto_);
    if (!m) return;
    int mid = 0;
    const int rc = mosquitto_publish(mosq_, &mid, m->topic.c_str(), static_cast<int>(m->payload.size()),
                                     m->payload.data(), o_.qos, false);
    if (rc == MOSQ_ERR_SUCCESS) {
      handed_upto_ = m->seq;
      if (o_.qos == 0) {
        if (queue_.remove(m->seq)) ++delivered_;
      } else {
        inflight_[mid] = m->seq;
      }
    } else if (rc == MOSQ_ERR_PAYLOAD_SIZE || rc == MOSQ_ERR_INVAL || rc == MOSQ_ERR_MALFORMED_UTF8 ||
               rc == MOSQ_ERR_OVERSIZE_PACKET) {
      // This message can never be sent; dropping it keeps it from blocking the rest.
      queue_.remove(m->seq);
      handed_upto_ = m->seq;
      set_state(State::Connected, "message to topic '" + m->topic + "' not sendable: " + describe(rc));
    } else {
      down_reason_ = describe(rc);
      return;
    }
  }
}

void MqttClient::run() {
  auto next_attempt = Clock::now();
  auto handshake_deadline = Clock::now();
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (stop_) break;
      if (!mosq_ && (refused_ || Clock::now() < next_attempt)) {
        // Back-off (or refused: nothing to do until stop).
        if (refused_)
          wake_.wait(lock, [this] { return stop_; });
        else
          wake_.wait_until(lock, next_attempt, [this] { return stop_; });
        continue;
      }
    }
    if (!mosq_) {
      std::string error;
      if (!begin_connect(&error)) {
        went_down(error);
        next_attempt = Clock::now() + seconds(delay_s_);
        delay_s_ = std::min(delay_s_ * 2, o_.reconnect_max_s);
        continue;
      }
      handshake_deadline = Clock::now() + seconds(o_.connect_timeout_s);
    }
    send_more();
    if (!down_reason_) {
      // 10 ms: how long a new message may wait before this thread looks at the queue again.
      const int rc = mosquitto_loop(mosq_, 10, 1);
      if (rc != MOSQ_ERR_SUCCESS && !down_reason_) down_reason_ = describe(rc);
    }
    if (!down_reason_ && !connected_ && Clock::now() > handshake_deadline)
      down_reason_ = "no answer (CONNACK) within " + seconds_text(o_.connect_timeout_s) + " s";
    if (down_reason_) {
      went_down(*down_reason_);
      next_attempt = Clock::now() + seconds(delay_s_);
      delay_s_ = std::min(delay_s_ * 2, o_.reconnect_max_s);
    }
  }
  if (mosq_) {
    if (connected_) {
      mosquitto_disconnect(mosq_);
      // Lets libmosquitto write what it holds (QoS 0 packets, DISCONNECT); it closes the socket after DISCONNECT.
      for (int i = 0; i < 50 && mosquitto_loop(mosq_, 10, 1) == MOSQ_ERR_SUCCESS; ++i) {
      }
    }
    mosquitto_destroy(mosq_);
    mosq_ = nullptr;
  }
}

}  // namespace advad
