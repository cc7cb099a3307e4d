package install

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// customise moves one base object to the install's namespace and applies
// the options that concern it; controllers are the groups the install runs,
// implemented every group the controller image runs.
func customise(obj *unstructured.Unstructured, o Options, controllers, implemented []string) error {
	labels := obj.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[InstanceLabel] = o.Namespace
	labels[PartOfLabel] = PartOf
	labels[VersionLabel] = o.Version
	obj.SetLabels(labels)

	switch {
	case obj.GetKind() == "Namespace":
		obj.SetName(o.Namespace)
	case obj.GetNamespace() != "":
		obj.SetNamespace(o.Namespace)
	case strings.HasSuffix(obj.GetName(), "-"+baseNamespace):
		// Cluster-scoped objects carry the namespace in their name, so that
		// two installs in two namespaces do not collide.
		obj.SetName(strings.TrimSuffix(obj.GetName(), baseNamespace) + o.Namespace)
	}
	switch obj.GetKind() {
	case "ClusterRoleBinding", "RoleBinding":
		return setSubjectsNamespace(obj, o.Namespace)
	case "Deployment":
		return customiseDeployment(obj, o, controllers, implemented)
	}
	return nil
}

func setSubjectsNamespace(obj *unstructured.Unstructured, ns string) error {
	subjects, _, err := unstructured.NestedSlice(obj.Object, "subjects")
	if err != nil {
		return err
	}
	for _, s := range subjects {
		if m, ok := s.(map[string]any); ok && m["kind"] == "ServiceAccount" {
			m["namespace"] = ns
		}
	}
	if name, ok, _ := unstructured.NestedString(obj.Object, "roleRef", "name"); ok && strings.HasSuffix(name, "-"+baseNamespace) {
		if err := unstructured.SetNestedField(obj.Object, strings.TrimSuffix(name, baseNamespace)+ns, "roleRef", "name"); err != nil {
			return err
		}
	}
	return unstructured.SetNestedSlice(obj.Object, subjects, "subjects")
}

func customiseDeployment(obj *unstructured.Unstructured, o Options, controllers, implemented []string) error {
	containers, _, err := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "containers")
	if err != nil || len(containers) != 1 {
		return fmt.Errorf("expected one container: %v", err)
	}
	c := containers[0].(map[string]any)
	c["image"] = o.Image()
	var args []any
	for _, a := range c["args"].([]any) {
		s := a.(string)
		switch {
		case strings.HasPrefix(s, "--watch-all-namespaces="):
			s = fmt.Sprintf("--watch-all-namespaces=%t", o.WatchAllNamespaces)
		case strings.HasPrefix(s, "--log-level="):
			s = "--log-level=" + o.LogLevel
		case strings.HasPrefix(s, "--storage-adv-addr="), strings.HasPrefix(s, "--artifact-servers="):
			s = strings.Replace(s, ".cluster.local.", "."+strings.TrimSuffix(o.ClusterDomain, ".")+".", 1)
		}
		args = append(args, s)
	}
	runs := deploymentControllers(args)
	if runs == nil {
		// The single layout's Deployment runs what the options select.
		runs = controllers
		if len(controllers) < len(implemented) {
			args = append(args, "--controllers="+strings.Join(controllers, ","))
		}
	}
	if arg, ok := eventsAddrArg(o, runs, controllers); ok {
		args = append(args, arg)
	}
	if o.MultiTenant && (slices.Contains(runs, "kustomize") || slices.Contains(runs, "helm")) {
		for _, a := range lockdownArgs {
			args = append(args, a)
		}
	}
	for _, a := range sourceWatcherLockdown(o, runs) {
		args = append(args, a)
	}
	args = trustSourceWatcher(args, o, runs, controllers)
	c["args"] = args
	if servesWeb(o, runs) {
		webContainer(c)
		if err := mountWebSecrets(obj, c, o); err != nil {
			return err
		}
	}
	if err := unstructured.SetNestedSlice(obj.Object, containers, "spec", "template", "spec", "containers"); err != nil {
		return err
	}
	if o.ImagePullSecret != "" {
		secrets := []any{map[string]any{"name": o.ImagePullSecret}}
		if err := unstructured.SetNestedSlice(obj.Object, secrets, "spec", "template", "spec", "imagePullSecrets"); err != nil {
			return err
		}
	}
	if len(o.TolerationKeys) > 0 {
		var tolerations []any
		for _, k := range o.TolerationKeys {
			tolerations = append(tolerations, map[string]any{"key": k, "operator": "Exists"})
		}
		if err := unstructured.SetNestedSlice(obj.Object, tolerations, "spec", "template", "spec", "tolerations"); err != nil {
			return err
		}
	}
	return nil
}

// deploymentControllers are the controllers a Deployment's --controllers
// argument names; nil when it has none (it runs every selected one).
func deploymentControllers(args []any) []string {
	for _, a := range args {
		if s, ok := a.(string); ok && strings.HasPrefix(s, "--controllers=") {
			return strings.Split(strings.TrimPrefix(s, "--controllers="), ",")
		}
	}
	return nil
}
