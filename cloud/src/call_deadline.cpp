// The per-thread bound on cloud calls (see call_deadline.h).
#include "hangar/cloud/call_deadline.h"

#include <algorithm>

namespace hangar::cloud {

namespace {
thread_local std::optional<std::chrono::steady_clock::time_point> t_deadline;
}  // namespace

CallDeadline::CallDeadline(std::chrono::steady_clock::time_point until) : outer_(t_deadline) {
  t_deadline = outer_ ? std::min(*outer_, until) : until;
}

CallDeadline::~CallDeadline() { t_deadline = outer_; }

std::chrono::milliseconds call_timeout(std::chrono::milliseconds configured) {
  if (!t_deadline) return configured;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      *t_deadline - std::chrono::steady_clock::now());
  return std::min(configured, left);
}

bool has_call_deadline() { return t_deadline.has_value(); }

}  // namespace hangar::cloud
