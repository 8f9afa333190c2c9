package renderer

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ObjectKey names an object of some kind. Cluster-scoped objects have an
// empty Namespace.
type ObjectKey struct {
	Namespace string
	Name      string
}

func (k ObjectKey) String() string {
	if k.Namespace == "" {
		return k.Name
	}
	return k.Namespace + "/" + k.Name
}

// GroupKind names a kind without its version, as rules match: the fields a
// rule guards mean the same in every version the server serves. The core
// group is "".
type GroupKind struct {
	Group string `json:"group"`
	Kind  string `json:"kind"`
}

// String spells the kind as kubectl does: Kind or Kind.group.
func (gk GroupKind) String() string {
	if gk.Group == "" {
		return gk.Kind
	}
	return gk.Kind + "." + gk.Group
}

// The kinds today's rules read.
var (
	claimGroupKind = GroupKind{Kind: "PersistentVolumeClaim"}
	classGroupKind = GroupKind{Group: "storage.k8s.io", Kind: "StorageClass"}
)

// LiveState answers what the cluster holds now. Implementations decide how
// to fetch (one GET per object, one LIST per namespace, a snapshot file);
// the renderer asks once per kind with every key it needs.
//
// Objects are unstructured, as the API server serves them: rules compare
// field by field, so typed objects would only be converted back to maps.
type LiveState interface {
	// Objects returns the live objects of one kind among keys; absent
	// objects are missing from the map. Cluster-scoped kinds get keys with
	// an empty Namespace. A caller that may not read the kind gets an error
	// for which apierrors.IsForbidden is true.
	Objects(ctx context.Context, kind GroupKind, keys []ObjectKey) (map[ObjectKey]*unstructured.Unstructured, error)
}
