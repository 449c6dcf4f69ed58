// Request dispatch: version and permission checks, handler call, errors turned into replies.
#include "hangar/ipc/dispatcher.h"

#include <exception>
#include <optional>
#include <string>

#include "hangar/core/excerpt.h"

namespace hangar::ipc {

core::Result<Dispatcher> Dispatcher::create(std::vector<Binding> bindings) {
  Dispatcher dispatcher;
  for (auto& binding : bindings) {
    const CommandInfo* info = find_command(binding.command);
    if (!info) {
      return core::make_error(errc::kInternal, "handler bound to unknown command \"" +
                                                   std::string(binding.command) + "\"");
    }
    if (!binding.handler) {
      return core::make_error(errc::kInternal,
                              "empty handler for command \"" + std::string(info->name) + "\"");
    }
    if (!dispatcher.entries_.emplace(info->name, Entry{info, std::move(binding.handler)}).second) {
      return core::make_error(errc::kInternal,
                              "command \"" + std::string(info->name) + "\" bound twice");
    }
  }
  for (const auto& info : kCommands) {
    if (!dispatcher.entries_.contains(info.name)) {
      return core::make_error(errc::kInternal,
                              "command \"" + std::string(info.name) + "\" has no handler");
    }
  }
  return dispatcher;
}

Reply Dispatcher::dispatch(const Request& request, const PeerIdentity& peer,
                           StreamTask* stream_after) const {
  auto it = entries_.find(request.command);
  if (it == entries_.end()) {
    return make_error_reply(request.id,
                            core::make_error(errc::kUnknownCommand,
                                             "unknown command \"" + core::excerpt(request.command) +
                                                 "\"; run `hangar help` for the list"));
  }
  const Entry& entry = it->second;
  const std::string caller = peer.user.empty() ? std::string("this caller") : peer.user;
  if (entry.info->permission == Permission::kWrite && !peer.can_write) {
    return make_error_reply(
        request.id,
        core::make_error(errc::kPermissionDenied,
                         "\"" + request.command + "\" changes the queue and " + caller +
                             " is not allowed to; run it as an administrator or a member of "
                             "the Hangar operators group"));
  }
  if (entry.info->permission == Permission::kAdmin && !peer.is_admin) {
    // The operators group is not enough: the cloud credentials belong to the tenant's admins.
    return make_error_reply(
        request.id,
        core::make_error(errc::kPermissionDenied,
                         "\"" + request.command + "\" changes the cloud credentials and " + caller +
                             " is not allowed to (the operators group is not enough); run it as "
                             "an administrator (root on Linux) or as the service's own account"));
  }
  if (auto args = check_args(*entry.info, request.args); !args) {
    return make_error_reply(request.id, std::move(args).error());
  }
  try {
    core::Result<Json> result =
        entry.handler(request.args, CallContext{peer, request.id, stream_after});
    if (!result) {
      core::Error error = std::move(result).error();
      // "timeout" is a client's own word for "no answer came" (protocol.h): what a handler waited
      // for in vain (the cloud) is said otherwise, so the client does not take the answer for
      // a silent service.
      if (error.code == errc::kTimeout) error.code = errc::kCloudTimeout;
      return make_error_reply(request.id, std::move(error));
    }
    Reply reply;
    reply.id = request.id;
    reply.result = std::move(result).value();
    return reply;
  } catch (const std::exception& e) {
    return make_error_reply(
        request.id, core::make_error(errc::kInternal, "\"" + request.command + "\" failed: " +
                                                          core::excerpt(e.what(), 200)));
  } catch (...) {
    return make_error_reply(
        request.id, core::make_error(errc::kInternal, "\"" + request.command + "\" failed"));
  }
}

std::string Dispatcher::handle(std::string_view payload, Stream& stream, bool* close_after,
                               StreamTask* stream_after, BudgetLease* lease,
                               std::size_t max_reply_size) const {
  std::uint64_t id = 0;
  auto request = parse_request(payload, &id, lease);
  if (close_after) *close_after = false;
  if (!request) {
    if (close_after) {
      *close_after =
          request.error().code == errc::kMalformedRequest || request.error().code == errc::kBusy;
    }
    Reply reply = make_error_reply(id, std::move(request).error());
    reply.encoding = payload_encoding(payload);
    return serialize(std::move(reply));
  }
  const CommandInfo* info = find_command(request->command);
  // A large reply from a user other than an administrator waits for its turn (its memory is
  // counted once built, below; this bounds what is built meanwhile).
  std::optional<std::unique_lock<std::mutex>> turn;
  const bool gated = info != nullptr && info->large_reply && !stream.peer().is_admin;
  if (gated) {
    LargeReplies& gate = *large_replies_;
    turn.emplace(gate.mutex);
    if (!gate.freed.wait_for(*turn, kLargeReplyWait,
                             [&gate] { return gate.building < kLargeRepliesAtOnce; })) {
      if (close_after) *close_after = true;
      Reply refusal = make_error_reply(
          request->id,
          core::make_error(errc::kBusy, "the service is building " +
                                            std::to_string(kLargeRepliesAtOnce) +
                                            " large replies for users other than administrators "
                                            "and this one waited " +
                                            std::to_string(kLargeReplyWait.count()) +
                                            " s for its turn; try again shortly"));
      refusal.encoding = request->encoding;
      return serialize(std::move(refusal));
    }
    ++gate.building;
    turn->unlock();
  }
  struct Done {
    LargeReplies* gate;
    ~Done() {
      if (gate == nullptr) return;
      {
        std::lock_guard lock(gate->mutex);
        --gate->building;
      }
      gate->freed.notify_one();
    }
  } done{gated ? large_replies_.get() : nullptr};
  Reply reply = dispatch(*request, stream.peer(), stream_after);
  if (!reply.ok && stream_after) *stream_after = nullptr;  // a refused subscription streams nothing
  // Busy means "come back later": a caller that kept its connection meanwhile would hold one of
  // the slots there are too few of (a subscriber over its cap, retrying on 256 connections).
  if (!reply.ok && reply.error.code == errc::kBusy && close_after) *close_after = true;
  reply.encoding = request->encoding;  // answer in the client's encoding
  std::string text = serialize(std::move(reply));
  // The reply is held until the client has read it: charged like the request, so clients that
  // ask for large pages and never read them are refused, not given the service's memory
  // (black-box round 13: 32 unread `list` replies took hangard to 400 MB).
  // Only a read's: a command that changed something is answered whatever it costs (its replies
  // are small), so its caller never hears busy for work that was done.
  const bool read_only = info != nullptr && info->permission == Permission::kRead;
  if (lease != nullptr && read_only && text.size() <= max_reply_size &&
      !lease->cover(lease->covered() + text.size())) {
    if (stream_after) *stream_after = nullptr;
    if (close_after) *close_after = true;
    Reply refusal = make_error_reply(
        request->id,
        core::make_error(errc::kBusy, lease->refusal("its reply (" + std::to_string(text.size()) +
                                                     " bytes) waited to be read")));
    refusal.encoding = request->encoding;
    return serialize(std::move(refusal));
  }
  if (text.size() <= max_reply_size) return text;
  // The handler's pages are sized to fit; this is the safety net for anything that is not, so the
  // client learns why instead of losing its connection to a reply that cannot be sent.
  if (stream_after) *stream_after = nullptr;
  Reply refusal = make_error_reply(
      request->id,
      core::make_error(errc::kFrameTooLarge,
                       "the reply to \"" + request->command + "\" would be " +
                           std::to_string(text.size()) + " bytes, more than the " +
                           std::to_string(max_reply_size) +
                           " a frame may carry; ask for less (a smaller --limit, or filters)"));
  refusal.encoding = request->encoding;
  return serialize(std::move(refusal));
}

}  // namespace hangar::ipc
