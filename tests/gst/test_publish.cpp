// advadpublish against a real mosquitto broker on 127.0.0.1: every frame's
// JSON line arrives in order (publish=all), only defect frames
// (publish=defects), a broker restart mid-stream keeps the pipeline running
// and publishing resumes, a bad address is an ERROR naming it, an
// unreachable broker is a WARNING and the pipeline reaches EOS (the queue
// drops the oldest beyond max-queued), a refused login is an ERROR, ca-file
// publishes over TLS to a broker with a throwaway certificate, and
// method=file writes the lines advadoverlay's json-location writes.
#include <gst/app/gstappsrc.h>
#include <gtest/gtest.h>

#include <algorithm>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "gst_test_util.h"
#include "mqtt_test_broker.h"

namespace advad::gsttest {
namespace {

using mqtttest::Broker;
using mqtttest::Subscriber;

class GstPublish : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { init_gstreamer(); }
  const std::string P = demo_profile_path();
  TempDir dir;

  // Runs `description` to EOS or ERROR; `published` gets the element "pub"'s count after the run.
  std::unique_ptr<BusRun> run(const std::string& description, guint64* published = nullptr,
                              guint64* dropped = nullptr) {
    GstElement* pipeline = launch(description);
    auto r = std::make_unique<BusRun>();
    if (!pipeline) return r;
    run_pipeline(pipeline, r.get(), "advad-detection", 30);
    if (GstElement* pub = gst_bin_get_by_name(GST_BIN(pipeline), "pub")) {
      if (published) g_object_get(pub, "published", published, nullptr);
      if (dropped) g_object_get(pub, "dropped", dropped, nullptr);
      gst_object_unref(pub);
    }
    gst_object_unref(pipeline);
    return r;
  }
  std::string source(int frames, const std::string& extra = "") const {
    return "videotestsrc num-buffers=" + std::to_string(frames) + " " + extra +
           " ! video/x-raw,format=RGB,width=96,height=64,framerate=20/1 ! advadinfer profile=" + P +
           " ! advadpostproc ";
  }
};

std::vector<nlohmann::json> payloads(const Subscriber& s) {
  std::vector<nlohmann::json> v;
  for (const auto& m : s.messages()) v.push_back(nlohmann::json::parse(m.payload));
  return v;
}

bool contains(const std::vector<std::string>& texts, const std::vector<std::string>& frags) {
  for (const auto& t : texts) {
    bool all = true;
    for (const auto& f : frags) all &= t.find(f) != std::string::npos;
    if (all) return true;
  }
  return false;
}

std::string joined(const std::vector<std::string>& texts) {
  std::string out;
  for (const auto& t : texts) out += t + "\n";
  return out;
}

TEST_F(GstPublish, EveryFramesLineArrivesInOrderOnTheExpandedTopic) {
  Broker broker;
  Subscriber sub(broker.port(), "advad/#");
  guint64 published = 0;
  auto r = run(source(12) + "! advadpublish name=pub source=cam-1 topic=advad/{source}/{category} address=" +
                   broker.address() + " ! fakesink",
               &published);
  ASSERT_FALSE(r->error) << r->error_text();
  ASSERT_TRUE(r->eos);
  EXPECT_EQ(published, 12u) << "EOS waited until the broker acknowledged every line";
  ASSERT_TRUE(sub.wait_for(12, 5)) << sub.count();
  const auto msgs = sub.messages();
  const auto lines = payloads(sub);
  ASSERT_EQ(lines.size(), 12u);
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i]["frame"], i) << "in order";
    EXPECT_EQ(lines[i]["source"], "cam-1");
    EXPECT_EQ(lines[i]["category"], "demo");
    EXPECT_TRUE(lines[i].contains("verdict"));
    EXPECT_EQ(msgs[i].topic, "advad/cam-1/demo");
  }
}

// TLS: a broker with a TLS listener (throwaway CA and server certificate made
// by the test); ca-file = that CA. Every frame's line arrives, in order.
TEST_F(GstPublish, CaFileConnectsOverTlsAndEveryFramesLineArrives) {
  const auto tls = mqtttest::make_server_tls(dir);
  Broker broker(Broker::Options{}, tls);
  Subscriber sub(broker.port(), "advad/#", tls.ca_file);
  guint64 published = 0;
  auto r = run(source(10) + "! advadpublish name=pub source=cam-tls ca-file=" + tls.ca_file + " address=" +
                   broker.address() + " ! fakesink",
               &published);
  ASSERT_FALSE(r->error) << r->error_text();
  ASSERT_TRUE(r->eos);
  EXPECT_TRUE(r->warnings.empty()) << joined(r->warnings);
  EXPECT_EQ(published, 10u);
  ASSERT_TRUE(sub.wait_for(10, 5)) << sub.count() << "; broker log:\n" << broker.log();
  const auto lines = payloads(sub);
  ASSERT_EQ(lines.size(), 10u);
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i]["frame"], i) << "in order";
    EXPECT_EQ(lines[i]["source"], "cam-tls");
  }
}

