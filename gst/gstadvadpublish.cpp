// advadpublish: sends each frame's result, as the JSON line advadoverlay's
// json-location writes (one schema: advadrecord), to an MQTT broker or a file.
// A pass-through: frames are neither changed nor held. For MQTT the video
// thread only formats the line and queues it; advad::MqttClient's thread
// sends (reconnects, keeps order, drops the oldest when full), so a slow or
// absent broker never stalls the video. The work is in src/publish; this file
// maps properties and turns the client's events into bus messages.
#include "gstadvadpublish.h"

#include <gst/video/video.h>

#include <cmath>
#include <memory>
#include <mutex>
#include <optional>

#include "advadcommon.h"
#include "advadmeta.h"
#include "advadrecord.h"
#include "core/error.h"
#include "publish/broker_address.h"
#include "publish/credentials.h"
#include "publish/mqtt_client.h"
#include "publish/publish_policy.h"
#include "publish/topic.h"
#include "render/frame_json.h"
#include "render/json_lines_writer.h"

GST_DEBUG_CATEGORY_STATIC(gst_advad_publish_debug);
#define GST_CAT_DEFAULT gst_advad_publish_debug

enum GstAdvadPublishMethod { GST_ADVAD_PUBLISH_FILE = 0, GST_ADVAD_PUBLISH_MQTT = 1 };
enum GstAdvadPublishWhich { GST_ADVAD_PUBLISH_DEFECTS = 0, GST_ADVAD_PUBLISH_ALL = 1, GST_ADVAD_PUBLISH_EVERY_N = 2 };

static GType gst_advad_publish_method_get_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_ADVAD_PUBLISH_FILE, "Append the lines to the file 'location'", "file"},
      {GST_ADVAD_PUBLISH_MQTT, "Publish to the MQTT broker 'address', topic 'topic'", "mqtt"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) g_once_init_leave(&type, g_enum_register_static("GstAdvadPublishMethod", values));
  return type;
}

static GType gst_advad_publish_which_get_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_ADVAD_PUBLISH_DEFECTS, "Only frames with the verdict 'defect'", "defects"},
      {GST_ADVAD_PUBLISH_ALL, "Every frame", "all"},
      {GST_ADVAD_PUBLISH_EVERY_N, "Every every-n-th frame (the 1st, the n+1-th, ...)", "every-n"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) g_once_init_leave(&type, g_enum_register_static("GstAdvadPublishWhich", values));
  return type;
}

namespace {

constexpr double kMaxFlushTimeout = 3600;

struct PublishSettings {
  GstAdvadPublishMethod method = GST_ADVAD_PUBLISH_MQTT;
  std::string location;
  std::string address = "127.0.0.1:1883";
  std::string topic = "advad/{source}";
  guint qos = 1;
  std::string client_id;
  std::string credentials;
  std::string ca_file;
  GstAdvadPublishWhich which = GST_ADVAD_PUBLISH_ALL;
  guint every_n = 10;
  guint max_queued = 1000;
  std::string source;
  gboolean json_contours = FALSE;
  double flush_timeout = 2.0;
};

}  // namespace

struct PublishState {
  PublishSettings settings;  // guarded by the object lock
  // Set in start(), used by the streaming thread, cleared in stop().
  PublishSettings active;
  std::unique_ptr<advad::JsonLinesWriter> file;
  std::unique_ptr<advad::MqttClient> mqtt;
  std::mutex client_mutex;  // the mqtt pointer against get_property; the streaming thread needs none
  std::optional<advad::TopicTemplate> topic;
  advad::PublishPolicy policy;
  std::string run, source, broker;
  GstVideoInfo info;
  guint64 frames = 0;
  guint64 written = 0;  // method=file
  bool overflowing = false;  // in a burst of drops (one WARNING per burst)
  bool eos_flushed = false;  // EOS waited for the queue already
  guint64 last_published = 0, last_dropped = 0;  // the finished client's counters
  gboolean warned_caps = FALSE, warned_no_result = FALSE;
};

struct _GstAdvadPublish {
  GstBaseTransform parent;
  PublishState* st;
};

