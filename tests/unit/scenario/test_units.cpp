#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "megzawicol/scenario/scenario.hpp"

using namespace mz;
using namespace mz::scenario;

namespace {
std::string unit_error(auto fn, const std::string& s) {
  try {
    fn(s);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "<no error>";
}
}  // namespace

TEST_CASE("parse_bandwidth: units and bare numbers") {
  CHECK(parse_bandwidth("10Mbps") == 10'000'000u);
  CHECK(parse_bandwidth("1Gbps") == 1'000'000'000u);
  CHECK(parse_bandwidth("56kbps") == 56'000u);
  CHECK(parse_bandwidth("56Kbps") == 56'000u);
  CHECK(parse_bandwidth("9600bps") == 9'600u);
  CHECK(parse_bandwidth("10Mbit/s") == 10'000'000u);
  CHECK(parse_bandwidth("2Tbit/s") == 2'000'000'000'000u);
  CHECK(parse_bandwidth("9600bit/s") == 9'600u);
  CHECK(parse_bandwidth("1.5Mbps") == 1'500'000u);
  CHECK(parse_bandwidth("0.001Gbps") == 1'000'000u);
  CHECK(parse_bandwidth("9600") == 9'600u);
  CHECK(parse_bandwidth("1e9") == 1'000'000'000u);
  CHECK(parse_bandwidth(" 100 Mbps ") == 100'000'000u);
  CHECK(parse_bandwidth("18446744073709551615") == 18446744073709551615u);
}

TEST_CASE("parse_bandwidth: errors") {
  auto f = [](const std::string& s) { return parse_bandwidth(s); };
  CHECK(unit_error(f, "10Mbs").find("unknown unit 'Mbs'") == 0);
  CHECK(unit_error(f, "10MBps").find("unknown unit 'MBps'") == 0);
  CHECK(unit_error(f, "fast") == "not a number");
  CHECK(unit_error(f, "") == "empty value");
  CHECK(unit_error(f, "-1Mbps") == "must not be negative");
  CHECK(unit_error(f, "1.5bps") == "not a whole number of bit/s");
  CHECK(unit_error(f, "100000000Tbps") == "too large");
  CHECK(unit_error(f, "18446744073709551616") == "too large");
}

TEST_CASE("parse_duration: exact decimal conversion") {
  CHECK(parse_duration("1.5ms").ns == 1'500'000);
  CHECK(parse_duration("5ms").ns == 5'000'000);
  CHECK(parse_duration("1.5s").ns == 1'500'000'000);
  CHECK(parse_duration("20us").ns == 20'000);
  CHECK(parse_duration("20\xc2\xb5s").ns == 20'000);
  CHECK(parse_duration("100ns").ns == 100);
  CHECK(parse_duration("2m").ns == 120'000'000'000);
  CHECK(parse_duration("1h").ns == 3'600'000'000'000);
  CHECK(parse_duration("0.1").ns == 100'000'000);        // bare number: seconds
  CHECK(parse_duration("0.0015").ns == 1'500'000);
  CHECK(parse_duration("0.000000001s").ns == 1);
  CHECK(parse_duration("1e-3").ns == 1'000'000);
  CHECK(parse_duration("1.5E3ms").ns == 1'500'000'000);
  CHECK(parse_duration("0").ns == 0);
  CHECK(parse_duration("0.3").ns == 300'000'000);  // 0.3 has no exact binary form; no rounding here
  CHECK(parse_duration("9223372036.854775807s").ns == INT64_MAX);
}

TEST_CASE("parse_duration: errors and sign") {
  auto f = [](const std::string& s) { return parse_duration(s); };
  CHECK(parse_duration("-1ms").ns == -1'000'000);
  CHECK(unit_error(f, "1.5ns") == "not a whole number of nanoseconds");
  CHECK(unit_error(f, "5 parsecs").find("unknown unit 'parsecs'") == 0);
  CHECK(unit_error(f, "ms") == "not a number");
  CHECK(unit_error(f, "3000000h") == "too large");
  CHECK(unit_error(f, "1e-10") == "not a whole number of nanoseconds");
}

TEST_CASE("parse_size: decimal and binary multiples") {
  CHECK(parse_size("1500") == 1500u);
  CHECK(parse_size("1500B") == 1500u);
  CHECK(parse_size("64KB") == 64'000u);
  CHECK(parse_size("64kB") == 64'000u);
  CHECK(parse_size("64KiB") == 65'536u);
  CHECK(parse_size("1MB") == 1'000'000u);
  CHECK(parse_size("1MiB") == 1'048'576u);
  CHECK(parse_size("1GiB") == 1'073'741'824u);
  CHECK(parse_size("1.5KB") == 1'500u);
  CHECK(parse_size("0.5KiB") == 512u);
  auto f = [](const std::string& s) { return parse_size(s); };
  CHECK(unit_error(f, "1.5B") == "not a whole number of bytes");
  CHECK(unit_error(f, "64Kb").find("unknown unit 'Kb'") == 0);
  CHECK(unit_error(f, "-1") == "must not be negative");
}
