#include <catch2/catch.hpp>

#include "config/units.hpp"

using namespace sparsim::units;

TEST_CASE("units: decimal and binary prefixes, bits and bytes", "[units]") {
  // 100 Gbit/s = 100e9 / 8 bytes/s
  REQUIRE(parse("100 Gbps", Dim::bandwidth) == Approx(12.5e9).epsilon(1e-15));
  REQUIRE(parse("25 GB/s", Dim::bandwidth) == Approx(25e9).epsilon(1e-15));
  REQUIRE(parse("400 GBps", Dim::bandwidth) == Approx(400e9).epsilon(1e-15));
  // 32 GiB = 32 * 2^30
  REQUIRE(parse("32 GiB", Dim::bytes) == 32.0 * 1073741824.0);
  REQUIRE(parse("80 GB", Dim::bytes) == 80e9);
  REQUIRE(parse("256 TFLOPS", Dim::flop_rate) == 256e12);
  REQUIRE(parse("2.5 TFLOP/s", Dim::flop_rate) == 2.5e12);
  REQUIRE(parse("1 GFLOP", Dim::flops) == 1e9);
  REQUIRE(parse("2 us", Dim::time) == Approx(2e-6).epsilon(1e-15));
  REQUIRE(parse("1.5 ms", Dim::time) == Approx(1.5e-3).epsilon(1e-15));
  REQUIRE(parse("3s", Dim::time) == 3.0);
}

TEST_CASE("units: wrong dimension, no unit and garbage are errors", "[units]") {
  REQUIRE_THROWS_AS(parse("100", Dim::bandwidth), UnitError);           // no unit
  REQUIRE_THROWS_AS(parse("100 GB", Dim::bandwidth), UnitError);        // bytes, not bytes/s
  REQUIRE_THROWS_AS(parse("fast", Dim::time), UnitError);               // no number
  REQUIRE_THROWS_AS(parse("3 parsecs", Dim::time), UnitError);          // unknown unit
  REQUIRE_THROWS_WITH(parse("100 GB", Dim::bandwidth), Catch::Contains("unknown unit 'GB'"));
}

TEST_CASE("units: values beyond a double are errors, not infinities", "[units]") {
  // The largest double is about 1.8e308: 1e300 PB = 1e300 * 1e15 B overflows to inf, which was
  // accepted as a positive size; 1e400 does not fit a double at all (from_chars: out of range).
  REQUIRE_THROWS_WITH(parse("1e300 PB", Dim::bytes), Catch::Contains("finite"));
  REQUIRE_THROWS_WITH(parse("1e400 B", Dim::bytes), Catch::Contains("range"));
  REQUIRE(parse("1e300 B", Dim::bytes) == 1e300);  // still a double: accepted
}

TEST_CASE("units: format reads back to the same value", "[units]") {
  for (double v : {12.5e9, 1.0, 3.2e-6, 80.0 * 1073741824.0, 989.4e12}) {
    for (Dim d : {Dim::bytes, Dim::bandwidth, Dim::flop_rate, Dim::flops, Dim::time}) {
      REQUIRE(parse(format(v, d), d) == Approx(v).epsilon(1e-8));
    }
  }
}
