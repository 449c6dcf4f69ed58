// Recognising serials Excel read as numbers: the number Excel stored, then every form it writes
// that number in (see spreadsheet.h for the facts).
#include "hangar/intake/spreadsheet.h"

#include <algorithm>
#include <vector>

namespace hangar::core {
namespace {

// Excel keeps 15 significant digits, and its largest number is about 1e308.
constexpr std::size_t kSignificantDigits = 15;
constexpr int kMaxMagnitude = 308;
// Longer text is no serial Excel turned into a number (and keeps the arithmetic small).
constexpr std::size_t kMaxSerialLength = 64;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), is_digit);
}

bool all_zeros(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c == '0'; });
}

// A non-negative number: digits x 10^scale. `digits` has no leading zeros and, unless it is "0",
// no trailing zeros (they are counted in scale).
struct Number {
  std::string digits = "0";
  int scale = 0;

  bool zero() const { return digits == "0"; }
  // The power of ten of the first digit: 165207713570 -> 11.
  int magnitude() const { return static_cast<int>(digits.size()) - 1 + scale; }
};

Number normalized(std::string digits, int scale) {
  const std::size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return Number{};
  digits.erase(0, first);
  const std::size_t last = digits.find_last_not_of('0');
  scale += static_cast<int>(digits.size() - 1 - last);
  digits.resize(last + 1);
  return Number{std::move(digits), scale};
}

// The number Excel stores for `text` when it takes it for one: plain digits ("016520771357") or
// digits with an exponent ("22E1"), cut to 15 significant digits. nullopt: Excel keeps it text.
std::optional<Number> excel_value(std::string_view text) {
  if (text.empty() || text.size() > kMaxSerialLength) return std::nullopt;
  const std::size_t e = text.find_first_of("eE");
  const std::string_view mantissa = text.substr(0, e);
  if (!all_digits(mantissa)) return std::nullopt;
  int exponent = 0;
  if (e != std::string_view::npos) {
    std::string_view tail = text.substr(e + 1);
    bool negative = false;
    if (!tail.empty() && (tail.front() == '+' || tail.front() == '-')) {
      negative = tail.front() == '-';
      tail.remove_prefix(1);
    }
    if (!all_digits(tail) || tail.size() > 3) return std::nullopt;
    for (char c : tail) exponent = exponent * 10 + (c - '0');
    if (negative) exponent = -exponent;
  }
  std::string digits(mantissa.substr(std::min(mantissa.find_first_not_of('0'), mantissa.size())));
  int scale = exponent;
  if (digits.size() > kSignificantDigits) {
    scale += static_cast<int>(digits.size() - kSignificantDigits);
    digits.resize(kSignificantDigits);  // cut, not rounded: "changes digits ... to zeros"
  }
  Number value = normalized(std::move(digits), scale);
  if (!value.zero() && (value.magnitude() > kMaxMagnitude || value.magnitude() < -kMaxMagnitude)) {
    return std::nullopt;
  }
  return value;
}

// `value` rounded half up to `count` significant digits: the digits (exactly `count`, trailing
// zeros kept) and the magnitude, which a carry can raise (9.99999E+11 -> 1.00000E+12).
std::pair<std::string, int> rounded(const Number& value, std::size_t count) {
  std::string head = value.digits.substr(0, count);
  head.resize(count, '0');
  int magnitude = value.magnitude();
  if (value.digits.size() > count && value.digits[count] >= '5') {
    std::size_t i = count;
    while (i > 0 && head[i - 1] == '9') head[--i] = '0';
    if (i == 0) {
      head = "1" + std::string(count - 1, '0');
      ++magnitude;
    } else {
      ++head[i - 1];
    }
  }
  return {head, magnitude};
}

struct Scientific {
  std::string digits;  // the mantissa's digits without its decimal separator: "165208"
  int exponent = 0;
};

// Excel's scientific notation: one digit 1-9, optionally a decimal separator ('.' or ',', by
// locale) and more digits, 'E', a sign unless `sign_optional`, and the exponent.
std::optional<Scientific> parse_scientific(std::string_view text, bool sign_optional) {
  const std::size_t e = text.find_first_of("eE");
  if (e == std::string_view::npos || e == 0) return std::nullopt;
  std::string_view mantissa = text.substr(0, e);
  std::string_view tail = text.substr(e + 1);
  if (mantissa.front() < '1' || mantissa.front() > '9') return std::nullopt;
  Scientific out;
  out.digits.push_back(mantissa.front());
  mantissa.remove_prefix(1);
  if (!mantissa.empty()) {
    if (mantissa.front() != '.' && mantissa.front() != ',') return std::nullopt;
    mantissa.remove_prefix(1);
    if (!all_digits(mantissa)) return std::nullopt;
    out.digits.append(mantissa);
  }
  bool negative = false;
  if (!tail.empty() && (tail.front() == '+' || tail.front() == '-')) {
    negative = tail.front() == '-';
    tail.remove_prefix(1);
  } else if (!sign_optional) {
    return std::nullopt;
  }
  if (!all_digits(tail) || tail.size() > 3 || (!sign_optional && tail.size() < 2)) {
    return std::nullopt;
  }
  for (char c : tail) out.exponent = out.exponent * 10 + (c - '0');
  if (negative) out.exponent = -out.exponent;
  if (out.digits.size() > kSignificantDigits) return std::nullopt;
  return out;
}

