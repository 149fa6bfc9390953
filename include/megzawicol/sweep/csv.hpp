// Minimal CSV (RFC 4180): fields with ',', '"' or a line break are quoted.
#pragma once

#include <string>
#include <vector>

namespace mz::sweep {

std::string csv_field(const std::string& s);
/// The fields joined by ',' and a trailing "\n".
std::string csv_line(const std::vector<std::string>& fields);
/// The rows of a CSV text; throws SweepError naming `source` on an unterminated quote.
std::vector<std::vector<std::string>> parse_csv(const std::string& text, const std::string& source);

}  // namespace mz::sweep
