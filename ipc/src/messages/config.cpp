// The cloud credentials' messages (config.h).
#include "hangar/ipc/messages/config.h"

namespace hangar::ipc::msg {

SecretInfo SecretInfo::read(const Json&, Fields& f) {
  SecretInfo s;
  f.required("set", s.set)
      .required("source", s.source)
      .required("store", s.store)
      .required("protection", s.protection)
      .required("stored", s.stored)
      .optional("error", s.error)
      .optional("environment_override", s.environment_override);
  return s;
}

Json SecretInfo::to_json() const {
  Json json{{"set", set},
            {"source", source},
            {"store", store},
            {"protection", protection},
            {"stored", stored}};
  put_optional(json, "error", error);
  put_optional(json, "environment_override", environment_override);
  return json;
}

ConfigReply ConfigReply::read(const Json&, Fields& f) {
  ConfigReply c;
  f.required("mode", c.mode)
      .required("graph_url", c.graph_url)
      .required("authority_url", c.authority_url)
      .required("scope", c.scope)
      .required("source", c.source)
      .required("credentials_file", c.credentials_file)
      .required("config_file", c.config_file)
      .required("secret", c.secret)
      .optional("tenant_id", c.tenant_id)
      .optional("client_id", c.client_id)
      .optional("set_at", c.set_at)
      .optional("set_by", c.set_by)
      .optional("problem", c.problem)
      .optional("refused", c.refused)
      .optional("refused_since", c.refused_since);
  return c;
}

core::Result<ConfigReply> ConfigReply::from_json(const Json& json) {
  return read_message<ConfigReply>(json, kWhat);
}

Json ConfigReply::to_json() const {
  Json json{{"mode", mode},
            {"graph_url", graph_url},
            {"authority_url", authority_url},
            {"scope", scope},
            {"source", source},
            {"credentials_file", credentials_file},
            {"config_file", config_file},
            {"secret", secret.to_json()}};
  put_optional(json, "tenant_id", tenant_id);
  put_optional(json, "client_id", client_id);
  put_optional(json, "set_at", set_at);
  put_optional(json, "set_by", set_by);
  put_optional(json, "problem", problem);
  put_optional(json, "refused", refused);
  put_optional(json, "refused_since", refused_since);
  return json;
}

Json SetCredentialsRequest::to_json() const {
  return Json{{"tenant_id", tenant_id},
              {"client_id", client_id},
              {"client_secret", client_secret},
              {"verify", verify},
              {"force", force}};
}

SetCredentialsReply SetCredentialsReply::read(const Json& json, Fields& f) {
  SetCredentialsReply r;
  static_cast<ConfigReply&>(r) = ConfigReply::read(json, f);
  f.required("verified", r.verified).optional("verify_error", r.verify_error);
  return r;
}

core::Result<SetCredentialsReply> SetCredentialsReply::from_json(const Json& json) {
  return read_message<SetCredentialsReply>(json, kWhat);
}

Json SetCredentialsReply::to_json() const {
  Json json = ConfigReply::to_json();
  json["verified"] = verified;
  put_optional(json, "verify_error", verify_error);
  return json;
}

ClearCredentialsReply ClearCredentialsReply::read(const Json& json, Fields& f) {
  ClearCredentialsReply r;
  static_cast<ConfigReply&>(r) = ConfigReply::read(json, f);
  f.required("cleared", r.cleared);
  return r;
}

core::Result<ClearCredentialsReply> ClearCredentialsReply::from_json(const Json& json) {
  return read_message<ClearCredentialsReply>(json, kWhat);
}

Json ClearCredentialsReply::to_json() const {
  Json json = ConfigReply::to_json();
  json["cleared"] = cleared;
  return json;
}

}  // namespace hangar::ipc::msg
