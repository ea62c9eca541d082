#include "mqtt_test_broker.h"

#include <arpa/inet.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

extern char** environ;

namespace advad::mqtttest {

namespace {
sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

bool accepts(int port) {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in a = loopback(port);
  const bool ok = connect(s, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
  close(s);
  return ok;
}
}  // namespace

int free_port() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = loopback(0);
  socklen_t len = sizeof a;
  if (bind(s, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    close(s);
    ADD_FAILURE() << "cannot bind a port on 127.0.0.1";
    return 0;
  }
  close(s);
  return ntohs(a.sin_port);
}

namespace {
// Runs `cmd` (its output kept for the failure message); true on exit status 0.
bool run_quiet(const std::string& cmd, const std::string& log) {
  const int rc = std::system((cmd + " >'" + log + "' 2>&1").c_str());
  if (rc == 0) return true;
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  ADD_FAILURE() << cmd << " failed (" << rc << "):\n" << ss.str();
  return false;
}
}  // namespace

std::string make_ca(const advad::test::TempDir& dir, const std::string& name) {
  const std::string key = dir.file(name + ".key"), pem = dir.file(name + ".pem");
  run_quiet("openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -days 2 -subj '/CN=advad test " +
                name + "' -keyout '" + key + "' -out '" + pem + "'",
            dir.file(name + ".log"));
  return pem;
}

TlsFiles make_server_tls(const advad::test::TempDir& dir, const std::string& name, const std::string& san) {
  TlsFiles t;
  t.ca_file = make_ca(dir, name);
  const std::string base = dir.file(name + "-server");
  t.key_file = base + ".key";
  t.cert_file = base + ".pem";
  const std::string ext = dir.write(name + "-server.ext", "subjectAltName=" + san +
                                                              "\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
  const std::string log = base + ".log";
  if (run_quiet("openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -subj '/CN=advad test broker'"
                " -keyout '" + t.key_file + "' -out '" + base + ".csr'",
                log))
    run_quiet("openssl x509 -req -days 2 -in '" + base + ".csr' -CA '" + t.ca_file + "' -CAkey '" + dir.file(name + ".key") +
                  "' -CAcreateserial -extfile '" + ext + "' -out '" + t.cert_file + "'",
              log);
  return t;
}

Broker::Broker(Options options, const TlsFiles& tls) : port_(options.port ? options.port : free_port()) {
  std::ostringstream conf;
  conf << "listener " << port_ << " 127.0.0.1\n"
       << "user root\n"  // as root, mosquitto would otherwise switch to user mosquitto and lose our temp folder
       << "persistence true\npersistence_location " << dir_.str() << "/\n"
       << "queue_qos0_messages true\nmax_queued_messages 100000\n";
  if (!tls.cert_file.empty())
    conf << "cafile " << tls.ca_file << "\ncertfile " << tls.cert_file << "\nkeyfile " << tls.key_file
         << "\nrequire_certificate false\n";
  if (options.password_file.empty())
    conf << "allow_anonymous true\n";
  else
    conf << "allow_anonymous false\npassword_file " << options.password_file << "\n";
  dir_.write("mosquitto.conf", conf.str());
  start();
}

Broker::~Broker() {
  if (pid_ > 0) stop(SIGKILL);
}

void Broker::start() {
  if (pid_ > 0) return;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  const std::string log_file = dir_.file("broker.log");
  posix_spawn_file_actions_addopen(&fa, 1, log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  const std::string conf = dir_.file("mosquitto.conf");
  char* argv[] = {const_cast<char*>("/usr/sbin/mosquitto"), const_cast<char*>("-c"), const_cast<char*>(conf.c_str()),
                  nullptr};
  const int rc = posix_spawn(&pid_, argv[0], &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    pid_ = -1;
    ADD_FAILURE() << "cannot start /usr/sbin/mosquitto: " << std::strerror(rc);
    return;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      ADD_FAILURE() << "mosquitto exited at start:\n" << log();
      return;
    }
    if (accepts(port_)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << "mosquitto does not accept connections on port " << port_ << " after 5 s:\n" << log();
}

void Broker::stop(int sig) {
  if (pid_ <= 0) return;
  kill(pid_, sig);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  pid_ = -1;
}

std::string Broker::log() const {
  std::ifstream in(dir_.file("broker.log"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string make_password_file(const advad::test::TempDir& dir, const std::string& user, const std::string& password) {
  const std::string file = dir.file("passwords");
  const std::string cmd = "mosquitto_passwd -b -c '" + file + "' '" + user + "' '" + password + "' >/dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return file;
}

Subscriber::Subscriber(int port, const std::string& filter, const std::string& ca_file) : filter_(filter) {
  static std::once_flag init;
  std::call_once(init, [] { mosquitto_lib_init(); });
  static int n = 0;
  const std::string id = "advad-test-sub-" + std::to_string(getpid()) + "-" + std::to_string(n++);
  mosq_ = mosquitto_new(id.c_str(), false, this);
  mosquitto_connect_callback_set(mosq_, on_connect);
  mosquitto_subscribe_callback_set(mosq_, on_subscribe);
  mosquitto_message_callback_set(mosq_, on_message);
  mosquitto_reconnect_delay_set(mosq_, 1, 1, false);
  if (!ca_file.empty()) {
    EXPECT_EQ(mosquitto_tls_set(mosq_, ca_file.c_str(), nullptr, nullptr, nullptr, nullptr), MOSQ_ERR_SUCCESS);
  }
  EXPECT_EQ(mosquitto_connect(mosq_, "127.0.0.1", port, 30), MOSQ_ERR_SUCCESS);
  mosquitto_loop_start(mosq_);
  std::unique_lock<std::mutex> lock(mutex_);
  EXPECT_TRUE(cv_.wait_for(lock, std::chrono::seconds(5), [this] { return subscribed_; })) << "no SUBACK";
}

Subscriber::~Subscriber() {
  mosquitto_disconnect(mosq_);
  mosquitto_loop_stop(mosq_, false);
  mosquitto_destroy(mosq_);
}

void Subscriber::on_connect(mosquitto* m, void* obj, int rc) {
  auto* self = static_cast<Subscriber*>(obj);
  if (rc == 0) mosquitto_subscribe(m, nullptr, self->filter_.c_str(), 1);
}

void Subscriber::on_subscribe(mosquitto*, void* obj, int, int, const int*) {
  auto* self = static_cast<Subscriber*>(obj);
  std::lock_guard<std::mutex> lock(self->mutex_);
  self->subscribed_ = true;
  self->cv_.notify_all();
}

void Subscriber::on_message(mosquitto*, void* obj, const mosquitto_message* msg) {
  auto* self = static_cast<Subscriber*>(obj);
  std::lock_guard<std::mutex> lock(self->mutex_);
  self->messages_.push_back(
      {msg->topic, std::string(static_cast<const char*>(msg->payload), static_cast<size_t>(msg->payloadlen))});
  self->cv_.notify_all();
}

std::vector<Received> Subscriber::messages() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return messages_;
}

std::size_t Subscriber::count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return messages_.size();
}

bool Subscriber::wait_for(std::size_t n, double timeout_s) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return cv_.wait_for(lock, std::chrono::duration<double>(timeout_s), [&] { return messages_.size() >= n; });
}

Deduped dedupe(const std::vector<long long>& values) {
  Deduped d;
  std::set<long long> seen;
  for (long long v : values) {
    if (seen.insert(v).second)
      d.first.push_back(v);
    else
      ++d.repeats;
  }
  return d;
}

}  // namespace advad::mqtttest
