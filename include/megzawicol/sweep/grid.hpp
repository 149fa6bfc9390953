// The grid of a parameter sweep: the cartesian product of the --vary lists, times the seeds.
//
// Run ids number the grid combination-major, seed-minor: id = combination * seeds + k,
// where the combination index is mixed-radix over the --vary lists with the last list
// varying fastest (like nested loops in the order the lists were given). A run id
// therefore names the same (values, seed) on every machine, which is what --shard
// relies on: shard I of N runs the ids with id % N == I.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace mz::sweep {

/// Bad command-line input (exit status 2).
class SweepError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One --vary PATH=v1,v2,...: a scenario path (the syntax of --set) and its values.
struct Vary {
  std::string path;
  std::vector<std::string> values;
};

/// Parses "PATH=v1,v2,..."; throws SweepError on bad syntax (no '=', empty path, an empty
/// value, a repeated value, a path that is not a --set path).
Vary parse_vary(const std::string& text);

/// Parses "1-20", "7", "1-5,9,12-13" into the seed list, in the order given; throws
/// SweepError on anything else (reversed ranges, repeated seeds, more than 100000 seeds).
std::vector<uint64_t> parse_seeds(const std::string& text);

/// "I/N" with 0 <= I < N; throws SweepError otherwise.
struct Shard {
  size_t index = 0;
  size_t count = 1;
  bool contains(size_t run_id) const { return run_id % count == index; }
};
Shard parse_shard(const std::string& text);

struct Grid {
  std::vector<Vary> vary;
  std::vector<uint64_t> seeds;

  /// Checks the grid (distinct paths, at least one seed, at most 1000000 runs); throws SweepError.
  void validate() const;
  size_t combinations() const;
  size_t size() const { return combinations() * seeds.size(); }
  size_t combination_of(size_t run_id) const { return run_id / seeds.size(); }
  uint64_t seed_of(size_t run_id) const { return seeds[run_id % seeds.size()]; }
  /// The index into vary[i].values of each varied parameter, for a combination.
  std::vector<size_t> value_indices(size_t combination) const;
  /// The values of the varied parameters, for a combination.
  std::vector<std::string> values(size_t combination) const;
  /// The --set overrides of a combination: "PATH=VALUE" per varied parameter.
  std::vector<std::string> overrides(size_t combination) const;
};

}  // namespace mz::sweep
