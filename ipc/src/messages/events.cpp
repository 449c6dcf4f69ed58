// The `subscribe` reply and stream frames (events.h).
#include "hangar/ipc/messages/events.h"

namespace hangar::ipc::msg {

SubscribeReply SubscribeReply::read(const Json&, Fields& f) {
  SubscribeReply r;
  f.required("subscribed", r.subscribed)
      .required("seq", r.seq)
      .required("heartbeat_ms", r.heartbeat_ms);
  return r;
}

core::Result<SubscribeReply> SubscribeReply::from_json(const Json& json) {
  return read_message<SubscribeReply>(json, kWhat);
}

Json SubscribeReply::to_json() const {
  return Json{{"subscribed", subscribed}, {"seq", seq}, {"heartbeat_ms", heartbeat_ms}};
}

ChangeEvent ChangeEvent::read(const Json&, Fields& f) {
  ChangeEvent e;
  f.required("seq", e.seq)
      .required("serial", e.serial)
      .optional("from", e.from)
      .required("to", e.to)
      .required("reason", e.reason)
      .required("at", e.at);
  return e;
}

core::Result<ChangeEvent> ChangeEvent::from_json(const Json& json) {
  return read_message<ChangeEvent>(json, kWhat);
}

Json ChangeEvent::to_json() const {
  return Json{{"type", "change"},
              {"seq", seq},
              {"serial", serial},
              {"from", from ? Json(core::storage_key(*from)) : Json()},
              {"to", core::storage_key(to)},
              {"reason", reason},
              {"at", at}};
}

RemovedEvent RemovedEvent::read(const Json&, Fields& f) {
  RemovedEvent e;
  f.required("seq", e.seq)
      .required("serial", e.serial)
      .optional("from", e.from)
      .required("reason", e.reason)
      .required("at", e.at);
  return e;
}

core::Result<RemovedEvent> RemovedEvent::from_json(const Json& json) {
  return read_message<RemovedEvent>(json, kWhat);
}

Json RemovedEvent::to_json() const {
  return Json{{"type", "removed"}, {"seq", seq},
              {"serial", serial},  {"from", from ? Json(core::storage_key(*from)) : Json()},
              {"reason", reason},  {"at", at}};
}

GapEvent GapEvent::read(const Json&, Fields& f) {
  GapEvent e;
  std::optional<std::string> cause;
  f.required("missed", e.missed).required("seq", e.seq).optional("cause", cause);
  if (cause) e.cause = *cause;
  return e;
}

core::Result<GapEvent> GapEvent::from_json(const Json& json) {
  return read_message<GapEvent>(json, kWhat);
}

Json GapEvent::to_json() const {
  return Json{{"type", "gap"}, {"missed", missed}, {"seq", seq}, {"cause", cause}};
}

HeartbeatEvent HeartbeatEvent::read(const Json&, Fields& f) {
  HeartbeatEvent e;
  f.required("seq", e.seq);
  return e;
}

core::Result<HeartbeatEvent> HeartbeatEvent::from_json(const Json& json) {
  return read_message<HeartbeatEvent>(json, kWhat);
}

Json HeartbeatEvent::to_json() const { return Json{{"type", "heartbeat"}, {"seq", seq}}; }

}  // namespace hangar::ipc::msg
