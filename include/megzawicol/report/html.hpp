// `megzawicol report DIR [--out FILE]`: the run as a ladder diagram in one self-contained
// HTML file (inline CSS and JS, no external resources).
//
// The page draws on a <canvas> and only the arrows in view, so it stays usable for runs
// of 100,000 frames and more. Per frame it embeds a few numbers (column arrays), the
// layers decoded in C++ (compact: strings interned in one table), the captured bytes
// (whole, or the first `truncate_bytes` when the run's bytes exceed the budget) and, for
// frames under 128 bytes, their L1 line bits from l1::encode_frame (within a budget; past
// it the page computes the same 4B/5B groups from the bytes).
//
// Test hook: window.mzReport = {arrowCount(), frameCount(), drawnCount(), clickArrow(i),
// detailsText(), firstOf(proto)}; with #selftest in the URL the page fills
// <pre id="selftest"> with a JSON object of checks and timings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "megzawicol/report/decode.hpp"
#include "megzawicol/report/ladder.hpp"

namespace mz::report {

struct ReportOptions {
  size_t full_bytes_budget = size_t{6} << 20;  // embed whole frames while their total is under this
  size_t truncate_bytes = 64;                  // else the first bytes of each frame
  size_t line_bits_budget = size_t{1} << 20;   // bytes of embedded line bits (base64)
};

struct ReportStats {
  uint64_t frames = 0;
  uint64_t html_bytes = 0;
  bool bytes_truncated = false;
};

/// The decoded layers, readable: [{"layer": "IPv4", "fields": {"TTL": "64", ...}}, ...].
nlohmann::ordered_json decoded_json(const DecodedFrame& d);

/// The page for `ladder`.
std::string render_report(const Ladder& ladder, const ReportOptions& opts = {}, ReportStats* stats = nullptr);

/// Builds the ladder of `dir` and writes the page to `out_file`; throws on failure.
ReportStats write_report(const std::string& dir, const std::string& out_file, const ReportOptions& opts = {});

/// `args` are the words after "report"; returns the exit status (0, 1 failure, 2 bad input).
int report_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace mz::report
