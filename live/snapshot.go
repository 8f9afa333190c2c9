// Package live provides the renderer's view of the cluster: the real API
// server through client-go (Cluster) or objects read from files (Snapshot).
// Both only read; nothing here writes to a cluster.
package live

import (
	"context"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/pvc-guard/pvc-guard/renderer"
	"github.com/pvc-guard/pvc-guard/renderer/yamltext"
)

// Snapshot is live state read from files, for previews, CI and debugging:
// `kubectl get pvc,sts,pv,storageclass -A -o yaml` output (a v1 List) or a
// multi-document stream, of any kinds.
type Snapshot struct {
	objects map[renderer.GroupKind]map[renderer.ObjectKey]*unstructured.Unstructured
}

var _ renderer.LiveState = (*Snapshot)(nil)

// ReadSnapshotFiles reads every file into one snapshot.
func ReadSnapshotFiles(paths []string) (*Snapshot, error) {
	s := NewSnapshot()
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading live state: %w", err)
		}
		if err := s.Add(data); err != nil {
			return nil, fmt.Errorf("reading live state %s: %w", path, err)
		}
	}
	return s, nil
}

// NewSnapshot returns an empty snapshot: no claim exists.
func NewSnapshot() *Snapshot {
	return &Snapshot{objects: map[renderer.GroupKind]map[renderer.ObjectKey]*unstructured.Unstructured{}}
}

// Add reads YAML or JSON documents, unpacking Lists, into the snapshot.
// Documents are decoded straight to maps the way the renderer reads
// manifests (yamltext.DecodeObjects): going through JSON, as apimachinery's
// decoder does, costs several times more on snapshots of thousands of
// claims.
func (s *Snapshot) Add(data []byte) error {
	objects, err := yamltext.DecodeObjects(data)
	if err != nil {
		return err
	}
	for doc, obj := range objects {
		if obj == nil {
			continue
		}
		m, ok := obj.(map[string]any)
		if !ok {
			return fmt.Errorf("document %d: want an object, found %s", doc, renderer.FormatValue(obj))
		}
		if err := s.addObject(&unstructured.Unstructured{Object: m}); err != nil {
			return fmt.Errorf("document %d: %w", doc, err)
		}
	}
	return nil
}

func (s *Snapshot) addObject(obj *unstructured.Unstructured) error {
	if obj.IsList() {
		return obj.EachListItem(func(item runtime.Object) error {
			return s.addObject(item.(*unstructured.Unstructured))
		})
	}
	gvk := obj.GroupVersionKind() // the group of "v1" is the core group, ""
	kind := renderer.GroupKind{Group: gvk.Group, Kind: gvk.Kind}
	if kind.Kind == "" {
		return nil // no rule can ask for it
	}
	key := renderer.ObjectKey{Namespace: obj.GetNamespace(), Name: obj.GetName()}
	res, known := builtinResources[kind]
	switch {
	case known && res.namespaced && key.Namespace == "":
		return fmt.Errorf("%s %s has no metadata.namespace; live state must say where each %s lives", kind.Kind, key.Name, kind.Kind)
	case known && !res.namespaced:
		key.Namespace = ""
	}
	if s.objects[kind] == nil {
		s.objects[kind] = map[renderer.ObjectKey]*unstructured.Unstructured{}
	}
	s.objects[kind][key] = obj
	return nil
}

// Objects implements renderer.LiveState. As in Cluster, a namespace in the
// key of a kind known to be cluster-scoped is ignored.
func (s *Snapshot) Objects(_ context.Context, kind renderer.GroupKind, keys []renderer.ObjectKey) (map[renderer.ObjectKey]*unstructured.Unstructured, error) {
	res, known := builtinResources[kind]
	found := map[renderer.ObjectKey]*unstructured.Unstructured{}
	for _, key := range keys {
		stored := key
		if known && !res.namespaced {
			stored.Namespace = ""
		}
		if obj, ok := s.objects[kind][stored]; ok {
			found[key] = obj
		}
	}
	return found, nil
}
