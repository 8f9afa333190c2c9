package live

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/pvc-guard/pvc-guard/renderer"
)

// DefaultConcurrency bounds the API requests one render has in flight.
const DefaultConcurrency = 8

// The resources pvc-guard reads.
var (
	claimsResource  = schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}
	classesResource = schema.GroupVersionResource{Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses"}
)

// Cluster reads live state from the API server. It only issues GET and LIST
// requests: the RBAC it needs is examples/rbac.yaml. It uses the dynamic
// client, which hands the renderer the maps it compares without typed
// round trips, and keeps client-go's typed API groups out of the
// post-renderer's start-up.
type Cluster struct {
	Client dynamic.Interface
	// Host names the API server in error messages.
	Host string
	// Concurrency bounds requests in flight; 0 means DefaultConcurrency.
	Concurrency int
}

var _ renderer.LiveState = (*Cluster)(nil)

// NewCluster returns read-only access to the API server that config names.
func NewCluster(config *rest.Config) (*Cluster, error) {
	client, err := dynamic.NewForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("creating a Kubernetes client for %s: %w", config.Host, err)
	}
	return &Cluster{Client: client, Host: config.Host}, nil
}

// Claims implements renderer.LiveState with the fewest requests: one GET
// for a namespace that holds one wanted claim, one LIST for a namespace
// that holds several.
func (c *Cluster) Claims(ctx context.Context, keys []renderer.ObjectKey) (map[renderer.ObjectKey]*unstructured.Unstructured, error) {
	byNamespace := map[string][]string{}
	for _, key := range keys {
		byNamespace[key.Namespace] = append(byNamespace[key.Namespace], key.Name)
	}
	var mu sync.Mutex
	found := map[renderer.ObjectKey]*unstructured.Unstructured{}
	keep := func(pvc *unstructured.Unstructured) {
		mu.Lock()
		defer mu.Unlock()
		found[renderer.ObjectKey{Namespace: pvc.GetNamespace(), Name: pvc.GetName()}] = pvc
	}
	group, ctx := c.group(ctx)
	for namespace, names := range byNamespace {
		group.Go(func() error {
			if len(names) == 1 {
				return c.getClaim(ctx, namespace, names[0], keep)
			}
			return c.listClaims(ctx, namespace, names, keep)
		})
	}
	if err := group.Wait(); err != nil {
		return nil, err
	}
	return found, nil
}

func (c *Cluster) getClaim(ctx context.Context, namespace, name string, keep func(*unstructured.Unstructured)) error {
	pvc, err := c.Client.Resource(claimsResource).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return c.explain(err, "get", "persistentvolumeclaims", namespace)
	}
	keep(pvc)
	return nil
}

func (c *Cluster) listClaims(ctx context.Context, namespace string, names []string, keep func(*unstructured.Unstructured)) error {
	list, err := c.Client.Resource(claimsResource).Namespace(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return c.explain(err, "list", "persistentvolumeclaims", namespace)
	}
	wanted := map[string]bool{}
	for _, name := range names {
		wanted[name] = true
	}
	for i := range list.Items {
		if wanted[list.Items[i].GetName()] {
			keep(&list.Items[i])
		}
	}
	return nil
}

// StorageClasses implements renderer.LiveState with one GET per class.
func (c *Cluster) StorageClasses(ctx context.Context, names []string) (map[string]*unstructured.Unstructured, error) {
	var mu sync.Mutex
	found := map[string]*unstructured.Unstructured{}
	group, ctx := c.group(ctx)
	for _, name := range names {
		group.Go(func() error {
			class, err := c.Client.Resource(classesResource).Get(ctx, name, metav1.GetOptions{})
			switch {
			case apierrors.IsNotFound(err):
				return nil
			case err != nil:
				return c.explain(err, "get", "storageclasses", "")
			}
			mu.Lock()
			defer mu.Unlock()
			found[name] = class
			return nil
		})
	}
	if err := group.Wait(); err != nil {
		return nil, err
	}
	return found, nil
}

func (c *Cluster) group(ctx context.Context) (*errgroup.Group, context.Context) {
	group, ctx := errgroup.WithContext(ctx)
	limit := c.Concurrency
	if limit <= 0 {
		limit = DefaultConcurrency
	}
	group.SetLimit(limit)
	return group, ctx
}

// explain turns an API error into a message that says what to do.
func (c *Cluster) explain(err error, verb, resource, namespace string) error {
	scope := "cluster-wide"
	if namespace != "" {
		scope = fmt.Sprintf("in namespace %q", namespace)
	}
	switch {
	case apierrors.IsForbidden(err):
		return fmt.Errorf("RBAC forbids %s %s %s: grant it (see examples/rbac.yaml) or pass --live-state: %w", verb, resource, scope, err)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("the API server at %s rejected the credentials: check --kubeconfig and --kube-context: %w", c.Host, err)
	case apierrors.IsTimeout(err), apierrors.IsServerTimeout(err), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("timed out on %s %s %s at %s: raise --request-timeout or check the cluster: %w", verb, resource, scope, c.Host, err)
	}
	return fmt.Errorf("cannot %s %s %s at %s: check that the cluster is reachable with --kubeconfig and --kube-context, or pass --live-state: %w", verb, resource, scope, c.Host, err)
}
