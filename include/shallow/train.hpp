/// \file
/// shallow's training floor: the training loop, metrics, progress, and
/// checkpoints of a network with its optimizer and run metadata.
#pragma once

#include "data.hpp"
#include "nn.hpp"
#include "train/checkpoint.hpp"
#include "train/metrics.hpp"
#include "train/progress.hpp"
#include "train/run_metadata.hpp"
#include "train/trainer.hpp"
#include "train/instantiations.hpp"

#ifdef SHALLOW_COMPILED
namespace shallow {
SHALLOW_TRAIN_INSTANTIATIONS(SHALLOW_EXTERN_TEMPLATE, float)
SHALLOW_TRAIN_INSTANTIATIONS(SHALLOW_EXTERN_TEMPLATE, double)
}  // namespace shallow
#endif
