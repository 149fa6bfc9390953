#include "megzawicol/l4/seq.hpp"

namespace mz::l4 {

std::string SeqNum::to_string() const { return std::to_string(v_); }

}  // namespace mz::l4
