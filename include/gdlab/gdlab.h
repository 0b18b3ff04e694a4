/* The whole numerical core of gdlab in one include. */
#ifndef GDLAB_GDLAB_H
#define GDLAB_GDLAB_H

#include "gdlab/alloc.h"
#include "gdlab/analysis.h"
#include "gdlab/dataset.h"
#include "gdlab/lrfinder.h"
#include "gdlab/moments.h"
#include "gdlab/optim.h"
#include "gdlab/problem.h"
#include "gdlab/rng.h"
#include "gdlab/scale.h"
#include "gdlab/stability.h"
#include "gdlab/status.h"
#include "gdlab/surface.h"
#include "gdlab/train.h"

#define GDLAB_VERSION "0.1.0"

#endif
