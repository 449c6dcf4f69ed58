#!/bin/bash
# Kept from the black-box attack of round 10 (issue 13). Exit 1 + "DEFECT" while the defect is there.
# README: "Switching to another tenant while devices are Registration Pending needs `--force`."
# `hangar config clear-credentials --yes` switches the service to the simulated cloud's test
# tenant ("Without a tenant configured, hangard registers against the simulated cloud") with
# devices Registration Pending in the real tenant, no --force asked, no warning: the pending
# devices can no longer be followed (every token request now fails) and `status` still says
# "online".
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
start_tenant '"rules":[{"serial_prefix":"SLOW","delay_seconds":6000}]'
"$B/hangar-devicegen" -o a.csv --devices SLOW:3 >/dev/null
H import a.csv --profile standard >/dev/null 2>&1; sleep 3
echo "pending in tenant $X: $(H list --state pending | tail -1)"
echo "for comparison, set-credentials to another tenant:"
echo x | H config set-credentials --tenant 55555555-5555-4555-8555-555555555555 --client-id $CID --secret-stdin 2>&1 | sed 's/^/  /'
H config clear-credentials --yes > clr 2>&1; RC=$?
echo "clear-credentials --yes: exit $RC"; sed 's/^/  /' clr | head -4
sleep 4; H status | grep -E '^  (cloud|credentials|last error)' | cut -c1-160
if [ $RC -eq 0 ]; then
  echo "DEFECT: clear-credentials switched tenants with 3 devices Registration Pending, without --force"; exit 1; fi
echo OK; exit 0
