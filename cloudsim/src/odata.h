// The OData query options the simulator understands ($filter, $select, $top, $skiptoken) and
// server-driven paging with @odata.nextLink.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "entities.h"
#include "hangar/core/result.h"

namespace hangar::cloudsim {

// A parsed $filter: comparisons (eq ne gt ge lt le), `in ('a','b')` lists and
// contains/startswith/endswith on properties (nested with '/', e.g. state/deviceImportStatus),
// combined with and/or/not and parentheses. String comparisons are case-insensitive, as Intune's
// are.
class Filter {
 public:
  struct Node;
  // Error code "BadRequest" with Graph's wording ("Invalid filter clause: ...", "Could not find a
  // property named ...").
  static core::Result<Filter> parse(std::string_view text, const EntitySchema& schema);
  bool matches(const nlohmann::json& entity) const;
  // When the whole filter is one function call ("contains(serialNumber,'X')"): the function's
  // name in lower case and the property path ("serialNumber", "state/deviceImportStatus").
  std::optional<std::pair<std::string, std::string>> single_function() const;

 private:
  std::shared_ptr<const Node> root_;
};

struct QueryOptions {
  std::optional<Filter> filter;
  std::vector<std::string> select;
  std::optional<std::int64_t> top;
  std::optional<std::uint64_t> after_seq;  // decoded $skiptoken
  // The options to repeat in @odata.nextLink (everything except $skiptoken), still decoded.
  std::vector<std::pair<std::string, std::string>> carried;
};

// `collection` false: a single entity, where only $select is meaningful.
core::Result<QueryOptions> parse_query_options(
    const std::vector<std::pair<std::string, std::string>>& query, const EntitySchema& schema,
    bool collection);

// $select applied (or the schema's default property set).
nlohmann::json project(const nlohmann::json& entity, const std::vector<std::string>& select,
                       const EntitySchema& schema);

struct PageRequest {
  std::int64_t default_page_size = 100;
  std::int64_t max_page_size = 1000;
  std::string collection_url;  // absolute, without query: where nextLink points
  std::string context_url;     // "{graph}/$metadata#{entity set}"
};

// {"@odata.context", "value", "@odata.nextLink"?}; the link resumes after `next_after`.
nlohmann::json page_body(nlohmann::json value, std::optional<std::uint64_t> next_after,
                         const QueryOptions& options, const PageRequest& page);

// One page of `items` (in sequence order): filtered, resumed after $skiptoken, cut at $top or the
// page size, projected by $select. Entities are turned into JSON only as far as the page needs.
template <typename T>
nlohmann::json make_page(const std::map<std::uint64_t, T>& items, const QueryOptions& options,
                         const EntitySchema& schema, const PageRequest& page) {
  const std::int64_t size =
      std::min(options.top ? *options.top : page.default_page_size, page.max_page_size);
  nlohmann::json value = nlohmann::json::array();
  std::optional<std::uint64_t> last_seq;
  bool more = false;
  auto it = options.after_seq ? items.upper_bound(*options.after_seq) : items.begin();
  for (; it != items.end(); ++it) {
    nlohmann::json entity = to_json(it->second);
    if (options.filter && !options.filter->matches(entity)) continue;
    if (static_cast<std::int64_t>(value.size()) >= size) {
      more = true;
      break;
    }
    value.push_back(project(entity, options.select, schema));
    last_seq = it->first;
  }
  return page_body(std::move(value), more ? last_seq : std::nullopt, options, page);
}

std::string encode_skiptoken(std::uint64_t after_seq);

}  // namespace hangar::cloudsim