G_DEFINE_TYPE(GstAdvadPublish, gst_advad_publish, GST_TYPE_BASE_TRANSFORM)
GST_ELEMENT_REGISTER_DEFINE(advadpublish, "advadpublish", GST_RANK_NONE, GST_TYPE_ADVAD_PUBLISH)

enum {
  PROP_0,
  PROP_METHOD,
  PROP_LOCATION,
  PROP_ADDRESS,
  PROP_TOPIC,
  PROP_QOS,
  PROP_CLIENT_ID,
  PROP_CREDENTIALS,
  PROP_CA_FILE,
  PROP_PUBLISH,
  PROP_EVERY_N,
  PROP_MAX_QUEUED,
  PROP_SOURCE,
  PROP_JSON_CONTOURS,
  PROP_FLUSH_TIMEOUT,
  PROP_PUBLISHED,
  PROP_DROPPED,
  PROP_QUEUED
};

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(ADVAD_VIDEO_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(ADVAD_VIDEO_CAPS));

// Checks the string and double values GLib cannot; false (after recording the rejection) when unusable.
static bool check_value(GstAdvadPublish* self, guint id, const GValue* value, const char* name) {
  GstElement* e = GST_ELEMENT(self);
  if (id == PROP_ADDRESS) {
    const std::string v = advad_value_string(value);
    try {
      advad::parse_broker_address(v);
    } catch (const advad::InputError&) {
      advad_reject_property(e, name, v, "host:port with a port in 1..65535, e.g. 127.0.0.1:1883 or [::1]:1883");
      return false;
    }
  } else if (id == PROP_TOPIC) {
    const std::string v = advad_value_string(value);
    try {
      advad::TopicTemplate t(v);
    } catch (const advad::InputError& err) {
      advad_reject_property(e, name, v,
                            std::string("an MQTT topic without '+' or '#', with the placeholders {source} and "
                                        "{category} only (") + err.what() + ")");
      return false;
    }
  } else if (id == PROP_FLUSH_TIMEOUT) {
    const double v = g_value_get_double(value);
    if (!(std::isfinite(v) && v >= 0 && v <= kMaxFlushTimeout)) {
      advad_reject_property(e, name, advad_double_text(v), "seconds from 0 to 3600");
      return false;
    }
  } else {
    return true;
  }
  advad_accept_property(e, name);
  return true;
}

