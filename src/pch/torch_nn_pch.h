// Precompiled header (Meson cpp_pch) of src/inpformer, whose sources nearly all
// build on torch::nn modules: LibTorch's tensor API, nn::Module and the module
// types the network uses. Library headers only -- no project headers, no
// macros -- so each source compiles the same with or without it (meson setup
// -Db_pch=false builds without). Measured: ~7 s of CPU less per source,
// ~34 s to build the .gch once.
#include <torch/types.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
