// Delivery (`hangar deliver`): hands a Ready-for-user device to a user. The user must exist and
// hold every required licence; then the user is assigned to the Autopilot device and the
// delivery recorded. Runs on the engine's thread like every pass, so its requests share the
// budget: none is sent inside a throttle window.
#pragma once

#include <string>
#include <vector>

#include "hangar/cloud/registration.h"
#include "hangar/service/engine_config.h"

namespace hangar::service {

// What `hangar deregister` asks of DeliveryPass::deregister.
struct DeregisterRequest {
  // A tenant device that is not in the queue and whose group tag is not Hangar's
  // (EngineConfig::claims_tag: another team's, or none) is deleted only when forced;
  // otherwise conflict, nothing deleted.
  bool force = false;
  // Look up only: every refusal a deregister would meet, and what it would do (the identity it
  // would delete, or already_gone / never_registered), with nothing deleted, forgotten or
  // recorded, and no wait for a write throttle (the CLI asks before its confirmation prompt).
  bool check_only = false;
};

class DeliveryPass {
 public:
  DeliveryPass(PassContext context, CloudSource<cloud::DeliveryCloud> cloud);

  // Where an in-doubt write of `kind` ("deregister", "deliver") is recorded (the store's meta
  // table): one key per device and kind. The activity pass settles a lost deregister by it.
  static std::string doubt_key(std::string_view kind, const std::string& serial);

  // Error codes: not_found, conflict, invalid_argument, the cloud's, or CloudBudget::kNotNow
  // with retry_after when the budget holds the requests (a throttle window, say): the caller
  // tries again then, or tells the operator when (CloudBudget::throttling_message).
  struct Delivered {
    store::DeviceRow device;
    // Nothing was assigned by this call: the device was delivered to that user already (a
    // repeat, or a second command that waited behind the first: black-box round 12).
    bool already = false;
  };
  core::Result<Delivered> deliver(const std::string& serial, const std::string& upn);
  // `hangar deregister`: deletes the device's Windows Autopilot registration in the tenant (found
  // by serial) and takes it out of the queue, remembering the serial so partner sync does not
  // add it back. Refused (conflict) while the device's import is still followed here
  // (Registration Pending with an import record): `hangar remove --force` first. A device the
  // tenant no longer lists that Hangar knows as registered (or whose earlier deregister was left
  // in doubt) completes here: "already deleted in Autopilot". Error codes as for deliver, and
  // cloud::kErrInDoubt when the DELETE's answer was lost (recorded; a re-run checks the tenant).
  struct Deregistered {
    std::string autopilot_id;  // the deleted identity's id (empty when it was gone already)
    bool already_gone = false;
    bool never_registered = false;  // in the queue, never registered, not in the tenant
  };
  // `by`: who asked (recorded with the device's leaving in its history).
  core::Result<Deregistered> deregister(const std::string& serial, const std::string& by = {},
                                        DeregisterRequest ask = {});

  // Records a `kind` ("deliver", "deregister") of `serial` as in doubt, as a lost answer is: its
  // caller was answered before the work ended (Engine's operator jobs), so the next run reads
  // the device in the tenant before it writes again. Safe from any thread (the store's).
  void record_doubt(std::string_view kind, const std::string& serial, const std::string& value);

 private:
  // The required licences `held` (the user's SKU ids) lacks, named by skuPartNumber where the
  // tenant says (a required licence may be configured by id or by name).
  core::Result<std::vector<std::string>> missing_licences(const std::vector<std::string>& held,
                                                          std::int64_t now);
  // A request the budget held, or that the cloud throttled: kNotNow with when to try again.
  core::Error not_now(const core::Error& error, Lane lane) const;
  // A read before the write failed: not_now() for a throttle or a held lane, else the cloud's
  // error in the admin's terms: what could not be read, that `unchanged` ("nothing was
  // assigned"), and, when trying again can help (no answer, a 5xx), the command to re-run.
  core::Error read_failed(const core::Error& error, Lane lane, std::string_view what,
                          std::string_view unchanged, const std::string& rerun);
  // The tenant's Autopilot device that is `ours` (or, with no queued device, the only one with
  // `serial`); nullopt when the tenant lists none. A failed read is read_failed() with `unchanged`
  // and `rerun`; several devices with the serial, none plainly ours, are a conflict: Hangar must
  // not assign or delete another machine (same_machine.h).
  core::Result<std::optional<cloud::AutopilotDevice>> tenant_device(const std::string& serial,
                                                                    const store::DeviceRow* ours,
                                                                    std::string_view unchanged,
                                                                    const std::string& rerun);
  // A write whose answer was lost (the connection dropped or timed out, or a 2xx could not be
  // read): it may have been done. Recorded under `key` (meta) and on the device, so the next
  // run reads the cloud's state before it writes again; the operator is told so (kErrInDoubt).
  core::Error in_doubt(const core::Error& error, const std::string& key, const std::string& value,
                       const std::string& serial, const std::string& what,
                       const std::string& rerun);

  PassContext ctx_;
  CloudPort<cloud::DeliveryCloud> cloud_;
};

}  // namespace hangar::service