static void gst_advad_publish_set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  auto* self = GST_ADVAD_PUBLISH(object);
  if (!check_value(self, id, value, pspec->name)) return;  // keeps the previous value
  GST_OBJECT_LOCK(self);
  PublishSettings& s = self->st->settings;
  switch (id) {
    case PROP_METHOD: s.method = static_cast<GstAdvadPublishMethod>(g_value_get_enum(value)); break;
    case PROP_LOCATION: s.location = advad_value_string(value); break;
    case PROP_ADDRESS: s.address = advad_value_string(value); break;
    case PROP_TOPIC: s.topic = advad_value_string(value); break;
    case PROP_QOS: s.qos = g_value_get_uint(value); break;
    case PROP_CLIENT_ID: s.client_id = advad_value_string(value); break;
    case PROP_CREDENTIALS: s.credentials = advad_value_string(value); break;
    case PROP_CA_FILE: s.ca_file = advad_value_string(value); break;
    case PROP_PUBLISH: s.which = static_cast<GstAdvadPublishWhich>(g_value_get_enum(value)); break;
    case PROP_EVERY_N: s.every_n = g_value_get_uint(value); break;
    case PROP_MAX_QUEUED: s.max_queued = g_value_get_uint(value); break;
    case PROP_SOURCE: s.source = advad_value_string(value); break;
    case PROP_JSON_CONTOURS: s.json_contours = g_value_get_boolean(value); break;
    case PROP_FLUSH_TIMEOUT: s.flush_timeout = g_value_get_double(value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_advad_publish_get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  auto* self = GST_ADVAD_PUBLISH(object);
  PublishState* st = self->st;
  if (id == PROP_PUBLISHED || id == PROP_DROPPED || id == PROP_QUEUED) {
    std::lock_guard<std::mutex> lock(st->client_mutex);
    advad::MqttClient::Stats s;
    if (st->mqtt) {
      s = st->mqtt->stats();
    } else {
      s.delivered = st->last_published;
      s.dropped = st->last_dropped;
    }
    if (id == PROP_PUBLISHED) g_value_set_uint64(value, st->file ? st->written : s.delivered);
    if (id == PROP_DROPPED) g_value_set_uint64(value, s.dropped);
    if (id == PROP_QUEUED) g_value_set_uint(value, static_cast<guint>(s.queued));
    return;
  }
  GST_OBJECT_LOCK(self);
  const PublishSettings& s = st->settings;
  switch (id) {
    case PROP_METHOD: g_value_set_enum(value, s.method); break;
    case PROP_LOCATION: g_value_set_string(value, s.location.c_str()); break;
    case PROP_ADDRESS: g_value_set_string(value, s.address.c_str()); break;
    case PROP_TOPIC: g_value_set_string(value, s.topic.c_str()); break;
    case PROP_QOS: g_value_set_uint(value, s.qos); break;
    case PROP_CLIENT_ID: g_value_set_string(value, s.client_id.c_str()); break;
    case PROP_CREDENTIALS: g_value_set_string(value, s.credentials.c_str()); break;
    case PROP_CA_FILE: g_value_set_string(value, s.ca_file.c_str()); break;
    case PROP_PUBLISH: g_value_set_enum(value, s.which); break;
    case PROP_EVERY_N: g_value_set_uint(value, s.every_n); break;
    case PROP_MAX_QUEUED: g_value_set_uint(value, s.max_queued); break;
    case PROP_SOURCE: g_value_set_string(value, s.source.c_str()); break;
    case PROP_JSON_CONTOURS: g_value_set_boolean(value, s.json_contours); break;
    case PROP_FLUSH_TIMEOUT: g_value_set_double(value, s.flush_timeout); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

// The client's events (on its own thread) as bus messages.
static void on_mqtt_event(GstAdvadPublish* self, const advad::MqttClient::Event& e) {
  using Kind = advad::MqttClient::Event::Kind;
  const std::string text = advad_element_label(GST_ELEMENT(self)) + ": " + e.text;
  switch (e.kind) {
    case Kind::Connected: GST_INFO_OBJECT(self, "%s", text.c_str()); break;
    case Kind::Unreachable:
    case Kind::Lost:
      GST_ELEMENT_WARNING(self, RESOURCE, WRITE, ("%s", text.c_str()),
                          ("The pipeline keeps running; results are queued (max-queued) and sent in order once the "
                           "broker is back."));
      break;
    case Kind::Refused:
      GST_ELEMENT_ERROR(self, RESOURCE, NOT_AUTHORIZED, ("%s", text.c_str()),
                        ("Fix the username:password line of the 'credentials' file (or the broker's password file / "
                         "ACL); retrying with the same login cannot succeed."));
      break;
  }
}

// Posts "property P = 'V' cannot be used: why" and returns FALSE.
static gboolean fail_start(GstAdvadPublish* self, const char* property, const std::string& value,
                           const std::string& why, const char* hint) {
  GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                    ("%s: property %s = '%s' cannot be used: %s", advad_element_label(GST_ELEMENT(self)).c_str(),
                     property, value.c_str(), why.c_str()),
                    ("%s", hint));
  return FALSE;
}

static gboolean start_mqtt(GstAdvadPublish* self, const PublishSettings& s) {
  PublishState* st = self->st;
  advad::MqttClient::Options o;
  try {
    o.address = advad::parse_broker_address(s.address);
    advad::check_resolvable(o.address);
  } catch (const advad::InputError& e) {
    return fail_start(self, "address", s.address, e.what(), "Set 'address' to host:port of a reachable MQTT broker.");
  }
  st->topic.emplace(s.topic);  // checked when set
  if (!s.credentials.empty()) {
    try {
      o.credentials = advad::read_credentials(s.credentials);
    } catch (const advad::InputError& e) {
      return fail_start(self, "credentials", s.credentials, e.what(),
                        "Point 'credentials' to a readable file whose first line is username:password.");
    }
    o.credentials_file = s.credentials;
  }
  o.client_id = s.client_id;
  o.ca_file = s.ca_file;
  o.qos = static_cast<int>(s.qos);
  o.max_queued = s.max_queued;
  st->broker = o.address.text();
  try {
    auto client = std::make_unique<advad::MqttClient>(
        o, [self](const advad::MqttClient::Event& e) { on_mqtt_event(self, e); });
    std::lock_guard<std::mutex> lock(st->client_mutex);
    st->mqtt = std::move(client);
  } catch (const advad::InputError& e) {
    return fail_start(self, "ca-file", s.ca_file, e.what(), "Point 'ca-file' to a readable PEM file of CA certificates.");
  }
  GST_INFO_OBJECT(self, "run %s: publishing to %s, topic %s, qos %u", st->run.c_str(), st->broker.c_str(),
                  s.topic.c_str(), s.qos);
  return TRUE;
}

static gboolean gst_advad_publish_start(GstBaseTransform* trans) {
  auto* self = GST_ADVAD_PUBLISH(trans);
  PublishState* st = self->st;
  GST_OBJECT_LOCK(self);
  st->active = st->settings;
  GST_OBJECT_UNLOCK(self);
  const PublishSettings& s = st->active;
  st->frames = st->written = 0;
  st->overflowing = st->eos_flushed = false;
  st->last_published = st->last_dropped = 0;
  st->run = advad::new_run_id();
  gchar* name = gst_object_get_name(GST_OBJECT(self));
  st->source = s.source.empty() ? std::string(name) : s.source;
  g_free(name);
  st->policy.mode = s.which == GST_ADVAD_PUBLISH_DEFECTS ? advad::PublishPolicy::Mode::Defects
                    : s.which == GST_ADVAD_PUBLISH_ALL   ? advad::PublishPolicy::Mode::All
                                                         : advad::PublishPolicy::Mode::EveryN;
  st->policy.n = s.every_n;
  if (s.method == GST_ADVAD_PUBLISH_MQTT) return start_mqtt(self, s);
  if (s.location.empty())
    return fail_start(self, "location", "", "method=file needs a file", "Set 'location' to the JSON lines file.");
  try {
    st->file = std::make_unique<advad::JsonLinesWriter>(s.location, advad::JsonLinesWriter::Options{});
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE, ("%s", e.what()),
                      ("Set 'location' to a file in an existing, writable folder."));
    return FALSE;
  }
  return TRUE;
}

// Waits (at most flush-timeout) until the broker has every queued message;
// posts a WARNING with the count of those it has not.
static void flush_mqtt(GstAdvadPublish* self, double timeout_s) {
  PublishState* st = self->st;
  if (!st->mqtt || st->mqtt->wait_drained(timeout_s)) return;
  const advad::MqttClient::Stats s = st->mqtt->stats();
  GST_ELEMENT_WARNING(self, RESOURCE, WRITE,
                      ("%s: %zu results were not delivered to MQTT broker %s within flush-timeout=%s s (%s)",
                       advad_element_label(GST_ELEMENT(self)).c_str(), s.queued, st->broker.c_str(),
                       advad_double_text(timeout_s).c_str(),
                       s.last_error.empty() ? advad::mqtt_state_name(s.state) : s.last_error.c_str()),
                      ("They are lost when the element stops. A longer flush-timeout waits longer for the broker."));
}

static gboolean gst_advad_publish_stop(GstBaseTransform* trans) {
  auto* self = GST_ADVAD_PUBLISH(trans);
  PublishState* st = self->st;
  if (st->file) {
    try {
      st->file->sync();
    } catch (const std::exception& e) {
      GST_ELEMENT_ERROR(self, RESOURCE, WRITE, ("%s", e.what()), (nullptr));
    }
    st->file.reset();
  }
  if (st->mqtt) {
    if (!st->eos_flushed) flush_mqtt(self, st->active.flush_timeout);  // stopped without EOS
    std::unique_ptr<advad::MqttClient> client;
    {
      std::lock_guard<std::mutex> lock(st->client_mutex);
      client = std::move(st->mqtt);
    }
    const std::size_t unsent = client->stop(0);
    const advad::MqttClient::Stats s = client->stats();
    st->last_published = s.delivered;
    st->last_dropped = s.dropped;
    GST_INFO_OBJECT(self, "%s: %" G_GUINT64_FORMAT " published, %" G_GUINT64_FORMAT " dropped, %zu unsent",
                    st->broker.c_str(), s.delivered, s.dropped, unsent);
  }
  return TRUE;
}

static gboolean gst_advad_publish_set_caps(GstBaseTransform* trans, GstCaps* incaps, GstCaps*) {
  return gst_video_info_from_caps(&GST_ADVAD_PUBLISH(trans)->st->info, incaps);
}

// The frame's verdict, as the JSON line's "verdict" says it (none without post-processing).
static std::optional<bool> verdict(const AdvadFrameResult* res) {
  if (!res || !res->map || !res->unscored_reason.empty() || !res->detection) return std::nullopt;
  return res->detection->anomalous;
}

static GstFlowReturn gst_advad_publish_transform_ip(GstBaseTransform* trans, GstBuffer* buf) {
  auto* self = GST_ADVAD_PUBLISH(trans);
  PublishState* st = self->st;
  const PublishSettings& s = st->active;
  const guint64 own_count = st->frames++;
  const AdvadResultPtr res = gst_advad_meta_get_result(buf);
  if ((!res || (!res->map && res->unscored_reason.empty())) && !st->warned_no_result) {
    GST_ELEMENT_WARNING(self, STREAM, FAILED, ("Frames arrive without anomaly results; nothing to publish."),
                        ("Put advadpublish after advadpostproc, advadoverlay or advaddetect."));
    st->warned_no_result = TRUE;
  }
  if (!st->policy.wants(own_count, verdict(res.get()))) return GST_FLOW_OK;
  const advad::FrameRecord record = advad_frame_record(buf, &st->info, res.get(), own_count, st->run, st->source,
                                                       s.json_contours);
  std::string line;
  try {
    line = advad::frame_json_line(record);
    if (st->file) {
      st->file->write(line);
      ++st->written;
      return GST_FLOW_OK;
    }
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(self, RESOURCE, WRITE, ("%s", e.what()), (nullptr));
    return GST_FLOW_ERROR;
  }
  if (!st->mqtt) return GST_FLOW_OK;
  const bool dropped = st->mqtt->publish(st->topic->expand(st->source, record.category), std::move(line));
  if (dropped && !st->overflowing) {
    st->overflowing = true;
    const advad::MqttClient::Stats cs = st->mqtt->stats();
    GST_ELEMENT_WARNING(self, RESOURCE, WRITE,
                        ("%s: %u results wait for MQTT broker %s (max-queued); dropping the oldest (%" G_GUINT64_FORMAT
                         " dropped so far)",
                         advad_element_label(GST_ELEMENT(self)).c_str(), s.max_queued, st->broker.c_str(),
                         cs.dropped),
                        ("One warning per burst of drops; the read-only property 'dropped' counts them all. %s",
                         cs.last_error.c_str()));
  } else if (!dropped && st->overflowing && st->mqtt->stats().queued <= s.max_queued / 2) {
    st->overflowing = false;  // the burst is over: the next drop warns again
  }
  return GST_FLOW_OK;
}

static gboolean gst_advad_publish_query(GstBaseTransform* trans, GstPadDirection dir, GstQuery* query) {
  auto* self = GST_ADVAD_PUBLISH(trans);
  if (dir == GST_PAD_SINK) advad_check_sink_query(GST_ELEMENT(self), query, &self->st->warned_caps);
  return GST_BASE_TRANSFORM_CLASS(gst_advad_publish_parent_class)->query(trans, dir, query);
}

static gboolean gst_advad_publish_sink_event(GstBaseTransform* trans, GstEvent* event) {
  auto* self = GST_ADVAD_PUBLISH(trans);
  PublishState* st = self->st;
  advad_check_sink_event(GST_ELEMENT(self), event, &st->warned_caps);
  if (GST_EVENT_TYPE(event) == GST_EVENT_EOS) {
    // The end of the stream waits (bounded) for the broker, so the pipeline's EOS means "delivered" when it can.
    if (st->mqtt) {
      flush_mqtt(self, st->active.flush_timeout);
      st->eos_flushed = true;
    }
    if (st->file) {
      try {
        st->file->sync();
      } catch (const std::exception& e) {
        GST_ELEMENT_ERROR(self, RESOURCE, WRITE, ("%s", e.what()), (nullptr));
        gst_event_unref(event);
        return FALSE;
      }
    }
  }
  return GST_BASE_TRANSFORM_CLASS(gst_advad_publish_parent_class)->sink_event(trans, event);
}

// READY->PAUSED fails when a property holds a rejected value (see advad_reject_property).
static GstStateChangeReturn gst_advad_publish_change_state(GstElement* element, GstStateChange transition) {
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED && !advad_check_properties(element))
    return GST_STATE_CHANGE_FAILURE;
  return GST_ELEMENT_CLASS(gst_advad_publish_parent_class)->change_state(element, transition);
}

