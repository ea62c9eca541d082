// The training skeleton both methods plug into. run_training owns what every
// method's run repeats: the method check, the output and checkpoint paths, the
// device, resume (with the run's shape checked against the checkpoint), the
// step loop with --stop-after, periodic and final checkpoints, the divergence
// error, progress (elapsed, ETA), writing the package and removing the
// checkpoint. A method (CprTrainer, InpFormerTrainer) supplies the data
// preparation, one optimisation step, its state in the checkpoint and its package.
//
// Checkpoint layout: meta.step, meta.total, meta.seed, then the method's shape
// entries (meta.<name>), then whatever the method's save_state writes.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>
#include <torch/types.h>

#include "core/profile.h"
#include "io/state_dict.h"

namespace advad::train {

// Named numbers of one step: the loss terms and anything else the method
// reports (learning rate, gradient norm).
using StepValues = std::vector<std::pair<std::string, double>>;

struct StepReport {
  long step = 0, total = 0;  // step is 1-based (steps done so far)
  double loss = 0;           // the total loss
  StepValues values;         // the method's loss terms and step numbers
  double elapsed_s = 0, eta_s = 0;  // this call's training time so far, estimated time left
  double value(const std::string& name) const;  // 0 when the method does not report it
};

// (stage, done, total): preparation stages ("read images", "tiles", ...) and
// the package stages ("package: ...").
using StageFn = std::function<void(const std::string&, int64_t, int64_t)>;

struct RunOptions {
  std::string output;            // package folder; "" = the profile's model path
  std::string checkpoint;        // checkpoint file; "" = <output>/checkpoint.pth
  bool resume = false;           // continue from the checkpoint (ModelError when there is none)
  bool keep_checkpoint = false;  // otherwise it is deleted once the package is written
  std::string device = "cpu";    // auto | cpu | cuda | cuda:N
  long stop_after = 0;           // > 0: stop after this many steps with a checkpoint and no package
  StageFn on_stage;
  std::function<void(const StepReport&)> on_step;  // after every step
};

struct RunResult {
  std::string package_profile;  // profile.ini of the written package; "" when stopped early
  std::string checkpoint;       // the last checkpoint left on disk ("" if none)
  long steps_done = 0, total_steps = 0, start_step = 0;
  std::vector<double> losses;   // total loss of every step run by this call
  double seconds_per_step = 0;  // mean over this call's steps
};

// One meta entry a resume must match: meta.<name>, and `what` for the error.
struct ShapeEntry {
  std::string name;
  int64_t value;
  std::string what;
};

struct StepLoss {
  double total = 0;
  StepValues values;
};

// A training method. run_training calls, in order: prepare, total_steps /
// seed / shape, load_state (on resume), step() until done (save_state at each
// checkpoint), then write_package once all steps are done.
class Method {
 public:
  virtual ~Method() = default;
  virtual const char* method() const = 0;   // [profile] method it trains ("cpr")
  virtual const char* name() const = 0;     // in messages ("CPR")
  virtual std::string divergence_hint() const = 0;  // after "training diverged at step N (loss x); "

  // Data, network and optimizer; reports preparation stages through `stage`.
  virtual void prepare(const torch::Device& device, const StageFn& stage) = 0;
  virtual long total_steps() const = 0;
  virtual long checkpoint_every() const = 0;  // <= 0: only the --stop-after checkpoint
  virtual int64_t seed() const = 0;
  virtual std::vector<ShapeEntry> shape() const = 0;  // besides seed and total

  // Runs step number `step` (0-based): batch, forward, loss, backward, update.
  virtual StepLoss step(long step) = 0;

  virtual void save_state(StateDict& sd) = 0;
  // `path` for messages; the meta entries are already checked.
  virtual void load_state(const StateDict& sd, const std::string& path) = 0;
  // Writes the package into `output`; returns its profile.ini.
  virtual std::string write_package(const std::string& output, const StageFn& stage) = 0;
};

// Throws ProfileError / InputError / ModelError naming the file, key or value at fault.
RunResult run_training(Method& method, const Profile& profile, const RunOptions& options);

}  // namespace advad::train
