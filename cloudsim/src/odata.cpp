// A small OData query engine: $filter parsing/evaluation, $select, $top and keyset paging.
#include "odata.h"

#include <cctype>
#include <charconv>

#include "text.h"

namespace hangar::cloudsim {

using nlohmann::json;

struct Filter::Node {
  enum class Kind { kAnd, kOr, kNot, kCompare, kFunction, kIn } kind = Kind::kCompare;
  std::string op;                 // eq/ne/... or contains/startswith/endswith
  std::vector<std::string> path;  // property path
  json literal;                   // for kIn: an array
  std::shared_ptr<const Node> left, right;
};

namespace {

core::Error bad_request(std::string message) {
  return core::make_error("BadRequest", std::move(message));
}

core::Error invalid_filter(const std::string& detail) {
  return bad_request("Invalid filter clause: " + detail);
}

core::Error unknown_property(const std::string& name, const EntitySchema& schema) {
  return bad_request("Could not find a property named '" + name + "' on type '" + schema.type_name +
                     "'.");
}

struct Token {
  enum class Kind { kWord, kString, kOpen, kClose, kComma, kEnd } kind = Kind::kEnd;
  std::string text;
};

core::Result<std::vector<Token>> tokenize(std::string_view text) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '(' || c == ')' || c == ',') {
      tokens.push_back({c == '('   ? Token::Kind::kOpen
                        : c == ')' ? Token::Kind::kClose
                                   : Token::Kind::kComma,
                        std::string(1, c)});
      ++i;
    } else if (c == '\'') {
      std::string value;
      ++i;
      bool closed = false;
      while (i < text.size()) {
        if (text[i] == '\'') {
          if (i + 1 < text.size() && text[i + 1] == '\'') {  // '' is an escaped quote
            value.push_back('\'');
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        value.push_back(text[i++]);
      }
      if (!closed) return invalid_filter("unterminated string literal");
      tokens.push_back({Token::Kind::kString, std::move(value)});
    } else {
      std::size_t start = i;
      while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i])) &&
             std::string_view("(),'").find(text[i]) == std::string_view::npos) {
        ++i;
      }
      tokens.push_back({Token::Kind::kWord, std::string(text.substr(start, i - start))});
    }
  }
  tokens.push_back({Token::Kind::kEnd, ""});
  return tokens;
}

