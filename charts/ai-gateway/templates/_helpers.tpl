{{/* Names and labels. */}}
{{- define "ai-gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ai-gateway.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "ai-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ai-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "ai-gateway.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "ai-gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "ai-gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ai-gateway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "ai-gateway.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
The config folder's files: the shipped defaults (files/, the repository's config/), with values merged over them —
config.gateway over the Gateway section, config.reverseProxy over ReverseProxy, config.logging over Logging,
config.featureManagement as the FeatureManagement section. Changing these is a reload in running pods, not a restart.
*/}}
{{- define "ai-gateway.gatewayJson" -}}
{{- $file := .Files.Get "files/gateway.json" | fromJson }}
{{- $gateway := mergeOverwrite (deepCopy $file.Gateway) (deepCopy .Values.config.gateway) }}
{{- $logging := mergeOverwrite (deepCopy $file.Logging) (deepCopy .Values.config.logging) }}
{{- $doc := dict "Gateway" $gateway "Logging" $logging }}
{{- if .Values.config.featureManagement }}
{{- $_ := set $doc "FeatureManagement" .Values.config.featureManagement }}
{{- end }}
{{- toPrettyJson $doc }}
{{- end }}

{{- define "ai-gateway.reverseProxyJson" -}}
{{- $file := .Files.Get "files/reverseproxy.json" | fromJson }}
{{- $proxy := mergeOverwrite (deepCopy $file.ReverseProxy) (deepCopy .Values.config.reverseProxy) }}
{{- toPrettyJson (dict "ReverseProxy" $proxy) }}
{{- end }}

{{- define "ai-gateway.startupEnv" -}}
ASPNETCORE_URLS: {{ printf "http://+:%d" (int .Values.containerPort) | quote }}
ASPNETCORE_ENVIRONMENT: {{ .Values.startup.environment | quote }}
Gateway__ConfigDirectory: "/app/config"
{{- with .Values.startup.shutdown }}
Gateway__Shutdown__RefuseAfter: {{ include "ai-gateway.timespan" (int .refuseAfterSeconds) | quote }}
Gateway__Shutdown__Drain: {{ include "ai-gateway.timespan" (int .drainSeconds) | quote }}
{{- end }}
{{- with .Values.startup.gc }}
{{- /* The runtime reads these as hexadecimal numbers. */}}
{{- if .heaps }}
DOTNET_GCHeapCount: {{ printf "%x" (int .heaps) | quote }}
{{- end }}
{{- if .gen0SizeMiB }}
DOTNET_GCgen0size: {{ printf "%x" (mul (int .gen0SizeMiB) 1048576) | quote }}
{{- end }}
{{- end }}
{{- if .Values.startup.otlpEndpoint }}
OTEL_EXPORTER_OTLP_ENDPOINT: {{ .Values.startup.otlpEndpoint | quote }}
{{- end }}
{{- if .Values.vault.enabled }}
Gateway__Vault__Address: {{ required "vault.address is required when vault.enabled" .Values.vault.address | quote }}
Gateway__Vault__Auth__Method: "kubernetes"
Gateway__Vault__Auth__Role: {{ required "vault.role is required when vault.enabled" .Values.vault.role | quote }}
Gateway__Vault__Auth__Mount: {{ .Values.vault.authMount | quote }}
{{- if .Values.vault.namespace }}
Gateway__Vault__Namespace: {{ .Values.vault.namespace | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Secrets are references, never values: a vendor key or Vault credential that is not env:, file: or vault: stops the
render — without printing it (a schema pattern would echo the value into CI logs).
*/}}
{{- define "ai-gateway.checkReferences" -}}
{{- $gateway := .Values.config.gateway }}
{{- range $name, $provider := ($gateway.Providers | default dict) }}
{{- $keys := concat (ternary (list $provider.ApiKey) (list) (hasKey $provider "ApiKey")) ($provider.ApiKeys | default list) }}
{{- range $keys }}
{{- if not (regexMatch "^(env|file|vault):." (toString .)) }}
{{- fail (printf "config.gateway.Providers.%s: a vendor key must be a reference (env:NAME, file:/path, vault:mount/path#field), never the key itself; the value given was not printed" $name) }}
{{- end }}
{{- end }}
{{- end }}
{{- with $gateway.Vault }}
{{- range $setting := list "Token" }}
{{- if and (hasKey $.Values.config.gateway.Vault $setting) (not (regexMatch "^(env|file|vault):." (toString (index $.Values.config.gateway.Vault $setting)))) }}
{{- fail (printf "config.gateway.Vault.%s must be a reference (env:, file:), never the credential itself; the value given was not printed" $setting) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* Seconds as a .NET TimeSpan (hh:mm:ss). */}}
{{- define "ai-gateway.timespan" -}}
{{- printf "%02d:%02d:%02d" (div . 3600) (div (mod . 3600) 60) (mod . 60) }}
{{- end }}

{{/* The pod's grace period covers the preStop pause and the gateway's own refuse-and-drain. */}}
{{- define "ai-gateway.checkGracePeriod" -}}
{{- $needed := add .Values.preStopSleepSeconds .Values.startup.shutdown.refuseAfterSeconds .Values.startup.shutdown.drainSeconds 2 }}
{{- if lt (int .Values.terminationGracePeriodSeconds) (int $needed) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be at least preStopSleepSeconds + startup.shutdown.refuseAfterSeconds + startup.shutdown.drainSeconds + 2 s for the last events (%d), or streams are killed mid-drain" (int .Values.terminationGracePeriodSeconds) (int $needed)) }}
{{- end }}
{{- end }}