static void gst_advad_publish_finalize(GObject* object) {
  auto* self = GST_ADVAD_PUBLISH(object);
  delete self->st;
  G_OBJECT_CLASS(gst_advad_publish_parent_class)->finalize(object);
}

static void install_string(GObjectClass* klass, guint id, const char* name, const char* nick, const char* blurb,
                           const char* def) {
  g_object_class_install_property(klass, id, g_param_spec_string(name, nick, blurb, def, ADVAD_PARAM_READY));
}

static void gst_advad_publish_class_init(GstAdvadPublishClass* klass) {
  auto* gobject_class = G_OBJECT_CLASS(klass);
  auto* element_class = GST_ELEMENT_CLASS(klass);
  auto* trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  gobject_class->set_property = gst_advad_publish_set_property;
  gobject_class->get_property = gst_advad_publish_get_property;
  gobject_class->finalize = gst_advad_publish_finalize;

  g_object_class_install_property(
      gobject_class, PROP_METHOD,
      g_param_spec_enum("method", "Method", "Where the JSON lines go: an MQTT broker or a file.",
                        gst_advad_publish_method_get_type(), GST_ADVAD_PUBLISH_MQTT, ADVAD_PARAM_READY));
  install_string(gobject_class, PROP_LOCATION, "location", "File",
                 "method=file: the JSON lines file, appended to (each line has a \"run\" id, new at every start); "
                 "a file that cannot be opened or written is an ERROR naming it.",
                 "");
  install_string(gobject_class, PROP_ADDRESS, "address", "Broker address",
                 "method=mqtt: the broker as host:port ([v6 address]:port), port 1..65535. A malformed value is an "
                 "ERROR at READY->PAUSED, as is a host that does not resolve; a broker that does not answer is a "
                 "WARNING and the element keeps retrying.",
                 "127.0.0.1:1883");
  install_string(gobject_class, PROP_TOPIC, "topic", "Topic",
                 "method=mqtt: the topic of each message; {source} becomes 'source', {category} the scoring "
                 "profile's category (\"unknown\" when none). Other placeholders and the wildcards '+' and '#' are "
                 "an error.",
                 "advad/{source}");
  g_object_class_install_property(
      gobject_class, PROP_QOS,
      g_param_spec_uint("qos", "QoS",
                        "method=mqtt: MQTT quality of service, 0..2. 0: at most once (lost if the link drops while "
                        "sending); 1 and 2: at least once, a message is kept until the broker acknowledges it "
                        "(messages in flight when the link drops can arrive twice).",
                        0, 2, 1, ADVAD_PARAM_READY));
  install_string(gobject_class, PROP_CLIENT_ID, "client-id", "Client id",
                 "method=mqtt: the MQTT client id; empty (the default) uses advad-<pid>-<n>.", "");
  install_string(gobject_class, PROP_CREDENTIALS, "credentials", "Credentials file",
                 "method=mqtt: a file whose first line is username:password, read at READY->PAUSED (so the password "
                 "is not on the command line); empty logs in anonymously. A login the broker refuses is an ERROR "
                 "naming the broker and this file.",
                 "");
  install_string(gobject_class, PROP_CA_FILE, "ca-file", "CA file",
                 "method=mqtt: PEM file of the CA certificates that sign the broker's certificate; set, the "
                 "connection uses TLS. Empty (the default): plain TCP.",
                 "");
  g_object_class_install_property(
      gobject_class, PROP_PUBLISH,
      g_param_spec_enum("publish", "Publish", "Which frames are published.", gst_advad_publish_which_get_type(),
                        GST_ADVAD_PUBLISH_ALL, ADVAD_PARAM_READY));
  g_object_class_install_property(
      gobject_class, PROP_EVERY_N,
      g_param_spec_uint("every-n", "Every n-th frame", "publish=every-n: publish every n-th frame, 1..2147483647.",
                        1, G_MAXINT, 10, ADVAD_PARAM_READY));
  g_object_class_install_property(
      gobject_class, PROP_MAX_QUEUED,
      g_param_spec_uint("max-queued", "Queue limit",
                        "method=mqtt: results kept while the broker is slow or away, 1..10000000; beyond that the "
                        "oldest is dropped (one WARNING per burst, counted in 'dropped').",
                        1, 10000000, 1000, ADVAD_PARAM_READY));
  install_string(gobject_class, PROP_SOURCE, "source", "Source name",
                 "Text for the \"source\" field of every line and the topic's {source}; empty (the default) uses the "
                 "element's name.",
                 "");
  g_object_class_install_property(
      gobject_class, PROP_JSON_CONTOURS,
      g_param_spec_boolean("json-contours", "JSON contours", "Add each region's outer contour points to the lines.",
                           FALSE, ADVAD_PARAM_READY));
  g_object_class_install_property(
      gobject_class, PROP_FLUSH_TIMEOUT,
      g_param_spec_double("flush-timeout", "Flush timeout",
                          "method=mqtt: at EOS and at PAUSED->READY, wait at most this many seconds (0..3600) for the "
                          "broker to take what is queued, then disconnect; results still unsent are counted in a "
                          "WARNING. Other values (negative, NaN) are an error.",
                          -INFINITY, INFINITY, 2.0, static_cast<GParamFlags>(ADVAD_PARAM_READY | G_PARAM_LAX_VALIDATION)));
  const auto ro = static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_property(
      gobject_class, PROP_PUBLISHED,
      g_param_spec_uint64("published", "Published",
                          "Results delivered so far in this run: lines written (file), messages taken by the socket "
                          "(qos 0) or acknowledged by the broker (qos 1, 2).",
                          0, G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      gobject_class, PROP_DROPPED,
      g_param_spec_uint64("dropped", "Dropped", "Results dropped because max-queued were waiting (this run).", 0,
                          G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      gobject_class, PROP_QUEUED,
      g_param_spec_uint("queued", "Queued", "Results waiting for the broker now.", 0, G_MAXUINT, 0, ro));

  gst_element_class_set_static_metadata(
      element_class, "advad publish", "Filter/Video",
      "Publishes each frame's anomaly result (the JSON line of advadoverlay's json-location) to an MQTT broker or a "
      "file, without ever holding up the video",
      "advad project");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  element_class->change_state = GST_DEBUG_FUNCPTR(gst_advad_publish_change_state);
  trans_class->start = GST_DEBUG_FUNCPTR(gst_advad_publish_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_advad_publish_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR(gst_advad_publish_set_caps);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR(gst_advad_publish_transform_ip);
  trans_class->query = GST_DEBUG_FUNCPTR(gst_advad_publish_query);
  trans_class->sink_event = GST_DEBUG_FUNCPTR(gst_advad_publish_sink_event);
  trans_class->passthrough_on_same_caps = TRUE;
  trans_class->transform_ip_on_passthrough = TRUE;  // passthrough, but every frame is looked at

  GST_DEBUG_CATEGORY_INIT(gst_advad_publish_debug, "advadpublish", 0, "advad result publishing (MQTT, file)");
}

static void gst_advad_publish_init(GstAdvadPublish* self) {
  self->st = new PublishState();
  gst_video_info_init(&self->st->info);
  gst_base_transform_set_passthrough(GST_BASE_TRANSFORM(self), TRUE);
}
