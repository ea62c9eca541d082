// The advad subcommands. Each lives in its own cmd_<name>.cpp and returns the
// process exit code (0 ok, 1 failure of the work, 2 usage / bad input).
#pragma once

namespace advad::tools {
int cmd_run(int argc, char** argv);          // run a gst pipeline on a profile (demo / main job)
int cmd_launch(int argc, char** argv);       // run a gst-launch-1.0 style pipeline description
int cmd_serve(int argc, char** argv);        // RTSP server of the annotated stream(s)
int cmd_predict(int argc, char** argv);      // maps + masks for a dataset split
int cmd_eval(int argc, char** argv);         // MVTec AD 2 metrics
int cmd_calibrate(int argc, char** argv);    // threshold from normal data
int cmd_submission(int argc, char** argv);   // write / check / pack the server layout
int cmd_train(int argc, char** argv);        // train a category (inpformer | cpr)
int cmd_import(int argc, char** argv);       // official checkpoints -> advad model package
int cmd_bench(int argc, char** argv);        // benchmarks (model, eval, frame split)
int cmd_make_demo(int argc, char** argv);    // generate demo data (video / dataset / model)
int cmd_synth(int argc, char** argv);        // preview CPR training pseudo-anomalies; synthetic MVTec AD 2
int cmd_reproduce(int argc, char** argv);    // the seed's protocol over an MVTec AD 2 folder
}  // namespace advad::tools