bool is_comparison(const std::string& word) {
  return word == "eq" || word == "ne" || word == "gt" || word == "ge" || word == "lt" ||
         word == "le";
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, const EntitySchema& schema)
      : tokens_(std::move(tokens)), schema_(schema) {}

  core::Result<std::shared_ptr<const Filter::Node>> parse() {
    auto node = parse_or();
    if (!node) return node;
    if (peek().kind != Token::Kind::kEnd) return invalid_filter("unexpected '" + peek().text + "'");
    return node;
  }

 private:
  using NodePtr = std::shared_ptr<const Filter::Node>;

  const Token& peek() const { return tokens_[pos_]; }
  Token next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool peek_word(const char* word) const {
    return peek().kind == Token::Kind::kWord && iequals(peek().text, word);
  }

  core::Result<NodePtr> combine(Filter::Node::Kind kind, const char* word,
                                core::Result<NodePtr> (Parser::*operand)()) {
    auto left = (this->*operand)();
    if (!left) return left;
    NodePtr result = *left;
    while (peek_word(word)) {
      next();
      auto right = (this->*operand)();
      if (!right) return right;
      auto node = std::make_shared<Filter::Node>();
      node->kind = kind;
      node->left = result;
      node->right = *right;
      result = node;
    }
    return result;
  }

  core::Result<NodePtr> parse_or() {
    return combine(Filter::Node::Kind::kOr, "or", &Parser::parse_and);
  }
  core::Result<NodePtr> parse_and() {
    return combine(Filter::Node::Kind::kAnd, "and", &Parser::parse_unary);
  }

  core::Result<NodePtr> parse_unary() {
    if (peek_word("not")) {
      next();
      auto inner = parse_unary();
      if (!inner) return inner;
      auto node = std::make_shared<Filter::Node>();
      node->kind = Filter::Node::Kind::kNot;
      node->left = *inner;
      return NodePtr(node);
    }
    return parse_primary();
  }

  core::Result<std::vector<std::string>> parse_path(const Token& token) {
    if (token.kind != Token::Kind::kWord || token.text.empty() ||
        !std::isalpha(static_cast<unsigned char>(token.text[0]))) {
      return invalid_filter("expected a property name, found '" + token.text + "'");
    }
    auto path = split(token.text, '/');
    if (!schema_.has_property(path[0])) return unknown_property(path[0], schema_);
    return path;
  }

  core::Result<json> parse_literal(const Token& token) {
    if (token.kind == Token::Kind::kString) return json(token.text);
    if (token.kind != Token::Kind::kWord) return invalid_filter("expected a value");
    const std::string& w = token.text;
    if (w == "true") return json(true);
    if (w == "false") return json(false);
    if (w == "null") return json(nullptr);
    double number = 0;
    auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), number);
    if (ec == std::errc() && end == w.data() + w.size()) return json(number);
    // Unquoted DateTimeOffset/Guid literals (lastSyncDateTime lt 2024-01-01T00:00:00Z).
    if (!w.empty() && std::isdigit(static_cast<unsigned char>(w[0]))) return json(w);
    return invalid_filter("'" + w + "' is not a valid literal");
  }

  core::Result<NodePtr> parse_primary() {
    if (peek().kind == Token::Kind::kOpen) {
      next();
      auto inner = parse_or();
      if (!inner) return inner;
      if (next().kind != Token::Kind::kClose) return invalid_filter("missing ')'");
      return inner;
    }
    Token first = next();
    if (first.kind == Token::Kind::kWord && peek().kind == Token::Kind::kOpen) {
      std::string fn = to_lower(first.text);
      if (fn != "contains" && fn != "startswith" && fn != "endswith") {
        return invalid_filter("the function '" + first.text + "' is not supported");
      }
      next();
      auto path = parse_path(next());
      if (!path) return path.error();
      if (next().kind != Token::Kind::kComma) return invalid_filter(fn + " needs two arguments");
      auto literal = parse_literal(next());
      if (!literal) return literal.error();
      if (!literal->is_string()) return invalid_filter(fn + " needs a string argument");
      if (next().kind != Token::Kind::kClose) return invalid_filter("missing ')' after " + fn);
      auto node = std::make_shared<Filter::Node>();
      node->kind = Filter::Node::Kind::kFunction;
      node->op = fn;
      node->path = std::move(*path);
      node->literal = std::move(*literal);
      return NodePtr(node);
    }
    auto path = parse_path(first);
    if (!path) return path.error();
    Token op = next();
    if (op.kind == Token::Kind::kWord && iequals(op.text, "in")) return parse_in(std::move(*path));
    if (op.kind != Token::Kind::kWord || !is_comparison(to_lower(op.text))) {
      return invalid_filter("expected eq, ne, gt, ge, lt, le or in after '" + first.text + "'");
    }
    auto literal = parse_literal(next());
    if (!literal) return literal.error();
    auto node = std::make_shared<Filter::Node>();
    node->kind = Filter::Node::Kind::kCompare;
    node->op = to_lower(op.text);
    node->path = std::move(*path);
    node->literal = std::move(*literal);
    return NodePtr(node);
  }

  // "property in ('a','b')": a list of literals in parentheses.
  core::Result<NodePtr> parse_in(std::vector<std::string> path) {
    if (next().kind != Token::Kind::kOpen) return invalid_filter("'in' needs a list in ( )");
    auto node = std::make_shared<Filter::Node>();
    node->kind = Filter::Node::Kind::kIn;
    node->path = std::move(path);
    node->literal = json::array();
    while (true) {
      auto literal = parse_literal(next());
      if (!literal) return literal.error();
      node->literal.push_back(std::move(*literal));
      Token separator = next();
      if (separator.kind == Token::Kind::kClose) break;
      if (separator.kind != Token::Kind::kComma) return invalid_filter("missing ')' after 'in'");
    }
    return NodePtr(node);
  }

  std::vector<Token> tokens_;
  const EntitySchema& schema_;
  std::size_t pos_ = 0;
};

