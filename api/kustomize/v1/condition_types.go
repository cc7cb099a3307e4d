package v1

// A Kustomization reports only condition types and reasons that every kind
// shares, so they live in api/meta and are not repeated here:
//
//   - meta.ReadyCondition: True with meta.ReconciliationSucceededReason once a
//     revision is applied (and healthy); False with ArtifactFailedReason,
//     BuildFailedReason, ReconciliationFailedReason, PruneFailedReason,
//     HealthCheckFailedReason, HealthCheckCanceledReason,
//     DependencyNotReadyReason, AccessDeniedReason,
//     InvalidCELExpressionReason or FeatureGateDisabledReason.
//   - meta.ReconcilingCondition: present and True while work is under way,
//     with ProgressingReason or ProgressingWithRetryReason.
//   - meta.HealthyCondition: the result of the health checks, with
//     SucceededReason, ProgressingReason or HealthCheckFailedReason; removed
//     when there is nothing to check.
//   - meta.StalledCondition: present and True on errors that need a spec
//     change (AccessDeniedReason, InvalidCELExpressionReason,
//     FeatureGateDisabledReason).
