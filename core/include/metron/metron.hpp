// metron/metron.hpp — everything in metron's core (no CAF).
#pragma once

#include "metron/aggregation.hpp"
#include "metron/bucket_layout.hpp"
#include "metron/counter.hpp"
#include "metron/gauge.hpp"
#include "metron/histogram.hpp"
#include "metron/histogram_snapshot.hpp"
#include "metron/labels.hpp"
#include "metron/registry.hpp"
#include "metron/report.hpp"
#include "metron/registry_anchor.hpp"
#include "metron/ring_buffer.hpp"
#include "metron/scoped_timer.hpp"
#include "metron/settable_counter.hpp"
#include "metron/snapshot.hpp"
