// Checks rendered Kubernetes manifests offline: each object is validated against the Kubernetes OpenAPI schemas
// (npm kubernetes-models; the Prometheus operator's kinds with @kubernetes-models/prometheus-operator).
// Usage: node check-k8s.mjs <rendered.yaml>   Prints one line per object; exit 1 when any fails or is of an unknown kind.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const file = process.argv[2];
if (!file) {
  console.error("usage: node check-k8s.mjs <rendered.yaml>");
  process.exit(2);
}

const packages = { "monitoring.coreos.com": "@kubernetes-models/prometheus-operator" };
let failed = 0;
for (const document of parseAllDocuments(readFileSync(file, "utf8"))) {
  const object = document.toJS();
  if (!object) continue;
  const { apiVersion, kind } = object;
  const name = `${kind} ${object.metadata?.name}`;
  const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
  const module = `${packages[group] ?? "kubernetes-models"}/${apiVersion}`;
  try {
    const models = await import(module);
    if (!models[kind]) throw new Error(`no model of ${kind} in ${module}`);
    new models[kind](object).validate();
    console.log(`ok ${name} (${apiVersion})`);
  } catch (error) {
    failed++;
    console.log(`FAIL ${name} (${apiVersion}): ${error.message}`);
  }
}
process.exit(failed > 0 ? 1 : 0);
