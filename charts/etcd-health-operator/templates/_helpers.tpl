{{/* The chart's name, or nameOverride. */}}
{{- define "etcd-health-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object name. A release named etcd-health-operator gets the names of
dist/install.yaml (etcd-health-operator, etcd-health-operator-discovery, ...), which the docs and
an admin's own RoleBindings use. At most 47 characters: the longest suffix the chart appends is
"-leader-election" and a Service name has at most 63.
*/}}
{{- define "etcd-health-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 47 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 47 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 47 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* What selects the operator's pods: the chart's name and the release. */}}
{{- define "etcd-health-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "etcd-health-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The labels of every object the chart makes. */}}
{{- define "etcd-health-operator.labels" -}}
{{ include "etcd-health-operator.selectorLabels" . }}
app.kubernetes.io/part-of: etcd-health-operator
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The operator's image: by digest when one is given, else by tag (default: appVersion). */}}
{{- define "etcd-health-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* The operator's flags that values set (etcd-health-operator --help), one list item each. */}}
{{- define "etcd-health-operator.args" -}}
- {{ printf "--log-level=%s" .Values.logLevel | quote }}
- {{ printf "--leader-elect=%t" .Values.leaderElection.enabled | quote }}
- {{ printf "--leader-election-id=%s" (include "etcd-health-operator.fullname" .) | quote }}
{{- range .Values.watchNamespaces }}
- {{ printf "--namespace=%s" . | quote }}
{{- end }}
{{- range .Values.discovery.namespaces }}
- {{ printf "--discovery-namespace=%s" . | quote }}
{{- end }}
{{- range .Values.prometheus.urlAllow }}
- {{ printf "--prometheus-url-allow=%s" . | quote }}
{{- end }}
{{- range .Values.prometheus.serviceAccountTokenUrls }}
- {{ printf "--prometheus-sa-token-url=%s" . | quote }}
{{- end }}
{{- range .Values.etcdEndpointCidrs }}
- {{ printf "--etcd-endpoint-cidr=%s" . | quote }}
{{- end }}
{{- range .Values.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end }}

{{/* The pod template's annotations, when values give some. */}}
{{- define "etcd-health-operator.podAnnotations" -}}
{{- with .Values.podAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Where the pods may run and how their image is pulled, when values say. */}}
{{- define "etcd-health-operator.podPlacement" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