TEST_F(GstPublish, PublishDefectsSendsOnlyTheDefectFrames) {
  Broker broker;
  Subscriber sub(broker.port(), "advad/#");
  GstElement* pipeline = launch("appsrc name=src format=time caps=" + video_caps("RGB", 160, 120) +
                                " ! advadinfer profile=" + P + " ! advadpostproc ! advadpublish publish=defects address=" +
                                broker.address() + " ! fakesink");
  ASSERT_NE(pipeline, nullptr);
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  for (int i = 0; i < 6; ++i) {
    const bool defect = i == 1 || i == 4;
    ASSERT_EQ(gst_app_src_push_buffer(GST_APP_SRC(src), frame_buffer(make_synthetic_frame(160, 120, defect, 100 + i),
                                                                     "RGB", i * GST_SECOND / 10, GST_SECOND / 10)),
              GST_FLOW_OK);
  }
  gst_app_src_end_of_stream(GST_APP_SRC(src));
  gst_object_unref(src);
  BusRun r;
  run_pipeline(pipeline, &r);
  gst_object_unref(pipeline);
  ASSERT_FALSE(r.error) << r.error_text();
  ASSERT_TRUE(r.eos);
  ASSERT_TRUE(sub.wait_for(2, 5));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // nothing more may come
  const auto lines = payloads(sub);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["frame"], 1);
  EXPECT_EQ(lines[1]["frame"], 4);
  for (const auto& l : lines) EXPECT_EQ(l["verdict"], "defect");
  EXPECT_EQ(sub.messages()[0].topic, "advad/advadpublish0") << "default topic advad/{source}, source = element name";
}

