// Method-specific entry points that the generic commands dispatch to.
#pragma once

namespace advad::tools {
int train_inpformer_main(int argc, char** argv);  // advad train, profile method = inpformer
int train_cpr_main(int argc, char** argv);        // advad train, profile method = cpr
int import_inpformer_main(int argc, char** argv); // advad import inpformer ...
int import_cpr_main(int argc, char** argv);       // advad import cpr ...
int bench_eval_main(int argc, char** argv);       // advad bench eval
int bench_inpformer_main(int argc, char** argv);  // advad bench inpformer
int bench_cpr_main(int argc, char** argv);        // advad bench cpr
int bench_frame_main(int argc, char** argv);      // advad bench frame
int bench_live_main(int argc, char** argv);       // advad bench live
int synth_ad2_main(int argc, char** argv);        // advad synth mvtec-ad2 (synthetic dataset)
}  // namespace advad::tools
