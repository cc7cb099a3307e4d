package dependency

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
)

// findCycle walks dependsOn edges from obj and returns the cycle through
// obj, "ns/a -> ns/b -> ns/a", or "" when there is none.
func (c *Checker[T]) findCycle(ctx context.Context, obj T) (string, error) {
	start := obj.GetNamespace() + "/" + obj.GetName()
	edges := func(key string) ([]string, error) {
		k := obj
		if key != start {
			ns, name, _ := strings.Cut(key, "/")
			k = c.New()
			if err := c.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, k); err != nil {
				if apierrors.IsNotFound(err) {
					return nil, nil
				}
				return nil, err
			}
		}
		var out []string
		for _, d := range k.GetDependsOn() {
			out = append(out, Key(k, d))
		}
		return out, nil
	}
	visited := map[string]bool{}
	var path []string
	var walk func(key string) (bool, error)
	walk = func(key string) (bool, error) {
		if len(visited) > maxWalk {
			return false, fmt.Errorf("more than %d %ss in the dependency graph", maxWalk, c.Kind)
		}
		path = append(path, key)
		next, err := edges(key)
		if err != nil {
			return false, err
		}
		for _, n := range next {
			if n == start {
				path = append(path, n)
				return true, nil
			}
			if visited[n] {
				continue
			}
			visited[n] = true
			if found, err := walk(n); found || err != nil {
				return found, err
			}
		}
		path = path[:len(path)-1]
		return false, nil
	}
	found, err := walk(start)
	if err != nil || !found {
		return "", err
	}
	return strings.Join(path, " -> "), nil
}