// A live source spans the broker's stop and restart: the video keeps flowing
// (no ERROR, EOS on time), the element warns once, and every frame's line
// arrives (QoS 1), first arrivals in order.
TEST_F(GstPublish, ABrokerRestartMidStreamKeepsThePipelineRunningAndPublishingResumes) {
  Broker broker;
  Subscriber sub(broker.port(), "advad/#");
  std::atomic<size_t> at_stop{0};
  std::thread restarter([&] {
    if (!sub.wait_for(5, 10)) return;
    broker.stop();
    at_stop = sub.count();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    broker.start();
  });
  const gint64 t0 = g_get_monotonic_time();
  guint64 published = 0;
  auto r = run(source(40, "is-live=true") + "! advadpublish name=pub flush-timeout=10 address=" + broker.address() +
                   " ! fakesink",
               &published);
  const double seconds = static_cast<double>(g_get_monotonic_time() - t0) / 1e6;
  restarter.join();
  ASSERT_FALSE(r->error) << r->error_text();
  ASSERT_TRUE(r->eos);
  EXPECT_LT(seconds, 15) << "the video did not wait for the broker";
  EXPECT_TRUE(contains(r->warnings, {"lost the connection", broker.address(), "retrying"})) << joined(r->warnings);
  EXPECT_EQ(published, 40u) << "QoS 1: the broker acknowledged every frame's message";
  auto received = [&] {
    std::vector<long long> f;
    for (const auto& l : payloads(sub)) f.push_back(l["frame"].get<long long>());
    return mqtttest::dedupe(f);
  };
  for (int i = 0; i < 100 && received().first.size() < 40; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto d = received();
  EXPECT_TRUE(std::is_sorted(d.first.begin(), d.first.end())) << "first arrivals in order";
  // Publishing resumes: the last quarter, published well after the restart, all arrive.
  for (long long f = 30; f < 40; ++f)
    EXPECT_NE(std::find(d.first.begin(), d.first.end(), f), d.first.end()) << "frame " << f << " after the restart";
  // The subscriber's session survives the restart (the broker keeps it), so it gets what was sent meanwhile;
  // what the killed broker had acknowledged but not yet passed on is the broker's to lose (seen: 1 frame in ~10 runs).
  EXPECT_GE(d.first.size(), 38u) << "more than the broker's in-flight frames went missing";
  EXPECT_GT(at_stop.load(), 0u);
  EXPECT_LT(at_stop.load(), 40u) << "the broker stopped mid-stream";
  std::printf("[ measured ] restart: %zu lines before the stop, %zu of 40 frames received, %zu repeats, pipeline %.1f s\n",
              at_stop.load(), d.first.size(), d.repeats, seconds);
}

TEST_F(GstPublish, ABadAddressIsAnErrorNamingPropertyAndValue) {
  auto r = run(source(2) + "! advadpublish address=no-such-host.invalid:1883 ! fakesink");
  ASSERT_NE(r->error, nullptr);
  EXPECT_NE(r->error_text().find("address = 'no-such-host.invalid:1883'"), std::string::npos) << r->error_text();
  EXPECT_NE(r->error_text().find("does not resolve"), std::string::npos) << r->error_text();
  r = run(source(2) + "! advadpublish address=localhost:mqtt ! fakesink");
  ASSERT_NE(r->error, nullptr);
  EXPECT_NE(r->error_text().find("address = 'localhost:mqtt'"), std::string::npos) << r->error_text();
  EXPECT_NE(r->error_text().find("host:port"), std::string::npos) << r->error_text();
  r = run(source(2) + "! advadpublish topic=advad/{camera} ! fakesink");
  ASSERT_NE(r->error, nullptr);
  EXPECT_NE(r->error_text().find("{camera}"), std::string::npos) << r->error_text();
}

TEST_F(GstPublish, AnUnreachableBrokerIsAWarningAndThePipelineReachesEos) {
  const std::string address = "127.0.0.1:" + std::to_string(mqtttest::free_port());  // nobody listens
  guint64 published = 1, dropped = 0;
  auto r = run(source(10) + "! advadpublish name=pub max-queued=3 flush-timeout=0.3 address=" + address +
                   " ! fakesink",
               &published, &dropped);
  ASSERT_FALSE(r->error) << r->error_text();
  ASSERT_TRUE(r->eos);
  EXPECT_TRUE(contains(r->warnings, {address, "not reachable", "retrying"})) << joined(r->warnings);
  EXPECT_TRUE(contains(r->warnings, {"dropping the oldest"})) << joined(r->warnings);
  EXPECT_TRUE(contains(r->warnings, {"3 results were not delivered", address})) << joined(r->warnings);
  EXPECT_EQ(published, 0u);
  EXPECT_EQ(dropped, 7u) << "10 frames, 3 kept";
  size_t drop_warnings = 0;
  for (const auto& w : r->warnings) drop_warnings += w.find("dropping the oldest") != std::string::npos;
  EXPECT_EQ(drop_warnings, 1u) << "one warning per burst";
}

TEST_F(GstPublish, ARefusedLoginIsAnErrorNamingBrokerAndCredentialsFile) {
  Broker broker(Broker::Options{mqtttest::make_password_file(dir, "cam", "right"), 0});
  const std::string creds = dir.write("creds", "cam:wrong\n");
  auto r = run(source(20, "is-live=true") + "! advadpublish credentials=" + creds + " address=" + broker.address() +
               " ! fakesink");
  ASSERT_NE(r->error, nullptr);
  EXPECT_NE(r->error_text().find(broker.address()), std::string::npos) << r->error_text();
  EXPECT_NE(r->error_text().find(creds), std::string::npos) << r->error_text();
  EXPECT_NE(r->error_text().find("refused the login"), std::string::npos) << r->error_text();
  r = run(source(2) + "! advadpublish credentials=" + dir.file("missing") + " address=" + broker.address() +
          " ! fakesink");
  ASSERT_NE(r->error, nullptr);
  EXPECT_NE(r->error_text().find(dir.file("missing")), std::string::npos) << r->error_text();
}

TEST_F(GstPublish, MethodFileWritesTheLinesOfAdvadoverlaysJsonLocation) {
  const std::string a = dir.file("overlay.jsonl"), b = dir.file("publish.jsonl");
  auto r = run(source(6) + "! advadoverlay metadata-only=true source=s json-location=" + a +
               " ! advadpublish method=file source=s location=" + b + " ! fakesink");
  ASSERT_FALSE(r->error) << r->error_text();
  auto la = read_json_lines(a), lb = read_json_lines(b);
  ASSERT_EQ(la.size(), 6u);
  ASSERT_EQ(lb.size(), 6u);
  for (size_t i = 0; i < 6; ++i) {
    for (auto* l : {&la[i], &lb[i]})
      for (const char* k : {"run", "wallclock", "unix_time"}) l->erase(k);  // per element / per moment
    EXPECT_EQ(la[i], lb[i]) << i;
  }
  r = run(source(2) + "! advadpublish method=file location=" + b + " ! fakesink");
  ASSERT_FALSE(r->error) << r->error_text();
  EXPECT_EQ(read_json_lines(b).size(), 8u) << "appends";
}

}  // namespace
}  // namespace advad::gsttest
