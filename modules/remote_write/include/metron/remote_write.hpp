// metron/remote_write.hpp — the remote-write module: push a monitor's reports to a
// Prometheus remote-write 1.0 receiver (writer.hpp), built from an encoder
// (encoder.hpp) and a sender with a bounded queue and retries (sender.hpp). See each
// header for its concurrency contract.
#pragma once

#include "metron/remote_write/config.hpp"
#include "metron/remote_write/encoder.hpp"
#include "metron/remote_write/sender.hpp"
#include "metron/remote_write/writer.hpp"
