// metron/prometheus.hpp — the Prometheus module: text exposition (text_format.hpp),
// the HTTP endpoint (http_server.hpp) and the exporter that connects a monitor to it
// (exporter.hpp). See each header for its concurrency contract.
#pragma once

#include "metron/prometheus/text_format.hpp"
#include "metron/prometheus/http_server.hpp"
#include "metron/prometheus/report_store.hpp"
#include "metron/prometheus/exporter.hpp"
