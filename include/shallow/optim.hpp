/// \file
/// shallow's optimizers (SGD, Adam, AdamW), learning-rate schedules,
/// gradient clipping and weight averaging. Needs Eigen only.
#pragma once

#include "core.hpp"
#include "optim/adam.hpp"
#include "optim/clip_grad.hpp"
#include "optim/optimizer.hpp"
#include "optim/schedule.hpp"
#include "optim/sgd.hpp"
#include "optim/weight_average.hpp"
