// Turns a request payload into a reply payload: parses, checks version and permission against the
// command table, runs the bound handler and converts any failure into a structured error reply.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hangar/ipc/budget.h"
#include "hangar/ipc/commands.h"
#include "hangar/ipc/frame.h"
#include "hangar/ipc/protocol.h"
#include "hangar/ipc/transport.h"

namespace hangar::ipc {

// Writes one more frame to a streaming client: a reply to the streaming request carrying `result`.
// False once the client is gone or did not drain within the server's write timeout.
using FrameWriter = std::function<bool(const Json& result)>;
// Asks, without blocking, whether the stream should end although no write failed: true once the
// client closed its connection, sent anything (a streaming client sends nothing after its
// request: the server ends the stream with a malformed_request error), or the server stops.
using PeerLeft = std::function<bool()>;
// What a streaming command (subscribe) runs after its reply went out; the connection closes when
// it returns, so it must return once the writer fails or `peer_left` says so, and while it waits
// for something to write it asks `peer_left` at least once a second.
using StreamTask = std::function<void(const FrameWriter& write, const PeerLeft& peer_left)>;

// What a handler sees of the caller and the request.
struct CallContext {
  const PeerIdentity& peer;
  std::uint64_t request_id;
  // Set by a streaming command's handler to take the connection over after its reply. Null when
  // the caller cannot stream (Dispatcher::dispatch without a connection).
  StreamTask* stream_after = nullptr;
};

using Handler = std::function<core::Result<Json>(const Json& args, const CallContext& context)>;

struct Binding {
  std::string_view command;
  Handler handler;
};

class Dispatcher {
 public:
  // Fails unless the bindings cover exactly the commands in kCommands.
  static core::Result<Dispatcher> create(std::vector<Binding> bindings);

  // Never throws: exceptions from handlers become "internal" errors. Sets `close_after` when the
  // payload was not a well-formed request, or the reply is a busy refusal, after which the
  // connection should be dropped.
  // A streaming command's handler leaves its task in `stream_after` (when given).
  // Decoding the payload is charged to `lease` (see parse_request). A reply larger than
  // `max_reply_size` is replaced by a `frame_too_large` error reply naming the command, so no
  // reply is ever dropped for its size.
  std::string handle(std::string_view payload, Stream& stream, bool* close_after = nullptr,
                     StreamTask* stream_after = nullptr, BudgetLease* lease = nullptr,
                     std::size_t max_reply_size = kDefaultMaxFrameSize) const;
  // Checks the permission and the arguments (against the command table), then runs the handler.
  Reply dispatch(const Request& request, const PeerIdentity& peer,
                 StreamTask* stream_after = nullptr) const;

 private:
  struct Entry {
    const CommandInfo* info;
    Handler handler;
  };
  std::unordered_map<std::string_view, Entry> entries_;
  // How many large replies (CommandInfo::large_reply) users other than administrators have in
  // the making; shared by the copies of a dispatcher.
  struct LargeReplies {
    std::mutex mutex;
    std::condition_variable freed;
    int building = 0;
  };
  std::shared_ptr<LargeReplies> large_replies_ = std::make_shared<LargeReplies>();
};

// Large replies users other than administrators may have in the making at once, and how long a
// request waits for its turn before it is refused busy (black-box round 13: 32 `list` requests
// from one user built at once took hangard from 30 MB to 300 MB).
inline constexpr int kLargeRepliesAtOnce = 2;
inline constexpr std::chrono::seconds kLargeReplyWait{10};

}  // namespace hangar::ipc
