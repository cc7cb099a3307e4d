package helmtest

import (
	"fmt"
	"strconv"
	"strings"
)

// IngressNginxChart is a chart named ingress-nginx shaped like the
// kubernetes/ingress-nginx chart, small enough to read, for the tests of the
// mission's ingress-nginx example. From its controller values it makes:
//
//   - a Deployment <fullname>-controller with controller.replicaCount
//     replicas, scheduled by controller.nodeSelector, with
//     controller.progressDeadlineSeconds when set (0, unset, by default:
//     Kubernetes' 600 s, as upstream);
//   - a Service <fullname>-controller of controller.service.type (LoadBalancer
//     by default) carrying controller.service.annotations;
//   - with controller.metrics.enabled, a metrics port and a Service
//     <fullname>-controller-metrics; with controller.metrics.serviceMonitor.enabled
//     as well, a monitoring.coreos.com/v1 ServiceMonitor <fullname>-controller
//     (its CRD is not in the chart, as upstream: without it the install fails).
//
// <fullname> is the release name when it contains "ingress-nginx", else
// <release>-ingress-nginx. The appVersion (the image tag) follows the chart
// version as upstream's roughly does: chart 4.x.y is controller 1.x.y.
func IngressNginxChart(version string) *Chart {
	return NewChart("ingress-nginx", version).
		Description("Ingress controller for Kubernetes using NGINX (a chart the Driftless tests wrote)").
		AppVersion(ingressNginxAppVersion(version)).
		Annotation("artifacthub.io/prerelease", "false").
		Values(ingressNginxValues("{}", 0)).
		Template("_helpers.tpl", ingressNginxHelpers).
		Template("controller-deployment.yaml", ingressNginxDeployment).
		Template("controller-service.yaml", ingressNginxService).
		Template("controller-service-metrics.yaml", ingressNginxMetricsService).
		Template("controller-servicemonitor.yaml", ingressNginxServiceMonitor)
}

// IngressNginxChartNeverProgresses is IngressNginxChart at version as a
// broken release: its default controller.nodeSelector names a node label no
// node carries, so the new pods are never scheduled and the Deployment's
// rollout never progresses; its default controller.progressDeadlineSeconds
// is 3, so Kubernetes reports the Deployment ProgressDeadlineExceeded 3 s
// into a rollout. Values that set either override it, as they would
// upstream.
func IngressNginxChartNeverProgresses(version string) *Chart {
	return IngressNginxChart(version).Values(ingressNginxValues(`{"helmtest.driftless.dev/no-such-node": "true"}`, 3))
}

// ingressNginxAppVersion: chart M.m.p is controller (M-3).m.p, at least 0.
func ingressNginxAppVersion(version string) string {
	major, rest, ok := strings.Cut(version, ".")
	n, err := strconv.Atoi(major)
	if !ok || err != nil || n < 3 {
		return version
	}
	return fmt.Sprintf("%d.%s", n-3, rest)
}

func ingressNginxValues(nodeSelector string, progressDeadlineSeconds int) string {
	return `controller:
  name: controller
  image:
    registry: registry.k8s.io
    image: ingress-nginx/controller
    # tag defaults to the chart's appVersion
    tag: ""
  replicaCount: 1
  progressDeadlineSeconds: ` + strconv.Itoa(progressDeadlineSeconds) + `
  nodeSelector: ` + nodeSelector + `
  containerPort:
    http: 80
    https: 443
  service:
    enabled: true
    type: LoadBalancer
    annotations: {}
    ports:
      http: 80
      https: 443
  metrics:
    enabled: false
    port: 10254
    service:
      annotations: {}
    serviceMonitor:
      enabled: false
      additionalLabels: {}
      namespace: ""
      scrapeInterval: 30s
`
}

const ingressNginxHelpers = `{{- define "ingress-nginx.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "ingress-nginx.controller.fullname" -}}
{{- printf "%s-%s" (include "ingress-nginx.fullname" .) .Values.controller.name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ingress-nginx.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "ingress-nginx.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{ include "ingress-nginx.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: {{ .Chart.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}
`

const ingressNginxDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "ingress-nginx.controller.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "ingress-nginx.labels" . | nindent 4 }}
    app.kubernetes.io/component: controller
spec:
  replicas: {{ .Values.controller.replicaCount }}
  revisionHistoryLimit: 10
  {{- with .Values.controller.progressDeadlineSeconds }}
  progressDeadlineSeconds: {{ . }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "ingress-nginx.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: controller
  template:
    metadata:
      labels:
        {{- include "ingress-nginx.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/component: controller
    spec:
      {{- with .Values.controller.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      terminationGracePeriodSeconds: 300
      containers:
      - name: controller
        image: "{{ .Values.controller.image.registry }}/{{ .Values.controller.image.image }}:v{{ .Values.controller.image.tag | default .Chart.AppVersion }}"
        args:
        - /nginx-ingress-controller
        - --publish-service=$(POD_NAMESPACE)/{{ include "ingress-nginx.controller.fullname" . }}
        - --election-id={{ include "ingress-nginx.controller.fullname" . }}-leader
        env:
        - name: POD_NAMESPACE
          valueFrom:
            fieldRef:
              fieldPath: metadata.namespace
        ports:
        {{- range $name, $port := .Values.controller.containerPort }}
        - name: {{ $name }}
          containerPort: {{ $port }}
          protocol: TCP
        {{- end }}
        {{- if .Values.controller.metrics.enabled }}
        - name: metrics
          containerPort: {{ .Values.controller.metrics.port }}
          protocol: TCP
        {{- end }}
`

const ingressNginxService = `{{- if .Values.controller.service.enabled -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "ingress-nginx.controller.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "ingress-nginx.labels" . | nindent 4 }}
    app.kubernetes.io/component: controller
  {{- with .Values.controller.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ .Values.controller.service.type }}
  ports:
  {{- range $name, $port := .Values.controller.service.ports }}
  - name: {{ $name }}
    port: {{ $port }}
    protocol: TCP
    targetPort: {{ $name }}
  {{- end }}
  selector:
    {{- include "ingress-nginx.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/component: controller
{{- end }}
`

const ingressNginxMetricsService = `{{- if .Values.controller.metrics.enabled -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "ingress-nginx.controller.fullname" . }}-metrics
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "ingress-nginx.labels" . | nindent 4 }}
    app.kubernetes.io/component: controller
  {{- with .Values.controller.metrics.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: ClusterIP
  ports:
  - name: metrics
    port: {{ .Values.controller.metrics.port }}
    protocol: TCP
    targetPort: metrics
  selector:
    {{- include "ingress-nginx.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/component: controller
{{- end }}
`

const ingressNginxServiceMonitor = `{{- if and .Values.controller.metrics.enabled .Values.controller.metrics.serviceMonitor.enabled -}}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "ingress-nginx.controller.fullname" . }}
  namespace: {{ .Values.controller.metrics.serviceMonitor.namespace | default .Release.Namespace }}
  labels:
    {{- include "ingress-nginx.labels" . | nindent 4 }}
    app.kubernetes.io/component: controller
    {{- with .Values.controller.metrics.serviceMonitor.additionalLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  endpoints:
  - port: metrics
    interval: {{ .Values.controller.metrics.serviceMonitor.scrapeInterval }}
  namespaceSelector:
    matchNames:
    - {{ .Release.Namespace }}
  selector:
    matchLabels:
      {{- include "ingress-nginx.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: controller
{{- end }}
`
