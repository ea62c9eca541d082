// Bad inputs end in a clear GStreamer ERROR message on the bus (never a
// crash or a hang): missing / malformed profile, corrupt model, a model with
// the wrong output shape, unsupported caps.
#include <gtest/gtest.h>
#include <torch/script.h>

#include <fstream>
#include <sstream>

#include "core/profile.h"
#include "gst_test_util.h"

namespace advad::gsttest {
namespace {

class GstPipelineErrors : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { init_gstreamer(); }
  TempDir dir;

  // Runs `chain` fed by a few small test frames; expects an ERROR.
  // `feed` (optional) pushes into an appsrc named src before the run.
  void expect_error(const std::string& chain, GQuark domain, const std::vector<std::string>& must_mention,
                    const std::string& source = "videotestsrc num-buffers=3 ! video/x-raw,format=RGB,width=64,height=48",
                    void (*feed)(GstElement* src) = nullptr) {
    const std::string description = source + " ! " + chain + " ! fakesink";
    GError* err = nullptr;
    GstElement* pipeline = gst_parse_launch(description.c_str(), &err);
    ASSERT_EQ(err, nullptr) << err->message;
    if (feed) {
      GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
      feed(src);
      gst_object_unref(src);
    }
    run_.reset(new BusRun());
    run_pipeline(pipeline, run_.get(), nullptr, 30);
    gst_object_unref(pipeline);
    ASSERT_FALSE(run_->timed_out) << "no hang";
    ASSERT_NE(run_->error, nullptr) << "an ERROR message on the bus";
    GError* e = nullptr;
    gst_message_parse_error(run_->error, &e, nullptr);
    EXPECT_EQ(e->domain, domain) << g_quark_to_string(e->domain) << ": " << e->message;
    g_error_free(e);
    const std::string text = run_->error_text();
    for (const auto& word : must_mention) EXPECT_NE(text.find(word), std::string::npos) << word << " not in: " << text;
  }
  std::unique_ptr<BusRun> run_;
};

TEST_F(GstPipelineErrors, MissingProfileFileIsAResourceErrorNamingIt) {
  expect_error("advadinfer profile=/nonexistent/cat.ini", GST_RESOURCE_ERROR, {"/nonexistent/cat.ini", "profile"});
  expect_error("advadtile profile=/nonexistent/tile.ini", GST_RESOURCE_ERROR, {"/nonexistent/tile.ini"});
}

TEST_F(GstPipelineErrors, NoProfileSetIsAResourceErrorSayingWhatToSet) {
  expect_error("advadinfer", GST_RESOURCE_ERROR, {"profile"});
}

TEST_F(GstPipelineErrors, MalformedProfileIsAResourceErrorNamingFileAndKey) {
  std::ifstream in(demo_profile_path());
  std::stringstream text;
  text << in.rdbuf();
  std::string ini = text.str();
  const auto pos = ini.find("method");
  ASSERT_NE(pos, std::string::npos) << ini;
  ini.replace(pos, ini.find('\n', pos) - pos, "method = banana");
  const std::string bad = dir.write("bad.ini", ini);
  expect_error("advadinfer profile=" + bad, GST_RESOURCE_ERROR, {bad, "method", "banana"});
}

TEST_F(GstPipelineErrors, CorruptModelFileIsALibraryErrorNamingIt) {
  const std::string garbage = dir.write("model.pt", "this is not a TorchScript archive");
  expect_error("advadinfer profile=" + demo_profile_path() + " model=" + garbage, GST_LIBRARY_ERROR, {garbage});
}

TEST_F(GstPipelineErrors, MissingModelFileIsAResourceError) {
  expect_error("advadinfer profile=" + demo_profile_path() + " model=" + dir.file("gone.pt"), GST_RESOURCE_ERROR,
               {dir.file("gone.pt")});
}

TEST_F(GstPipelineErrors, ModelWithWrongOutputShapeIsALibraryError) {
  torch::jit::Module m("WrongShape");
  m.define("def forward(self, x):\n    return x.flatten(1)\n");  // [B, 3*H*W]: not a map
  const std::string file = dir.file("wrong.pt");
  m.save(file);
  expect_error("advadinfer profile=" + demo_profile_path() + " model=" + file, GST_LIBRARY_ERROR, {file});
}

TEST_F(GstPipelineErrors, UnsupportedCapsFailNegotiationWithAHint) {
  // gst-launch refuses to even link a capsfilter with I420 to advadtile; a
  // source that only says its format when it negotiates gets this far.
  expect_error("advadtile profile=" + demo_profile_path(), GST_STREAM_ERROR, {"not-negotiated"},
               "appsrc name=src format=time caps=video/x-raw,format=I420,width=64,height=48,framerate=10/1",
               [](GstElement* src) {
                 GstBuffer* b = gst_buffer_new_allocate(nullptr, 64 * 48 * 3 / 2, nullptr);
                 GST_BUFFER_PTS(b) = 0;
                 GstFlowReturn ret;
                 g_signal_emit_by_name(src, "push-buffer", b, &ret);
                 gst_buffer_unref(b);
                 g_signal_emit_by_name(src, "end-of-stream", &ret);
               });
  ASSERT_TRUE(run_);
  bool hint = false;
  for (const auto& w : run_->warnings) hint |= w.find("videoconvert") != std::string::npos && w.find("I420") != std::string::npos;
  EXPECT_TRUE(hint) << "a warning names the offered format and suggests videoconvert";
}

}  // namespace
}  // namespace advad::gsttest
