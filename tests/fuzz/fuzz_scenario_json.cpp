// Scenario loading: load_scenario_text either returns a Scenario or throws ScenarioError.
// Any other exception escapes and is reported as a crash.
// Input: optional override lines "set:PATH=VALUE\n" at the front, then the JSON text.
#include <string>
#include <vector>

#include "fuzz_util.hpp"
#include "megzawicol/scenario/scenario.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> overrides;
  while (text.rfind("set:", 0) == 0 && overrides.size() < 4) {
    size_t nl = text.find('\n');
    if (nl == std::string::npos) break;
    overrides.push_back(text.substr(4, nl - 4));
    text.erase(0, nl + 1);
  }
  try {
    auto s = mz::scenario::load_scenario_text(text, "fuzz.json", overrides);
    for (const auto& n : s.nodes) MZ_FUZZ_CHECK(s.find_node(n.name) != nullptr);
    for (const auto& l : s.links) MZ_FUZZ_CHECK(s.find_link(l.name) != nullptr);
  } catch (const mz::scenario::ScenarioError&) {
  }
  return 0;
}