// An integer as the Number or Accounting format writes it: digits, thousands separators in
// groups of three (',' '.' space, no-break space, narrow no-break space or '\'', by locale), then
// optionally a decimal separator and zeros. Calls `match` with each reading of the text's digits
// (the one separator in "165,207" may be either kind) and whether it had separators or decimals.
template <typename Match>
bool formatted_integer(std::string_view text, Match match) {
  std::vector<std::string_view> runs;
  std::vector<std::string_view> separators;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t j = i;
    while (j < text.size() && is_digit(text[j])) ++j;
    if (j == i) return false;  // a separator must follow digits
    runs.push_back(text.substr(i, j - i));
    if (j == text.size()) break;
    std::size_t width = 0;
    for (std::string_view sep : {",", ".", " ", "'", "\xC2\xA0", "\xE2\x80\xAF"}) {
      if (text.substr(j, sep.size()) == sep) {
        width = sep.size();
        break;
      }
    }
    if (width == 0 || j + width >= text.size()) return false;
    separators.push_back(text.substr(j, width));
    i = j + width;
  }
  if (runs.empty()) return false;
  // Groups of three after the first, all with the same separator.
  const auto grouped = [&](std::size_t run_count) {
    if (run_count == 1) return true;
    if (runs[0].size() > 3 || runs[0].front() == '0') return false;
    for (std::size_t k = 1; k < run_count; ++k) {
      if (runs[k].size() != 3 || separators[k - 1] != separators[0]) return false;
    }
    return true;
  };
  const auto joined = [&](std::size_t run_count) {
    std::string digits;
    for (std::size_t k = 0; k < run_count; ++k) digits.append(runs[k]);
    return digits;
  };
  bool any = false;
  if (grouped(runs.size())) {
    any |= match(joined(runs.size()), runs.size() > 1);
  }
  const std::string_view last = separators.empty() ? std::string_view() : separators.back();
  if ((last == "." || last == ",") && all_zeros(runs.back()) && grouped(runs.size() - 1) &&
      (runs.size() == 2 || separators[0] != last)) {
    any |= match(joined(runs.size() - 1), true);
  }
  return any;
}

}  // namespace

std::string_view describe(SerialDamage damage) {
  switch (damage) {
    case SerialDamage::kScientificNotation:
      return "scientific notation";
    case SerialDamage::kLeadingZerosDropped:
      return "it read the serial as a number and dropped its leading zeros";
    case SerialDamage::kDigitsPastFifteen:
      return "it read the serial as a number and kept only its first 15 digits";
    case SerialDamage::kNumberFormat:
      return "it read the serial as a number and wrote it with decimals or thousands separators";
    case SerialDamage::kReadAsExponent:
      return "it read the serial as a number in scientific notation";
  }
  return "";
}

std::optional<SerialDamage> excel_serial_damage(std::string_view true_serial,
                                                std::string_view file_serial) {
  if (file_serial.empty() || file_serial.size() > kMaxSerialLength) return std::nullopt;
  const auto value = excel_value(true_serial);
  if (!value) return std::nullopt;
  if (auto shown = parse_scientific(file_serial, true); shown && !value->zero()) {
    const auto [digits, magnitude] = rounded(*value, shown->digits.size());
    if (digits == shown->digits && magnitude == shown->exponent) {
      return SerialDamage::kScientificNotation;
    }
    return std::nullopt;
  }
  if (value->scale < 0) return std::nullopt;  // not an integer: no integer form to compare
  const std::string integer =
      value->digits +
      (value->zero() ? "" : std::string(static_cast<std::size_t>(value->scale), '0'));
  bool decorated = false;
  const bool same = formatted_integer(file_serial, [&](const std::string& digits, bool extras) {
    if (digits != integer) return false;
    decorated = decorated || extras;
    return true;
  });
  if (!same) return std::nullopt;
  if (decorated) return SerialDamage::kNumberFormat;
  if (true_serial.find_first_of("eE") != std::string_view::npos) {
    return SerialDamage::kReadAsExponent;
  }
  const std::size_t significant =
      true_serial.size() - std::min(true_serial.find_first_not_of('0'), true_serial.size());
  if (significant > kSignificantDigits) return SerialDamage::kDigitsPastFifteen;
  if (true_serial.size() > significant) return SerialDamage::kLeadingZerosDropped;
  return std::nullopt;  // the same text: nothing happened to it
}

std::string serial_damage_message(SerialDamage damage, std::string_view true_serial,
                                  std::string_view file_serial) {
  return "Excel turned serial " + std::string(true_serial) + " into " + std::string(file_serial) +
         " (" + std::string(describe(damage)) + ")";
}

bool is_excel_scientific(std::string_view serial) {
  return parse_scientific(serial, false).has_value();
}

std::size_t excel_characters(std::string_view utf8) {
  std::size_t count = 0;
  for (char c : utf8) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte & 0xC0) != 0x80) ++count;  // a lead byte or ASCII starts a character
    if (byte >= 0xF0) ++count;           // beyond the BMP: a surrogate pair in UTF-16
  }
  return count;
}

}  // namespace hangar::core
