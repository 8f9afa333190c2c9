package live

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/rest"

	"github.com/pvc-guard/pvc-guard/renderer"
)

// resource is where the API server serves a kind.
type resource struct {
	schema.GroupVersionResource
	namespaced bool
}

// builtinResources are the kinds pvc-guard's own rule sets read: a run
// that only reads these never asks discovery.
var builtinResources = map[renderer.GroupKind]resource{
	{Kind: "PersistentVolumeClaim"}:                                  {schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}, true},
	{Kind: "PersistentVolume"}:                                       {schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumes"}, false},
	{Group: "storage.k8s.io", Kind: "StorageClass"}:                  {schema.GroupVersionResource{Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses"}, false},
	{Group: "apps", Kind: "StatefulSet"}:                             {schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}, true},
	{Group: "apps", Kind: "Deployment"}:                              {schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, true},
	{Group: "apps", Kind: "ReplicaSet"}:                              {schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}, true},
	{Group: "apps", Kind: "DaemonSet"}:                               {schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "daemonsets"}, true},
	{Group: "rbac.authorization.k8s.io", Kind: "RoleBinding"}:        {schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"}, true},
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"}: {schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"}, false},
}

// NewDiscoveryClient returns the client Cluster.Discovery wants, over the
// connection httpClient holds: plain JSON
// GETs of /version, /api and /apis. client-go's discovery package would do
// the same, but it imports the typed clientset's scheme, whose start-up
// cost the post-renderer must not pay (internal/cli/deps_test.go).
func NewDiscoveryClient(config *rest.Config, httpClient *http.Client) (rest.Interface, error) {
	cfg := rest.CopyConfig(config)
	cfg.APIPath, cfg.GroupVersion = "", nil
	cfg.ContentType, cfg.AcceptContentTypes = runtime.ContentTypeJSON, runtime.ContentTypeJSON
	// Status is the one type decoded here: it turns error responses into
	// API errors that apierrors.IsForbidden and friends recognise.
	scheme := runtime.NewScheme()
	metav1.AddToGroupVersion(scheme, schema.GroupVersion{Version: "v1"})
	cfg.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	client, err := rest.UnversionedRESTClientForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("creating a discovery client for %s: %w", config.Host, err)
	}
	return client, nil
}

// discovered keeps what discovery said for the life of a Cluster: which
// groups the server serves and the resource of each kind asked about
// (nil for a kind it does not serve).
type discovered struct {
	mu     sync.Mutex
	groups *metav1.APIGroupList
	kinds  map[renderer.GroupKind]*resource
}

// resourceFor maps a kind to its resource: the built-in table first, then
// discovery. It returns nil for a kind the server does not serve.
func (c *Cluster) resourceFor(ctx context.Context, kind renderer.GroupKind) (*resource, error) {
	if res, ok := builtinResources[kind]; ok {
		return &res, nil
	}
	if c.Discovery == nil {
		return nil, fmt.Errorf("kind %s is not one pvc-guard knows, and there is no discovery client to ask the API server at %s", kind, c.Host)
	}
	d := &c.discovered
	d.mu.Lock()
	defer d.mu.Unlock()
	if res, ok := d.kinds[kind]; ok {
		return res, nil
	}
	res, err := c.discover(ctx, kind)
	if err != nil {
		return nil, fmt.Errorf("finding the resource for kind %s at %s: %w", kind, c.Host, err)
	}
	if d.kinds == nil {
		d.kinds = map[renderer.GroupKind]*resource{}
	}
	d.kinds[kind] = res
	return res, nil
}

// discover reads the group's versions, preferred first, until one serves
// the kind. The caller holds the lock.
func (c *Cluster) discover(ctx context.Context, kind renderer.GroupKind) (*resource, error) {
	versions := []string{"v1"} // the core group has no other
	if kind.Group != "" {
		if c.discovered.groups == nil {
			groups := &metav1.APIGroupList{}
			if err := c.getJSON(ctx, "/apis", groups); err != nil {
				return nil, err
			}
			c.discovered.groups = groups
		}
		versions = groupVersions(c.discovered.groups, kind.Group)
	}
	for _, v := range versions {
		gv := schema.GroupVersion{Group: kind.Group, Version: v}
		path := "/apis/" + gv.String()
		if kind.Group == "" {
			path = "/api/" + v
		}
		list := &metav1.APIResourceList{}
		err := c.getJSON(ctx, path, list)
		if apierrors.IsNotFound(err) {
			continue // the version went away since /apis was read
		}
		if err != nil {
			return nil, err
		}
		for _, r := range list.APIResources {
			if r.Kind == kind.Kind && !strings.Contains(r.Name, "/") { // not a subresource
				return &resource{gv.WithResource(r.Name), r.Namespaced}, nil
			}
		}
	}
	return nil, nil
}

func groupVersions(groups *metav1.APIGroupList, name string) []string {
	for _, g := range groups.Groups {
		if g.Name != name {
			continue
		}
		versions := []string{g.PreferredVersion.Version}
		for _, v := range g.Versions {
			if v.Version != g.PreferredVersion.Version {
				versions = append(versions, v.Version)
			}
		}
		return versions
	}
	return nil
}

// ServerVersion reads the API server's version from /version, for rules
// whose fields became mutable in some release.
func (c *Cluster) ServerVersion(ctx context.Context) (*version.Info, error) {
	if c.Discovery == nil {
		return nil, fmt.Errorf("no discovery client to ask the API server at %s for its version", c.Host)
	}
	info := &version.Info{}
	if err := c.getJSON(ctx, "/version", info); err != nil {
		return nil, fmt.Errorf("reading the server version at %s: %w", c.Host, err)
	}
	return info, nil
}

func (c *Cluster) getJSON(ctx context.Context, path string, into any) error {
	result := c.Discovery.Get().AbsPath(path).Do(ctx)
	if err := result.Error(); err != nil { // Error, not Raw, reads the Status of a failure
		return fmt.Errorf("GET %s: %w", path, err)
	}
	data, _ := result.Raw()
	if err := json.Unmarshal(data, into); err != nil {
		return fmt.Errorf("GET %s: decoding the answer: %w", path, err)
	}
	return nil
}
