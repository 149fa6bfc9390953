// Plain aligned text tables for the inspect commands (internal).
#pragma once

#include <string>
#include <vector>

namespace mz::inspect::detail {

class Table {
 public:
  /// `right[i]`: right-align column i (numbers).
  Table(std::vector<std::string> header, std::vector<bool> right) : header_(std::move(header)), right_(std::move(right)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  /// Rows indented by `indent` spaces, columns separated by two spaces, no trailing blanks.
  std::string render(size_t indent = 2) const {
    std::vector<size_t> w(header_.size(), 0);
    auto widen = [&](const std::vector<std::string>& r) {
      for (size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], width(r[i]));
    };
    widen(header_);
    for (const auto& r : rows_) widen(r);
    std::string out;
    auto line = [&](const std::vector<std::string>& r) {
      std::string l(indent, ' ');
      for (size_t i = 0; i < w.size(); ++i) {
        const std::string cell = i < r.size() ? r[i] : "";
        const size_t pad = w[i] - width(cell);
        if (i) l += "  ";
        if (i < right_.size() && right_[i]) l.append(pad, ' ');
        l += cell;
        if (!(i < right_.size() && right_[i])) l.append(pad, ' ');
      }
      while (!l.empty() && l.back() == ' ') l.pop_back();
      out += l + "\n";
    };
    line(header_);
    for (const auto& r : rows_) line(r);
    return out;
  }

 private:
  // Display width: UTF-8 continuation bytes take no column.
  static size_t width(const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s)
      if ((c & 0xC0) != 0x80) ++n;
    return n;
  }
  std::vector<std::string> header_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace mz::inspect::detail
