#!/usr/bin/env node
// Judges `npm audit --omit=dev --json` (read from stdin): fails (exit 1) on any high or critical
// advisory that .ci/audit-allowlist.json does not excuse. Run by tools/audit.sh from .ci/run.
//
// Allowlist entries: {"advisory": "<advisory URL or GHSA id>", "package": "<name>",
//                     "reason": "<why it does not apply to us>", "until": "YYYY-MM-DD"}
// An entry stops excusing on its `until` day, so an exception is looked at again.
//
// When the advisory database cannot be asked (no network, a registry mirror without the audit
// endpoint), nothing was checked: that fails too with AUDIT_STRICT=1 (what a CI with network should
// set), and is a loud warning otherwise.
import { readFileSync } from "node:fs";

const BLOCKING = new Set(["high", "critical"]);
const allowlistPath = process.argv[2] ?? new URL("../.ci/audit-allowlist.json", import.meta.url).pathname;
const today = process.env.AUDIT_TODAY ?? new Date().toISOString().slice(0, 10);

const input = readFileSync(0, "utf8");
let report;
try {
  report = JSON.parse(input);
} catch {
  report = {};
}

if (report.auditReportVersion === undefined) {
  const reason = report.message ?? report.error?.summary ?? "no audit report";
  process.stdout.write(`audit: NOT RUN, the advisory database could not be asked (${reason})\n`);
  process.exit(process.env.AUDIT_STRICT === "1" ? 2 : 0);
}

const allowlist = JSON.parse(readFileSync(allowlistPath, "utf8"));
const excused = (finding) =>
  allowlist.find(
    (entry) =>
      entry.package === finding.package &&
      (finding.advisory === entry.advisory || finding.advisory.endsWith(`/${entry.advisory}`)) &&
      today < entry.until,
  );

const findings = [];
for (const vulnerability of Object.values(report.vulnerabilities ?? {})) {
  for (const via of vulnerability.via ?? []) {
    // A string names another vulnerable package: its own advisories are listed there.
    if (typeof via !== "object" || !BLOCKING.has(via.severity)) continue;
    findings.push({
      package: via.name,
      advisory: via.url ?? String(via.source),
      severity: via.severity,
      title: via.title,
    });
  }
}

let blocking = 0;
for (const finding of findings) {
  const entry = excused(finding);
  const verdict = entry ? `allowed until ${entry.until}: ${entry.reason}` : "BLOCKING";
  if (!entry) blocking++;
  process.stdout.write(
    `audit: ${finding.severity} ${finding.package} ${finding.advisory} (${finding.title}) — ${verdict}\n`,
  );
}
const counts = report.metadata?.vulnerabilities ?? {};
process.stdout.write(
  `audit: ${counts.critical ?? 0} critical, ${counts.high ?? 0} high, ${counts.moderate ?? 0} moderate, ${counts.low ?? 0} low; ${blocking} blocking\n`,
);
process.exit(blocking > 0 ? 1 : 0);