const json* resolve(const json& entity, const std::vector<std::string>& path) {
  const json* at = &entity;
  for (const auto& part : path) {
    if (!at->is_object()) return nullptr;
    auto it = at->find(part);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

// -1, 0, 1, or nullopt when the two cannot be ordered.
std::optional<int> compare(const json& value, const json& literal) {
  if (value.is_string() && literal.is_string()) {
    int c = to_lower(value.get<std::string>()).compare(to_lower(literal.get<std::string>()));
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (value.is_number() && literal.is_number()) {
    double a = value.get<double>(), b = literal.get<double>();
    return a < b ? -1 : (a > b ? 1 : 0);
  }
  if (value.is_boolean() && literal.is_boolean()) {
    return value.get<bool>() == literal.get<bool>() ? 0 : 1;
  }
  return std::nullopt;
}

bool evaluate(const Filter::Node& node, const json& entity) {
  using Kind = Filter::Node::Kind;
  switch (node.kind) {
    case Kind::kAnd:
      return evaluate(*node.left, entity) && evaluate(*node.right, entity);
    case Kind::kOr:
      return evaluate(*node.left, entity) || evaluate(*node.right, entity);
    case Kind::kNot:
      return !evaluate(*node.left, entity);
    case Kind::kFunction: {
      const json* value = resolve(entity, node.path);
      if (!value || !value->is_string()) return false;
      auto text = value->get<std::string>();
      auto needle = node.literal.get<std::string>();
      if (node.op == "contains") return icontains(text, needle);
      if (node.op == "startswith") return istarts_with(text, needle);
      return iends_with(text, needle);
    }
    case Kind::kIn: {
      const json* value = resolve(entity, node.path);
      if (!value) return false;
      for (const auto& literal : node.literal) {
        if (compare(*value, literal) == 0) return true;
      }
      return false;
    }
    case Kind::kCompare: {
      const json* value = resolve(entity, node.path);
      bool is_null = !value || value->is_null();
      if (node.literal.is_null()) return (node.op == "eq") == is_null;
      if (is_null) return node.op == "ne";
      auto c = compare(*value, node.literal);
      if (!c) return node.op == "ne";
      if (node.op == "eq") return *c == 0;
      if (node.op == "ne") return *c != 0;
      if (node.op == "gt") return *c > 0;
      if (node.op == "ge") return *c >= 0;
      if (node.op == "lt") return *c < 0;
      return *c <= 0;
    }
  }
  return false;
}

}  // namespace

core::Result<Filter> Filter::parse(std::string_view text, const EntitySchema& schema) {
  auto tokens = tokenize(text);
  if (!tokens) return tokens.error();
  if (tokens->size() == 1) return invalid_filter("the filter is empty");
  auto root = Parser(std::move(*tokens), schema).parse();
  if (!root) return root.error();
  Filter filter;
  filter.root_ = *root;
  return filter;
}

bool Filter::matches(const json& entity) const { return evaluate(*root_, entity); }

std::optional<std::pair<std::string, std::string>> Filter::single_function() const {
  if (!root_ || root_->kind != Node::Kind::kFunction) return std::nullopt;
  std::string path;
  for (const auto& part : root_->path) path += (path.empty() ? "" : "/") + part;
  return std::make_pair(root_->op, path);
}

std::string encode_skiptoken(std::uint64_t after_seq) {
  return base64url_encode("after:" + std::to_string(after_seq));
}

core::Result<QueryOptions> parse_query_options(
    const std::vector<std::pair<std::string, std::string>>& query, const EntitySchema& schema,
    bool collection) {
  QueryOptions options;
  for (const auto& [raw_key, value] : query) {
    std::string key = to_lower(raw_key);
    if (key.empty() || key[0] != '$') continue;  // non-OData parameters are ignored, as by Graph
    if (key == "$select") {
      for (const auto& part : split(value, ',')) {
        auto name = trim(part);
        if (!schema.has_property(name)) return unknown_property(name, schema);
        options.select.push_back(name);
      }
    } else if (!collection) {
      return bad_request("Query option '" + raw_key + "' is not allowed on a single entity.");
    } else if (key == "$filter") {
      auto filter = Filter::parse(value, schema);
      if (!filter) return filter.error();
      options.filter = std::move(*filter);
    } else if (key == "$top") {
      std::int64_t top = -1;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), top);
      if (ec != std::errc() || end != value.data() + value.size() || top < 0) {
        return bad_request("Invalid value '" + value + "' for $top query option found.");
      }
      options.top = top;
    } else if (key == "$skiptoken") {
      auto decoded = base64url_decode(value);
      std::uint64_t seq = 0;
      if (!decoded || decoded->rfind("after:", 0) != 0 ||
          std::from_chars(decoded->data() + 6, decoded->data() + decoded->size(), seq).ec !=
              std::errc()) {
        return bad_request("The $skiptoken '" + value +
                           "' is invalid; follow @odata.nextLink as given.");
      }
      options.after_seq = seq;
      continue;  // not carried: the next link gets a fresh one
    } else {
      return bad_request("Query option '" + raw_key +
                         "' is not supported by this resource in hangar-cloudsim.");
    }
    options.carried.emplace_back(raw_key, value);
  }
  return options;
}

json project(const json& entity, const std::vector<std::string>& select,
             const EntitySchema& schema) {
  const auto& wanted = select.empty() ? schema.default_properties : select;
  if (wanted.empty()) return entity;
  json out = json::object();
  for (const auto& name : wanted) {
    auto it = entity.find(name);
    if (it != entity.end()) out[name] = *it;
  }
  return out;
}

json page_body(json value, std::optional<std::uint64_t> next_after, const QueryOptions& options,
               const PageRequest& page) {
  std::string context = page.context_url;
  if (!options.select.empty()) {
    context += "(";
    for (std::size_t i = 0; i < options.select.size(); ++i) {
      context += (i ? "," : "") + options.select[i];
    }
    context += ")";
  }
  json body{{"@odata.context", context}};
  if (next_after) {
    std::string link = page.collection_url + "?";
    for (const auto& [key, val] : options.carried) {
      link += percent_encode(key) + "=" + percent_encode(val) + "&";
    }
    link += "$skiptoken=" + encode_skiptoken(*next_after);
    body["@odata.nextLink"] = link;
  }
  body["value"] = std::move(value);
  return body;
}

}  // namespace hangar::cloudsim
