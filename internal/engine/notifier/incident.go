package notifier

// incidentNotifiers are the incident and monitoring types: alertmanager,
// pagerduty, opsgenie, incident.io, datadog, grafana, sentry.
func incidentNotifiers() map[string]constructor {
	return map[string]constructor{}
}
